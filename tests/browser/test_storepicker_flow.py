"""Build a saved target with the store picker and push to it (issue 9 point 4): tick a region in
the org tree, add two stores through the dialog's search, add "all matching" a search, see the
reach follow, save, then push a template version to the target and see the push reach them."""
from __future__ import annotations

import re

from playwright.sync_api import expect
from sqlalchemy import select

from portal.extensions import db
from portal.pushes.models import Push
from portal.targets.models import Target
from tests import factories
from tests.browser.test_csp import violations, watch
from tests.browser.test_flows import accept_confirm, log_in


def test_build_a_target_with_the_picker_and_push_to_it(page, world):
    _t, version = factories.make_template_version(world.users["hq"])
    db.session.commit()
    template_id = version.template_id
    console = watch(page)                   # the picker and its dialog break none of the CSP
    log_in(page, "hq")
    page.goto("/targets/new")
    page.fill("input[name=name]", "上海区加两家")
    reach = page.locator("#reach [data-reach]")

    # The tree: 上海区 has two stores; ticking 华东 shows its regions as included.
    r_sh, r_js, east = (world.nodes[k].id for k in ("r_sh", "r_js", "east"))
    tree = page.locator("[data-picker-tree]")
    expect(tree.locator(f"[data-tree-node='{r_sh}'] [data-node-count]").first).to_have_text("2 家门店")
    page.check(f"[data-picker-tree] input[name=node_ids][value='{east}']")
    expect(page.locator(f"[data-picker-tree] input[value='{r_js}']")).to_be_disabled()
    expect(page.locator(f"[data-picker-tree] input[value='{r_js}']")).to_be_checked()
    page.uncheck(f"[data-picker-tree] input[name=node_ids][value='{east}']")
    expect(page.locator(f"[data-picker-tree] input[value='{r_js}']")).to_be_enabled()
    page.check(f"[data-picker-tree] input[name=node_ids][value='{r_sh}']")
    expect(reach).to_have_attribute("data-reach", "2")
    # Folding 华南 hides its region.
    south = world.nodes["south"].id
    page.click(f"[data-tree-node='{south}'] > .picker-row [data-tree-toggle]")
    expect(page.locator(f"[data-tree-node='{world.nodes['r_gd'].id}']")).to_be_hidden()

    # The dialog: two stores found by search, ticked on two different searches, added at once.
    page.click("[data-picker-open]")
    dialog = page.locator("#store-picker")
    expect(dialog.locator("[data-pick-total]")).to_have_attribute("data-pick-total", "125")
    dialog.locator("#pick-q").fill("广州")
    expect(dialog.locator("[data-pick-total]")).to_have_attribute("data-pick-total", "1")
    dialog.locator("input[data-pick]").first.check()
    dialog.locator("#pick-q").fill("深圳")
    expect(dialog.locator("[data-pick-total]")).to_have_attribute("data-pick-total", "1")
    expect(dialog.locator("input[data-pick][data-code='SO001']")).to_be_visible()
    dialog.locator("input[data-pick]").first.check()
    expect(dialog.locator("[data-pick-chosen]")).to_have_text("已勾选 2 家门店")
    # Typing in the dialog is not the form's selection changing; Enter does not submit the form.
    dialog.locator("#pick-q").press("Enter")
    assert page.url.endswith("/targets/new")
    dialog.locator("[data-pick-add]").click()
    expect(dialog).to_be_hidden()
    chips = page.locator("[data-picker-chips] [data-chip-store]")
    expect(chips).to_have_count(2)
    expect(page.locator("[data-picker-chips]")).to_contain_text("广州天河店")
    expect(reach).to_have_attribute("data-reach", "4")

    # "All matching" a search is kept as the search: 苏州观前街11… is 11 stores, 10 of them open.
    page.click("[data-picker-open]")
    dialog.locator("#pick-q").fill("苏州观前街11")
    expect(dialog.locator("[data-pick-total]")).to_have_attribute("data-pick-total", "11")
    expect(dialog.locator("input[data-pick][data-code='SO001']")).to_have_count(0)
    dialog.locator("[data-pick-all]").click()
    expect(page.locator("[data-chip-filter]")).to_contain_text("符合 “苏州观前街11” 的门店")
    expect(reach).to_have_attribute("data-reach", "14")
    # Removing a chip takes its stores out again.
    page.click("[data-chip-filter] [data-chip-remove]")
    expect(reach).to_have_attribute("data-reach", "4")
    assert violations(page) == [] and console == []
    # Pasting codes is still there, folded.
    expect(page.locator("textarea[name=store_codes]")).to_be_hidden()
    page.click("details.picker-paste summary")
    expect(page.locator("textarea[name=store_codes]")).to_be_visible()

    page.click("button[type=submit]:has-text('保存')")
    page.wait_for_url("**/targets")
    expect(page.locator("body")).to_contain_text("上海区加两家")
    db.session.rollback()
    target = db.session.scalar(select(Target).where(Target.name == "上海区加两家"))
    assert target.spec["node_ids"] == [r_sh] and len(target.spec["store_ids"]) == 2 and target.spec["filters"] == []

    # Push the template version to it.
    page.goto(f"/templates/{template_id}/versions/{version.number}/push")
    page.select_option("select[name=target_id]", str(target.id))
    expect(reach).to_have_attribute("data-reach", "4")
    page.click("form.push-form button[type=submit]")
    accept_confirm(page)
    page.wait_for_url(re.compile(r"/pushes/\d+$"))
    expect(page.locator("#push-progress")).to_have_attribute("data-state", "done")
    db.session.rollback()
    push = db.session.scalar(select(Push).order_by(Push.id.desc()))
    assert push.target_id == target.id and push.delivered == 4 and push.total == 4
