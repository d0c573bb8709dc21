"""One authentication for every /api/v1 endpoint: the store's API key, sent as a Bearer token.

Every ``ApiBlueprint`` runs ``authenticate_request`` before its views (before the body is even
parsed), so no endpoint can forget it; a view reads the result with ``current_store()``. It
answers 401 for a missing, unknown or revoked key, 403 (``store_closed`` / ``store_suspended``)
for a store that may not make this call, and 404 when the key's store is not the store the URL
names (exactly as for a store that does not exist). No session, no CSRF: the key is the only
credential.
"""
from __future__ import annotations

from flask import g, request

from portal.api import services
from portal.api.errors import ApiError, not_found, unauthorized
from portal.org.models import Store

SCHEME = "storeKey"
SECURITY_SCHEME = {
    "type": "http", "scheme": "bearer",
    "description": "The store's API key (fp_<prefix>_<secret>), issued on the store's page in the portal.",
}


def bearer_token() -> str | None:
    scheme, _sep, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def authenticated_store() -> Store:
    """The store of the request's key, or ApiError (401, or 403 for a closed or suspended store)."""
    token = bearer_token()
    if token is None:
        raise unauthorized("Send the store's API key as 'Authorization: Bearer <key>'.")
    try:
        store = services.authenticate(token)
    except services.StoreRefused as exc:
        raise ApiError(exc.status, exc.message, code=exc.code) from None
    if store is None:
        raise unauthorized("The API key is not valid or has been revoked.")
    return store


def store_for(code: str) -> Store:
    """The store the URL names, if the request's key is that store's."""
    store = authenticated_store()
    if store.code != code:
        raise not_found()
    return store


def authenticate_request() -> None:
    """Before every API view: the key's store, checked against the URL's ``<code>`` if it has one."""
    if request.method == "OPTIONS":
        return          # Flask's automatic OPTIONS answer (the allowed methods) needs no key, as before
    code = (request.view_args or {}).get("code")
    g.api_store = store_for(code) if code is not None else authenticated_store()


def current_store() -> Store:
    return g.api_store
