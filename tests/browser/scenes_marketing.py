"""Screenshots of the marketing part of issue 9: the 营销中心, the styled confirmation dialog on
risky buttons, and the Excel import/export (see tests/browser/screenshots.py)."""
from __future__ import annotations


def _dialog(page) -> None:
    page.wait_for_selector("#confirm-dialog [data-confirm-accept]:focus")
    page.wait_for_timeout(200)


def _cancel(page) -> None:
    page.keyboard.press("Escape")
    page.wait_for_selector("#confirm-dialog", state="hidden")


def desktop(page, shot) -> None:
    page.goto("/marketing")
    shot(page, "marketing-center")

    # A campaign's page: the stop-everywhere button asks with the count of stores running it.
    page.goto("/campaigns")
    page.click("#campaign-rows table a >> nth=0")
    page.wait_for_selector(".campaign-state")
    stop_all = page.locator("[data-stop-all]")
    risky = stop_all if stop_all.count() else page.locator("form[action$='/cancel'] button")
    risky.click()
    _dialog(page)
    shot(page, "marketing-confirm-stop")
    _cancel(page)

    # The push form: the button names the reach; with no store chosen it is disabled.
    push = page.locator("a[href$='/push']")
    if push.count():
        push.first.click()
        page.wait_for_selector("[data-push-submit]")
        shot(page, "marketing-push-disabled")
        page.locator(".target-fields input[name=node_ids]").nth(1).check()
        page.wait_for_selector("#reach [data-reach]")
        page.wait_for_timeout(300)
        page.click("[data-push-submit]")
        _dialog(page)
        shot(page, "marketing-confirm-push")
        _cancel(page)

    page.goto("/stores")
    page.click(".page-header .dropdown-toggle")
    page.wait_for_timeout(200)
    shot(page, "marketing-stores-export")
    page.goto("/stores/import")
    shot(page, "marketing-stores-import")
    page.goto("/goods")
    page.click(".page-header .dropdown-toggle")
    page.wait_for_timeout(200)
    shot(page, "marketing-goods-export")
    page.goto("/goods/import")
    shot(page, "marketing-goods-import")
