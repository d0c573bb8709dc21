"""The mini-program API: every ``/api/v1`` endpoint, on flask-smorest.

The layer is the top domain (kernel ← org ← audit/targets ← pushes ← decoration/catalog/
campaigns ← **api** ← the app): it parses, authenticates, calls the domains' services and
serialises; no rule lives here and no domain imports it.

- ``spec``: the ``Api`` (the OpenAPI document) and ``ApiBlueprint`` (request parsing, auth).
- ``auth``: the one authentication, the store's key (``current_store()`` in a view).
- ``errors``: ``ApiError`` and the one error shape, ``{"error": {"code", "message", "field"}}``.
- ``conditional``: the one ETag helper (a cheap version first, the body only on a miss).
- ``pages``, ``goods``, ``campaigns``, ``live``, ``events``: one module (one blueprint, one tag) per resource.
- ``docs``: ``/api/v1/openapi.json`` and its page ``/api/v1/docs``.
- ``keys`` / ``services`` / ``models``: the store's API keys and the admin pages that issue them.

The signed, idempotent ingestion endpoint is ``events`` (``POST /api/v1/stores/<code>/events``):
an ``ApiBlueprint(signed=True)``, so the signature (``auth.authenticate_signed_request``) is
checked before the body is parsed; idempotency, validation and dispatch to the domains' handlers
are ``portal.ingest``'s. See docs/api.md.
"""
from __future__ import annotations


def init_app(app) -> None:
    """The Api and its blueprints, and the keys' admin pages."""
    from portal.api import campaigns, docs, events, goods, keys, live, pages
    from portal.api.spec import Api
    from portal.extensions import csrf

    api = Api(app)
    for bp in (pages.bp, goods.bp, campaigns.bp, live.bp, events.bp):      # every ApiBlueprint
        csrf.exempt(bp)            # the key is the credential, not a session cookie
        api.register_blueprint(bp)
    events.document_types(api)     # every registered event type, with its data schema
    app.register_blueprint(docs.bp)
    app.register_blueprint(keys.bp)
