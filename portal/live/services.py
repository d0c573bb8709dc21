"""Rooms as the acting scope sees them.

MINIMAL VERSION written by the figures part (``get_room_or_404``, ``visible_rooms``); the rooms
part owns this module: the lead keeps theirs and checks it offers the same.
"""
from __future__ import annotations

from flask import abort
from sqlalchemy import exists, or_, select

from portal.extensions import db
from portal.live.models import LiveRoom, LiveRoomStore
from portal.org.scope import Scope


def visible_rooms(scope: Scope):
    """The SQL condition on ``LiveRoom``: rooms owned in the scope or carried by one of its stores."""
    carried = exists().where(LiveRoomStore.room_id == LiveRoom.id,
                             scope.store_rows(LiveRoomStore.store_id, LiveRoomStore.path))
    return or_(scope.paths(LiveRoom.path), carried)


def get_room_or_404(scope: Scope, room_id: int) -> LiveRoom:
    room = db.session.scalar(select(LiveRoom).where(LiveRoom.id == room_id, visible_rooms(scope)))
    if room is None:
        abort(404)
    return room


__all__ = ["get_room_or_404", "visible_rooms"]
