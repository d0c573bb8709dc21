"""Campaigns: HQ and distributors build, publish, push and stop them; store owners join or decline
from their phone (the mini-program reads them and claims coupons through portal.api.campaigns)."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from portal.campaigns import services
from portal.campaigns.forms import RULE_FORMS, CampaignForm, rules_data, rules_form, to_local, to_utc
from portal.campaigns.labels import (
    BEARER_LABELS,
    BEARER_SENTENCES,
    KIND_BLURBS,
    KIND_ICONS,
    KIND_LABELS,
    PARTICIPATION_LABELS,
    STATE_BADGES,
    STATE_LABELS,
    STORE_STATUS_BADGES,
    STORE_STATUS_LABELS,
)
from portal.campaigns.models import DRAFT, INVITED, JOINED, Campaign, CampaignStore
from portal.extensions import db, htmx
from portal.goods.services import sku_cards
from portal.i18n import ngettext
from portal.kernel.errors import Conflict, RuleError
from portal.kernel.forms import flag, flash_outcome, form_status, one_of
from portal.kernel.ids import parse_ids
from portal.kernel.paging import paginate
from portal.org import roles
from portal.org.access import current_scope, roles_required
from portal.org.models import Store
from portal.org.scope import Scope
from portal.pushes.forms import prepare_push_form, start_push
from portal.targets import services as target_services
from portal.targets.forms import TargetFields, fill_choices
from portal.web import NavEntry

bp = Blueprint("campaigns", __name__)
# Its sections of the navigation (assembled by the app factory, see portal.web.NavEntry).
NAV = (
    NavEntry("campaigns.my_campaigns", _l("Campaigns"), "ticket", (roles.STORE_OWNER,), order=60),
    # Where a campaign is started: the tool cards, and the form each card opens.
    NavEntry("campaigns.marketing_center", _l("Marketing center"), "rocket", roles.ADMINS, order=95,
             pages=frozenset({"campaigns.marketing_center", "campaigns.create_campaign"})),
    NavEntry("campaigns.list_campaigns", _l("Campaigns"), "ticket", roles.STAFF, order=100,
             pages=frozenset({"campaigns.list_campaigns", "campaigns.view_campaign", "campaigns.edit_campaign",
                              "campaigns.push_campaign"})),
)
PER_PAGE = 50


@bp.context_processor
def _labels():
    return {"kind_labels": KIND_LABELS, "kind_icons": KIND_ICONS, "state_labels": STATE_LABELS,
            "state_badges": STATE_BADGES, "participation_labels": PARTICIPATION_LABELS,
            "store_status_labels": STORE_STATUS_LABELS, "store_status_badges": STORE_STATUS_BADGES,
            "bearer_labels": BEARER_LABELS, "bearer_sentences": BEARER_SENTENCES,
            "sale_quantity": services.sale_quantity}


def get_campaign_or_404(scope: Scope, campaign_id: int) -> Campaign:
    """A campaign the user may see: made in its subtree, or reaching one of its stores (else 404)."""
    campaign = db.session.scalar(select(Campaign).where(Campaign.id == campaign_id, services.visible(scope)))
    if campaign is None:
        abort(404)
    return campaign


def get_managed_campaign(scope: Scope, campaign_id: int) -> Campaign:
    """A campaign the user may change: 404 if it cannot see it, 403 if it only reads it (HQ's
    campaign running in a distributor's stores)."""
    campaign = get_campaign_or_404(scope, campaign_id)
    if not services.manages(scope, campaign):
        abort(403)
    return campaign


# --------------------------------------------------------------------------- HQ and distributors

@bp.route("/marketing")
@roles_required(*roles.ADMINS)
def marketing_center():
    """营销中心: a card per campaign kind (what it does, how many there are, 立即创建)."""
    counts = services.kind_counts(current_scope())
    return render_template("campaigns/marketing.html", counts=counts, blurbs=KIND_BLURBS)


@bp.route("/campaigns")
@roles_required(*roles.STAFF)
def list_campaigns():
    scope = current_scope()
    state = one_of(request.args.get("state"), services.STATES)
    kind = one_of(request.args.get("kind"), RULE_FORMS)
    q = request.args.get("q", "").strip()[:50]
    stmt = services.scoped_campaigns(scope, state=state, kind=kind, q=q)
    page = paginate(stmt, request.args.get("page"), PER_PAGE, rows=True)
    ctx = dict(rows=page.items, total=page.total, page=page.page, pages=page.pages, state=state, kind=kind, q=q,
               can_create=scope.role in roles.ADMINS, manages=lambda c: services.manages(scope, c))
    if htmx and htmx.target == "campaign-rows":
        return render_template("campaigns/_rows.html", **ctx)
    return render_template("campaigns/list.html", **ctx)


def _cards(scope: Scope, rules) -> dict:
    """What the page shows of the SKUs the rules name (name, spec, list price, picture)."""
    codes = rules.goods_codes() if hasattr(rules, "goods_codes") else []
    return sku_cards(scope, codes)


def _form_page(form, rules, kind, campaign=None, status=200):
    return render_template("campaigns/form.html", form=form, rules=rules, kind=kind, campaign=campaign,
                           cards=_cards(current_scope(), rules)), status


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
                discount_bearer=form.discount_bearer.data, actor=scope.user)
            flash(_("Campaign “%(name)s” saved as a draft. Publish it, then push it to stores.",
                    name=campaign.name), "success")
            return redirect(url_for("campaigns.view_campaign", campaign_id=campaign.id))
        return _form_page(form, rules, kind, status=422)
    return _form_page(CampaignForm(), rules_form(kind, scope=scope), kind)


