"""The bulk writes of portal.kernel.sql: ``bulk_insert`` (COPY on PostgreSQL from 20 rows),
``bulk_update`` (one UPDATE … FROM unnest) and ``among`` (= ANY of one array) give the same rows
as the plain statements, on both databases, and behave like any statement towards the session:
defaults applied, constraints raised as SQLAlchemy errors, statement listeners and the
derived-data cache told."""
from __future__ import annotations

import enum
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from portal.audit.models import AuditEntry
from portal.extensions import db
from portal.kernel.sql import COPY_FROM, among, bulk_insert, bulk_update
from portal.org import services
from portal.org.models import Tag, store_tags
from portal.org.scope import scope_for
from tests.factories import sql_log

AUDIT = AuditEntry.__table__


def _rows(n: int, **extra) -> list[dict]:
    return [{"actor_name": f"张{i}", "action": "bulk.test", "object_type": "thing", "object_id": i,
             "path": "/1/", **extra} for i in range(n)]


@pytest.mark.parametrize("n", [3, COPY_FROM + 5])
def test_bulk_insert_applies_the_defaults_and_keeps_json_and_text_as_given(app, n):
    rows = _rows(n)
    rows[0] = dict(rows[0])
    bulk_insert(db.session, AUDIT, rows)
    details = [{"名字": "导购 12", "quote": "a\tb\\n\"c\"", "n": [1, 2]}] + [{}] * (n - 1)
    bulk_insert(db.session, AUDIT, [dict(r, action="bulk.json", details=d) for r, d in zip(_rows(n), details,
                                                                                        strict=True)])
    db.session.commit()
    got = db.session.execute(select(AuditEntry).where(AuditEntry.action == "bulk.test")
                             .order_by(AuditEntry.object_id)).scalars().all()
    assert [e.actor_name for e in got] == [f"张{i}" for i in range(n)]
    assert all(e.details == {} and e.object_label == "" and e.ip == "" and e.created_at is not None for e in got)
    stored = db.session.scalars(select(AuditEntry.details).where(AuditEntry.action == "bulk.json")
                                .order_by(AuditEntry.object_id)).all()
    assert stored == details


def test_rows_are_read_by_column_name_whatever_the_order_of_their_keys(app):
    rows = _rows(COPY_FROM + 2)
    rows[1] = dict(reversed(list(rows[1].items())))
    bulk_insert(db.session, AUDIT, rows)
    db.session.commit()
    got = db.session.execute(select(AuditEntry.object_id, AuditEntry.actor_name).where(AuditEntry.object_id == 1)).one()
    assert tuple(got) == (1, "张1")


def test_a_broken_constraint_in_a_copy_is_an_integrity_error_and_nothing_of_it_is_stored(app, org):
    rows = [{"name": f"重复{i}"} for i in range(COPY_FROM + 1)]
    rows[-1] = {"name": "重复0"}                       # the tag names are unique
    with pytest.raises(IntegrityError):
        bulk_insert(db.session, Tag.__table__, rows)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Tag).where(Tag.name.like("重复%"))) == 0


def test_every_bulk_write_is_one_statement_that_listeners_hear(app):
    with sql_log() as statements:
        bulk_insert(db.session, AUDIT, _rows(COPY_FROM * 3))
    assert len(statements) == 1
    ids = db.session.scalars(select(AuditEntry.id).where(AuditEntry.action == "bulk.test")).all()
    with sql_log() as statements:
        bulk_update(db.session, AUDIT, [{"id": i, "object_label": f"第{i}号", "details": {"k": i}} for i in ids[:-1]])
    db.session.commit()
    assert sum(1 for s in statements if "audit_entries" in s) == 1
    got = dict(db.session.execute(select(AuditEntry.id, AuditEntry.object_label)).all())
    assert all(got[i] == f"第{i}号" for i in ids[:-1]) and got[ids[-1]] == ""
    assert db.session.scalar(select(AuditEntry.details).where(AuditEntry.id == ids[0])) == {"k": ids[0]}


def test_among_finds_what_in_finds(app):
    bulk_insert(db.session, AUDIT, _rows(300))
    db.session.commit()
    wanted = list(range(0, 300, 3)) + [10_000]
    with_in = set(db.session.scalars(select(AuditEntry.object_id).where(AuditEntry.object_id.in_(wanted))))
    assert set(db.session.scalars(select(AuditEntry.object_id).where(among(db.session, AuditEntry.object_id,
                                                                           wanted)))) == with_in
    assert len(with_in) == 100
    assert db.session.scalars(select(AuditEntry.id).where(among(db.session, AuditEntry.actor_name, []))).all() == []
    names = {f"张{i}" for i in range(5)}
    assert set(db.session.scalars(select(AuditEntry.actor_name).where(among(db.session, AuditEntry.actor_name,
                                                                            names)))) == names


