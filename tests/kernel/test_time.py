"""UTCDateTime: aware UTC in, aware UTC out, on SQLite as on PostgreSQL."""
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.exc import StatementError

from portal.audit.models import AuditEntry
from portal.kernel.time import UTCDateTime
from portal.org.models import Store
from tests import factories


def test_every_model_datetime_is_utc(db):
    """No column stores a naive or zone-less instant (the session table is Flask-Session's own)."""
    from sqlalchemy import DateTime

    loose = [f"{t.name}.{c.name}" for t in db.metadata.sorted_tables for c in t.columns
             if isinstance(c.type, DateTime) and not isinstance(c.type, UTCDateTime) and t.name != "sessions"]
    assert loose == []


def test_reads_back_aware_utc(org, db):
    store = org.stores["sh1"]
    shanghai = datetime(2026, 3, 1, 8, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
    store.updated_at = shanghai
    db.session.commit()
    db.session.expire_all()

    stored = db.session.get(Store, store.id).updated_at
    assert stored.tzinfo is not None and stored.utcoffset() == timedelta(0)
    assert stored == shanghai
    assert stored.hour == 0            # written as UTC, not as Shanghai's wall clock
    # Compared in SQL with an aware bound value of another zone, it still matches.
    assert db.session.scalar(select(Store.id).where(Store.id == store.id, Store.updated_at == shanghai)) == store.id


def test_refuses_naive(org, db):
    db.session.add(AuditEntry(actor_id=None, actor_name="x", action="x", object_type="store", object_id=None,
                              path=org.nodes["hq"].path, created_at=datetime(2026, 3, 1, 8, 30)))
    with pytest.raises(StatementError, match="Naive datetime"):
        db.session.flush()
    db.session.rollback()


def test_now_compares_with_stored(org, db):
    store = factories.make_store(org.nodes["r_sh"])
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Store, store.id).created_at <= datetime.now(UTC)
