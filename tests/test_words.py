"""Words and numbers (issue 9, point 11): compact summary figures, English plurals, the
product's terms in Chinese."""
from __future__ import annotations

from flask_babel import force_locale

from portal.web import compact_number


def test_summary_figures_use_wan_in_chinese_and_k_in_english(app):
    with app.test_request_context():
        with force_locale("zh_Hans_CN"):
            assert compact_number(12_345) == "1.2万"
            assert compact_number(123_456_789) == "1.2亿"
            assert compact_number(9_876) == "9,876"          # exact below ten thousand
            assert compact_number(None) == "—"
        with force_locale("en"):
            assert compact_number(12_345) == "12.3K"
            assert compact_number(1_234_567) == "1.2M"
            assert compact_number(950) == "950"


def test_the_overview_cards_carry_the_exact_figure_as_a_title(login_as, org):
    html = login_as("hq").get("/").get_data(as_text=True)
    assert 'data-stat="total" title="5">5<' in html
    assert 'data-stat="active" title="5">5<' in html


def test_count_messages_read_right_in_english_for_one_and_two(app):
    """ngettext everywhere a count is printed: "1 store", "2 stores" (and one Chinese form)."""
    from flask import render_template_string
    from flask_babel import ngettext

    page = ("{{ ngettext('%(num)s store', '%(num)s stores', n, num=n|num) }}|"
            "{{ ngettext('Reaches %(num)s store', 'Reaches %(num)s stores', n, num=n|num) }}|"
            "{{ ngettext('%(num)s campaign', '%(num)s campaigns', n, num=n|num) }}")
    with app.test_request_context():
        with force_locale("en"):
            assert render_template_string(page, n=1) == "1 store|Reaches 1 store|1 campaign"
            assert render_template_string(page, n=2) == "2 stores|Reaches 2 stores|2 campaigns"
            assert render_template_string(page, n=12345).startswith("12,345 stores|")
            assert ngettext("Stopped in %(num)s store.", "Stopped in %(num)s stores.", 1) == "Stopped in 1 store."
            assert ngettext("Stopped in %(num)s store.", "Stopped in %(num)s stores.", 2) == "Stopped in 2 stores."
        with force_locale("zh_Hans_CN"):
            assert render_template_string(page, n=1) == "1 家门店|覆盖1家门店|共 1 个营销活动"
            assert render_template_string(page, n=2) == "2 家门店|覆盖2家门店|共 2 个营销活动"


def test_pages_print_counts_in_english_for_one_and_two(en, org, db):
    """On real pages: the campaign's participants, the audit log's entries, the store tree."""
    from portal.targets.services import TargetSpec
    from tests.campaigns.helpers import make_campaign, push

    hq = org.users["hq"]
    one = make_campaign(hq, name="一家")
    push(hq, one, TargetSpec(store_codes=["SH001"]))
    two = make_campaign(hq, name="两家")
    push(hq, two, TargetSpec(store_codes=["SH001", "SH002"]))
    client = en("hq")
    assert ">1 store</span>" in client.get(f"/campaigns/{one.id}").get_data(as_text=True)
    assert ">2 stores</span>" in client.get(f"/campaigns/{two.id}").get_data(as_text=True)
    assert ">2 campaigns</span>" in client.get("/campaigns").get_data(as_text=True)
    stopped = client.post(f"/campaigns/{one.id}/stop", data={"all": "1"}, follow_redirects=True)
    assert "Stopped in 1 store." in stopped.get_data(as_text=True)


def test_a_percentage_discount_reads_in_tenths_in_chinese(app):
    from portal.kernel.money import discount_text

    with app.test_request_context():
        with force_locale("zh_Hans_CN"):
            assert discount_text(15) == "打 8.5 折"
            assert discount_text(20) == "打 8 折"
            assert discount_text(1) == "打 9.9 折"
        with force_locale("en"):
            assert discount_text(15) == "15% off"


def test_the_campaign_page_shows_the_discount_and_not_started(login_as, org, db):
    from tests.campaigns.helpers import make_campaign

    rules = {"discount": "percent", "amount_fen": None, "percent": 15, "threshold_fen": 0, "per_member": 1,
             "budget": 20}
    c = make_campaign(org.users["hq"], name="全场85折", rules=rules, start=1, end=3)
    html = login_as("hq").get(f"/campaigns/{c.id}").get_data(as_text=True)
    assert 'data-rule="percent">打 8.5 折<' in html
    assert 'data-state="scheduled">未开始<' in html


def test_times_are_local_never_iso(login_as, org, db):
    """A flash sale's window reads "2031-03-05 10:00" (the time typed, in the portal's zone), and
    datetime inputs say which zone they take."""
    from tests.campaigns.test_rules import BASE, GOOD
    from tests.factories import make_product

    make_product(org.nodes["hq"], "SKU", skus=2, list_price=2990, floor=1000, ceiling=5000)
    db.session.commit()
    client = login_as("hq")
    form = client.get("/campaigns/new/flash_sale").get_data(as_text=True)
    assert "时间均为中国时间。" in form
    data = {**BASE, **{f"rules-{k}": v for k, v in GOOD["flash_sale"].items()}}
    r = client.post("/campaigns/new/flash_sale", data=data)
    assert r.status_code == 302, r.get_data(as_text=True)[:2000]
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert 'data-rule="sale_starts">2031-03-05 10:00<' in page
    assert "2031-03-05T" not in page and "2031-03-01T" not in page
    assert "2031-03-01 10:00 – 2031-03-31 22:00" in page


def test_the_chinese_catalog_speaks_the_products_words():
    """您 (never 你), 组织 (never 节点), 总部供货 (直营 is a company-owned store's tag, never goods),
    家门店 for store counts."""
    from tests.test_i18n import _read_po, _strings

    wrong = []
    for m in _read_po():
        if not m.id:
            continue
        for s in _strings(m):
            for bad in ("你", "节点", "直营", "个门店"):
                if bad in s:
                    wrong.append(f"{bad}: {s}")
    assert not wrong, "\n".join(wrong)
