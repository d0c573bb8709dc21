"""Events as a store's mini-program sends them, applied through the real ingestion service."""
from __future__ import annotations

import itertools

from portal.extensions import db
from portal.ingest.services import ingest

_ids = itertools.count(1)
AT = "2026-03-02T10:15:00+08:00"


def event(type_: str, data: dict, *, id: str | None = None, at: str = AT) -> dict:
    return {"id": id or f"ev{next(_ids)}", "type": type_, "occurred_at": at, "data": data}


def paid(number: str, lines=(("SKU-A", 1, 9900),), *, openid: str = "o-buyer", discount: int = 0, coupon: int = 0,
         freight: int = 0, **extra) -> dict:
    rows = [{"sku": sku, "quantity": q, "unit_fen": u} for sku, q, u in lines]
    goods = sum(q * u for _s, q, u in lines)
    data = {"number": number, "openid": openid, "lines": rows, "goods_fen": goods, "discount_fen": discount,
            "coupon_fen": coupon, "freight_fen": freight, "paid_fen": goods - discount - coupon + freight}
    data.update(extra)
    return event("order.paid", data)


def refund(number: str, order_number: str, *, lines=None, amount: int | None = None) -> dict:
    data = {"number": number, "order_number": order_number}
    if lines is not None:
        data["lines"] = [{"sku": x[0], "quantity": x[1]} if isinstance(x[0], str) else
                         {"line_no": x[0], "quantity": x[1]} for x in lines]
    if amount is not None:
        data["amount_fen"] = amount
    return event("order.refunded", data)


def send(store, *events) -> list[dict]:
    """Apply ``events`` and commit, as the API view does; the results, one per event."""
    results = ingest(store, list(events))
    db.session.commit()
    return results
