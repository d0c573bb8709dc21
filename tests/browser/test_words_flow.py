"""The audit log in the browser: sign-ins are folded away, the switch brings them back without a
reload (htmx swaps the rows and keeps the address), and the action filter narrows the list."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.test_flows import log_in

pytestmark = pytest.mark.browser


def test_the_audit_log_folds_sign_ins_and_shows_them_on_request(page, world):
    log_in(page, "hq")
    page.goto(f"/stores/{world.stores['gd1'].id}")
    page.goto("/audit")
    rows = page.locator("#audit-rows tbody tr[data-action]")
    expect(page.locator("#audit-rows tr[data-action=login]")).to_have_count(0)
    before = rows.count()
    page.evaluate("window.__marker = 1")              # survives only if the page is not reloaded
    page.check("input[name=logins]")
    page.wait_for_url("**logins=1*")
    expect(page.locator("#audit-rows tr[data-action=login]")).to_have_count(1)
    assert rows.count() == before + 1
    assert page.evaluate("window.__marker") == 1
    page.select_option("select[name=action]", "login")
    page.wait_for_url("**action=login*")
    expect(rows).to_have_count(1)
    expect(page.locator("#audit-rows tr[data-action=login] [data-ip]")).to_have_text("127.0.0.1")
