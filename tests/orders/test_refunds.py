"""order.refunded: by lines, by amount, never more than is left, held until the order arrives."""
from __future__ import annotations

from sqlalchemy import func, select

from portal.extensions import db
from portal.ingest.models import InboxEvent
from portal.orders.models import Order, OrderLine, Refund, RefundLine
from tests.orders.helpers import paid, refund, send


def _order(number: str, store=None) -> Order:
    db.session.expire_all()
    return db.session.scalar(select(Order).where(Order.number == number,
                                                 *([Order.store_id == store.id] if store else [])))


def _lines(number: str) -> list[OrderLine]:
    return list(db.session.scalars(select(OrderLine).join(Order, Order.id == OrderLine.order_id)
                                   .where(Order.number == number).order_by(OrderLine.line_no)))


def test_partial_refund_of_one_line(org):
    store = org.stores["sh1"]
    send(store, paid("R1", [("SKU-A", 3, 1000), ("SKU-B", 1, 500)]))
    results = send(store, refund("RF1", "R1", lines=[("SKU-A", 1)]))
    assert results[0]["status"] == "applied", results
    order = _order("R1")
    a, b = _lines("R1")
    assert (a.refunded_quantity, a.refunded_fen) == (1, 1000)
    assert (b.refunded_quantity, b.refunded_fen) == (0, 0)
    assert (order.refunded_fen, order.status) == (1000, "partly_refunded")
    rf = db.session.scalar(select(Refund).where(Refund.number == "RF1"))
    assert rf.amount_fen == 1000
    assert [(rl.line_id, rl.quantity, rl.amount_fen) for rl in
            db.session.scalars(select(RefundLine).where(RefundLine.refund_id == rf.id))] == [(a.id, 1, 1000)]
    # The rest of the order, by line number: refunded in full.
    send(store, refund("RF2", "R1", lines=[(1, 2), (2, 1)]))
    order = _order("R1")
    assert (order.refunded_fen, order.status) == (3500, "refunded")


def test_last_units_take_what_is_left_of_the_line(org):
    store = org.stores["sh1"]
    # 3 × 1.00 with 0.01 off: the line's base is 2.99
    send(store, paid("R2", [("SKU-A", 3, 100)], discount=1))
    send(store, refund("RF3", "R2", lines=[("SKU-A", 1)]), refund("RF4", "R2", lines=[("SKU-A", 2)]))
    (line,) = _lines("R2")
    assert (line.paid_fen, line.refunded_fen, line.refunded_quantity) == (299, 299, 3)
    assert [r.amount_fen for r in db.session.scalars(select(Refund).order_by(Refund.id))] == [99, 200]
    assert _order("R2").status == "refunded"


def test_over_refund_is_refused_naming_the_field(org):
    store = org.stores["sh1"]
    send(store, paid("R3", [("SKU-A", 2, 1000)], freight=500))
    results = send(store, refund("RF5", "R3", lines=[("SKU-A", 1), ("SKU-A", 2)]),
                   refund("RF6", "R3", amount=2501),
                   refund("RF7", "R3", lines=[("SKU-X", 1)]),
                   refund("RF8", "R3", lines=[(3, 1)]),
                   refund("RF9", "R3", lines=[("SKU-A", 2)]),
                   refund("RF10", "R3", lines=[("SKU-A", 1)]))
    assert [r["status"] for r in results] == ["rejected"] * 4 + ["applied", "rejected"]
    assert [(r["error"]["code"], r["error"]["field"]) for r in results if r["status"] == "rejected"] == [
        ("over_refund", "data.lines.1.quantity"), ("over_refund", "data.amount_fen"),
        ("unknown_line", "data.lines.0.sku"), ("unknown_line", "data.lines.0.line_no"),
        ("over_refund", "data.lines.0.quantity")]
    assert "0" in results[5]["error"]["message"]
    # Nothing of the refused refunds was written.
    assert db.session.scalar(select(func.count()).select_from(Refund)) == 1
    assert _order("R3").refunded_fen == 2000
    # The freight is still refundable by amount.
    assert send(store, refund("RF11", "R3", amount=500))[0]["status"] == "applied"
    assert (_order("R3").refunded_fen, _order("R3").status) == (2500, "refunded")


def test_refund_by_amount_is_allocated_pro_rata(org):
    store = org.stores["sh1"]
    send(store, paid("R4", [("SKU-A", 1, 3000), ("SKU-B", 1, 1000)], freight=1000))
    send(store, refund("RF12", "R4", amount=1001))
    a, b = _lines("R4")
    assert (a.refunded_fen, b.refunded_fen) == (751, 250)      # 3 : 1, the odd fen on the first line
    assert (a.refunded_quantity, b.refunded_quantity) == (0, 0)
    order = _order("R4")
    assert (order.refunded_fen, order.status) == (1001, "partly_refunded")
    # More than the lines have left: the rest is freight.
    send(store, refund("RF13", "R4", amount=3999))
    a, b = _lines("R4")
    assert (a.refunded_fen, b.refunded_fen) == (3000, 1000)
    assert (_order("R4").refunded_fen, _order("R4").status) == (5000, "refunded")


