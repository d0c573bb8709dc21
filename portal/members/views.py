"""Members: the scoped list with its search and filters, the member page, tags, tiers, groups.

Who does what (decided for issue 10): everyone reads the members of their scope (owners their
store's); tags and tiers are brand-wide lists HQ keeps; HQ, distributors and store owners apply
tags to the members they see (regional managers read only); groups (audiences) are made by HQ and
distributor admins, owned by their node like targets.
"""
from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal.extensions import db, htmx
from portal.i18n import ngettext
from portal.jobs import enqueue
from portal.kernel.errors import RuleError
from portal.kernel.forms import form_status, rule_error
from portal.kernel.ids import parse_id, parse_ids
from portal.members import audiences as services
from portal.members.audiences import SEGMENT_LABELS, SORT_LABELS, MemberFilter
from portal.members.forms import GroupForm, TagForm, TierForm
from portal.members.models import FILTER, FIXED, Guide, MemberTag, MemberTier
from portal.members.tasks import reassign_tiers
from portal.org import roles
from portal.org.access import current_scope, roles_required
from portal.org.models import Store
from portal.web import NavEntry

bp = Blueprint("members", __name__)
NAV = (
    NavEntry("members.list_members", _l("Members"), "users", roles.ALL, order=25,
             pages=frozenset({"members.list_members", "members.view_member"})),
    NavEntry("members.list_groups", _l("Member groups"), "target", roles.ADMINS, order=118,
             pages=frozenset({"members.list_groups", "members.edit_group"})),
    NavEntry("members.list_tags", _l("Member tags and tiers"), "tag", (roles.HQ_ADMIN,), order=125,
             pages=frozenset({"members.list_tags", "members.list_tiers", "members.edit_tier"})),
)
# Who applies tags to the members they see.
TAGGERS = (roles.HQ_ADMIN, roles.DISTRIBUTOR_ADMIN, roles.STORE_OWNER)
HQ = (roles.HQ_ADMIN,)
VARY = {"Vary": "HX-Request"}


# --------------------------------------------------------------------------- the list

@bp.route("/members")
@roles_required(*roles.ALL)
def list_members():
    scope = current_scope()
    flt = MemberFilter.from_args(request.args)
    page = services.list_members(scope, flt)
    menus = services.filter_menus(scope, flt)
    ctx = dict(page=page, flt=flt, menus=menus, query=urlencode(flt.args(page=1)), segments=SEGMENT_LABELS,
               sorts=SORT_LABELS, group=services.get_group(scope, flt.group_id) if flt.group_id else None,
               can_tag=scope.role in TAGGERS, can_group=scope.role in roles.ADMINS)
    if htmx and htmx.target == "member-rows":
        return render_template("members/_member_rows.html", oob=True, **ctx), VARY
    return render_template("members/list.html", **ctx), VARY


@bp.route("/members/bulk", methods=["POST"])
@roles_required(*TAGGERS)
def bulk_members():
    """Tag, untag, add to or remove from a group the ticked members: ids re-filtered through
    the scope in the one statement that writes."""
    scope = current_scope()
    query = request.form.get("filter", "")[:600]
    back = url_for("members.list_members") + ("?" + query if query else "")
    ids, action = request.form.getlist("ids"), request.form.get("action", "")
    if not parse_ids(ids):
        flash(_("Tick the members first: nothing was changed."), "warning")
        return redirect(back, 303)
    try:
        if action in ("tag", "untag"):
            n = services.bulk_tag(scope, ids, request.form.get("tag"), actor=scope.user, remove=action == "untag")
            flash(ngettext("Tag added to %(num)s member.", "Tag added to %(num)s members.", n) if action == "tag"
                  else ngettext("Tag removed from %(num)s member.", "Tag removed from %(num)s members.", n), "success")
        elif action in ("group", "ungroup") and scope.role in roles.ADMINS:
            if action == "group":
                group, n = services.bulk_add_to_group(scope, ids, request.form.get("group"), actor=scope.user)
                flash(ngettext("%(num)s member added to “%(name)s”.", "%(num)s members added to “%(name)s”.", n,
                               name=group.name), "success")
            else:
                group, n = services.bulk_remove_from_group(scope, ids, request.form.get("group"), actor=scope.user)
                flash(ngettext("%(num)s member removed from “%(name)s”.", "%(num)s members removed from “%(name)s”.",
                               n, name=group.name), "success")
        else:
            flash(_("Choose a bulk action first: nothing was changed."), "warning")
    except RuleError as exc:
        db.session.rollback()
        flash(exc.message, "danger")
    return redirect(back, 303)


