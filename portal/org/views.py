"""Org tree, stores and users. Views load through the scope, check the role, call a service."""
from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from portal.audit.services import query_entries
from portal.extensions import db, htmx
from portal.i18n import ngettext
from portal.kernel.errors import Conflict, RuleError
from portal.kernel.forms import form_status, rule_error
from portal.kernel.ids import parse_id
from portal.kernel.tabular import XLSX_MIMETYPE
from portal.org import roles, services, store_csv
from portal.org.access import current_scope, roles_required
from portal.org.forms import (
    KIND_LABELS,
    ROLE_LABELS,
    EditUserForm,
    ImportForm,
    MoveNodeForm,
    NodeForm,
    RenameNodeForm,
    ResetPasswordForm,
    StoreForm,
    UserForm,
    options,
    tag_text,
)
from portal.org.models import OrgNode, User
from portal.org.scope import get_node_or_404, get_store_or_404, get_user_or_404
from portal.org.services import StoreFilter
from portal.web import NavEntry, import_done_response, run_csv_import

bp = Blueprint("org", __name__)
# Its sections of the navigation (assembled by the app factory, see portal.web.NavEntry).
NAV = (
    NavEntry(
        "org.list_stores",
        _l("Stores"),
        "building-store",
        roles.STAFF,
        order=20,
        pages=frozenset(
            {
                "org.list_stores",
                "org.view_store",
                "org.create_store",
                "org.edit_store",
                "org.import_stores",
                "org.store_template",
                "decoration.view_store_page",
                "shelf.view_store_goods",
            }
        ),
    ),
    NavEntry(
        "org.tree",
        _l("Organization"),
        "sitemap",
        roles.STAFF,
        order=30,
        pages=frozenset({"org.tree", "org.create_node", "org.edit_node"}),
    ),
    NavEntry(
        "org.list_users",
        _l("Users"),
        "users",
        roles.ADMINS,
        order=130,
        pages=frozenset({"org.list_users", "org.create_user", "org.edit_user", "org.reset_password"}),
    ),
)


def _node_choices(nodes) -> list[tuple[int, str]]:
    base = min((n.depth for n in nodes), default=0)
    kinds = {kind: str(label) for kind, label in KIND_LABELS.items()}     # translated once, not per node
    return [(n.id, f"{'　' * (n.depth - base)}{n.name} · {kinds[n.kind]} · {n.code}") for n in nodes]


# --------------------------------------------------------------------------- tree

@bp.route("/org")
@roles_required(*roles.STAFF)
def tree():
    return render_template("org/tree.html", tree=services.build_tree(current_scope()))


@bp.route("/org/nodes/new", methods=["GET", "POST"])
@roles_required(*roles.ADMINS)
def create_node():
    scope = current_scope()
    form = NodeForm()
    parents = services.scoped_nodes(scope, roles.HQ, roles.DISTRIBUTOR)
    form.parent_id.choices = options(_node_choices(parents))
    if request.method == "GET" and parse_id(request.args.get("parent")):
        form.parent_id.data = parse_id(request.args["parent"])
    if form.validate_on_submit():
        parent = get_node_or_404(scope, form.parent_id.data)
        try:
            node = services.create_node(scope, parent, form.kind.data, form.code.data, form.name.data,
                                        actor=scope.user)
        except RuleError as exc:
            rule_error(form, exc)
        else:
            flash(_("%(name)s was added.", name=node.name), "success")
            return redirect(url_for("org.tree"))
    return render_template("org/node_form.html", form=form), form_status()


