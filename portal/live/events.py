"""What the mini-programs report about live rooms: ``live.enter``, ``live.leave``, ``live.like``,
``live.comment``, ``live.share``, ``live.subscribe``, ``live.follow``, ``live.status``.

Each handler takes all the events of its type in a batch, set-based: one read of the rooms the
store carries (an event naming another room is rejected with ``data.room_id``), one read of the
viewers the batch names, bulk inserts and updates; never a query per event. The room's counters
and the viewers' own counts (comments, shares) are not written here: they are staged as deltas
for the aggregator (``portal.live.counters``), which receives them when the request commits.

- ``live.enter`` resolves the viewer to a member (``members.resolve``, as orders do: an unknown
  openid creates one) and keeps one viewer row per (room, member): the store whose API received
  the enter (attribution), the sharer, the guide, the staff flag. A viewer entering while present
  counts once; a sharer's ``live_sharers.viewers`` grows by each *new* viewer they brought; each
  arrival is +1 online at its time.
- ``live.leave`` (applied after the batch's enters, which it replays with the leaves in the order
  they occurred: leaving and coming back inside one batch counts each stay): watch time += leave −
  entered_at, −1 online. A leave of a viewer not present is ignored.
- ``live.like`` (count), ``live.comment``, ``live.share``: counts only, no row. With Redis as the
  aggregator they leave no inbox row either: their ids are remembered by the aggregator in the
  step that counts them (``portal.ingest.registry``: ``own_claims``; ``counters.claim_add``), so a
  like storm costs the database nothing but the flushes. They run last in a batch.
- ``live.follow`` (once per viewer: new followers), ``live.subscribe`` (a ``live_subscriptions``
  row, once).
- ``live.status`` moves the room's status (``portal.live.status.set_status``).

Viewer store attribution: the store whose API received the enter is the viewer's ``store_id``.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime

import marshmallow as ma
from marshmallow import fields, validate, validates_schema
from sqlalchemy import select, text, tuple_

from portal.extensions import db
from portal.ingest.registry import AGGREGATED, DUPLICATE, IDEMPOTENCY_CONFLICT, LIVE, Event, Reject, handler
from portal.ingest.schemas import EventData, text_field
from portal.kernel.sql import among, bulk_insert, pg_array
from portal.live import counters
from portal.live.models import LiveRoom, LiveRoomStore, LiveSharer, LiveSubscription, LiveViewer
from portal.members import services as members

# Enters before leaves before the rest, inside one batch's live events: a leave finds its enter,
# a comment its viewer.
ENTER, LEAVE, OTHER = LIVE, LIVE + 1, LIVE + 2
ENTERS_NOTE = "live.enters:"      # what the enter handler tells the leave handler of the same batch
CARRIED_NOTE = "live.carried:"    # the rooms a store carries, as read once in the transaction
NOT_CARRIED = Reject("unknown_room", "This store carries no live room with this id.", "data.room_id")


def _room_id():
    return fields.Integer(required=True, strict=True, validate=validate.Range(1, 2**31 - 1))


class RoomEventSchema(EventData):
    room_id = _room_id()
    openid = text_field(64, required=True)


class EnterSchema(RoomEventSchema):
    unionid = text_field(64)
    nickname = text_field(64, min_len=0)
    sharer_openid = text_field(64)
    guide_code = text_field(32)
    staff = fields.Boolean(load_default=False)


class LikeSchema(RoomEventSchema):
    count = fields.Integer(load_default=1, strict=True, validate=validate.Range(1, 10_000))


class StatusSchema(EventData):
    room_id = _room_id()
    status = fields.Integer(load_default=None, allow_none=True, strict=True, validate=validate.Range(101, 107))
    channels_status = fields.Integer(load_default=None, allow_none=True, strict=True, validate=validate.Range(1, 4))

    @validates_schema
    def _one_of(self, data, **_kw):
        if (data["status"] is None) == (data["channels_status"] is None):
            raise ma.ValidationError("Give either status (101 to 107) or channels_status (1 to 4).", "status")


# --------------------------------------------------------------------------- shared steps

def _carried(store, events: list[Event], out: dict) -> tuple[list[Event], dict[int, tuple[int, int]]]:
    """The events whose room the store carries (the others rejected in ``out``), and those rooms'
    online and peak as stored (the aggregator's seed)."""
    wanted = {e.data["room_id"] for e in events}
    # Read once per transaction: the handlers of one batch (enters, leaves, likes …) ask for the
    # same rooms, and nothing in the request writes these columns (the aggregator's flush does).
    key = f"{CARRIED_NOTE}{store.id}"
    known: dict = {}
    for noted in counters.notes(db.session, key):
        known.update(noted)
    missing = wanted - known.keys()
    if missing:
        found = {rid: (online, peak) for rid, online, peak in db.session.execute(
            select(LiveRoom.id, LiveRoom.online, LiveRoom.peak_online)
            .join(LiveRoomStore, LiveRoomStore.room_id == LiveRoom.id)
            .where(LiveRoomStore.store_id == store.id, LiveRoom.id.in_(missing)))}
        fresh = {rid: found.get(rid) for rid in missing}
        counters.note(db.session, key, fresh)
        known.update(fresh)
    rooms = {rid: known[rid] for rid in wanted if known[rid] is not None}
    kept = []
    for e in events:
        if e.data["room_id"] in rooms:
            kept.append(e)
        else:
            out[e.index] = NOT_CARRIED
    return kept, rooms


def _members(store, events: list[Event]) -> dict[str, int]:
    """openid -> member id of the people the events name (an unknown openid creates a member)."""
    seen: dict[str, members.Person] = {}
    for e in events:
        seen.setdefault(e.data["openid"], members.Person(e.data["openid"], e.data.get("unionid"), None,
                                                         e.data.get("nickname")))
    return members.resolve(store, list(seen.values()), cause="signup", at=min(e.occurred_at for e in events))


def _viewers(pairs: set[tuple[int, int]]) -> dict[tuple[int, int], LiveViewer]:
    """The stored viewers of (room, member) ``pairs``: one read."""
    if not pairs:
        return {}
    rooms = {r for r, _m in pairs}
    people = {m for _r, m in pairs}
    rows = db.session.execute(
        select(LiveViewer.room_id, LiveViewer.member_id, LiveViewer.entered_at, LiveViewer.watch_seconds,
               LiveViewer.followed)
        .where(LiveViewer.room_id.in_(rooms), among(db.session, LiveViewer.member_id, people))).all()
    return {(r.room_id, r.member_id): r for r in rows if (r.room_id, r.member_id) in pairs}


def _in_order(events: list[Event]) -> list[Event]:
    return sorted(events, key=lambda e: (e.occurred_at, e.index))


# --------------------------------------------------------------------------- live.enter

@handler("live.enter", EnterSchema, phase=ENTER)
def live_enter(store, events: list[Event]) -> dict:
    """A viewer entered a room through this store's mini-program (with the sharer and guide who
    brought them, and whether they are staff)."""
    out: dict = {}
    events, rooms = _carried(store, events, out)
    if not events:
        return out
    sharers = [e for e in events if e.data["sharer_openid"]]
    causes = {e.data["openid"]: "share" for e in sharers}
    people = {}
    for e in events:
        people.setdefault(e.data["openid"], members.Person(e.data["openid"], e.data["unionid"], None,
                                                           e.data["nickname"]))
    for e in sharers:
        people.setdefault(e.data["sharer_openid"], members.Person(e.data["sharer_openid"]))
    ids = members.resolve(store, list(people.values()), cause="signup", at=min(e.occurred_at for e in events),
                          causes=causes)
    guides = members.guides_by_code(store, {e.data["guide_code"] for e in events if e.data["guide_code"]})
    known = _viewers({(e.data["room_id"], ids[e.data["openid"]]) for e in events})

    staged = counters.Staged()
    new: dict[tuple[int, int], dict] = {}
    again: dict[tuple[int, int], dict] = {}
    brought: dict[tuple[int, int], int] = defaultdict(int)
    entries: dict[tuple[int, int], tuple[bool, object, list]] = {}    # for the leaves of the batch
    for e in _in_order(events):
        d = e.data
        room_id, member_id = d["room_id"], ids[d["openid"]]
        key = (room_id, member_id)
        if key not in entries:
            before = known[key].entered_at if key in known else None
            entries[key] = (before is not None, before, [])
        entries[key][2].append((e.occurred_at, e.index))
        row = new.get(key) or again.get(key)
        if row is None and key in known:
            v = known[key]
            row = again[key] = {"room_id": room_id, "member_id": member_id, "entered_at": v.entered_at}
        if row is None:
            sharer = ids.get(d["sharer_openid"]) if d["sharer_openid"] else None
            sharer = sharer if sharer != member_id else None
            new[key] = {"room_id": room_id, "member_id": member_id, "store_id": store.id, "sharer_id": sharer,
                        "guide_id": guides.get(d["guide_code"]), "staff": bool(d["staff"]),
                        "first_entered_at": e.occurred_at, "entered_at": e.occurred_at, "watch_seconds": 0,
                        "comments": 0, "shares": 0, "followed": False}
            if sharer is not None:
                brought[(room_id, sharer)] += 1
            staged.add_room(room_id, "viewers", 1)
            _arrive(staged, room_id, e.occurred_at, e.index, rooms[room_id])
        elif row["entered_at"] is None:             # back in the room
            row["entered_at"] = e.occurred_at
            _arrive(staged, room_id, e.occurred_at, e.index, rooms[room_id])
        # else: entering while present counts once
    bulk_insert(db.session, LiveViewer.__table__, list(new.values()))
    changed = [{"room_id": r["room_id"], "member_id": r["member_id"], "entered_at": r["entered_at"]}
               for key, r in again.items() if r["entered_at"] != known[key].entered_at]
    _update_viewers(changed)
    _add_sharers(store, brought)
    counters.stage(db.session, staged)
    counters.note(db.session, f"{ENTERS_NOTE}{store.id}", entries)
    return out


def _epoch(t) -> int:
    return int(_aware(t).timestamp())


def _arrive(staged: counters.Staged, room_id: int, at, index: int, seed) -> None:
    """+1 online at ``at``; the entry time joins the room's ``entered_sum``."""
    staged.move(room_id, at, index, +1, seed)
    staged.add_room(room_id, "entered_sum", _epoch(at))


def _depart(staged: counters.Staged, room_id: int, at, index: int, since, seed) -> int:
    """−1 online at ``at`` for a stay begun at ``since``: its seconds (added to the room's watch)."""
    seconds = max(0, int((at - _aware(since)).total_seconds()))
    staged.move(room_id, at, index, -1, seed)
    staged.add_room(room_id, "entered_sum", -_epoch(since))
    staged.add_room(room_id, "watch_seconds", seconds)
    return seconds


def _update_viewers(rows: list[dict]) -> None:
    """Bulk update of viewer rows by (room, member)."""
    if not rows:
        return
    table = LiveViewer.__table__
    by_room: dict[int, list[dict]] = defaultdict(list)
    for row in rows:
        by_room[row["room_id"]].append(row)
    if db.session.get_bind().dialect.name == "postgresql":
        # bulk_update keys on one column: one statement per room of the batch (a batch names a few).
        for room_id, mine in by_room.items():
            keyed = [{k: v for k, v in r.items() if k != "room_id"} for r in mine]
            _bulk_update_room(table, room_id, keyed)
        return
    from sqlalchemy import and_, bindparam, update

    names = [n for n in rows[0] if n not in ("room_id", "member_id")]
    db.session.execute(update(table).where(and_(table.c.room_id == bindparam("b_room_id"),
                                                table.c.member_id == bindparam("b_member_id")))
                       .values({n: bindparam(f"b_{n}") for n in names}),
                       [{f"b_{k}": v for k, v in r.items()} for r in rows])


def _bulk_update_room(table, room_id: int, rows: list[dict]) -> None:
    names = [n for n in rows[0] if n != "member_id"]
    types = {"entered_at": "timestamptz", "watch_seconds": "integer", "followed": "boolean"}
    sets = ", ".join(f"{n} = u.{n}" for n in names)
    arrays = ", ".join(["CAST(:member_id AS bigint[])"] + [f"CAST(:{n} AS {types[n]}[])" for n in names])
    db.session.execute(text(f"UPDATE live_viewers AS t SET {sets} FROM unnest({arrays}) AS u(member_id, "
                            f"{', '.join(names)}) WHERE t.room_id = :room AND t.member_id = u.member_id"),
                       {"room": room_id, "member_id": pg_array([r["member_id"] for r in rows]),
                        **{n: pg_array([r[n] for r in rows]) for n in names}})


_SHARERS_PG = text(
    "INSERT INTO live_sharers (room_id, member_id, store_id, viewers)"
    " SELECT u.r, u.m, :store, u.n FROM unnest(CAST(:r AS integer[]), CAST(:m AS bigint[]), CAST(:n AS integer[]))"
    " AS u(r, m, n) ORDER BY u.r, u.m"
    " ON CONFLICT (room_id, member_id) DO UPDATE SET viewers = live_sharers.viewers + EXCLUDED.viewers")


def _add_sharers(store, brought: dict[tuple[int, int], int]) -> None:
    """``live_sharers.viewers`` += the new viewers each sharer brought, in one upsert (a new
    sharer's row is inserted with them). ``viewers + n``, not a value read: two batches adding at
    once both count; in key order, so two batches naming the same sharers queue, not deadlock."""
    if not brought:
        return
    keys = sorted(brought)
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(_SHARERS_PG, {"store": store.id, "r": pg_array([r for r, _m in keys]),
                                         "m": pg_array([m for _r, m in keys]),
                                         "n": pg_array([brought[k] for k in keys])})
        return
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    stmt = sqlite_insert(LiveSharer.__table__)
    db.session.execute(stmt.on_conflict_do_update(index_elements=["room_id", "member_id"],
                                                  set_={"viewers": LiveSharer.__table__.c.viewers
                                                        + stmt.excluded.viewers}),
                       [{"room_id": r, "member_id": m, "store_id": store.id, "viewers": brought[(r, m)]}
                        for r, m in keys])


# --------------------------------------------------------------------------- live.leave

@handler("live.leave", RoomEventSchema, phase=LEAVE)
def live_leave(store, events: list[Event]) -> dict:
    """A viewer left a room: their watch time grows by the time since they entered. A leave of a
    viewer not present counts nothing. Enters of the same batch (applied first) are replayed with
    the leaves in the order they occurred, so leaving, coming back and leaving again inside one
    batch counts both stays."""
    out: dict = {}
    events, rooms = _carried(store, events, out)
    if not events:
        return out
    ids = _known_members(store, events)
    known = _viewers({(e.data["room_id"], ids[e.data["openid"]]) for e in events if e.data["openid"] in ids})
    entered: dict = {}
    for noted in counters.notes(db.session, f"{ENTERS_NOTE}{store.id}"):
        for key, (was_in, since, times) in noted.items():
            if key in entered:
                entered[key][2].extend(times)
            else:
                entered[key] = (was_in, since, list(times))
    leaves: dict[tuple[int, int], list[Event]] = defaultdict(list)
    for e in events:
        key = (e.data["room_id"], ids.get(e.data["openid"]))
        if key in known:                            # never entered: nothing to count
            leaves[key].append(e)
    staged = counters.Staged()
    rows = []
    for key, mine in leaves.items():
        v = known[key]
        room_id = key[0]
        if key in entered:
            # From the viewer's state before the batch: its enters and leaves in time order. The
            # first arrival of someone who was away is staged already (by the enter handler).
            present, since, times = entered[key]
            skip_first = not present
            timeline = sorted([(t, i, +1) for t, i in times] + [(e.occurred_at, e.index, -1) for e in mine],
                              key=lambda x: (x[0], x[1]))
        else:
            present, since, skip_first = v.entered_at is not None, v.entered_at, False
            timeline = sorted(((e.occurred_at, e.index, -1) for e in mine), key=lambda x: (x[0], x[1]))
        watched = 0
        for at, index, step in timeline:
            if step > 0 and not present:
                present, since = True, at
                if skip_first:
                    skip_first = False              # staged by the enter handler
                else:
                    _arrive(staged, room_id, at, index, rooms[room_id])
            elif step < 0 and present:
                watched += _depart(staged, room_id, at, index, since, rooms[room_id])
                present, since = False, None
        entered_at = since if present else None
        if watched or entered_at != v.entered_at:
            rows.append({"room_id": room_id, "member_id": key[1], "entered_at": entered_at,
                         "watch_seconds": v.watch_seconds + watched})
    _update_viewers(rows)
    counters.stage(db.session, staged)
    return out


def _aware(t):
    from datetime import UTC

    return t if t.tzinfo is not None else t.replace(tzinfo=UTC)


def _known_members(store, events: list[Event]) -> dict[str, int]:
    """openid -> member id for the openids of ``events`` the store's mini-program knows (no new
    members: a leave, like or comment of someone who never entered creates nobody)."""
    from portal.members.models import MemberIdentity, appid_of

    openids = {e.data["openid"] for e in events}
    return dict(db.session.execute(select(MemberIdentity.openid, MemberIdentity.member_id).where(
        MemberIdentity.appid == appid_of(store), among(db.session, MemberIdentity.openid, openids))).all())


# --------------------------------------------------------------------------- likes, comments, shares, follows

def _remembers_ids() -> bool:
    """Whether the counters remember the counted events' ids (Redis): then likes, comments and
    shares leave no inbox row (``portal.ingest.registry``: ``own_claims``)."""
    return counters.aggregator().remembers_ids


def _count(store, events: list[Event], deltas) -> dict:
    """Count ``events`` (those of rooms the store carries): ``deltas(event) -> [(room id, member id
    | None, name, n)]`` (member None: the room's counter, else that viewer's).

    When the aggregator remembers ids, the rooms' counts go through its ``claim_add`` at once
    (each event counted once, duplicates and conflicts answered; taken back if the transaction
    rolls back). The viewers' own counts of the events counted are staged for the commit, as
    every count is otherwise: the viewer row they add to may be one this batch inserts, which a
    flush cannot see before the commit."""
    out: dict = {}
    events, _rooms = _carried(store, events, out)
    if not events:
        return out
    agg = counters.aggregator()
    staged = counters.Staged()
    if not agg.remembers_ids:
        for e in events:
            _add(staged, deltas(e))
        counters.stage(db.session, staged)
        return out
    from portal.ingest.services import keep_days

    items, mine = [], []
    for e in events:
        found = deltas(e)
        flat: dict[str, int] = {}
        for room_id, member_id, name, n in found:
            if member_id is None:
                key = counters.field_key(room_id, name)
                flat[key] = flat.get(key, 0) + n
        items.append((e.data["room_id"], e.id, e.body_hash[:16], flat))
        mine.append(found)
    counted = []
    for e, item, found, got in zip(events, items, mine, agg.claim_add(store.id, items, keep_days() * 86400),
                                   strict=True):
        if got == 0:
            counted.append(item)
            _add(staged, [d for d in found if d[1] is not None])
        elif got == 1:
            out[e.index] = DUPLICATE
        else:
            out[e.index] = IDEMPOTENCY_CONFLICT
    counters.claimed(db.session, store.id, counted)
    counters.stage(db.session, staged)
    return out


def _add(staged: counters.Staged, deltas) -> None:
    for room_id, member_id, name, n in deltas:
        if member_id is None:
            staged.add_room(room_id, name, n)
        else:
            staged.add_viewer(room_id, member_id, name, n)


@handler("live.like", LikeSchema, phase=AGGREGATED, own_claims=_remembers_ids)
def live_like(store, events: list[Event]) -> dict:
    """Likes in a room (``count`` taps at once)."""
    return _count(store, events, lambda e: [(e.data["room_id"], None, "likes", e.data["count"])])


def _counted(store, events: list[Event], name: str) -> dict:
    """A room's ``name`` counter +1 per event, and the viewer's own count when they entered: given
    for every member the store's mini-program knows, the flush's UPDATE … FROM of viewer rows
    joins only the viewers there are (no read of the viewers here)."""
    ids = _known_members(store, events)

    def deltas(e: Event):
        room_id, member_id = e.data["room_id"], ids.get(e.data["openid"])
        return [(room_id, None, name, 1)] + ([(room_id, member_id, name, 1)] if member_id is not None else [])

    return _count(store, events, deltas)


@handler("live.comment", RoomEventSchema, phase=AGGREGATED, own_claims=_remembers_ids)
def live_comment(store, events: list[Event]) -> dict:
    """A comment in a room."""
    return _counted(store, events, "comments")


@handler("live.share", RoomEventSchema, phase=AGGREGATED, own_claims=_remembers_ids)
def live_share(store, events: list[Event]) -> dict:
    """A viewer shared the room (the viewers it brings name them as sharer on their enter)."""
    return _counted(store, events, "shares")


@handler("live.follow", RoomEventSchema, phase=OTHER)
def live_follow(store, events: list[Event]) -> dict:
    """A viewer followed the anchor: a new follower counts once per room."""
    out: dict = {}
    events, _rooms = _carried(store, events, out)
    if not events:
        return out
    ids = _known_members(store, events)
    known = _viewers({(e.data["room_id"], ids[e.data["openid"]]) for e in events if e.data["openid"] in ids})
    staged = counters.Staged()
    rows, now_following = [], set()
    for e in events:
        key = (e.data["room_id"], ids.get(e.data["openid"]))
        v = known.get(key)
        if v is None or v.followed or key in now_following:
            continue
        now_following.add(key)
        rows.append({"room_id": key[0], "member_id": key[1], "followed": True})
        staged.add_room(key[0], "follows", 1)
    _update_viewers(rows)
    counters.stage(db.session, staged)
    return out


@handler("live.subscribe", RoomEventSchema, phase=OTHER)
def live_subscribe(store, events: list[Event]) -> dict:
    """A member asked to be reminded when the room starts (once per room)."""
    out: dict = {}
    events, _rooms = _carried(store, events, out)
    if not events:
        return out
    ids = _members(store, events)
    pairs = {(e.data["room_id"], ids[e.data["openid"]]) for e in events}
    have = set(db.session.execute(select(LiveSubscription.room_id, LiveSubscription.member_id).where(
        tuple_(LiveSubscription.room_id, LiveSubscription.member_id).in_(list(pairs)))).all())
    rows, seen = [], set(map(tuple, have))
    for e in _in_order(events):
        key = (e.data["room_id"], ids[e.data["openid"]])
        if key in seen:
            continue
        seen.add(key)
        rows.append({"room_id": key[0], "member_id": key[1], "store_id": store.id, "created_at": e.occurred_at})
    bulk_insert(db.session, LiveSubscription.__table__, rows)
    return out


# --------------------------------------------------------------------------- the end of a room

def close_stays(ends: list[tuple[int, datetime]]) -> int:
    """Close the stays of the viewers still in rooms that ended, at (room id, end): watch time up
    to the end, −1 online each (the mini-program sends no leave for those who were watching when
    the live stopped). Set-based: one read, one bulk update; the number of stays closed."""
    if not ends:
        return 0
    end_of = dict(ends)
    rows = db.session.execute(
        select(LiveViewer.room_id, LiveViewer.member_id, LiveViewer.entered_at, LiveViewer.watch_seconds)
        .where(LiveViewer.room_id.in_(end_of), LiveViewer.entered_at.is_not(None))).all()
    if not rows:
        return 0
    seeds = {rid: (online, peak) for rid, online, peak in db.session.execute(
        select(LiveRoom.id, LiveRoom.online, LiveRoom.peak_online).where(LiveRoom.id.in_(end_of)))}
    staged = counters.Staged()
    updates = []
    for r in rows:
        seconds = _depart(staged, r.room_id, end_of[r.room_id], 0, r.entered_at, seeds[r.room_id])
        updates.append({"room_id": r.room_id, "member_id": r.member_id, "entered_at": None,
                        "watch_seconds": r.watch_seconds + seconds})
    _update_viewers(updates)
    counters.stage(db.session, staged)
    return len(updates)


# --------------------------------------------------------------------------- live.status

@handler("live.status", StatusSchema, phase=OTHER)
def live_status(store, events: list[Event]) -> dict:
    """The room's status as the live provider reports it (WeChat's code, or Channels live's state)."""
    from portal.live import status

    out: dict = {}
    events, _rooms = _carried(store, events, out)
    moves = []
    for e in _in_order(events):
        code = e.data["status"] if e.data["status"] is not None else status.from_channels(e.data["channels_status"])
        moves.append((e.data["room_id"], code, e.occurred_at))
    if moves:
        status.set_status(store, moves)
    return out


__all__ = ["EnterSchema", "LikeSchema", "RoomEventSchema", "StatusSchema", "close_stays", "live_comment",
           "live_enter", "live_follow", "live_leave", "live_like", "live_share", "live_status", "live_subscribe"]
