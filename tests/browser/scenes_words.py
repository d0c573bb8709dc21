"""Screenshots of the words part (issue 9): the overview's summary figures in 万, the audit log
(readable details, the IP address, sign-ins folded away and shown), and a campaign as the
regional manager of 上海区 reads it (only the region's stores, no actions)."""
from __future__ import annotations


def desktop(page, shot) -> None:
    from tests.browser.screenshots import log_in

    page.goto("/")
    shot(page, "words-overview")

    page.goto("/audit")
    shot(page, "words-audit", full_page=True)
    page.check("input[name=logins]")
    page.wait_for_url("**logins=1*")
    page.wait_for_timeout(300)
    shot(page, "words-audit-logins")

    # The regional manager of 上海区 reads HQ's campaign that reaches the region.
    page.context.clear_cookies()
    log_in(page, "shanghai")
    page.goto("/campaigns")
    shot(page, "words-campaigns-manager")
    page.click("#campaign-rows table a >> nth=0")
    page.wait_for_selector(".participation-counts")
    shot(page, "words-campaign-manager", full_page=True)

    page.context.clear_cookies()
    log_in(page, "hq")