def test_a_bulk_write_drops_the_cached_data_it_feeds(app, org):
    scope = scope_for(org.users["hq"])
    assert "夜宵1" not in services.store_filter_menus(scope)[1]
    bulk_insert(db.session, Tag.__table__, [{"name": f"夜宵{i}"} for i in range(COPY_FROM + 1)])
    tag = db.session.scalar(select(Tag.id).where(Tag.name == "夜宵1"))
    db.session.execute(store_tags.insert().values(store_id=org.stores["sh1"].id, tag_id=tag))
    db.session.commit()
    assert "夜宵1" in services.store_filter_menus(scope)[1]
    bulk_update(db.session, Tag.__table__, [{"id": tag, "name": "宵夜"}])
    db.session.commit()
    menu = services.store_filter_menus(scope)[1]
    assert "宵夜" in menu and "夜宵1" not in menu


# Values an array's text must quote or escape: quotes, backslashes, commas and braces, the word
# NULL (a string, not a null), blanks, an empty string, CJK, and a null itself.
AWKWARD = ['a"b', "back\\slash", 'both \\" at once', "comma,{brace}", "NULL", "", " spaced ", "张三", "tab\there"]


def test_array_binds_carry_awkward_values_exactly(app):
    """``among`` and ``bulk_update`` bind their lists as one array text on PostgreSQL
    (``kernel.sql.pg_array``): every value comes back as it was, nulls as nulls, times with their
    instant."""
    rows = _rows(len(AWKWARD) + 2)
    bulk_insert(db.session, AUDIT, rows)
    db.session.commit()
    ids = db.session.scalars(select(AuditEntry.id).where(AuditEntry.action == "bulk.test")
                             .order_by(AuditEntry.object_id)).all()
    stamp = datetime(2026, 3, 2, 10, 15, 0, 123456, tzinfo=timezone(timedelta(hours=8)))
    changes = [{"id": i, "actor_name": name, "created_at": stamp + timedelta(seconds=k)}
               for k, (i, name) in enumerate(zip(ids, AWKWARD, strict=False))]
    bulk_update(db.session, AUDIT, changes)
    bulk_update(db.session, AUDIT, [{"id": ids[-1], "object_id": None, "ip": "NULL"},
                                     {"id": ids[-2], "object_id": 7, "ip": ""}])
    db.session.commit()
    assert db.session.execute(select(AuditEntry.object_id, AuditEntry.ip).where(AuditEntry.id.in_(ids[-2:]))
                              .order_by(AuditEntry.id)).all() == [(7, ""), (None, "NULL")]
    got = dict(db.session.execute(select(AuditEntry.id, AuditEntry.actor_name)).all())
    assert [got[c["id"]] for c in changes] == AWKWARD
    times = dict(db.session.execute(select(AuditEntry.id, AuditEntry.created_at)).all())
    assert [_utc(times[c["id"]]) for c in changes] == [c["created_at"].astimezone(UTC) for c in changes]
    found = db.session.scalars(select(AuditEntry.actor_name).where(among(db.session, AuditEntry.actor_name,
                                                                         AWKWARD + [None]))).all()
    assert sorted(found) == sorted(AWKWARD)
    assert db.session.scalars(select(AuditEntry.id).where(among(db.session, AuditEntry.actor_name,
                                                                ['a\\"b', "null", "comma"]))).all() == []


def test_array_binds_take_enum_members_as_their_values(app):
    class Kind(enum.StrEnum):
        NAME = "张1"

    class Number(enum.IntEnum):
        TWO = 2

    bulk_insert(db.session, AUDIT, _rows(4))
    db.session.commit()
    assert db.session.scalars(select(AuditEntry.object_id).where(among(db.session, AuditEntry.actor_name,
                                                                       [Kind.NAME]))).all() == [1]
    assert db.session.scalars(select(AuditEntry.actor_name).where(among(db.session, AuditEntry.object_id,
                                                                        [Number.TWO]))).all() == ["张2"]


def _utc(t: datetime) -> datetime:
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)
