"""RFM segments on small data sets computed by hand (portal.members.rfm)."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import event, select

from portal.extensions import db
from portal.members import rfm
from portal.members.models import Member, MemberSegmentMonth, SegmentMove
from tests.factories import make_member, make_order

NOW = datetime(2026, 6, 15, 4, 0, tzinfo=UTC)


def ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


def buyer(store, orders, **kw):
    """A member of ``store`` with orders given as (days ago, paid fen[, refunded fen])."""
    member = make_member(store, **kw)
    for spec in orders:
        days, paid = spec[0], spec[1]
        refunded = spec[2] if len(spec) > 2 else 0
        status = "paid" if not refunded else ("refunded" if refunded == paid else "partly_refunded")
        make_order(store, member, [("SKU1", 1, paid)], paid_at=ago(days), refunded_fen=refunded, status=status)
    return member


def _segments(members: dict) -> dict:
    db.session.expire_all()
    return {name: db.session.get(Member, m.id).segment for name, m in members.items()}


def _hand_set(store):
    """Defaults: window 365 days, new 30 days, R high within 90 days, F high from 3 orders, M high
    from ¥1,000 (100,000 fen). Expected segment of each member worked out by hand beside it."""
    return {
        # R 10 d ↑, F 3 ↑, M 1,200 ↑
        "important_value": buyer(store, [(10, 40000), (100, 40000), (200, 40000)]),
        # R 100 d ↓, F 3 ↑, M 1,200 ↑
        "important_keep": buyer(store, [(100, 40000), (150, 40000), (200, 40000)]),
        # R 5 d ↑, F 2 ↓, M 1,200 ↑ (first order 60 days ago: not new)
        "important_develop": buyer(store, [(5, 100000), (60, 20000)]),
        # R 120 d ↓, F 1 ↓, M 2,500 − 500 refunded = 2,000 ↑
        "important_retain": buyer(store, [(120, 250000, 50000)]),
        # R 10 d ↑, F 3 ↑, M 300 ↓
        "general_value": buyer(store, [(10, 10000), (40, 10000), (80, 10000)]),
        # R 100 d ↓, F 3 ↑, M 30 ↓
        "general_keep": buyer(store, [(100, 1000), (110, 1000), (120, 1000)]),
        # R exactly 90 d ↑ (within 90 days), F 2 ↓, M 100 ↓
        "general_develop": buyer(store, [(90, 5000), (95, 5000)]),
        # R 300 d ↓, F 1 ↓, M 50 ↓
        "general_retain": buyer(store, [(300, 5000)]),
        # first order 3 days ago: new, whatever its scores (here R↑ F↓ M↑)
        "new": buyer(store, [(3, 500000)]),
        # bought only 400 days ago, before the window: general_retain (decided), scores 0/0/0
        "lapsed": buyer(store, [(400, 900000)]),
        # the window's edge: 364 d counts, 366 d does not: F 2, M 800 (with 366 d it would be
        # F 3, M 1,200: important_keep) → R 100 d ↓ F ↓ M ↓
        "edge": buyer(store, [(100, 40000), (364, 40000), (366, 40000)]),
        # a fully refunded order is no purchase: the ¥5,000 of 10 days ago counts nowhere, left
        # is one order of ¥50 200 days ago (counted, it would be important_develop)
        "refunded": buyer(store, [(10, 500000, 500000), (200, 5000)]),
        # never bought: no segment
        "never": make_member(store),
        # merged away: not scored
        "merged": buyer(store, [(10, 900000)], status="merged"),
    }


EXPECTED = {"important_value": "important_value", "important_keep": "important_keep",
            "important_develop": "important_develop", "important_retain": "important_retain",
            "general_value": "general_value", "general_keep": "general_keep", "general_develop": "general_develop",
            "general_retain": "general_retain", "new": "new", "lapsed": "general_retain", "edge": "general_retain",
            "refunded": "general_retain", "never": None, "merged": None}


def test_segments_of_a_hand_computed_set(app, org):
    members = _hand_set(org.stores["sh1"])
    db.session.commit()
    result = rfm.recompute(now=NOW)
    db.session.commit()
    assert _segments(members) == EXPECTED
    assert result.members == 12
    assert result.counts["general_retain"] == 4 and result.counts["new"] == 1

    value = db.session.get(Member, members["important_value"].id)
    assert (value.r_score, value.f_score, value.m_score) == (1, 1, 1)
    assert (value.rfm_orders, value.rfm_net_fen) == (3, 120000)
    assert value.last_order_at == ago(10) and value.first_order_at == ago(200)
    assert value.segment_since == NOW
    retain = db.session.get(Member, members["important_retain"].id)
    assert (retain.rfm_orders, retain.rfm_net_fen) == (1, 200000)
    edge = db.session.get(Member, members["edge"].id)
    assert (edge.rfm_orders, edge.rfm_net_fen, edge.first_order_at) == (2, 80000, ago(366))
    lapsed = db.session.get(Member, members["lapsed"].id)
    assert (lapsed.r_score, lapsed.f_score, lapsed.m_score, lapsed.rfm_orders) == (0, 0, 0, 0)
    refunded = db.session.get(Member, members["refunded"].id)
    assert refunded.last_order_at == ago(200) and refunded.rfm_net_fen == 5000
    new = db.session.get(Member, members["new"].id)
    assert (new.r_score, new.f_score, new.m_score) == (1, 0, 1)


def test_changed_thresholds_change_segments_and_live_counts_match(app, org):
    members = _hand_set(org.stores["sh1"])
    db.session.commit()
    s = rfm.get_settings(for_writing=True)
    # HQ lowers F to 2 orders and M to ¥100, and only counts the last 30 days as recent.
    s.rfm_frequency, s.rfm_monetary_fen, s.rfm_recency_days = 2, 10000, 30
    db.session.commit()
    live = rfm.live_counts(rfm.Rules.of(s), now=NOW)
    rfm.recompute(now=NOW)
    db.session.commit()
    got = _segments(members)
    # R 10 d ↑, F 3 ↑, M 300 ↑ now
    assert got["general_value"] == "important_value"
    # R 90 d ↓ now, F 2 ↑, M 100 ↑
    assert got["general_develop"] == "important_keep"
    # R 100 d ↓, F 2 ↑ (the 366-day order still out), M 800 ↑
    assert got["edge"] == "important_keep"
    assert got["important_develop"] == "important_value"
    assert live == rfm.current_counts()
    assert live[None] == 1     # the member who never bought (the merged one is not active)


def test_median_mode_on_a_hand_computed_set(app, org):
    store = org.stores["sh1"]
    s = rfm.get_settings(for_writing=True)
    s.rfm_mode, s.rfm_new_days = "median", 1
    # Medians of the five buyers: R 30 days, F 2 orders, M ¥20. High = strictly better.
    members = {
        "a": buyer(store, [(10, 250), (60, 250), (70, 250), (80, 250)]),   # R 10 ↑ F 4 ↑ M 10 ↓
        "b": buyer(store, [(20, 50000)]),                                   # R 20 ↑ F 1 ↓ M 500 ↑
        "c": buyer(store, [(30, 1000), (90, 2000)]),                        # R 30 ↓ F 2 ↓ M 30 ↑
        "d": buyer(store, [(40, 1000), (50, 500), (55, 500)]),              # R 40 ↓ F 3 ↑ M 20 ↓
        "e": buyer(store, [(50, 100)]),                                     # R 50 ↓ F 1 ↓ M 1 ↓
    }
    db.session.commit()
    meds = rfm.medians(rfm.Rules.of(s), NOW)
    assert round(meds.recency_days, 6) == 30 and meds.frequency == 2 and meds.monetary_fen == 2000
    live = rfm.live_counts(rfm.Rules.of(s), now=NOW)
    rfm.recompute(now=NOW)
    db.session.commit()
    assert _segments(members) == {"a": "general_value", "b": "important_develop", "c": "important_retain",
                                  "d": "general_keep", "e": "general_retain"}
    assert live == rfm.current_counts()


def test_median_of_an_even_number_of_buyers_is_the_mean_of_the_middle_two(app, org):
    store = org.stores["sh1"]
    for days, fen in ((10, 100), (20, 300), (30, 500), (40, 700)):
        buyer(store, [(days, fen)])
    db.session.commit()
    meds = rfm.medians(rfm.Rules(mode="median"), NOW)
    assert round(meds.recency_days, 6) == 25 and meds.frequency == 1 and meds.monetary_fen == 400


def test_a_member_who_loses_their_orders_loses_the_segment(app, org):
    store = org.stores["sh1"]
    member = buyer(store, [(10, 900000)])
    db.session.commit()
    rfm.recompute(now=NOW)
    db.session.commit()
    assert db.session.get(Member, member.id).segment == "new"
    order = member_order(member)
    order.refunded_fen, order.status = order.paid_fen, "refunded"
    db.session.commit()
    rfm.recompute(now=NOW + timedelta(days=1))
    db.session.commit()
    db.session.expire_all()
    got = db.session.get(Member, member.id)
    assert (got.segment, got.r_score, got.last_order_at) == (None, None, None)


def member_order(member):
    from portal.orders.models import Order

    return db.session.scalar(select(Order).where(Order.member_id == member.id))


def test_segment_since_stays_while_the_segment_does(app, org):
    store = org.stores["sh1"]
    member = buyer(store, [(100, 40000), (150, 40000), (200, 40000)])
    db.session.commit()
    rfm.recompute(now=NOW)
    db.session.commit()
    rfm.recompute(now=NOW + timedelta(days=1))      # R 101 days: still important_keep
    db.session.commit()
    db.session.expire_all()
    got = db.session.get(Member, member.id)
    assert (got.segment, got.segment_since) == ("important_keep", NOW)


def _statements(fn) -> int:
    seen = []

    def count(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        fn()
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return len(seen)


def test_the_statement_count_does_not_depend_on_the_number_of_members(app, org):
    store = org.stores["sh1"]
    buyer(store, [(10, 1000)])
    db.session.commit()
    first = _statements(lambda: (rfm.recompute(now=NOW - timedelta(hours=1)), db.session.commit()))
    few = _statements(lambda: (rfm.recompute(now=NOW), db.session.commit()))
    for i in range(40):
        buyer(store, [(5 + i, 1000 * (i + 1)), (50 + i, 500)])
    db.session.commit()
    many = _statements(lambda: (rfm.recompute(now=NOW + timedelta(hours=1)), db.session.commit()))
    assert many == few <= 12 and first <= 16     # the month's first run also takes the snapshot


def test_monthly_moves_on_a_hand_built_case(app, org):
    sh1, sh2 = org.stores["sh1"], org.stores["sh2"]
    # In May: x is new (first order 3 days before), y important_keep, z general_retain; w of sh2 new.
    may = datetime(2026, 5, 20, 4, 0, tzinfo=UTC)
    x = make_member(sh1)
    make_order(sh1, x, [("SKU1", 1, 500000)], paid_at=may - timedelta(days=3))
    y = make_member(sh1)
    for days in (100, 150, 200):
        make_order(sh1, y, [("SKU1", 1, 40000)], paid_at=may - timedelta(days=days))
    z = make_member(sh1)
    make_order(sh1, z, [("SKU1", 1, 5000)], paid_at=may - timedelta(days=300))
    w = make_member(sh2)
    make_order(sh2, w, [("SKU1", 1, 5000)], paid_at=may - timedelta(days=1))
    db.session.commit()
    rfm.recompute(now=may)
    db.session.commit()
    # June 15: x (first order May 17, 29 days) and w (May 19) are still new; y bought again on
    # June 10 (R 5 d ↑, F 4 ↑, M ¥1,600 ↑): important_value; z unchanged.
    make_order(sh1, y, [("SKU1", 1, 40000)], paid_at=datetime(2026, 6, 10, 4, 0, tzinfo=UTC))
    db.session.commit()
    rfm.recompute(now=NOW)         # first recompute of June: the snapshot is May's segments
    db.session.commit()
    snap = dict(db.session.execute(select(MemberSegmentMonth.member_id, MemberSegmentMonth.segment)
                                   .where(MemberSegmentMonth.month == "2026-06")).all())
    assert snap == {x.id: "new", y.id: "important_keep", z.id: "general_retain", w.id: "new"}
    moves = db.session.execute(select(SegmentMove.store_id, SegmentMove.from_segment, SegmentMove.to_segment,
                                      SegmentMove.members).where(SegmentMove.month == "2026-06")).all()
    assert moves == [(sh1.id, "important_keep", "important_value", 1)]
    # June 20: x (34 days: R↑ F↓ M ¥5,000 ↑) and w (32 days: R↑ F↓ M ¥50 ↓) are no longer new; the
    # month's moves are recounted
    # against the same snapshot, which is not taken again.
    rfm.recompute(now=datetime(2026, 6, 20, 4, 0, tzinfo=UTC))
    db.session.commit()
    moves = set(db.session.execute(select(SegmentMove.store_id, SegmentMove.from_segment, SegmentMove.to_segment,
                                          SegmentMove.members).where(SegmentMove.month == "2026-06")).all())
    assert moves == {(sh1.id, "important_keep", "important_value", 1), (sh1.id, "new", "important_develop", 1),
                     (sh2.id, "new", "general_develop", 1)}
    assert db.session.scalar(select(MemberSegmentMonth.segment).where(
        MemberSegmentMonth.month == "2026-06", MemberSegmentMonth.member_id == x.id)) == "new"
