"""Goods on the store side (a store owner's shelf, its own local goods, staff's read-only view of a
store's goods) and the assortments admins push to stores (the mini-program goods API is
portal.api.goods)."""
from __future__ import annotations


from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from portal.catalog import shelf
from portal.catalog.models import Assortment, Product
from portal.catalog.store_forms import AddItemsForm, AssortmentForm, ListingForm, LocalProductForm
from portal.extensions import db, htmx
from portal.kernel.ids import parse_ids, parse_page
from portal.org import roles
from portal.org.models import Store
from portal.org.scope import Scope, get_store_or_404
from portal.kernel.errors import RuleError
from portal.pushes.views import prepare_push_form, start_push
from portal.security import current_scope, roles_required
from portal.targets.views import _reach
from portal.web import form_status

bp = Blueprint("catalog_store", __name__)
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
        return render_template("catalog/store/_goods_rows.html", **ctx)
    return render_template("catalog/store/goods.html", **ctx)


@bp.route("/my/goods")
@roles_required(roles.STORE_OWNER)
def my_goods():
    scope = current_scope()
    return _shelf_page(get_store_or_404(scope, scope.store_id), editable=True, endpoint="catalog_store.my_goods",
                       args={})


@bp.route("/stores/<int:store_id>/goods")
@roles_required(*roles.STAFF)
def view_store_goods(store_id: int):
    """A store's goods as its customers see them (prices, shelf), read-only, for the people above it."""
    scope = current_scope()
    store = get_store_or_404(scope, store_id)
    return _shelf_page(store, editable=False, endpoint="catalog_store.view_store_goods", args={"store_id": store.id})


def _good_or_404(store: Store, sku_id: int) -> shelf.Good:
    good = shelf.good_or_none(store.id, sku_id)
    if good is None:
        abort(404)
    return good


