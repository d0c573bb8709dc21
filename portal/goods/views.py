"""HQ's goods library: products with SKUs, images and CSV import, for HQ and distributor admins.

A distributor admin sees HQ's catalog read-only (it may push HQ goods, not change them): its
edit page shows the product without a form, and a write to it answers 403. Products of another
part of the tree answer 404, like everything else outside the scope.
"""
from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, send_from_directory, url_for
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError
from werkzeug.datastructures import MultiDict

from portal.extensions import db, htmx
from portal.goods import goods_csv, services
from portal.goods.forms import ImageForm, ImportForm, ProductForm, commission_text
from portal.goods.models import Product
from portal.goods.services import PickerFilter, ProductFilter
from portal.i18n import ngettext
from portal.kernel.errors import RuleError
from portal.kernel.forms import flag, form_status, rule_error
from portal.kernel.ids import parse_id
from portal.kernel.money import yuan_text
from portal.kernel.tabular import XLSX_MIMETYPE
from portal.media import services as media_services
from portal.org import roles
from portal.org.access import current_scope, roles_required
from portal.web import NavEntry, import_done_response, run_csv_import

bp = Blueprint("goods", __name__)
# Its sections of the navigation (assembled by the app factory, see portal.web.NavEntry).
NAV = (
    NavEntry("goods.list_products", _l("Goods library"), "tag", roles.ADMINS, order=80),
)


def _product_or_404(product_id: int) -> Product:
    product = services.get_product(current_scope(), product_id)
    if product is None:
        abort(404)
    return product


def _editable_or_403(product_id: int) -> Product:
    product = _product_or_404(product_id)
    if not services.can_edit(current_scope(), product):
        abort(403)
    return product


# --------------------------------------------------------------------------- list

@bp.route("/goods")
@roles_required(*roles.ADMINS)
def list_products():
    scope = current_scope()
    flt = ProductFilter.from_args(request.args)
    page = services.list_products(scope, flt)
    ctx = dict(page=page, flt=flt, scope=scope, can_edit=services.can_edit)
    if htmx and htmx.target == "product-rows":
        return render_template("goods/_product_rows.html", **ctx)
    return render_template("goods/products.html", categories=services.categories(scope), **ctx)


# --------------------------------------------------------------------------- the goods picker

@bp.route("/goods/picker")
@roles_required(*roles.ADMINS)
def pick_goods():
    """The goods picker's body (search, category, a page of goods with their SKUs): loaded into
    the modal of ``goods/_picker.html`` by htmx; its searches and pages swap the rows only."""
    scope = current_scope()
    flt = PickerFilter.from_args(request.args)
    ctx = dict(page=services.picker_page(scope, flt), flt=flt)
    if htmx and htmx.target == "goods-picker-rows":
        return render_template("goods/_picker_rows.html", **ctx)
    template = "goods/_picker_body.html" if htmx else "goods/picker.html"
    return render_template(template, categories=services.picker_categories(scope), **ctx)


# --------------------------------------------------------------------------- create / edit

def _sku_formdata(product: Product) -> MultiDict:
    data = MultiDict()
    for i, sku in enumerate(product.skus):
        for key, value in (("id", sku.id), ("code", sku.code), ("spec", services.spec_text(sku.spec)),
                           ("list_price", yuan_text(sku.list_price)),
                           ("price_floor", yuan_text(sku.price_floor)),
                           ("price_ceiling", yuan_text(sku.price_ceiling))):
            data[f"skus-{i}-{key}"] = str(value)
    return data


def _with_blank_row(form: ProductForm) -> None:
    """Offer one empty SKU row to add another SKU."""
    if all(not e.form.is_blank() for e in form.skus):
        form.skus.append_entry()


def _form_page(form: ProductForm, product: Product | None, status: int, *, reach: int = 0):
    _with_blank_row(form)
    return render_template("goods/product_form.html", form=form, product=product,
                           image_form=ImageForm(prefix="image"), reach=reach), status


@bp.route("/goods/new", methods=["GET", "POST"])
@roles_required(*roles.ADMINS)
def create_product():
    scope = current_scope()
    form = ProductForm()
    if request.method == "POST" and request.form.get("action") == "add_row":
        return _form_page(form, None, 200)
    if form.validate_on_submit():
        try:
            product = services.create_product(scope, form.product_data(), [e.form.sku_data() for e in form.sku_rows()],
                                              actor=scope.user)
        except RuleError as exc:
            rule_error(form, exc)
        else:
            flash(_("Product %(name)s was added.", name=product.name), "success")
            return redirect(url_for("goods.edit_product", product_id=product.id))
    return _form_page(form, None, form_status())


