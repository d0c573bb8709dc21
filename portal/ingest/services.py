"""Applying a batch of reported events: idempotency, validation, dispatch, holding.

``ingest(store, raw_events)`` answers one result per event, in order:
``{"index", "id", "status": applied | duplicate | held | rejected, "error": {code, field, message} | null}``.

1. The envelope of each event is checked (id, type, occurred_at, data), its data loaded with its
   type's schema (compiled: ``portal.ingest.fastload``; a bad one is rejected with its field, e.g.
   ``data.lines.0.quantity``) and its body hashed (SHA-256 of the canonical JSON of type,
   occurred_at and data). A repeat of an id inside the batch answers like its first occurrence:
   ``duplicate`` (same body; rejected if the first was) or ``idempotency_conflict``.
2. The valid events are *claimed* in one statement: ``INSERT … ON CONFLICT (store_id, event_id)
   DO NOTHING RETURNING event_id``. A concurrent request carrying the same new id waits on the
   unique key until the first commits, then finds it taken: an event is applied once.
   Events of a handler that remembers its ids itself (``registry``: ``own_claims``, the live
   counters on Redis) are not claimed here: the handler answers duplicate or conflict for them.
3. The ids not claimed were sent before: one SELECT of their hashes answers ``duplicate`` (same
   body, not applied again) or ``idempotency_conflict`` (another body). The common case, all ids
   new, costs no query for it.
4. Handlers run phase by phase, each on all its events at once inside a savepoint; if one fails
   on the database (a constraint), its events are re-run one by one, each in its own savepoint,
   and only the failing one is rejected (``conflict``): each event is all-or-nothing.
5. Rejected events lose their claim (they may be fixed and resent under the same id); held ones
   keep their data as sent and what they wait for.

Nothing here commits: the API view's request commits once, so a 200 means every applied event is
stored. ``release`` (a handler's call: "order:<number>" has just been applied) applies the held
events waiting for it; ``purge`` forgets applied events after ``INBOX_KEEP_DAYS``.

A held event that fails when it is finally applied (its handler rejects it then) cannot be told to
the mini-program, which was answered ``held`` long ago: it is recorded, not lost. Its inbox row
becomes ``applied`` (so it is not retried or re-held) with ``data`` =
``{"event": <the data as sent>, "rejected_after_hold": {code, message, field}}`` and a warning is
logged; ``failed_after_hold(store)`` lists them. A resend of it under the same id answers
``duplicate``, as for any event the portal has settled.
"""
from __future__ import annotations

import hashlib
import json
import logging
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import marshmallow as ma
from flask import current_app
from sqlalchemy import and_, bindparam, delete, func, null, select, text, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError

from portal.extensions import db
from portal.ingest import registry
from portal.ingest.models import APPLIED, DUPLICATE, HELD, REJECTED, InboxEvent
from portal.ingest.registry import IDEMPOTENCY_CONFLICT, Duplicate, Event, Held, Reject
from portal.kernel.sql import among, pg_array
from portal.kernel.time import utcnow

log = logging.getLogger(__name__)

MAX_ID = 64
MAX_EVENTS = 500                 # a request's batch; more is 413
MIN_KEEP_DAYS = 7
FAILED_KEY = "rejected_after_hold"

_inbox = InboxEvent.__table__
_dumps = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode

ENVELOPE = Reject("invalid", "Each event is an object with id, type, occurred_at and data.", None)
BAD_ID = Reject("invalid", f"id must be a string of 1 to {MAX_ID} printable characters.", "id")
UNKNOWN_TYPE = Reject("unknown_type", "Unknown event type; the OpenAPI document lists the types.", "type")
BAD_TIME = Reject("invalid", "occurred_at must be an ISO 8601 time with its offset, e.g. 2026-03-02T10:15:00+08:00.",
                  "occurred_at")
BAD_DATA = Reject("invalid", "data must be an object.", "data")
CONFLICT_IN_BATCH = Reject("idempotency_conflict", "This id was already sent in this batch with another body.", "id")
CONFLICT = IDEMPOTENCY_CONFLICT
BUSY = Reject("retry", "Another request is storing an event with this id; send it again.", "id")
DB_CONFLICT = Reject("conflict", "The event contradicts what is stored and was not applied.", None)


def body_hash(raw: dict) -> str:
    """What idempotency compares: the SHA-256 of the canonical JSON of type, occurred_at, data."""
    return hashlib.sha256(_dumps([raw.get("type"), raw.get("occurred_at"), raw.get("data")])
                          .encode()).hexdigest()


