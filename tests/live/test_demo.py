"""The demo's live rooms (``portal.live.demo``), on the test database: every status, the HQ
broadcast carried by 上海区, figures that add up from the viewer rows, orders in the rooms, a
lottery anyone can re-run; the mini-program API and ``seed-demo`` show them."""
from __future__ import annotations

import hashlib
import hmac
from collections import Counter
from datetime import UTC, datetime

from sqlalchemy import func, select

from portal.live import demo as live_demo
from portal.live.models import (
    DRAWN,
    LIVE,
    STATUSES,
    LiveLottery,
    LiveLotteryEntrant,
    LiveLotteryWinner,
    LiveRoom,
    LiveRoomStore,
    LiveSharer,
    LiveSubscription,
    LiveViewer,
)

NOW = datetime(2026, 6, 1, 4, 0, tzinfo=UTC)


def _brand(db, n_stores: int = 30, member_stores: int = 30):
    from portal.campaigns.demo import seed_goods_and_campaign
    from portal.orders.demo import seed_members_and_orders
    from portal.org import demo
    from portal.org.models import User

    demo.seed_demo(n_stores)
    db.session.flush()
    hq = db.session.scalar(select(User).where(User.username == "hq"))
    seed_goods_and_campaign(hq)
    db.session.commit()
    if member_stores:
        seed_members_and_orders(hq, stores=member_stores, now=NOW)
        db.session.commit()
    return hq


def _sh_stores(db) -> set[int]:
    from portal.org import roles
    from portal.org.models import OrgNode, Store

    sh = db.session.scalar(select(OrgNode).where(OrgNode.code == "R-SH"))
    return set(db.session.scalars(select(Store.id).where(Store.path.startswith(sh.path),
                                                         Store.status == roles.STORE_ACTIVE)))


def test_demo_rooms_in_every_state_with_a_broadcast_carried_by_shanghai(app, db):
    from portal.org.models import OrgNode, User

    hq = _brand(db)
    out = live_demo.seed_live(hq, now=NOW)
    db.session.commit()

    statuses = Counter(db.session.scalars(select(LiveRoom.status)))
    assert set(statuses) == set(STATUSES), statuses          # 101 … 107, each at least once
    broadcast = db.session.get(LiveRoom, out["broadcast_id"])
    assert broadcast.is_broadcast and broadcast.status == LIVE
    assert db.session.get(OrgNode, broadcast.node_id).code == "HQ"
    carriers = set(db.session.scalars(select(LiveRoomStore.store_id).where(LiveRoomStore.room_id == broadcast.id)))
    assert carriers == _sh_stores(db) and len(carriers) > 1
    # Its viewers come from the carrying stores, each attributed to their own store's entry
    viewer_stores = set(db.session.scalars(select(LiveViewer.store_id).where(LiveViewer.room_id == broadcast.id)))
    assert viewer_stores and viewer_stores <= carriers and len(viewer_stores) > 1
    # Every store room has its own store's entry
    own = db.session.execute(select(LiveRoom.id, LiveRoom.store_id).where(LiveRoom.store_id.is_not(None))).all()
    entries = set(db.session.execute(select(LiveRoomStore.room_id, LiveRoomStore.store_id)).all())
    assert all(tuple(r) in entries for r in own)
    # The owner's store has rooms upcoming, live, ended (with a replay) and expired
    owner = db.session.scalar(select(User).where(User.username == "owner"))
    mine = {r.status: r for r in db.session.scalars(select(LiveRoom).where(LiveRoom.store_id == owner.store_id))}
    assert {101, 102, 103, 107} <= set(mine)
    assert mine[103].replay_url and mine[103].ended_at and mine[107].started_at is None
    assert db.session.scalar(select(func.count()).select_from(LiveSubscription)
                             .where(LiveSubscription.room_id == mine[102].id)) > 0


