"""Rooms as the acting scope sees them.

LEAD: a minimal version written by the lottery part (live-lottery branch) because the rooms part's
``portal/live/services.py`` was not on main yet; keep the rooms part's ``get_room_or_404`` and
``manages`` (same signatures) and drop this file's copy when merging.
"""
from __future__ import annotations

from flask import abort
from sqlalchemy import exists, or_, select

from portal.extensions import db
from portal.live.models import LiveRoom, LiveRoomStore
from portal.org.scope import Scope


def visible_rooms(scope: Scope):
    """Rooms the scope sees: those it owns (a store's room, a node's broadcast in its subtree) and
    the broadcasts one of its stores carries."""
    carried = exists().where(LiveRoomStore.room_id == LiveRoom.id,
                             scope.store_rows(LiveRoomStore.store_id, LiveRoomStore.path))
    return or_(scope.store_rows(LiveRoom.store_id, LiveRoom.path), scope.paths(LiveRoom.path), carried)


def get_room_or_404(scope: Scope, room_id: int) -> LiveRoom:
    room = db.session.scalar(select(LiveRoom).where(LiveRoom.id == room_id, visible_rooms(scope)))
    if room is None:
        abort(404)
    return room


def manages(scope: Scope, room: LiveRoom) -> bool:
    """The scope runs the room: its store's own room, or a room whose owner lies in its subtree."""
    if scope.store_id is not None:
        return room.store_id == scope.store_id
    return scope.covers_path(room.path)