@bp.route("/campaigns/<int:campaign_id>/edit", methods=["GET", "POST"])
@roles_required(*roles.ADMINS)
def edit_campaign(campaign_id: int):
    scope = current_scope()
    campaign = get_managed_campaign(scope, campaign_id)
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
                                         join_deadline=to_utc(form.join_deadline.data),
                                         discount_bearer=form.discount_bearer.data, actor=scope.user)
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
                              "join_deadline": to_local(campaign.join_deadline),
                              "discount_bearer": campaign.discount_bearer})
    return _form_page(form, rules_form(campaign.kind, scope=scope, data=campaign.rules), campaign.kind, campaign)


@bp.route("/campaigns/<int:campaign_id>")
@roles_required(*roles.STAFF)
def view_campaign(campaign_id: int):
    scope = current_scope()
    campaign = get_campaign_or_404(scope, campaign_id)
    status = one_of(request.args.get("status"), services.STORE_STATUSES)
    q = request.args.get("q", "").strip()[:50]
    stmt = services.participants(scope, campaign, status=status, q=q)
    page = paginate(stmt, request.args.get("page"), PER_PAGE, rows=True)
    counts = services.participation_counts(scope, campaign)
    ctx = dict(campaign=campaign, state=services.state_of(campaign), rows=page.items, total=page.total,
               page=page.page, pages=page.pages, status=status, q=q, counts=counts,
               active=counts[JOINED] + counts[INVITED],     # the stores a stop or a cancel concerns
               can_manage=services.manages(scope, campaign),
               # A reader from below sees the coupons issued in its own stores, not HQ's total.
               issued_here=None if services.manages(scope, campaign) or not campaign.budget
               else services.issued_in_scope(scope, campaign),
               rules=rules_form(campaign.kind, scope=scope, data=campaign.rules))
    if htmx and htmx.target == "participant-rows":
        return render_template("campaigns/_participants.html", **ctx)
    ctx["cards"] = _cards(scope, ctx["rules"])
    return render_template("campaigns/view.html", **ctx)


def _back(campaign: Campaign):
    return redirect(url_for("campaigns.view_campaign", campaign_id=campaign.id), 303)


@bp.route("/campaigns/<int:campaign_id>/publish", methods=["POST"])
@roles_required(*roles.ADMINS)
def publish_campaign(campaign_id: int):
    scope = current_scope()
    campaign = get_managed_campaign(scope, campaign_id)
    flash_outcome(lambda: services.publish_campaign(scope, campaign, actor=scope.user),
                  _("Published. It reaches no store until you push it."))
    return _back(campaign)


@bp.route("/campaigns/<int:campaign_id>/cancel", methods=["POST"])
@roles_required(*roles.ADMINS)
def cancel_campaign(campaign_id: int):
    scope = current_scope()
    campaign = get_managed_campaign(scope, campaign_id)
    flash_outcome(lambda: services.cancel_campaign(scope, campaign, actor=scope.user),
                  _("Campaign cancelled: no store runs it any more."))
    return _back(campaign)


