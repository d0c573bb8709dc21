"""Demo live rooms, in every state, with figures that add up. Used by ``flask seed-demo`` after
the members and orders (``portal.orders.demo``), whose members become the rooms' viewers.

What the demo brand gets (deterministic: one seeded RNG; set-based at any store count: a few
multi-row INSERTs whatever the number of stores, one INSERT … SELECT for the broadcast's entries):

* an HQ broadcast (品牌日, Channels live), live now, carried by every active store of 上海区, its
  viewers the members of those stores, each attributed to their own store's entry;
* the demo owner's store: a room that ended yesterday (viewers, sharers, comments, orders in the
  room, a replay, and a drawn lottery among its sharers), one live now (viewers present, an
  announced lottery whose seed's hash is shown), one upcoming tomorrow (subscribers), and one
  that never started and expired (107);
* the next stores of 上海区: one banned (104), one paused (105), one abnormal (106) room;
* every other active store of 上海区: an upcoming room; every other store with members: a room
  that ended with its figures.

Viewers, sharers and per-viewer counts are rows written directly; the rooms' counter columns
(likes, comments, shares, follows, watch time, online, peak online, unique viewers and the
present viewers' summed entry times) are computed from those rows and written once
(``flushes`` = 1), so the figures are consistent with them: comments, shares, follows and watch
time are the viewers' sums, online the viewers present, peak online the
largest overlap of their watch intervals. Orders in a room are ``order.paid`` events with its
``live_room_id``, applied through ``portal.ingest`` like any order (the ledger and the member's
figures follow). The lottery is written as ``portal.live.lottery`` draws one: seed (hex),
SHA-256 of the seed's text, winners the lowest HMAC-SHA256(seed, str(member id)) among eligible
entrants (``portal.live.lottery``, which the demo calls).
"""
from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, insert, literal, select, update

from portal.extensions import db
from portal.kernel.errors import RuleError
from portal.kernel.sql import bulk_insert, bulk_update, next_ids
from portal.kernel.time import utcnow
from portal.live import lottery
from portal.live.models import (
    ABNORMAL,
    BANNED,
    CHANNELS,
    ENDED,
    EXPIRED,
    LIVE,
    MINIPROGRAM,
    NOT_STARTED,
    PAUSED,
    LiveLottery,
    LiveLotteryEntrant,
    LiveLotteryWinner,
    LiveReminder,
    LiveRoom,
    LiveRoomGoods,
    LiveRoomStore,
    LiveSharer,
    LiveSubscription,
    LiveViewer,
)
from portal.org.scope import scope_for

SEED = 2026_11
GOODS_PER_ROOM = 4
LOTTERY_WINNERS = 3
BROADCAST_TITLE = "鲜果时光·夏日新品品牌日"
ANCHORS = ["店长小林", "主播小鲜", "导购阿敏", "店长老陈", "主播橙子"]
TITLES = ["本周新品抢先看", "会员日限时福利", "店长推荐·夏日饮品", "周末甜品专场", "新品试饮直播"]


@dataclass
class Viewer:
    member_id: int
    store_id: int
    guide_id: int | None
    openid: str | None
    unionid: str | None


# --------------------------------------------------------------------------- seeding

