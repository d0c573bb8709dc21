"""Monthly statements from the ledger: balances carried (negative ones too), payouts once."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.kernel.errors import Conflict, RuleError
from portal.kernel.time import utcnow
from portal.orders import statements
from portal.orders.models import CommissionStatement
from portal.org.scope import scope_for
from tests.factories import make_guide, make_member, sql_log
from tests.orders.ledger_helpers import make_plan, paid_order, refund


def months_ago(n: int) -> str:
    month = statements.month_of(utcnow())
    for _ in range(n):
        month = statements.previous_month(month)
    return month


def day(month: str, d: int):
    return statements.month_bounds(month)[0] + timedelta(days=d - 1, hours=3)


def _statement(db, month, guide):
    return db.session.scalar(select(CommissionStatement).where(
        CommissionStatement.month == month, CommissionStatement.beneficiary == "guide",
        CommissionStatement.holder_id == guide.id))


def _figures(s):
    return (s.opening_fen, s.earned_fen, s.reversed_fen, s.paid_out_fen, s.closing_fen)


@pytest.fixture(autouse=True)
def _request(app):
    """The services speak the request's language (their messages and the downloads' headers)."""
    with app.test_request_context():
        yield


@pytest.fixture
def guide_world(org, db):
    store = org.stores["sh1"]
    guide = make_guide(store, name="王芳")
    buyer = make_member(store, "韩梅梅", guide=guide)
    db.session.commit()
    make_plan(org, start=-200, end=30, store_rate="0", guide_rate="10.00", sharer_rate="0", freeze_days=7)
    return store, guide, buyer


def _close(org, db, month):
    hq = org.users["hq"]
    statements.close_month(scope_for(hq), month, actor=hq)
    db.session.commit()


def _pay(org, db, s, user="hq"):
    actor = org.users[user]
    paid = statements.pay_statement(scope_for(actor), s, actor=actor)
    db.session.commit()
    return paid


def test_a_reversal_after_payout_carries_a_negative_balance_netted_against_later_earnings(org, db, guide_world):
    store, guide, buyer = guide_world
    m1, m2, m3, m4 = (months_ago(n) for n in (4, 3, 2, 1))
    order = paid_order(store, buyer, [("A", 1, 10000)], guide_id=guide.id, paid_at=day(m1, 2))
    late = paid_order(store, buyer, [("A", 1, 5000)], guide_id=guide.id, paid_at=day(m1, 28))  # payable in m2
    _close(org, db, m1)
    first = _statement(db, m1, guide)
    assert _figures(first) == (0, 1000, 0, 0, 1000)
    assert _pay(org, db, first) == 1000
    refund(store, order, {1: 10000}, at=day(m2, 3))             # after the payout: a claw-back
    _close(org, db, m2)
    # opening 10.00, the late order's 5.00, the claw-back -10.00, the payout -10.00: -5.00
    assert _figures(_statement(db, m2, guide)) == (1000, 500, -1000, 1000, -500)
    with pytest.raises(RuleError):
        _pay(org, db, _statement(db, m2, guide))                 # nothing to pay
    db.session.rollback()
    paid_order(store, buyer, [("A", 1, 3000)], guide_id=guide.id, paid_at=day(m3, 1))
    _close(org, db, m3)
    assert _figures(_statement(db, m3, guide)) == (-500, 300, 0, 0, -200)   # carried, not lost
    paid_order(store, buyer, [("A", 1, 20000)], guide_id=guide.id, paid_at=day(m4, 1))
    _close(org, db, m4)
    assert _figures(_statement(db, m4, guide)) == (-200, 2000, 0, 0, 1800)
    assert _pay(org, db, _statement(db, m4, guide)) == 1800
    assert late.id


def test_a_statement_pays_once(org, db, guide_world):
    store, guide, buyer = guide_world
    m1 = months_ago(1)
    paid_order(store, buyer, [("A", 1, 10000)], guide_id=guide.id, paid_at=day(m1, 2))
    _close(org, db, m1)
    s = _statement(db, m1, guide)
    assert _pay(org, db, s, "east_admin") == 1000
    with pytest.raises(Conflict):
        _pay(org, db, s, "hq")
    db.session.rollback()
    db.session.expire_all()
    assert _statement(db, m1, guide).payout_fen == 1000


def test_frozen_entries_wait_for_the_month_they_become_payable(org, db, guide_world):
    store, guide, buyer = guide_world
    m1, m2 = months_ago(2), months_ago(1)
    paid_order(store, buyer, [("A", 1, 10000)], guide_id=guide.id, paid_at=statements.month_bounds(m2)[0]
               - timedelta(days=2))                                        # payable 5 days into m2
    _close(org, db, m1)
    assert _statement(db, m1, guide) is None
    _close(org, db, m2)
    assert _figures(_statement(db, m2, guide)) == (0, 1000, 0, 0, 1000)


def test_months_close_in_order_once_they_ended(org, db, guide_world):
    hq = org.users["hq"]
    scope = scope_for(hq)
    with pytest.raises(RuleError):
        statements.close_month(scope, statements.month_of(utcnow()), actor=hq)       # not ended yet
    _close(org, db, months_ago(3))
    with pytest.raises(RuleError):
        statements.close_month(scope, months_ago(1), actor=hq)                       # skips one
    with pytest.raises(Conflict):
        statements.close_month(scope, months_ago(3), actor=hq)
    with pytest.raises(RuleError):
        east = org.users["east_admin"]
        statements.close_month(scope_for(east), months_ago(2), actor=east)          # HQ only


def test_statements_are_grouped_in_sql_and_never_touch_the_ledger(org, db, guide_world):
    store, guide, buyer = guide_world
    m1, m2 = months_ago(2), months_ago(1)
    orders = [paid_order(store, buyer, [("A", 1, 1000 + n)], guide_id=guide.id, paid_at=day(m1, 2 + n))
              for n in range(5)]
    with sql_log() as seen:
        _close(org, db, m1)
        _pay(org, db, _statement(db, m1, guide))
        refund(store, orders[0], {1: 1000})
        _close(org, db, m2)
        statements.statement_table(_statement(db, m2, guide), "王芳", store.name)
        statements.month_table(scope_for(org.users["hq"]), m2)
    ledger = [s for s in seen if "commission_entries" in s.lower()]
    assert not [s for s in ledger if s.lstrip().upper().startswith(("UPDATE", "DELETE"))]
    assert len([s for s in seen if s.lstrip().upper().startswith("INSERT INTO COMMISSION_STATEMENTS")]) == 2


def test_the_periodic_task_closes_the_months_that_ended(org, db, guide_world):
    from portal import jobs
    from portal.orders.models import CommissionMonth
    from portal.orders.tasks import close_due_months

    assert "close-commission-months" in jobs.PERIODIC
    store, guide, buyer = guide_world
    paid_order(store, buyer, [("A", 1, 10000)], guide_id=guide.id, paid_at=day(months_ago(1), 2))
    _close(org, db, months_ago(3))
    assert close_due_months() == [months_ago(2), months_ago(1)]
    assert close_due_months() == []
    assert [m.month for m in db.session.scalars(select(CommissionMonth).order_by(CommissionMonth.month))] == [
        months_ago(3), months_ago(2), months_ago(1)]
    assert _figures(_statement(db, months_ago(1), guide)) == (0, 1000, 0, 0, 1000)
