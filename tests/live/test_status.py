"""Statuses moved by the clock (the 107 rule, live rooms ending) and by reports; Channels mapping."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from portal.extensions import db
from portal.kernel.time import utcnow
from portal.live import status
from portal.live.models import ENDED, EXPIRED, LIVE, NOT_STARTED, PAUSED, LiveRoom
from portal.live.tasks import sync_rooms
from tests.live.helpers import make_room


def _room(org, **kw):
    return make_room(org.users["owner1"], store=org.stores["sh1"], **kw)


def _move_window(room, start, end):
    db.session.execute(update(LiveRoom).where(LiveRoom.id == room.id).values(scheduled_start=start, scheduled_end=end))
    db.session.commit()


@pytest.mark.parametrize("state, code", [(1, NOT_STARTED), (2, LIVE), (3, ENDED), (4, NOT_STARTED)])
def test_channels_states_map_onto_wechat_codes(state, code):
    assert status.channels_code(state) == code


def test_an_unknown_channels_state_is_refused():
    with pytest.raises(ValueError):
        status.channels_code(5)


def test_a_room_never_started_expires_once_its_end_has_passed(org):
    room, later = _room(org), _room(org, title="晚场直播")
    now = utcnow()
    _move_window(room, now - timedelta(hours=3), now - timedelta(minutes=1))
    moved = status.advance_statuses(now)
    db.session.commit()
    assert moved["expired"] == 1
    assert db.session.get(LiveRoom, room.id).status == EXPIRED
    assert db.session.get(LiveRoom, later.id).status == NOT_STARTED


def test_a_live_room_past_its_end_is_ended_at_its_end(org):
    room, paused = _room(org), _room(org, title="暂停的直播")
    now = utcnow()
    status.apply_status([(room.id, LIVE, now), (paused.id, PAUSED, now)])
    db.session.commit()
    end = now - timedelta(minutes=1)
    _move_window(room, now - timedelta(hours=2), end)
    _move_window(paused, now - timedelta(hours=2), end)
    assert status.advance_statuses(now)["ended"] == 2
    db.session.commit()
    for rid in (room.id, paused.id):
        got = db.session.get(LiveRoom, rid)
        assert got.status == ENDED and got.ended_at == end.replace(microsecond=end.microsecond)


def test_advancing_is_a_few_statements_whatever_the_rooms(org):
    from tests.factories import sql_log
    rooms = [_room(org, title=f"直播第{i}场") for i in range(5)]
    now = utcnow()
    for r in rooms:
        _move_window(r, now - timedelta(hours=3), now - timedelta(hours=1))
    with sql_log() as seen:
        assert status.advance_statuses(now)["expired"] == 5
    assert len([s for s in seen if s.lstrip().upper().startswith("UPDATE")]) == 2


def test_reported_statuses_set_the_start_and_the_end(org):
    room = _room(org)
    went_live = utcnow()
    status.apply_status([(room.id, LIVE, went_live)])
    db.session.commit()
    got = db.session.get(LiveRoom, room.id)
    assert got.status == LIVE and got.started_at is not None and got.ended_at is None
    status.apply_status([(room.id, ENDED, went_live + timedelta(minutes=40))])
    db.session.commit()
    got = db.session.get(LiveRoom, room.id)
    assert got.status == ENDED and got.ended_at - got.started_at == timedelta(minutes=40)


def test_the_latest_report_wins_within_a_batch(org):
    room = _room(org)
    at = utcnow()
    status.apply_status([(room.id, ENDED, at + timedelta(minutes=5)), (room.id, LIVE, at)])
    db.session.commit()
    assert db.session.get(LiveRoom, room.id).status == ENDED


def test_wechat_saying_102_past_the_end_keeps_the_room_expired(org):
    room = _room(org)
    now = utcnow()
    _move_window(room, now - timedelta(hours=3), now - timedelta(hours=1))
    status.advance_statuses(now)
    status.apply_status([(room.id, NOT_STARTED, now)])
    db.session.commit()
    assert db.session.get(LiveRoom, room.id).status == EXPIRED


def test_set_status_ignores_rooms_the_store_does_not_carry(org):
    mine = _room(org)
    other = make_room(org.users["owner_gd"], store=org.stores["gd1"])
    assert status.set_status(org.stores["sh1"], [(mine.id, LIVE, utcnow()), (other.id, LIVE, utcnow())]) == 1
    db.session.commit()
    assert db.session.get(LiveRoom, mine.id).status == LIVE
    assert db.session.get(LiveRoom, other.id).status == NOT_STARTED


def test_the_periodic_sync_moves_by_clock_and_asks_the_provider(org, app):
    from portal.live.providers import get_provider
    due = _room(org, start_in=timedelta(minutes=15))
    stale = _room(org, title="过期的直播")
    now = utcnow()
    _move_window(stale, now - timedelta(hours=3), now - timedelta(hours=1))
    fake = get_provider()
    fake.statuses[db.session.get(LiveRoom, due.id).provider_room_id] = LIVE
    result = sync_rooms()
    assert result["expired"] == 1 and result["synced"] == 1
    assert db.session.get(LiveRoom, due.id).status == LIVE
    assert db.session.get(LiveRoom, stale.id).status == EXPIRED
    assert "sync_status" in fake.names()


def test_the_sync_fetches_a_replay_once_ended(org, app):
    from portal.live.providers import get_provider
    room = _room(org, start_in=timedelta(minutes=15))
    fake = get_provider()
    key = db.session.get(LiveRoom, room.id).provider_room_id
    status.apply_status([(room.id, ENDED, utcnow())])
    db.session.commit()
    fake.replays[key] = "https://example.com/replay/1.mp4"
    sync_rooms()
    assert db.session.get(LiveRoom, room.id).replay_url == "https://example.com/replay/1.mp4"


def test_the_sync_is_a_periodic_task():
    from portal.jobs import PERIODIC
    assert PERIODIC["live-sync-rooms"] == ("portal.live.tasks.sync_rooms", "LIVE_SYNC_SECONDS")
