"""A room's status: WeChat's codes (101 live … 107 expired), moved by reported events.

MINIMAL VERSION written by the figures part so ``live.status`` events work; the rooms part owns
this module (clock moves, the 107 rule, audit): the lead keeps theirs and checks that it offers
``set_status(store, [(room_id, code, at)])`` and ``from_channels(state)``.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from portal.extensions import db
from portal.live.models import ABNORMAL, ENDED, LIVE, NOT_STARTED, LiveRoom

# Channels live's own states: 1 never live, 2 live, 3 ended, 4 preparing.
CHANNELS_STATES = {1: NOT_STARTED, 2: LIVE, 3: ENDED, 4: NOT_STARTED}


def from_channels(state: int) -> int:
    return CHANNELS_STATES.get(state, ABNORMAL)


def set_status(store, moves: list[tuple[int, int, datetime]]) -> None:
    """Apply reported status moves (room id, code, when) in order; the room's started_at / ended_at
    follow the first time it goes live / ends; when it ends, the stays of those still watching are
    closed (``portal.live.events.close_stays``)."""
    ids = {room_id for room_id, _c, _t in moves}
    rooms = {r.id: r for r in db.session.scalars(select(LiveRoom).where(LiveRoom.id.in_(ids)))}
    ended = []
    for room_id, code, at in sorted(moves, key=lambda m: m[2]):
        room = rooms.get(room_id)
        if room is None:
            continue
        room.status = code
        if code == LIVE and room.started_at is None:
            room.started_at = at
        if code == ENDED and room.ended_at is None:
            room.ended_at = at
            ended.append((room.id, at))
    db.session.flush()
    if ended:
        from portal.live.events import close_stays

        close_stays(ended)           # viewers still watching when it ended: their stays end with it


__all__ = ["CHANNELS_STATES", "from_channels", "set_status"]
