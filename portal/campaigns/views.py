"""Campaigns: HQ and distributors build, publish, push and stop them; store owners join or decline
from their phone; the mini-program lists what its store runs and claims coupons."""
from __future__ import annotations

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select

from portal.api import services as api_services
from portal.api.views import _bearer, _unauthorized
from portal.campaigns import services
from portal.campaigns.forms import RULE_FORMS, CampaignForm, rules_data, rules_form, to_local, to_utc
from portal.campaigns.labels import (KIND_ICONS, KIND_LABELS, PARTICIPATION_LABELS, STATE_BADGES, STATE_LABELS,
                                     STORE_STATUS_BADGES, STORE_STATUS_LABELS)
from portal.campaigns.models import DRAFT, Campaign, CampaignStore
from portal.extensions import csrf, db, htmx
from portal.kernel.ids import parse_ids, parse_page
from portal.kernel.jsonbody import BodyError, json_object
from portal.kernel.text import whole
from portal.org import roles
from portal.org.scope import Scope
from portal.kernel.errors import Conflict, RuleError
from portal.pushes.views import prepare_push_form, start_push
from portal.security import current_scope, roles_required
from portal.targets.views import _reach
from portal.web import form_status, flash_outcome

bp = Blueprint("campaigns", __name__)
PER_PAGE = 50
MEMBER = whole(r"[A-Za-z0-9_-]{1,64}")


@bp.context_processor
def _labels():
    return {"kind_labels": KIND_LABELS, "kind_icons": KIND_ICONS, "state_labels": STATE_LABELS,
            "state_badges": STATE_BADGES, "participation_labels": PARTICIPATION_LABELS,
            "store_status_labels": STORE_STATUS_LABELS, "store_status_badges": STORE_STATUS_BADGES}


def get_campaign_or_404(scope: Scope, campaign_id: int) -> Campaign:
    campaign = db.session.scalar(select(Campaign).where(Campaign.id == campaign_id, scope.paths(Campaign.path)))
    if campaign is None:
        abort(404)
    return campaign


def _page() -> int:
    return parse_page(request.args.get("page"))


# --------------------------------------------------------------------------- HQ and distributors

