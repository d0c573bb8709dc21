"""SQL helpers every domain may use: an INSERT that leaves an existing row alone, a big key, keys
taken ahead of a bulk insert, bulk inserts and updates of many rows in one statement."""
from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, BigInteger, Integer, Text, any_, bindparam, cast, insert, text, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import DBAPIError
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



# --------------------------------------------------------------------------- bulk writes

def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _stamp(value: date) -> str:
    return '"' + value.isoformat() + '"'


_ELEMENT = {type(None): lambda _v: "NULL", str: _quoted, int: str, bool: lambda v: "t" if v else "f",
            datetime: _stamp, date: _stamp, Decimal: str, float: repr}


def _element(value) -> str:
    format_ = _ELEMENT.get(type(value))
    if format_ is None:
        # Subclasses (an IntEnum, a str Enum …) as their base's value (bool has none).
        for kind, plain in ((int, int.__index__), (str, str.__str__), (datetime, None),
                            (date, None), (Decimal, None), (float, float.__float__)):
            if isinstance(value, kind):
                return _ELEMENT[kind](value if plain is None else plain(value))
        raise TypeError(f"pg_array: no array element form for {type(value).__name__}")
    return format_(value)


def pg_array(values: Iterable) -> str:
    """``values`` as the text of a PostgreSQL array (``{1,2,NULL}``, ``{"a","b \\"c\\""}``), to bind
    where the SQL casts it: ``CAST(:ids AS bigint[])``. psycopg dumps a list element by element
    in Python (about 1 µs a string, 3 µs a timestamp, with the lookups of each element's dumper);
    this is one join over the values (0.05 to 0.8 µs), sent as one string the server parses. The
    batch statements bind hundreds of values a request, several arrays each."""
    return "{" + ",".join([_element(v) for v in values]) + "}"


_json_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
_PG_TYPES: dict[tuple[str, str], str] = {}
_BULK_SQL: dict[tuple, object] = {}


def _pg_type(column) -> str:
    """The column's PostgreSQL type as an array's element type: ``varchar(64)``, ``bigint`` … JSON
    travels as text and is cast on the way in."""
    key = (column.table.name, column.name)
    found = _PG_TYPES.get(key)
    if found is None:
        found = column.type.compile(dialect=postgresql.dialect())
        _PG_TYPES[key] = found
    return found


def _is_json(column) -> bool:
    return isinstance(column.type, JSON)


def _defaults(table, present: Iterable[str]) -> dict[str, object]:
    """The Python-side defaults of the columns the rows leave out (``default=`` of the model: a
    value, or a callable taken once for the statement, as one ``now`` for the batch)."""
    out = {}
    for column in table.c:
        if column.name in present or column.default is None or not column.default.is_scalar \
                and not column.default.is_callable:
            continue
        out[column.name] = column.default.arg(None) if column.default.is_callable else column.default.arg
    return out


def _arrays(table, names: list[str], rows: list[dict], fixed: dict) -> tuple[list[str], dict]:
    """``CAST(:a0 AS type[])`` per column and the arrays to bind (JSON columns as text)."""
    casts, params = [], {}
    for n, name in enumerate(names):
        column = table.c[name]
        if name in fixed:
            value = fixed[name]
            values = [value] * len(rows)
        else:
            values = [row[name] for row in rows]
        if _is_json(column):
            values = [None if v is None else _json_dumps(v) for v in values]
            casts.append(f"CAST(:a{n} AS text[])")
        else:
            casts.append(f"CAST(:a{n} AS {_pg_type(column)}[])")
        params[f"a{n}"] = pg_array(values)
    return casts, params


def _select_list(table, names: list[str]) -> str:
    return ", ".join(f"CAST(u.{_quote(n)} AS {_pg_type(table.c[n])})" if _is_json(table.c[n]) else f"u.{_quote(n)}"
                     for n in names)


def _quote(name: str) -> str:
    """``name`` as PostgreSQL's SQLAlchemy dialect writes it (quoted only when it must be)."""
    return postgresql.dialect().identifier_preparer.quote(name)


COPY_FROM = 20          # rows; fewer go as one INSERT (a COPY costs two more round trips)


def _announce(conn, clause) -> None:
    """Run the engine's ``before_execute`` listeners for ``clause`` (an ``insert(table)`` or
    ``update(table)``) ahead of a statement they would not recognise as writing to ``table`` (a
    COPY, a text UPDATE): the derived-data cache learns of the write as from any Core statement."""
    for listener in conn.dispatch.before_execute:
        listener(conn, clause, (), {}, {})


