"""Decoration templates (HQ and distributor admins) and the store's own page (store owners).

Every editor action answers an htmx request with the editor partial (block list, edit panel and
phone preview together) and a plain request with a redirect, so the pages work without htmx too.
"""
from __future__ import annotations

from functools import wraps

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from wtforms import FieldList

from portal.decoration import services
from portal.decoration.blocks import BLOCK_TYPES, codes, data_of, form_for
from portal.decoration.forms import AddBlockForm, PublishForm, TemplateForm
from portal.decoration.labels import BLOCK_LABELS, DROP_REASONS
from portal.decoration.models import StorePage, Template, TemplateVersion
from portal.decoration.preview import preview_data
from portal.extensions import db, htmx
from portal.goods.services import product_cards
from portal.kernel.errors import Conflict, RuleError
from portal.kernel.forms import flag, form_status, rule_error
from portal.kernel.ids import parse_id
from portal.org import roles
from portal.org.access import current_scope, roles_required
from portal.org.models import OrgNode, Store, User
from portal.org.scope import Scope, get_store_or_404
from portal.pushes.forms import prepare_push_form, start_push
from portal.targets import services as target_services
from portal.web import NavEntry

bp = Blueprint("decoration", __name__)
# Its sections of the navigation (assembled by the app factory, see portal.web.NavEntry).
NAV = (
    NavEntry("decoration.my_page", _l("My mini-program page"), "layout-grid", (roles.STORE_OWNER,), order=40,
             pages=frozenset({"decoration.my_page", "decoration.edit_page_block", "decoration.reset_page_block"})),
    NavEntry("decoration.list_templates", _l("Decoration templates"), "layout-grid", roles.ADMINS, order=70,
             pages=frozenset({"decoration.list_templates", "decoration.create_template", "decoration.edit_template",
              "decoration.add_block", "decoration.edit_block", "decoration.move_block", "decoration.lock_block",
              "decoration.delete_block", "decoration.publish", "decoration.view_version", "decoration.push_version",
              "decoration.find_sample_stores", "decoration.set_sample_store"})),
)


# --------------------------------------------------------------------------- lookups

def get_template_or_404(scope: Scope, template_id: int) -> Template:
    """A template owned inside the scope: HQ sees every template, a distributor only its own."""
    template = db.session.scalar(select(Template).where(Template.id == template_id, scope.paths(Template.path)))
    if template is None:
        abort(404)
    return template


def get_version_or_404(template: Template, number: int) -> TemplateVersion:
    version = db.session.scalar(select(TemplateVersion).where(TemplateVersion.template_id == template.id,
                                                              TemplateVersion.number == number))
    if version is None:
        abort(404)
    return version


def _draft_block_or_404(template: Template, key: str) -> dict:
    block = next((b for b in template.draft if b["key"] == key), None)
    if block is None:
        abort(404)
    return block


# --------------------------------------------------------------------------- what pages show

def block_summary(block: dict) -> str:
    """One line that tells blocks of a page apart in a list (each block type words its own)."""
    block_type = BLOCK_TYPES.get(block["type"])
    return block_type.summary(block.get("data") or {}) if block_type else ""


@bp.context_processor
def _helpers():
    return {"block_types": BLOCK_TYPES, "block_labels": BLOCK_LABELS, "block_summary": block_summary,
            "drop_reasons": DROP_REASONS, "list_errors": _list_errors, "goods_cards": _goods_cards}


def _goods_cards(text: str) -> list:
    """The goods a goods grid names, as the editor may use them (name, picture), in its order."""
    names = [c.strip() for c in codes(text or "")]
    found = product_cards(current_scope(), names)
    return [found[n.lower()] for n in dict.fromkeys(names) if n.lower() in found]


def _list_errors(field) -> list[str]:
    """A list field's own errors ("add at least one slide"), without its rows' errors."""
    return [str(e) for e in field.errors if not isinstance(e, (dict, list))]


