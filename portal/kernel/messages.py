"""Messages stored as a key with parameters and translated when shown, in the reader's language.

A domain defines its keys once (``define({"push.cancelled": _l("Cancelled by %(name)s")})``) and
stores only the key and its parameters; ``render(key, params)`` gives the text. A key nobody
defined is shown as it is (rows written before keys existed hold plain text there)."""
from __future__ import annotations

TEXTS: dict = {}


def define(texts: dict) -> None:
    TEXTS.update(texts)


def render(key: str | None, params: dict | None = None) -> str:
    if not key:
        return ""
    text = TEXTS.get(key)
    if text is None:
        return key
    try:
        return str(text) % (params or {})
    except (KeyError, TypeError, ValueError):
        return str(text)