@bp.route("/org/nodes/<int:node_id>/edit", methods=["GET", "POST"])
@roles_required(*roles.ADMINS)
def edit_node(node_id: int):
    scope = current_scope()
    node = get_node_or_404(scope, node_id)
    if node.path == scope.path:
        abort(403)      # the node one is bound to is changed from above
    rename = RenameNodeForm(obj=node, prefix="rename")
    move = MoveNodeForm(prefix="move")
    move.parent_id.choices = options(_node_choices(
        services.scoped_nodes(scope, roles.PARENT_KIND.get(node.kind, roles.HQ))))
    if request.method == "GET":
        move.parent_id.data = node.parent_id
    status = 200
    if request.method == "POST":
        status = 422
        if request.form.get("action") == "move" and move.validate_on_submit():
            new_parent = get_node_or_404(scope, move.parent_id.data)
            try:
                moved = services.move_node(scope, node, new_parent, actor=scope.user)
            except RuleError as exc:
                rule_error(move, exc)
            else:
                flash(ngettext("Moved under %(parent)s, with %(num)s store.",
                               "Moved under %(parent)s, with %(num)s stores.",
                               moved, parent=new_parent.name), "success")
                return redirect(url_for("org.tree"))
        elif request.form.get("action") == "rename" and rename.validate_on_submit():
            services.rename_node(scope, node, rename.name.data, actor=scope.user)
            flash(_("Renamed to %(name)s.", name=node.name), "success")
            return redirect(url_for("org.tree"))
    return render_template("org/node_edit.html", node=node, rename=rename, move=move), status


# --------------------------------------------------------------------------- stores

@bp.route("/stores")
@roles_required(*roles.STAFF)
def list_stores():
    scope = current_scope()
    flt = StoreFilter.from_args(request.args)
    page = services.list_stores(scope, flt)
    ctx = dict(page=page, flt=flt, query=urlencode(flt.args(page=1)))
    if htmx and htmx.target == "store-rows":
        return render_template("org/_store_rows.html", **ctx)
    nodes, tags = services.store_filter_menus(scope)
    return render_template("org/stores.html", nodes=_node_choices(nodes), tags=tags, **ctx)


@bp.route("/stores/new", methods=["GET", "POST"])
@roles_required(*roles.ADMINS)
def create_store():
    scope = current_scope()
    form = StoreForm()
    form.node_id.choices = options(_node_choices(services.store_parent_choices(scope)))
    if form.validate_on_submit():
        node = get_node_or_404(scope, form.node_id.data)
        try:
            store = services.create_store(scope, form.store_data(), node, services.parse_tags(form.tags.data),
                                          actor=scope.user)
        except RuleError as exc:
            rule_error(form, exc)
        else:
            flash(_("Store %(name)s was created.", name=store.name), "success")
            return redirect(url_for("org.view_store", store_id=store.id))
    return render_template("org/store_form.html", form=form, store=None), form_status()


@bp.route("/stores/<int:store_id>")
@roles_required(*roles.ALL)
def view_store(store_id: int):
    scope = current_scope()
    store = get_store_or_404(scope, store_id)
    owners = db.session.scalars(select(User).where(User.store_id == store.id).order_by(User.username)).all()
    history = []
    if scope.role in roles.ADMINS:
        from portal.audit.models import AuditEntry
        history = db.session.scalars(
            query_entries(scope).where(AuditEntry.object_type == "store", AuditEntry.object_id == store.id).limit(10)
        ).all()
    breadcrumbs = db.session.scalars(
        select(OrgNode).where(OrgNode.id.in_([int(p) for p in store.path.strip("/").split("/")]))
        .order_by(OrgNode.depth)).all()
    return render_template("org/store.html", store=store, owners=owners, history=history,
                           breadcrumbs=[n for n in breadcrumbs if scope.covers_path(n.path)])


@bp.route("/stores/<int:store_id>/edit", methods=["GET", "POST"])
@roles_required(*roles.ADMINS)
def edit_store(store_id: int):
    scope = current_scope()
    store = get_store_or_404(scope, store_id)
    # A post is read as posted: a field left out is blank, never the stored value (tags are Tag rows).
    form = StoreForm(obj=store) if request.method == "GET" else StoreForm()
    form.node_id.choices = options(_node_choices(services.store_parent_choices(scope)))
    if request.method == "GET":
        form.tags.data = tag_text(store.tag_names)
    if form.validate_on_submit():
        node = get_node_or_404(scope, form.node_id.data)
        try:
            changes = services.update_store(scope, store, form.store_data(), node,
                                            services.parse_tags(form.tags.data), actor=scope.user)
        except RuleError as exc:
            rule_error(form, exc)
        else:
            flash(_("Saved.") if changes else _("Nothing changed."), "success")
            return redirect(url_for("org.view_store", store_id=store.id))
    return render_template("org/store_form.html", form=form, store=store), form_status()


