"""A batch of 500 paid orders (new buyers, guides, sharers, 3 lines each) then 500 refunds: the
handlers run a bounded number of statements, however many orders the batch has."""
from __future__ import annotations

import time

from sqlalchemy import func, insert, select

from portal.extensions import db
from portal.ingest.services import ingest
from portal.orders.models import Order, OrderLine, Refund
from tests.factories import make_guide, make_product, sql_log
from tests.orders.helpers import paid, refund


def _batch(store, n: int, prefix: str) -> tuple[list[dict], list[dict]]:
    orders = [paid(f"{prefix}{i}", [("P-BATCH-1", 2, 1000), ("P-BATCH-2", 1, 550), ("LOCAL-9", 1, 300)],
                   openid=f"o-{prefix}{i}", discount=100, coupon=50, freight=600, nickname=f"买家{i}",
                   guide_code="G1" if i % 2 else None, sharer_openid=f"o-{prefix}{i - 1}" if i % 3 == 0 else None)
              for i in range(n)]
    refunds = [refund(f"RF-{prefix}{i}", f"{prefix}{i}", lines=[("P-BATCH-1", 1)]) if i % 2
               else refund(f"RF-{prefix}{i}", f"{prefix}{i}", amount=700) for i in range(n)]
    return orders, refunds


def _run(store, events) -> tuple[int, float, list[dict]]:
    with sql_log() as statements:
        started = time.perf_counter()
        results = ingest(store, events)
        took = time.perf_counter() - started
    db.session.commit()
    return len(statements), took, results


def test_statements_of_a_500_order_batch_are_bounded(org):
    store = org.stores["sh1"]
    make_guide(store, "G1")
    make_product(org.nodes["hq"], "P-BATCH", skus=2)
    db.session.commit()

    few_orders, few_refunds = _batch(store, 5, "S")
    small = _run(store, few_orders)
    many_orders, many_refunds = _batch(store, 500, "B")
    big = _run(store, many_orders)
    assert {r["status"] for r in big[2]} == {"applied"}
    assert db.session.scalar(select(func.count()).select_from(Order)) == 505
    assert db.session.scalar(select(func.count()).select_from(OrderLine)) == 3 * 505
    # A few statements per phase, not per order (bulk statements may be sent in a few pages).
    assert big[0] <= small[0] + 6, (small[0], big[0])
    assert big[0] <= 30

    small_refunds = _run(store, few_refunds)
    big_refunds = _run(store, many_refunds)
    assert {r["status"] for r in big_refunds[2]} == {"applied"}
    assert db.session.scalar(select(func.count()).select_from(Refund)) == 505
    assert big_refunds[0] <= small_refunds[0] + 6, (small_refunds[0], big_refunds[0])
    floor = _bare_insert(store)
    print(f"\n500 orders: {big[0]} statements, {big[1] * 1000:.0f} ms; "
          f"500 refunds: {big_refunds[0]} statements, {big_refunds[1] * 1000:.0f} ms; "
          f"floor (a bare insert of 500 orders and 1,500 lines): {floor * 1000:.0f} ms")


def _bare_insert(store) -> float:
    """The floor, in the same run: the same rows inserted with no validation, lookup or member."""
    from portal.kernel.time import utcnow

    member_id = db.session.scalar(select(Order.member_id).limit(1))
    now = utcnow()
    started = time.perf_counter()
    ids = db.session.scalars(insert(Order.__table__).returning(Order.id), [
        {"store_id": store.id, "path": store.path, "number": f"FLOOR{i}", "member_id": member_id, "status": "paid",
         "goods_fen": 2850, "discount_fen": 100, "coupon_fen": 50, "freight_fen": 600, "paid_fen": 3300,
         "refunded_fen": 0, "paid_at": now, "created_at": now} for i in range(500)]).all()
    db.session.execute(insert(OrderLine.__table__), [
        {"order_id": oid, "line_no": n, "sku_code": "X", "name": "", "quantity": 1, "unit_fen": 100, "paid_fen": 100,
         "refunded_quantity": 0, "refunded_fen": 0, "fulfilled_by": "store"} for oid in ids for n in (1, 2, 3)])
    took = time.perf_counter() - started
    db.session.rollback()
    return took