# --------------------------------------------------------------------------- one member

@bp.route("/members/<int:member_id>")
@roles_required(*roles.ALL)
def view_member(member_id: int):
    scope = current_scope()
    member = services.get_member(scope, member_id)
    if member is None:
        abort(404)
    if member.merged_into_id and (survivor := services.survivor_of(member)):
        return redirect(url_for("members.view_member", member_id=survivor))
    return render_template("members/view.html", member=member, member_tier=db.session.get(MemberTier, member.tier_id)
                           if member.tier_id else None, bound_store=db.session.get(Store, member.store_id)
                           if member.store_id else None, bound_guide=db.session.get(Guide, member.guide_id)
                           if member.guide_id else None, **_tags_ctx(scope, member))


def _tags_ctx(scope, member) -> dict:
    return dict(all_tags=services.all_tags(), tag_ids=set(services.member_tag_ids(member)),
                can_tag=scope.role in TAGGERS, segments=SEGMENT_LABELS)


@bp.route("/members/<int:member_id>/tags", methods=["POST"])
@roles_required(*TAGGERS)
def set_member_tags(member_id: int):
    scope = current_scope()
    member = services.get_member(scope, member_id)
    if member is None or member.status != "active":
        abort(404)
    services.set_member_tags(scope, member, parse_ids(request.form.getlist("tag_ids")), actor=scope.user)
    if htmx:
        return render_template("members/_member_tags.html", member=member, saved=True,
                               **_tags_ctx(scope, member)), VARY
    flash(_("Tags saved."), "success")
    return redirect(url_for("members.view_member", member_id=member.id), 303)


# --------------------------------------------------------------------------- tags and tiers (HQ)

@bp.route("/members/tags", methods=["GET", "POST"])
@roles_required(*HQ)
def list_tags():
    scope = current_scope()
    form = TagForm()
    if form.validate_on_submit():
        try:
            tag = services.create_tag(scope, form.name.data, actor=scope.user)
        except RuleError as exc:
            rule_error(form, exc, default="name")
        else:
            flash(_("Tag “%(name)s” added.", name=tag.name), "success")
            if htmx:        # the whole page again, with the new tag in the list
                return "", 204, {"HX-Redirect": url_for("members.list_tags"), **VARY}
            return redirect(url_for("members.list_tags"), 303)
    ctx = dict(form=form, tags=services.all_tags(), counts=services.tag_counts(scope))
    if htmx and request.method == "POST":
        return render_template("members/_tag_form.html", **ctx), 422, VARY
    return render_template("members/tags.html", **ctx), form_status(), VARY


@bp.route("/members/tags/<int:tag_id>/delete", methods=["POST"])
@roles_required(*HQ)
def delete_tag(tag_id: int):
    scope = current_scope()
    tag = db.session.get(MemberTag, tag_id) or abort(404)
    services.delete_tag(scope, tag, actor=scope.user)
    flash(_("Tag “%(name)s” deleted.", name=tag.name), "success")
    return redirect(url_for("members.list_tags"), 303)


@bp.route("/members/tiers", methods=["GET", "POST"])
@bp.route("/members/tiers/<int:tier_id>/edit", methods=["GET", "POST"], endpoint="edit_tier")
@roles_required(*HQ)
def list_tiers(tier_id: int | None = None):
    scope = current_scope()
    tier = (db.session.get(MemberTier, tier_id) or abort(404)) if tier_id else None
    form = TierForm(obj=tier, data={"min_spent": tier.min_spent_fen} if tier else None)
    if form.validate_on_submit():
        try:
            tier = services.save_tier(scope, form.name.data, form.rank.data, form.min_spent.data, actor=scope.user,
                                      tier=tier)
        except RuleError as exc:
            rule_error(form, exc, default="name")
        else:
            enqueue(reassign_tiers)
            flash(_("Tier “%(name)s” saved: members' tiers are being updated from their spend.", name=tier.name),
                  "success")
            return redirect(url_for("members.list_tiers"), 303)
    return render_template("members/tiers.html", form=form, tier=tier, tiers=services.all_tiers()), form_status()


