"""The live event types through the real signed API: rooms the store carries, viewers, sharers,
presence, subscriptions, follows, status; order.paid naming a room the store does not carry."""
from __future__ import annotations

from sqlalchemy import func, select

from portal.extensions import db
from portal.live import counters
from portal.live.models import ENDED, LIVE, LiveRoom, LiveSharer, LiveSubscription, LiveViewer
from portal.members.models import MemberIdentity
from tests.factories import make_guide
from tests.live.figures_helpers import (  # noqa: F401  (_fresh_counters: the autouse fixture)
    Sender,
    _fresh_counters,
    enter,
    ev,
    leave,
    like,
    make_room,
    room_row,
    simple,
    statuses,
)
from tests.orders.helpers import paid


def _viewers(room) -> dict[str, LiveViewer]:
    db.session.expire_all()
    rows = db.session.execute(select(MemberIdentity.openid, LiveViewer).join(
        MemberIdentity, MemberIdentity.member_id == LiveViewer.member_id).where(LiveViewer.room_id == room.id)).all()
    return {openid: v for openid, v in rows}


def test_enter_creates_one_viewer_per_member_with_store_sharer_guide_and_staff(client, org):
    store = org.stores["sh1"]
    room = make_room(store)
    guide = make_guide(store, code="G7")
    db.session.commit()
    send = Sender(client, store)
    results = send(enter(room, "o-a", 0, nickname="阿明", guide_code="G7"),
                   enter(room, "o-b", 5, sharer_openid="o-a"),
                   enter(room, "o-c", 6, sharer_openid="o-a", staff=True),
                   enter(room, "o-b", 7))                        # entering while present counts once
    assert statuses(results) == ["applied"] * 4
    viewers = _viewers(room)
    assert set(viewers) == {"o-a", "o-b", "o-c"}
    assert viewers["o-a"].guide_id == guide.id and viewers["o-a"].store_id == store.id
    assert viewers["o-b"].sharer_id == viewers["o-a"].member_id and not viewers["o-b"].staff
    assert viewers["o-c"].staff
    sharer = db.session.scalar(select(LiveSharer).where(LiveSharer.room_id == room.id))
    assert (sharer.member_id, sharer.viewers, sharer.store_id) == (viewers["o-a"].member_id, 2, store.id)
    counters.flush_all()
    assert room_row(room.id)["online"] == 3 and room_row(room.id)["peak_online"] == 3
    # o-b comes back after leaving: still one viewer, the sharer is not credited twice
    send(leave(room, "o-b", 60), enter(room, "o-b", 90, sharer_openid="o-c"))
    db.session.expire_all()
    assert db.session.scalar(select(LiveSharer.viewers).where(LiveSharer.member_id == viewers["o-a"].member_id)) == 2
    assert db.session.scalar(select(func.count()).select_from(LiveSharer)) == 1
    assert db.session.scalar(select(func.count()).select_from(LiveViewer)) == 3
    # A later batch's new viewer brought by the same sharer adds to the sharer's row.
    send(enter(room, "o-d", 100, sharer_openid="o-a"))
    db.session.expire_all()
    assert db.session.scalar(select(LiveSharer.viewers).where(LiveSharer.member_id == viewers["o-a"].member_id)) == 3
    assert db.session.scalar(select(func.count()).select_from(LiveSharer)) == 1
    send(leave(room, "o-d", 110))
    counters.flush_all()
    assert room_row(room.id)["viewers"] == 4                 # unique viewers: o-b's comeback counts once


def test_leave_adds_watch_time_and_leaves_out_of_order_in_a_batch(client, org):
    store = org.stores["sh1"]
    room = make_room(store)
    send = Sender(client, store)
    # the leave arrives before its enter in the batch
    send(leave(room, "o-a", 300), enter(room, "o-a", 0), enter(room, "o-b", 100), leave(room, "o-b", 160),
         leave(room, "o-z", 50))                                 # someone who never entered: nothing
    viewers = _viewers(room)
    assert viewers["o-a"].watch_seconds == 300 and viewers["o-a"].entered_at is None
    assert viewers["o-b"].watch_seconds == 60
    counters.flush_all()
    row = room_row(room.id)
    assert (row["watch_seconds"], row["online"], row["peak_online"]) == (360, 0, 2)


def test_events_for_a_room_the_store_does_not_carry_are_rejected_with_the_field(client, org):
    mine = make_room(org.stores["sh1"])
    other = make_room(org.stores["gd1"])
    send = Sender(client, org.stores["sh1"])
    bad = ev("live.like", {"room_id": 999_999, "openid": "o-a", "count": 3})
    results = send(enter(other, "o-a"), like(other, "o-a"), bad, like(mine, "o-a", 4),
                   ev("live.like", {"room_id": mine.id, "openid": "o-a", "count": 0}))
    assert statuses(results) == ["rejected", "rejected", "rejected", "applied", "rejected"]
    assert [r["error"]["field"] for r in results if r["error"]] == ["data.room_id"] * 3 + ["data.count"]
    assert db.session.scalar(select(func.count()).select_from(LiveViewer)) == 0
    counters.flush_all()
    assert room_row(mine.id)["likes"] == 4 and room_row(other.id)["likes"] == 0


