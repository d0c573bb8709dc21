"""Strict JSON bodies: nesting up to MAX_DEPTH is taken, deeper is refused (never a 500)."""
from __future__ import annotations

import pytest

from portal.kernel.jsonbody import MAX_DEPTH, BodyError, loads


def test_nesting_up_to_the_limit_is_taken_and_deeper_is_refused():
    assert loads("[" * MAX_DEPTH + "]" * MAX_DEPTH) is not None
    assert loads('{"events": [{"data": {"lines": [{"q": 1}]}}], "n": 1}')["n"] == 1
    for deep in ("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1), '{"a":' * 40 + "1" + "}" * 40,
                 "[" * 100_000 + "]" * 100_000):
        with pytest.raises(BodyError, match="nests more than"):
            loads(deep)


def test_scalars_and_bad_json_are_told_apart():
    assert loads("7") == 7 and loads('"x"') == "x"
    with pytest.raises(BodyError):
        loads("NaN")
    with pytest.raises(BodyError):
        loads("[1,")