def _pad(form) -> None:
    """Give every list of rows (banner slides, hotspots) one blank row to add another with."""
    for field in form:
        if isinstance(field, FieldList) and field.short_name in getattr(form, "pad_to_max", ()):
            while len(field.entries) < field.max_entries:
                field.append_entry()
        elif isinstance(field, FieldList):
            blank = any(entry.form.is_blank() for entry in field.entries)
            if not blank and (field.max_entries is None or len(field.entries) < field.max_entries):
                field.append_entry()


SAMPLE_STORE = "preview_store_id"       # the session key of the store HQ's previews show
SAMPLE_RESULTS = 8


def _sample_store(scope: Scope) -> Store | None:
    """The store HQ chose to preview its templates with (kept in its session, for every template
    and version it opens), if it is still in scope; None: placeholder data."""
    store_id = parse_id(session.get(SAMPLE_STORE))
    if store_id is None:
        return None
    return db.session.scalar(select(Store).where(Store.id == store_id, scope.stores()))


def _versions(scope: Scope, template: Template) -> list[dict]:
    rows = db.session.execute(
        select(TemplateVersion, User.username).outerjoin(User, User.id == TemplateVersion.published_by_id)
        .where(TemplateVersion.template_id == template.id).order_by(TemplateVersion.number.desc())).all()
    using = dict(db.session.execute(
        select(StorePage.version_id, func.count()).join(Store, Store.id == StorePage.store_id)
        .where(StorePage.version_id.in_([v.id for v, _u in rows]), scope.stores())
        .group_by(StorePage.version_id)).all()) if rows else {}
    return [{"version": v, "by": u or "—", "blocks": len(v.blocks), "stores": using.get(v.id, 0)} for v, u in rows]


def _partial_or_page(partial: str, full: str, status: int = 200, **ctx):
    return render_template(partial if htmx else full, **ctx), status


def _editor(scope: Scope, template: Template, *, editing: str | None = None, form=None,
            publish_form: PublishForm | None = None, add_form: AddBlockForm | None = None, status: int = 200,
            conflict: str = ""):
    versions = _versions(scope, template)
    latest = versions[0]["version"] if versions else None
    ctx = dict(template=template, blocks=template.draft, editing=editing, form=form,
               publish_form=publish_form or PublishForm(), add_form=add_form or AddBlockForm(),
               versions=versions, latest=latest,
               unpublished=latest is None or latest.blocks != template.draft, conflict=conflict)
    ctx["store"] = store = _sample_store(scope)
    ctx["preview"] = preview_data(store, template.draft)
    return _partial_or_page("decoration/_editor.html", "decoration/editor.html", status, **ctx)


def _seen_revision() -> int | None:
    """The template revision the editor's form was rendered from (None when a post names none)."""
    return parse_id(request.form.get("revision"))


def _editor_action(view):
    """An editor action that lost a race to another editor (``Conflict``) answers 409 with the
    editor as it now is and the message; the block form being saved keeps what was typed."""
    @wraps(view)
    def wrapper(template_id: int, **kwargs):
        try:
            return view(template_id, **kwargs)
        except Conflict as exc:
            db.session.rollback()
            scope = current_scope()
            template = get_template_or_404(scope, template_id)
            key = kwargs.get("key")
            block = next((b for b in template.draft if b["key"] == key), None)
            if request.endpoint == "decoration.edit_block" and block is not None:
                form = form_for(block["type"], formdata=request.form)
                form.validate()
                _pad(form)
                return _editor(scope, template, editing=key, form=form, status=409, conflict=exc.message)
            if request.endpoint == "decoration.publish":
                return _editor(scope, template, publish_form=PublishForm(), status=409, conflict=exc.message)
            return _editor(scope, template, status=409, conflict=exc.message)
    return wrapper


def _back_to_editor(template: Template):
    return redirect(url_for("decoration.edit_template", template_id=template.id))


# --------------------------------------------------------------------------- templates (admins)

