"""End-to-end flows in Debian's Chromium against the real app on a real database.

Selectors lean on ids, names and attributes rather than visible text: the Chinese translations
are still being written, and the UI must keep working whichever language it speaks.
"""
from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from portal.extensions import db
from portal.org.models import Store
from tests import factories

pytestmark = pytest.mark.browser

ROWS = "#store-rows tbody tr"
CODE_CELLS = f"{ROWS} td:has(+ td.store-name)"      # the code is the cell before the name


def log_in(page, username: str, password: str = factories.PASSWORD) -> None:
    """Fill the login form and press the sign-in button, as a person would."""
    page.goto("/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("form[action^='/login'] button[type=submit]")
    page.wait_for_url(lambda url: urlsplit(url).path != "/login")


def accept_confirm(page) -> str:
    """Confirm in the styled confirmation dialog (templates/base.html, static/js/portal.js);
    returns what it asked."""
    dialog = page.locator("#confirm-dialog")
    expect(dialog).to_be_visible()
    asked = dialog.locator("#confirm-dialog-text").inner_text()
    dialog.locator("[data-confirm-accept]").click()
    expect(dialog).to_be_hidden()
    return asked


def dismiss_confirm(page) -> str:
    """Cancel the styled confirmation dialog; returns what it asked."""
    dialog = page.locator("#confirm-dialog")
    expect(dialog).to_be_visible()
    asked = dialog.locator("#confirm-dialog-text").inner_text()
    dialog.locator("[data-confirm-cancel]").click()
    expect(dialog).to_be_hidden()
    return asked


def query(page) -> dict[str, list[str]]:
    return parse_qs(urlsplit(page.url).query)


def codes(page) -> list[str]:
    """Store codes of the visible rows (the code is the first text column)."""
    return page.locator(CODE_CELLS).all_inner_texts()


def count(stmt) -> int:
    """A count read in a fresh transaction, so it sees what the server thread committed."""
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(stmt.subquery()))


def no_horizontal_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_hq_searches_filters_sorts_and_pages_the_store_list(page, world):
    log_in(page, "hq")
    assert urlsplit(page.url).path == "/"
    expect(page.locator("[data-stat=total]")).to_have_text("125")

    page.click("nav a[href='/stores'], .navbar a.nav-link[href='/stores']")
    page.wait_for_url("**/stores")
    active_nav = page.locator(".navbar-vertical .nav-item.active a")
    expect(active_nav).to_have_count(1)            # only 门店 lights up, not every org page
    expect(active_nav).to_have_attribute("href", "/stores")
    expect(page.locator("#match-count")).to_have_attribute("data-count", "125")
    expect(page.locator(ROWS)).to_have_count(50)

    # Active search: typing narrows the rows after the debounce and pushes the URL.
    page.locator("input[name=q]").press_sequentially("徐家汇", delay=30)
    expect(page.locator(ROWS)).to_have_count(1)
    expect(page.locator(ROWS).first).to_contain_text("上海徐家汇店")
    expect(page).to_have_url(re.compile(r"[?&]q=%E5%BE%90%E5%AE%B6%E6%B1%87"))
    assert codes(page) == ["SH002"]

    page.fill("input[name=q]", "苏州")
    expect(page.locator("#match-count")).to_have_attribute("data-count", "120")

    # Sort by code, descending (second click on the active column).
    page.click("#store-rows a.sort-link[data-sort=code]")
    expect(page).to_have_url(re.compile(r"dir=desc"))
    expect(page.locator(CODE_CELLS).first).to_have_text("SZ120")

    # Next page keeps the search and the sort.
    page.click("#store-rows .pagination .page-item:last-child a")
    expect(page).to_have_url(re.compile(r"page=2"))
    expect(page.locator(CODE_CELLS).first).to_have_text("SZ070")
    assert query(page)["q"] == ["苏州"] and query(page)["dir"] == ["desc"]

    # A status filter starts again at page 1 and keeps search and sort.
    page.select_option("select[name=status]", "suspended")
    expect(page.locator("#match-count")).to_have_attribute("data-count", "12")
    expect(page.locator(ROWS)).to_have_count(12)
    expect(page.locator(f"{ROWS} .badge.bg-yellow-lt")).to_have_count(12)
    assert codes(page)[0] == "SZ120", "the sort was lost when the filter changed"
    q = query(page)
    assert q["status"] == ["suspended"] and q["q"] == ["苏州"] and "page" not in q

    # The pushed URL is a real address: reloading it renders the same list.
    page.reload()
    expect(page.locator("select[name=status]")).to_have_value("suspended")
    expect(page.locator(ROWS)).to_have_count(12)