def _parse_time(value) -> datetime | None:
    if type(value) is not str or len(value) > 40:
        return None
    try:
        t = datetime.fromisoformat(value)      # Python 3.11+: "Z" and any ISO 8601 offset
    except ValueError:
        return None
    return t.astimezone(UTC) if t.tzinfo is not None else None


def _first_error(messages, prefix: str = "data") -> tuple[str, str]:
    """The first (field path, message) of a marshmallow error dict: ``data.lines.0.quantity``."""
    while isinstance(messages, dict) and messages:
        key, messages = next(iter(messages.items()))
        prefix = f"{prefix}.{key}" if key != ma.schema.SCHEMA else prefix
    if isinstance(messages, list) and messages:
        first = messages[0]
        if isinstance(first, (dict, list)):
            return _first_error(first, prefix)
        return prefix, str(first)
    return prefix, str(messages)


def _result(i: int, eid, status: str, err: Reject | None = None) -> dict:
    return {"index": i, "id": eid, "status": status,
            "error": None if err is None else {"code": err.code, "field": err.field, "message": err.message}}


def _check(i: int, raw) -> tuple[Event | None, Reject | None]:
    """The event of ``raw`` with its data loaded, or why it is refused."""
    if type(raw) is not dict:
        return None, ENVELOPE
    eid = raw.get("id")
    if type(eid) is not str or not eid or len(eid) > MAX_ID or not eid.isprintable():
        return None, BAD_ID
    type_ = raw.get("type")
    handler = registry.get(type_) if type(type_) is str else None
    if handler is None:
        return None, UNKNOWN_TYPE
    at = _parse_time(raw.get("occurred_at"))
    if at is None:
        return None, BAD_TIME
    data = raw.get("data")
    if type(data) is not dict:
        return None, BAD_DATA
    try:
        loaded = handler.load(data)
    except ma.ValidationError as exc:
        where, message = _first_error(exc.messages)
        return None, Reject("invalid", message, where)
    return Event(i, eid, type_, at, loaded, body_hash(raw)), None


_CLAIM_PG = text(
    "INSERT INTO inbox_events (store_id, event_id, type, body_hash, status, occurred_at, received_at, applied_at)"
    " SELECT :store, u.e, u.t, u.h, 'applied', u.o, :now, :now"
    " FROM unnest(CAST(:eids AS varchar[]), CAST(:types AS varchar[]), CAST(:hashes AS varchar[]),"
    "             CAST(:ats AS timestamptz[])) AS u(e, t, h, o)"
    " ON CONFLICT (store_id, event_id) DO NOTHING RETURNING event_id")


def _claim(store_id: int, events: dict[int, Event]) -> set[str]:
    """Insert the inbox rows whose (store, event id) is free, in one statement; the event ids it
    inserted. PostgreSQL takes the batch as arrays (one short statement whatever its size: a
    500-row VALUES list costs more to build and parse than to run); SQLite as insertmanyvalues."""
    now = utcnow()
    if db.session.get_bind().dialect.name == "postgresql":
        # In event id order: two requests claiming overlapping ids wait on each other's keys in
        # the same order, so they queue instead of deadlocking.
        order = sorted(events, key=lambda i: events[i].id)
        listed = [events[i] for i in order]
        return set(db.session.execute(_CLAIM_PG, {
            "store": store_id, "now": now, "eids": pg_array([e.id for e in listed]),
            "types": pg_array([e.type for e in listed]), "hashes": pg_array([e.body_hash for e in listed]),
            "ats": pg_array([e.occurred_at for e in listed])}).scalars())
    stmt = sqlite_insert(_inbox).on_conflict_do_nothing(index_elements=["store_id", "event_id"]) \
        .returning(_inbox.c.event_id)
    return set(db.session.execute(stmt, [
        {"store_id": store_id, "event_id": e.id, "type": e.type, "body_hash": e.body_hash, "status": APPLIED,
         "occurred_at": e.occurred_at, "received_at": now, "applied_at": now}
        for e in events.values()]).scalars())


class _Broken(Exception):
    """A handler broke a constraint while running without a savepoint (``own_transaction``)."""


def ingest(store, raw_events: list, *, own_transaction: bool = False) -> list[dict]:
    """One result per event of ``raw_events`` (module docstring).

    ``own_transaction=True`` (the API request: its transaction holds nothing but this batch):
    the handlers run without savepoints, saving two round trips a handler; if one breaks a
    constraint, the whole transaction is rolled back and the batch is run again the careful way,
    a savepoint per handler and, on failure, per event."""
    if own_transaction:
        try:
            return _ingest(store, raw_events, careful=False)
        except _Broken:
            db.session.rollback()
    return _ingest(store, raw_events, careful=True)


