"""Money is shown through Babel's CNY currency format in the reader's language; inputs stay plain."""
from flask import render_template_string
from flask_babel import force_locale

from portal.kernel.fields import MoneyField
from portal.kernel.messages import define, render
from portal.kernel.money import format_yuan, parse_yuan, yuan_text


def test_format_follows_the_locale(app):
    with app.test_request_context():
        with force_locale("zh_Hans_CN"):
            assert format_yuan(123450) == "¥1,234.50"
            assert render_template_string("{{ 5|yuan }} {{ none|yuan }}") == "¥0.05 —"
        with force_locale("en"):
            assert format_yuan(123450) == "CN¥1,234.50"
            assert render_template_string("{{ 100000000000|yuan }}") == "CN¥1,000,000,000.00"


def test_stored_message_amounts_use_the_reader_locale(app):
    define({"test.money": "now %(price)s"})
    with app.test_request_context():
        with force_locale("en"):
            assert render("test.money", {"price_fen": 1200}) == "now CN¥12.00"
        with force_locale("zh_Hans_CN"):
            assert render("test.money", {"price_fen": 1200}) == "now ¥12.00"


def test_inputs_stay_plain(app):
    from flask_wtf import FlaskForm

    class PriceForm(FlaskForm):
        price = MoneyField("price")

    with app.test_request_context(), force_locale("en"):
        form = PriceForm(data={"price": 123450}, meta={"csrf": False})
        assert form.price._value() == "1234.50"
        assert 'value="1234.50"' in str(form.price())
        assert render_template_string("{{ 123450|yuan_text }}") == "1234.50"
    assert yuan_text(123450) == "1234.50"
    assert parse_yuan("¥1,234.50") == parse_yuan("1234.5") == 123450
