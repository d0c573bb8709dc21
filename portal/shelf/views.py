"""Goods on the store side (a store owner's shelf, its own local goods, staff's read-only view of a
store's goods); the mini-program goods API is portal.api.goods."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal.extensions import db, htmx
from portal.goods.models import Product
from portal.kernel.errors import RuleError
from portal.kernel.forms import flag, form_status, rule_error
from portal.kernel.ids import parse_page
from portal.org import roles
from portal.org.access import current_scope, roles_required
from portal.org.models import Store
from portal.org.scope import Scope, get_store_or_404
from portal.shelf import services as shelf
from portal.shelf.forms import ListingForm, LocalProductForm
from portal.web import NavEntry

bp = Blueprint("shelf", __name__)
# Its sections of the navigation (assembled by the app factory, see portal.web.NavEntry).
NAV = (
    NavEntry("shelf.my_goods", _l("My goods"), "tag", (roles.STORE_OWNER,), order=50,
             pages=frozenset({"shelf.my_goods", "shelf.create_local_product", "shelf.edit_local_product"})),
)
PER_PAGE = 30


def _int_arg(name: str, default: int) -> int:
    return parse_page(request.args.get(name), default)


def _filters() -> dict:
    shelf_filter = request.args.get("shelf", "")
    return {"q": request.args.get("q", "").strip()[:50], "category": request.args.get("category", "").strip()[:50],
            "shelf": shelf_filter if shelf_filter in shelf.SHELF_FILTERS else ""}


# --------------------------------------------------------------------------- the store's shelf

def _shelf_page(store: Store, *, editable: bool, endpoint: str, args: dict):
    filters = _filters()
    page = shelf.goods_page(store.id, page=_int_arg("page", 1), per_page=PER_PAGE, **filters)
    ctx = dict(store=store, editable=editable, goods=page, filters=filters, endpoint=endpoint,
               args={**args, **{k: v for k, v in filters.items() if v}},
               categories=shelf.categories(store.id),
               notices=shelf.unread_notices(store.id) if editable else [], errors={})
    if htmx and htmx.target == "goods-rows":
        return render_template("shelf/_goods_rows.html", **ctx)
    return render_template("shelf/goods.html", **ctx)


@bp.route("/my/goods")
@roles_required(roles.STORE_OWNER)
def my_goods():
    scope = current_scope()
    return _shelf_page(get_store_or_404(scope, scope.store_id), editable=True, endpoint="shelf.my_goods",
                       args={})


@bp.route("/stores/<int:store_id>/goods")
@roles_required(*roles.STAFF)
def view_store_goods(store_id: int):
    """A store's goods as its customers see them (prices, shelf), read-only, for the people above it."""
    scope = current_scope()
    store = get_store_or_404(scope, store_id)
    return _shelf_page(store, editable=False, endpoint="shelf.view_store_goods", args={"store_id": store.id})


def _good_or_404(store: Store, sku_id: int) -> shelf.Good:
    good = shelf.good_or_none(store.id, sku_id)
    if good is None:
        abort(404)
    return good


def _row(store: Store, good: shelf.Good, *, form: ListingForm | None = None, status: int = 200):
    html = render_template("shelf/_goods_row.html", store=store, g=good, editable=True,
                           form=form, errors=(form.errors if form else {}))
    return html, status


@bp.route("/stores/<int:store_id>/goods/<int:sku_id>", methods=["POST"])
@roles_required(roles.STORE_OWNER)
def save_listing(store_id: int, sku_id: int):
    scope = current_scope()
    store = get_store_or_404(scope, store_id)          # another store's shelf: 404
    good = _good_or_404(store, sku_id)
    form = ListingForm()
    if form.validate_on_submit():
        try:
            shelf.save_listing(scope, store, good, price=form.price.data, stock=form.stock.data, actor=scope.user)
        except RuleError as exc:
            rule_error(form, exc)
        else:
            if htmx:
                return _row(store, shelf.good_or_none(store.id, sku_id))
            flash(_("Saved %(name)s.", name=good.name), "success")
            return redirect(url_for("shelf.my_goods"), 303)
    db.session.rollback()
    if htmx:
        return _row(store, good, form=form, status=422)
    for errors in form.errors.values():
        for e in errors:
            flash(f"{good.name} ({good.sku_code}): {e}", "danger")
    return redirect(url_for("shelf.my_goods"), 303)


@bp.route("/stores/<int:store_id>/goods/<int:sku_id>/shelf", methods=["POST"])
@roles_required(roles.STORE_OWNER)
def toggle_shelf(store_id: int, sku_id: int):
    scope = current_scope()
    store = get_store_or_404(scope, store_id)
    good = _good_or_404(store, sku_id)
    on_shelf = flag(request.form, "on_shelf")
    shelf.set_on_shelf(scope, store, good, on_shelf, actor=scope.user)
    if htmx:
        return _row(store, shelf.good_or_none(store.id, sku_id))
    flash(_("%(name)s is on the shelf.", name=good.name) if on_shelf else
          _("%(name)s is off the shelf.", name=good.name), "success")
    return redirect(url_for("shelf.my_goods"), 303)


@bp.route("/stores/<int:store_id>/notices/read", methods=["POST"])
@roles_required(roles.STORE_OWNER)
def mark_notices_read(store_id: int):
    scope = current_scope()
    store = get_store_or_404(scope, store_id)
    shelf.mark_notices_read(store)
    if htmx:
        return "", 200
    return redirect(url_for("shelf.my_goods"), 303)


# --------------------------------------------------------------------------- local goods

def _local_form(product=None) -> LocalProductForm:
    if request.method == "POST":
        return LocalProductForm()
    form = LocalProductForm(obj=product) if product else LocalProductForm()
    if product is not None:
        while len(form.skus.entries):
            form.skus.pop_entry()
        for sku in product.skus:
            form.skus.append_entry({"spec": " / ".join(str(v) for v in (sku.spec or {}).values()),
                                    "price": sku.list_price})
    return form


def _pad(form: LocalProductForm) -> None:
    if not any(e.form.is_blank() for e in form.skus.entries) and len(form.skus.entries) < 10:
        form.skus.append_entry()


def _save_local(scope: Scope, store: Store, product: Product | None):
    form = _local_form(product)
    if form.validate_on_submit():
        skus = [((row.form.spec.data or "").strip(), row.form.price.data)
                for row in form.skus.entries if not row.form.is_blank()]
        try:
            saved = shelf.save_local_product(scope, store, product, name=form.name.data.strip(),
                                             category=form.category.data.strip(),
                                             description=form.description.data or "", skus=skus, actor=scope.user)
        except RuleError as exc:
            rule_error(form, exc, at="name")
        else:
            flash(_("Saved your product “%(name)s”.", name=saved.name), "success")
            return redirect(url_for("shelf.my_goods"), 303)
    _pad(form)
    return render_template("shelf/local_form.html", form=form, store=store, product=product), form_status()


@bp.route("/my/goods/new", methods=["GET", "POST"])
@roles_required(roles.STORE_OWNER)
def create_local_product():
    scope = current_scope()
    return _save_local(scope, get_store_or_404(scope, scope.store_id), None)


@bp.route("/stores/<int:store_id>/products/<int:product_id>/edit", methods=["GET", "POST"])
@roles_required(roles.STORE_OWNER)
def edit_local_product(store_id: int, product_id: int):
    """Only the store's own products: an HQ product (or another store's) is 404 here."""
    scope = current_scope()
    store = get_store_or_404(scope, store_id)
    product = shelf.local_product_or_none(store, product_id)
    if product is None:
        abort(404)
    return _save_local(scope, store, product)