@bp.route("/templates")
@roles_required(*roles.ADMINS)
def list_templates():
    scope = current_scope()
    templates = db.session.scalars(services.scoped_templates(scope)).all()
    ids = [t.id for t in templates]
    using = dict(db.session.execute(
        select(TemplateVersion.template_id, func.count())
        .join(StorePage, StorePage.version_id == TemplateVersion.id).join(Store, Store.id == StorePage.store_id)
        .where(TemplateVersion.template_id.in_(ids), scope.stores())
        .group_by(TemplateVersion.template_id)).all()) if ids else {}
    latest = {v.template_id: v.blocks for v in db.session.scalars(
        select(TemplateVersion).join(Template, (Template.id == TemplateVersion.template_id)
                                     & (Template.latest_version == TemplateVersion.number))
        .where(Template.id.in_(ids)))} if ids else {}
    owners = {n.path: n.name for n in db.session.scalars(
        select(OrgNode).where(OrgNode.path.in_({t.path for t in templates})))} if templates else {}
    changed = {t.id for t in templates if t.id in latest and latest[t.id] != t.draft}
    return render_template("decoration/list.html", templates=templates, using=using, owners=owners,
                           changed=changed)


@bp.route("/templates/new", methods=["GET", "POST"])
@roles_required(*roles.ADMINS)
def create_template():
    scope = current_scope()
    form = TemplateForm()
    if form.validate_on_submit():
        template = services.create_template(scope, form.name.data, actor=scope.user)
        flash(_("Template “%(name)s” created. Add blocks to compose the page.", name=template.name), "success")
        return _back_to_editor(template)
    return render_template("decoration/new.html", form=form), form_status()


@bp.route("/templates/<int:template_id>")
@roles_required(*roles.ADMINS)
def edit_template(template_id: int):
    scope = current_scope()
    return _editor(scope, get_template_or_404(scope, template_id))


@bp.route("/templates/<int:template_id>/blocks", methods=["POST"])
@roles_required(*roles.ADMINS)
@_editor_action
def add_block(template_id: int):
    scope = current_scope()
    template = get_template_or_404(scope, template_id)
    form = AddBlockForm()
    if not form.validate_on_submit():
        return _editor(scope, template, add_form=form, status=422)
    block = services.add_block(scope, template, form.type.data, actor=scope.user, revision=_seen_revision())
    flash(_("%(block)s added. It is locked until you let stores edit it.", block=BLOCK_LABELS[block["type"]]),
          "success")
    if not htmx:
        return redirect(url_for("decoration.edit_block", template_id=template.id, key=block["key"]))
    # Open the new block's panel straight away: a block is added to be filled in.
    block_form = form_for(block["type"], block["data"])
    _pad(block_form)
    return _editor(scope, template, editing=block["key"], form=block_form)


@bp.route("/templates/<int:template_id>/blocks/<key>", methods=["GET", "POST"])
@roles_required(*roles.ADMINS)
@_editor_action
def edit_block(template_id: int, key: str):
    scope = current_scope()
    template = get_template_or_404(scope, template_id)
    if request.method == "POST":
        services.check_revision(template, _seen_revision())     # before: the block may be gone since
    block = _draft_block_or_404(template, key)
    if request.method == "POST":
        form = form_for(block["type"], formdata=request.form)
        form.scope = scope                  # hand-picked goods must be goods the editor may use
        if form.validate():
            services.update_block(scope, template, key, data_of(form), block["locked"], actor=scope.user,
                                  revision=_seen_revision())
            flash(_("%(block)s saved.", block=BLOCK_LABELS[block["type"]]), "success")
            return _editor(scope, template) if htmx else _back_to_editor(template)
    else:
        form = form_for(block["type"], block["data"])
    _pad(form)
    return _editor(scope, template, editing=key, form=form, status=form_status())


@bp.route("/templates/<int:template_id>/blocks/<key>/move", methods=["POST"])
@roles_required(*roles.ADMINS)
@_editor_action
def move_block(template_id: int, key: str):
    scope = current_scope()
    template = get_template_or_404(scope, template_id)
    services.check_revision(template, _seen_revision())
    _draft_block_or_404(template, key)           # 404 for a key the draft does not have
    step = {"up": -1, "down": 1}.get(request.form.get("direction", ""))
    if step is None:
        abort(400, _("Move a block up or down."))
    services.move_block(scope, template, key, step, actor=scope.user, revision=_seen_revision())
    return _editor(scope, template) if htmx else _back_to_editor(template)


