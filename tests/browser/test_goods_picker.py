"""HQ creates each kind of campaign from its form, choosing the goods with the goods picker where
the kind has goods (a flash sale's SKUs with a price and a quantity each, a bargain's and a group
buy's one SKU), and sees each saved; the picker also fills an assortment. The 营销中心 links to
these forms (/campaigns/new/<kind>)."""
from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from playwright.sync_api import expect

from portal.assortments.models import Assortment, AssortmentItem
from portal.campaigns.models import Campaign
from portal.extensions import db
from portal.kernel.time import local_tz
from tests import factories
from tests.browser.test_flows import log_in

pytestmark = pytest.mark.browser


def _local(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M")


@pytest.fixture
def goods(world):
    """HQ's 乌龙茶 (TEA-1 大杯 ¥18, TEA-2 ¥18) and 拿铁 (LATTE-1 ¥10) among 30 goods, so the
    picker pages; and 华南's SOUTH, which HQ may use too."""
    factories.make_product(world.nodes["hq"], "TEA", name="乌龙茶", category="茶饮", list_price=1800, floor=1000,
                           ceiling=3000)
    factories.make_product(world.nodes["hq"], "LATTE", name="拿铁", category="咖啡", skus=1)
    for i in range(30):
        factories.make_product(world.nodes["hq"], f"G{i:03d}", name=f"面包{i}", category="烘焙", skus=1)
    db.session.commit()


def _open_picker(page, opener: str):
    # After a full page load (a refused save), the opener only works once the deferred scripts
    # (Bootstrap's modal) have run: a click while the page still parses opens nothing.
    page.wait_for_load_state("load")
    page.click(opener)
    modal = page.locator("#goods-picker")
    expect(modal).to_be_visible()
    expect(modal.locator("#goods-picker-rows")).to_be_visible()
    return modal


def _search(modal, text: str, first_code: str):
    modal.locator("#picker-q").fill(text)
    expect(modal.locator("[data-picker-choice]").first).to_have_attribute("data-code", first_code)


def _campaign_fields(page, name: str, now: datetime):
    page.fill("input[name=name]", name)
    page.fill("input[name=starts_at]", _local(now - timedelta(hours=1)))
    page.fill("input[name=ends_at]", _local(now + timedelta(days=3)))


def _save(page) -> Campaign:
    page.click("form.campaign-form button[type=submit]")
    page.wait_for_url(re.compile(r"/campaigns/\d+$"))
    expect(page.locator(".campaign-state")).to_have_attribute("data-state", "draft")
    db.session.rollback()
    return db.session.get(Campaign, int(page.url.rsplit("/", 1)[1]))


def test_hq_creates_every_kind_of_campaign_choosing_goods_with_the_picker(page, live_server, goods):
    now = datetime.now(local_tz()).replace(tzinfo=None, second=0, microsecond=0)
    log_in(page, "hq")

    # --- a flash sale: two SKUs of 乌龙茶 and the 拿铁, kept across a search ---------------------------
    page.goto("/campaigns/new/flash_sale")
    _campaign_fields(page, "周末秒杀", now)
    modal = _open_picker(page, "[data-picker-into='#sale-goods']")
    expect(modal.locator("[data-picker-done]")).to_be_disabled()
    _search(modal, "乌龙", "TEA-1")
    modal.locator("[data-picker-choice][value='TEA-1']").check()
    modal.locator("[data-picker-choice][value='TEA-2']").check()
    _search(modal, "拿铁", "LATTE-1")
    modal.locator("[data-picker-choice][value='LATTE-1']").check()
    expect(modal.locator("[data-picker-count]")).to_contain_text("3")
    _search(modal, "乌龙", "TEA-1")
    expect(modal.locator("[data-picker-choice][value='TEA-2']")).to_be_checked()      # still chosen
    modal.locator("[data-picker-choice][value='TEA-2']").uncheck()
    modal.locator("[data-picker-done]").click()
    expect(modal).to_be_hidden()
    rows = page.locator("#sale-goods tr[data-key]")
    expect(rows).to_have_count(2)
    tea = page.locator("#sale-goods tr[data-key='TEA-1']")
    expect(tea).to_contain_text("乌龙茶")
    expect(tea.locator(".list-price")).to_have_text("¥18.00")
    tea.locator("input[name$='-price']").fill("20")                      # above the list price
    tea.locator("input[name$='-quantity']").fill("100")
    latte = page.locator("#sale-goods tr[data-key='LATTE-1']")
    latte.locator("input[name$='-price']").fill("5")
    latte.locator("input[name$='-quantity']").fill("30")
    page.fill("input[name=rules-sale_starts]", _local(now))
    page.fill("input[name=rules-sale_ends]", _local(now + timedelta(days=2)))
    page.click("form.campaign-form button[type=submit]")
    error = page.locator("#sale-goods tr[data-key='TEA-1'] .invalid-feedback")
    expect(error).to_be_visible()
    expect(error).to_contain_text("¥18.00")
    # The picker marks what the sale already holds; a row can be removed.
    modal = _open_picker(page, "[data-picker-into='#sale-goods']")
    _search(modal, "乌龙", "TEA-1")
    expect(modal.locator("[data-picker-choice][value='TEA-1']")).to_be_disabled()
    modal.locator("[data-picker-choice][value='TEA-2']").check()
    modal.locator("[data-picker-done]").click()
    page.locator("#sale-goods tr[data-key='TEA-2'] [data-picker-remove]").click()
    expect(page.locator("#sale-goods tr[data-key]")).to_have_count(2)
    page.locator("#sale-goods tr[data-key='TEA-1'] input[name$='-price']").fill("12.5")
    sale = _save(page)
    assert sale.kind == "flash_sale" and sale.rules["items"] == [
        {"sku": "TEA-1", "price_fen": 1250, "quantity": 100}, {"sku": "LATTE-1", "price_fen": 500, "quantity": 30}]
    expect(page.locator("tr[data-goods='TEA-1']")).to_contain_text("¥12.50")

    # --- a bargain and a group buy: one SKU each, picked from page 2 of the picker --------------------
    for kind, price_field, price in (("bargain", "floor_price", "1"), ("group_buy", "price", "8")):
        page.goto(f"/campaigns/new/{kind}")
        _campaign_fields(page, f"{kind}活动", now)
        modal = _open_picker(page, "[data-picker-into='#one-goods']")
        expect(modal.locator("input[type=radio][data-picker-choice]").first).to_be_visible()
        modal.locator("a.page-link", has_text="下一页").click()
        expect(modal.locator("[data-picker-choice]").first).not_to_have_attribute("data-code", "G000-1")
        modal.locator("#picker-category").select_option("咖啡")
        expect(modal.locator("[data-picker-choice]")).to_have_count(1)
        modal.locator("[data-picker-choice][value='LATTE-1']").check()
        modal.locator("[data-picker-done]").click()
        expect(page.locator("#one-goods [data-fill=name]")).to_have_text("拿铁")
        expect(page.locator("#one-goods .list-price")).to_have_text("¥10.00")
        page.fill(f"input[name=rules-{price_field}]", price)
        if kind == "bargain":
            page.fill("input[name=rules-helpers]", "5")
        else:
            page.fill("input[name=rules-group_size]", "3")
        page.fill("input[name=rules-hours]", "24")
        c = _save(page)
        assert (c.kind, c.rules["sku"], c.rules[f"{price_field}_fen"]) == (kind, "LATTE-1", int(float(price) * 100))

    # --- a coupon and a distribution plan have no goods to pick ----------------------------------------
    page.goto("/campaigns/new/coupon")
    assert page.locator("[data-bs-target='#goods-picker']").count() == 0
    _campaign_fields(page, "满100减10", now)
    page.fill("input[name=rules-amount]", "10")
    page.fill("input[name=rules-threshold]", "100")
    page.fill("input[name=rules-budget]", "500")
    coupon = _save(page)
    assert (coupon.kind, coupon.rules["amount_fen"], coupon.budget) == ("coupon", 1000, 500)

    page.goto("/campaigns/new/distribution")
    _campaign_fields(page, "分销计划", now)
    page.select_option("select[name=rules-levels]", "1")
    page.fill("input[name=rules-store_rate]", "10")
    plan = _save(page)
    assert plan.kind == "distribution" and plan.rules["store_rate"] == "10.00"
    assert db.session.query(Campaign).count() == 5


def test_the_picker_adds_goods_to_an_assortment(page, live_server, goods, world):
    log_in(page, "hq")
    page.goto("/assortments/new")
    page.fill("input[name=name]", "夏季新品")
    page.press("input[name=name]", "Enter")
    page.wait_for_url(re.compile(r"/assortments/\d+$"))
    modal = _open_picker(page, "[data-picker-into='#assortment-add']")
    _search(modal, "乌龙", "TEA")
    modal.locator("[data-picker-choice][value='TEA']").check()
    _search(modal, "拿铁", "LATTE")
    modal.locator("[data-picker-choice][value='LATTE']").check()
    modal.locator("[data-picker-done]").click()
    expect(page.locator("#assortment-items tr[data-key]")).to_have_count(2)
    db.session.rollback()
    assortment = db.session.query(Assortment).one()
    assert db.session.query(AssortmentItem).filter_by(assortment_id=assortment.id).count() == 2
    modal = _open_picker(page, "[data-picker-into='#assortment-add']")
    _search(modal, "乌龙", "TEA")
    expect(modal.locator("[data-picker-choice][value='TEA']")).to_be_disabled()       # already in it
