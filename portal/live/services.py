"""Live rooms: who sees and changes them, creating and editing them, the stores that carry them.

A store's own room belongs to its store (``store_id``, the store's path); a broadcast belongs to
an org node (``node_id``, the node's path) and is carried by many stores. Every room has one
``live_room_stores`` entry per carrying store (a store room: its own store), so:
- a store owner sees the rooms its store carries (its own and the broadcasts it shows);
- a node user sees the rooms under its path (its stores' rooms, its nodes' broadcasts) plus the
  broadcasts carried by its stores (HQ's broadcast in a region's stores), read only.
A room is changed by its own store's owner, or by a node user whose subtree holds the room's owner.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from flask import abort
from flask_babel import gettext as _
from sqlalchemy import and_, delete, func, insert, literal, or_, select, true, update

from portal.audit import services as audit
from portal.extensions import db
from portal.goods.models import Product
from portal.goods.services import first_thumbs, pickable_products, thumb_path
from portal.kernel.errors import Conflict, RuleError
from portal.kernel.sql import bulk_insert
from portal.kernel.time import utcnow
from portal.live import rules
from portal.live.models import (
    DEFAULT_OPTIONS,
    NOT_STARTED,
    OPTIONS,
    PROVIDERS,
    LiveRoom,
    LiveRoomGoods,
    LiveRoomStore,
    LiveViewer,
)
from portal.live.providers import WeChatError, get_provider
from portal.live.status import GROUPS, UPCOMING
from portal.org import roles
from portal.org.models import OrgNode, Store, User
from portal.org.scope import Scope, path_range
from portal.shelf.services import effective_products

MAX_GOODS = 100
PICKABLE_LIMIT = 200        # goods listed in the form's picker (by name)


# --------------------------------------------------------------------------- who sees what

def visible(scope: Scope):
    """The condition for rooms the scope may see (see the module's docstring)."""
    if scope.store_id is not None:
        return LiveRoom.id.in_(select(LiveRoomStore.room_id).where(LiveRoomStore.store_id == scope.store_id))
    if scope.is_everything():
        return true()
    carried = select(LiveRoomStore.room_id).where(scope.paths(LiveRoomStore.path))
    return or_(scope.paths(LiveRoom.path), LiveRoom.id.in_(carried))


def manages(scope: Scope, room: LiveRoom) -> bool:
    """May the scope change the room: its own store's room, or a room owned inside its subtree."""
    if scope.store_id is not None:
        return room.store_id == scope.store_id
    return scope.covers_path(room.path)


def get_room_or_404(scope: Scope, room_id: int) -> LiveRoom:
    room = db.session.scalar(select(LiveRoom).where(LiveRoom.id == room_id, visible(scope)))
    if room is None:
        abort(404)
    return room


def get_managed_room(scope: Scope, room_id: int) -> LiveRoom:
    """404 if the scope cannot see the room, 403 if it only reads it (a broadcast from above)."""
    room = get_room_or_404(scope, room_id)
    if not manages(scope, room):
        abort(403)
    return room


# --------------------------------------------------------------------------- lists

def rooms(scope: Scope, group: str = UPCOMING, q: str = ""):
    """The rooms of one tab (upcoming / live / ended), with the owner's name: a statement to page."""
    owner = func.coalesce(Store.name, OrgNode.name).label("owner")
    stmt = (select(LiveRoom, owner).outerjoin(Store, Store.id == LiveRoom.store_id)
            .outerjoin(OrgNode, OrgNode.id == LiveRoom.node_id)
            .where(visible(scope), LiveRoom.status.in_(GROUPS[group])))
    if q:
        stmt = stmt.where(LiveRoom.title.contains(q, autoescape=True))
    order = LiveRoom.scheduled_start.asc() if group == UPCOMING else LiveRoom.scheduled_start.desc()
    return stmt.order_by(order, LiveRoom.id)


def store_rooms(store_id: int, *, limit: int = 50) -> list[LiveRoom]:
    """The upcoming and live rooms a store shows (its own and the broadcasts it carries), soonest
    first: one indexed join (what the mini-program's live-room list reads)."""
    return list(db.session.scalars(
        select(LiveRoom).join(LiveRoomStore, LiveRoomStore.room_id == LiveRoom.id)
        .where(LiveRoomStore.store_id == store_id, LiveRoom.status.in_((*GROUPS[UPCOMING], *GROUPS["live"])))
        .order_by(LiveRoom.scheduled_start, LiveRoom.id).limit(limit)))


def group_counts(scope: Scope) -> dict[str, int]:
    rows = db.session.execute(select(LiveRoom.status, func.count()).where(visible(scope))
                              .group_by(LiveRoom.status)).all()
    by_code = dict(rows)
    return {name: sum(by_code.get(c, 0) for c in codes) for name, codes in GROUPS.items()}


# --------------------------------------------------------------------------- goods and stores

def pickable_goods(scope: Scope, *, store: Store | None = None, node: OrgNode | None = None):
    """The condition for goods a room may show: a store room, the store's effective goods; a
    broadcast, the catalog goods of its node and above (never a store's own goods)."""
    if store is not None:
        return effective_products(store.id)
    return pickable_products(Scope.of_path(node.path))


def goods_choices(scope: Scope, *, store: Store | None = None, node: OrgNode | None = None) -> list[Product]:
    """The goods the form lists to pick from (the first ``PICKABLE_LIMIT`` by code)."""
    return list(db.session.scalars(select(Product).where(pickable_goods(scope, store=store, node=node))
                                   .order_by(Product.code).limit(PICKABLE_LIMIT)))


def chosen_goods(product_ids) -> list[Product]:
    """The products of ``product_ids`` in that order (what a form shows of its picks; checked
    again by ``create_room`` / ``update_room``)."""
    ids = list(product_ids or ())[:MAX_GOODS]
    found = {p.id: p for p in db.session.scalars(select(Product).where(Product.id.in_(ids)))} if ids else {}
    return [found[i] for i in ids if i in found]


def _checked_goods(scope: Scope, product_ids, *, store: Store | None, node: OrgNode | None) -> list[Product]:
    wanted = []
    for pid in product_ids or ():
        if pid not in wanted:
            wanted.append(pid)
    if len(wanted) > MAX_GOODS:
        raise RuleError(_("A room shows at most %(n)s goods.", n=MAX_GOODS), "product_ids")
    if not wanted:
        return []
    found = {p.id: p for p in db.session.scalars(select(Product).where(
        Product.id.in_(wanted), pickable_goods(scope, store=store, node=node)))}
    if len(found) != len(wanted):
        raise RuleError(_("Some of the chosen goods are not among the goods this room may show."), "product_ids")
    return [found[i] for i in wanted]


def _goods_payload(products: list[Product]) -> list[dict]:
    """What a provider needs of the goods (code, name, lowest list price, cover)."""
    from portal.goods.models import Sku

    prices = dict(db.session.execute(select(Sku.product_id, func.min(Sku.list_price))
                                     .where(Sku.product_id.in_([p.id for p in products]))
                                     .group_by(Sku.product_id)).all()) if products else {}
    thumbs = first_thumbs([p.id for p in products])
    return [{"code": p.code, "name": p.name, "price": prices.get(p.id, 0), "cover": thumb_path(thumbs.get(p.id)) or ""}
            for p in products]


def _set_goods(room: LiveRoom, products: list[Product]) -> None:
    db.session.execute(delete(LiveRoomGoods).where(LiveRoomGoods.room_id == room.id))
    bulk_insert(db.session, LiveRoomGoods.__table__,
                [{"room_id": room.id, "product_id": p.id, "position": i} for i, p in enumerate(products)])


def _carriers(scope: Scope, node: OrgNode, store_codes: list[str] | None, store_ids=None):
    """The active stores a broadcast reaches: those named (by code), or every store under its node;
    always re-filtered through the scope and the node's subtree."""
    cond = and_(scope.stores(), path_range(Store.path, node.path), Store.status == roles.STORE_ACTIVE)
    if store_ids is not None:
        cond = and_(cond, Store.id.in_(list(store_ids)))
    if store_codes is not None:
        cond = and_(cond, func.lower(Store.code).in_(sorted({c.strip().lower() for c in store_codes if c.strip()})))
    return cond


def _set_carriers(scope: Scope, room: LiveRoom, *, store: Store | None, node: OrgNode | None,
                  store_codes: list[str] | None, store_ids=None) -> int:
    """Replace the room's carrying stores in one INSERT … SELECT (a store room: its own store)."""
    db.session.execute(delete(LiveRoomStore).where(LiveRoomStore.room_id == room.id))
    now = utcnow()
    if store is not None:
        db.session.add(LiveRoomStore(room_id=room.id, store_id=store.id, path=store.path, created_at=now))
        db.session.flush()
        return 1
    cond = _carriers(scope, node, store_codes, store_ids)
    if store_codes is not None:
        named = {c.strip().lower(): c.strip() for c in store_codes if c.strip()}
        found = set(db.session.scalars(select(func.lower(Store.code)).where(cond)))
        if not named:
            raise RuleError(_("Name the stores that carry the broadcast, or choose all stores."), "store_codes")
        if missing := [named[c] for c in sorted(set(named) - found)]:
            raise RuleError(_("Not an active store of yours under %(node)s: %(codes)s.", node=node.name,
                              codes=", ".join(missing[:10])), "store_codes")
    result = db.session.execute(insert(LiveRoomStore).from_select(
        ["room_id", "store_id", "path", "created_at"],
        select(literal(room.id), Store.id, Store.path, literal(now, LiveRoomStore.created_at.type)).where(cond)))
    if not result.rowcount:
        raise RuleError(_("No active store under %(node)s carries the broadcast.", node=node.name), "store_codes")
    return result.rowcount


def carrier_count(room: LiveRoom) -> int:
    return db.session.scalar(select(func.count()).select_from(LiveRoomStore).where(LiveRoomStore.room_id == room.id))


def carriers_in_scope(scope: Scope, room: LiveRoom, limit: int = 50) -> tuple[int, list[Store]]:
    """The carrying stores the scope sees: their number and the first ``limit`` by code."""
    cond = and_(LiveRoomStore.room_id == room.id, scope.store_rows(LiveRoomStore.store_id, LiveRoomStore.path))
    total = db.session.scalar(select(func.count()).select_from(LiveRoomStore).where(cond))
    stores = list(db.session.scalars(select(Store).join(LiveRoomStore, LiveRoomStore.store_id == Store.id)
                                     .where(cond).order_by(Store.code).limit(limit)))
    return total, stores


def room_goods(room: LiveRoom) -> list[tuple[Product, str | None]]:
    """The room's goods in their order, each with its first picture's thumbnail path (or None)."""
    products = list(db.session.scalars(select(Product).join(LiveRoomGoods, LiveRoomGoods.product_id == Product.id)
                                       .where(LiveRoomGoods.room_id == room.id).order_by(LiveRoomGoods.position)))
    thumbs = first_thumbs([p.id for p in products])
    return [(p, thumb_path(thumbs.get(p.id))) for p in products]


# --------------------------------------------------------------------------- defaults

def default_window(now: datetime) -> tuple[datetime, datetime]:
    """The next half hour + 10 minutes (always ≥ 10 minutes ahead), two hours long."""
    base = now.replace(second=0, microsecond=0)
    half = base + timedelta(minutes=30 - base.minute % 30)
    start = half + timedelta(minutes=10)
    return start, start + timedelta(hours=2)


def default_title(name: str) -> str:
    """"<store name>直播间" shortened to fit WeChat's 17."""
    title = f"{name}直播间"
    while rules.wechat_length(title) > rules.TITLE_MAX:
        name = name[:-1]
        title = f"{name}直播间"
    return title


# --------------------------------------------------------------------------- writes

def _clean_options(options: dict | None) -> dict:
    base = dict(DEFAULT_OPTIONS)
    for name in OPTIONS:
        if options and name in options:
            base[name] = bool(options[name])
    return base


def create_room(scope: Scope, *, store: Store | None = None, node: OrgNode | None = None, title: str,
                anchor: str, provider: str, start: datetime, end: datetime, cover_url: str = "",
                options: dict | None = None, product_ids=(), store_codes: list[str] | None = None, store_ids=None,
                actor: User | None, now: datetime | None = None) -> LiveRoom:
    """A store's room (``store``) or a broadcast (``node``, carried by the stores ``store_codes`` or
    ``store_ids`` name — ids re-filtered through the scope in the same statement, those outside it
    left out — or, both None, every active store under it), after WeChat's rules; the provider is
    told (its room id kept). The caller looked the store or node up through the scope."""
    now = now or utcnow()
    if (store is None) == (node is None):
        raise ValueError("A room belongs to a store or to a node")
    if store is not None and not (scope.store_id == store.id or scope.covers_path(store.path)):
        abort(404)
    if node is not None and not scope.covers_path(node.path):
        abort(404)
    if provider not in PROVIDERS:
        raise RuleError(_("Choose Channels live or mini-program live."), "provider")
    title, anchor = (title or "").strip(), (anchor or "").strip()
    rules.check(title=title, anchor=anchor, provider=provider, start=start, end=end, now=now)
    products = _checked_goods(scope, product_ids, store=store, node=node)
    room = LiveRoom(store_id=store.id if store else None, node_id=node.id if node else None,
                    path=store.path if store else node.path, title=title, anchor=anchor, provider=provider,
                    cover_url=cover_url or "", scheduled_start=start, scheduled_end=end, status=NOT_STARTED,
                    options=_clean_options(options), created_by_id=actor.id if actor else None)
    db.session.add(room)
    db.session.flush()
    carriers = _set_carriers(scope, room, store=store, node=node, store_codes=store_codes, store_ids=store_ids)
    _set_goods(room, products)
    try:
        room.provider_room_id = get_provider().create_room(room, _goods_payload(products))
    except (WeChatError, OSError) as exc:
        raise RuleError(_("WeChat did not accept the room: %(error)s", error=str(exc))) from exc
    audit.record(actor, "live_room.create", "live_room", room.id, room.title, room.path,
                 {"provider": provider, "starts_at": start.isoformat(), "ends_at": end.isoformat(),
                  "goods": len(products), "stores": carriers})
    db.session.flush()
    return room


def update_room(scope: Scope, room: LiveRoom, *, title: str, anchor: str, start: datetime, end: datetime,
                cover_url: str = "", options: dict | None = None, product_ids=(),
                store_codes: list[str] | None = None, actor: User | None, now: datetime | None = None) -> LiveRoom:
    """Change a room that has not started (102). Its provider stays; a start left as it was is not
    checked against "10 minutes ahead" again; a broadcast's carrying stores change only when
    ``store_codes`` names them (None keeps them). Conditional on the status: a room that went live
    meanwhile answers Conflict."""
    now = now or utcnow()
    if room.status != NOT_STARTED:
        raise Conflict(_("The room has started or ended: it can no longer be changed."))
    title, anchor = (title or "").strip(), (anchor or "").strip()
    rules.check(title=title, anchor=anchor, provider=room.provider, start=start, end=end, now=now,
                check_start=start != room.scheduled_start)
    store = db.session.get(Store, room.store_id) if room.store_id else None
    node = db.session.get(OrgNode, room.node_id) if room.node_id else None
    products = _checked_goods(scope, product_ids, store=store, node=node)
    changed = db.session.execute(
        update(LiveRoom).where(LiveRoom.id == room.id, LiveRoom.status == NOT_STARTED)
        .values(title=title, anchor=anchor, scheduled_start=start, scheduled_end=end, cover_url=cover_url or "",
                options=_clean_options(options), updated_at=now)
        .execution_options(synchronize_session=False)).rowcount
    if not changed:
        raise Conflict(_("The room has started or ended: it can no longer be changed."))
    before = list(db.session.scalars(select(LiveRoomGoods.product_id).where(LiveRoomGoods.room_id == room.id)
                                     .order_by(LiveRoomGoods.position)))
    _set_goods(room, products)
    carriers = None
    if node is not None and store_codes is not None:        # None: the stores that carry it now stay
        carriers = _set_carriers(scope, room, store=None, node=node, store_codes=store_codes)
    db.session.expire(room)
    provider = get_provider()
    added = [p for p in products if p.id not in before]
    try:
        # The provider's room follows (WeChat's editroom; a Channels notice matched again to a
        # moved start); one that was never made there is made now. Then its shelf gets the goods
        # it does not have yet.
        if room.provider_room_id:
            room.provider_room_id = provider.edit_room(room)
        else:
            room.provider_room_id = provider.create_room(room, _goods_payload(products))
            added = []
        if added and room.provider_room_id:
            provider.import_goods(room, _goods_payload(added))
    except (WeChatError, OSError) as exc:
        raise RuleError(_("WeChat did not accept the change: %(error)s", error=str(exc))) from exc
    audit.record(actor, "live_room.update", "live_room", room.id, title, room.path,
                 {"starts_at": start.isoformat(), "ends_at": end.isoformat(), "goods": len(products),
                  "stores": carriers})
    db.session.flush()
    return room


def delete_room(scope: Scope, room: LiveRoom, *, actor: User | None) -> None:
    """Delete a room that never started and nobody entered (a mistake, a cancelled live)."""
    room_id, title, path = room.id, room.title, room.path
    entered = db.session.scalar(select(LiveViewer.member_id).where(LiveViewer.room_id == room_id).limit(1))
    if entered is not None:
        raise RuleError(_("Viewers have entered this room: it is kept for its figures."))
    gone = db.session.execute(delete(LiveRoom).where(LiveRoom.id == room_id, LiveRoom.status == NOT_STARTED)
                              .execution_options(synchronize_session=False)).rowcount
    if not gone:
        raise Conflict(_("The room has started or ended: it can no longer be deleted."))
    db.session.expunge(room)
    audit.record(actor, "live_room.delete", "live_room", room_id, title, path, {})
    db.session.flush()


def set_replay(room_ids_urls: dict[int, str]) -> None:
    """Replay addresses the provider reported."""
    for room_id, url in room_ids_urls.items():
        db.session.execute(update(LiveRoom).where(LiveRoom.id == room_id).values(replay_url=url[:500])
                           .execution_options(synchronize_session=False))


__all__ = ["visible", "manages", "store_rooms", "get_room_or_404", "get_managed_room", "rooms", "group_counts",
           "create_room", "update_room", "delete_room", "carriers_in_scope", "room_goods", "goods_choices",
           "chosen_goods", "default_window", "default_title", "MAX_GOODS"]