@bp.route("/templates/<int:template_id>/blocks/<key>/lock", methods=["POST"])
@roles_required(*roles.ADMINS)
@_editor_action
def lock_block(template_id: int, key: str):
    scope = current_scope()
    template = get_template_or_404(scope, template_id)
    services.check_revision(template, _seen_revision())
    block = _draft_block_or_404(template, key)
    locked = flag(request.form, "locked")
    services.set_locked(scope, template, key, locked, actor=scope.user, revision=_seen_revision())
    label = BLOCK_LABELS[block["type"]]
    flash(_("%(block)s is locked: stores show HQ's content.", block=label) if locked else
          _("Stores may now edit %(block)s.", block=label), "success")
    return _editor(scope, template) if htmx else _back_to_editor(template)


@bp.route("/templates/<int:template_id>/blocks/<key>/delete", methods=["POST"])
@roles_required(*roles.ADMINS)
@_editor_action
def delete_block(template_id: int, key: str):
    scope = current_scope()
    template = get_template_or_404(scope, template_id)
    services.check_revision(template, _seen_revision())
    block = _draft_block_or_404(template, key)
    services.remove_block(scope, template, key, actor=scope.user, revision=_seen_revision())
    flash(_("%(block)s deleted from the draft. Published versions keep it.", block=BLOCK_LABELS[block["type"]]),
          "success")
    return _editor(scope, template) if htmx else _back_to_editor(template)


@bp.route("/templates/<int:template_id>/publish", methods=["POST"])
@roles_required(*roles.ADMINS)
@_editor_action
def publish(template_id: int):
    scope = current_scope()
    template = get_template_or_404(scope, template_id)
    form = PublishForm()
    if form.validate_on_submit():
        latest = template.versions[0] if template.versions else None
        try:
            services.check_revision(template, _seen_revision(), publishing=True)
            if latest is not None and latest.blocks == template.draft:
                raise RuleError(_("Nothing changed since v%(n)s: push that version instead.", n=latest.number))
            version = services.publish(scope, template, form.note.data or "", actor=scope.user,
                                       revision=_seen_revision())
        except Conflict:
            raise
        except RuleError as exc:
            rule_error(form, exc, at="note")
        else:
            flash(_("Published v%(n)s. It reaches no store until you push it.", n=version.number), "success")
            return _back_to_editor(template)
    return _editor(scope, template, publish_form=form, status=422)


@bp.route("/templates/<int:template_id>/versions/<int:number>")
@roles_required(*roles.ADMINS)
def view_version(template_id: int, number: int):
    scope = current_scope()
    template = get_template_or_404(scope, template_id)
    version = get_version_or_404(template, number)
    info = next(v for v in _versions(scope, template) if v["version"].id == version.id)
    store = _sample_store(scope)
    return render_template("decoration/version.html", template=template, version=version, info=info,
                           store=store, preview=preview_data(store, version.blocks))


@bp.route("/templates/<int:template_id>/sample-stores")
@roles_required(*roles.ADMINS)
def find_sample_stores(template_id: int):
    """The few stores in scope whose name or code matches: the sample store picker's options."""
    scope = current_scope()
    template = get_template_or_404(scope, template_id)
    q = request.args.get("q", "").strip()[:50]
    stmt = select(Store).where(scope.stores())
    if q:
        stmt = stmt.where(Store.code.ilike(f"%{q}%") | Store.name.like(f"%{q}%") | Store.city.like(f"%{q}%"))
    stores = db.session.scalars(stmt.order_by(Store.code).limit(SAMPLE_RESULTS)).all()
    return _partial_or_page("decoration/_sample_stores.html", "decoration/sample_stores.html", template=template,
                            stores=stores, q=q, chosen=parse_id(session.get(SAMPLE_STORE)))


@bp.route("/templates/<int:template_id>/sample-store", methods=["POST"])
@roles_required(*roles.ADMINS)
def set_sample_store(template_id: int):
    """Preview with this store's goods, prices and coupons (``store_id`` empty: placeholders)."""
    scope = current_scope()
    template = get_template_or_404(scope, template_id)
    raw = request.form.get("store_id", "").strip()
    if raw:
        store = get_store_or_404(scope, parse_id(raw) or 0)          # another distributor's store: 404
        session[SAMPLE_STORE] = store.id
        flash(_("The preview now shows %(store)s’s own goods, prices and coupons.", store=store.name), "success")
    else:
        session.pop(SAMPLE_STORE, None)
        flash(_("The preview shows sample data again."), "info")
    return _editor(scope, template) if htmx else _back_to_editor(template)


