"""Derived data kept between requests, dropped the moment what it derives from changes.

A *topic* names a piece of derived data (the store list's filter menus, say) and the tables it is
read from. ``remember(topic, key, compute)`` answers from the cache when it can; any committed
INSERT, UPDATE or DELETE on one of the topic's tables, through the ORM or Core, gives the topic a
new version, so the next reader computes afresh. The hook sits on the engine (every statement
the portal sends passes it), not in the services that write, so a new writer cannot forget it.

The cache is Flask-Caching: Redis when REDIS_URL is set (every worker sees a new version at
once), else the process's memory (the embedded single-process install). Entries also expire
after CACHE_DEFAULT_TIMEOUT, so a change made behind the portal's back (psql) shows within
minutes.
"""
from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from typing import TypeVar

from flask import Flask, has_app_context
from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import UpdateBase

from portal.extensions import cache, db

T = TypeVar("T")
_TOPICS: dict[str, frozenset[str]] = {}          # topic -> table names
_PENDING = "portal.cache.pending"                 # Connection.info key: topics touched, not yet committed
_committed = threading.local()                    # topics whose commit this thread just sent


def topic(name: str, *tables: str) -> str:
    """Declare a topic read from ``tables``; returns its name."""
    _TOPICS[name] = frozenset(tables)
    return name


def remember(name: str, key: str, compute: Callable[[], T]) -> T:
    """The value cached for (topic, key) at the topic's current version, else ``compute()``'s."""
    version = _version(name)
    full = f"{name}:{version}:{key}"
    value = cache.get(full)
    if value is None:
        value = compute()
        cache.set(full, value)
    return value


def _version(name: str) -> str:
    vkey = f"v:{name}"
    version = cache.get(vkey)
    if version is None:                  # never set, or evicted: start a new one (never reuse one)
        cache.add(vkey, secrets.token_hex(6), timeout=0)
        version = cache.get(vkey)
    return version


def bump(*names: str) -> None:
    for name in names:
        cache.set(f"v:{name}", secrets.token_hex(6), timeout=0)


def _touched(statement) -> set[str]:
    if not isinstance(statement, UpdateBase):
        return set()
    table = getattr(statement, "table", None)
    table_name = getattr(table, "name", None)
    return {name for name, tables in _TOPICS.items() if table_name in tables}


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    names = getattr(_committed, "names", None)
    if names and has_app_context():
        _committed.names = set()
        bump(*names)


def init_app(app: Flask) -> None:
    cache.init_app(app)
    with app.app_context():
        engine = db.engine

    @event.listens_for(engine, "before_execute")
    def _note(conn: Connection, clauseelement, multiparams, params, execution_options):
        names = _touched(clauseelement)
        if names:
            conn.info.setdefault(_PENDING, set()).update(names)

    # The engine's commit event comes just BEFORE the database commits: a reader in between
    # could cache the old rows under the new version. So the version moves again once the
    # session's commit has landed (every write of the portal's goes through a session).
    @event.listens_for(engine, "commit")
    def _commit(conn: Connection):
        names = conn.info.pop(_PENDING, None)
        if names:
            with app.app_context():
                bump(*names)
            _committed.names = getattr(_committed, "names", set()) | names

    @event.listens_for(engine, "rollback")
    def _rollback(conn: Connection):
        conn.info.pop(_PENDING, None)
