"""A member's identities (One ID), service relationship and personal data.

The member page (``members`` blueprint, another module) includes ``members/_identities.html``,
``_bindings.html`` and ``_personal.html`` with ``member`` in its context; they read what they show
from the template globals below. ``/members/<id>/identity`` shows the three on a page of their own
(and is where this blueprint's forms come back to). Who may do what:

- everyone whose scope holds the member reads it (owners: their store's members);
- HQ and distributor admins rebind by hand and merge / unmerge (within their subtree);
- HQ admins alone read the phone in full, export and erase (``services.can_see_phone``).
"""
from __future__ import annotations

import json

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.routing import BuildError

from portal.extensions import db, htmx
from portal.kernel.errors import Conflict, RuleError
from portal.kernel.forms import rule_error
from portal.members import services
from portal.members.forms_identity import MergeForm, RebindForm
from portal.members.models import ACTIVE, ERASED, MERGED, Guide, Member
from portal.org import roles
from portal.org import services as org_services
from portal.org.access import current_scope, roles_required
from portal.org.models import Store

bp = Blueprint("member_identity", __name__)

CAUSE_LABELS_KEYS = ("signup", "share", "order", "manual", "merge", "unmerge", "guide_left", "erased")


def _cause_labels() -> dict[str, str]:
    return {"signup": _("Sign-up"), "share": _("Share"), "order": _("Placed an order"), "manual": _("Manual"),
            "merge": _("Merge"), "unmerge": _("Unmerge"), "guide_left": _("Guide left"), "erased": _("Erased")}


def _rule_labels() -> dict[str, str]:
    return {"unionid": _("Same UnionID"), "phone": _("Same verified phone"), "manual": _("By hand")}


# ---------------------------------------------------------------- what the partials read


@bp.app_template_global()
def member_identity_view(member: Member) -> dict:
    """Everything the three partials show about ``member``, as the viewer may see it."""
    scope = current_scope()
    merges = services.merges_of(member)
    others = {m.survivor_id for m in merges} | {m.absorbed_id for m in merges}
    names = dict(db.session.execute(select(Member.id, Member.nickname).where(Member.id.in_(others))).all()) \
        if others else {}
    referrer = db.session.get(Member, member.referrer_id) if member.referrer_id else None
    guide = db.session.get(Guide, member.guide_id) if member.guide_id else None
    store = db.session.get(Store, member.store_id) if member.store_id else None
    return {
        "identities": services.identities_of(member),
        "bindings": services.bindings_of(member),
        "merges": merges,
        "names": names,
        "referrer": referrer,
        "store": store,
        "guide": guide,
        "protected_until": services.protected_until(member),
        "phone": services.phone_of(scope, member),
        "phone_plain": services.can_see_phone(scope),
        "can_manage": scope.user.role in roles.ADMINS and member.status == ACTIVE,
        "can_personal": services.can_manage_personal_data(scope) and member.status == ACTIVE,
        "cause_labels": _cause_labels(),
        "rule_labels": _rule_labels(),
        "statuses": {ACTIVE: _("Active member"), MERGED: _("Merged"), ERASED: _("Erased")},
    }


@bp.app_template_global()
def member_page_url(member_id: int) -> str:
    """The member's page: the member list's page when the app has it, else the identity page."""
    for endpoint in ("members.view_member", "members.view"):
        try:
            return url_for(endpoint, member_id=member_id)
        except BuildError:
            continue
    return url_for("member_identity.view_member", member_id=member_id)


# ---------------------------------------------------------------- pages


def _member(member_id: int) -> Member:
    return services.get_member_or_404(current_scope(), member_id)


def _page(member: Member, *, rebind_form=None, merge_form=None, candidates=None, q: str = "", status: int = 200):
    return render_template("members/identity.html", member=member, rebind_form=rebind_form or _rebind_form(member),
                           merge_form=merge_form or MergeForm(formdata=None), candidates=candidates, q=q), status


def _partial(name: str, member: Member, status: int = 200, **ctx):
    ctx.setdefault("rebind_form", _rebind_form(member))
    ctx.setdefault("merge_form", MergeForm(formdata=None))
    response = Response(render_template(f"members/{name}", member=member, **ctx), status)
    response.vary.add("HX-Request")
    return response


