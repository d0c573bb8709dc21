"""Text matched whole.

Python's ``$`` also matches before a trailing newline, so ``re.match(r"^[a-z]+$", "alice\\n")``
succeeds and "alice\\n" slips through as a second "alice". Every pattern that checks an
identifier (a store code, a SKU code, a member id sent by a mini-program) is compiled by
``whole()``: anchored with ``\\A`` … ``\\Z``, so ``.match()`` — including WTForms' ``Regexp`` —
accepts only the entire text.
"""
from __future__ import annotations

import re

_ANCHORS = re.compile(r"^\^|(?<!\\)\$$")


def whole(pattern: str | re.Pattern, flags: int = 0) -> re.Pattern:
    """``pattern`` (with or without ``^``/``$``) compiled to match only the whole text."""
    if isinstance(pattern, re.Pattern):
        pattern, flags = pattern.pattern, pattern.flags | flags
    body = pattern
    if body.startswith(r"\A") and body.endswith(r"\Z"):
        body = body[2:-2]
    else:
        body = _ANCHORS.sub("", body)
    return re.compile(rf"\A(?:{body})\Z", flags)

