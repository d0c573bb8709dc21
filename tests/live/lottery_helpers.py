"""Rooms and viewers as rows, for the lottery, reminder and coupon tests (the rooms and figures
parts build them through their services; these tests need only the rows)."""
from __future__ import annotations

from datetime import timedelta

from portal.extensions import db
from portal.kernel.time import utcnow
from portal.live.models import NOT_STARTED, LiveRoom, LiveSubscription, LiveViewer
from tests.factories import make_member
from tests.live.figures_helpers import make_room as rows_room


def make_room(store=None, *, node=None, carried_by=(), title="春季新品直播", status=NOT_STARTED) -> LiveRoom:
    """A room starting in an hour, not committed: ``tests.live.figures_helpers.make_room``."""
    start = utcnow() + timedelta(hours=1)
    return rows_room(store or node, carriers=carried_by, status=status, title=title, anchor="小美", commit=False,
                     scheduled_start=start, scheduled_end=start + timedelta(hours=2))


def watch(room, store, member=None, *, comments=0, shares=0, staff=False, nickname=None, **kw):
    """A member (made if not given) who entered ``room`` through ``store``'s entry."""
    member = member or make_member(store, nickname, **kw)
    db.session.add(LiveViewer(room_id=room.id, member_id=member.id, store_id=store.id, staff=staff,
                              first_entered_at=utcnow(), comments=comments, shares=shares))
    db.session.flush()
    return member


def subscribe(room, store, member):
    db.session.add(LiveSubscription(room_id=room.id, member_id=member.id, store_id=store.id))
    db.session.flush()