def _rebind_form(member: Member, store: Store | None = None, formdata=None) -> RebindForm:
    form = RebindForm(formdata=formdata)
    if formdata is None:
        current = store or (db.session.get(Store, member.store_id) if member.store_id else None)
        form.store_code.data = current.code if current else ""
        form.guide_id.data = str(member.guide_id or "") if store is None else ""
    return _fill_guides(form, store or (db.session.get(Store, member.store_id) if member.store_id else None))


def _fill_guides(form: RebindForm, store: Store | None) -> RebindForm:
    form.store = store                  # the store chosen, shown by name above the picker
    guides = services.active_guides(store) if store else []
    form.guide_id.choices = [("", _("No guide (the store serves them)"))] + \
        [(str(g.id), f"{g.name} · {g.code}") for g in guides]
    return form


@bp.route("/members/<int:member_id>/identity")
@roles_required(*roles.ALL)
def view_member(member_id: int):
    member = _member(member_id)
    if member.status == MERGED:
        survivor = services.survivor_of(member)
        if db.session.scalar(select(Member.id).where(Member.id == survivor.id, services.visible(current_scope()))):
            flash(_("Member #%(old)s was merged into #%(new)s.", old=member.id, new=survivor.id), "info")
            return redirect(url_for("member_identity.view_member", member_id=survivor.id))
    return _page(member)


def _store_in_scope(code: str) -> Store | None:
    return db.session.scalar(select(Store).where(Store.code == code, current_scope().stores()))


STORE_CHOICES = 8


@bp.route("/members/<int:member_id>/rebind/stores")
@roles_required(*roles.ADMINS)
def rebind_stores(member_id: int):
    """htmx: the rebind form's store picker — up to 8 active stores of the scope whose name,
    code or city matches ``q`` (all of them by code when ``q`` is empty), each a button that
    shows the form again with that store and its guides."""
    member = _member(member_id)
    q = (request.args.get("q") or "").strip()[:50]
    stmt = org_services.filtered_stores(current_scope(), org_services.StoreFilter(q=q, status=roles.STORE_ACTIVE))
    stores = db.session.scalars(stmt.order_by(Store.code).limit(STORE_CHOICES + 1)).all()
    response = Response(render_template("members/_rebind_stores.html", member=member, stores=stores[:STORE_CHOICES],
                                        more=len(stores) > STORE_CHOICES, q=q))
    response.vary.add("HX-Request")
    return response


@bp.route("/members/<int:member_id>/rebind", methods=["GET", "POST"])
@roles_required(*roles.ADMINS)
def rebind(member_id: int):
    """GET (htmx): the form again with the guides of the store typed; POST: bind by hand."""
    member = _member(member_id)
    scope = current_scope()
    if request.method == "GET":
        code = (request.args.get("store_code") or "").strip()
        store = _store_in_scope(code) if code else None
        form = _rebind_form(member, store=store) if store else _rebind_form(member)
        if code:
            form.store_code.data = code
            if store is None:
                form.store = None
                form.store_code.errors = [_("No store with this code in your scope.")]
        return _partial("_bindings.html", member, rebind_form=form)
    form = RebindForm()
    store = _store_in_scope(form.store_code.data or "") if form.store_code.data else None
    _fill_guides(form, store)
    ok = form.validate_on_submit()
    if ok and store is None:
        form.store_code.errors = [_("No store with this code in your scope.")]
        ok = False
    guide = None
    if ok and form.guide_id.data:
        guide = db.session.scalar(select(Guide).where(Guide.id == _int(form.guide_id.data), Guide.store_id == store.id,
                                                      Guide.active.is_(True)))
        if guide is None:
            form.guide_id.errors = [_("Pick one of this store's active guides.")]
            ok = False
    if ok:
        try:
            changed = services.rebind(scope, member, store, guide, actor=scope.user, note=form.note.data or "")
        except Conflict:
            raise
        except RuleError as exc:
            rule_error(form, exc, default="store_code")
        else:
            message = (_("Member is now served by %(store)s.", store=store.name + (f" · {guide.name}" if guide else ""))
                       if changed else _("Nothing changed: the member is already served this way."))
            if htmx:
                db.session.flush()
                response = _partial("_bindings.html", member, notice=message)
                return response
            flash(message, "success" if changed else "info")
            return redirect(url_for("member_identity.view_member", member_id=member.id), 303)
    db.session.rollback()
    member = _member(member_id)
    if htmx:
        return _partial("_bindings.html", member, status=422, rebind_form=form)
    return _page(member, rebind_form=form, status=422)


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@bp.route("/members/<int:member_id>/merge-candidates")
@roles_required(*roles.ADMINS)
def merge_candidates(member_id: int):
    member = _member(member_id)
    q = (request.args.get("q") or "").strip()[:40]
    found = services.merge_candidates(current_scope(), member, q) if q else []
    response = Response(render_template("members/_merge_candidates.html", member=member, candidates=found, q=q))
    response.vary.add("HX-Request")
    if not htmx:
        html, status = _page(member, candidates=found, q=q)
        response = Response(html, status)
        response.vary.add("HX-Request")
    return response


