"""Applying a batch of reported events: idempotency, validation, dispatch, holding.

``ingest(store, raw_events)`` answers one result per event, in order:
``{"index", "id", "status": applied | duplicate | held | rejected, "error": {code, field, message}}``.

1. The envelope of each event is checked (id, type, occurred_at, data) and its body hashed.
2. Ids already remembered for the store answer ``duplicate`` (same body) or are rejected with
   ``idempotency_conflict`` (another body); so are repeats inside the batch.
3. The others are *claimed*: one INSERT … ON CONFLICT DO NOTHING of their inbox rows, so a
   concurrent request carrying the same id waits on the unique key and then finds it taken.
4. Each event's data is loaded with its type's schema (a bad one is rejected with its field).
5. Handlers run phase by phase, each on all its events at once inside a savepoint; if one fails
   unexpectedly (a constraint), its events are re-run one by one, each in its own savepoint, and
   only the failing one is rejected: each event is all-or-nothing.
6. Rejected events lose their claim (they may be fixed and resent under the same id); held ones
   keep their data and what they wait for.

Nothing here commits: the API view commits once, so a 200 means every applied event is stored.
"""
from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from datetime import UTC, datetime

import marshmallow as ma
from sqlalchemy import delete, select, update
from sqlalchemy.exc import DBAPIError

from portal.extensions import db
from portal.ingest import registry
from portal.ingest.models import APPLIED, DUPLICATE, HELD, REJECTED, InboxEvent
from portal.ingest.registry import Event, Held, Reject
from portal.kernel.time import utcnow

MAX_ID = 64


def body_hash(raw: dict) -> str:
    body = {k: raw.get(k) for k in ("type", "occurred_at", "data")}
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
                          .encode()).hexdigest()


def _parse_time(value) -> datetime | None:
    if not isinstance(value, str) or len(value) > 40:
        return None
    try:
        t = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return t.astimezone(UTC) if t.tzinfo is not None else None


def _envelope(index: int, raw) -> tuple[Event | None, Reject | None, str | None]:
    """The event of ``raw`` (data not yet loaded), or why it is refused."""
    if not isinstance(raw, dict):
        return None, Reject("invalid", "Each event is an object with id, type, occurred_at and data.", ""), None
    eid = raw.get("id")
    if not isinstance(eid, str) or not eid or len(eid) > MAX_ID:
        return None, Reject("invalid", f"id must be a string of 1 to {MAX_ID} characters.", "id"), None
    handler = registry.get(raw.get("type")) if isinstance(raw.get("type"), str) else None
    if handler is None:
        return None, Reject("unknown_type", "Unknown event type; see the OpenAPI document for the types.",
                            "type"), eid
    at = _parse_time(raw.get("occurred_at"))
    if at is None:
        return None, Reject("invalid", "occurred_at must be an ISO 8601 time with its offset, "
                                       "e.g. 2026-03-02T10:15:00+08:00.", "occurred_at"), eid
    if not isinstance(raw.get("data"), dict):
        return None, Reject("invalid", "data must be an object.", "data"), eid
    return Event(index, eid, handler.type, at, raw["data"]), None, eid


def _first_error(messages, prefix: str = "data") -> tuple[str, str]:
    """The first (field path, message) of a marshmallow error dict."""
    while isinstance(messages, dict) and messages:
        key, messages = next(iter(messages.items()))
        prefix = f"{prefix}.{key}" if key != "_schema" else prefix
    if isinstance(messages, list) and messages:
        first = messages[0]
        if isinstance(first, (dict, list)):
            return _first_error(first, prefix)
        return prefix, str(first)
    return prefix, str(messages)


