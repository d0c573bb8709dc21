"""HQ finds where campaigns start (营销中心 from the menu and from the campaigns list) and opens a
kind's form from its card; the store list's export menu opens and follows the filters."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_flows import log_in

pytestmark = pytest.mark.browser


def test_marketing_center_cards_open_each_form(page, world):
    log_in(page, "hq")
    page.click(".navbar a.nav-link[href='/marketing']")
    page.wait_for_url(re.compile(r"/marketing$"))
    cards = page.locator(".card-tool")
    expect(cards).to_have_count(5)
    for kind in ("coupon", "flash_sale", "bargain", "group_buy", "distribution"):
        # Every icon draws something (no empty circles): its paths have a size.
        box = page.locator(f".card-tool[data-kind={kind}] .tool-icon svg path").first.bounding_box()
        assert box and box["width"] > 0 and box["height"] > 0
    page.click(".card-tool[data-kind=flash_sale] a.btn-primary")
    page.wait_for_url(re.compile(r"/campaigns/new/flash_sale$"))
    expect(page.locator("form.campaign-form")).to_be_visible()
    expect(page.locator(".navbar .nav-item.active a")).to_have_attribute("href", "/marketing")

    # The campaigns list (empty here) leads to it from its header and from its empty state.
    page.goto("/campaigns")
    expect(page.locator("a[data-new-campaign]")).to_have_count(2)
    page.click(".empty a[data-new-campaign]")
    page.wait_for_url(re.compile(r"/marketing$"))


def test_store_export_menu_follows_the_filter(page, world):
    log_in(page, "hq")
    page.goto("/stores")
    page.locator("input[name=q]").press_sequentially("苏州", delay=30)
    page.wait_for_url(re.compile(r"q=%E8%8B%8F%E5%B7%9E"))
    page.click(".page-header .dropdown-toggle")
    xlsx = page.locator(".page-header [data-export-link]").first          # Excel first, then CSV
    expect(xlsx).to_be_visible()
    expect(xlsx).to_have_attribute("href", re.compile(r"/stores/export\.xlsx\?.*q=%E8%8B%8F%E5%B7%9E"))
    with page.expect_download() as download:
        xlsx.click()
    assert download.value.suggested_filename == "stores.xlsx"