def seed_live(hq, *, now: datetime | None = None, seed: int = SEED) -> dict:
    """The demo's rooms, viewers, sharers, figures, orders and lotteries. Flushes; the caller
    commits. Returns counts for printing."""
    from portal.org import roles
    from portal.org.models import OrgNode, Store, User

    now = (now or utcnow()).replace(microsecond=0)
    rng = random.Random(seed)
    hq_node = db.session.get(OrgNode, hq.node_id)
    sh = db.session.scalar(select(OrgNode).where(OrgNode.code == "R-SH"))
    owner = db.session.scalar(select(User).where(User.username == "owner"))
    active = Store.status == roles.STORE_ACTIVE
    sh_stores = db.session.scalars(select(Store).where(active, Store.path.startswith(sh.path))
                                   .order_by(Store.code)).all() if sh else []
    owner_store = db.session.get(Store, owner.store_id) if owner and owner.store_id else None
    if owner_store is None:
        owner_store = sh_stores[0] if sh_stores else db.session.scalar(select(Store).where(active).order_by(Store.code))
    if owner_store is None:
        return {"rooms": 0}
    others = [s for s in sh_stores if s.id != owner_store.id]
    products = _products()
    audience = _audience()
    by_store: dict[int, list[Viewer]] = {}
    for v in audience:
        by_store.setdefault(v.store_id, []).append(v)

    rooms: list[dict] = []

    def room(owner_obj, status, start, hours=2.0, **kw) -> dict:
        is_store = isinstance(owner_obj, Store)
        end = start + timedelta(hours=hours)
        started = start + timedelta(minutes=1) if status in (LIVE, ENDED, BANNED, PAUSED, ABNORMAL) else None
        ended = min(end, now) if status in (ENDED, BANNED) else None
        spec = {"store_id": owner_obj.id if is_store else None, "node_id": None if is_store else owner_obj.id,
                "path": owner_obj.path, "title": kw.pop("title", rng.choice(TITLES)),
                "cover_url": "", "anchor": kw.pop("anchor", rng.choice(ANCHORS)),
                "provider": kw.pop("provider", CHANNELS), "status": status, "scheduled_start": start,
                "scheduled_end": end, "started_at": started, "ended_at": ended,
                "options": {"comments": True, "likes": True, "shelf": True, "replay": True, "sharing": True},
                "replay_url": None, "provider_room_id": None, "created_by_id": None, **kw}
        rooms.append(spec)
        return spec

    half_hour = now.replace(minute=0, second=0) + timedelta(minutes=30 if now.minute < 30 else 60)
    broadcast = room(hq_node, LIVE, now - timedelta(minutes=45), title=BROADCAST_TITLE, anchor="品牌主播 小鲜",
                     created_by_id=hq.id) if hq_node is not None and sh_stores else None
    ended = room(owner_store, ENDED, now - timedelta(days=1, hours=2), title="店长推荐·夏日饮品",
                 created_by_id=owner.id if owner else None)
    live = room(owner_store, LIVE, now - timedelta(minutes=20), title="周末甜品专场",
                created_by_id=owner.id if owner else None)
    upcoming = room(owner_store, NOT_STARTED, half_hour + timedelta(days=1, minutes=10), title="本周新品抢先看",
                    provider=MINIPROGRAM, created_by_id=owner.id if owner else None)
    room(owner_store, EXPIRED, now - timedelta(days=3), title="会员日限时福利")
    odd = (others + [owner_store] * 3)[:3]
    room(odd[0], BANNED, now - timedelta(days=2))
    paused = room(odd[1], PAUSED, now - timedelta(minutes=35))
    room(odd[2], ABNORMAL, now - timedelta(minutes=50))
    for store in others[3:]:
        room(store, NOT_STARTED, half_hour + timedelta(days=rng.randint(1, 6), hours=rng.randint(0, 8),
                                                           minutes=10))
    figured = [ended, live, paused] + ([broadcast] if broadcast else [])
    for store_id in sorted(by_store):
        if store_id != owner_store.id:
            figured.append(room(_store(store_id), ENDED, now - timedelta(days=rng.randint(2, 20), hours=3)))

    ids = next_ids(db.session, LiveRoom.__table__, len(rooms))
    for spec, room_id in zip(rooms, ids, strict=True):
        spec["id"] = room_id
        if spec["started_at"] is not None:
            spec["provider_room_id"] = f"demo-{room_id}"
        if spec["status"] == ENDED:
            spec["replay_url"] = f"https://channels.weixin.qq.com/replay/demo-{room_id}"
    bulk_insert(db.session, LiveRoom.__table__, rooms)
    # Every room's own store's entry; the broadcast's entries: one INSERT … SELECT of 上海区's stores
    bulk_insert(db.session, LiveRoomStore.__table__,
                [{"room_id": r["id"], "store_id": r["store_id"], "path": r["path"]} for r in rooms if r["store_id"]])
    if broadcast is not None:
        db.session.execute(insert(LiveRoomStore).from_select(
            ["room_id", "store_id", "path", "created_at"],
            select(literal(broadcast["id"]), Store.id, Store.path, literal(now, LiveRoomStore.created_at.type))
            .where(active, Store.path.startswith(sh.path))))
    if products:
        bulk_insert(db.session, LiveRoomGoods.__table__, [
            {"room_id": r["id"], "product_id": p, "position": k}
            for r in rooms for k, p in enumerate(rng.sample(products, min(GOODS_PER_ROOM, len(products))))])

    # Viewers, sharers and figures of the rooms that have been live
    viewer_rows, sharer_rows, figures, orders = [], [], [], 0
    for spec in figured:
        crowd = audience if spec is broadcast else by_store.get(spec["store_id"], [])
        if spec is broadcast:
            sh_ids = {s.id for s in sh_stores}
            crowd = [v for v in crowd if v.store_id in sh_ids]
        share = {ENDED: 0.8, LIVE: 0.6, PAUSED: 0.4}[spec["status"]]
        chosen = rng.sample(crowd, int(len(crowd) * share)) if crowd else []
        rows, sharers, counters = _watch(spec, chosen, rng, now, staff=2 if spec is ended else 0)
        viewer_rows += rows
        sharer_rows += sharers
        figures.append(counters)
        spec["viewers"] = (chosen, rows)
    bulk_insert(db.session, LiveViewer.__table__, viewer_rows)
    bulk_insert(db.session, LiveSharer.__table__, sharer_rows)
    bulk_update(db.session, LiveRoom.__table__, figures)

    # Subscribers of the owner's upcoming room
    mine = by_store.get(owner_store.id, [])
    subs = rng.sample(mine, len(mine) // 3) if mine else []
    bulk_insert(db.session, LiveSubscription.__table__, [
        {"room_id": upcoming["id"], "member_id": v.member_id, "store_id": v.store_id,
         "created_at": now - timedelta(hours=rng.randint(1, 20))} for v in subs])

    # Orders in the rooms, through the real ingestion path
    orders = _orders([s for s in figured if s["status"] in (ENDED, LIVE)], rng, now)

    # The ended room's drawn lottery among its sharers; the live room's announced one
    lottery = _lotteries(ended, live, rng, owner)
    db.session.flush()
    statuses = Counter(r["status"] for r in rooms)
    return {"rooms": len(rooms), "statuses": dict(statuses), "viewers": len(viewer_rows),
            "sharers": len(sharer_rows), "orders": orders, "subscribers": len(subs),
            "broadcast_id": broadcast["id"] if broadcast else None, "lottery_id": lottery}


def _store(store_id: int):
    from portal.org.models import Store

    return db.session.get(Store, store_id)


def _products() -> list[int]:
    from portal.goods.models import Product

    return list(db.session.scalars(select(Product.id).where(Product.store_id.is_(None), Product.archived.is_(False))
                                   .order_by(Product.code).limit(12)))


def _audience() -> list[Viewer]:
    """Every active member bound to a store, with their identity in that store's mini-program."""
    from portal.members.models import ACTIVE, Member, MemberIdentity

    rows = db.session.execute(
        select(Member.id, Member.store_id, Member.guide_id, MemberIdentity.openid, MemberIdentity.unionid)
        .join(MemberIdentity, (MemberIdentity.member_id == Member.id) & (MemberIdentity.store_id == Member.store_id))
        .where(Member.status == ACTIVE, Member.store_id.is_not(None)).order_by(Member.id, MemberIdentity.id)).all()
    seen, out = set(), []
    for member_id, store_id, guide_id, openid, unionid in rows:
        if member_id not in seen:
            seen.add(member_id)
            out.append(Viewer(member_id, store_id, guide_id, openid, unionid))
    return out


def _watch(spec: dict, chosen: list[Viewer], rng: random.Random, now: datetime, *, staff: int = 0):
    """The viewer rows of a room, its sharer rows, and its counters (computed from the rows)."""
    start = spec["started_at"]
    until = min(spec["scheduled_end"], now)
    on_air = spec["status"] in (LIVE, PAUSED)
    span = max(60.0, (until - start).total_seconds())
    rows, brought = [], Counter()
    entries = sorted(start + timedelta(seconds=int(rng.uniform(0, span * 0.8))) for _v in chosen)
    for k, (v, entered) in enumerate(zip(chosen, entries, strict=True)):
        sharer = None
        if k >= 3 and rng.random() < 0.45:
            sharer = rng.choice(rows[:max(3, k // 2)])["member_id"]
            brought[sharer] += 1
        present = on_air and rng.random() < 0.55
        watch = 0 if present else int(rng.uniform(30, max(31.0, (until - entered).total_seconds())))
        rows.append({"room_id": spec["id"], "member_id": v.member_id, "store_id": v.store_id, "sharer_id": sharer,
                     "guide_id": v.guide_id, "staff": k < staff, "first_entered_at": entered,
                     "entered_at": entered if present else None, "watch_seconds": watch,
                     "comments": rng.choice((0, 0, 0, 1, 1, 2, 3, 5)), "shares": 0,
                     "followed": rng.random() < 0.2})
    for row in rows:
        n = brought.get(row["member_id"], 0)
        row["shares"] = max(1, n // 2 + rng.randint(0, 2)) if n else (1 if rng.random() < 0.08 else 0)
    store_of = {r["member_id"]: r["store_id"] for r in rows}
    sharers = [{"room_id": spec["id"], "member_id": m, "store_id": store_of[m], "viewers": n}
               for m, n in brought.items()]
    # Peak online: the largest overlap of the watch intervals (present viewers are there until now)
    moves = []
    for r in rows:
        moves.append((r["first_entered_at"], 1))
        moves.append((now if r["entered_at"] else r["first_entered_at"] + timedelta(seconds=r["watch_seconds"]), -1))
    online = peak = 0
    for _at, step in sorted(moves, key=lambda m: (m[0], m[1])):
        online += step
        peak = max(peak, online)
    counters = {"id": spec["id"], "likes": sum(rng.randint(0, 80) for _ in rows),
                "comments": sum(r["comments"] for r in rows), "shares": sum(r["shares"] for r in rows),
                "follows": sum(r["followed"] for r in rows), "watch_seconds": sum(r["watch_seconds"] for r in rows),
                "online": sum(1 for r in rows if r["entered_at"]), "peak_online": peak, "viewers": len(rows),
                "entered_sum": sum(int(r["entered_at"].timestamp()) for r in rows if r["entered_at"]),
                "flushes": 1 if rows else 0}
    return rows, sharers, counters


def _orders(specs: list[dict], rng: random.Random, now: datetime) -> int:
    """About one viewer in six (staff aside) buys in the room: ``order.paid`` with its ``live_room_id``."""
    from portal.ingest.services import ingest
    from portal.orders.demo import EventMaker, Person, demo_menu

    menu = demo_menu()
    if not menu:
        return 0
    applied = 0
    for spec in specs:
        chosen, rows = spec.get("viewers", ([], []))
        per_store: dict[int, list[dict]] = {}
        makers: dict[int, EventMaker] = {}
        # A buyer a sharer brought names the sharer (of the same store's mini-program, whose openid
        # it knows): the leaderboard's "buyers brought".
        known = {c.member_id: c for c in chosen}
        for v, row in zip(chosen, rows, strict=True):
            if row["staff"] or v.openid is None or rng.random() >= 0.17:
                continue
            maker = makers.setdefault(v.store_id, EventMaker(random.Random(rng.random()),
                                                             f"live{spec['id']}-{v.store_id}", menu))
            last = min(spec["scheduled_end"], now) - timedelta(seconds=30)
            if last <= row["first_entered_at"] + timedelta(seconds=20):
                continue
            at = row["first_entered_at"] + timedelta(seconds=rng.uniform(20, max(21.0, (
                last - row["first_entered_at"]).total_seconds())))
            event, _order = maker.order(Person(openid=v.openid, unionid=v.unionid), min(at, last))
            event["data"]["live_room_id"] = spec["id"]
            sharer = known.get(row["sharer_id"])
            if sharer is not None and sharer.store_id == v.store_id and sharer.openid:
                event["data"]["sharer_openid"] = sharer.openid
            per_store.setdefault(v.store_id, []).append(event)
        for store_id, events in per_store.items():
            results = ingest(_store(store_id), events)
            bad = [r for r in results if r["status"] != "applied"]
            if bad:
                raise RuntimeError(f"demo live orders were refused: {bad[:3]}")
            applied += len(results)
    return applied


def _lotteries(ended: dict, live: dict, rng: random.Random, owner) -> int | None:
    """A drawn lottery among the ended room's sharers (staff excluded, at least one share, three
    winners), and an announced one on the live room (its seed's hash shown, the seed not yet).
    Both through ``portal.live.lottery``, as the owner would: the draw's entrants, winners and
    audit entry are the module's own."""
    if owner is None:
        return None
    scope = scope_for(owner)
    drawn = lottery.announce_lottery(scope, db.session.get(LiveRoom, ended["id"]), title="分享有礼·抽 3 位送新品券",
                                     pool="sharers", min_shares=1, exclude_staff=True, winners=LOTTERY_WINNERS,
                                     actor=owner)
    try:
        lottery.draw_lottery(scope, drawn, actor=owner)
    except RuleError:                   # no sharer in a tiny demo: the lottery stays announced
        pass
    lottery.announce_lottery(scope, db.session.get(LiveRoom, live["id"]), title="评论抽奖·送甜品一份",
                             pool="commenters", min_shares=0, exclude_staff=True, winners=1, actor=owner)
    return drawn.id


def wipe() -> None:
    """Delete every row of the live domain (``seed-demo --reset``), children first."""
    for model in (LiveLotteryWinner, LiveLotteryEntrant, LiveLottery, LiveReminder, LiveSubscription, LiveSharer,
                  LiveViewer, LiveRoomGoods, LiveRoomStore):
        db.session.execute(delete(model))
    from portal.orders.models import Order

    db.session.execute(update(Order).where(Order.live_room_id.is_not(None)).values(live_room_id=None))
    db.session.execute(delete(LiveRoom))


__all__ = ["seed_live", "wipe"]
