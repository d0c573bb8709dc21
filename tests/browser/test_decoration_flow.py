"""HQ composes a decoration template in the browser, publishes it, pushes it to a region while the
progress bar runs, and a store owner of that region sees the page on the phone and edits a block.

Selectors lean on ids, names and data attributes, not on the (translated) visible text.
"""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.decoration.models import BlockOverride, StorePage
from portal.extensions import db
from portal.org import roles
from tests import factories
from tests.browser.test_flows import accept_confirm, log_in, no_horizontal_scroll

pytestmark = pytest.mark.browser

NOTICE = "夏季新品上市，会员第二杯半价"
OWN_NOTICE = "新街口店：周三会员日，满 50 减 10"


def add_block(page, block_type: str) -> None:
    rows = page.locator(f"#block-list .block-row[data-type={block_type}]")
    before = rows.count()
    page.click(f".block-palette button[value={block_type}]")
    expect(rows).to_have_count(before + 1)
    expect(page.locator("#block-panel")).to_be_visible()          # the new block's panel opens


def test_hq_composes_publishes_and_pushes_and_the_store_owner_edits(app, page, phone_page, world):
    # The push runs as a background job, in small batches, so the page really watches it move.
    app.config.update(JOBS_BACKEND="thread", JOBS_RAISE=False, PUSH_BATCH_SIZE=10)
    factories.make_user("owner_js", roles.STORE_OWNER, world.stores["js1"])
    db.session.commit()

    # --- HQ composes --------------------------------------------------------------------------
    log_in(page, "hq")
    page.click(".navbar a.nav-link[href='/templates']")
    page.click("a[href='/templates/new']")
    page.fill("input[name=name]", "夏季首页")
    page.click(".page-body form button[type=submit]")
    page.wait_for_url(re.compile(r"/templates/\d+$"))
    template_url = page.url

    preview = page.locator(".phone .mp-block")
    expect(preview).to_have_count(0)
    add_block(page, "banner")
    add_block(page, "notice")
    expect(page.locator("#block-panel input[name=text]")).to_be_visible()
    page.fill("#block-panel input[name=text]", "")
    page.click("#block-panel button[type=submit]")
    # Invalid: the error shows beside the field and the panel stays open.
    expect(page.locator("#block-panel .invalid-feedback[data-field=text]")).to_be_visible()
    page.fill("#block-panel input[name=text]", NOTICE)
    page.click("#block-panel button[type=submit]")
    expect(page.locator("#block-panel")).to_have_count(0)
    expect(page.locator(".phone .mp-block[data-type=notice]")).to_contain_text(NOTICE)   # live preview
    add_block(page, "store_card")
    page.click("#block-list .block-row[data-type=store_card] [data-lock]")       # locked -> store-editable
    expect(page.locator("#block-list .block-row[data-type=store_card] .lock-toggle.is-open")).to_be_visible()
    page.click("#block-list .block-row[data-type=notice] [data-lock]")
    expect(page.locator("#block-list .block-row[data-type=notice] .lock-toggle.is-open")).to_be_visible()
    # Move the notice to the top: the preview follows.
    page.click("#block-list .block-row[data-type=notice] button[value=up]")
    expect(page.locator("#block-list .block-row").first).to_have_attribute("data-type", "notice")
    expect(preview.first).to_have_attribute("data-type", "notice")
    expect(preview).to_have_count(3)

    # --- publish --------------------------------------------------------------------------------
    page.fill("input[name=note]", "夏季上新")
    page.click("#publish button[type=submit]")
    expect(page.locator("#versions tr[data-version='1']")).to_be_visible()
    expect(page.locator(".alert-success")).to_be_visible()

    # --- push to 江苏区 and watch the progress bar -------------------------------------------
    page.click("#versions tr[data-version='1'] a[href$='/versions/1/push']")
    page.check(f"input[name=node_ids][value='{world.nodes['r_js'].id}']")
    # 121 stores in the region, 12 of them suspended: "reaches 109 stores" before anything is sent.
    expect(page.locator("#reach [data-reach]")).to_have_attribute("data-reach", "109")
    page.click("form.push-form button[type=submit]")
    accept_confirm(page)
    page.wait_for_url(re.compile(r"/pushes/\d+$"))
    progress = page.locator("#push-progress")
    expect(progress).to_have_attribute("data-state", "done")
    expect(progress.locator(".progress-bar")).to_have_class(re.compile(r"\bpct-w-100\b"))
    expect(progress.locator(".push-counts .text-green")).to_have_text("109")

    db.session.rollback()
    js1_page = db.session.get(StorePage, world.stores["js1"].id)
    assert js1_page is not None
    assert db.session.get(StorePage, world.stores["sh1"].id) is None              # not in the region

    # --- the store owner, on a phone ----------------------------------------------------------
    phone = phone_page
    log_in(phone, "owner_js")
    phone.click("[data-toggle-menu]")
    phone.click(".navbar a.nav-link[href='/my/page']")
    expect(phone.locator("[data-version='1']")).to_be_visible()
    expect(phone.locator(".phone .mp-block[data-type=notice]")).to_contain_text(NOTICE)
    assert no_horizontal_scroll(phone)
    # The banner is HQ's: no edit button, a lock instead.
    expect(phone.locator("#page-blocks .block-row[data-type=banner] [data-edit]")).to_have_count(0)
    expect(phone.locator("#page-blocks .block-row[data-type=banner] [data-locked]")).to_be_visible()

    phone.click("#page-blocks .block-row[data-type=notice] [data-edit]")
    phone.fill("#block-panel input[name=text]", OWN_NOTICE)
    phone.click("#block-panel button[type=submit]")
    expect(phone.locator("#block-panel")).to_have_count(0)
    expect(phone.locator("#page-blocks .block-row[data-type=notice] [data-customized]")).to_be_visible()
    expect(phone.locator(".phone .mp-block[data-type=notice]")).to_contain_text(OWN_NOTICE)
    phone.reload()
    expect(phone.locator(".phone .mp-block[data-type=notice]")).to_contain_text(OWN_NOTICE)

    db.session.rollback()
    rows = db.session.scalars(select(BlockOverride)).all()
    assert [(r.store_id, r.data["text"]) for r in rows] == [(world.stores["js1"].id, OWN_NOTICE)]

    # HQ's editor is untouched by the store's edit.
    page.goto(template_url)
    expect(page.locator(".phone .mp-block[data-type=notice]")).to_contain_text(NOTICE)
