"""A room's status: WeChat's live codes, Channels live's states mapped onto them, and the moves
made by the clock (``advance_statuses``) and by reported events or provider syncs
(``apply_status`` / ``set_status``).

Codes: 101 live, 102 not started, 103 ended, 104 banned, 105 paused, 106 abnormal, 107 expired.
Channels live reports 1 never live, 2 live, 3 ended, 4 preparing: 1 and 4 are 102, 2 is 101, 3 is 103.

The clock's rules (``advance_statuses``), chosen so every room comes to rest:
- a room never started (102) whose scheduled end has passed is 107 expired — WeChat itself keeps
  reporting 102 there, so a later report of 102 past the end keeps it 107 (``apply_status``);
- a live or paused room (101/105) past its scheduled end is 103 ended, ``ended_at`` its scheduled
  end: WeChat closes a room at its end time, and a report that the anchor is still live (101 after
  that) opens it again.
Both are a single UPDATE each over every room, whatever their number.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from portal.extensions import db
from portal.kernel.sql import bulk_update
from portal.live import reminders
from portal.live.models import (
    ABNORMAL,
    BANNED,
    ENDED,
    EXPIRED,
    FINISHED_STATUSES,
    LIVE,
    NOT_STARTED,
    PAUSED,
    STATUSES,
    LiveRoom,
    LiveRoomStore,
)

LABELS = {LIVE: _l("Live now"), NOT_STARTED: _l("Not started"), ENDED: _l("Ended"), BANNED: _l("Banned"),
          PAUSED: _l("Paused"), ABNORMAL: _l("Abnormal"), EXPIRED: _l("Expired")}
BADGES = {LIVE: "bg-red text-red-fg", NOT_STARTED: "bg-blue-lt", ENDED: "bg-secondary-lt",
          BANNED: "bg-dark text-dark-fg", PAUSED: "bg-orange-lt", ABNORMAL: "bg-yellow-lt", EXPIRED: "bg-secondary-lt"}
# The list's three tabs
UPCOMING, ON_AIR, FINISHED = "upcoming", "live", "ended"
GROUPS = {UPCOMING: (NOT_STARTED,), ON_AIR: (LIVE, PAUSED), FINISHED: FINISHED_STATUSES}
GROUP_LABELS = {UPCOMING: _l("Upcoming"), ON_AIR: _l("Live now"), FINISHED: _l("Ended")}

# Channels live (视频号直播) states, as wx.getChannelsLiveInfo and the 视频号助手 API report them
CHANNELS_NEVER_LIVE, CHANNELS_LIVE, CHANNELS_ENDED, CHANNELS_PREPARING = 1, 2, 3, 4
CHANNELS_STATES = {CHANNELS_NEVER_LIVE: NOT_STARTED, CHANNELS_LIVE: LIVE, CHANNELS_ENDED: ENDED,
                   CHANNELS_PREPARING: NOT_STARTED}
CHANNELS_LABELS = {CHANNELS_NEVER_LIVE: _l("Never live"), CHANNELS_LIVE: _l("Live"), CHANNELS_ENDED: _l("Ended"),
                   CHANNELS_PREPARING: _l("Preparing")}


def label(code: int) -> str:
    return str(LABELS.get(code, code))


def group_of(code: int) -> str:
    return next((name for name, codes in GROUPS.items() if code in codes), FINISHED)


def channels_code(state: int) -> int:
    """The WeChat code of a Channels live state (1 never live, 2 live, 3 ended, 4 preparing)."""
    try:
        return CHANNELS_STATES[state]
    except KeyError:
        raise ValueError(f"Unknown Channels live state {state!r}") from None


from_channels = channels_code         # the name the live.status handler knows it by


def advance_statuses(now: datetime) -> dict[str, int]:
    """The clock's moves for every room at once (two UPDATE statements; see the module's docstring).
    Returns how many rooms expired and how many ended."""
    expired = db.session.execute(
        update(LiveRoom).where(LiveRoom.status == NOT_STARTED, LiveRoom.scheduled_end <= now)
        .values(status=EXPIRED).execution_options(synchronize_session=False)).rowcount
    ended = db.session.execute(
        update(LiveRoom).where(LiveRoom.status.in_((LIVE, PAUSED)), LiveRoom.scheduled_end <= now)
        .values(status=ENDED, ended_at=LiveRoom.scheduled_end)
        .returning(LiveRoom.id, LiveRoom.scheduled_end).execution_options(synchronize_session=False)).all()
    _close_stays([(room_id, end) for room_id, end in ended])
    return {"expired": expired or 0, "ended": len(ended)}


def _close_stays(ended: list[tuple[int, datetime]]) -> None:
    """Rooms that ended: the stays of the viewers still watching end with them."""
    if ended:
        from portal.live.events import close_stays  # the handlers sit beside this module and use it

        close_stays(ended)


def apply_status(changes: Iterable[tuple[int, int, datetime]]) -> int:
    """Reported statuses, ``(room_id, code, at)`` each (events, provider syncs): per room the latest
    report wins; 101 sets ``started_at`` (the first time) and clears an ``ended_at`` the clock set;
    103 sets ``ended_at``; a 102 past the room's end is 107 (WeChat keeps saying 102 there). Two
    statements whatever their number: one read of the rooms, one bulk update. Returns the rooms changed."""
    latest: dict[int, tuple[int, datetime]] = {}
    for room_id, code, at in changes:
        if code not in STATUSES:
            raise ValueError(f"Unknown live status {code!r}")
        if room_id not in latest or at >= latest[room_id][1]:
            latest[room_id] = (code, at)
    if not latest:
        return 0
    rooms = db.session.execute(select(LiveRoom.id, LiveRoom.status, LiveRoom.scheduled_end, LiveRoom.started_at,
                                      LiveRoom.ended_at).where(LiveRoom.id.in_(list(latest)))).all()
    rows = []
    already_ended = {room.id for room in rooms if room.ended_at is not None}
    for room in rooms:
        code, at = latest[room.id]
        started, ended = room.started_at, room.ended_at
        if code == NOT_STARTED and at >= room.scheduled_end:
            code = EXPIRED
        if code in (LIVE, PAUSED):
            if started is None:
                started = at
            if ended is not None and at >= ended:
                ended = None
        elif code == ENDED and ended is None:
            ended = at
        if (code, started, ended) != (room.status, room.started_at, room.ended_at):
            rows.append({"id": room.id, "status": code, "started_at": started, "ended_at": ended})
    bulk_update(db.session, LiveRoom.__table__, rows)
    if rows:
        db.session.expire_all()         # rooms already loaded show the new status
    _close_stays([(r["id"], r["ended_at"]) for r in rows if r["status"] == ENDED and r["ended_at"] is not None
                  and r["id"] not in already_ended])
    # Rooms that went live: their subscribers' reminders into the outbox (once per room and day).
    reminders.remind_started([r["id"] for r in rows if r["status"] == LIVE])
    return len(rows)


def set_status(store, changes: Iterable[tuple[int, int, datetime]]) -> int:
    """``apply_status`` for the rooms ``store`` carries (a report from its mini-program); changes
    for rooms it does not carry are ignored (the event handlers reject them before)."""
    changes = list(changes)
    if not changes:
        return 0
    carried = set(db.session.scalars(select(LiveRoomStore.room_id).where(
        LiveRoomStore.store_id == store.id, LiveRoomStore.room_id.in_({c[0] for c in changes}))))
    return apply_status(c for c in changes if c[0] in carried)


__all__ = ["LABELS", "BADGES", "GROUPS", "CHANNELS_STATES", "advance_statuses", "apply_status", "set_status",
           "channels_code", "label", "group_of"]
