"""A room's figures, computed by the portal from its own events (WeChat gives none), all exact.

``room_figures(scope, room)``: unique viewers, peak concurrent viewers, online now, total and
average watch time (the stays closed by a leave, plus those still open up to the room's end or
now), likes, comments, shares, new followers (the room's counters: the database
plus what the aggregator still holds, ``portal.live.counters.current``), orders, GMV (paid −
refunded, fen), buyers and conversion (buyers / viewers) from ``orders.live_room_id``; and, per
carrying store (a broadcast's attribution), viewers, orders, GMV and buyers: the viewer belongs to
the store whose entry brought them, the order to the store it was paid in.

A scope that does not own the room (a store carrying HQ's broadcast, a region whose stores carry
it) sees the viewers, orders and carrying stores of its own stores only; the room's counters
(likes, online …) are what every viewer sees in the room and are shown whole.

``leaderboard(scope, room, by=VIEWERS | BUYERS, limit=N)``: sharers ranked by the viewers they
brought (``live_sharers`` on ``ix_live_sharers_rank``: the top N is an index scan whatever the
number of sharers) or by the buyers they brought (distinct buyers of the room's orders naming
them as sharer), with the sharer's store and guide.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import and_, func, literal, select

from portal.extensions import db
from portal.kernel.time import utcnow
from portal.live import counters
from portal.live.models import LiveRoom, LiveRoomStore, LiveSharer, LiveViewer
from portal.members.models import Guide, Member
from portal.orders.models import Order
from portal.org.models import Store
from portal.org.scope import Scope

VIEWERS, BUYERS = "viewers", "buyers"
RANKINGS = (VIEWERS, BUYERS)
TOP = 20
TOP_STORES = 10          # carrying stores on the room page (the export has them all)


@dataclass
class StoreFigures:
    store_id: int
    code: str
    name: str
    viewers: int = 0
    orders: int = 0
    gmv_fen: int = 0
    buyers: int = 0

    @property
    def conversion(self) -> float:
        return self.buyers / self.viewers if self.viewers else 0.0


@dataclass
class Figures:
    room_id: int
    whole: bool                 # the scope sees the whole room (else: its own stores' share)
    viewers: int = 0
    peak_online: int = 0
    online: int = 0
    watch_seconds: int = 0
    likes: int = 0
    comments: int = 0
    shares: int = 0
    follows: int = 0
    orders: int = 0
    gmv_fen: int = 0
    buyers: int = 0
    flushes: int = 0
    carried: int = 0            # the carrying stores the scope sees (``stores`` may show fewer)
    stores: list[StoreFigures] = field(default_factory=list)

    @property
    def average_watch_seconds(self) -> int:
        return self.watch_seconds // self.viewers if self.viewers else 0

    @property
    def conversion(self) -> float:
        return self.buyers / self.viewers if self.viewers else 0.0


def owns(scope: Scope, room: LiveRoom) -> bool:
    """The scope sees the whole room: its owner lies in the scope (or it is the owner's store)."""
    if scope.store_id is not None:
        return room.store_id == scope.store_id
    return scope.path is not None and room.path.startswith(scope.path)


def counter_row(room_id: int) -> dict:
    """The room's counters now: the stored row plus what the aggregator still holds."""
    cols = [LiveRoom.id, *[getattr(LiveRoom, n) for n in counters.ROOM_FIELDS], LiveRoom.online,
            LiveRoom.peak_online, LiveRoom.flushes]
    row = db.session.execute(select(*cols).where(LiveRoom.id == room_id)).one()
    return counters.current([dict(row._mapping)])[0]


def room_figures(scope: Scope, room: LiveRoom, *, top: int | None = TOP_STORES) -> Figures:
    """The room's figures as ``scope`` may see them, with its carrying stores ranked by viewers
    brought, then GMV: the first ``top`` of them (the room page; a national broadcast is carried
    by thousands of stores, and the page asks again every 3 s while it is live), or all with
    ``top=None`` (the export). ``carried`` counts them all. A handful of statements whatever
    the number of stores; none scans the viewers of a store's own room (its one store's viewers
    are the room's counter), a broadcast's are counted by store on the index (room, store)."""
    whole = owns(scope, room)
    counts = counter_row(room.id)
    out = Figures(room.id, whole, **{k: counts[k] for k in (*counters.ROOM_FIELDS, "online", "peak_online",
                                                              "flushes") if k not in ("viewers", "entered_sum")})
    mine = literal(True) if whole else scope.store_rows(LiveRoomStore.store_id, LiveRoomStore.path)
    carriers = select(LiveRoomStore.store_id).where(LiveRoomStore.room_id == room.id, mine)
    # The stays still open count up to the room's end (or now): online × then − their entry times.
    if out.online > 0:
        until = room.ended_at or utcnow()
        out.watch_seconds += max(0, out.online * int(until.timestamp()) - counts["entered_sum"])
    order_cond = and_(Order.live_room_id == room.id, literal(True) if whole else Order.store_id.in_(carriers))
    orders, gmv, buyers = db.session.execute(select(
        func.count(), func.coalesce(func.sum(Order.paid_fen - Order.refunded_fen), 0),
        func.count(func.distinct(Order.member_id))).where(order_cond)).one()
    # Buyers across stores: a member who bought in two stores counts once.
    out.orders, out.gmv_fen, out.buyers = orders, int(gmv), buyers
    one_store = whole and not room.is_broadcast         # a store's own room: its one carrier
    if whole:
        out.viewers = counts["viewers"]
    else:
        out.viewers = db.session.scalar(select(func.count()).select_from(LiveViewer).where(
            LiveViewer.room_id == room.id, LiveViewer.store_id.in_(carriers))) or 0
    by_store = (select(Order.store_id.label("sid"), func.count().label("n"),
                       func.coalesce(func.sum(Order.paid_fen - Order.refunded_fen), 0).label("gmv"),
                       func.count(func.distinct(Order.member_id)).label("buyers"))
                .where(Order.live_room_id == room.id).group_by(Order.store_id).subquery())
    ranked = (select(Store.id, Store.code, Store.name).select_from(LiveRoomStore)
              .join(Store, Store.id == LiveRoomStore.store_id)
              .outerjoin(by_store, by_store.c.sid == LiveRoomStore.store_id)
              .where(LiveRoomStore.room_id == room.id, mine))
    if one_store:
        viewers = literal(out.viewers)
    else:
        # A broadcast's attribution: the viewers by their store, on the index (room, store).
        seen = (select(LiveViewer.store_id.label("sid"), func.count().label("n"))
                .where(LiveViewer.room_id == room.id).group_by(LiveViewer.store_id).subquery())
        ranked = ranked.outerjoin(seen, seen.c.sid == LiveRoomStore.store_id)
        viewers = func.coalesce(seen.c.n, 0)
    gmv_col = func.coalesce(by_store.c.gmv, 0)
    ranked = ranked.add_columns(viewers.label("viewers"), func.coalesce(by_store.c.n, 0).label("orders"),
                                gmv_col.label("gmv"), func.coalesce(by_store.c.buyers, 0).label("buyers"),
                                func.count().over().label("carried")) \
        .order_by(*([] if one_store else [viewers.desc()]), gmv_col.desc(), Store.code)
    if top is not None:
        ranked = ranked.limit(top)
    rows = db.session.execute(ranked).all()
    out.carried = rows[0].carried if rows else 0          # counted before the LIMIT: all of them
    out.stores = [StoreFigures(r.id, r.code, r.name, r.viewers, r.orders, int(r.gmv), r.buyers) for r in rows]
    return out


@dataclass
class Rank:
    rank: int
    member_id: int
    nickname: str
    store: str
    guide: str | None
    viewers: int
    buyers: int


def leaderboard(scope: Scope, room: LiveRoom, *, by: str = VIEWERS, limit: int = TOP) -> list[Rank]:
    """The top ``limit`` sharers of the room by viewers brought or by buyers brought (two
    statements: the ranking, then the other figure and the names of those ranked)."""
    whole = owns(scope, room)
    limit = max(1, min(limit, 200))
    if by == BUYERS:
        buyers = func.count(func.distinct(Order.member_id)).label("n")
        stmt = (select(Order.sharer_id, buyers).where(Order.live_room_id == room.id, Order.sharer_id.is_not(None))
                .group_by(Order.sharer_id).order_by(buyers.desc(), Order.sharer_id).limit(limit))
        if not whole:
            stmt = stmt.where(scope.store_rows(Order.store_id, Order.path))
        ranked = [(m, n) for m, n in db.session.execute(stmt)]
    else:
        stmt = (select(LiveSharer.member_id, LiveSharer.viewers).where(LiveSharer.room_id == room.id)
                .order_by(LiveSharer.viewers.desc(), LiveSharer.member_id).limit(limit))
        if not whole:
            stmt = stmt.where(_sharer_store_in(scope))
        ranked = [(m, n) for m, n in db.session.execute(stmt)]
    if not ranked:
        return []
    ids = [m for m, _n in ranked]
    info = {row.member_id: row for row in db.session.execute(
        select(Member.id.label("member_id"), Member.nickname, Guide.name.label("guide"),
               func.coalesce(LiveSharer.viewers, 0).label("viewers"), Store.name.label("store"))
        .select_from(Member)
        .outerjoin(LiveSharer, and_(LiveSharer.member_id == Member.id, LiveSharer.room_id == room.id))
        .outerjoin(Store, Store.id == func.coalesce(LiveSharer.store_id, Member.store_id))
        .outerjoin(Guide, Guide.id == Member.guide_id)
        .where(Member.id.in_(ids)))}
    if by == BUYERS:
        other = dict(zip(ids, [n for _m, n in ranked], strict=True))
    else:
        other = dict(db.session.execute(
            select(Order.sharer_id, func.count(func.distinct(Order.member_id)))
            .where(Order.live_room_id == room.id, Order.sharer_id.in_(ids)).group_by(Order.sharer_id)).all())
    out = []
    for n, (member_id, _value) in enumerate(ranked, 1):
        row = info.get(member_id)
        out.append(Rank(n, member_id, (row.nickname if row else "") or "", (row.store if row else "") or "",
                        row.guide if row else None, row.viewers if row else 0, other.get(member_id, 0)))
    return out


def _sharer_store_in(scope: Scope):
    if scope.store_id is not None:
        return LiveSharer.store_id == scope.store_id
    return LiveSharer.store_id.in_(select(Store.id).where(scope.stores()))


def export_rows(fig: Figures, ranks_viewers: list[Rank], ranks_buyers: list[Rank], labels: dict[str, str]):
    """(figures rows, stores rows, leaderboard rows) for the CSV / workbook export."""
    metrics = [(labels["viewers"], fig.viewers), (labels["peak_online"], fig.peak_online),
               (labels["watch_seconds"], fig.watch_seconds), (labels["average_watch"], fig.average_watch_seconds),
               (labels["likes"], fig.likes), (labels["comments"], fig.comments), (labels["shares"], fig.shares),
               (labels["follows"], fig.follows), (labels["orders"], fig.orders),
               (labels["gmv"], f"{fig.gmv_fen / 100:.2f}"), (labels["buyers"], fig.buyers),
               (labels["conversion"], f"{fig.conversion * 100:.2f}%")]
    stores = [(s.code, s.name, s.viewers, s.orders, f"{s.gmv_fen / 100:.2f}", s.buyers) for s in fig.stores]
    board = [(labels["by_viewers"], r.rank, r.nickname, r.store, r.guide or "", r.viewers, r.buyers)
             for r in ranks_viewers]
    board += [(labels["by_buyers"], r.rank, r.nickname, r.store, r.guide or "", r.viewers, r.buyers)
              for r in ranks_buyers]
    return metrics, stores, board


__all__ = ["BUYERS", "RANKINGS", "TOP", "VIEWERS", "Figures", "Rank", "StoreFigures", "counter_row", "export_rows",
           "leaderboard", "owns", "room_figures"]