@bp.route("/goods/<int:product_id>", methods=["GET", "POST"])
@roles_required(*roles.ADMINS)
def edit_product(product_id: int):
    scope = current_scope()
    product = _product_or_404(product_id)
    if not services.can_edit(scope, product):
        if request.method == "POST":
            abort(403)
        return render_template("goods/product_view.html", product=product)
    if request.method == "GET":
        form = ProductForm(formdata=_sku_formdata(product), obj=product)
        form.commission.data = commission_text(product.commission_rate)
        form.csrf_token.errors = []
        for f in ("code", "name", "category", "description", "direct_sale"):
            getattr(form, f).data = getattr(product, f)
        return _form_page(form, product, 200)
    form = ProductForm()
    if request.form.get("action") == "add_row":
        form.skus.append_entry()
        return _form_page(form, product, 200)
    if form.validate_on_submit():
        skus = [e.form.sku_data() for e in form.sku_rows()]
        reach = services.price_change_reach(product, skus)
        if reach and request.form.get("confirm_reach") != str(reach):
            # HQ sees how many stores' prices move before anything is saved; saving again confirms.
            return _form_page(form, product, 200, reach=reach)
        try:
            counts = services.update_product(scope, product, form.product_data(), skus, actor=scope.user)
        except RuleError as exc:
            rule_error(form, exc)
        except IntegrityError:
            db.session.rollback()
            form.form_errors.append(_("Someone else changed these codes just now. Please try again."))
        else:
            flash(_("Product %(name)s was saved.", name=product.name), "success")
            if counts["clamped"]:
                flash(ngettext("%(num)s store price was outside the new bounds: it was moved into them and the "
                               "store was told.",
                               "%(num)s store prices were outside the new bounds: they were moved into them and the "
                               "stores were told.", counts["clamped"]),
                      "warning")
            return redirect(url_for("goods.edit_product", product_id=product.id), 303)
    return _form_page(form, product, 422)


@bp.route("/goods/<int:product_id>/archive", methods=["POST"])
@roles_required(*roles.ADMINS)
def archive_product(product_id: int):
    scope = current_scope()
    product = _editable_or_403(product_id)
    archived = flag(request.form, "archived", default=True)
    services.set_archived(scope, product, archived, actor=scope.user)
    flash(_("%(name)s was archived.", name=product.name) if archived
          else _("%(name)s is back in the goods library.", name=product.name), "success")
    return redirect(url_for("goods.edit_product", product_id=product.id), 303)


# --------------------------------------------------------------------------- images

@bp.route("/goods/<int:product_id>/images", methods=["POST"])
@roles_required(*roles.ADMINS)
def upload_image(product_id: int):
    scope = current_scope()
    product = _editable_or_403(product_id)
    form = ImageForm(prefix="image")
    error = None
    if not form.validate_on_submit():
        error = _("The form expired. Please try again.")
    else:
        upload = request.files.get("image")
        if upload is None or not upload.filename:
            error = _("Choose a picture.")
        else:
            try:
                services.add_image(scope, product, upload.read(services.MAX_IMAGE_BYTES + 1), actor=scope.user)
            except RuleError as exc:
                error = exc.message
    if htmx:
        return render_template("goods/_images.html", product=product, image_form=ImageForm(prefix="image"),
                               image_error=error, editable=True), 422 if error else 200
    if error:
        flash(error, "danger")
        return redirect(url_for("goods.edit_product", product_id=product.id), 303)
    flash(_("The picture was added."), "success")
    return redirect(url_for("goods.edit_product", product_id=product.id), 303)