@bp.route("/campaigns/<int:campaign_id>/push", methods=["GET", "POST"])
@roles_required(*roles.ADMINS)
def push_campaign(campaign_id: int):
    scope = current_scope()
    campaign = get_managed_campaign(scope, campaign_id)
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
    return render_template(
        "campaigns/push.html",
        campaign=campaign,
        form=form,
        reach=target_services.reach(scope, spec),
        errors=[],
        action=url_for("campaigns.push_campaign", campaign_id=campaign.id),
    ), form_status()


@bp.route("/campaigns/<int:campaign_id>/stop-in-stores")
@roles_required(*roles.ADMINS)
def stop_form(campaign_id: int):
    """Stop a campaign in stores chosen with the store picker (the org tree, the add-stores dialog,
    pasted codes); the participants table's boxes and "everywhere" post to stop_campaign directly."""
    scope = current_scope()
    campaign = get_campaign_or_404(scope, campaign_id)
    form = TargetFields(formdata=None)
    fill_choices(form, scope)
    form.active_only.data = False
    return _stop_page(scope, campaign, form)


def _stop_page(scope: Scope, campaign: Campaign, form: TargetFields, status: int = 200):
    spec = form.spec()
    return render_template("campaigns/stop.html", campaign=campaign, state=services.state_of(campaign), form=form,
                           reach=target_services.reach(scope, spec), errors=[]), status


@bp.route("/campaigns/<int:campaign_id>/stop", methods=["POST"])
@roles_required(*roles.ADMINS)
def stop_campaign(campaign_id: int):
    scope = current_scope()
    campaign = get_managed_campaign(scope, campaign_id)
    everywhere = flag(request.form, "all")
    if request.form.get("picker") == "1" and not everywhere:
        # From the store picker: the stores its selection names (whatever their status), in one
        # statement through the scope; a selection naming nothing, or anything outside the scope,
        # is shown again beside its field.
        form = TargetFields()
        fill_choices(form, scope)
        if not form.validate_on_submit():
            return _stop_page(scope, campaign, form, 422)
        spec = form.spec()
        if spec.is_empty:
            form.everything.errors = [_("Choose the stores to stop it in.")]
            return _stop_page(scope, campaign, form, 422)
        ids = select(Store.id).where(target_services.selection(spec, scope, with_status=False))
    else:
        ids = parse_ids(request.form.getlist("store_ids"))
        if not everywhere and not ids:
            flash(_("Choose the stores to stop it in."), "warning")
            return _back(campaign)
    try:
        n = services.stop_campaign(scope, campaign, None if everywhere else ids, actor=scope.user)
    except RuleError as exc:
        flash(exc.message, "danger")
    else:
        flash(ngettext("Stopped in %(num)s store.", "Stopped in %(num)s stores.", n), "success")
    return _back(campaign)


# --------------------------------------------------------------------------- store owners

@bp.route("/my/campaigns")
@roles_required(roles.STORE_OWNER)
def my_campaigns():
    scope = current_scope()
    rows = services.offers(scope.store_id)
    return render_template("campaigns/my.html", rows=rows, can_decide=services.can_decide,
                           goods=services.offer_goods([c for c, _part, _st in rows]))


@bp.route("/my/campaigns/<int:campaign_id>")
@roles_required(roles.STORE_OWNER)
def view_offer(campaign_id: int):
    """A campaign offered to the owner's store, with its full rules, before joining it."""
    scope = current_scope()
    campaign, part = _offer_or_404(scope, campaign_id)
    return render_template("campaigns/offer.html", c=campaign, part=part, st=services.state_of(campaign),
                           can_decide=services.can_decide, goods=services.offer_goods([campaign]),
                           sale_window=services.sale_window)


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
    if request.form.get("back") == "offer":      # answered from the campaign's own page
        return redirect(url_for("campaigns.view_offer", campaign_id=campaign.id), 303)
    return redirect(url_for("campaigns.my_campaigns"), 303)


@bp.route("/my/campaigns/<int:campaign_id>/join", methods=["POST"])
@roles_required(roles.STORE_OWNER)
def join_campaign(campaign_id: int):
    return _decide(campaign_id, True)


@bp.route("/my/campaigns/<int:campaign_id>/decline", methods=["POST"])
@roles_required(roles.STORE_OWNER)
def decline_campaign(campaign_id: int):
    return _decide(campaign_id, False)
