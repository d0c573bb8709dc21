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
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import marshmallow as ma

from portal.ingest.fastload import loader

MEMBERS, ORDERS, REFUNDS, COUPONS, LIVE = 10, 20, 30, 40, 50


@dataclass(frozen=True)
class Event:
    index: int                  # its place in the request's batch
    id: str                     # the client's event id
    type: str
    occurred_at: datetime       # aware, UTC
    data: dict                  # the type's schema's load() result


@dataclass(frozen=True)
class Reject:
    code: str
    message: str
    field: str | None = None    # a path inside the event: "data.lines.0.quantity"


@dataclass(frozen=True)
class Held:
    waiting_for: str            # "order:<number>"


Outcome = Reject | Held
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


@dataclass
class _Registry:
    handlers: dict[str, Handler] = field(default_factory=dict)


_registry = _Registry()


def handler(type_: str, schema: type[ma.Schema], *, phase: int):
    """Register ``fn(store, events) -> {index: Reject | Held}`` as the handler of ``type_``."""
    def decorator(fn: Apply) -> Apply:
        if type_ in _registry.handlers and _registry.handlers[type_].apply is not fn:
            raise RuntimeError(f"event type {type_!r} has two handlers")
        _registry.handlers[type_] = Handler(type_, schema, fn, phase, (fn.__doc__ or "").strip(), loader(schema))
        return fn
    return decorator


def handlers() -> dict[str, Handler]:
    return dict(_registry.handlers)


def get(type_: str) -> Handler | None:
    return _registry.handlers.get(type_)


__all__ = ["COUPONS", "LIVE", "MEMBERS", "ORDERS", "REFUNDS", "Event", "Handler", "Held", "Reject",
           "get", "handler", "handlers"]
