"""Screenshots of issue 10's orders part (tests/browser/screenshots.py runs them).

Orders of the demo owner's store are staged through the ingestion service (as the store's
mini-program reports them): a guide, buyers, a sharer, a direct-sale croissant HQ ships, a
partial refund.
desktop (hq, 1366×768): the order list, and one order's page.
phone (the owner, 390×844): the store's orders, and the refunded order's page.
"""
from __future__ import annotations

from datetime import timedelta

_NUMBER = "WX20260302001"


def _line(sku: str, quantity: int, unit: int, name: str) -> dict:
    return {"sku": sku, "quantity": quantity, "unit_fen": unit, "name": name}


def _stage_orders() -> None:
    from sqlalchemy import select

    from portal.extensions import db
    from portal.ingest.services import ingest
    from portal.kernel.time import utcnow
    from portal.members.models import Guide
    from portal.org.models import Store, User
    from tests.browser import screenshots

    with screenshots.APP.test_request_context():
        owner = db.session.scalar(select(User).where(User.username == "owner"))
        store = db.session.get(Store, owner.store_id)
        if db.session.scalar(select(Guide.id).where(Guide.store_id == store.id, Guide.code == "G01")) is None:
            db.session.add(Guide(store_id=store.id, code="G01", name="王芳"))
            db.session.flush()
        now = utcnow()
        people = [("o-li", "李晓雯"), ("o-zhou", "周杰"), ("o-chen", "陈静"), ("o-wu", "吴昊"), ("o-zhao", "赵敏")]
        events = []
        for i in range(12):
            openid, nickname = people[i % len(people)]
            if i == 0:         # a drink the store makes, and a croissant HQ ships (direct-sale 轻食)
                lines = [_line("G001-M", 2, 1500, "杨枝甘露 中杯"), _line("G011-M", 1, 2500, "牛角可颂 中杯")]
            else:
                lines = [_line(f"G00{1 + i % 5}-L", 1 + i % 3, 1800, "招牌饮品 大杯")]
            goods = sum(x["quantity"] * x["unit_fen"] for x in lines)
            discount, coupon, freight = (300, 500, 600) if i == 0 else (0, 0, 0)
            events.append({"id": f"shot-{i}", "type": "order.paid",
                           "occurred_at": (now - timedelta(hours=3 * i)).isoformat(),
                           "data": {"number": _NUMBER if i == 0 else f"WX2026030200{i + 1:02d}", "openid": openid,
                                    "nickname": nickname, "lines": lines, "goods_fen": goods,
                                    "discount_fen": discount, "coupon_fen": coupon, "freight_fen": freight,
                                    "paid_fen": goods - discount - coupon + freight, "guide_code": "G01",
                                    "coupon_code": "CP8F3A21" if i == 0 else None,
                                    "sharer_openid": "o-sharer" if i in (0, 3) else None}})
        events.append({"id": "shot-refund", "type": "order.refunded", "occurred_at": now.isoformat(),
                       "data": {"number": "RF20260302001", "order_number": _NUMBER,
                                "lines": [{"sku": "G001-M", "quantity": 1}]}})
        ingest(store, events)
        db.session.commit()
        db.session.remove()


def desktop(page, shot) -> None:
    _stage_orders()
    page.goto("/orders")
    page.wait_for_selector(".order-table")
    shot(page, "orders-list")
    page.click(f"a:text-is('{_NUMBER}')")
    page.wait_for_selector(".order-page")
    shot(page, "orders-view", full_page=True)


def phone(page, shot) -> None:
    page.goto("/orders")
    page.wait_for_selector(".order-table")
    shot(page, "orders-phone-list", full_page=True)
    page.click(f"a:text-is('{_NUMBER}')")
    page.wait_for_selector(".order-page")
    shot(page, "orders-phone-view", full_page=True)
