"""The live rooms' periodic task, collected by ``portal.jobs``: every minute the clock moves the
statuses (``status.advance_statuses``: two UPDATEs for all rooms), then the provider is asked for
the statuses of the rooms it knows that are due or on air, and for the replays of rooms that
ended without one. A job commits for itself.

``live-flush-counters``: a safety net behind the aggregator's own timer (``portal.live.counters``):
with Redis, deltas a worker added just before it stopped wait for the next event of any worker;
this flushes them within LIVE_FLUSH_CHECK_SECONDS instead.

``live-reminders``: rooms that are live and were not reminded today get their reminders queued
(a status moved by the clock or an event without ``remind_started`` being called), then the
outbox is drained. Both steps are idempotent (one push per room per day, unique outbox rows)."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from portal.extensions import db
from portal.jobs import periodic
from portal.kernel.time import utcnow
from portal.live import counters, reminders, services
from portal.live.models import ENDED, LIVE, NOT_STARTED, PAUSED, LiveRoom
from portal.live.providers import WeChatError, get_provider
from portal.live.status import advance_statuses, apply_status

SYNC_BATCH = 500
REPLAY_BATCH = 50


def sync_rooms() -> dict[str, int]:
    now = utcnow()
    moved = advance_statuses(now)
    db.session.commit()
    provider = get_provider()
    due = list(db.session.scalars(
        select(LiveRoom).where(LiveRoom.provider_room_id.is_not(None),
                               LiveRoom.status.in_((NOT_STARTED, LIVE, PAUSED)),
                               LiveRoom.scheduled_start <= now + timedelta(minutes=30))
        .order_by(LiveRoom.scheduled_start).limit(SYNC_BATCH)))
    synced = 0
    if due:
        try:
            synced = apply_status(provider.sync_status(due))
        except (WeChatError, OSError):
            db.session.rollback()
        db.session.commit()
    replays = {}
    waiting = list(db.session.scalars(
        select(LiveRoom).where(LiveRoom.provider_room_id.is_not(None), LiveRoom.status == ENDED,
                               LiveRoom.replay_url.is_(None), LiveRoom.scheduled_end >= now - timedelta(days=7))
        .order_by(LiveRoom.scheduled_end.desc()).limit(REPLAY_BATCH)))
    for room in waiting:
        try:
            url = provider.fetch_replay(room)
        except (WeChatError, OSError):
            continue
        if url:
            replays[room.id] = url
    services.set_replay(replays)
    db.session.commit()
    return {**moved, "synced": synced, "replays": len(replays)}


periodic("live-sync-rooms", sync_rooms, every="LIVE_SYNC_SECONDS")


def flush_live_counters() -> None:
    """Write what the aggregator holds (it commits for itself)."""
    counters.flush_all()


periodic("live-flush-counters", flush_live_counters, every="LIVE_FLUSH_CHECK_SECONDS")


def remind_and_send() -> int:
    due = reminders.due_rooms()
    if due:
        reminders.remind_started(due)
        db.session.commit()
    return reminders.drain_outbox()


periodic("live-reminders", remind_and_send, every=60)
