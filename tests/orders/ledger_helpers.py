"""Distribution plans made through the campaign services, and paid and refunded orders as rows,
with the ledger written by the commission engine as the orders services would call it."""
from __future__ import annotations

import itertools
from datetime import timedelta

from sqlalchemy import select

from portal.extensions import db
from portal.kernel.time import utcnow
from portal.orders import commission
from portal.orders.models import OrderLine, Refund, RefundLine
from portal.targets.services import TargetSpec
from tests.campaigns.helpers import make_campaign, push
from tests.factories import make_order

_numbers = itertools.count(1)
PLAN = {"levels": 1, "store_rate": "10.00", "guide_rate": "5.00", "sharer_rate": "3.33", "second_rate": None,
        "freeze_days": 7}


def make_plan(org, *, name="春季分销", start=-10, end=20, stores=("SH001",), **rules):
    """A published distribution plan pushed (mandatory: joined) to ``stores``."""
    plan = make_campaign(org.users["hq"], kind="distribution", name=name, rules={**PLAN, **rules},
                         start=start, end=end)
    push(org.users["hq"], plan, TargetSpec(store_codes=list(stores)))
    return plan


def paid_order(store, member, lines, *, hq_lines=(), paid_at=None, **kw):
    """A paid order (lines as (sku, quantity, unit fen); ``hq_lines``: the line numbers HQ ships),
    accrued by the engine."""
    order = make_order(store, member, lines, paid_at=paid_at or utcnow(), **kw)
    for line in db.session.scalars(select(OrderLine).where(OrderLine.order_id == order.id)):
        if line.line_no in hq_lines:
            line.fulfilled_by = "hq"
    db.session.flush()
    commission.accrue(store, [order])
    db.session.commit()
    return order


def refund(store, order, amounts: dict[int, int], *, number=None, at=None):
    """A refund of ``amounts`` (line number → fen) of ``order``, reversed by the engine."""
    at = at or utcnow()
    lines = {line.line_no: line for line in db.session.scalars(select(OrderLine).where(OrderLine.order_id == order.id))}
    total = sum(amounts.values())
    r = Refund(store_id=store.id, order_id=order.id, number=number or f"RF{next(_numbers):06d}",
               amount_fen=total, refunded_at=at)
    db.session.add(r)
    db.session.flush()
    for no, fen in amounts.items():
        db.session.add(RefundLine(refund_id=r.id, line_id=lines[no].id, amount_fen=fen))
        lines[no].refunded_fen += fen
    order.refunded_fen += total
    order.status = "refunded" if order.refunded_fen == order.paid_fen else "partly_refunded"
    db.session.flush()
    commission.reverse(store, [r])
    db.session.commit()
    return r


def days(n: float):
    return utcnow() + timedelta(days=n)


def last_month() -> str:
    from portal.orders.statements import month_of, previous_month

    return previous_month(month_of(utcnow()))


def closed_statements(org, stores=("sh1", "gd1")) -> list:
    """Last month closed with one guide's statement per store (a 100.00 order at 10 %), in the
    order of ``stores``: the statements, committed."""
    from portal.orders import statements
    from portal.orders.models import CommissionStatement
    from portal.org.scope import scope_for
    from tests.factories import make_guide, make_member

    month = last_month()
    paid_at = statements.month_bounds(month)[0] + timedelta(days=1)
    make_plan(org, start=-70, end=30, stores=[org.stores[s].code for s in stores], store_rate="0",
              guide_rate="10.00", sharer_rate="0", freeze_days=0)
    guides = []
    for key in stores:
        store = org.stores[key]
        guide = make_guide(store, name=f"导购{store.code}")
        buyer = make_member(store, guide=guide)
        db.session.commit()
        paid_order(store, buyer, [("A", 1, 10000)], guide_id=guide.id, paid_at=paid_at)
        guides.append(guide)
    hq = org.users["hq"]
    closed = statements.last_closed()
    if closed is None or closed.month < month:        # asked twice in one test: the month stays closed
        statements.close_month(scope_for(hq), month, actor=hq)
    db.session.commit()
    return [db.session.scalar(select(CommissionStatement).where(CommissionStatement.holder_id == g.id,
                                                                CommissionStatement.beneficiary == "guide"))
            for g in guides]
