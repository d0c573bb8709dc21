"""What a room's managers do around a live: announce and draw a lottery, invite members, send
post-live coupons (blueprint ``live_actions``).

The three partials (``templates/live/_lottery.html``, ``_reminders.html``, ``_coupons.html``) need
only ``room`` and ``scope`` in their context: what they show comes from the panel functions this
blueprint gives every template (``live_lottery_panel(room, scope)`` …), so the room page includes
them as they are, and each is the htmx target of its own forms. ``/live/<id>/engage`` shows
the three on a page of their own.
"""
from __future__ import annotations

import csv
import io
import json

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import format_decimal
from flask_babel import gettext as _

from portal.extensions import db, htmx
from portal.i18n import ngettext
from portal.kernel.errors import Conflict, RuleError
from portal.kernel.forms import options, rule_error
from portal.live import coupons, lottery, reminders
from portal.live.forms_actions import AUDIENCE_LABELS, POOL_LABELS, CouponForm, InviteForm, LotteryForm
from portal.live.models import DRAWN, LiveLottery
from portal.live.services import get_room_or_404, manages
from portal.members import audiences
from portal.org import roles
from portal.org.access import current_scope, roles_required

bp = Blueprint("live_actions", __name__)

PARTIALS = {"lottery": "live/_lottery.html", "reminders": "live/_reminders.html", "coupons": "live/_coupons.html"}


# --------------------------------------------------------------------------- what the partials show

def lottery_panel(room, scope) -> dict:
    lots = lottery.lotteries_of(room)
    return {"lotteries": lots, "winners": lottery.winner_rows(lots), "manages": manages(scope, room),
            "eligible": {lot.id: lottery.eligible_count(lot) for lot in lots if lot.status != DRAWN},
            "pools": POOL_LABELS}


def _invite_choices(scope) -> list[tuple[str, str]]:
    groups = audiences.scoped_groups(scope)
    counts = audiences.group_counts(scope, groups)
    out = [(f"group:{g.id}", ngettext("Group %(name)s (%(num)s member)", "Group %(name)s (%(num)s members)",
                                      counts.get(g.id, 0), name=g.name)) for g in groups]
    for seg, n in audiences.segment_counts(scope).items():
        out.append((f"segment:{seg}", ngettext("Segment %(name)s (%(num)s member)",
                                               "Segment %(name)s (%(num)s members)", n,
                                               name=audiences.SEGMENT_LABELS[seg])))
    return out


def reminder_panel(room, scope) -> dict:
    counts = reminders.outbox_counts(room)
    # The invitation's choices (groups and segments with their counts) are the form's, built once
    # by ``live_invite_form`` when the panel shows it.
    return {"subscribers": reminders.subscriber_count(room), "counts": counts, "manages": manages(scope, room),
            "over": room.is_over}


def coupon_panel(room, scope) -> dict:
    return {"campaigns": coupons.coupon_campaigns(room), "sizes": coupons.audience_sizes(scope, room),
            "manages": manages(scope, room), "audiences": AUDIENCE_LABELS}


@bp.app_context_processor
def _panels():
    return {"live_lottery_panel": lottery_panel, "live_reminder_panel": reminder_panel,
            "live_coupon_panel": coupon_panel, "live_lottery_form": LotteryForm, "live_invite_form": _invite_form,
            "live_coupon_form": _coupon_form}


def _invite_form(room, scope, formdata=None):
    form = InviteForm(formdata=formdata)
    form.audience.choices = options(_invite_choices(scope), blank=_("Choose a group or a segment"))
    return form


def _coupon_form(room, scope, formdata=None):
    form = CouponForm(formdata=formdata)
    form.campaign_id.choices = options([(str(c.id), c.name) for c in coupons.coupon_campaigns(room)],
                                       blank=_("Choose a campaign"))
    return form


# --------------------------------------------------------------------------- rendering

def _render(part: str | None, room, *, status: int = 200, **forms):
    scope = current_scope()
    ctx = dict(room=room, scope=scope, **forms)
    if part and htmx:
        response = Response(render_template(PARTIALS[part], **ctx), status)
    else:
        response = Response(render_template("live/engage.html", **ctx), status)
    response.vary.add("HX-Request")
    return response


def _managed_room(room_id: int):
    scope = current_scope()
    room = get_room_or_404(scope, room_id)
    if not manages(scope, room):
        abort(403)
    return scope, room


def _done(part: str, room, message: str):
    flash(message, "success")
    if htmx:
        return _render(part, room)
    return redirect(url_for("live_actions.engage", room_id=room.id), 303)


@bp.route("/live/<int:room_id>/panels/<part>")
@roles_required(*roles.ALL)
def panel(room_id: int, part: str):
    """One panel of the room page (lottery, coupons, reminders), which the page loads after it
    shows: their counts read the room's viewers, the page and its leaderboard do not wait for them."""
    if part not in PARTIALS:
        abort(404)
    room = get_room_or_404(current_scope(), room_id)
    return _render(part, room)


@bp.route("/live/<int:room_id>/engage")
@roles_required(*roles.ALL)
def engage(room_id: int):
    room = get_room_or_404(current_scope(), room_id)
    return _render(None, room)


# --------------------------------------------------------------------------- lottery

