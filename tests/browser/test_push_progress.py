"""The push page tells the truth while it runs and after, and turns to its finished state by
itself: no reload (a marker set on the page's window survives), the store table fills in, the
finish time and the rollback button appear, the "pushing…" notice goes.

The first test is the worker itself (it runs the push's job step by step, as a Celery worker
would), so every stage is seen for sure; the second sends a push from the form in the browser
and lets the background job backend run it."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from portal.extensions import db
from portal.org.scope import scope_for
from portal.pushes import services as pushes
from portal.pushes.models import Push
from portal.targets.services import TargetSpec
from tests import factories
from tests.browser.test_flows import accept_confirm, log_in

pytestmark = pytest.mark.browser


def _mark(page) -> None:
    page.evaluate("window.__notReloaded = true")


def _not_reloaded(page) -> bool:
    return page.evaluate("window.__notReloaded === true")


def test_the_push_page_turns_from_planning_to_done_by_itself(app, page, world):
    hq = world.users["hq"]
    _template, version = factories.make_template_version(hq)
    db.session.commit()
    with factories.jobs_dropped():          # sent; no worker has picked it up yet
        push = pushes.create_push(scope_for(hq), "template", version.id, "夏季首页 v1",
                                  TargetSpec(node_ids=[world.nodes["r_sh"].id, world.nodes["r_js"].id]), actor=hq)
    push_id = push.id                       # 2 + 121 stores, 12 of them suspended

    log_in(page, "hq")
    page.goto(f"/pushes/{push_id}")
    _mark(page)
    progress = page.locator("#push-progress")
    expect(progress).to_have_attribute("data-planning", "true")
    expect(progress.locator(".push-planning")).to_be_visible()
    expect(progress.locator(".push-percent")).to_have_text("0%")
    expect(progress.locator(".progress-bar")).to_have_class(re.compile(r"\bpct-w-0\b"))
    expect(page.locator("[data-rollback]")).to_have_count(0)

    # The worker plans and does the first batch: the page shows the stores as they are done.
    pushes.run_push(push_id, batch_size=40, max_batches=1)
    expect(progress).to_have_attribute("data-planning", "false")
    expect(progress.locator(".push-percent")).to_have_text(re.compile(r"^(3[0-9]|4[0-9])%$"))
    expect(page.locator("#delivery-rows tr[data-outcome=delivered]").first).to_be_visible()
    expect(page.locator("#delivery-rows tr[data-outcome=pending]").first).to_be_visible()
    expect(page.locator("[data-rollback]")).to_have_count(0)

    # It finishes: the card, the facts and the buttons turn to the finished state, no reload.
    factories.age_heartbeat(push_id)
    pushes.run_push(push_id, batch_size=40)
    expect(progress).to_have_attribute("data-state", "done")
    expect(progress.locator(".push-percent")).to_have_text("100%")
    expect(progress.locator(".push-counts [data-count=delivered]")).to_have_text("111")
    expect(progress.locator(".push-finished")).to_be_visible()
    expect(page.locator("#push-facts .push-finished-at")).not_to_have_text("—")
    expect(page.locator("#push-actions [data-rollback]")).to_be_visible()
    expect(page.locator("#delivery-rows tr[data-outcome=pending]")).to_have_count(0)
    assert _not_reloaded(page)

    # Rolling back (asked for, its job not picked up yet): the page follows it the same way.
    with factories.jobs_dropped():
        pushes.request_rollback(scope_for(hq), db.session.get(Push, push_id), actor=hq)
    page.reload()
    _mark(page)
    expect(progress).to_have_attribute("data-state", "rolling_back")
    expect(page.locator("#push-actions [data-rollback]")).to_have_count(0)
    pushes.rollback_push(push_id, batch_size=40, max_batches=1)
    expect(progress.locator(".push-done-of")).to_contain_text("40")
    factories.age_heartbeat(push_id)
    pushes.rollback_push(push_id, batch_size=40)
    expect(progress).to_have_attribute("data-state", "rolled_back")
    expect(page.locator("#push-facts .push-rolled-back-at")).to_contain_text("111")
    expect(page.locator("#delivery-rows tr[data-outcome=reverted]").first).to_be_visible()
    assert _not_reloaded(page)


def test_a_push_sent_from_the_form_ends_done_with_its_rollback_button(app, page, world):
    # A background job in small batches: the page polls while it runs and stops once done.
    app.config.update(JOBS_BACKEND="thread", JOBS_RAISE=False, PUSH_BATCH_SIZE=5)
    hq = world.users["hq"]
    _template, version = factories.make_template_version(hq, "秋季首页")
    db.session.commit()
    template_id = _template.id

    log_in(page, "hq")
    page.goto(f"/templates/{template_id}/versions/1/push")
    page.check(f"input[name=node_ids][value='{world.nodes['r_js'].id}']")
    expect(page.locator("#reach [data-reach]")).to_have_attribute("data-reach", "109")
    page.click("form.push-form button[type=submit]")
    accept_confirm(page)
    page.wait_for_url(re.compile(r"/pushes/\d+$"))
    _mark(page)
    progress = page.locator("#push-progress")
    expect(progress).to_have_attribute("data-state", "done")
    expect(progress.locator(".push-counts [data-count=delivered]")).to_have_text("109")
    expect(page.locator("#push-actions [data-rollback]")).to_be_visible()
    expect(page.locator("#push-facts .push-target")).to_contain_text("江苏区")
    expect(page.locator("#push-facts .push-finished-at")).not_to_have_text("—")
    # No "pushing…" notice is left beside a finished push.
    expect(page.locator(".page-body .alert-success")).to_have_count(0)
    expect(page.locator("#delivery-rows tr[data-outcome=pending]")).to_have_count(0)
    assert _not_reloaded(page)

    # The history names where it went.
    page.goto("/pushes")
    expect(page.locator("tr[data-push] .push-target").first).to_contain_text("江苏区")
