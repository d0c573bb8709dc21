"""Time: every stored instant is UTC; days are cut in the portal's time zone.

``UTCDateTime`` is the column type of every instant the portal stores: it writes aware
datetimes as UTC and refuses naive ones (a naive value is a wall-clock time in an unknown zone:
a bug, not data), and it reads back aware UTC datetimes on every backend — SQLite, which keeps
no zone, included — so no caller needs to patch a tzinfo in.
"""
from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import DateTime
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """``DateTime(timezone=True)`` that takes and gives aware UTC datetimes only."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"UTCDateTime takes a datetime, not {type(value).__name__}.")
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"Naive datetime {value.isoformat()}: give an aware one (utcnow(), or .astimezone()).")
        return value.astimezone(UTC)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def local_tz() -> ZoneInfo:
    return ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])


def day_start_utc(day: date) -> datetime:
    """The UTC instant at which ``day`` starts in the portal's time zone."""
    return datetime.combine(day, time.min, tzinfo=local_tz()).astimezone(UTC)


def day_end_utc(day: date) -> datetime:
    return day_start_utc(day + timedelta(days=1))
