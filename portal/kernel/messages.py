"""Stored messages: a key and its parameters are stored, the text is made when it is shown.

A message written for many readers (a notice to thousands of stores, a push error) is stored as
a key + JSON parameters and rendered in the reader's language. A domain defines its keys once
(``define({"push.cancelled": _l("Cancelled by %(name)s")})``); ``render(key, params)`` gives
the text. Amounts travel as fen under a name ending in ``_fen`` and are formatted at display
time: the template names them without the suffix (``price_fen`` → ``%(price)s`` shows "¥12.00").
A key nobody defined is shown as it is (rows written before keys existed hold plain text there).
"""
from __future__ import annotations

from collections.abc import Mapping

from portal.kernel.money import format_yuan

TEXTS: dict = {}


def define(texts: Mapping) -> None:
    TEXTS.update(texts)


def render(key: str | None, params: Mapping | None = None) -> str:
    if not key:
        return ""
    template = TEXTS.get(key)
    if template is None:
        return key
    values = {}
    for name, value in (params or {}).items():
        values[name] = value
        if name.endswith("_fen") and (value is None or isinstance(value, int)):
            values[name[:-4]] = format_yuan(value)
    try:
        return str(template) % values
    except (KeyError, TypeError, ValueError):
        return str(template)