@bp.route("/templates/<int:template_id>/versions/<int:number>/push", methods=["GET", "POST"])
@roles_required(*roles.ADMINS)
def push_version(template_id: int, number: int):
    scope = current_scope()
    template = get_template_or_404(scope, template_id)
    version = get_version_or_404(template, number)
    form, saved = prepare_push_form(scope)
    if request.method == "POST":
        push = start_push(scope, form, saved, kind="template", payload_id=version.id,
                          label=f"{template.name} v{version.number}")
        if push is not None:
            flash(_("Pushing %(what)s. Stores that already have it are skipped.",
                    what=f"{template.name} v{version.number}"), "success")
            return redirect(url_for("pushes.view_push", push_id=push.id))
    spec = form.chosen_spec(saved)[0]
    info = next(v for v in _versions(scope, template) if v["version"].id == version.id)
    return render_template("decoration/push.html", template=template, version=version, info=info, form=form,
                           reach=target_services.reach(scope, spec), errors=[],
                           action=url_for("decoration.push_version", template_id=template.id,
                                          number=version.number)), form_status()


# --------------------------------------------------------------------------- a store's page

def _store_page(scope: Scope, store: Store, *, editable: bool, editing: str | None = None, form=None,
                status: int = 200):
    page = services.effective_page(store)
    return _partial_or_page("decoration/_page.html", "decoration/page.html", status, page=page, store=store,
                            editable=editable, editing=editing, form=form,
                            preview=preview_data(store, page.blocks))


def _page_block_or_404(page: services.EffectivePage, key: str) -> dict:
    block = next((b for b in page.blocks if b["key"] == key), None)
    if block is None:
        abort(404)
    return block


@bp.route("/my/page")
@roles_required(roles.STORE_OWNER)
def my_page():
    scope = current_scope()
    return _store_page(scope, get_store_or_404(scope, scope.store_id), editable=True)


@bp.route("/stores/<int:store_id>/page")
@roles_required(*roles.STAFF)
def view_store_page(store_id: int):
    """A store's effective page as its customers see it, read-only, for the people above it."""
    scope = current_scope()
    return _store_page(scope, get_store_or_404(scope, store_id), editable=False)


@bp.route("/stores/<int:store_id>/page/blocks/<key>", methods=["GET", "POST"])
@roles_required(roles.STORE_OWNER)
def edit_page_block(store_id: int, key: str):
    scope = current_scope()
    store = get_store_or_404(scope, store_id)          # another store's page: 404
    block = _page_block_or_404(services.effective_page(store), key)
    if block["locked"]:
        abort(403, _("HQ has locked this block."))
    if request.method == "POST":
        form = form_for(block["type"], formdata=request.form)
        if form.validate():
            try:
                services.save_override(scope, store, key, data_of(form), actor=scope.user)
            except RuleError as exc:
                abort(403, exc.message)
            flash(_("Saved. Customers see your %(block)s the next time they open the mini-program.",
                    block=BLOCK_LABELS[block["type"]]), "success")
            if htmx:
                return _store_page(scope, store, editable=True)
            return redirect(url_for("decoration.my_page"))
    else:
        form = form_for(block["type"], block["data"])
    _pad(form)
    return _store_page(scope, store, editable=True, editing=key, form=form, status=form_status())


@bp.route("/stores/<int:store_id>/page/blocks/<key>/reset", methods=["POST"])
@roles_required(roles.STORE_OWNER)
def reset_page_block(store_id: int, key: str):
    scope = current_scope()
    store = get_store_or_404(scope, store_id)
    if services.reset_override(scope, store, key, actor=scope.user):
        flash(_("Back to HQ's content."), "success")
    else:
        flash(_("There was nothing of yours to reset."), "info")
    if htmx:
        return _store_page(scope, store, editable=True)
    return redirect(url_for("decoration.my_page"))