def test_duplicate_refund_number_is_refused(org):
    store = org.stores["sh1"]
    send(store, paid("R5", [("SKU-A", 5, 100)]))
    results = send(store, refund("RF14", "R5", amount=100), refund("RF14", "R5", amount=100))
    later = send(store, refund("RF14", "R5", amount=100))
    assert [r["status"] for r in results] == ["applied", "rejected"]
    assert later[0]["error"]["code"] == "duplicate_refund" and later[0]["error"]["field"] == "data.number"
    assert _order("R5").refunded_fen == 100


def test_refund_needs_lines_or_an_amount(org):
    results = send(org.stores["sh1"], refund("RF15", "R6"), refund("RF16", "R6", lines=[("SKU-A", 1)], amount=5))
    assert [(r["status"], r["error"]["field"]) for r in results] == [("rejected", "data.lines")] * 2


def test_refund_before_its_order_is_held_then_applied(org):
    store = org.stores["sh1"]
    first = send(store, refund("RF17", "R7", lines=[("SKU-A", 1)]), refund("RF18", "R7", amount=50))
    assert [r["status"] for r in first] == ["held", "held"]
    held = db.session.scalars(select(InboxEvent).where(InboxEvent.status == "held")).all()
    assert {h.waiting_for for h in held} == {"order:R7"}
    # Another store's order of the same number releases nothing here.
    send(org.stores["sh2"], paid("R7"))
    assert db.session.scalar(select(func.count()).select_from(Refund)) == 0
    results = send(store, paid("R7", [("SKU-A", 2, 1000)]))
    assert results[0]["status"] == "applied"
    order = _order("R7", store)
    assert (order.refunded_fen, order.status) == (1050, "partly_refunded")
    assert db.session.scalar(select(func.count()).select_from(InboxEvent).where(InboxEvent.status == "held")) == 0
    # A held refund that turns out too big is recorded as refused, not held for ever.
    too_big = refund("RF19", "R8", amount=99_999)
    send(store, too_big)
    send(store, paid("R8"))
    row = db.session.scalar(select(InboxEvent).where(InboxEvent.event_id == too_big["id"]))
    assert row.data["rejected_after_hold"]["code"] == "over_refund"
    assert _order("R8").refunded_fen == 0


def test_refunds_refused_after_waiting_are_listed_on_the_store_page_for_admins(org, login_as):
    from portal.ingest.services import failed_after_hold, failed_after_hold_count

    store = org.stores["sh1"]
    assert "failed-events" not in login_as("hq").get(f"/stores/{store.id}").get_data(as_text=True)
    first, second = refund("RF31", "R31", amount=99_999), refund("RF32", "R32", amount=88_888)
    assert [r["status"] for r in send(store, first, second)] == ["held", "held"]
    send(store, paid("R31"))
    send(store, paid("R32"))
    assert failed_after_hold_count(store) == 2 and failed_after_hold_count(org.stores["sh2"]) == 0
    assert [f["id"] for f in failed_after_hold(store, limit=1)] == [second["id"]]      # the newest first

    page = login_as("hq").get(f"/stores/{store.id}").get_data(as_text=True)
    assert 'data-failed-events="2"' in page
    assert f'data-failed-event="{first["id"]}"' in page and f'data-failed-event="{second["id"]}"' in page
    assert "over_refund" in page and "data.amount_fen" in page
    assert "failed-events" not in login_as("hq").get(f"/stores/{org.stores['sh2'].id}").get_data(as_text=True)
    # Not an admin's page: the regional manager sees the store, not the mini-program's plumbing.
    regional = login_as("sh_manager").get(f"/stores/{store.id}")
    assert regional.status_code == 200 and "failed-events" not in regional.get_data(as_text=True)


def test_refund_in_the_same_batch_as_its_order(org):
    store = org.stores["sh1"]
    results = send(store, refund("RF20", "R9", lines=[("SKU-A", 1)]), paid("R9"))
    assert [r["status"] for r in results] == ["applied", "applied"]
    assert _order("R9").status == "refunded"


def test_an_order_paid_in_the_batch_reads_its_refund(org):
    """The order object the paid handler left in the session shows the refund applied after it."""
    store = org.stores["sh1"]
    from portal.ingest.services import ingest

    ingest(store, [paid("R10", [("SKU-A", 2, 1000)]), refund("RF21", "R10", lines=[("SKU-A", 1)])])
    order = db.session.scalar(select(Order).where(Order.number == "R10"))
    assert (order.refunded_fen, order.status) == (1000, "partly_refunded")
    db.session.rollback()
