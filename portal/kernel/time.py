"""Time: every stored instant is UTC; days are cut in the portal's time zone."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from flask import current_app


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def local_tz() -> ZoneInfo:
    return ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])


def day_start_utc(day: date) -> datetime:
    """The UTC instant at which ``day`` starts in the portal's time zone."""
    return datetime.combine(day, time.min, tzinfo=local_tz()).astimezone(timezone.utc)


def day_end_utc(day: date) -> datetime:
    return day_start_utc(day + timedelta(days=1))


def as_utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; everything we store is UTC."""
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
