"""One authentication for every /api/v1 endpoint: the store's API key, sent as a Bearer token.

Every ``ApiBlueprint`` runs ``authenticate_request`` before its views (before the body is even
parsed), so no endpoint can forget it; a view reads the result with ``current_store()``. It
answers 401 for a missing, unknown or revoked key, 403 (``store_closed`` / ``store_suspended``)
for a store that may not make this call, and 404 when the key's store is not the store the URL
names (exactly as for a store that does not exist). No session, no CSRF: the key is the only
credential.

Writes of the ingestion API are *signed* instead (``ApiBlueprint(..., signed=True)`` runs
``authenticate_signed_request``): ``X-Portal-Key: <key id>`` and
``X-Portal-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>``, checked
before the body is parsed. The order of the checks, each answered before anything is read that it
does not need:

1. both headers present and well formed, else 401 ``bad_signature``;
2. ``t`` within ``MAX_SKEW`` (300 s) of the server's clock either way, else 401 ``stale_request``;
3. the key id names a working key (one query, with its store), else 401 ``bad_signature``;
4. the body at most ``MAX_BODY`` (512 KB; by Content-Length first, then by what is read), else 413;
5. the signature of the raw body matches (``hmac.compare_digest``), else 401 ``bad_signature``;
6. the key is the store's that the URL names, else **404** exactly as a read with another store's
   key and as a store that does not exist (no hint that the code exists); then the store's status
   (403 ``store_closed`` / ``store_suspended``).

A signature with several ``v1=`` values matches if any does (a client may sign with the old and the
new secret while it rotates). The raw body is kept for the view: ``signed_body()``.
"""
from __future__ import annotations

import hashlib
import hmac
import time

from flask import g, request
from werkzeug.exceptions import RequestEntityTooLarge

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


# --------------------------------------------------------------------------- signed writes

SIGNED_SCHEME = "storeSignature"
SIGNED_SECURITY_SCHEME = {
    "type": "apiKey", "in": "header", "name": "X-Portal-Key",
    "description": "Signed writes: X-Portal-Key: <key id> and X-Portal-Signature: t=<unix seconds>,"
                   "v1=<hex HMAC-SHA256(secret, \"<t>.<raw body>\")>, t within 300 s of the server's clock. "
                   "The key id and secret are issued with the store's API key (shown once).",
}
KEY_HEADER, SIGNATURE_HEADER = "X-Portal-Key", "X-Portal-Signature"
MAX_SKEW = 300                  # seconds between t and the server's clock, either way
MAX_BODY = 512 * 1024           # bytes of a signed body
SIGNATURE_CHALLENGE = 'Portal-Signature realm="store-api"'
_HEX = "0123456789abcdef"


def bad_signature(message: str) -> ApiError:
    return ApiError(401, message, code="bad_signature", headers={"WWW-Authenticate": SIGNATURE_CHALLENGE})


def too_large(message: str | None = None) -> ApiError:
    return ApiError(413, message or f"The body is over {MAX_BODY // 1024} KB: send at most 500 events of "
                                    "at most 512 KB in all per request.", code="too_large")


def parse_signature(header: str) -> tuple[int, list[str]] | None:
    """``(t, [v1 …])`` of ``t=<digits>,v1=<64 hex>[,v1=…]``, or None when malformed."""
    t, sigs = None, []
    for part in header.split(","):
        name, sep, value = part.strip().partition("=")
        if not sep:
            return None
        if name == "t":
            if t is not None or not (value.isdigit() and value.isascii() and len(value) <= 12):
                return None
            t = int(value)
        elif name == "v1":
            value = value.lower()
            if len(value) != 64 or not value.isascii() or value.strip(_HEX):
                return None
            sigs.append(value)
        # other schemes (v2 …) are ignored, so a later version can be sent beside v1
    if t is None or not sigs:
        return None
    return t, sigs


def signature(secret: bytes, t: int | str, body: bytes) -> str:
    """The v1 signature of ``body`` sent at ``t``: hex HMAC-SHA256(secret, "<t>.<raw body>")."""
    return hmac.new(secret, f"{t}.".encode() + body, hashlib.sha256).hexdigest()


def _read_body() -> bytes:
    length = request.content_length
    if length is not None and length > MAX_BODY:
        raise too_large()
    request.max_content_length = MAX_BODY          # a body without Content-Length is cut off too
    try:
        return request.get_data(cache=True)
    except RequestEntityTooLarge:
        raise too_large() from None


def authenticate_signed_request() -> None:
    """Before every signed API view: the key, the clock, the body's size and signature, the store."""
    if request.method == "OPTIONS":
        return
    key_id = request.headers.get(KEY_HEADER, "").strip()
    parsed = parse_signature(request.headers.get(SIGNATURE_HEADER, ""))
    if not key_id or parsed is None:
        raise bad_signature(f"Sign the request: {KEY_HEADER}: <key id> and "
                            f"{SIGNATURE_HEADER}: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, \"<t>.<body>\")>.")
    t, sigs = parsed
    if abs(time.time() - t) > MAX_SKEW:
        raise ApiError(401, f"The signature's time t is more than {MAX_SKEW} seconds from the server's clock: "
                            "check the device's clock and sign again.", code="stale_request",
                       headers={"WWW-Authenticate": SIGNATURE_CHALLENGE})
    found = services.signing_key(key_id)
    if found is None:
        raise bad_signature("The key id is not valid, has expired or has been revoked.")
    secret, store = found
    body = _read_body()
    expected = signature(secret, t, body)
    if not any(hmac.compare_digest(expected, sig) for sig in sigs):
        raise bad_signature("The signature does not match the body: sign the exact bytes sent.")
    if store.code != (request.view_args or {}).get("code"):
        raise not_found()
    try:
        g.api_store = services.allowed_store(store, write=True)
    except services.StoreRefused as exc:
        raise ApiError(exc.status, exc.message, code=exc.code) from None
    g.api_body = body


def signed_body() -> bytes:
    """The raw body the signature was checked against."""
    return g.api_body