@bp.route("/campaigns")
@roles_required(*roles.ADMINS)
def list_campaigns():
    scope = current_scope()
    state = request.args.get("state", "")
    state = state if state in services.STATES else ""
    kind = request.args.get("kind", "")
    kind = kind if kind in RULE_FORMS else ""
    q = request.args.get("q", "").strip()[:50]
    page = _page()
    stmt = services.scoped_campaigns(scope, state=state, kind=kind, q=q)
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    rows = db.session.execute(stmt.limit(PER_PAGE).offset((page - 1) * PER_PAGE)).all()
    ctx = dict(rows=rows, total=total, page=page, pages=max(1, -(-total // PER_PAGE)), state=state, kind=kind, q=q)
    if htmx and htmx.target == "campaign-rows":
        return render_template("campaigns/_rows.html", **ctx)
    return render_template("campaigns/list.html", **ctx)


def _form_page(form, rules, kind, campaign=None, status=200):
    return render_template("campaigns/form.html", form=form, rules=rules, kind=kind, campaign=campaign), status


def _validated(scope: Scope, kind: str):
    form = CampaignForm()
    ok = form.validate_on_submit()
    window = form.window() if form.starts_at.data and form.ends_at.data else None
    rules = rules_form(kind, scope=scope, formdata=request.form, window=window)
    ok = rules.validate() and ok
    return form, rules, ok


@bp.route("/campaigns/new/<kind>", methods=["GET", "POST"])
@roles_required(*roles.ADMINS)
def create_campaign(kind: str):
    scope = current_scope()
    if kind not in RULE_FORMS:
        abort(404)
    if request.method == "POST":
        form, rules, ok = _validated(scope, kind)
        if ok:
            starts, ends = form.window()
            campaign = services.create_campaign(
                scope, kind, form.name.data, rules_data(rules), starts, ends,
                participation=form.participation.data, join_deadline=to_utc(form.join_deadline.data),
                actor=scope.user)
            flash(_("Campaign “%(name)s” saved as a draft. Publish it, then push it to stores.",
                    name=campaign.name), "success")
            return redirect(url_for("campaigns.view_campaign", campaign_id=campaign.id))
        return _form_page(form, rules, kind, status=422)
    return _form_page(CampaignForm(), rules_form(kind, scope=scope), kind)


@bp.route("/campaigns/<int:campaign_id>/edit", methods=["GET", "POST"])
@roles_required(*roles.ADMINS)
def edit_campaign(campaign_id: int):
    scope = current_scope()
    campaign = get_campaign_or_404(scope, campaign_id)
    if campaign.status != DRAFT:
        flash(_("Only a draft can be edited."), "warning")
        return redirect(url_for("campaigns.view_campaign", campaign_id=campaign.id))
    if request.method == "POST":
        form, rules, ok = _validated(scope, campaign.kind)
        if ok:
            starts, ends = form.window()
            try:
                services.update_campaign(scope, campaign, form.name.data, rules_data(rules), starts, ends,
                                         participation=form.participation.data,
                                         join_deadline=to_utc(form.join_deadline.data), actor=scope.user)
            except Conflict as exc:
                # Published or cancelled since the form was opened: nothing saved, the form as typed.
                db.session.rollback()
                flash(exc.message, "warning")
                return _form_page(form, rules, campaign.kind, db.session.get(Campaign, campaign.id), status=409)
            flash(_("Campaign saved."), "success")
            return redirect(url_for("campaigns.view_campaign", campaign_id=campaign.id))
        return _form_page(form, rules, campaign.kind, campaign, status=422)
    form = CampaignForm(data={"name": campaign.name, "starts_at": to_local(campaign.starts_at),
                              "ends_at": to_local(campaign.ends_at), "participation": campaign.participation,
                              "join_deadline": to_local(campaign.join_deadline)})
    return _form_page(form, rules_form(campaign.kind, scope=scope, data=campaign.rules), campaign.kind, campaign)


@bp.route("/campaigns/<int:campaign_id>")
@roles_required(*roles.ADMINS)
def view_campaign(campaign_id: int):
    scope = current_scope()
    campaign = get_campaign_or_404(scope, campaign_id)
    status = request.args.get("status", "")
    status = status if status in services.STORE_STATUSES else ""
    q = request.args.get("q", "").strip()[:50]
    page = _page()
    stmt = services.participants(scope, campaign, status=status, q=q)
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    rows = db.session.execute(stmt.limit(PER_PAGE).offset((page - 1) * PER_PAGE)).all()
    ctx = dict(campaign=campaign, state=services.state_of(campaign), rows=rows, total=total, page=page,
               pages=max(1, -(-total // PER_PAGE)), status=status, q=q,
               counts=services.participation_counts(scope, campaign),
               rules=rules_form(campaign.kind, scope=scope, data=campaign.rules))
    if htmx and htmx.target == "participant-rows":
        return render_template("campaigns/_participants.html", **ctx)
    return render_template("campaigns/view.html", **ctx)


def _back(campaign: Campaign):
    return redirect(url_for("campaigns.view_campaign", campaign_id=campaign.id), 303)


@bp.route("/campaigns/<int:campaign_id>/publish", methods=["POST"])
@roles_required(*roles.ADMINS)
def publish_campaign(campaign_id: int):
    scope = current_scope()
    campaign = get_campaign_or_404(scope, campaign_id)
    flash_outcome(lambda: services.publish_campaign(scope, campaign, actor=scope.user),
                  _("Published. It reaches no store until you push it."))
    return _back(campaign)


@bp.route("/campaigns/<int:campaign_id>/cancel", methods=["POST"])
@roles_required(*roles.ADMINS)
def cancel_campaign(campaign_id: int):
    scope = current_scope()
    campaign = get_campaign_or_404(scope, campaign_id)
    flash_outcome(lambda: services.cancel_campaign(scope, campaign, actor=scope.user),
                  _("Campaign cancelled: no store runs it any more."))
    return _back(campaign)


@bp.route("/campaigns/<int:campaign_id>/push", methods=["GET", "POST"])
@roles_required(*roles.ADMINS)
def push_campaign(campaign_id: int):
    scope = current_scope()
    campaign = get_campaign_or_404(scope, campaign_id)
    if services.state_of(campaign) not in ("scheduled", "running"):
        flash(_("Publish the campaign before pushing it; an ended or cancelled campaign cannot be pushed."),
              "warning")
        return _back(campaign)
    form, saved = prepare_push_form(scope)
    if request.method == "POST":
        push = start_push(scope, form, saved, kind="campaign", payload_id=campaign.id, label=campaign.name)
        if push is not None:
            flash(_("Pushing %(what)s. Stores that already have it are skipped.", what=campaign.name), "success")
            return redirect(url_for("pushes.view_push", push_id=push.id))
    spec = form.chosen_spec(saved)[0]
    return render_template("campaigns/push.html", campaign=campaign, form=form, reach=_reach(scope, spec),
                           errors=[], action=url_for("campaigns.push_campaign", campaign_id=campaign.id)), form_status()


@bp.route("/campaigns/<int:campaign_id>/stop", methods=["POST"])
@roles_required(*roles.ADMINS)
def stop_campaign(campaign_id: int):
    scope = current_scope()
    campaign = get_campaign_or_404(scope, campaign_id)
    everywhere = request.form.get("all") == "1"
    ids = parse_ids(request.form.getlist("store_ids"))
    if not everywhere and not ids:
        flash(_("Choose the stores to stop it in."), "warning")
        return _back(campaign)
    try:
        n = services.stop_campaign(scope, campaign, None if everywhere else ids, actor=scope.user)
    except RuleError as exc:
        flash(exc.message, "danger")
    else:
        flash(_("Stopped in %(n)s stores.", n=n), "success")
    return _back(campaign)


# --------------------------------------------------------------------------- store owners

@bp.route("/my/campaigns")
@roles_required(roles.STORE_OWNER)
def my_campaigns():
    scope = current_scope()
    rows = services.offers(scope.store_id)
    return render_template("campaigns/my.html", rows=rows, can_decide=services.can_decide)


def _offer_or_404(scope: Scope, campaign_id: int) -> tuple[Campaign, CampaignStore]:
    row = db.session.execute(
        select(Campaign, CampaignStore).join(CampaignStore, CampaignStore.campaign_id == Campaign.id)
        .where(Campaign.id == campaign_id, CampaignStore.store_id == scope.store_id, Campaign.status != DRAFT)).first()
    if row is None:
        abort(404)
    return row


def _decide(campaign_id: int, join: bool):
    scope = current_scope()
    campaign, part = _offer_or_404(scope, campaign_id)
    try:
        services.decide(scope, campaign, part, join, actor=scope.user)
    except Conflict:
        raise                   # HQ's stop landed first: 409 with the message
    except RuleError as exc:
        flash(exc.message, "danger")
    else:
        flash(_("You joined “%(name)s”.", name=campaign.name) if join else
              _("You declined “%(name)s”.", name=campaign.name), "success")
    return redirect(url_for("campaigns.my_campaigns"), 303)


@bp.route("/my/campaigns/<int:campaign_id>/join", methods=["POST"])
@roles_required(roles.STORE_OWNER)
def join_campaign(campaign_id: int):
    return _decide(campaign_id, True)


@bp.route("/my/campaigns/<int:campaign_id>/decline", methods=["POST"])
@roles_required(roles.STORE_OWNER)
def decline_campaign(campaign_id: int):
    return _decide(campaign_id, False)


# --------------------------------------------------------------------------- the mini-program API

def _api_store(code: str):
    token = _bearer()
    if token is None:
        return None, _unauthorized("Send the store's API key as 'Authorization: Bearer <key>'.")
    store = api_services.authenticate(token)
    if store is None:
        return None, _unauthorized("The API key is not valid or has been revoked.")
    if store.code != code:
        abort(404)
    return store, None


def _api_error(status: int, code: str, message: str, field: str | None = None):
    error = {"code": code, "message": message, "field": field}
    return jsonify(error=error), status


@bp.route("/api/v1/stores/<code>/campaigns")
@csrf.exempt
def api_store_campaigns(code: str):
    store, refused = _api_store(code)
    if refused is not None:
        return refused
    response = jsonify(campaigns=[services.campaign_json(c) for c in services.running_in_store(store.id)])
    response.cache_control.no_cache = True
    response.vary.add("Authorization")
    return response


@bp.route("/api/v1/stores/<code>/coupons/<int:campaign_id>/claim", methods=["POST"])
@csrf.exempt
def api_claim_coupon(code: str, campaign_id: int):
    store, refused = _api_store(code)
    if refused is not None:
        return refused
    try:
        body = json_object(request)
    except BodyError as exc:
        return _api_error(400, "invalid_json", str(exc))
    member = body.get("member")
    if not isinstance(member, str) or not MEMBER.match(member):
        return _api_error(422, "invalid", "member: the member's union id (letters, digits, '-', '_'; at most 64).",
                          "member")
    try:
        claim = services.claim_coupon(store, campaign_id, member)
    except services.ClaimRefused as exc:
        return _api_error(409, exc.code, exc.message)
    return jsonify(code=claim.code, campaign_id=campaign_id, member=member,
                   coupon=services.coupon_terms(db.session.get(Campaign, campaign_id).rules)), 201
