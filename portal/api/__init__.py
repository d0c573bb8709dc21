"""The mini-program API: every ``/api/v1`` endpoint, on flask-smorest.

The layer is the top domain (kernel ← org ← audit/targets ← pushes ← decoration/catalog/
campaigns ← **api** ← the app): it parses, authenticates, calls the domains' services and
serialises; no rule lives here and no domain imports it.

- ``spec``: the ``Api`` (the OpenAPI document) and ``ApiBlueprint`` (request parsing, auth).
- ``auth``: the one authentication, the store's key (``current_store()`` in a view).
- ``errors``: ``ApiError`` and the one error shape, ``{"error": {"code", "message", "field"}}``.
- ``conditional``: the one ETag helper (a cheap version first, the body only on a miss).
- ``pages``, ``goods``, ``campaigns``: one module (one blueprint, one tag) per resource.
- ``docs``: ``/api/v1/openapi.json`` and its page ``/api/v1/docs``.
- ``keys`` / ``services`` / ``models``: the store's API keys and the admin pages that issue them.

Where the next endpoints go. The signed, idempotent ingestion endpoint (a mini-program POSTs a
batch of member and order events and gets one answer per event) is ``api/events.py``: an
``ApiBlueprint`` (so the store's key is checked first), a request schema for the batch whose
events are a ``OneOfSchema``-style list by ``type``, a signature check (HMAC of the raw body
with the key's secret, a timestamp window) as a second step in ``auth``, idempotency by a
unique (store, event id) key in the members/orders domain's table, and a 207-style body
``{"results": [{"id", "status": "stored" | "duplicate" | "refused", "error": {...}}]}`` whose
per-event error has the same shape as any API error. Its rules (binding, commissions) stay in
the members and orders services; its blueprint joins the tuple in ``init_app``.
"""
from __future__ import annotations


def init_app(app) -> None:
    """The Api and its blueprints, and the keys' admin pages."""
    from portal.api import campaigns, docs, events, goods, keys, pages
    from portal.api.spec import Api
    from portal.extensions import csrf

    api = Api(app)
    for bp in (pages.bp, goods.bp, campaigns.bp, events.bp):      # every ApiBlueprint
        csrf.exempt(bp)            # the key is the credential, not a session cookie
        api.register_blueprint(bp)
    events.document_types(api)     # every registered event type, with its data schema
    app.register_blueprint(docs.bp)
    app.register_blueprint(keys.bp)
