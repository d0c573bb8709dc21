"""What the event types' data schemas share (``portal.orders.events``, ``portal.live.events``)."""
from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate


class EventData(ma.Schema):
    """An event type's ``data``: fields a newer mini-program sends that this portal does not know
    yet are ignored, not refused."""

    class Meta:
        unknown = ma.EXCLUDE


def text_field(max_len: int, *, required: bool = False, min_len: int = 1) -> fields.String:
    """A string of ``min_len`` to ``max_len`` characters; optional ones load as None when absent."""
    if required:
        return fields.String(required=True, validate=validate.Length(min_len, max_len))
    return fields.String(load_default=None, allow_none=True, validate=validate.Length(min_len, max_len))


__all__ = ["EventData", "text_field"]
