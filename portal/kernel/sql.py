"""SQL helpers every domain may use: an INSERT that leaves an existing row alone, a big key, keys
taken ahead of a bulk insert."""
from __future__ import annotations

from sqlalchemy import BigInteger, Integer, text
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


def next_ids(session: Session, table, n: int) -> list[int]:
    """``n`` fresh keys of ``table``'s integer ``id``, taken before a bulk insert that then gives
    them explicitly (its children can name their parent at once, and the insert needs no RETURNING
    in parameter order). PostgreSQL: ``nextval`` of the column's sequence, one statement. SQLite:
    the keys after the largest, which is safe because a writing SQLite transaction (the caller has
    written already) holds the database's one write lock until it ends."""
    if n <= 0:
        return []
    if session.get_bind().dialect.name == "postgresql":
        return list(session.scalars(
            text("SELECT nextval(pg_get_serial_sequence(:t, 'id')) FROM generate_series(1, :n)"),
            {"t": table.name, "n": n}))
    top = session.scalar(text(f'SELECT coalesce(max(id), 0) FROM "{table.name}"')) or 0
    return list(range(top + 1, top + n + 1))

