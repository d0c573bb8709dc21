"""JSON request bodies, parsed strictly.

Python's ``json`` accepts ``NaN`` and ``Infinity`` (not JSON), turns ``1e999`` into an infinite
float, and raises ``RecursionError`` (not ``ValueError``) on ``[[[[…`` nested 100,000 deep —
which Flask's ``get_json(silent=True)`` does not catch, so such a body answered 500.
``loads`` refuses all of these with a ``BodyError``; ``json_object`` reads a request's body as
one JSON object or raises ``BodyError`` whose message says what is wrong with it. The app's
JSON provider uses ``loads`` too, so ``request.get_json()`` anywhere answers 400, never 500.
"""
from __future__ import annotations

import json
import math
from typing import Any

from flask.json.provider import DefaultJSONProvider

#: Deeper than any body a mini-program sends; deep enough for every real one.
MAX_DEPTH = 32


class BodyError(ValueError):
    """A request body that is not the JSON the endpoint takes; ``str()`` says why."""


def _constant(name: str):
    raise BodyError(f"{name} is not a JSON value.")


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise BodyError(f"The number {text[:20]} is too large.")
    return value


def _depth(value: Any) -> int:
    """How deep ``value`` nests (a scalar 0, ``[]`` 1), or the first depth past MAX_DEPTH met.
    Only containers are stacked: a 500-event body has ten times more scalars than containers."""
    if not isinstance(value, (list, dict)):
        return 0
    deepest, stack = 0, [(value, 1)]
    pop, push = stack.pop, stack.append
    while stack:
        item, depth = pop()
        if depth > MAX_DEPTH:
            return depth
        if depth > deepest:
            deepest = depth
        for v in (item.values() if isinstance(item, dict) else item):
            if isinstance(v, (list, dict)):
                push((v, depth + 1))
    return deepest


def loads(data: str | bytes, **kwargs) -> Any:
    if isinstance(data, (bytes, bytearray)):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise BodyError("The body is not UTF-8 text.") from None
    kwargs.setdefault("parse_constant", _constant)
    kwargs.setdefault("parse_float", _float)
    try:
        value = json.loads(data, **kwargs)
    except RecursionError:
        raise BodyError(f"The JSON nests more than {MAX_DEPTH} levels deep.") from None
    except BodyError:
        raise
    except ValueError as exc:
        raise BodyError(f"The body is not valid JSON: {exc}") from None
    if _depth(value) > MAX_DEPTH:
        raise BodyError(f"The JSON nests more than {MAX_DEPTH} levels deep.")
    return value


def json_object(request) -> dict:
    """The request's body as a JSON object, or BodyError saying what it is instead."""
    if not request.is_json:
        raise BodyError("Send a JSON object with 'Content-Type: application/json'.")
    value = loads(request.get_data(cache=True))
    if not isinstance(value, dict):
        raise BodyError("The body must be a JSON object, like {\"member\": \"<union id>\"}.")
    return value


class StrictJSONProvider(DefaultJSONProvider):
    """The app's JSON provider: responses as before, request bodies parsed by ``loads``."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return loads(s, **kwargs)