@bp.route("/members/tiers/<int:tier_id>/delete", methods=["POST"])
@roles_required(*HQ)
def delete_tier(tier_id: int):
    scope = current_scope()
    tier = db.session.get(MemberTier, tier_id) or abort(404)
    services.delete_tier(scope, tier, actor=scope.user)
    enqueue(reassign_tiers)             # its members may reach a lower tier
    flash(_("Tier “%(name)s” deleted.", name=tier.name), "success")
    return redirect(url_for("members.list_tiers"), 303)


# --------------------------------------------------------------------------- groups (audiences)

@bp.route("/members/groups")
@roles_required(*roles.ADMINS)
def list_groups():
    scope = current_scope()
    groups = services.scoped_groups(scope)
    return render_template("members/groups.html", groups=groups, counts=services.group_counts(scope, groups),
                           described={g.id: services.describe(MemberFilter.from_args(g.spec or {})) for g in groups},
                           segments=SEGMENT_LABELS, segment_counts=services.segment_counts(scope))


def _group_form(scope, group=None) -> GroupForm:
    form = GroupForm(obj=group)
    form.fill_choices(services.filter_menus(scope, MemberFilter()))
    return form


@bp.route("/members/groups/new", methods=["GET", "POST"])
@bp.route("/members/groups/<int:group_id>/edit", methods=["GET", "POST"])
@roles_required(*roles.ADMINS)
def edit_group(group_id: int | None = None):
    scope = current_scope()
    group = (services.get_group(scope, group_id) or abort(404)) if group_id else None
    form = _group_form(scope, group)
    if request.method == "GET":
        if group is not None:
            form.fill(group.spec)
        elif request.args.get("from"):              # "save this filter as a group" from the list
            form.fill(dict(parse_qsl(request.args["from"][:600])))
    if form.validate_on_submit():
        try:
            group = services.save_group(scope, form.name.data, form.kind.data, form.member_filter(),
                                        actor=scope.user, group=group)
        except RuleError as exc:
            rule_error(form, exc, default="name")
        else:
            flash(_("Group “%(name)s” saved.", name=group.name), "success")
            return redirect(url_for("members.list_groups"), 303)
    flt = form.member_filter()
    count = _form_reach(scope, form, group)
    return render_template("members/group_form.html", form=form, group=group, count=count, flt=flt,
                           FIXED=FIXED, FILTER=FILTER), form_status()


def _form_reach(scope, form: GroupForm, group) -> int | None:
    if (form.kind.data or FILTER) == FIXED:
        return services.reach(scope, {"group": group.id}) if group is not None else 0
    flt = form.member_filter()
    return services.reach(scope, {"filter": flt.spec()}) if flt.spec() else None


@bp.route("/members/groups/preview")
@roles_required(*roles.ADMINS)
def group_preview():
    """The live "reaches N members" of the group form, as its conditions change."""
    scope = current_scope()
    form = GroupForm(formdata=request.args, meta={"csrf": False})
    form.fill_choices(services.filter_menus(scope, MemberFilter()))
    form.validate()
    group_id = parse_id(request.args.get("group_id"))
    group = services.get_group(scope, group_id) if group_id else None
    errors = [str(e) for f in (form.segment, form.tag, form.tier, form.node, form.store) for e in f.errors]
    return render_template("members/_group_reach.html", count=None if errors else _form_reach(scope, form, group),
                           errors=errors, kind=form.kind.data or FILTER), VARY


@bp.route("/members/groups/<int:group_id>/delete", methods=["POST"])
@roles_required(*roles.ADMINS)
def delete_group(group_id: int):
    scope = current_scope()
    group = services.get_group(scope, group_id) or abort(404)
    services.delete_group(scope, group, actor=scope.user)
    flash(_("Group “%(name)s” deleted.", name=group.name), "success")
    return redirect(url_for("members.list_groups"), 303)