def _ingest(store, raw_events: list, *, careful: bool) -> list[dict]:
    results: list = [None] * len(raw_events)
    events: dict[int, Event] = {}
    repeats: list[tuple[int, int]] = []                  # (index, index of its first occurrence)
    first: dict[str, tuple[int, str]] = {}               # event id -> (index, hash)

    for i, raw in enumerate(raw_events):
        event, err = _check(i, raw)
        if err is not None:
            results[i] = _result(i, raw.get("id") if type(raw) is dict and type(raw.get("id")) is str else None,
                                 REJECTED, err)
            continue
        h = event.body_hash
        seen = first.get(event.id)
        if seen is not None:
            if seen[1] == h:
                repeats.append((i, seen[0]))
            else:
                results[i] = _result(i, event.id, REJECTED, CONFLICT_IN_BATCH)
            continue
        first[event.id] = (i, h)
        events[i] = event

    # The events whose handler remembers their ids itself (registry: own_claims) are not claimed here.
    own = {t for t in {e.type for e in events.values()} if registry.get(t).claims_itself()}
    inboxed = {i: e for i, e in events.items() if e.type not in own} if own else events
    if inboxed:
        claimed = _claim(store.id, inboxed)
        if len(claimed) < len(inboxed):
            taken = [i for i, e in inboxed.items() if e.id not in claimed]
            known = dict(db.session.execute(
                select(_inbox.c.event_id, _inbox.c.body_hash)
                .where(_inbox.c.store_id == store.id, _inbox.c.event_id.in_([events[i].id for i in taken]))).all())
            for i in taken:
                e = events.pop(i)
                stored = known.get(e.id)
                if stored is None:       # claimed by a request that then rolled back, a moment ago
                    results[i] = _result(i, e.id, REJECTED, BUSY)
                elif stored == e.body_hash:
                    results[i] = _result(i, e.id, DUPLICATE)
                else:
                    results[i] = _result(i, e.id, REJECTED, CONFLICT)

    outcomes = _dispatch(store, list(events.values()), careful=careful) if events else {}
    rejected, held = [], []
    for i, e in events.items():
        out = outcomes.get(i)
        if out is None:
            results[i] = _result(i, e.id, APPLIED)
        elif isinstance(out, Duplicate):
            results[i] = _result(i, e.id, DUPLICATE)
        elif isinstance(out, Held):
            results[i] = _result(i, e.id, HELD)
            held.append({"eid": e.id, "wf": out.waiting_for, "d": raw_events[i]["data"]})
        else:
            results[i] = _result(i, e.id, REJECTED, out)
            if e.type not in own:
                rejected.append(e.id)
    if rejected:
        db.session.execute(delete(_inbox).where(_inbox.c.store_id == store.id, _inbox.c.event_id.in_(rejected)))
    if held:
        db.session.execute(
            update(_inbox).where(_inbox.c.store_id == store.id, _inbox.c.event_id == bindparam("eid"))
            .values(status=HELD, applied_at=None, waiting_for=bindparam("wf"), data=bindparam("d")), held)
    for i, j in repeats:
        prior = results[j]
        results[i] = (dict(prior, index=i) if prior["status"] == REJECTED
                      else _result(i, prior["id"], DUPLICATE))
    return results


def _dispatch(store, events: list[Event], *, careful: bool = True) -> dict[int, registry.Outcome]:
    by_type: dict[str, list[Event]] = defaultdict(list)
    for e in events:
        by_type[e.type].append(e)
    outcomes: dict[int, registry.Outcome] = {}
    for type_ in sorted(by_type, key=lambda t: registry.get(t).phase):
        handler = registry.get(type_)
        if careful:
            outcomes.update(_apply(store, handler, by_type[type_]))
            continue
        try:
            outcomes.update(handler.apply(store, by_type[type_]) or {})
        except DBAPIError:
            raise _Broken from None
    return outcomes


def _apply(store, handler: registry.Handler, events: list[Event]) -> dict[int, registry.Outcome]:
    try:
        with db.session.begin_nested():
            return handler.apply(store, events) or {}
    except DBAPIError:
        if len(events) == 1:
            return {events[0].index: DB_CONFLICT}
    out: dict[int, registry.Outcome] = {}
    for e in events:
        out.update(_apply(store, handler, [e]))
    return out


