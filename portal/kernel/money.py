"""Money and quantities: one representation, one ceiling, for every form, import and API.

Money is stored and computed as integer fen (1/100 yuan): ``Fen``. Text typed by people or sent
by mini-programs becomes fen only through ``parse_yuan``, which refuses what is not an amount
(``NaN``, ``Infinity``, ``1e17``, three decimals, negatives) with a message for the field.
Fen leaves the portal in two shapes only: ``yuan_text`` (plain "1234.50", for a form's initial
value, a CSV cell or the API) and ``format_yuan`` (Babel's CNY currency format in the reader's
locale: "¥1,234.50" in Chinese, "CN¥1,234.50" in English), which templates reach as ``|yuan``.
"""
from __future__ import annotations

import re
import unicodedata
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import TypeAlias

from flask_babel import format_currency, format_decimal, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

#: An amount of money in fen (1/100 yuan): every price, floor, ceiling and ``*_fen`` parameter.
Fen: TypeAlias = int
CURRENCY = "CNY"

#: The largest amount anything in the portal may hold: ¥10,000,000.00 (fits a 32-bit column).
MAX_FEN = 1_000_000_000
#: The largest count of anything (stock, budget, quantity): 100 million.
MAX_QUANTITY = 100_000_000

NOT_MONEY = _l("Not an amount of money. Enter an amount such as 12 or 12.50.")
TOO_MANY_DECIMALS = _l("At most two decimals.")
TOO_LARGE = _l("At most ¥10,000,000.")
NOT_A_QUANTITY = _l("Enter a whole number.")
QUANTITY_TOO_LARGE = _l("At most 100,000,000.")


# Digits, at most one point: no exponent ("1e17"), no "NaN"/"Infinity", no "1_000", no sign.
_AMOUNT = re.compile(r"\A(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)\Z")
_COUNT = re.compile(r"\A[0-9]+\Z")


def _typed(text) -> str:
    """What was typed, as ASCII where the phone's IME gave full-width forms (１２．５ → 12.5)."""
    return unicodedata.normalize("NFKC", str(text)).strip()


class MoneyError(ValueError):
    """Text that is not an amount the portal accepts; ``str()`` is the message for the field."""


def parse_yuan(text, *, max_fen: int = MAX_FEN) -> int:
    """Yuan as typed ("12", "12.5", "¥12.50", "1,234.00") or sent as a JSON number → fen."""
    if isinstance(text, bool):
        raise MoneyError(str(NOT_MONEY))
    if isinstance(text, float) and text != text:   # NaN from a JSON body
        raise MoneyError(str(NOT_MONEY))
    raw = _typed(text).replace(",", "").lstrip("¥").strip()
    if not _AMOUNT.match(raw):
        raise MoneyError(str(NOT_MONEY))
    if len(raw) > 32:
        raise MoneyError(str(TOO_LARGE))
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise MoneyError(str(NOT_MONEY)) from None
    if not value.is_finite() or value < 0:
        raise MoneyError(str(NOT_MONEY))
    if value > Decimal(max_fen) / 100:
        raise MoneyError(str(TOO_LARGE))
    if value != value.quantize(Decimal("0.01")):
        raise MoneyError(str(TOO_MANY_DECIMALS))
    return int((value * 100).to_integral_value(ROUND_HALF_UP))


def parse_quantity(text, *, max_value: int = MAX_QUANTITY) -> int:
    """A whole, non-negative count ("12", 12) → int, at most ``max_value``."""
    if isinstance(text, bool):
        raise MoneyError(str(NOT_A_QUANTITY))
    if isinstance(text, int):
        value = text
    else:
        raw = _typed(text).replace(",", "")
        if not _COUNT.match(raw):
            raise MoneyError(str(NOT_A_QUANTITY))
        if len(raw) > 12:
            raise MoneyError(str(QUANTITY_TOO_LARGE))
        value = int(raw)
    if value < 0:
        raise MoneyError(str(NOT_A_QUANTITY))
    if value > max_value:
        raise MoneyError(str(QUANTITY_TOO_LARGE))
    return value


def yuan_text(fen: Fen | None) -> str:
    """Fen as plain yuan for a form field, CSV cell or API value: 1250 → "12.50"."""
    return "" if fen is None else f"{Decimal(fen) / 100:.2f}"


def format_yuan(fen: Fen | None) -> str:
    """Fen for people to read, in the request's locale: 123456 → "¥1,234.56" (zh), "CN¥1,234.56" (en)."""
    if fen is None:
        return "—"
    return format_currency(Decimal(fen) / 100, CURRENCY)


def discount_text(percent_off) -> str:
    """A percentage discount as its readers count it: Chinese shoppers count what they pay, in
    tenths ("打 8.5 折" for 15 % off), English readers what they save ("15% off")."""
    if percent_off is None or percent_off == "":
        return "—"
    percent_off = Decimal(str(percent_off))
    if get_locale() is not None and get_locale().language == "zh":
        return _("Pay %(tenths)s tenths of the price", tenths=format_decimal((100 - percent_off) / 10))
    return _("%(percent)s%% off", percent=format_decimal(percent_off))


def init_app(app) -> None:
    """Templates format money with ``|yuan`` (for reading) and ``|yuan_text`` (an input's value),
    a percentage discount with ``|discount`` ("打 8.5 折")."""
    app.jinja_env.filters["yuan"] = format_yuan
    app.jinja_env.filters["yuan_text"] = yuan_text
    app.jinja_env.filters["discount"] = discount_text
