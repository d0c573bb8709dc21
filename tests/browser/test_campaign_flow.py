"""HQ creates an opt-in flash sale for a region in the browser and pushes it; a store owner of that
region joins with one tap on the phone, another declines; the campaign shows in the joined store's
campaigns API and not in the declining store's.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from playwright.sync_api import expect

from portal.api.services import issue_key
from portal.campaigns.models import Campaign, CampaignStore
from portal.extensions import db
from portal.kernel.time import local_tz
from portal.org import roles
from tests import factories
from tests.browser.test_flows import accept_confirm, log_in, no_horizontal_scroll

pytestmark = pytest.mark.browser


def _local(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M")


def test_hq_pushes_an_opt_in_flash_sale_and_one_store_joins(app, browser, live_server, page, phone_page, world):
    factories.make_user("owner_sh2", roles.STORE_OWNER, world.stores["sh2"])
    factories.make_product(world.nodes["hq"], "SKU", skus=2, list_price=1990, floor=1000, ceiling=3000)
    db.session.commit()
    now = datetime.now(local_tz()).replace(tzinfo=None, second=0, microsecond=0)

    # --- HQ creates the flash sale -------------------------------------------------------------
    log_in(page, "hq")
    page.click(".navbar a.nav-link[href='/campaigns']")
    page.goto("/campaigns/new/flash_sale")
    page.fill("input[name=name]", "周末秒杀")
    page.fill("input[name=starts_at]", _local(now - timedelta(hours=1)))
    page.fill("input[name=ends_at]", _local(now + timedelta(days=3)))
    page.select_option("select[name=participation]", "opt_in")
    page.fill("input[name=join_deadline]", _local(now + timedelta(days=1)))
    page.click("[data-picker-into='#sale-goods']")                       # the goods picker
    picker = page.locator("#goods-picker")
    for code in ("SKU-1", "SKU-2"):
        picker.locator(f"[data-picker-choice][value='{code}']").check()
    picker.locator("[data-picker-done]").click()
    for row in page.locator("#sale-goods tr[data-key]").all():
        row.locator("input[name$='-price']").fill("9.9")
        row.locator("input[name$='-quantity']").fill("100")
    page.fill("input[name=rules-sale_starts]", _local(now))
    page.fill("input[name=rules-sale_ends]", _local(now + timedelta(days=4)))      # outside the campaign
    page.click("form.campaign-form button[type=submit]")
    expect(page.locator(".invalid-feedback[data-field='rules-sale_ends']")).to_be_visible()
    page.fill("input[name=rules-sale_ends]", _local(now + timedelta(days=2)))
    page.click("form.campaign-form button[type=submit]")
    page.wait_for_url(re.compile(r"/campaigns/\d+$"))
    expect(page.locator(".campaign-state")).to_have_attribute("data-state", "draft")
    page.click("form[action$='/publish'] button[type=submit]")
    accept_confirm(page)
    expect(page.locator(".campaign-state")).to_have_attribute("data-state", "running")

    # --- and pushes it to 上海区 --------------------------------------------------------------
    page.click("a[href$='/push']")
    page.check(f"input[name=node_ids][value='{world.nodes['r_sh'].id}']")
    expect(page.locator("#reach [data-reach]")).to_have_attribute("data-reach", "2")
    page.click("form.push-form button[type=submit]")
    accept_confirm(page)
    page.wait_for_url(re.compile(r"/pushes/\d+$"))
    expect(page.locator("#push-progress")).to_have_attribute("data-state", "done")

    db.session.rollback()
    campaign = db.session.query(Campaign).one()

    # --- the owner of 南京路店 joins with one tap on the phone ------------------------------------
    log_in(phone_page, "owner1")
    phone_page.click("a.nav-link[href='/my/campaigns']") if phone_page.locator(
        "a.nav-link[href='/my/campaigns']").is_visible() else phone_page.goto("/my/campaigns")
    card = phone_page.locator(f".card[data-campaign='{campaign.id}']")
    expect(card).to_have_attribute("data-status", "invited")
    card.locator(f"form[action$='/{campaign.id}/join'] button").click()
    accept_confirm(phone_page)                                          # joining asks first
    expect(phone_page.locator(f".card[data-campaign='{campaign.id}']")).to_have_attribute("data-status", "joined")
    no_horizontal_scroll(phone_page)

    # --- the owner of 徐家汇店 declines --------------------------------------------------------
    context = browser.new_context(base_url=live_server.url, locale="zh-CN", viewport={"width": 390, "height": 844})
    other = context.new_page()
    log_in(other, "owner_sh2")
    other.goto("/my/campaigns")
    other.locator(f"form[action$='/{campaign.id}/decline'] button").click()
    accept_confirm(other)
    expect(other.locator(f".card[data-campaign='{campaign.id}']")).to_have_attribute("data-status", "declined")
    context.close()

    # --- HQ sees it per store; the API lists it only where it was joined ---------------------
    page.goto(f"/campaigns/{campaign.id}")
    expect(page.locator("[data-count=joined]")).to_have_text("1")
    expect(page.locator("[data-count=declined]")).to_have_text("1")

    db.session.rollback()
    assert {p.status for p in db.session.query(CampaignStore).filter_by(campaign_id=campaign.id)} == {
        "joined",
        "declined",
    }
    keys = {code: issue_key(world.stores[name], actor=None)[1] for code, name in (("SH001", "sh1"), ("SH002", "sh2"))}
    db.session.commit()
    client = app.test_client()

    def listed(code):
        response = client.get(f"/api/v1/stores/{code}/campaigns", headers={"Authorization": f"Bearer {keys[code]}"})
        return [c["name"] for c in response.get_json()["campaigns"]]

    assert listed("SH001") == ["周末秒杀"]
    assert listed("SH002") == []
