"""One conditional-request helper for the API's reads, on Werkzeug's ETag support.

A read names a cheap *version* of what it would send (a few indexed aggregates, no page of
rows), and a function that builds the body. The ETag is a hash of the version, so a client
that already holds it gets a 304 without the body ever being built::

    return conditional(("goods-v1", store.id, shelf.goods_version(store.id), page), lambda: body)

Anything the body shows must move the version, or a client keeps a stale copy: each domain
service that gives a version says what it covers.
"""
from __future__ import annotations

import hashlib
from collections.abc import Callable

from flask import current_app, jsonify, request


def etag_of(version) -> str:
    return hashlib.sha256(repr(version).encode("utf-8")).hexdigest()[:32]


def conditional(version, body: Callable[[], object]):
    """200 with ``body()`` and an ETag, or 304 when the request's ``If-None-Match`` holds it."""
    etag = etag_of(version)
    if request.if_none_match.contains_weak(etag):
        response = current_app.response_class(status=304)
    else:
        response = jsonify(body())
    response.set_etag(etag)
    response.cache_control.no_cache = True        # always revalidate: the 304 is cheap
    response.vary.add("Authorization")
    return response.make_conditional(request)
