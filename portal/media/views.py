"""The image space (图片空间): browse, upload, rename and delete pictures, the picker's grid, and
the pictures themselves (public: the mini-program shows them; the names are random 128-bit tokens).

Uploads come one file per request from static/js/media.js (so each shows its own progress and
one bad file spoils no other), or several at once from the plain form (all or nothing).
"""
from __future__ import annotations

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, send_from_directory, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from portal.extensions import db, htmx
from portal.kernel.errors import RuleError
from portal.kernel.jsonerrors import json_error
from portal.media import images, services
from portal.media.forms import RenameForm, UploadForm
from portal.media.models import MediaImage
from portal.media.services import MediaFilter
from portal.org import roles
from portal.org.access import current_scope, roles_required
from portal.web import NavEntry

bp = Blueprint("media", __name__)
NAV = (NavEntry("media.list_images", _l("Image space"), "photo", roles.ADMINS, order=75),)
PICKER_ROLES = (*roles.ADMINS, roles.STORE_OWNER)


def _image_or_404(image_id: int) -> MediaImage:
    image = services.get_image(current_scope(), image_id)
    if image is None:
        abort(404)
    return image


def _changeable_or_403(image_id: int) -> MediaImage:
    image = _image_or_404(image_id)
    if not services.can_change(current_scope(), image):
        abort(403)
    return image


def _wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json"


@bp.route("/media")
@roles_required(*roles.ADMINS)
def list_images():
    scope = current_scope()
    flt = MediaFilter.from_args(request.args)
    page = services.list_images(scope, flt)
    ctx = dict(page=page, flt=flt, scope=scope, can_change=services.can_change, upload_form=UploadForm(),
               endpoint="media.list_images", picking=False)
    if htmx and htmx.target == "media-grid":
        return render_template("media/_grid.html", **ctx)
    return render_template("media/list.html", **ctx)


@bp.route("/media/picker")
@roles_required(*PICKER_ROLES)
def picker():
    """The picker's body (a Tabler modal, static/js/media.js): the grid with pick buttons."""
    scope = current_scope()
    flt = MediaFilter.from_args(request.args)
    page = services.list_images(scope, flt, per_page=18)
    template = "media/_grid.html" if htmx and htmx.target == "media-picker-grid" else "media/_picker.html"
    return render_template(template, page=page, flt=flt, scope=scope, can_change=services.can_change,
                           upload_form=UploadForm(), endpoint="media.picker", picking=True,
                           can_upload=services.can_upload(scope))


@bp.route("/media/upload", methods=["POST"])
@roles_required(*roles.ADMINS)
def upload():
    scope = current_scope()
    form = UploadForm()
    files = [f for f in request.files.getlist("files") if f and f.filename]
    error, made = None, []
    if not form.validate_on_submit():
        error = _("The form expired. Please reload the page and try again.")
    elif not files:
        error = _("Choose a picture.")
    else:
        try:
            for f in files:
                try:
                    made.append(services.upload_image(scope, f.read(images.MAX_BYTES + 1), f.filename,
                                                      actor=scope.user))
                except RuleError as exc:
                    raise RuleError(f"{f.filename}: {exc.message}", "files") from None
        except RuleError as exc:
            db.session.rollback()
            for image in made:      # all or nothing: the files of the ones before go too
                images.remove(services.media_dir(), image.filename, image.thumb)
            made, error = [], exc.message
    if _wants_json():
        if error:
            return json_error(422, error, field="files")
        return jsonify(images=[{"id": i.id, "name": i.name, "url": i.url, "thumb": i.thumb_url} for i in made])
    if error:
        flash(error, "danger")
    else:
        flash(ngettext("%(num)s picture uploaded.", "%(num)s pictures uploaded.", len(made)), "success")
    return redirect(url_for("media.list_images"), 303)


@bp.route("/media/<int:image_id>/rename", methods=["POST"])
@roles_required(*roles.ADMINS)
def rename(image_id: int):
    scope = current_scope()
    image = _changeable_or_403(image_id)
    form = RenameForm()
    error = None
    if not form.validate_on_submit():
        error = "; ".join(str(e) for e in form.name.errors) or _("The form expired. Please reload the page.")
    else:
        try:
            services.rename_image(scope, image, form.name.data, actor=scope.user)
        except RuleError as exc:
            error = exc.message
    if htmx:
        if error:
            db.session.rollback()
            image = _image_or_404(image_id)
        return render_template("media/_card.html", image=image, can_change=services.can_change, scope=scope,
                               picking=False, rename_error=error, rename_value=form.name.data), 422 if error else 200
    flash(error or _("Renamed to “%(name)s”.", name=image.name), "danger" if error else "success")
    return redirect(request.referrer or url_for("media.list_images"), 303)


@bp.route("/media/<int:image_id>/delete", methods=["POST"])
@roles_required(*roles.ADMINS)
def delete(image_id: int):
    scope = current_scope()
    image = _changeable_or_403(image_id)
    name = image.name
    try:
        services.delete_image(scope, image, actor=scope.user)
    except RuleError as exc:
        flash(exc.message, "danger")
    else:
        flash(_("Picture “%(name)s” deleted.", name=name), "success")
    return redirect(request.referrer or url_for("media.list_images"), 303)


@bp.route("/media/i/<filename>")
def file(filename: str):
    """A kept picture or thumbnail, for the portal and the mini-program: cached for a year (the
    name of a picture never changes content)."""
    if not services.public_file(filename):
        abort(404)
    return send_from_directory(services.media_dir(), filename, max_age=31536000)
