"""Issue 10 end to end: HQ sets the binding rule and the RFM thresholds; a day of a store's
mini-program traffic arrives through the real signed API (benchmarks/traffic.py, over HTTP); the
store owner opens an order on a phone and reads why the guide earned its commission."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from portal.extensions import db
from portal.members.models import Member, MemberSettings
from portal.orders.models import CommissionEntry, Order
from tests import factories
from tests.api.signing import credential
from tests.browser.test_flows import log_in
from tests.orders.ledger_helpers import make_plan

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[2]
PHONE = {"width": 390, "height": 844}


def test_hq_sets_the_rules_a_day_of_traffic_arrives_and_the_owner_reads_why_the_guide_earned(
        live_server, browser, world, tmp_path):
    sh1 = world.stores["sh1"]
    factories.make_guide(sh1, "DG01", "王芳")
    factories.make_guide(sh1, "DG02", "李娜")
    plan = make_plan(world, name="春季分销", stores=(sh1.code,), guide_rate="5.00")
    cred = credential(sh1)
    db.session.commit()

    # HQ: the binding rule (protected for 30 days) and an RFM threshold, with the live counts.
    context = browser.new_context(base_url=live_server.url, locale="zh-CN")
    page = context.new_page()
    log_in(page, "hq")
    page.goto("/members/settings")
    page.check("input[name=binding_rule][value=protected]")
    page.fill("input[name=protect_days]", "30")
    page.fill("input[name=rfm_frequency]", "2")
    expect(page.locator("#segment-counts [data-segment=important_value]")).to_be_visible()
    page.locator("#member-settings button[type=submit]").first.click()
    page.wait_for_load_state("networkidle")
    expect(page.locator(".alert-success, .toast, [role=alert]").first).to_be_visible()
    db.session.expire_all()
    rules = db.session.get(MemberSettings, 1)
    assert (rules.binding_rule, rules.protect_days, rules.rfm_frequency) == ("protected", 30, 2)
    context.close()

    # A day of SH001's mini-program: sign-ups with their guide, orders, refunds, retried batches.
    creds = tmp_path / "key.json"
    creds.write_text(json.dumps({"store": sh1.code, "key_id": cred.key_id, "secret": cred.secret}))
    day_args = ["--plan", str(plan.id), "--signups", "8", "--orders", "20", "--refunds", "2", "--batch", "5", "--json"]
    run = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "traffic.py"), "--url", live_server.url, "--credentials",
         str(creds), *day_args], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert run.returncode == 0, run.stdout + run.stderr
    day = json.loads(run.stdout)
    assert not day["rejected"] and day["results"].get("applied", 0) > 0, day
    assert day["results"].get("duplicate", 0) > 0          # the retried batches were not applied twice
    db.session.expire_all()
    orders = db.session.scalar(select(func.count()).select_from(Order).where(Order.store_id == sh1.id))
    assert orders == 20
    assert db.session.scalar(select(func.count()).select_from(Member).where(Member.store_id == sh1.id)) >= 8
    order_id = db.session.scalar(
        select(Order.id).join(CommissionEntry, CommissionEntry.order_id == Order.id)
        .where(Order.store_id == sh1.id, CommissionEntry.beneficiary == "guide").order_by(Order.id).limit(1))
    assert order_id is not None

    # The owner, on a phone: the orders, one order, and why the guide earned its commission.
    phone = browser.new_context(base_url=live_server.url, locale="zh-CN", viewport=PHONE, is_mobile=True,
                                has_touch=True)
    page = phone.new_page()
    log_in(page, "owner1")
    page.goto("/orders")
    expect(page.locator(f"a[href='/orders/{order_id}']").first).to_be_visible()
    page.locator(f"a[href='/orders/{order_id}']").first.click()
    page.wait_for_url(f"**/orders/{order_id}")
    guide = page.locator("#commission-trace [data-beneficiary=guide]").first
    expect(guide).to_be_visible()
    text = guide.inner_text()
    assert ("王芳" in text or "李娜" in text) and "起服务该会员" in text, text
    assert "春季分销" in text and "5.00%" in text
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] + 1   # no sideways scroll
    phone.close()


def test_hq_rebinds_a_member_by_picking_the_store_from_a_search(page, world):
    sh1, sh2 = world.stores["sh1"], world.stores["sh2"]
    member = factories.make_member(sh1, "林小雨")
    factories.make_guide(sh2, "G9", "徐家汇导购")
    db.session.commit()
    log_in(page, "hq")
    page.goto(f"/members/{member.id}/identity")
    search = page.locator("#rebind-store-q")
    search.fill(sh2.name)
    expect(page.locator(f"[data-store-choice={sh2.code}]")).to_be_visible()
    expect(page.locator(f"[data-store-choice={sh1.code}]")).to_have_count(0)
    search.fill(sh1.name)                    # a second search replaces the first one's answers
    expect(page.locator(f"[data-store-choice={sh1.code}]")).to_be_visible()
    expect(page.locator(f"[data-store-choice={sh2.code}]")).to_have_count(0)
    search.fill(sh2.code)
    page.locator(f"[data-store-choice={sh2.code}]").click()
    expect(page.locator(f"[data-chosen-store={sh2.code}]")).to_be_visible()
    page.select_option("select[name=guide_id]", label="徐家汇导购 · G9")
    page.locator("[data-rebind-form] button[type=submit]").click()
    expect(page.locator("[data-binding][data-cause=manual]")).to_be_visible()
    db.session.expire_all()
    got = db.session.get(Member, member.id)
    assert got.store_id == sh2.id