@bp.route("/members/<int:member_id>/merge", methods=["POST"])
@roles_required(*roles.ADMINS)
def merge(member_id: int):
    """Merge the picked member (in scope, active) into this one."""
    member = _member(member_id)
    scope = current_scope()
    form = MergeForm()
    ok = form.validate_on_submit()
    absorbed = None
    if ok:
        absorbed = db.session.scalar(select(Member).where(Member.id == form.absorbed_id.data, services.visible(scope)))
        if absorbed is None:
            form.absorbed_id.errors = [_("Pick a member of your scope.")]
            ok = False
    if ok:
        try:
            services.merge(scope, member, absorbed, rule="manual", reason=form.reason.data, actor=scope.user)
        except Conflict:
            raise
        except RuleError as exc:
            rule_error(form, exc, default="absorbed_id")
        else:
            message = _("Member #%(old)s merged into this one. It can be undone from the merge history.",
                        old=absorbed.id)
            if htmx:
                return _partial("_identities.html", member, notice=message)
            flash(message, "success")
            return redirect(url_for("member_identity.view_member", member_id=member.id), 303)
    db.session.rollback()
    member = _member(member_id)
    if htmx:
        return _partial("_identities.html", member, status=422, merge_form=form)
    return _page(member, merge_form=form, status=422)


@bp.route("/merges/<int:merge_id>/undo", methods=["POST"])
@roles_required(*roles.ADMINS)
def undo_merge(merge_id: int):
    scope = current_scope()
    record = services.get_merge_or_404(scope, merge_id)
    member = db.session.get(Member, record.survivor_id)
    try:
        services.unmerge(scope, record, actor=scope.user)
    except Conflict:
        raise
    except RuleError as exc:
        message, ok = exc.message, False
    else:
        message, ok = _("Merge undone: member #%(id)s has its own identities, bindings and orders again.",
                        id=record.absorbed_id), True
    if htmx:
        return _partial("_identities.html", member, status=200 if ok else 422, notice=message if ok else None,
                        error=None if ok else message)
    flash(message, "success" if ok else "danger")
    return redirect(url_for("member_identity.view_member", member_id=member.id), 303)


@bp.route("/members/<int:member_id>/export.json")
@roles_required(roles.HQ_ADMIN)
def export_member(member_id: int):
    scope = current_scope()
    member = _member(member_id)
    if not services.can_manage_personal_data(scope):
        abort(403)
    data = services.export_member(scope, member)
    body = json.dumps(data, ensure_ascii=False, indent=2, default=str)
    response = Response(body, mimetype="application/json")
    response.headers["Content-Disposition"] = f'attachment; filename="member-{member.id}.json"'
    return response


@bp.route("/members/<int:member_id>/erase", methods=["POST"])
@roles_required(roles.HQ_ADMIN)
def erase_member(member_id: int):
    scope = current_scope()
    member = _member(member_id)
    try:
        services.erase_member(scope, member, actor=scope.user)
    except Conflict:
        raise
    except RuleError as exc:
        flash(exc.message, "danger")
        return redirect(url_for("member_identity.view_member", member_id=member.id), 303)
    flash(_("The member's personal data was erased; their orders stay in the figures."), "success")
    return redirect(url_for("member_identity.view_member", member_id=member.id), 303)
