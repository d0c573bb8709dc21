"""The owner, on a 390×844 phone, opens a campaign HQ offered the store, reviews its rules (the
goods with their picture, the campaign price against the struck list price, the window, who bears
the discount), is asked before joining, and joins: the join is recorded. And the owner's page
preview shows the store's own goods at its own price."""
from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from portal.assortments.models import StoreAssortment
from portal.campaigns.models import Campaign, CampaignStore
from portal.extensions import db
from portal.goods.services import add_image
from portal.kernel.time import utcnow
from portal.org.scope import scope_for
from portal.targets.services import TargetSpec
from tests import factories
from tests.browser.test_csp import violations, watch
from tests.browser.test_flows import accept_confirm, dismiss_confirm, log_in, no_horizontal_scroll
from tests.campaigns.helpers import make_campaign, push

pytestmark = pytest.mark.browser


def _offer(world) -> Campaign:
    hq = world.users["hq"]
    tea = factories.make_product(world.nodes["hq"], "TEA", name="茉莉奶绿", skus=1, list_price=1800, floor=1000,
                                 ceiling=2500)
    add_image(scope_for(hq), tea, factories.png_bytes(), actor=hq)
    now = utcnow()
    rules = {"items": [{"sku": "TEA-1", "price_fen": 990, "quantity": 100}],
             "sale_starts": (now + timedelta(hours=2)).isoformat(), "sale_ends": (now + timedelta(days=2)).isoformat()}
    c = make_campaign(hq, kind="flash_sale", name="周末秒杀", rules=rules, start=-1, end=3, participation="opt_in",
                      deadline=1)
    db.session.execute(Campaign.__table__.update().where(Campaign.id == c.id).values(discount_bearer="store"))
    db.session.commit()
    push(hq, c, TargetSpec(store_codes=["SH001"]))
    return c


def _status(campaign, store) -> str:
    db.session.expire_all()
    return db.session.get(CampaignStore, (campaign.id, store.id)).status


def test_the_owner_reviews_a_campaign_on_the_phone_and_joins(phone_page, world):
    page = phone_page
    console = watch(page)
    c = _offer(world)
    log_in(page, "owner1")
    page.goto("/my/campaigns")
    card = page.locator(f".offer-card[data-campaign='{c.id}']")
    expect(card.locator("[data-sku='TEA-1'] .offer-good-name")).to_have_text("茉莉奶绿")
    expect(card.locator("[data-sku='TEA-1'] img.offer-thumb")).to_be_visible()
    expect(card.locator(".offer-price")).to_contain_text("9.90")
    expect(card.locator("del.offer-list-price")).to_contain_text("18.00")
    expect(card.locator("[data-bearer='store']")).to_have_text("门店承担")
    assert no_horizontal_scroll(page)

    # Tap the card: the campaign's own page, with the full rules.
    card.locator("[data-detail]").click()
    page.wait_for_url(f"**/my/campaigns/{c.id}")
    detail = page.locator(".offer-detail")
    expect(detail.locator(".offer-good-name")).to_have_text("茉莉奶绿")
    expect(detail.locator(".offer-price")).to_contain_text("9.90")
    expect(detail.locator("del.offer-list-price")).to_contain_text("18.00")
    expect(detail.locator("[data-window]")).to_contain_text("–")
    expect(detail.locator("[data-sale]")).to_be_visible()
    expect(detail.locator(".offer-bearer-box")).to_contain_text("优惠由本店承担")
    expect(detail.locator("[data-term=quantity]")).to_have_text("限量 100 件")
    assert no_horizontal_scroll(page)
    assert violations(page) == [] and console == []

    # Joining asks first; saying no changes nothing.
    detail.locator("button[data-join]").click()
    asked = dismiss_confirm(page)
    assert "参加「周末秒杀」" in asked and "优惠由本店承担" in asked
    assert _status(c, world.stores["sh1"]) == "invited"

    detail.locator("button[data-join]").click()
    accept_confirm(page)
    page.wait_for_url(f"**/my/campaigns/{c.id}")
    expect(page.locator(".offer-detail [data-part]")).to_have_attribute("data-part", "joined")
    expect(page.locator(".offer-detail button[data-withdraw]")).to_be_visible()
    assert _status(c, world.stores["sh1"]) == "joined"


def test_hq_picks_a_sample_store_and_the_editor_previews_its_goods(page, world):
    console = watch(page)
    hq = world.users["hq"]
    tea = factories.make_product(world.nodes["hq"], "TEA", name="茉莉奶绿", category="招牌", skus=1)
    assortment = factories.make_assortment(world.nodes["hq"], [tea])
    db.session.add(StoreAssortment(store_id=world.stores["sh1"].id, assortment_id=assortment.id))
    template, _version = factories.make_template_version(hq, blocks=[
        {"key": "g1", "type": "goods_grid", "locked": True,
         "data": {"title": "人气推荐", "source": "category", "category": "招牌", "goods": "", "columns": 2,
                  "limit": 4}}])
    db.session.commit()
    log_in(page, "hq")
    page.goto(f"/templates/{template.id}")
    expect(page.locator(".mp-sample-ribbon")).to_be_visible()
    page.locator("#sample-store input[name=q]").press_sequentially("南京路", delay=30)
    option = page.locator("#sample-store-results [data-store='SH001']")
    expect(option).to_be_visible()
    option.click()
    expect(page.locator("#sample-store [data-chosen-store]")).to_have_attribute("data-chosen-store", "SH001")
    expect(page.locator(".mp-goods_grid [data-real-goods] .mp-good-name")).to_have_text("茉莉奶绿")
    expect(page.locator(".mp-sample-ribbon")).to_have_count(0)
    # Editing a block keeps the sample store (the choice is the user's, not the request's).
    page.locator(".mp-block[data-block='g1']").click()
    page.wait_for_selector("#block-panel")
    expect(page.locator(".mp-goods_grid [data-real-goods]")).to_be_visible()
    page.click("#sample-store [data-use-sample]")
    expect(page.locator(".mp-sample-ribbon")).to_be_visible()
    assert violations(page) == [] and console == []