def test_comments_shares_follows_subscriptions(client, org):
    store = org.stores["sh1"]
    room = make_room(store)
    send = Sender(client, store)
    send(enter(room, "o-a"), enter(room, "o-b"))
    results = send(simple("live.comment", room, "o-a"), simple("live.comment", room, "o-a"),
                   simple("live.comment", room, "o-b"), simple("live.share", room, "o-b"),
                   simple("live.follow", room, "o-a"), simple("live.follow", room, "o-a"),
                   simple("live.subscribe", room, "o-c"), simple("live.subscribe", room, "o-c"))
    assert statuses(results) == ["applied"] * 8
    counters.flush_all()
    row = room_row(room.id)
    assert (row["comments"], row["shares"], row["follows"]) == (3, 1, 1)
    viewers = _viewers(room)
    assert (viewers["o-a"].comments, viewers["o-a"].followed, viewers["o-b"].shares) == (2, True, 1)
    assert db.session.scalar(select(func.count()).select_from(LiveSubscription)) == 1


def test_status_events_move_the_room(client, org):
    store = org.stores["sh1"]
    room = make_room(store, status=102)
    send = Sender(client, store)
    assert statuses(send(ev("live.status", {"room_id": room.id, "status": 101}, 0))) == ["applied"]
    db.session.expire_all()
    assert db.session.get(LiveRoom, room.id).status == LIVE
    results = send(ev("live.status", {"room_id": room.id, "channels_status": 3}, 60),
                   ev("live.status", {"room_id": room.id}, 61))
    assert statuses(results) == ["applied", "rejected"] and results[1]["error"]["field"] == "data.status"
    db.session.expire_all()
    assert db.session.get(LiveRoom, room.id).status == ENDED


def test_order_paid_naming_a_room_the_store_does_not_carry_is_rejected(client, org):
    mine = make_room(org.stores["sh1"])
    other = make_room(org.stores["gd1"])
    broadcast = make_room(org.nodes["r_sh"], carriers=[org.stores["sh1"], org.stores["sh2"]])
    send = Sender(client, org.stores["sh1"])
    results = send(paid("NO1", live_room_id=other.id), paid("NO2", live_room_id=mine.id),
                   paid("NO3", live_room_id=broadcast.id), paid("NO4", live_room_id=987654))
    assert statuses(results) == ["rejected", "applied", "applied", "rejected"]
    assert results[0]["error"]["field"] == "data.live_room_id"


def _statements(store, events) -> int:
    from portal.ingest.services import ingest
    from tests.factories import sql_log

    with sql_log() as statements:
        results = ingest(store, events)
    db.session.commit()
    assert set(statuses(results)) == {"applied"}, results
    return len(statements)


def _mixed(room, prefix: str, n: int) -> list[dict]:
    events = [enter(room, f"{prefix}{i}", i, sharer_openid=f"{prefix}{i - 1}" if i % 4 else None) for i in range(n)]
    events += [like(room, f"{prefix}{i}", 3, i) for i in range(n)]
    events += [simple("live.comment", room, f"{prefix}{i}", i) for i in range(n)]
    events += [leave(room, f"{prefix}{i}", 100 + i) for i in range(0, n, 2)]
    return events


def test_a_batch_costs_the_same_statements_for_20_or_200_viewers(org):
    """Set-based: one read of the viewers a batch names, bulk writes; never a query per event."""
    store = org.stores["sh1"]
    room = make_room(store)
    small = _statements(store, _mixed(room, "s", 20))
    big = _statements(store, _mixed(room, "b", 140))
    assert big <= small + 2, (small, big)
    counters.flush_all()
    assert room_row(room.id)["likes"] == 3 * 160


def test_leaving_coming_back_and_leaving_again_inside_one_batch_counts_both_stays(client, org):
    store = org.stores["sh1"]
    room = make_room(store)
    send = Sender(client, store)
    # in the batch's order: both leaves first, then both enters (the mini-program's queue reordered)
    results = send(leave(room, "o-a", 100), leave(room, "o-a", 400), enter(room, "o-a", 0), enter(room, "o-a", 300),
                   enter(room, "o-b", 50), leave(room, "o-b", 10))        # o-b's leave came before its enter
    assert statuses(results) == ["applied"] * 6
    viewers = _viewers(room)
    assert viewers["o-a"].watch_seconds == 100 + 100 and viewers["o-a"].entered_at is None
    assert viewers["o-b"].watch_seconds == 0 and viewers["o-b"].entered_at is not None     # still watching
    send(leave(room, "o-b", 80), enter(room, "o-a", 500))              # the next batch
    viewers = _viewers(room)
    assert viewers["o-b"].watch_seconds == 30 and viewers["o-a"].entered_at is not None
    counters.flush_all()
    row = room_row(room.id)
    # o-a in 0-100, 300-400, 500-; o-b in 50-80: at most two at once, one now
    assert (row["watch_seconds"], row["online"], row["peak_online"]) == (230, 1, 2)


def test_the_end_of_the_room_closes_the_stays_of_those_still_watching(client, org):
    store = org.stores["sh1"]
    room = make_room(store)
    send = Sender(client, store)
    send(enter(room, "o-a", 0), enter(room, "o-b", 60), leave(room, "o-b", 120), enter(room, "o-c", 100))
    assert statuses(send(ev("live.status", {"room_id": room.id, "status": 103}, 600))) == ["applied"]
    viewers = _viewers(room)
    assert {k: (v.watch_seconds, v.entered_at) for k, v in viewers.items()} == {
        "o-a": (600, None), "o-b": (60, None), "o-c": (500, None)}
    counters.flush_all()
    row = room_row(room.id)
    assert (row["watch_seconds"], row["online"], row["peak_online"]) == (1160, 0, 3)


def test_the_openapi_document_lists_the_live_event_types(client):
    text = client.get("/api/v1/openapi.json").get_data(as_text=True)
    for type_ in ("live.enter", "live.leave", "live.like", "live.comment", "live.share", "live.subscribe",
                  "live.follow", "live.status"):
        assert f'"{type_}"' in text, type_
