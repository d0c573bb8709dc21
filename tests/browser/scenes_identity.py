"""Screenshots of issue 10's identity part (tests/browser/screenshots.py runs them).

Staged through the services (the demo has no members yet): the owner's store gets two guides and
members; one person known by the store's mini-program and by another store's (same UnionID) is
one member after a recorded merge; one member was rebound by hand.

desktop (hq, 1366×768): the member's identity page as HQ reads it (phone in full, export and
erase), the same page as the distributor reads it (phone masked), the merge picker.
phone (the owner, 390×844): the guides page (counts, add, deactivate), the member's page.
"""
from __future__ import annotations

from datetime import timedelta

STAGED: dict[str, int] = {}


def _stage() -> None:
    if STAGED:
        return
    from sqlalchemy import select

    from portal.extensions import db
    from portal.kernel.time import utcnow
    from portal.members import services
    from portal.members.services import Person
    from portal.org.models import Store, User
    from portal.org.scope import scope_for
    from tests.browser import screenshots

    with screenshots.APP.test_request_context():
        owner = db.session.scalar(select(User).where(User.username == "owner"))
        hq = db.session.scalar(select(User).where(User.username == "hq"))
        store = db.session.get(Store, owner.store_id)
        other = db.session.scalar(select(Store).where(Store.id != store.id, Store.path == store.path,
                                                      Store.status == "active").limit(1))
        if not store.appid:
            store.appid = "wx5f3a9c1d2e7b8a01"
        if other is not None and not other.appid:
            other.appid = "wx8c2d4e6f1a3b5c07"
        s_owner = scope_for(owner)
        chen = services.add_guide(s_owner, store, code="G01", name="陈晓静", phone="13917203344", actor=owner)
        li = services.add_guide(s_owner, store, code="G02", name="李文博", phone="", actor=owner)
        services.add_guide(s_owner, store, code="G03", name="王佳怡", phone="13600125678", actor=owner)
        now = utcnow()
        names = ["林小雨", "周子航", "吴佳琪", "郑浩然", "孙梦瑶", "赵一鸣", "钱晓彤", "冯思远"]
        people = [Person(f"oDemo{i:03d}", nickname=n, phone=f"1381234{i:04d}") for i, n in enumerate(names)]
        guides = {p.openid: (chen.id if i % 2 == 0 else li.id) for i, p in enumerate(people[:6])}
        ids = services.resolve(store, people, cause="signup", at=now - timedelta(days=40), guides=guides)
        main = ids["oDemo000"]
        # The store's mini-program learns her UnionID; another store's knows her as a new member
        # until its mini-program reports the same UnionID: One ID merges the two by rule.
        services.resolve(store, [Person("oDemo000", unionid="oU_brand_77a1")], cause="order",
                         at=now - timedelta(days=30))
        if other is not None:
            services.resolve(other, [Person("oOther777", nickname="小雨")], cause="signup", at=now - timedelta(days=20))
            services.resolve(other, [Person("oOther777", unionid="oU_brand_77a1")], cause="order",
                             at=now - timedelta(days=19))
        services.set_referrers([(ids["oDemo001"], main)])
        m = services.get_member_or_404(scope_for(hq), ids["oDemo003"])
        services.rebind(scope_for(hq), m, store, chen, actor=hq, note="顾客要求换导购")
        db.session.commit()
        STAGED["member"] = main
        STAGED["store"] = store.id
        db.session.remove()


def desktop(page, shot) -> None:
    from tests.browser.screenshots import log_in

    _stage()
    page.goto(f"/members/{STAGED['member']}/identity")
    page.wait_for_selector("#member-identities")
    shot(page, "identity-member-hq", full_page=True)
    page.fill("#merge-q", "周")
    page.wait_for_selector("[data-merge-candidates]")
    page.wait_for_timeout(300)
    shot(page, "identity-merge-picker", full_page=True)
    # The rebind form's store picker: a search, then a store chosen with its guides.
    page.goto(f"/members/{STAGED['member']}/identity")
    page.fill("#rebind-store-q", "上海")
    page.wait_for_function("() => { const c = [...document.querySelectorAll('[data-store-choice]')];"
                           " return c.length && c.every(b => b.textContent.includes('上海')); }")
    shot(page, "identity-rebind-store-picker", full_page=True)
    page.locator("[data-store-choice]").last.click()
    page.wait_for_selector("[data-chosen-store]")
    page.wait_for_timeout(300)
    shot(page, "identity-rebind-store-chosen", full_page=True)

    page.context.clear_cookies()
    log_in(page, "east")
    page.goto(f"/members/{STAGED['member']}/identity")
    shot(page, "identity-member-distributor", full_page=True)
    page.goto(f"/stores/{STAGED['store']}/guides")
    shot(page, "identity-store-guides")
    page.context.clear_cookies()
    log_in(page, "hq")


def phone(page, shot) -> None:
    _stage()
    page.goto("/my/guides")
    page.wait_for_selector("#guides")
    shot(page, "identity-phone-guides", full_page=True)
    page.fill("input[name=name]", "张敏")
    page.fill("input[name=code]", "G01")
    page.click("[data-guide-form] button[type=submit]")
    page.wait_for_selector("[data-guide-form] .invalid-feedback")
    shot(page, "identity-phone-guide-error", full_page=True)
    page.goto(f"/members/{STAGED['member']}/identity")
    shot(page, "identity-phone-member", full_page=True)