def test_csv_import_with_a_bad_row_lists_it_and_writes_nothing(page, world, tmp_path):
    csv_text = ("门店编码,门店名称,城市,地址,区域编码,状态\n"
                "NEW001,杭州西湖店,杭州,湖滨路1号,R-SH,营业中\n"
                "NEW002,杭州武林店,杭州,武林路2号,R-NOPE,营业中\n"
                "NEW003,杭州滨江店,杭州,江南大道3号,R-JS,\n")
    before = count(select(Store.id))
    log_in(page, "hq")
    page.goto("/stores/import")
    page.set_input_files("input[type=file][name=file]",
                         files=[{"name": "stores.csv", "mimeType": "text/csv", "buffer": csv_text.encode()}])
    page.click("form[enctype='multipart/form-data'] button[type=submit]")

    errors = page.locator("#import-errors")
    expect(errors).to_be_visible()
    rows = errors.locator("tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first.locator("td").first).to_have_text("3")
    expect(rows.first).to_contain_text("R-NOPE")
    assert urlsplit(page.url).path == "/stores/import"

    assert count(select(Store.id).where(Store.code.like("NEW%"))) == 0
    assert count(select(Store.id)) == before

    # Fixing the row and importing again writes all three.
    page.set_input_files("input[type=file][name=file]",
                         files=[{"name": "stores.csv", "mimeType": "text/csv",
                                 "buffer": csv_text.replace("R-NOPE", "R-SH").encode()}])
    page.click("form[enctype='multipart/form-data'] button[type=submit]")
    page.wait_for_url("**/stores")
    expect(page.locator(".alert-success")).to_contain_text("3")
    assert count(select(Store.id).where(Store.code.like("NEW%"))) == 3


def test_bulk_status_change_of_all_matching_stores(page, world):
    log_in(page, "hq")
    page.goto("/stores?q=苏州")
    expect(page.locator(ROWS)).to_have_count(50)
    bulk_bar = page.locator("[data-bulk-bar]")
    expect(bulk_bar).to_be_hidden()

    page.check("#bulk-form [data-select-all]")
    expect(page.locator("#bulk-form input[name=ids]:checked")).to_have_count(50)
    expect(bulk_bar).to_be_visible()
    expect(page.locator("[data-selected-count]")).to_have_text("(50)")

    page.click("[data-select-matching]")
    expect(page.locator("[data-all-selected]")).to_be_visible()
    expect(page.locator("[data-selected-count]")).to_have_text(re.compile(r"\(120\)"))

    # No action is preselected: Apply waits for one.
    apply = page.locator("#bulk-form [data-bulk-apply]")
    expect(apply).to_be_disabled()
    expect(page.locator("#bulk-form [data-bulk-menu]")).to_have_text("批量操作…")
    page.click("#bulk-form [data-bulk-menu]")
    page.click("#bulk-form [data-bulk-choose=closed]")
    expect(apply).to_have_attribute("data-confirm", re.compile(r"^关闭 120 家门店？"))
    page.click("#bulk-form [data-bulk-menu]")
    page.click("#bulk-form [data-bulk-choose=suspended]")
    expect(page.locator("#bulk-form [data-bulk-menu]")).to_have_text("暂停营业")
    # Choosing an action is not a filter change: the list must not reload and drop the selection.
    expect(page.locator("[data-all-selected]")).to_be_visible()
    expect(page.locator("#bulk-form input[name=ids]:checked")).to_have_count(50)
    expect(apply).to_be_enabled()
    # The confirmation names the action, the count and the consequence.
    said = "暂停营业 120 家门店？暂停后顾客无法在小程序下单，恢复营业后才能下单。"
    expect(apply).to_have_attribute("data-confirm", said)
    page.click("#bulk-form button[type=submit]")
    expect(page.locator("#confirm-dialog")).to_contain_text(said)
    accept_confirm(page)
    page.wait_for_load_state()

    expect(page.locator(".alert-success")).to_contain_text("108")   # 12 were already suspended
    expect(page.locator(f"{ROWS} .badge.bg-yellow-lt")).to_have_count(50)
    assert query(page)["q"] == ["苏州"]
    assert count(select(Store.id).where(Store.city == "苏州", Store.status == "suspended")) == 120
    # Stores outside the filter kept their status.
    assert count(select(Store.id).where(Store.city != "苏州", Store.status != "active")) == 0


def test_store_owner_gets_a_phone_home_and_cannot_reach_other_stores(phone_page, world):
    page = phone_page
    log_in(page, "owner1")
    expect(page.locator(".page-title")).to_have_text("上海南京路店")
    expect(page.locator("body")).to_contain_text("SH001")
    assert no_horizontal_scroll(page)
    # The staff navigation is not offered to a store owner.
    assert page.locator("a[href='/stores']").count() == 0

    own = page.goto(f"/stores/{world.stores['sh1'].id}")
    assert own.status == 200

    other = page.goto(f"/stores/{world.stores['gd1'].id}")
    assert other.status == 404
    expect(page.locator(".empty-header")).to_have_text("404")
    expect(page.locator("body")).not_to_contain_text("广州天河店")
    assert no_horizontal_scroll(page)

    listing = page.goto("/stores")
    assert listing.status == 403
    expect(page.locator(".empty-header")).to_have_text("403")
    expect(page.locator("body")).not_to_contain_text("SH002")


def test_language_switch_to_english_and_back(page, world):
    log_in(page, "hq")
    html = page.locator("html")
    expect(html).to_have_attribute("lang", "zh-CN")

    page.click(".lang-switch button[value=en] >> visible=true")
    expect(html).to_have_attribute("lang", "en")
    expect(page.locator(".page-title")).to_have_text("Overview")
    page.goto("/stores")                       # the choice sticks across pages
    expect(html).to_have_attribute("lang", "en")

    page.click(".lang-switch button[value=zh_Hans_CN] >> visible=true")
    expect(html).to_have_attribute("lang", "zh-CN")
    assert urlsplit(page.url).path == "/stores"      # back where we were
    page.goto("/")
    expect(html).to_have_attribute("lang", "zh-CN")
