"""The Content-Security-Policy in a real browser: key pages raise no violation, and the htmx
interactions that matter (active search, the live reach of a target, push progress polling)
still work with no inline script, no inline style and no eval."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from portal.extensions import db
from portal.goods import services as catalog
from portal.org.scope import scope_for
from portal.pushes import services as pushes
from portal.pushes.models import Push
from portal.targets.services import TargetSpec
from tests import factories
from tests.browser.test_flows import codes, log_in

pytestmark = pytest.mark.browser

# Runs in every page before its own scripts: records what the policy blocked.
RECORD_VIOLATIONS = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push(e.violatedDirective + " " + (e.blockedURI || "inline") + " "
                    + (e.sourceFile || "") + ":" + e.lineNumber);
});
"""


def violations(page) -> list[str]:
    return page.evaluate("window.__csp || []")


def watch(page) -> list[str]:
    """Console errors that mention the policy (Chromium logs every violation there too)."""
    seen: list[str] = []
    page.add_init_script(RECORD_VIOLATIONS)
    page.on("console", lambda m: seen.append(m.text) if "Content Security Policy" in m.text else None)
    return seen


def test_the_policy_is_enforced_and_the_pages_break_none_of_it(page, world):
    console = watch(page)
    hq = world.users["hq"]
    product = factories.make_product(world.nodes["hq"], "HQ-CSP")
    catalog.add_image(scope_for(hq), product, factories.png_bytes(), actor=hq)
    template, _version = factories.make_template_version(hq)
    db.session.commit()

    log_in(page, "hq")
    for url in ("/", "/stores", "/org", "/goods", f"/goods/{product.id}", f"/templates/{template.id}",
                "/targets/new", "/campaigns", "/audit", "/users"):
        page.goto(url)
        page.wait_for_load_state("networkidle")
        assert violations(page) == [], url
    assert console == []

    # The control: an inline script injected now is refused, so the recorder above does see.
    page.evaluate("var s = document.createElement('script'); s.textContent = 'window.__ran = 1'; "
                  "document.body.appendChild(s)")
    assert page.evaluate("window.__ran") is None
    expect(page.locator("body")).to_be_visible()
    page.wait_for_function("window.__csp.length > 0")
    assert any("script-src" in v for v in violations(page))


def test_active_search_and_the_live_reach_work_under_the_policy(page, world):
    watch(page)
    log_in(page, "hq")
    page.goto("/stores")
    page.fill("#store-q", "苏州")
    expect(page).to_have_url(re.compile(r"q=%E8%8B%8F%E5%B7%9E|q=苏州"))
    expect(page.locator("#store-rows tbody tr").first).to_contain_text("SZ")
    assert all(code.startswith("SZ") for code in codes(page))
    assert violations(page) == []

    page.goto("/targets/new")
    reach = page.locator("#reach [data-reach]")
    expect(page.locator("#reach")).to_be_visible()
    page.check(f"input[name=node_ids][value='{world.nodes['r_js'].id}']")
    expect(reach).to_have_attribute("data-reach", "109")      # 121 stores in 江苏区, 12 suspended
    assert violations(page) == []


def test_push_progress_polls_itself_under_the_policy(page, world):
    watch(page)
    hq = world.users["hq"]
    _template, version = factories.make_template_version(hq)
    db.session.commit()
    push = pushes.create_push(scope_for(hq), "template", version.id, "v1",
                              TargetSpec(node_ids=[world.nodes["r_sh"].id]), actor=hq)
    db.session.commit()
    # Put it back to "running" half-way, as if its worker were still at it.
    push_id = push.id          # a plain int: Playwright's callbacks run outside the app context
    push = db.session.get(Push, push_id)
    push.state, push.delivered = "running", 1
    db.session.commit()

    log_in(page, "hq")
    polls: list[str] = []
    page.on("request", lambda r: polls.append(r.url) if r.url.endswith(f"/pushes/{push_id}/progress") else None)
    page.goto(f"/pushes/{push_id}")
    progress = page.locator("#push-progress")
    expect(progress).to_have_attribute("data-state", "running")
    page.wait_for_timeout(2500)
    assert len(polls) >= 2

    push = db.session.get(Push, push_id)
    push.state, push.delivered = "done", push.total
    db.session.commit()
    expect(progress).to_have_attribute("data-state", "done")
    expect(progress.locator(".progress-bar")).to_have_class(re.compile(r"\bpct-w-100\b"))
    assert violations(page) == []


def test_the_store_owner_pages_break_none_of_it(phone_page, world):
    console = watch(phone_page)
    log_in(phone_page, "owner1")
    for url in ("/", "/my/page", "/my/goods", "/my/campaigns"):
        phone_page.goto(url)
        phone_page.wait_for_load_state("networkidle")
        assert violations(phone_page) == [], url
    phone_page.click("[data-toggle-menu]")
    expect(phone_page.locator("#sidebar-menu")).to_have_class(re.compile(r"\bshow\b"))
    assert console == []
