"""Screenshots of issue 10's rfm part (tests/browser/screenshots.py runs them).

The demo has no members yet, so the scene stages some: 800 members of 上海区's stores with orders
over the last 400 days (a few refunded), bulk-inserted, then segmented as of last month and again
now, so the month's moves show.

desktop (hq, 1366×768): the member settings page; M typed as ¥300, the live counts beside
today's; "recompute now" and its card; the regional manager of 上海区 reading it (no edits,
only the region's members and moves); a store's own moves.
"""
from __future__ import annotations

import random
from datetime import timedelta


def _stage_members() -> None:
    from sqlalchemy import insert, select

    from portal.extensions import db
    from portal.kernel.time import utcnow
    from portal.members import rfm
    from portal.members.models import Member
    from portal.orders.models import Order
    from portal.org.models import OrgNode, Store
    from tests.browser import screenshots

    rnd = random.Random(10)
    with screenshots.APP.test_request_context():
        r_sh = db.session.scalar(select(OrgNode).where(OrgNode.code == "R-SH"))
        stores = db.session.scalars(select(Store).where(Store.node_id == r_sh.id).order_by(Store.code).limit(12)).all()
        now = utcnow()
        members = [dict(nickname=f"会员{i:04d}", store_id=stores[i % len(stores)].id, path=stores[i % len(stores)].path,
                        status="active", created_at=now, updated_at=now) for i in range(800)]
        db.session.execute(insert(Member), members)
        ids = db.session.execute(select(Member.id, Member.store_id, Member.path)).all()
        orders, n = [], 0
        for member_id, store_id, path in ids:
            if rnd.random() < 0.12:
                continue                      # never bought
            for _ in range(rnd.choice((1, 1, 1, 2, 2, 3, 4, 6))):
                n += 1
                paid = rnd.choice((1990, 3580, 5600, 12800, 26800, 48000))
                refunded = paid if rnd.random() < 0.05 else 0
                orders.append(dict(store_id=store_id, path=path, number=f"DEMO{n:06d}", member_id=member_id,
                                   status="refunded" if refunded else "paid", goods_fen=paid, paid_fen=paid,
                                   refunded_fen=refunded, paid_at=now - timedelta(days=rnd.uniform(0, 400),
                                                                                  minutes=rnd.uniform(0, 600)),
                                   created_at=now))
        db.session.execute(insert(Order), orders)
        db.session.commit()
        rfm.recompute(now=now - timedelta(days=32))       # last month's segments
        db.session.commit()
        rfm.recompute(now=now)                             # this month's first: the snapshot, then the moves
        db.session.commit()
        db.session.remove()


def desktop(page, shot) -> None:
    from tests.browser.screenshots import log_in

    _stage_members()
    page.goto("/members/settings")
    page.wait_for_selector("#segment-counts [data-segment]")
    shot(page, "rfm-settings", full_page=True)

    money = page.locator("input[name=rfm_monetary]")
    money.fill("")
    money.press_sequentially("300", delay=40)
    page.wait_for_selector("#segment-counts [data-live]")
    shot(page, "rfm-live-counts")

    page.click("#rfm-run button[type=submit]")
    page.wait_for_selector("#rfm-run[data-state=done]")
    shot(page, "rfm-recomputed")

    page.context.clear_cookies()
    log_in(page, "shanghai")
    page.goto("/members/settings")
    page.wait_for_selector("#segment-moves")
    shot(page, "rfm-settings-manager", full_page=True)
    page.click("#segment-moves table.card-table a >> nth=0")
    page.wait_for_selector("#segment-moves .moves-matrix")
    shot(page, "rfm-store-moves", full_page=True)

    page.context.clear_cookies()
    log_in(page, "hq")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/members/settings")
    shot(page, "rfm-settings-narrow", full_page=True)
    page.set_viewport_size({"width": 1366, "height": 768})