def ingest(store, raw_events: list) -> list[dict]:
    results: list[dict] = [{} for _ in raw_events]
    hashes: dict[int, str] = {}
    events: dict[int, Event] = {}

    def refuse(i: int, eid, err: Reject) -> None:
        results[i] = {"index": i, "id": eid, "status": REJECTED,
                      "error": {"code": err.code, "field": err.field, "message": err.message}}

    seen: dict[str, str] = {}
    for i, raw in enumerate(raw_events):
        event, err, eid = _envelope(i, raw)
        if err is not None:
            refuse(i, eid, err)
            continue
        h = body_hash(raw)
        if event.id in seen:
            if seen[event.id] == h:
                results[i] = {"index": i, "id": event.id, "status": DUPLICATE}
            else:
                refuse(i, event.id, Reject("idempotency_conflict",
                                           "This id was already sent in this batch with another body.", "id"))
            continue
        seen[event.id] = h
        events[i], hashes[i] = event, h

    # Ids the store sent before
    if events:
        known = dict(db.session.execute(
            select(InboxEvent.event_id, InboxEvent.body_hash)
            .where(InboxEvent.store_id == store.id, InboxEvent.event_id.in_([e.id for e in events.values()]))).all())
        for i in [i for i, e in events.items() if e.id in known]:
            e = events.pop(i)
            if known[e.id] == hashes[i]:
                results[i] = {"index": i, "id": e.id, "status": DUPLICATE}
            else:
                refuse(i, e.id, Reject("idempotency_conflict",
                                       "This event id was already used with a different body.", "id"))

    # Load each event's data with its type's schema
    for i in list(events):
        e = events[i]
        try:
            data = registry.get(e.type).schema().load(e.data)
        except ma.ValidationError as exc:
            events.pop(i)
            where, message = _first_error(exc.messages)
            refuse(i, e.id, Reject("invalid", message, where))
            continue
        events[i] = Event(e.index, e.id, e.type, e.occurred_at, data)

    now = utcnow()
    if events:
        db.session.execute(InboxEvent.__table__.insert(), [
            {"store_id": store.id, "event_id": e.id, "type": e.type, "body_hash": hashes[i], "status": APPLIED,
             "occurred_at": e.occurred_at, "received_at": now, "applied_at": now}
            for i, e in events.items()])

    outcomes = _dispatch(store, list(events.values()))
    rejected, held = [], []
    for i, e in events.items():
        out = outcomes.get(i)
        if isinstance(out, Reject):
            refuse(i, e.id, out)
            rejected.append(e.id)
        elif isinstance(out, Held):
            results[i] = {"index": i, "id": e.id, "status": HELD}
            held.append((e, out))
        else:
            results[i] = {"index": i, "id": e.id, "status": APPLIED}
    if rejected:
        db.session.execute(delete(InboxEvent).where(InboxEvent.store_id == store.id,
                                                    InboxEvent.event_id.in_(rejected)))
    for e, out in held:
        db.session.execute(update(InboxEvent).where(InboxEvent.store_id == store.id, InboxEvent.event_id == e.id)
                           .values(status=HELD, applied_at=None, waiting_for=out.waiting_for,
                                   data=_jsonable(e.data)))
    return results


def _jsonable(data):
    return json.loads(json.dumps(data, default=str))


def _dispatch(store, events: list[Event]) -> dict[int, registry.Outcome]:
    by_type: dict[str, list[Event]] = defaultdict(list)
    for e in events:
        by_type[e.type].append(e)
    outcomes: dict[int, registry.Outcome] = {}
    for type_ in sorted(by_type, key=lambda t: registry.get(t).phase):
        outcomes.update(_apply(store, registry.get(type_), by_type[type_]))
    return outcomes


def _apply(store, handler: registry.Handler, events: list[Event]) -> dict[int, registry.Outcome]:
    try:
        with db.session.begin_nested():
            return handler.apply(store, events) or {}
    except DBAPIError:
        if len(events) == 1:
            return {events[0].index: Reject("conflict", "The event contradicts what is stored and was not applied.")}
    out: dict[int, registry.Outcome] = {}
    for e in events:
        out.update(_apply(store, handler, [e]))
    return out


def release(store, keys: list[str]) -> None:
    """Apply the events held for ``keys`` (what a handler has just applied), by their own handlers."""
    if not keys:
        return
    rows = db.session.scalars(select(InboxEvent).where(
        InboxEvent.store_id == store.id, InboxEvent.status == HELD, InboxEvent.waiting_for.in_(keys))
        .order_by(InboxEvent.occurred_at, InboxEvent.id)).all()
    if not rows:
        return
    by_index = {}
    events = []
    for n, row in enumerate(rows):
        handler = registry.get(row.type)
        data = handler.schema().load(row.data)
        by_index[n] = row
        events.append(Event(n, row.event_id, row.type, row.occurred_at, data))
    outcomes = _dispatch(store, events)
    now = utcnow()
    for n, row in by_index.items():
        out = outcomes.get(n)
        if isinstance(out, Held):
            row.waiting_for = out.waiting_for
        elif isinstance(out, Reject):
            row.status, row.applied_at, row.waiting_for = APPLIED, now, None
            row.data = {"rejected_after_hold": {"code": out.code, "message": out.message, "field": out.field}}
        else:
            row.status, row.applied_at, row.waiting_for, row.data = APPLIED, now, None, None
    db.session.flush()


__all__ = ["body_hash", "ingest", "release"]
