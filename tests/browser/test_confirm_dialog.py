"""The styled confirmation dialog: a [data-confirm] button, link or htmx request goes on only
once confirmed; 取消, Esc and the close button send nothing; Enter confirms; focus comes back."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from portal.extensions import db
from portal.org.models import Store
from tests import factories
from tests.browser.test_flows import log_in

pytestmark = pytest.mark.browser


def _posts(page) -> list[str]:
    sent: list[str] = []
    page.on("request", lambda r: sent.append(r.url) if r.method == "POST" else None)
    return sent


def _status(store_id: int) -> str:
    db.session.rollback()
    return db.session.get(Store, store_id).status


def test_a_plain_form_waits_for_the_dialog(page, world):
    store = world.stores["sh1"]
    log_in(page, "hq")
    page.goto(f"/stores/{store.id}")
    posts = _posts(page)
    suspend = page.locator("button[name=status][value=suspended]")
    dialog = page.locator("#confirm-dialog")

    # 取消: the dialog names the action, nothing is sent, focus goes back to the button.
    suspend.click()
    expect(dialog).to_be_visible()
    expect(dialog.locator("#confirm-dialog-title")).to_have_text("请确认")
    expect(dialog.locator("#confirm-dialog-text")).to_have_text(suspend.get_attribute("data-confirm"))
    expect(dialog.locator("[data-confirm-accept]")).to_have_text("确定")
    expect(dialog.locator("[data-confirm-accept]")).to_be_focused()
    dialog.locator("[data-confirm-cancel]").click()
    expect(dialog).to_be_hidden()
    expect(suspend).to_be_focused()
    # Esc cancels too.
    suspend.click()
    expect(dialog).to_be_visible()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    page.wait_for_timeout(300)
    assert posts == [] and _status(store.id) == "active"

    # Enter confirms: the form goes with the button's own name and value.
    suspend.click()
    expect(dialog.locator("[data-confirm-accept]")).to_be_focused()
    page.keyboard.press("Enter")
    page.wait_for_load_state()
    expect(page.locator(".alert-success")).to_be_visible()
    assert len(posts) == 1 and posts[0].endswith(f"/stores/{store.id}/status")
    assert _status(store.id) == "suspended"


def test_an_htmx_form_a_link_and_an_htmx_button_wait_for_the_dialog(page, world):
    hq = world.users["hq"]
    template, _version = factories.make_template_version(hq)
    db.session.commit()
    blocks = len(template.draft)
    log_in(page, "hq")
    page.goto(f"/templates/{template.id}")
    posts = _posts(page)
    dialog = page.locator("#confirm-dialog")
    delete = page.locator("#editor form[action$='/delete'] button").first

    # A button submitting an hx-post form: cancelled, nothing sent; confirmed, htmx swaps the editor.
    delete.click()
    expect(dialog).to_be_visible()
    dialog.locator(".btn-close").click()
    expect(dialog).to_be_hidden()
    page.wait_for_timeout(300)
    assert posts == []
    delete.click()
    dialog.locator("[data-confirm-accept]").click()
    expect(page.locator("#editor form[action$='/delete']")).to_have_count(blocks - 1)
    assert len(posts) == 1 and posts[0].endswith("/delete")

    # A link, and a button that is itself an htmx trigger (htmx:confirm), with a title and a button text.
    page.evaluate("""() => {
        const box = document.createElement("div");
        box.innerHTML = '<a id="probe-link" href="/campaigns" data-confirm="离开这个页面？">走</a>'
          + '<button id="probe-hx" type="button" hx-get="/targets/preview?everything=y" hx-target="#probe-out"'
          + ' data-confirm="预览全部门店？" data-confirm-title="预览" data-confirm-ok="预览">预览</button>'
          + '<div id="probe-out"></div>';
        document.querySelector(".page-body .container-xl").prepend(box);
        htmx.process(box);
    }""")
    previews: list[str] = []
    page.on("request", lambda r: previews.append(r.url) if "/targets/preview" in r.url else None)
    page.click("#probe-hx")
    expect(dialog.locator("#confirm-dialog-title")).to_have_text("预览")
    expect(dialog.locator("[data-confirm-accept]")).to_have_text("预览")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    page.wait_for_timeout(300)
    assert previews == []
    page.click("#probe-hx")
    dialog.locator("[data-confirm-accept]").click()
    expect(page.locator("#probe-out [data-reach]")).to_be_visible()
    assert len(previews) == 1
    # The defaults come back for the next question.
    page.click("#probe-link")
    expect(dialog.locator("#confirm-dialog-title")).to_have_text("请确认")
    expect(dialog.locator("#confirm-dialog-text")).to_have_text("离开这个页面？")
    dialog.locator("[data-confirm-cancel]").click()
    expect(dialog).to_be_hidden()
    assert page.url.endswith(f"/templates/{template.id}")
    page.click("#probe-link")
    dialog.locator("[data-confirm-accept]").click()
    page.wait_for_url(re.compile(r"/campaigns$"))


def test_push_button_is_disabled_while_the_reach_is_zero(page, world):
    from tests.campaigns.helpers import make_campaign

    campaign = make_campaign(world.users["hq"])
    factories.make_store(world.nodes["r_sh"], "SH009", status="suspended")
    db.session.commit()
    log_in(page, "hq")
    page.goto(f"/campaigns/{campaign.id}/push")
    button = page.locator("[data-push-submit]")
    expect(button).to_be_disabled()
    page.click(".picker-paste summary")                 # the codes box is folded away for power users
    page.fill("textarea[name=store_codes]", "SH009")
    expect(page.locator("#reach [data-reach]")).to_have_attribute("data-reach", "0")
    expect(button).to_be_disabled()
    page.fill("textarea[name=store_codes]", "SH001 SH002")
    expect(page.locator("#reach [data-reach]")).to_have_attribute("data-reach", "2")
    expect(button).to_be_enabled()
    button.click()
    expect(page.locator("#confirm-dialog-text")).to_have_text("推送到 2 家门店？已有的门店会自动跳过。")
    page.locator("#confirm-dialog [data-confirm-accept]").click()
    page.wait_for_url(re.compile(r"/pushes/\d+$"))
