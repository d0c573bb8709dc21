"""Screenshots of issue 10's commission part (tests/browser/screenshots.py runs them).

Staged through the services: a two-level distribution plan pushed to 上海区, guides and members of
the owner's store and of its neighbour, orders paid two months ago and last month (HQ-shipped
and store-fulfilled lines), a payout, then a refund after the payout that leaves a guide with a
negative balance carried into last month's statement.
desktop (hq): the month's statements with totals, the statement with the negative balance, the
ledger filtered to guides. phone (the owner, 390 px): the store's statements, a statement, and
the order page's "why this commission" card.
"""
from __future__ import annotations

from datetime import timedelta


def _stage() -> None:
    from sqlalchemy import select

    from portal.extensions import db
    from portal.kernel.time import utcnow
    from portal.members.models import Member
    from portal.orders import statements
    from portal.orders.models import CommissionStatement
    from portal.org.models import OrgNode, Store, User
    from portal.org.scope import scope_for
    from portal.targets.services import TargetSpec
    from tests.browser import screenshots
    from tests.campaigns.helpers import make_campaign, push
    from tests.factories import make_guide, make_member
    from tests.orders.ledger_helpers import paid_order, refund

    with screenshots.APP.test_request_context():
        hq = db.session.scalar(select(User).where(User.username == "hq"))
        owner = db.session.scalar(select(User).where(User.username == "owner"))
        r_sh = db.session.scalar(select(OrgNode).where(OrgNode.code == "R-SH"))
        store = db.session.get(Store, owner.store_id)
        other = db.session.scalar(select(Store).where(Store.node_id == r_sh.id, Store.id != store.id,
                                                      Store.status == "active").order_by(Store.code))
        plan = make_campaign(hq, kind="distribution", name="春季全民分销", start=-100, end=60, rules={
            "levels": 2, "store_rate": "8.00", "guide_rate": "5.00", "sharer_rate": "3.00", "second_rate": "1.00",
            "freeze_days": 7})
        push(hq, plan, TargetSpec(node_ids=[r_sh.id]))
        this_month = statements.month_of(utcnow())
        m1 = statements.previous_month(statements.previous_month(this_month))
        m2 = statements.previous_month(this_month)
        start1, start2 = statements.month_bounds(m1)[0], statements.month_bounds(m2)[0]
        wang = make_guide(store, name="王芳")
        zhao = make_guide(store, name="赵敏")
        liu = make_guide(other, name="刘洋")
        zhang = make_member(store, "张伟")
        li = make_member(store, "李雷", referrer_id=None)
        li.referrer_id = zhang.id
        buyers = [make_member(store, "韩梅梅", guide=wang, bound_at=start1 - timedelta(days=40)),
                  make_member(store, "陈晨", guide=zhao, bound_at=start1 - timedelta(days=10)),
                  make_member(other, "周杰", guide=liu, bound_at=start1 - timedelta(days=5))]
        db.session.commit()
        big = paid_order(store, buyers[0], [("G001-M", 2, 2800), ("OWN-1", 1, 1500)], hq_lines=(1,),
                         guide_id=wang.id, sharer_id=li.id, paid_at=start1 + timedelta(days=3, hours=4),
                         number="SH20260301001")
        paid_order(store, buyers[1], [("G002-M", 3, 1900)], hq_lines=(1,), guide_id=zhao.id,
                   paid_at=start1 + timedelta(days=8))
        paid_order(other, buyers[2], [("G003-L", 2, 2200)], hq_lines=(1,), guide_id=liu.id,
                   paid_at=start1 + timedelta(days=12))
        statements.close_month(scope_for(hq), m1, actor=hq)
        db.session.commit()
        # (Statements with nothing to pay, from the demo's own orders, stay open.)
        for s in db.session.scalars(select(CommissionStatement).where(CommissionStatement.month == m1,
                                                                      CommissionStatement.closing_fen > 0)):
            statements.pay_statement(scope_for(hq), s, actor=hq)
        db.session.commit()
        # After the payout: a refund of most of the big order, and a little new business.
        refund(store, big, {1: 5600, 2: 800}, number="RF20260402001", at=start2 + timedelta(days=2))
        paid_order(store, buyers[1], [("G001-M", 1, 2800)], hq_lines=(1,), guide_id=zhao.id,
                   paid_at=start2 + timedelta(days=5))
        recent = paid_order(store, buyers[0], [("G002-M", 2, 1900), ("OWN-2", 1, 1200)], hq_lines=(1,),
                            guide_id=wang.id, sharer_id=li.id, paid_at=utcnow() - timedelta(days=2),
                            number="SH20261130001")
        refund(store, recent, {2: 600}, number="RF20261201001", at=utcnow() - timedelta(hours=5))
        statements.close_month(scope_for(hq), m2, actor=hq)
        db.session.commit()
        screenshots.APP.config["COMMISSION_SCENE"] = {"order_id": recent.id, "owner_store": store.id}
        assert db.session.scalar(select(Member).where(Member.id == li.id)).referrer_id == zhang.id
        db.session.remove()


def _statement_id(beneficiary_name: str) -> int:
    from sqlalchemy import select

    from portal.extensions import db
    from portal.members.models import Guide
    from portal.orders.models import CommissionStatement
    from tests.browser import screenshots

    with screenshots.APP.app_context():
        guide = db.session.scalar(select(Guide).where(Guide.name == beneficiary_name))
        sid = db.session.scalar(select(CommissionStatement.id).where(
            CommissionStatement.beneficiary == "guide", CommissionStatement.holder_id == guide.id)
            .order_by(CommissionStatement.month.desc()))
        db.session.remove()
        return sid


def _trace_html() -> str:
    """The order page's commission card as the orders page includes it, inside the portal's CSS."""
    from flask import render_template, url_for

    from portal.extensions import db
    from portal.orders.models import Order
    from tests.browser import screenshots

    app = screenshots.APP
    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        order = db.session.get(Order, app.config["COMMISSION_SCENE"]["order_id"])
        card = render_template("orders/_commission_trace.html", order=order)
        css = [url_for("static", filename=f) for f in ("vendor/tabler-1.6.1.min.css", "css/portal.css")]
        db.session.remove()
    links = "".join(f'<link rel="stylesheet" href="{href}">' for href in css)
    return (f'<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">{links}</head>'
            f'<body><div class="page-body"><div class="container-xl p-2">{card}</div></div></body></html>')


def desktop(page, shot) -> None:
    _stage()
    page.goto("/commissions/statements")
    shot(page, "commission-statements", full_page=True)
    page.goto(f"/commissions/statements/{_statement_id('王芳')}")
    shot(page, "commission-statement-negative", full_page=True)
    page.goto("/commissions?kind=guide")
    shot(page, "commission-ledger", full_page=True)


def phone(page, shot) -> None:
    page.goto("/commissions/statements")
    shot(page, "commission-phone-statements", full_page=True)
    page.goto(f"/commissions/statements/{_statement_id('赵敏')}")
    shot(page, "commission-phone-statement", full_page=True)
    page.goto("/commissions")
    shot(page, "commission-phone-ledger", full_page=True)
    page.set_content(_trace_html())
    page.wait_for_timeout(300)
    shot(page, "commission-phone-trace", full_page=True)
