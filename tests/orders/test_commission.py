"""The commission engine: who earns what on a paid order, and what a refund takes back."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from portal.orders.models import CommissionEntry, Order
from tests.factories import make_guide, make_member, sql_log
from tests.orders.ledger_helpers import days, make_plan, paid_order, refund


def _entries(db, order, *, reversals=False):
    q = select(CommissionEntry).where(CommissionEntry.order_id == order.id)
    q = q.where(CommissionEntry.reverses_id.isnot(None) if reversals else CommissionEntry.reverses_id.is_(None))
    return db.session.scalars(q.order_by(CommissionEntry.id)).all()


def _by(entries):
    return {(e.beneficiary, e.level, e.line_id): e.amount_fen for e in entries}


def _setup(org, db, **plan):
    store = org.stores["sh1"]
    guide = make_guide(store, name="王芳")
    sharer = make_member(store, "李雷")
    buyer = make_member(store, "韩梅梅", guide=guide, referrer_id=sharer.id)
    db.session.commit()
    return store, guide, sharer, buyer, make_plan(org, **plan)


def test_one_entry_per_beneficiary_with_hand_computed_amounts(org, db):
    store, guide, sharer, buyer, plan = _setup(org, db)
    # Line 1: HQ ships it (the store earns on it), 2 × 49.50; line 2: the store's own, 33.30.
    order = paid_order(store, buyer, [("HQ-1", 2, 4950), ("OWN-1", 1, 3330)], hq_lines=(1,),
                       guide_id=guide.id, sharer_id=sharer.id)
    entries = _entries(db, order)
    l1, l2 = sorted({e.line_id for e in entries})
    # store 10 %: 99.00 → 9.90 on line 1 only; guide 5 %: 4.95 and 1.665 → 1.67 (half up);
    # sharer 3.33 %: 3.2967 → 3.30 and 1.10889 → 1.11.
    assert _by(entries) == {("store", 0, l1): 990, ("guide", 0, l1): 495, ("guide", 0, l2): 167,
                            ("sharer", 1, l1): 330, ("sharer", 1, l2): 111}
    db.session.expire_all()
    assert db.session.get(Order, order.id).plan_id == plan.id
    guide_entry = next(e for e in entries if e.beneficiary == "guide")
    assert guide_entry.guide_id == guide.id and guide_entry.rate_bp == 500 and guide_entry.base_fen == 9900
    assert guide_entry.why["guide"] == "王芳" and guide_entry.why["since"] == buyer.bound_at.isoformat()
    assert guide_entry.why["plan"] == "春季分销"
    sharer_entry = next(e for e in entries if e.beneficiary == "sharer")
    assert sharer_entry.member_id == sharer.id and sharer_entry.why["sharer"] == "李雷"
    assert sharer_entry.why["referrer_since"] == buyer.created_at.isoformat()
    assert all(e.payable_at == order.paid_at + timedelta(days=7) for e in entries)


def test_no_plan_no_entries(org, db):
    store = org.stores["sh1"]
    buyer = make_member(store, guide=make_guide(store))
    db.session.commit()
    make_plan(org, stores=("SH002",))                      # another store's plan
    make_plan(org, start=-30, end=-20)                     # ended before the order
    order = paid_order(store, buyer, [("A", 1, 10000)], hq_lines=(1,), guide_id=buyer.guide_id)
    assert _entries(db, order) == []
    assert db.session.get(Order, order.id).plan_id is None


def test_the_plan_started_last_wins(org, db):
    store, guide, sharer, buyer, _old = _setup(org, db)
    newer = make_plan(org, name="夏季分销", start=-2, guide_rate="8.00")
    order = paid_order(store, buyer, [("A", 1, 10000)], guide_id=guide.id)
    assert [(e.plan_id, e.amount_fen) for e in _entries(db, order)] == [(newer.id, 800)]


def test_store_earns_only_on_hq_shipped_lines(org, db):
    store, _guide, _sharer, buyer, _plan = _setup(org, db)
    own = paid_order(store, buyer, [("OWN", 1, 10000)])
    hq = paid_order(store, buyer, [("HQ", 1, 10000)], hq_lines=(1,))
    assert _entries(db, own) == []
    [entry] = _entries(db, hq)
    assert (entry.beneficiary, entry.beneficiary_store_id, entry.amount_fen) == ("store", store.id, 1000)


def test_two_level_plan_pays_the_sharers_referrer_never_the_buyer(org, db):
    store = org.stores["sh1"]
    top = make_member(store, "张伟")
    sharer = make_member(store, "李雷", referrer_id=top.id)
    buyer = make_member(store, "韩梅梅")
    db.session.commit()
    make_plan(org, levels=2, store_rate="0", guide_rate="0", sharer_rate="10.00", second_rate="2.50")
    order = paid_order(store, buyer, [("A", 1, 10000)], sharer_id=sharer.id)
    entries = _entries(db, order)
    assert [(e.level, e.member_id, e.amount_fen) for e in entries] == [(1, sharer.id, 1000), (2, top.id, 250)]
    assert entries[1].why["via"] == "李雷"
    # The buyer who brought their own sharer earns nothing at level 2.
    sharer2 = make_member(store, "小明", referrer_id=buyer.id)
    db.session.commit()
    order2 = paid_order(store, buyer, [("A", 1, 10000)], sharer_id=sharer2.id)
    assert [(e.level, e.member_id) for e in _entries(db, order2)] == [(1, sharer2.id)]


def test_one_level_plan_pays_no_second_level(org, db):
    store = org.stores["sh1"]
    top = make_member(store)
    sharer = make_member(store, referrer_id=top.id)
    buyer = make_member(store)
    db.session.commit()
    make_plan(org, store_rate="0", guide_rate="0", sharer_rate="10.00")
    order = paid_order(store, buyer, [("A", 1, 10000)], sharer_id=sharer.id)
    assert [e.level for e in _entries(db, order)] == [1]


def test_freeze_then_payable(org, db):
    store, guide, _sharer, buyer, _plan = _setup(org, db, freeze_days=3)
    paid = days(-1)
    order = paid_order(store, buyer, [("A", 1, 10000)], guide_id=guide.id, paid_at=paid)
    [entry] = _entries(db, order)
    assert entry.payable_at == paid + timedelta(days=3)
    assert entry.payable_at > days(0)           # frozen now, payable in two days


def test_partial_refund_of_one_line_reverses_only_its_share(org, db):
    store, guide, sharer, buyer, _plan = _setup(org, db)
    order = paid_order(store, buyer, [("A", 1, 10000), ("B", 1, 5000)], hq_lines=(1, 2),
                       guide_id=guide.id, sharer_id=sharer.id)
    l1, l2 = sorted({e.line_id for e in _entries(db, order)})
    r = refund(store, order, {2: 2000})              # 40 % of line 2
    back = _entries(db, order, reversals=True)
    # line 2: store 500 → -200, guide 250 → -100, sharer 3.33 % of 50.00 = 167 (166.5) → -67 (66.8)
    assert _by(back) == {("store", 0, l2): -200, ("guide", 0, l2): -100, ("sharer", 1, l2): -67}
    assert all(e.refund_id == r.id for e in back)


def test_two_partial_refunds_then_the_rest_reverse_exactly_the_original(org, db):
    store, guide, sharer, buyer, _plan = _setup(org, db)
    order = paid_order(store, buyer, [("A", 3, 3333)], hq_lines=(1,), guide_id=guide.id, sharer_id=sharer.id)
    original = {e.id: e.amount_fen for e in _entries(db, order)}
    for part in (3333, 1234, 9999 - 3333 - 1234):
        refund(store, order, {1: part})
    back = _entries(db, order, reversals=True)
    assert len(back) == 3 * len(original)
    totals = {i: 0 for i in original}
    for e in back:
        totals[e.reverses_id] += e.amount_fen
    assert totals == {i: -amount for i, amount in original.items()}
    # A further call reverses nothing more.
    refund_count = len(back)
    from portal.orders import commission
    commission.reverse(store, [])
    assert len(_entries(db, order, reversals=True)) == refund_count


def test_a_claw_back_is_due_at_the_refund_a_refund_during_the_freeze_waits_with_its_entry(org, db):
    store, guide, _sharer, buyer, _plan = _setup(org, db, freeze_days=7)
    old = paid_order(store, buyer, [("A", 1, 10000)], guide_id=guide.id, paid_at=days(-9))
    fresh = paid_order(store, buyer, [("A", 1, 10000)], guide_id=guide.id, paid_at=days(-1))
    at = days(0)
    refund(store, old, {1: 10000}, at=at)
    refund(store, fresh, {1: 10000}, at=at)
    [claw_back] = _entries(db, old, reversals=True)
    [waiting] = _entries(db, fresh, reversals=True)
    assert claw_back.payable_at == at
    assert waiting.payable_at == _entries(db, fresh)[0].payable_at


def test_the_engine_never_updates_or_deletes_an_entry(org, db):
    store, guide, sharer, buyer, _plan = _setup(org, db)
    with sql_log() as statements:
        order = paid_order(store, buyer, [("A", 2, 5000), ("B", 1, 999)], hq_lines=(1,), guide_id=guide.id,
                           sharer_id=sharer.id)
        refund(store, order, {1: 5000})
        refund(store, order, {1: 5000, 2: 999})
    inserts = [s for s in statements if s.lstrip().upper().startswith("INSERT INTO COMMISSION_ENTRIES")]
    assert len(inserts) == 3                       # one bulk INSERT per call
    assert not [s for s in statements if "commission_entries" in s.lower()
                and s.lstrip().upper().startswith(("UPDATE", "DELETE"))]


def test_accrue_and_reverse_cost_the_same_statements_for_one_order_or_twenty(org, db):
    from portal.orders import commission
    from portal.orders.models import OrderLine, Refund, RefundLine
    from tests.factories import make_order

    store, guide, sharer, buyer, _plan = _setup(org, db)

    def batch(n):
        orders = [make_order(store, buyer, [("A", 1, 1000), ("B", 2, 700)], guide_id=guide.id, sharer_id=sharer.id)
                  for _ in range(n)]
        with sql_log() as accrued:
            commission.accrue(store, orders)
        refunds = []
        for o in orders:
            line = db.session.scalar(select(OrderLine).where(OrderLine.order_id == o.id, OrderLine.line_no == 1))
            r = Refund(store_id=store.id, order_id=o.id, number=f"R{o.id}", amount_fen=500, refunded_at=o.paid_at)
            db.session.add(r)
            db.session.flush()
            db.session.add(RefundLine(refund_id=r.id, line_id=line.id, amount_fen=500))
            line.refunded_fen = 500
            refunds.append(r)
        db.session.flush()
        with sql_log() as reversed_:
            commission.reverse(store, refunds)
        db.session.commit()
        return len(accrued), len(reversed_)

    assert batch(1) == batch(20)
    assert db.session.scalar(select(func.count()).select_from(CommissionEntry)) == 21 * (4 + 2)
