"""Stored messages: a key and its parameters are stored, the text is made when it is shown.

A message written for many readers (a notice to thousands of stores, a push error) is stored as
``code`` + JSON ``params`` and rendered in the reader's language by ``render_message``. Amounts
travel as fen under a name ending in ``_fen`` and are formatted at display time: the template
names them without the suffix (``price_fen`` → ``%(price)s`` shows "¥12.00").
"""
from __future__ import annotations

from collections.abc import Mapping

from portal.kernel.money import format_yuan


def render_message(code: str, params: Mapping | None, catalog: Mapping) -> str:
    """The text of message ``code`` in the current locale, from ``catalog`` (code → lazy_gettext
    template). An unknown code, or parameters that do not fit its template, show the code itself
    rather than fail the page."""
    template = catalog.get(code)
    if template is None:
        return code
    values = {}
    for key, value in (params or {}).items():
        values[key] = value
        if key.endswith("_fen") and (value is None or isinstance(value, int)):
            values[key[:-4]] = format_yuan(value)
    try:
        return str(template) % values
    except (KeyError, TypeError, ValueError):
        return code