def test_demo_figures_are_consistent_with_the_viewer_rows(app, db):
    from portal.orders.models import Order

    hq = _brand(db)
    live_demo.seed_live(hq, now=NOW)
    db.session.commit()

    rooms = db.session.scalars(select(LiveRoom).where(LiveRoom.started_at.is_not(None))).all()
    checked = 0
    for room in rooms:
        viewers = db.session.scalars(select(LiveViewer).where(LiveViewer.room_id == room.id)).all()
        if not viewers:
            continue
        checked += 1
        assert room.comments == sum(v.comments for v in viewers)
        assert room.shares == sum(v.shares for v in viewers)
        assert room.follows == sum(v.followed for v in viewers)
        assert room.watch_seconds == sum(v.watch_seconds for v in viewers)
        assert room.online == sum(1 for v in viewers if v.entered_at is not None)
        assert room.online <= room.peak_online <= len(viewers)
        assert room.viewers == len(viewers)
        assert room.entered_sum == sum(int(v.entered_at.timestamp()) for v in viewers if v.entered_at is not None)
        if room.status == 103:
            assert room.online == 0
        # The leaderboard: each sharer's viewers brought = the viewer rows naming them
        brought = Counter(v.sharer_id for v in viewers if v.sharer_id)
        sharers = {s.member_id: s.viewers for s in db.session.scalars(
            select(LiveSharer).where(LiveSharer.room_id == room.id))}
        assert sharers == dict(brought)
        shares = {v.member_id: v.shares for v in viewers}
        assert all(shares[m] >= 1 for m in sharers)
        # Orders in the room are its viewers' and paid while it was on
        buyers = db.session.execute(select(Order.member_id, Order.paid_at).where(Order.live_room_id == room.id)).all()
        ids = {v.member_id for v in viewers}
        end = room.ended_at or NOW
        assert all(m in ids and room.started_at <= at.replace(tzinfo=UTC) <= end for m, at in buyers)
    assert checked >= 4
    # What the owner's room page shows for the ended room: its viewers, from the counters
    from portal.live.figures import room_figures
    from portal.org.models import User
    from portal.org.scope import scope_for

    owner = db.session.scalar(select(User).where(User.username == "owner"))
    ended = db.session.scalar(select(LiveRoom).where(LiveRoom.store_id == owner.store_id, LiveRoom.status == 103))
    shown = room_figures(scope_for(owner), ended)
    n = db.session.scalar(select(func.count()).select_from(LiveViewer).where(LiveViewer.room_id == ended.id))
    assert shown.viewers == n > 0 and shown.comments == ended.comments and shown.orders > 0
    assert db.session.scalar(select(func.count()).select_from(Order).where(Order.live_room_id.is_not(None))) > 0


def test_the_demo_lottery_reruns_from_its_revealed_seed(app, db):
    hq = _brand(db)
    out = live_demo.seed_live(hq, now=NOW)
    db.session.commit()

    lottery = db.session.get(LiveLottery, out["lottery_id"])
    assert lottery.status == DRAWN and lottery.seed_hash == hashlib.sha256(lottery.seed.encode()).hexdigest()
    viewers = db.session.scalars(select(LiveViewer).where(LiveViewer.room_id == lottery.room_id)).all()
    eligible = [v.member_id for v in viewers if v.shares >= max(1, lottery.min_shares) and not v.staff]
    assert lottery.entrants == len(eligible) > lottery.winners_wanted
    assert any(v.staff for v in viewers)             # the staff watched, and cannot win
    rerun = sorted(eligible, key=lambda m: hmac.new(lottery.seed.encode(), str(m).encode(),
                                                    hashlib.sha256).hexdigest())[:lottery.winners_wanted]
    winners = db.session.scalars(select(LiveLotteryWinner.member_id).where(LiveLotteryWinner.lottery_id == lottery.id)
                                 .order_by(LiveLotteryWinner.rank)).all()
    assert winners == rerun
    staff = {v.member_id for v in viewers if v.staff}
    assert not staff & set(winners)
    # The page shows the winners with their masked names: the draw's entrant list has them.
    assert db.session.scalar(select(func.count()).select_from(LiveLotteryEntrant)
                             .where(LiveLotteryEntrant.lottery_id == lottery.id)) == lottery.entrants
    announced = db.session.scalar(select(LiveLottery).where(LiveLottery.status == "announced"))
    assert announced.seed_hash == hashlib.sha256(announced.seed.encode()).hexdigest()


def test_the_demo_at_a_few_stores_without_members_still_has_every_state(app, db):
    hq = _brand(db, n_stores=12, member_stores=0)
    out = live_demo.seed_live(hq, now=NOW)
    db.session.commit()
    assert set(Counter(db.session.scalars(select(LiveRoom.status)))) == set(STATUSES), out
    assert out["viewers"] == 0 and out["orders"] == 0


def test_seed_demo_loads_the_live_rooms_and_the_api_lists_the_broadcast(app, db, client):
    from portal.api.services import issue_key
    from portal.org.models import Store

    result = app.test_cli_runner().invoke(args=["seed-demo", "--stores", "40", "--member-stores", "8"])
    assert result.exit_code == 0, result.output
    assert "Live rooms:" in result.output
    broadcast = db.session.scalar(select(LiveRoom).where(LiveRoom.node_id.is_not(None)))
    store = db.session.get(Store, sorted(_sh_stores(db))[-1])
    _row, key = issue_key(store, actor=None)
    db.session.commit()
    rooms = client.get(f"/api/v1/stores/{store.code}/live-rooms",
                       headers={"Authorization": f"Bearer {key}"}).get_json()["rooms"]
    assert broadcast.id in {r["id"] for r in rooms}
    shown = next(r for r in rooms if r["id"] == broadcast.id)
    assert shown["broadcast"] is True and shown["title"] == live_demo.BROADCAST_TITLE and shown["goods"]
    # --reset wipes the live rooms with the rest and loads them again
    again = app.test_cli_runner().invoke(args=["seed-demo", "--stores", "40", "--member-stores", "8", "--reset"])
    assert again.exit_code == 0, again.output
    assert db.session.scalar(select(func.count()).select_from(LiveRoom).where(LiveRoom.node_id.is_not(None))) == 1
