"""The event types the ingestion API takes, and the domain handler that applies each.

A domain registers a handler per type with ``@handler(type, Schema, phase=...)``. The handler
receives the store and a list of events of that type (already validated: ``event.data`` is the
schema's ``load`` result) and applies them set-based: a few statements for the whole list, never
a Python loop of per-event queries. It ``flush()``es and never commits. It returns, for the
events it did *not* apply, ``{event.index: Reject(...) | Held(...)}``; every other event of the
list counts as applied.

Phases order the types inside one batch so that what an event needs is applied before it:
members (10) before orders (20) before refunds (30) before coupon redemptions (40) before live
events (50). Inside a phase, events keep the batch's order.

``Held(waiting_for)`` parks an event until another handler calls ``release(store_id, key)`` for
that key in the same transaction (``order.paid`` releases ``"order:<number>"``): the held events
are then applied by their own handler.

Idempotency is the inbox's (one row per accepted event), except for a handler registered with
``own_claims``: a function of no arguments that says, for the app at hand, whether the handler
remembers its events' ids itself. Then its events are not claimed in the inbox; the handler gets
them with their ``body_hash`` and answers ``DUPLICATE`` (this id with this body was applied
before) or ``IDEMPOTENCY_CONFLICT`` for those it had seen. The live counters do (a like storm is
not a storm of inbox rows): with Redis as their aggregator, an event's id is remembered in the
same atomic step that counts it. Such handlers write nothing to the database and run after
every other phase (``AGGREGATED``), so nothing that rolls back can follow what they counted.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import marshmallow as ma

from portal.ingest.fastload import loader

MEMBERS, ORDERS, REFUNDS, COUPONS, LIVE = 10, 20, 30, 40, 50
AGGREGATED = 90            # handlers with own_claims: after every database write of the batch


@dataclass(frozen=True)
class Event:
    index: int                  # its place in the request's batch
    id: str                     # the client's event id
    type: str
    occurred_at: datetime       # aware, UTC
    data: dict                  # the type's schema's load() result
    body_hash: str = ""         # what idempotency compares (services.body_hash)


@dataclass(frozen=True)
class Reject:
    code: str
    message: str
    field: str | None = None    # a path inside the event: "data.lines.0.quantity"


@dataclass(frozen=True)
class Held:
    waiting_for: str            # "order:<number>"


class Duplicate:
    """This event id was applied before with the same body (a handler with ``own_claims`` says so)."""

    def __repr__(self) -> str:
        return "DUPLICATE"


DUPLICATE = Duplicate()
IDEMPOTENCY_CONFLICT = Reject("idempotency_conflict", "This event id was already used with a different body.", "id")

Outcome = Reject | Held | Duplicate
Apply = Callable[["object", list[Event]], dict[int, Outcome]]


@dataclass(frozen=True)
class Handler:
    type: str
    schema: type[ma.Schema]
    apply: Apply
    phase: int
    doc: str = ""
    # ``load(data) -> dict``: the schema's load, compiled (portal.ingest.fastload); raises
    # marshmallow's ValidationError with marshmallow's messages.
    load: Callable[[dict], dict] | None = None
    # ``own_claims() -> bool``: whether, for the current app, the handler remembers its events'
    # ids itself (module docstring); None: the inbox does.
    own_claims: Callable[[], bool] | None = None

    def claims_itself(self) -> bool:
        return self.own_claims is not None and self.own_claims()


@dataclass
class _Registry:
    handlers: dict[str, Handler] = field(default_factory=dict)


_registry = _Registry()


def handler(type_: str, schema: type[ma.Schema], *, phase: int, own_claims: Callable[[], bool] | None = None):
    """Register ``fn(store, events) -> {index: Reject | Held | DUPLICATE}`` as the handler of ``type_``."""
    if own_claims is not None and phase != AGGREGATED:
        raise RuntimeError(f"{type_!r}: a handler that claims its own events runs in the AGGREGATED phase")

    def decorator(fn: Apply) -> Apply:
        if type_ in _registry.handlers and _registry.handlers[type_].apply is not fn:
            raise RuntimeError(f"event type {type_!r} has two handlers")
        _registry.handlers[type_] = Handler(type_, schema, fn, phase, (fn.__doc__ or "").strip(), loader(schema),
                                            own_claims)
        return fn
    return decorator


def handlers() -> dict[str, Handler]:
    return dict(_registry.handlers)


def get(type_: str) -> Handler | None:
    return _registry.handlers.get(type_)


__all__ = ["AGGREGATED", "COUPONS", "DUPLICATE", "IDEMPOTENCY_CONFLICT", "LIVE", "MEMBERS", "ORDERS", "REFUNDS",
           "Duplicate", "Event", "Handler", "Held", "Reject",
           "get", "handler", "handlers"]