@bp.route("/goods/<int:product_id>/images/from-media", methods=["POST"])
@roles_required(*roles.ADMINS)
def add_media_image(product_id: int):
    """A picture of the image space (picked in its modal) becomes one of the product's pictures."""
    scope = current_scope()
    product = _editable_or_403(product_id)
    form = ImageForm(prefix="image")
    error = None
    picture = media_services.get_image(scope, parse_id(request.form.get("media_id")) or 0)
    if not form.validate_on_submit():
        error = _("The form expired. Please try again.")
    elif picture is None:
        error = _("Choose a picture from the image space.")
    else:
        try:
            services.add_image_from_media(scope, product, picture, actor=scope.user)
        except RuleError as exc:
            error = exc.message
    if htmx:
        return render_template("goods/_images.html", product=product, image_form=ImageForm(prefix="image"),
                               image_error=error, editable=True), 422 if error else 200
    flash(error or _("The picture was added."), "danger" if error else "success")
    return redirect(url_for("goods.edit_product", product_id=product.id), 303)


@bp.route("/goods/<int:product_id>/images/<int:image_id>/delete", methods=["POST"])
@roles_required(*roles.ADMINS)
def delete_image(product_id: int, image_id: int):
    scope = current_scope()
    product = _editable_or_403(product_id)
    image = next((i for i in product.images if i.id == image_id), None)
    if image is None:
        abort(404)
    services.remove_image(scope, product, image, actor=scope.user)
    if htmx:
        return render_template("goods/_images.html", product=product, image_form=ImageForm(prefix="image"),
                               image_error=None, editable=True)
    flash(_("The picture was removed."), "success")
    return redirect(url_for("goods.edit_product", product_id=product.id), 303)


@bp.route("/goods/<int:product_id>/images/<int:image_id>")
@roles_required(*roles.ALL)
def product_image(product_id: int, image_id: int):
    """The full picture, for whoever may see the product."""
    product = _product_or_404(product_id)
    image = next((i for i in product.images if i.id == image_id), None)
    if image is None:
        abort(404)
    name = image.thumb if request.args.get("size") == "thumb" else image.filename
    return send_from_directory(services.image_dir(), name, max_age=3600)


@bp.route(f"{services.MEDIA_PATH}<filename>")
def media(filename: str):
    """Thumbnails without login, for the mini-program: the names are random 128-bit tokens."""
    if not services.public_thumb(filename):
        abort(404)
    return send_from_directory(services.image_dir(), filename, max_age=86400)


# --------------------------------------------------------------------------- import

@bp.route("/goods/import", methods=["GET", "POST"])
@roles_required(*roles.ADMINS)
def import_products():
    scope = current_scope()
    form = ImportForm()
    result, ok = run_csv_import(
        form, lambda raw, name: goods_csv.import_catalog(scope, raw, actor=scope.user, filename=name),
        conflict=_("Some of these goods were created by someone else just now. "
                   "Nothing was imported; please try again."),
        done=lambda r: ngettext("Imported %(num)s SKU row. Products: %(created)s created, %(updated)s updated, "
                                "%(unchanged)s unchanged.",
                                "Imported %(num)s SKU rows. Products: %(created)s created, %(updated)s updated, "
                                "%(unchanged)s unchanged.", r.rows,
                                created=format_decimal(r.created), updated=format_decimal(r.updated),
                                unchanged=format_decimal(r.unchanged)))
    if ok:
        return import_done_response(url_for("goods.list_products"))
    template = "org/_import_result.html" if htmx else "goods/import.html"
    return render_template(template, form=form, result=result, columns=goods_csv.COLUMNS,
                           required=goods_csv.REQUIRED), form_status()


# --------------------------------------------------------------------------- export and template

@bp.route("/goods/export.csv")
@roles_required(*roles.ADMINS)
def export_products():
    """The goods the list shows with its filters (every page), one row per SKU, as CSV."""
    flt = ProductFilter.from_args(request.args)
    return Response("".join(goods_csv.export_rows(current_scope(), flt)), mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=goods.csv"})


@bp.route("/goods/export.xlsx")
@roles_required(*roles.ADMINS)
def export_products_xlsx():
    flt = ProductFilter.from_args(request.args)
    return Response(goods_csv.export_xlsx(current_scope(), flt), mimetype=XLSX_MIMETYPE,
                    headers={"Content-Disposition": "attachment; filename=goods.xlsx"})


@bp.route("/goods/import/template.xlsx")
@roles_required(*roles.ADMINS)
def import_template():
    return Response(goods_csv.template_xlsx(current_scope()), mimetype=XLSX_MIMETYPE,
                    headers={"Content-Disposition": "attachment; filename=goods-import-template.xlsx"})
