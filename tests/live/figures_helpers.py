"""Rooms as rows and live events as a store's mini-program sends them, through the real signed API
(tests of the figures part: events, counters, figures)."""
from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from portal.extensions import db
from portal.live import counters
from portal.live.models import LIVE, LiveRoom, LiveRoomStore
from tests.api.signing import credential, signed_post

_ids = itertools.count(1)
T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _fresh_counters(app):
    """Each test starts with an empty in-process aggregator (the data of the last one is wiped)."""
    counters.reset()
    yield
    counters.reset()


def make_room(owner, *, carriers=(), status=LIVE, title="春季新品直播", commit=True, **kw) -> LiveRoom:
    """A store's room (``owner`` a Store) or a broadcast (an OrgNode) carried by ``carriers`` too,
    as rows (the rooms part's tests make theirs through the service: ``tests.live.helpers``)."""
    from portal.org.models import Store

    is_store = isinstance(owner, Store)
    room = LiveRoom(store_id=owner.id if is_store else None, node_id=None if is_store else owner.id,
                    path=owner.path, title=title, anchor=kw.pop("anchor", "小王"), status=status,
                    scheduled_start=kw.pop("scheduled_start", T0),
                    scheduled_end=kw.pop("scheduled_end", T0 + timedelta(hours=2)),
                    **kw)
    db.session.add(room)
    db.session.flush()
    stores = ([owner] if is_store else []) + list(carriers)
    for store in stores:
        db.session.add(LiveRoomStore(room_id=room.id, store_id=store.id, path=store.path))
    if commit:
        db.session.commit()
    else:
        db.session.flush()
    return room


def at(seconds: float) -> str:
    return (T0 + timedelta(seconds=seconds)).isoformat()


def ev(type_: str, data: dict, t: float = 0, *, id: str | None = None) -> dict:
    return {"id": id or f"lv{next(_ids)}", "type": type_, "occurred_at": at(t), "data": data}


def enter(room, openid, t=0, **extra):
    return ev("live.enter", {"room_id": room.id, "openid": openid, **extra}, t)


def leave(room, openid, t=0):
    return ev("live.leave", {"room_id": room.id, "openid": openid}, t)


def like(room, openid, count=1, t=0):
    return ev("live.like", {"room_id": room.id, "openid": openid, "count": count}, t)


def simple(type_, room, openid, t=0):
    return ev(type_, {"room_id": room.id, "openid": openid}, t)


class Sender:
    """A store's mini-program: signs each batch with the store's key."""

    def __init__(self, client, store):
        self.client, self.store = client, store
        self.cred = credential(store)

    def __call__(self, *events, expect: int = 200) -> list[dict]:
        r = signed_post(self.client, self.store.code, self.cred.key_id, self.cred.secret, {"events": list(events)})
        assert r.status_code == expect, r.get_data(as_text=True)[:500]
        return r.get_json()["results"] if expect == 200 else r.get_json()


def statuses(results) -> list[str]:
    return [r["status"] for r in results]


def room_row(room_id: int) -> dict:
    """The room's counters as the database holds them now."""
    from sqlalchemy import select

    db.session.expire_all()
    r = db.session.execute(select(LiveRoom.id, *[getattr(LiveRoom, n) for n in counters.ROOM_FIELDS],
                                  LiveRoom.online, LiveRoom.peak_online, LiveRoom.flushes)
                           .where(LiveRoom.id == room_id)).one()
    return dict(r._mapping)
