"""Push history, one push with its stores and live progress, rollback."""
from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select

from portal.extensions import db, htmx
from portal.kernel.ids import parse_page
from portal.org import roles
from portal.org.models import Store
from portal.org.scope import Scope
from portal.kernel.errors import RuleError
from portal.pushes import services
from portal.pushes.forms import PushForm
from portal.pushes.models import OUTCOMES, Delivery, Push
from portal.security import current_scope, roles_required
from portal.web import flash_outcome
from portal.targets import services as target_services
from portal.targets.services import TargetSpec
from portal.targets.views import fill_choices

bp = Blueprint("pushes", __name__)
PER_PAGE = 50


def get_push_or_404(scope: Scope, push_id: int) -> Push:
    push = db.session.scalar(select(Push).where(Push.id == push_id, scope.paths(Push.path)))
    if push is None:
        abort(404)
    return push


def prepare_push_form(scope: Scope) -> tuple[PushForm, dict[int, dict]]:
    """The push form with its choices: for any view that pushes something."""
    form = PushForm()
    fill_choices(form, scope)
    targets = db.session.scalars(target_services.scoped_targets(scope)).all()     # one query for both
    saved = {t.id: t.spec for t in targets}
    form.target_id.choices = [("", _("Choose stores below"))] + [(t.id, t.name) for t in targets]
    return form, saved


def start_push(scope: Scope, form: PushForm, saved: dict[int, dict], kind: str, payload_id: int,
               label: str):
    """Validate the push form and create the push; returns the push or None (errors on the form)."""
    if not form.validate_on_submit():
        return None
    spec, target_id = form.chosen_spec(saved)
    target_label = dict(form.target_id.choices).get(target_id, "") if target_id else _("Ad-hoc selection")
    try:
        return services.create_push(scope, kind, payload_id, label, spec, actor=scope.user,
                                    target_id=target_id, target_label=str(target_label),
                                    scheduled_for=form.when())
    except RuleError as exc:
        getattr(form, "scheduled_for" if exc.field == "scheduled_for" else "everything").errors.append(exc.message)
        return None


@bp.route("/pushes")
@roles_required(*roles.ADMINS)
def list_pushes():
    scope = current_scope()
    page = parse_page(request.args.get("page"))
    stmt = services.scoped_pushes(scope)
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    items = db.session.scalars(stmt.limit(PER_PAGE).offset((page - 1) * PER_PAGE)).all()
    return render_template("pushes/list.html", pushes=items, total=total, page=page,
                           pages=max(1, -(-total // PER_PAGE)))


@bp.route("/pushes/<int:push_id>")
@roles_required(*roles.ADMINS)
def view_push(push_id: int):
    scope = current_scope()
    push = get_push_or_404(scope, push_id)
    outcome = request.args.get("outcome", "")
    outcome = outcome if outcome in OUTCOMES else ""
    q = request.args.get("q", "").strip()[:50]
    page = parse_page(request.args.get("page"))
    # The viewer sees the deliveries of stores in its own scope only: a store that left the
    # subtree since (or that another part of the tree delivered to) is not listed, searched or counted.
    stmt = (select(Delivery, Store).join(Store, Store.id == Delivery.store_id)
            .where(Delivery.push_id == push.id, scope.stores()).order_by(Store.code))
    if outcome:
        stmt = stmt.where(Delivery.outcome == outcome)
    if q:
        stmt = stmt.where((Store.code.ilike(f"%{q}%")) | (Store.name.like(f"%{q}%")))
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    rows = db.session.execute(stmt.limit(PER_PAGE).offset((page - 1) * PER_PAGE)).all()
    reasons = db.session.execute(
        select(Delivery.reason, func.count()).join(Store, Store.id == Delivery.store_id)
        .where(Delivery.push_id == push.id, Delivery.reason != "", scope.stores())
        .group_by(Delivery.reason).order_by(func.count().desc())).all()
    ctx = dict(push=push, rows=rows, total=total, page=page, pages=max(1, -(-total // PER_PAGE)), reasons=reasons,
               outcome=outcome, q=q, progress=services.progress(push), stalled=services.is_stalled(push),
               spec=TargetSpec.from_dict(push.target_spec))
    if htmx and htmx.target == "delivery-rows":
        return render_template("pushes/_deliveries.html", **ctx)
    return render_template("pushes/view.html", **ctx)


@bp.route("/pushes/<int:push_id>/progress")
@roles_required(*roles.ADMINS)
def push_progress(push_id: int):
    scope = current_scope()
    push = get_push_or_404(scope, push_id)
    return render_template("pushes/_progress.html", push=push, progress=services.progress(push),
                           stalled=services.is_stalled(push))


def _act_on(push_id: int, action, done: str):
    """A button on the push page: run the service (which may refuse), flash, back to the page."""
    scope = current_scope()
    push = get_push_or_404(scope, push_id)
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
