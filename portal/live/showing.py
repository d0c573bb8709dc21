"""The rooms a store shows in its mini-program (``GET /api/v1/stores/<code>/live-rooms``): its own
rooms and the broadcasts it carries, upcoming and live, with their goods at the store's prices.

"Shows" is one join: every room a store shows has a ``live_room_stores`` row for it (a store room
its own store's, a broadcast one per carrying store). Upcoming and live = status 101 (live), 105
(paused: the room is still on) or 102 (not started) whose scheduled end has not passed (a room
that never started is 107 once its end has passed, whether or not the clock has moved it yet).

``shown_version`` is the cheap version the API's ETag is made of (one statement of aggregates over
the same rows); ``rooms_shown`` builds the body (three statements: rooms, goods, prices; plus the
pictures)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import and_, func, or_, select

from portal.extensions import db
from portal.goods.models import Product, ProductImage, Sku
from portal.goods.services import first_thumbs
from portal.kernel.time import utcnow
from portal.live import status
from portal.live.models import (
    LIVE,
    NOT_STARTED,
    PAUSED,
    LiveRoom,
    LiveRoomGoods,
    LiveRoomStore,
)
from portal.shelf import services as shelf
from portal.shelf.models import Listing

MAX_ROOMS = 50


@dataclass
class ShownGood:
    product_id: int
    code: str
    name: str
    category: str
    price: int
    list_price: int
    thumb: str | None


@dataclass
class ShownRoom:
    room: LiveRoom
    goods: list[ShownGood] = field(default_factory=list)

    @property
    def status_label(self) -> str:
        return status.label(self.room.status)


def _shown(store_id: int, now: datetime):
    """The condition on ``LiveRoom`` (joined to the store's ``LiveRoomStore``) of the rooms shown."""
    return and_(LiveRoomStore.store_id == store_id,
                or_(LiveRoom.status.in_((LIVE, PAUSED)),
                    and_(LiveRoom.status == NOT_STARTED, LiveRoom.scheduled_end > now)))


def _shown_ids(store_id: int, now: datetime):
    return (select(LiveRoom.id).join(LiveRoomStore, LiveRoomStore.room_id == LiveRoom.id)
            .where(_shown(store_id, now)))


def rooms_shown(store_id: int, *, now: datetime | None = None, limit: int = MAX_ROOMS) -> list[ShownRoom]:
    """The store's upcoming and live rooms, live first then by scheduled start, with their goods
    in shelf order at the store's prices."""
    now = now or utcnow()
    rooms = db.session.scalars(
        select(LiveRoom).join(LiveRoomStore, LiveRoomStore.room_id == LiveRoom.id)
        .where(_shown(store_id, now))
        .order_by((LiveRoom.status == NOT_STARTED), LiveRoom.scheduled_start, LiveRoom.id).limit(limit)).all()
    if not rooms:
        return []
    shown = {r.id: ShownRoom(r) for r in rooms}
    rows = db.session.execute(
        select(LiveRoomGoods.room_id, Product.id, Product.code, Product.name, Product.category)
        .join(Product, Product.id == LiveRoomGoods.product_id)
        .where(LiveRoomGoods.room_id.in_(list(shown)), Product.archived.is_(False))
        .order_by(LiveRoomGoods.room_id, LiveRoomGoods.position, Product.id)).all()
    product_ids = {r[1] for r in rows}
    prices = shelf.product_prices(store_id, product_ids)
    thumbs = first_thumbs(product_ids)
    for room_id, pid, code, name, category in rows:
        price = prices.get(pid)
        if price is None:             # a product with no SKU cannot be sold
            continue
        shown[room_id].goods.append(ShownGood(pid, code, name, category, price.price, price.list_price,
                                              thumbs.get(pid)))
    return list(shown.values())


def shown_version(store_id: int, *, now: datetime | None = None) -> tuple:
    """A cheap version of what ``rooms_shown`` answers, for the API's ETag: ONE statement.

    It moves with the rooms shown (which: their count and id sums; what they show: their latest
    ``updated_at``, written by every change of a room, its status or its counters), their goods
    (the pairs and positions; the products' and SKUs' ``updated_at``: names, prices, bounds), the
    store's listings of those goods (its prices) and their pictures."""
    now = now or utcnow()
    ids = _shown_ids(store_id, now)
    goods = select(LiveRoomGoods.product_id).where(LiveRoomGoods.room_id.in_(ids))
    rooms = db.session.execute(
        select(func.count(), func.sum(LiveRoom.id), func.sum(LiveRoom.id * LiveRoom.id), func.max(LiveRoom.updated_at),
               select(func.count()).select_from(LiveRoomGoods).where(LiveRoomGoods.room_id.in_(ids))
               .scalar_subquery(),
               select(func.sum(LiveRoomGoods.product_id * (LiveRoomGoods.position + 1) + LiveRoomGoods.room_id))
               .where(LiveRoomGoods.room_id.in_(ids)).scalar_subquery(),
               select(func.max(Product.updated_at)).where(Product.id.in_(goods)).scalar_subquery(),
               select(func.max(Sku.updated_at)).where(Sku.product_id.in_(goods)).scalar_subquery(),
               select(func.count(Listing.id)).join(Sku, Sku.id == Listing.sku_id)
               .where(Listing.store_id == store_id, Sku.product_id.in_(goods)).scalar_subquery(),
               select(func.max(Listing.updated_at)).join(Sku, Sku.id == Listing.sku_id)
               .where(Listing.store_id == store_id, Sku.product_id.in_(goods)).scalar_subquery(),
               select(func.count(ProductImage.id)).where(ProductImage.product_id.in_(goods)).scalar_subquery(),
               select(func.sum(ProductImage.id)).where(ProductImage.product_id.in_(goods)).scalar_subquery())
        .select_from(LiveRoom).join(LiveRoomStore, LiveRoomStore.room_id == LiveRoom.id)
        .where(_shown(store_id, now))).one()
    return tuple(rooms)
