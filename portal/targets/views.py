"""Saved targets and the live "reaches N stores" preview."""
from __future__ import annotations

from urllib.parse import urlencode

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from portal.extensions import db, htmx
from portal.kernel.errors import RuleError
from portal.kernel.forms import form_status, rule_error
from portal.kernel.ids import parse_id
from portal.org import roles
from portal.org import services as org_services
from portal.org.access import current_scope, roles_required
from portal.org.scope import Scope
from portal.org.services import StoreFilter
from portal.targets import services
from portal.targets.forms import TargetFields, TargetForm, fill_choices
from portal.targets.models import Target
from portal.targets.services import FILTER_KEYS
from portal.web import NavEntry

bp = Blueprint("targets", __name__)
# Its sections of the navigation (assembled by the app factory, see portal.web.NavEntry).
NAV = (
    NavEntry("targets.list_targets", _l("Targets"), "target", roles.ADMINS, order=120),
)


def get_target_or_404(scope: Scope, target_id: int) -> Target:
    target = db.session.scalar(select(Target).where(Target.id == target_id, scope.paths(Target.path)))
    if target is None:
        abort(404)
    return target


@bp.route("/targets")
@roles_required(*roles.ADMINS)
def list_targets():
    scope = current_scope()
    targets = db.session.scalars(services.scoped_targets(scope)).all()
    reach = services.counts(scope, {t.id: services.TargetSpec.from_dict(t.spec) for t in targets})  # never fails
    return render_template("targets/list.html", targets=targets, reach=reach)


@bp.route("/targets/new", methods=["GET", "POST"])
@bp.route("/targets/<int:target_id>/edit", methods=["GET", "POST"])
@roles_required(*roles.ADMINS)
def edit_target(target_id: int | None = None):
    scope = current_scope()
    target = get_target_or_404(scope, target_id) if target_id else None
    form = TargetForm(obj=target)
    fill_choices(form, scope)
    if request.method == "GET" and target is not None:
        form.fill(services.TargetSpec.from_dict(target.spec))
    if form.validate_on_submit():
        try:
            target = services.save_target(scope, form.name.data, form.spec(), actor=scope.user, target=target)
        except RuleError as exc:
            rule_error(form, exc, default="everything")
        else:
            flash(_("Target “%(name)s” saved.", name=target.name), "success")
            return redirect(url_for("targets.list_targets"))
    spec = form.spec()
    return render_template("targets/form.html", form=form, target=target,
                           reach=services.reach(scope, spec)), form_status()


@bp.route("/targets/<int:target_id>/delete", methods=["POST"])
@roles_required(*roles.ADMINS)
def delete_target(target_id: int):
    scope = current_scope()
    target = get_target_or_404(scope, target_id)
    services.delete_target(scope, target, actor=scope.user)
    flash(_("Target “%(name)s” deleted.", name=target.name), "success")
    return redirect(url_for("targets.list_targets"))


@bp.route("/targets/stores")
@roles_required(*roles.ADMINS)
def pick_stores():
    """The store picker's dialog: a page of the stores a search and filters match, with the
    picker's own parameter names (``pick_q``, ``pick_node`` …, so that they never mix with the
    form the picker sits in). Two statements whatever the number of stores: the count, the page."""
    scope = current_scope()
    flt = StoreFilter.from_args({k[5:]: v for k, v in request.args.items() if k.startswith("pick_")})
    page = org_services.list_stores(scope, flt, per_page=PICK_PER_PAGE)
    query = urlencode({k: v for k, v in flt.args(page=1).items() if k in FILTER_KEYS})
    ctx = dict(page=page, flt=flt, query=query, label=services.filter_label(
        services.clean_filter({"q": flt.q, "node": flt.node_id, "status": flt.status, "tag": flt.tag})
        or {"q": "", "node": None, "status": "", "tag": ""}, _filter_nodes(scope, flt)))
    if htmx:
        return render_template("targets/_pick_rows.html", **ctx), {"Vary": "HX-Request"}
    return render_template("targets/pick.html", **ctx), {"Vary": "HX-Request"}


PICK_PER_PAGE = 10


def _filter_nodes(scope: Scope, flt: StoreFilter) -> dict:
    return services.known_nodes(scope, [flt.node_id]) if flt.node_id else {}


@bp.route("/targets/preview")
@roles_required(*roles.ADMINS)
def preview():
    """The "reaches N stores" partial for any form that embeds the target fields."""
    scope = current_scope()
    form = TargetFields(formdata=request.args, meta={"csrf": False})
    fill_choices(form, scope)
    form.validate()
    spec, errors = form.spec(), form.target_errors()
    # A push form may name a saved target instead of ad-hoc fields.
    target_id = parse_id(request.args.get("target_id"))
    if target_id is not None:
        target = db.session.scalar(select(Target).where(Target.id == target_id,
                                                        scope.paths(Target.path)))
        if target is not None:
            spec, errors = services.TargetSpec.from_dict(target.spec), []
    return render_template("targets/_reach.html", reach=services.reach(scope, spec), errors=errors)
