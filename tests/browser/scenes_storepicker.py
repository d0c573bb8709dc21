"""Screenshots of the store picker (issue 9 point 4) and the store list's bulk-action guards."""
from __future__ import annotations


def desktop(page, shot) -> None:
    # The target editor: the org tree with store counts, a region ticked, the reach beside it.
    page.goto("/targets/new")
    page.fill("input[name=name]", "华东重点门店")
    page.locator("[data-picker-tree] input[name=node_ids]").nth(2).check()
    page.wait_for_selector("[data-reach]")
    page.wait_for_timeout(300)
    shot(page, "storepicker-target-form")

    # The "add stores" dialog with a search, two rows ticked.
    page.click("[data-picker-open]")
    page.wait_for_selector("#pick-rows input[data-pick]")
    page.locator("#pick-q").press_sequentially("杭州", delay=40)
    page.wait_for_selector("#pick-rows [data-pick-all]")
    page.wait_for_timeout(300)
    page.locator("#pick-rows input[data-pick]").nth(0).check()
    page.locator("#pick-rows input[data-pick]").nth(1).check()
    shot(page, "storepicker-dialog")

    # Added: the chips and the reach with them.
    page.click("[data-pick-add]")
    page.wait_for_selector("[data-chip-store]")
    page.wait_for_selector("[data-part=store_ids]")
    page.wait_for_timeout(400)
    shot(page, "storepicker-target-chips", full_page=True)

    # The store list: a bulk selection, the action menu open (no action chosen yet, Apply
    # disabled), then an action chosen (Apply names the count).
    page.goto("/stores")
    page.check("#bulk-form [data-select-all]")
    page.click("#bulk-form [data-bulk-menu]")
    page.wait_for_selector("#bulk-form .dropdown-menu.show")
    shot(page, "storepicker-bulk-menu")
    page.click("#bulk-form [data-bulk-choose=suspended]")
    page.click("#bulk-form [data-select-matching]")
    shot(page, "storepicker-bulk-chosen")

    # Stopping a campaign in stores chosen with the picker: a region ticked, the reach beside it.
    page.goto("/campaigns")
    page.click("table a >> nth=0")
    page.wait_for_url("**/campaigns/*")
    page.goto(page.url.split("?")[0].rstrip("/") + "/stop-in-stores")
    page.locator("[data-picker-tree] input[name=node_ids]").nth(4).check()
    page.wait_for_selector("[data-reach]")
    page.wait_for_timeout(300)
    shot(page, "storepicker-campaign-stop")
