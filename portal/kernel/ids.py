"""Ids as they arrive in URLs, query strings and forms.

Every id column is an INTEGER (32-bit signed on PostgreSQL), so anything outside ``1 .. MAX_ID``
names no row: a URL with such an id is a 404, a query parameter or form value with one is
ignored. Parsing here (rather than ``int()`` at each call site) keeps a 20-digit id from reaching
the database, where it would overflow the bound parameter and answer 500.
"""
from __future__ import annotations

from collections.abc import Iterable

from werkzeug.routing import IntegerConverter

MAX_ID = 2**31 - 1     # a larger one, bound as ::INTEGER on PostgreSQL, was a 500 (found by schemathesis)
# Paging past this is paging past any table we will ever have; it also keeps OFFSET in range.
MAX_PAGE = 100_000


class IdConverter(IntegerConverter):
    """``<int:...>`` / ``<id:...>`` in a route: digits only, 1 .. MAX_ID, else the route does
    not match (404)."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("min", 0)
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def parse_id(value) -> int | None:
    """A positive id from text, or None for anything else (blank, junk, out of range)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 < value <= MAX_ID else None
    text = str(value if value is not None else "").strip()
    if not text.isascii() or not text.isdigit() or len(text) > 19:
        return None
    number = int(text)
    return number if 0 < number <= MAX_ID else None


def parse_ids(values: Iterable) -> list[int]:
    """The valid ids among ``values`` (e.g. ``request.form.getlist("ids")``), in order, once each."""
    seen: dict[int, None] = {}
    for value in values or ():
        number = parse_id(value)
        if number is not None:
            seen.setdefault(number, None)
    return list(seen)


def coerce_id(value) -> int | None:
    """``coerce=`` for a select of ids: blank is None, an id is an int, anything else (junk, out
    of range) raises ValueError, which WTForms shows as an invalid choice beside the field."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    number = parse_id(value)
    if number is None:
        raise ValueError(value)
    return number


def parse_page(value, default: int = 1) -> int:
    """A page number from a query string: 1 .. MAX_PAGE, ``default`` for junk."""
    text = str(value if value is not None else "").strip()
    if not text.isascii() or not text.isdigit() or len(text) > 6:
        return default
    return min(max(1, int(text)), MAX_PAGE)


def init_app(app) -> None:
    app.url_map.converters["int"] = IdConverter
    app.url_map.converters["id"] = IdConverter
