"""Guides (导购): the store owner manages their store's guides from the phone (add, deactivate,
reactivate); HQ, distributors and regional managers read the guides of the stores in their
scope. Deactivating a guide hands the members they serve back to the store."""
from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal.extensions import db, htmx
from portal.i18n import ngettext
from portal.kernel.errors import Conflict, RuleError
from portal.kernel.forms import flag, rule_error
from portal.members import services
from portal.members.forms_identity import GuideForm
from portal.org import roles
from portal.org.access import current_scope, roles_required
from portal.org.scope import get_store_or_404
from portal.web import NavEntry

bp = Blueprint("guides", __name__)
NAV = (NavEntry("guides.my_guides", _l("Guides"), "users", (roles.STORE_OWNER,), order=55),)


def _render(store, form, *, editable: bool, status: int = 200, full: bool | None = None):
    ctx = dict(store=store, form=form, editable=editable, guides=services.guides_of(store),
               unguided=services.store_members_without_guide(store))
    if full is None:
        full = not htmx
    response = Response(render_template("members/guides.html" if full else "members/_guides.html", **ctx), status)
    response.vary.add("HX-Request")
    return response


def _own_store():
    scope = current_scope()
    return get_store_or_404(scope, scope.store_id)


@bp.route("/my/guides", methods=["GET", "POST"])
@roles_required(roles.STORE_OWNER)
def my_guides():
    store = _own_store()
    form = GuideForm()
    if form.is_submitted():
        if form.validate():
            scope = current_scope()
            try:
                guide = services.add_guide(scope, store, code=form.code.data, name=form.name.data,
                                           phone=form.phone.data or "", actor=scope.user)
            except Conflict:
                raise
            except RuleError as exc:
                rule_error(form, exc, default="code")
            else:
                message = _("Guide %(name)s added: members signing up with code %(code)s are theirs.",
                            name=guide.name, code=guide.code)
                if htmx:
                    flash(message, "success")
                    return _render(store, GuideForm(formdata=None), editable=True)
                flash(message, "success")
                return redirect(url_for("guides.my_guides"), 303)
        db.session.rollback()
        return _render(store, form, editable=True, status=422)
    return _render(store, GuideForm(formdata=None), editable=True, full=True if not htmx else None)


@bp.route("/guides/<int:guide_id>/active", methods=["POST"])
@roles_required(roles.STORE_OWNER)
def set_active(guide_id: int):
    from flask import request

    scope = current_scope()
    guide = services.get_guide_or_404(scope, guide_id)
    store = get_store_or_404(scope, guide.store_id)
    active = flag(request.form, "active")
    handed = services.set_guide_active(scope, guide, active, actor=scope.user)
    if active:
        message = _("%(name)s is active again.", name=guide.name)
    else:
        message = ngettext("%(name)s deactivated: %(num)s member went back to the store.",
                           "%(name)s deactivated: %(num)s members went back to the store.", handed, name=guide.name)
    flash(message, "success")
    if htmx:
        return _render(store, GuideForm(formdata=None), editable=True)
    return redirect(url_for("guides.my_guides"), 303)


@bp.route("/stores/<int:store_id>/guides")
@roles_required(*roles.STAFF)
def store_guides(store_id: int):
    store = get_store_or_404(current_scope(), store_id)
    return _render(store, None, editable=False)
