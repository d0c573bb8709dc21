"""Push history, one push with its stores and live progress, rollback."""
from __future__ import annotations

from flask import Blueprint, abort, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from portal.extensions import db, htmx
from portal.kernel.forms import flash_outcome, one_of
from portal.kernel.paging import paginate
from portal.org import roles
from portal.org.access import current_scope, roles_required
from portal.org.models import Store
from portal.org.scope import Scope
from portal.pushes import services
from portal.pushes.labels import KIND_LABELS
from portal.pushes.models import OUTCOMES, Delivery, Push
from portal.targets.services import TargetSpec
from portal.web import NavEntry

bp = Blueprint("pushes", __name__)
# Its sections of the navigation (assembled by the app factory, see portal.web.NavEntry).
# Regional managers read the pushes that reached their region.
NAV = (
    NavEntry("pushes.list_pushes", _l("Pushes"), "send", roles.STAFF, order=110),
)
PER_PAGE = 50


def get_push_or_404(scope: Scope, push_id: int) -> Push:
    """A push the scope sees (its own, or one that reached its stores), else 404."""
    push = db.session.scalar(select(Push).where(Push.id == push_id, services.visible(scope)))
    if push is None:
        abort(404)
    return push


def get_own_push_or_403(scope: Scope, push_id: int) -> Push:
    """A push the acting admin may roll back, cancel or retry: one made inside its scope. A push
    sent from above into its stores is read only (403); one it cannot see, 404."""
    push = get_push_or_404(scope, push_id)
    if not services.may_act(scope, push):
        abort(403)
    return push


@bp.route("/pushes")
@roles_required(*roles.STAFF)
def list_pushes():
    scope = current_scope()
    filters = services.HistoryFilter.read(request.args, KIND_LABELS)
    page = paginate(services.scoped_pushes(scope, filters), request.args.get("page"), PER_PAGE)
    ctx = dict(pushes=page.items, counts=services.counts_for(scope, page.items), total=page.total,
               page=page.page, pages=page.pages, filters=filters, scope=scope)
    status = 422 if filters.errors else 200
    if htmx and htmx.target == "push-rows":
        return _vary(render_template("pushes/_push_rows.html", **ctx), status)
    return _vary(render_template("pushes/list.html", **ctx), status)


def _vary(body: str, status: int = 200):
    response = make_response(body, status)
    response.vary.add("HX-Request")
    return response


def _push_context(scope: Scope, push: Push) -> dict:
    return dict(push=push, progress=services.progress(scope, push), stalled=services.is_stalled(push),
                may_act=services.may_act(scope, push), owned=services.owns(scope, push))


@bp.route("/pushes/<int:push_id>")
@roles_required(*roles.STAFF)
def view_push(push_id: int):
    scope = current_scope()
    push = get_push_or_404(scope, push_id)
    outcome = one_of(request.args.get("outcome"), OUTCOMES)
    q = request.args.get("q", "").strip()[:50]
    # The viewer sees the deliveries of stores in its own scope only: a distributor or regional
    # manager reading HQ's push sees its own stores, and a store that left the subtree since
    # (or that another part of the tree delivered to) is not listed, searched or counted.
    stmt = (select(Delivery, Store).join(Store, Store.id == Delivery.store_id)
            .where(Delivery.push_id == push.id, scope.stores()).order_by(Store.code))
    if outcome:
        stmt = stmt.where(Delivery.outcome == outcome)
    if q:
        stmt = stmt.where((Store.code.ilike(f"%{q}%")) | (Store.name.like(f"%{q}%")))
    page = paginate(stmt, request.args.get("page"), PER_PAGE, rows=True)
    reasons = db.session.execute(
        select(Delivery.reason, func.count()).join(Store, Store.id == Delivery.store_id)
        .where(Delivery.push_id == push.id, Delivery.reason != "", scope.stores())
        .group_by(Delivery.reason).order_by(func.count().desc())).all()
    ctx = dict(_push_context(scope, push), rows=page.items, total=page.total, page=page.page, pages=page.pages,
               reasons=reasons, outcome=outcome, q=q, spec=TargetSpec.from_dict(push.target_spec))
    if htmx and htmx.target == "delivery-rows":
        return _vary(render_template("pushes/_deliveries.html", oob=True, **ctx))
    return _vary(render_template("pushes/view.html", **ctx))


@bp.route("/pushes/<int:push_id>/progress")
@roles_required(*roles.STAFF)
def push_progress(push_id: int):
    """The status card, polled by itself while the push moves. Each answer also brings the page's
    buttons and facts (out of band) and tells the store table to refresh (``push-moved``), so the
    page turns to its finished state by itself: finish time, outcome, the rollback button."""
    scope = current_scope()
    push = get_push_or_404(scope, push_id)
    response = make_response(render_template("pushes/_progress_poll.html", **_push_context(scope, push)))
    if htmx:
        response.headers["HX-Trigger"] = "push-moved"
    return response


def _act_on(push_id: int, action, done: str):
    """A button on the push page: run the service (which may refuse), flash, back to the page."""
    scope = current_scope()
    push = get_own_push_or_403(scope, push_id)
    flash_outcome(lambda: action(scope, push, actor=scope.user), done)
    return redirect(url_for("pushes.view_push", push_id=push.id))


@bp.route("/pushes/<int:push_id>/rollback", methods=["POST"])
@roles_required(*roles.ADMINS)
def rollback(push_id: int):
    return _act_on(push_id, services.request_rollback,
                   _("Rolling back: every store that still has this push returns to what it had."))


@bp.route("/pushes/<int:push_id>/cancel", methods=["POST"])
@roles_required(*roles.ADMINS)
def cancel(push_id: int):
    return _act_on(push_id, services.cancel_scheduled,
                   _("The scheduled push was cancelled."))


@bp.route("/pushes/<int:push_id>/retry", methods=["POST"])
@roles_required(*roles.ADMINS)
def retry(push_id: int):
    return _act_on(push_id, services.retry_failed,
                   _("The failed stores are queued again."))