def bulk_insert(session: Session, table, rows: list[dict]) -> None:
    """INSERT ``rows`` (dicts with the same keys) into ``table``, the Python-side defaults applied
    as ``insert(table)`` applies them.

    PostgreSQL: one ``COPY … FROM STDIN`` in the session's transaction, the rows formatted by the
    driver's C code. An executemany sends one INSERT per row (pipelined, but planned, executed and
    answered row by row), which at a few thousand rows a request is most of the database's time
    and a good part of ours; COPY is what the benchmarks' floor measures. A constraint it breaks
    raises SQLAlchemy's ``IntegrityError`` like any statement. SQLite: ``insert(table)``
    executemany (one prepared statement, in process)."""
    if not rows:
        return
    if len(rows) < COPY_FROM or session.get_bind().dialect.name != "postgresql":
        session.execute(insert(table), rows)
        return
    given = list(rows[0])
    fixed = _defaults(table, given)
    names = given + list(fixed)
    json_cols = {n for n in names if _is_json(table.c[n])}
    sql = _BULK_SQL.get(("copy", table.name, tuple(names)))
    if sql is None:
        sql = _BULK_SQL[("copy", table.name, tuple(names))] = (
            f"COPY {_quote(table.name)} ({', '.join(_quote(n) for n in names)}) FROM STDIN")
    extra = tuple(fixed[n] for n in fixed)
    if json_cols:
        extra = tuple(_json_dumps(v) if n in json_cols else v for n, v in zip(fixed, extra, strict=True))
        at = [n in json_cols for n in given]
        values = [tuple(_json_dumps(v) if j and v is not None else v
                        for v, j in zip(map(row.__getitem__, given), at, strict=True)) + extra for row in rows]
    else:
        # By name, not by the dicts' order: every row's keys must be the first row's.
        values = [(*map(row.__getitem__, given), *extra) for row in rows]
    import psycopg

    conn = session.connection()
    _announce(conn, insert(table))
    cursor = conn.connection.driver_connection.cursor()
    # The COPY goes to the driver directly: tell the engine's cursor listeners (statement counters,
    # the query-count tests, logging) about it as they hear of any statement.
    for listener in conn.dispatch.before_cursor_execute:
        listener(conn, cursor, sql, (), None, False)
    try:
        with cursor.copy(sql) as copy:
            for value in values:
                copy.write_row(value)
    except psycopg.Error as exc:
        raise DBAPIError.instance(sql, None, exc, psycopg.Error) from exc
    for listener in conn.dispatch.after_cursor_execute:
        listener(conn, cursor, sql, (), None, False)


def bulk_update(session: Session, table, rows: list[dict], *, key: str = "id") -> None:
    """UPDATE ``table`` row by row from ``rows`` (dicts with the same keys, ``key`` among them: the
    row to change; the others: its new values). One ``UPDATE … FROM unnest(…)`` on PostgreSQL,
    ``update(table)`` executemany by key on SQLite."""
    if not rows:
        return
    names = list(rows[0])
    if session.get_bind().dialect.name != "postgresql":
        session.execute(update(table).where(table.c[key] == bindparam(f"b_{key}"))
                        .values({n: bindparam(f"b_{n}") for n in names if n != key}),
                        [{f"b_{n}": v for n, v in row.items()} for row in rows])
        return
    _announce(session.connection(), update(table))
    sig = ("update", table.name, key, tuple(names))
    stmt = _BULK_SQL.get(sig)
    casts, params = _arrays(table, names, rows, {})
    if stmt is None:
        sets = ", ".join(f"{_quote(n)} = " + (f"CAST(u.{_quote(n)} AS {_pg_type(table.c[n])})"
                                              if _is_json(table.c[n]) else f"u.{_quote(n)}") for n in names if n != key)
        stmt = _BULK_SQL[sig] = text(
            f'UPDATE {_quote(table.name)} AS t SET {sets} FROM unnest({", ".join(casts)}) '
            f'AS u({", ".join(_quote(n) for n in names)}) WHERE t.{_quote(key)} = u.{_quote(key)}')
    session.execute(stmt, params)


def among(session: Session, column, values: Iterable):
    """``column IN values`` for a long list: on PostgreSQL ``column = ANY(:array)``, one bound
    array (an expanding IN binds, renders and parses one parameter per value: at a few hundred
    values, more than the lookup itself); ``IN`` elsewhere."""
    values = list(values)
    if session.get_bind().dialect.name != "postgresql":
        return column.in_(values)
    return column == any_(cast(bindparam(None, pg_array(values), type_=Text()), ARRAY(column.type)))