@bp.route("/stores/<int:store_id>/status", methods=["POST"])
@roles_required(*roles.ADMINS)
def set_store_status(store_id: int):
    scope = current_scope()
    store = get_store_or_404(scope, store_id)
    status = request.form.get("status", "")
    if status not in roles.STORE_STATUSES:
        abort(400, _("Unknown status."))
    services.set_store_status(scope, store, status, actor=scope.user)
    flash(_("Status of %(name)s updated.", name=store.name), "success")
    return redirect(url_for("org.view_store", store_id=store.id))


@bp.route("/stores/bulk", methods=["POST"])
@roles_required(*roles.ADMINS)
def bulk_stores():
    scope = current_scope()
    query = request.form.get("filter", "")
    flt = StoreFilter.from_args(dict(parse_qsl(query))) if request.form.get("all_matching") == "1" else None
    selection = services.selected_store_ids(scope, request.form.getlist("ids"), flt)
    action = request.form.get("action", "")
    back = url_for("org.list_stores") + ("?" + query if query else "")
    try:
        if action in roles.STORE_STATUSES:
            n = services.bulk_set_status(scope, selection, action, actor=scope.user)
            flash(ngettext("%(num)s store set to “%(status)s”.", "%(num)s stores set to “%(status)s”.", n,
                           status=_status_label(action)), "success")
        elif action == "tag":
            n = services.bulk_add_tag(scope, selection, request.form.get("tag", ""), actor=scope.user)
            flash(ngettext("Tag added to %(num)s store.", "Tag added to %(num)s stores.", n),
                  "success")
        else:
            flash(_("Choose a bulk action first: nothing was changed."), "warning")
    except RuleError as exc:
        flash(exc.message, "danger")
        return redirect(back, 303)
    return redirect(back, 303)


def _status_label(status: str) -> str:
    from portal.org.forms import STATUS_LABELS
    return str(STATUS_LABELS[status])


@bp.route("/stores/import", methods=["GET", "POST"])
@roles_required(*roles.ADMINS)
def import_stores():
    scope = current_scope()
    form = ImportForm()
    result, ok = run_csv_import(
        form, lambda raw, name: store_csv.import_stores(scope, raw, actor=scope.user, filename=name),
        conflict=_("Some of these stores were created by someone else just now. "
                   "Nothing was imported; please try again."),
        done=lambda r: ngettext("Imported %(num)s row: %(created)s created, %(updated)s updated, "
                                "%(unchanged)s unchanged.",
                                "Imported %(num)s rows: %(created)s created, %(updated)s updated, "
                                "%(unchanged)s unchanged.",
                                r.rows, created=format_decimal(r.created),
                                updated=format_decimal(r.updated), unchanged=format_decimal(r.unchanged)))
    if ok:
        return import_done_response(url_for("org.list_stores"))
    status = form_status()
    template = "org/_import_result.html" if htmx else "org/import.html"
    return render_template(template, form=form, result=result, columns=store_csv.COLUMNS,
                           required=store_csv.REQUIRED), status


