"""The member settings page (/members/settings): the binding rule and RFM, with live counts per
segment, "recompute now", and how members moved between segments since the month began.

HQ edits (the rules hold for the whole brand). Distributor admins and regional managers read the
rules, their own stores' segment counts and moves (so they know what a segment means when they
target it); store owners are refused (403): nothing here is theirs to configure.
"""
from __future__ import annotations

from datetime import date

from babel.dates import format_skeleton
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from portal.extensions import db, htmx
from portal.kernel.forms import form_status
from portal.kernel.paging import paginate
from portal.kernel.time import utcnow
from portal.members import rfm, settings
from portal.members.models import Member, RfmRun, SegmentMonth
from portal.members.settings_form import BINDING_LABELS, MODE_LABELS, SettingsForm
from portal.members.tasks import active_run, is_active, start_recompute
from portal.org import roles
from portal.org.access import current_scope, roles_required
from portal.org.scope import get_store_or_404
from portal.web import NavEntry

bp = Blueprint("member_settings", __name__)
NAV = (NavEntry("member_settings.edit_settings", _l("Member settings"), "users", roles.STAFF, order=125),)
PER_PAGE = 20


@bp.app_context_processor
def _segment_labels():
    # App-wide: the member page (another blueprint) includes members/_rfm.html.
    return {"segment_labels": rfm.SEGMENT_LABELS, "segment_scores": rfm.SEGMENT_SCORES}


def _hq_only(scope) -> None:
    if not settings.may_edit(scope):
        abort(403)


def _counts_context(scope, live=None, errors=None):
    current = rfm.current_counts(scope.store_rows(Member.store_id, Member.path))
    shown = live or current
    top = max([n for seg, n in shown.items() if seg] + [n for seg, n in current.items() if seg] + [1])
    return dict(current=current, live=live, top=top, errors=errors or [], segments=rfm.SEGMENTS)


def _page_context(scope, form):
    s = rfm.get_settings()
    month = rfm.month_of(utcnow())
    run = active_run() or _last_run()
    return dict(form=form, s=s, may_edit=settings.may_edit(scope), binding_labels=BINDING_LABELS,
                mode_labels=MODE_LABELS, run=run, run_active=is_active(run), month=month,
                snapshot=db.session.get(SegmentMonth, month), **_counts_context(scope),
                **_moves_context(scope, month))


def _last_run():
    return db.session.scalar(select(RfmRun).order_by(RfmRun.id.desc()).limit(1))


def _month_label(month: str) -> str:
    """'2026-12' as people read it: 2026年12月, December 2026."""
    year, mon = (int(x) for x in month.split("-"))
    return format_skeleton("yMMMM", date(year, mon, 1), locale=get_locale())


def _moves_context(scope, month, store=None):
    matrix = settings.moves_matrix(scope, month, store.id if store else None)
    page = paginate(settings.moves_by_store(scope, month), request.args.get("page"), PER_PAGE, rows=True)
    return dict(month_label=_month_label(month), matrix=matrix, matrix_rows=settings.MATRIX_ROWS,
                moved=sum(matrix.values()), top_moves=sorted(matrix.items(), key=lambda kv: -kv[1])[:8],
                store_rows=page.items,
                store_page=page.page, store_pages=page.pages, moves_store=store)


@bp.route("/members/settings")
@roles_required(*roles.STAFF)
def edit_settings():
    scope = current_scope()
    form = SettingsForm()
    form.fill(rfm.get_settings())
    return render_template("members/settings.html", **_page_context(scope, form))


@bp.route("/members/settings", methods=["POST"])
@roles_required(roles.HQ_ADMIN)
def save_settings():
    """HQ saves; bad values come back beside their fields (422), nothing written."""
    scope = current_scope()
    _hq_only(scope)
    form = SettingsForm()
    if form.validate():
        _s, changes = settings.save_settings(scope, form.values(), actor=scope.user)
        flash(_("Member settings saved. Segments follow at the next recompute.") if changes
              else _("Nothing changed."), "success")
        return redirect(url_for("member_settings.edit_settings"))
    return render_template("members/settings.html", **_page_context(scope, form)), form_status()


@bp.route("/members/settings/counts")
@roles_required(roles.HQ_ADMIN)
def preview_counts():
    """The segment counts with the values HQ is typing (nothing is written): one set-based query."""
    scope = current_scope()
    _hq_only(scope)
    form = SettingsForm(formdata=request.args, meta={"csrf": False})
    if not form.validate():
        errors = [f"{form[name].label.text}: {msgs[0]}" for name, msgs in form.errors.items() if msgs]
        return render_template("members/_segment_counts.html", **_counts_context(scope, errors=errors)), 422
    values = form.values()
    rules = rfm.Rules(window_days=values["rfm_window_days"], new_days=values["rfm_new_days"], mode=values["rfm_mode"],
                      recency_days=values["rfm_recency_days"], frequency=values["rfm_frequency"],
                      monetary_fen=values["rfm_monetary_fen"])
    return render_template("members/_segment_counts.html", **_counts_context(scope, live=rfm.live_counts(rules)))


@bp.route("/members/settings/recompute", methods=["POST"])
@roles_required(roles.HQ_ADMIN)
def recompute():
    scope = current_scope()
    _hq_only(scope)
    run, started = start_recompute(scope, actor=scope.user)
    if not htmx:
        flash(_("Recomputing the segments…") if started else _("A recompute is already running."), "success")
        return redirect(url_for("member_settings.edit_settings"))
    return render_template("members/_rfm_run.html", run=run, run_active=is_active(run), s=rfm.get_settings(),
                           may_edit=True, started=started)


@bp.route("/members/settings/runs/<int:run_id>")
@roles_required(roles.HQ_ADMIN)
def run_progress(run_id: int):
    """The recompute card, polled by itself while the run is queued or running."""
    _hq_only(current_scope())
    run = db.session.get(RfmRun, run_id)
    if run is None:
        abort(404)
    if not htmx:       # the card's address opened as a page: the settings page, with this card
        return _full_page(current_scope())
    return render_template("members/_rfm_run.html", run=run, run_active=is_active(run), s=rfm.get_settings(),
                           may_edit=True), 200, {"Vary": "HX-Request"}


def _full_page(scope):
    form = SettingsForm()
    form.fill(rfm.get_settings())
    return render_template("members/settings.html", **_page_context(scope, form)), 200, {"Vary": "HX-Request"}


@bp.route("/members/settings/moves")
@roles_required(*roles.STAFF)
def list_moves():
    """The moves card (paged stores); the whole page without htmx."""
    scope = current_scope()
    if not htmx:
        return _full_page(scope)
    month = rfm.month_of(utcnow())
    return render_template("members/_moves.html", month=month, snapshot=db.session.get(SegmentMonth, month),
                           **_moves_context(scope, month)), 200, {"Vary": "HX-Request"}


@bp.route("/members/settings/moves/<int:store_id>")
@roles_required(*roles.STAFF)
def store_moves(store_id: int):
    """One store's from → to matrix (a store outside the scope is 404)."""
    scope = current_scope()
    store = get_store_or_404(scope, store_id)
    month = rfm.month_of(utcnow())
    ctx = dict(month=month, snapshot=db.session.get(SegmentMonth, month), **_moves_context(scope, month, store))
    template = "members/_moves.html" if htmx else "members/store_moves.html"
    return render_template(template, **ctx), 200, {"Vary": "HX-Request"}