def release(store, keys: list[str]) -> None:
    """Apply the events held for ``keys`` (what a handler has just applied), by their own handlers,
    in the order they occurred; set-based (one SELECT, one UPDATE, the handlers' own statements).

    The rows are marked applied before their handlers run, so a handler releasing again inside
    never picks them twice. An event a handler holds again waits for its new key; one it rejects
    (or whose type or data no longer loads) is recorded as failed after hold (module docstring)."""
    if not keys:
        return
    rows = db.session.execute(
        select(_inbox.c.id, _inbox.c.event_id, _inbox.c.type, _inbox.c.occurred_at, _inbox.c.data)
        .where(_inbox.c.store_id == store.id, _inbox.c.status == HELD, among(db.session, _inbox.c.waiting_for, keys))
        .order_by(_inbox.c.occurred_at, _inbox.c.id)).all()
    if not rows:
        return
    now = utcnow()
    db.session.execute(update(_inbox).where(_inbox.c.id.in_([r.id for r in rows]))
                       .values(status=APPLIED, applied_at=now, waiting_for=None, data=null()))
    events, failed, again = [], [], []
    for n, row in enumerate(rows):
        handler = registry.get(row.type)
        if handler is None:
            failed.append((row, Reject("unknown_type", "This event type is no longer taken.", "type")))
            continue
        try:
            data = handler.load(row.data or {})
        except ma.ValidationError as exc:
            where, message = _first_error(exc.messages)
            failed.append((row, Reject("invalid", message, where)))
            continue
        at = row.occurred_at if row.occurred_at.tzinfo else row.occurred_at.replace(tzinfo=UTC)
        events.append(Event(n, row.event_id, row.type, at, data))
    outcomes = _dispatch(store, events) if events else {}
    for n, row in enumerate(rows):
        out = outcomes.get(n)
        if isinstance(out, Held):
            again.append({"rid": row.id, "wf": out.waiting_for, "d": row.data})
        elif isinstance(out, Reject):
            failed.append((row, out))
    if again:
        db.session.execute(update(_inbox).where(_inbox.c.id == bindparam("rid"))
                           .values(status=HELD, applied_at=None, waiting_for=bindparam("wf"), data=bindparam("d")),
                           again)
    if failed:
        for row, err in failed:
            log.warning("held event %s of store %s failed when released: %s (%s)", row.event_id, store.id,
                        err.code, err.message)
        db.session.execute(update(_inbox).where(_inbox.c.id == bindparam("rid")).values(data=bindparam("d")), [
            {"rid": row.id, "d": {"event": row.data,
                                  FAILED_KEY: {"code": err.code, "message": err.message, "field": err.field}}}
            for row, err in failed])


def _failed(store_id: int):
    """The inbox rows of held events that failed when released (on ``ix_inbox_events_failed``)."""
    return and_(_inbox.c.store_id == store_id, _inbox.c.status == APPLIED, _inbox.c.data.is_not(None))


def failed_after_hold(store, limit: int | None = None) -> list[dict]:
    """The held events of ``store`` that were rejected when finally applied: id, type, the data as
    sent and the error, newest first (the first ``limit``)."""
    rows = db.session.execute(
        select(_inbox.c.event_id, _inbox.c.type, _inbox.c.applied_at, _inbox.c.data)
        .where(_failed(store.id)).order_by(_inbox.c.applied_at.desc(), _inbox.c.id.desc()).limit(limit)).all()
    return [{"id": r.event_id, "type": r.type, "at": r.applied_at, "data": r.data["event"], "error": r.data[FAILED_KEY]}
            for r in rows if isinstance(r.data, dict) and FAILED_KEY in r.data]


def failed_after_hold_count(store) -> int:
    """How many held events of ``store`` failed when released (one count on the partial index)."""
    return db.session.scalar(select(func.count()).select_from(_inbox).where(_failed(store.id))) or 0


def keep_days() -> int:
    """How long applied events are remembered for idempotency: INBOX_KEEP_DAYS, at least 7."""
    return max(MIN_KEEP_DAYS, int(current_app.config.get("INBOX_KEEP_DAYS", 30)))


def purge(now: datetime | None = None) -> int:
    """Forget applied events received more than ``keep_days()`` ago (held ones stay until they are
    applied). One DELETE on the received_at index; the caller commits."""
    cutoff = (now or utcnow()) - timedelta(days=keep_days())
    return db.session.execute(delete(_inbox).where(_inbox.c.status == APPLIED, _inbox.c.received_at < cutoff)
                              ).rowcount


__all__ = ["MAX_EVENTS", "body_hash", "failed_after_hold", "failed_after_hold_count", "ingest", "keep_days", "purge",
           "release"]
