"""Live rooms: the list (upcoming / live / ended), a new room in one or two taps from a phone (a
store owner) or a broadcast (HQ, a distributor, a region), the room page and its edit.

The room page leaves places for the other parts of the live domain: it includes
``live/_figures.html``, ``_leaderboard.html``, ``_lottery.html``, ``_coupons.html`` and
``_reminders.html`` when they exist, each with ``room`` and ``scope``."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from portal.extensions import db, htmx
from portal.kernel.errors import Conflict, RuleError
from portal.kernel.forms import one_of, options, rule_error
from portal.kernel.ids import parse_ids
from portal.kernel.paging import paginate
from portal.kernel.time import utcnow
from portal.live import services
from portal.live import status as live_status
from portal.live.forms import OPTION_LABELS, PROVIDER_LABELS, RoomForm, to_local
from portal.live.models import NOT_STARTED, LiveRoom
from portal.org import roles
from portal.org.access import current_scope, roles_required
from portal.org.models import OrgNode, Store
from portal.org.scope import Scope, get_store_or_404
from portal.web import NavEntry

bp = Blueprint("live", __name__)
NAV = (NavEntry("live.list_rooms", _l("Live"), "broadcast", roles.ALL, order=65),)
PER_PAGE = 24
# The other parts' partials on the room page (each optional)
ROOM_PARTIALS = ("live/_figures.html", "live/_leaderboard.html")
# ... and the panels it loads once it shows (live_actions.panel): their counts read the room's viewers
ROOM_PANELS = ("lottery", "coupons", "reminders")


@bp.context_processor
def _labels():
    return {"status_labels": live_status.LABELS, "status_badges": live_status.BADGES,
            "group_labels": live_status.GROUP_LABELS, "provider_labels": PROVIDER_LABELS,
            "option_labels": OPTION_LABELS}


@bp.route("/live")
@roles_required(*roles.ALL)
def list_rooms():
    scope = current_scope()
    tab = one_of(request.args.get("tab"), live_status.GROUPS, live_status.UPCOMING)
    q = request.args.get("q", "").strip()[:50]
    page = paginate(services.rooms(scope, tab, q), request.args.get("page"), PER_PAGE, rows=True)
    ctx = dict(rows=page.items, total=page.total, page=page.page, pages=page.pages, tab=tab, q=q,
               counts=services.group_counts(scope))
    if htmx and htmx.target == "room-rows":
        response = render_template("live/_rows.html", **ctx)
    else:
        response = render_template("live/list.html", **ctx)
    return response, 200, {"Vary": "HX-Request"}


def _nodes(scope: Scope) -> list[OrgNode]:
    return list(db.session.scalars(select(OrgNode).where(scope.nodes()).order_by(OrgNode.path).limit(500)))


def _owner(scope: Scope, form: RoomForm | None = None):
    """The store (an owner's room) or the node (a broadcast) the new room belongs to."""
    if scope.store_id is not None:
        return get_store_or_404(scope, scope.store_id), None
    node_id = form.node_id.data if form is not None and form.node_id.data else scope.user.node_id
    node = db.session.scalar(select(OrgNode).where(OrgNode.id == node_id, scope.nodes()))
    return None, node or scope.user.node


def _form_page(form: RoomForm, *, store, node, room=None, chosen=(), status=200):
    """A store's room lists the store's goods to tick (a phone, a few hundred goods at most); an
    admin's broadcast picks from the goods library with the goods picker (``goods.pick_goods``,
    admins only), its picks shown as rows."""
    scope = current_scope()
    picker = node is not None and scope.role in roles.ADMINS
    goods = services.chosen_goods(chosen) if picker else services.goods_choices(scope, store=store, node=node)
    return render_template("live/form.html", form=form, room=room, store=store, node=node, goods=goods,
                           chosen=set(chosen), max_goods=services.MAX_GOODS, picker=picker), status


def _new_form(scope: Scope, broadcast: bool, **kwargs) -> RoomForm:
    form = RoomForm(broadcast=broadcast, **kwargs)
    if broadcast:
        form.node_id.choices = options((n.id, n.name) for n in _nodes(scope))
    return form


@bp.route("/live/new", methods=["GET", "POST"])
@roles_required(*roles.ALL)
def create_room():
    """A store owner's room (sensible defaults: Channels live, start at the next half hour + 10
    minutes, two hours, the store's name as title, the owner as anchor), or a broadcast."""
    scope = current_scope()
    broadcast = scope.store_id is None
    if request.method == "POST":
        form = _new_form(scope, broadcast)
        store, node = _owner(scope, form)
        chosen = parse_ids(request.form.getlist("product_ids"))
        if form.validate_on_submit():
            start, end = form.window()
            try:
                room = services.create_room(
                    scope, store=store, node=node, title=form.title.data, anchor=form.anchor.data,
                    provider=form.provider.data, start=start, end=end, cover_url=form.cover_url.data,
                    options=form.options_data(), product_ids=chosen, store_codes=form.codes(), actor=scope.user)
            except Conflict:
                raise
            except RuleError as exc:
                db.session.rollback()
                rule_error(form, exc)
            else:
                flash(_("Live room “%(title)s” scheduled for %(when)s.", title=room.title,
                        when=to_local(room.scheduled_start).strftime("%Y-%m-%d %H:%M")), "success")
                return redirect(url_for("live.view_room", room_id=room.id))
        return _form_page(form, store=store, node=node, chosen=chosen, status=422)
    store, node = _owner(scope)
    start, end = services.default_window(utcnow())
    name = store.name if store is not None else node.name
    data = {"title": services.default_title(name), "anchor": (scope.user.display_name or name)[:15],
            "start": to_local(start), "end": to_local(end), "node_id": node.id if node is not None else None}
    form = _new_form(scope, broadcast, data=data)
    return _form_page(form, store=store, node=node)


@bp.route("/live/<int:room_id>")
@roles_required(*roles.ALL)
def view_room(room_id: int):
    scope = current_scope()
    room = services.get_room_or_404(scope, room_id)
    carried, stores = services.carriers_in_scope(scope, room)
    owner = db.session.get(Store, room.store_id) if room.store_id else db.session.get(OrgNode, room.node_id)
    return render_template("live/view.html", room=room, scope=scope, owner=owner, goods=services.room_goods(room),
                           carried=carried, stores=stores, can_manage=services.manages(scope, room),
                           partials=ROOM_PARTIALS, panels=ROOM_PANELS, editable=room.status == NOT_STARTED)


@bp.route("/live/<int:room_id>/edit", methods=["GET", "POST"])
@roles_required(*roles.ALL)
def edit_room(room_id: int):
    scope = current_scope()
    room = services.get_managed_room(scope, room_id)
    store = db.session.get(Store, room.store_id) if room.store_id else None
    node = db.session.get(OrgNode, room.node_id) if room.node_id else None
    if room.status != NOT_STARTED:
        flash(_("The room has started or ended: it can no longer be changed."), "warning")
        return redirect(url_for("live.view_room", room_id=room.id))
    if request.method == "POST":
        form = RoomForm(broadcast=node is not None, room=room)
        chosen = parse_ids(request.form.getlist("product_ids"))
        if form.validate_on_submit():
            start, end = form.window()
            try:
                services.update_room(scope, room, title=form.title.data, anchor=form.anchor.data, start=start,
                                     end=end, cover_url=form.cover_url.data, options=form.options_data(),
                                     product_ids=chosen, store_codes=form.codes(), actor=scope.user)
            except Conflict:
                raise
            except RuleError as exc:
                db.session.rollback()
                rule_error(form, exc)
            else:
                flash(_("Live room saved."), "success")
                return redirect(url_for("live.view_room", room_id=room.id))
        return _form_page(form, store=store, node=node, room=db.session.get(LiveRoom, room_id), chosen=chosen,
                          status=422)
    form = RoomForm.for_room(room, broadcast=node is not None)
    chosen = [p.id for p, _thumb in services.room_goods(room)]
    return _form_page(form, store=store, node=node, room=room, chosen=chosen)


@bp.route("/live/<int:room_id>/delete", methods=["POST"])
@roles_required(*roles.ALL)
def delete_room(room_id: int):
    scope = current_scope()
    room = services.get_managed_room(scope, room_id)
    title = room.title
    try:
        services.delete_room(scope, room, actor=scope.user)
    except Conflict:
        raise
    except RuleError as exc:
        flash(exc.message, "danger")
        return redirect(url_for("live.view_room", room_id=room_id))
    flash(_("Live room “%(title)s” deleted.", title=title), "success")
    return redirect(url_for("live.list_rooms"))
