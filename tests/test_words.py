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
