"""SQL helpers every domain may use: an INSERT that leaves an existing row alone, a big key."""
from __future__ import annotations

from sqlalchemy import BigInteger, Integer
from sqlalchemy.orm import Session


def insert_missing(session: Session, model, **values) -> None:
    """``INSERT … ON CONFLICT DO NOTHING`` of one row of ``model``: of two requests creating the
    same row at once (a double click), one inserts and the other finds it, instead of a 500 from
    the unique constraint. The caller reads the row afterwards and writes over it."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    session.execute(insert(model).values(**values).on_conflict_do_nothing())


# The key of a table that grows with traffic (members, orders, ledger entries, events): BIGINT on
# PostgreSQL, INTEGER on SQLite (only an INTEGER PRIMARY KEY is SQLite's auto-numbered rowid).
BigId = BigInteger().with_variant(Integer(), "sqlite")