@bp.route("/stores/export.csv")
@roles_required(*roles.STAFF)
def export_stores():
    scope = current_scope()
    flt = StoreFilter.from_args(request.args)
    # Built whole (10,000 stores is about 2 MB): a streamed body would outlive the request's session.
    return Response("".join(store_csv.export_rows(scope, flt)), mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=stores.csv"})


@bp.route("/stores/export.xlsx")
@roles_required(*roles.STAFF)
def export_stores_xlsx():
    """The same export as an Excel workbook (the list's filters apply)."""
    scope = current_scope()
    flt = StoreFilter.from_args(request.args)
    return Response(store_csv.export_xlsx(scope, flt), mimetype=XLSX_MIMETYPE,
                    headers={"Content-Disposition": "attachment; filename=stores.xlsx"})


@bp.route("/stores/import/template.xlsx")
@roles_required(*roles.ADMINS)
def store_template():
    """A blank import template, with the user's regions and the status words beside it."""
    return Response(store_csv.template_xlsx(current_scope()), mimetype=XLSX_MIMETYPE,
                    headers={"Content-Disposition": "attachment; filename=store-import-template.xlsx"})


# --------------------------------------------------------------------------- users

def _user_form_choices(form, scope) -> None:
    form.role.choices = options((r, ROLE_LABELS[r]) for r in services.assignable_roles(scope))
    form.node_id.choices = options([("", "—")] + _node_choices(services.scoped_nodes(scope)))


@bp.route("/users")
@roles_required(*roles.ADMINS)
def list_users():
    scope = current_scope()
    q = request.args.get("q", "").strip()[:64]
    users = db.session.scalars(services.scoped_users(scope, q).limit(500)).all()
    total = db.session.scalar(select(func.count()).select_from(services.scoped_users(scope, q).subquery()))
    if htmx and htmx.target == "user-rows":
        return render_template("org/_user_rows.html", users=users, total=total)
    return render_template("org/users.html", users=users, total=total, q=q)


@bp.route("/users/new", methods=["GET", "POST"])
@roles_required(*roles.ADMINS)
def create_user():
    scope = current_scope()
    form = UserForm()
    _user_form_choices(form, scope)
    if form.validate_on_submit():
        try:
            user = services.create_user(scope, username=form.username.data, display_name=form.display_name.data or "",
                                        role=form.role.data, node_id=form.node_id.data,
                                        store_code=form.store_code.data or "", password=form.password.data,
                                        actor=scope.user)
        except RuleError as exc:
            rule_error(form, exc)
        else:
            flash(_("User %(name)s was created.", name=user.username), "success")
            return redirect(url_for("org.list_users"))
    return render_template("org/user_form.html", form=form, user=None), form_status()


@bp.route("/users/<int:user_id>/edit", methods=["GET", "POST"])
@roles_required(*roles.ADMINS)
def edit_user(user_id: int):
    scope = current_scope()
    user = get_user_or_404(scope, user_id)
    form = EditUserForm(obj=user)
    _user_form_choices(form, scope)
    if request.method == "GET" and user.store is not None:
        form.store_code.data = user.store.code
    if form.validate_on_submit():
        try:
            services.update_user(scope, user, display_name=form.display_name.data or "", role=form.role.data,
                                 node_id=form.node_id.data, store_code=form.store_code.data or "",
                                 actor=scope.user)
        except RuleError as exc:
            rule_error(form, exc)
        else:
            flash(_("Saved."), "success")
            return redirect(url_for("org.list_users"))
    return render_template("org/user_form.html", form=form, user=user, reset=ResetPasswordForm()), form_status()


@bp.route("/users/<int:user_id>/active", methods=["POST"])
@roles_required(*roles.ADMINS)
def set_user_active(user_id: int):
    scope = current_scope()
    user = get_user_or_404(scope, user_id)
    if request.form.get("active") not in ("0", "1"):
        abort(400, _("Say whether the user should be enabled or disabled."))
    active = request.form.get("active") == "1"
    try:
        services.set_user_active(scope, user, active, actor=scope.user)
    except Conflict:
        raise                   # another admin's change landed first: 409
    except RuleError as exc:
        abort(403, exc.message)
    flash(_("%(name)s can sign in again.", name=user.username) if active else
          _("%(name)s is disabled and has been signed out everywhere.", name=user.username), "success")
    return redirect(url_for("org.list_users"))


@bp.route("/users/<int:user_id>/password", methods=["POST"])
@roles_required(*roles.ADMINS)
def reset_password(user_id: int):
    scope = current_scope()
    user = get_user_or_404(scope, user_id)
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            services.reset_password(scope, user, form.password.data, actor=scope.user)
        except RuleError as exc:
            abort(403, exc.message)
        flash(_("The password of %(name)s was reset.", name=user.username), "success")
        return redirect(url_for("org.edit_user", user_id=user.id))
    edit = EditUserForm(obj=user)
    _user_form_choices(edit, scope)
    return render_template("org/user_form.html", form=edit, user=user, reset=form), 422
