"""Assortments, for admins: build a set of goods-library products and push it to stores."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from portal.assortments import services
from portal.assortments.forms import AddItemsForm, AssortmentForm
from portal.assortments.models import Assortment
from portal.extensions import db
from portal.goods.services import first_thumbs
from portal.i18n import ngettext
from portal.kernel.forms import form_status
from portal.kernel.ids import parse_ids
from portal.org import roles
from portal.org.access import current_scope, roles_required
from portal.org.scope import Scope
from portal.pushes.forms import prepare_push_form, start_push
from portal.targets import services as target_services
from portal.web import NavEntry

bp = Blueprint("assortments", __name__)
# Its sections of the navigation (assembled by the app factory, see portal.web.NavEntry).
NAV = (
    NavEntry(
        "assortments.list_assortments",
        _l("Assortments"),
        "send",
        roles.ADMINS,
        order=90,
        pages=frozenset(
            {
                "assortments.list_assortments",
                "assortments.create_assortment",
                "assortments.edit_assortment",
                "assortments.push_assortment",
            }
        ),
    ),
)


def get_assortment_or_404(scope: Scope, assortment_id: int) -> Assortment:
    assortment = db.session.scalar(select(Assortment).where(Assortment.id == assortment_id,
                                                            scope.paths(Assortment.path)))
    if assortment is None:
        abort(404)
    return assortment


@bp.route("/assortments")
@roles_required(*roles.ADMINS)
def list_assortments():
    scope = current_scope()
    assortments = db.session.scalars(services.scoped_assortments(scope)).all()
    ids = [a.id for a in assortments]
    return render_template("assortments/list.html", assortments=assortments,
                           items=services.item_counts(ids), stores=services.store_counts(scope, ids))


@bp.route("/assortments/new", methods=["GET", "POST"])
@roles_required(*roles.ADMINS)
def create_assortment():
    scope = current_scope()
    form = AssortmentForm()
    if form.validate_on_submit():
        assortment = services.create_assortment(scope, form.name.data.strip(), actor=scope.user)
        flash(_("Assortment “%(name)s” created. Add goods to it.", name=assortment.name), "success")
        return redirect(url_for("assortments.edit_assortment", assortment_id=assortment.id), 303)
    return render_template("assortments/new.html", form=form), form_status()


def _editor(scope: Scope, assortment: Assortment, *, form=None, add_form=None, status: int = 200):
    products = services.assortment_products(assortment)
    ctx = dict(assortment=assortment, form=form or AssortmentForm(obj=assortment), add_form=add_form or AddItemsForm(),
               products=products, thumbs=first_thumbs([p.id for p, _n in products]),
               stores=services.store_counts(scope, [assortment.id]).get(assortment.id, 0))
    return render_template("assortments/edit.html", **ctx), status


@bp.route("/assortments/<int:assortment_id>", methods=["GET", "POST"])
@roles_required(*roles.ADMINS)
def edit_assortment(assortment_id: int):
    scope = current_scope()
    assortment = get_assortment_or_404(scope, assortment_id)
    if request.method == "POST":
        form = AssortmentForm()
        if form.validate_on_submit():
            services.rename_assortment(scope, assortment, form.name.data.strip(), actor=scope.user)
            flash(_("Saved."), "success")
            return redirect(url_for("assortments.edit_assortment", assortment_id=assortment.id), 303)
        return _editor(scope, assortment, form=form, status=422)
    return _editor(scope, assortment)


@bp.route("/assortments/<int:assortment_id>/items", methods=["POST"])
@roles_required(*roles.ADMINS)
def add_items(assortment_id: int):
    scope = current_scope()
    assortment = get_assortment_or_404(scope, assortment_id)
    form = AddItemsForm()
    if not form.validate_on_submit():
        return _editor(scope, assortment, add_form=form, status=422)
    ids = parse_ids(request.form.getlist("product_ids"))
    codes = services.split_codes(form.codes.data)
    if not ids and not codes:
        form.codes.errors = [_("Choose goods from the goods library or paste product codes.")]
        return _editor(scope, assortment, add_form=form, status=422)
    added, unknown = services.add_items(scope, assortment, codes=codes, product_ids=ids, actor=scope.user)
    if unknown:
        form.codes.errors = [_("Not found in your goods library: %(codes)s", codes=", ".join(unknown[:20]))]
        db.session.rollback()
        return _editor(scope, assortment, add_form=form, status=422)
    flash(ngettext("%(num)s product added.", "%(num)s products added.", added), "success")
    return redirect(url_for("assortments.edit_assortment", assortment_id=assortment.id), 303)


@bp.route("/assortments/<int:assortment_id>/items/<int:product_id>/delete", methods=["POST"])
@roles_required(*roles.ADMINS)
def remove_item(assortment_id: int, product_id: int):
    scope = current_scope()
    assortment = get_assortment_or_404(scope, assortment_id)
    if services.remove_item(scope, assortment, product_id, actor=scope.user):
        flash(_("Removed from the assortment. Stores that carry it stop showing it."), "success")
    return redirect(url_for("assortments.edit_assortment", assortment_id=assortment.id), 303)


@bp.route("/assortments/<int:assortment_id>/push", methods=["GET", "POST"])
@roles_required(*roles.ADMINS)
def push_assortment(assortment_id: int):
    scope = current_scope()
    assortment = get_assortment_or_404(scope, assortment_id)
    form, saved = prepare_push_form(scope)
    if request.method == "POST":
        push = start_push(scope, form, saved, kind="goods", payload_id=assortment.id, label=assortment.name)
        if push is not None:
            flash(_("Pushing %(what)s. Stores that already carry it are skipped.", what=assortment.name), "success")
            return redirect(url_for("pushes.view_push", push_id=push.id))
    spec = form.chosen_spec(saved)[0]
    return render_template("assortments/push.html", assortment=assortment, form=form,
                           items=services.item_counts([assortment.id]).get(assortment.id, 0),
                           reach=target_services.reach(scope, spec), errors=[],
                           action=url_for("assortments.push_assortment", assortment_id=assortment.id)), form_status()