@bp.route("/live/<int:room_id>/lotteries", methods=["POST"])
@roles_required(*roles.ALL)
def announce_lottery(room_id: int):
    scope, room = _managed_room(room_id)
    form = LotteryForm()
    if form.validate():
        try:
            lot = lottery.announce_lottery(scope, room, title=form.title.data, pool=form.pool.data,
                                           min_shares=form.min_shares.data, exclude_staff=form.exclude_staff.data,
                                           winners=form.winners.data, actor=scope.user)
        except RuleError as exc:
            rule_error(form, exc, default="title")
        else:
            return _done("lottery", room, _("Lottery %(title)s announced: its seed's hash is shown from now on.",
                                            title=lot.title))
    db.session.rollback()
    return _render("lottery", room, status=422, lottery_form=form)


def _lottery_or_404(lottery_id: int):
    scope = current_scope()
    lot = db.session.get(LiveLottery, lottery_id)
    if lot is None:
        abort(404)
    room = get_room_or_404(scope, lot.room_id)
    return scope, room, lot


@bp.route("/live/lotteries/<int:lottery_id>/draw", methods=["POST"])
@roles_required(*roles.ALL)
def draw_lottery(lottery_id: int):
    scope, room, lot = _lottery_or_404(lottery_id)
    if not manages(scope, room):
        abort(403)
    try:
        won = lottery.draw_lottery(scope, lot, actor=scope.user)
    except Conflict as exc:
        db.session.rollback()
        flash(exc.message, "warning")
        return _render("lottery", room, status=409)
    except RuleError as exc:
        db.session.rollback()
        flash(exc.message, "danger")
        return _render("lottery", room, status=422)
    return _done("lottery", room, ngettext("Drawn: %(num)s winner among %(entrants)s entrants.",
                                           "Drawn: %(num)s winners among %(entrants)s entrants.", len(won),
                                           entrants=format_decimal(lot.entrants)))


@bp.route("/live/lotteries/<int:lottery_id>")
@roles_required(*roles.ALL)
def view_lottery(lottery_id: int):
    scope, room, lot = _lottery_or_404(lottery_id)
    rows = lottery.winner_rows([lot]).get(lot.id, [])
    return render_template("live/lottery.html", room=room, scope=scope, lottery=lot, winners=rows,
                           pools=POOL_LABELS, eligible=None if lot.status == DRAWN else lottery.eligible_count(lot))


@bp.route("/live/lotteries/<int:lottery_id>/entrants.<fmt>")
@roles_required(*roles.ALL)
def lottery_entrants(lottery_id: int, fmt: str):
    """The drawn lottery's entrants (member id, masked label, score): what a re-run needs."""
    _scope, room, lot = _lottery_or_404(lottery_id)
    if fmt not in ("json", "csv"):
        abort(404)
    if lot.status != DRAWN:
        abort(409, _("The entrant list is published with the seed, once the lottery is drawn."))
    rows = lottery.entrants_of(lot)
    name = f"lottery-{lot.id}-entrants.{fmt}"
    if fmt == "json":
        body = json.dumps({"lottery_id": lot.id, "room_id": room.id, "title": lot.title, "seed": lot.seed,
                           "seed_hash": lot.seed_hash, "winners_wanted": lot.winners_wanted,
                           "entrants": [{"member_id": m, "label": label, "score": s} for m, label, s in rows]},
                          ensure_ascii=False)
        mimetype = "application/json"
    else:
        out = io.StringIO()
        out.write("\ufeff")          # Excel opens UTF-8 with a BOM
        writer = csv.writer(out)
        writer.writerow(["member_id", "label", "score"])
        writer.writerows(rows)
        body, mimetype = out.getvalue(), "text/csv; charset=utf-8"
    return Response(body, mimetype=mimetype, headers={"Content-Disposition": f"attachment; filename={name}"})


# --------------------------------------------------------------------------- invitations

@bp.route("/live/<int:room_id>/invite", methods=["POST"])
@roles_required(*roles.ALL)
def invite(room_id: int):
    scope, room = _managed_room(room_id)
    form = _invite_form(room, scope, formdata=request.form)
    if form.validate():
        try:
            queued = reminders.invite(scope, room, form.spec(), actor=scope.user)
        except RuleError as exc:
            rule_error(form, exc, default="audience")
        else:
            return _done("reminders", room, ngettext("%(num)s invitation queued.", "%(num)s invitations queued.",
                                                     queued))
    db.session.rollback()
    return _render("reminders", room, status=422, invite_form=form)


# --------------------------------------------------------------------------- post-live coupons

@bp.route("/live/<int:room_id>/coupons", methods=["POST"])
@roles_required(*roles.ALL)
def send_coupons(room_id: int):
    scope, room = _managed_room(room_id)
    form = _coupon_form(room, scope, formdata=request.form)
    if form.validate():
        try:
            sent = coupons.send_coupons(scope, room, int(form.campaign_id.data), form.audience.data, actor=scope.user)
        except Conflict:
            raise
        except RuleError as exc:
            rule_error(form, exc, default="campaign_id")
        else:
            message = ngettext("%(num)s coupon issued.", "%(num)s coupons issued.", sent.issued)
            if sent.left_out:
                message += " " + ngettext("%(num)s member left out: the budget ran out.",
                                          "%(num)s members left out: the budget ran out.", sent.left_out)
            if sent.held:
                message += " " + ngettext("%(num)s member had one already.", "%(num)s members had one already.",
                                          sent.held)
            if sent.not_joined:
                message += " " + ngettext("%(num)s viewer left out: their store does not run this campaign.",
                                          "%(num)s viewers left out: their stores do not run this campaign.",
                                          sent.not_joined)
            return _done("coupons", room, message)
    db.session.rollback()
    return _render("coupons", room, status=422, coupon_form=form)