def _row(store: Store, good: shelf.Good, *, form: ListingForm | None = None, status: int = 200):
    html = render_template("catalog/store/_goods_row.html", store=store, g=good, editable=True,
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
            getattr(form, exc.field).errors = list(getattr(form, exc.field).errors) + [exc.message]
        else:
            if htmx:
                return _row(store, shelf.good_or_none(store.id, sku_id))
            flash(_("Saved %(name)s.", name=good.name), "success")
            return redirect(url_for("catalog_store.my_goods"), 303)
    db.session.rollback()
    if htmx:
        return _row(store, good, form=form, status=422)
    for errors in form.errors.values():
        for e in errors:
            flash(f"{good.name} ({good.sku_code}): {e}", "danger")
    return redirect(url_for("catalog_store.my_goods"), 303)


@bp.route("/stores/<int:store_id>/goods/<int:sku_id>/shelf", methods=["POST"])
@roles_required(roles.STORE_OWNER)
def toggle_shelf(store_id: int, sku_id: int):
    scope = current_scope()
    store = get_store_or_404(scope, store_id)
    good = _good_or_404(store, sku_id)
    on_shelf = request.form.get("on_shelf") == "1"
    shelf.set_on_shelf(scope, store, good, on_shelf, actor=scope.user)
    if htmx:
        return _row(store, shelf.good_or_none(store.id, sku_id))
    flash(_("%(name)s is on the shelf.", name=good.name) if on_shelf else
          _("%(name)s is off the shelf.", name=good.name), "success")
    return redirect(url_for("catalog_store.my_goods"), 303)


@bp.route("/stores/<int:store_id>/notices/read", methods=["POST"])
@roles_required(roles.STORE_OWNER)
def mark_notices_read(store_id: int):
    scope = current_scope()
    store = get_store_or_404(scope, store_id)
    shelf.mark_notices_read(store)
    if htmx:
        return "", 200
    return redirect(url_for("catalog_store.my_goods"), 303)


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
            form.name.errors = list(form.name.errors) + [exc.message]
        else:
            flash(_("Saved your product “%(name)s”.", name=saved.name), "success")
            return redirect(url_for("catalog_store.my_goods"), 303)
    _pad(form)
    return render_template("catalog/store/local_form.html", form=form, store=store, product=product), form_status()


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


# --------------------------------------------------------------------------- assortments (admins)

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
    assortments = db.session.scalars(shelf.scoped_assortments(scope)).all()
    ids = [a.id for a in assortments]
    return render_template("catalog/assortments/list.html", assortments=assortments,
                           items=shelf.item_counts(ids), stores=shelf.store_counts(scope, ids))


@bp.route("/assortments/new", methods=["GET", "POST"])
@roles_required(*roles.ADMINS)
def create_assortment():
    scope = current_scope()
    form = AssortmentForm()
    if form.validate_on_submit():
        assortment = shelf.create_assortment(scope, form.name.data.strip(), actor=scope.user)
        flash(_("Assortment “%(name)s” created. Add goods to it.", name=assortment.name), "success")
        return redirect(url_for("catalog_store.edit_assortment", assortment_id=assortment.id), 303)
    return render_template("catalog/assortments/new.html", form=form), form_status()


def _editor(scope: Scope, assortment: Assortment, *, form=None, add_form=None, status: int = 200):
    q = request.args.get("q", "").strip()[:50]
    found = []
    if q:
        like = f"%{q}%"
        found = db.session.scalars(select(Product).where(
            shelf.pickable_products(scope), (Product.code.ilike(like)) | (Product.name.like(like)))
            .order_by(Product.code).limit(30)).all()
    products = shelf.assortment_products(assortment)
    ctx = dict(assortment=assortment, form=form or AssortmentForm(obj=assortment), add_form=add_form or AddItemsForm(),
               products=products, in_it={p.id for p, _n in products}, q=q, found=found,
               stores=shelf.store_counts(scope, [assortment.id]).get(assortment.id, 0))
    if htmx and htmx.target == "product-search":
        return render_template("catalog/assortments/_search.html", **ctx), status
    return render_template("catalog/assortments/edit.html", **ctx), status


@bp.route("/assortments/<int:assortment_id>", methods=["GET", "POST"])
@roles_required(*roles.ADMINS)
def edit_assortment(assortment_id: int):
    scope = current_scope()
    assortment = get_assortment_or_404(scope, assortment_id)
    if request.method == "POST":
        form = AssortmentForm()
        if form.validate_on_submit():
            shelf.rename_assortment(scope, assortment, form.name.data.strip(), actor=scope.user)
            flash(_("Saved."), "success")
            return redirect(url_for("catalog_store.edit_assortment", assortment_id=assortment.id), 303)
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
    codes = shelf.split_codes(form.codes.data)
    if not ids and not codes:
        form.codes.errors = [_("Enter product codes or pick products from the search.")]
        return _editor(scope, assortment, add_form=form, status=422)
    added, unknown = shelf.add_items(scope, assortment, codes=codes, product_ids=ids, actor=scope.user)
    if unknown:
        form.codes.errors = [_("Not found in your goods library: %(codes)s", codes=", ".join(unknown[:20]))]
        db.session.rollback()
        return _editor(scope, assortment, add_form=form, status=422)
    flash(_("%(n)s goods added.", n=added), "success")
    return redirect(url_for("catalog_store.edit_assortment", assortment_id=assortment.id), 303)


@bp.route("/assortments/<int:assortment_id>/items/<int:product_id>/delete", methods=["POST"])
@roles_required(*roles.ADMINS)
def remove_item(assortment_id: int, product_id: int):
    scope = current_scope()
    assortment = get_assortment_or_404(scope, assortment_id)
    if shelf.remove_item(scope, assortment, product_id, actor=scope.user):
        flash(_("Removed from the assortment. Stores that carry it stop showing it."), "success")
    return redirect(url_for("catalog_store.edit_assortment", assortment_id=assortment.id), 303)


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
    return render_template("catalog/assortments/push.html", assortment=assortment, form=form,
                           items=shelf.item_counts([assortment.id]).get(assortment.id, 0),
                           reach=_reach(scope, spec), errors=[],
                           action=url_for("catalog_store.push_assortment", assortment_id=assortment.id)), form_status()
