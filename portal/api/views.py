"""The mini-program read API, and the admin pages that issue and revoke its keys.

``GET /api/v1/stores/<code>/page`` is called on every mini-program launch, so it is built to be
cheap: one indexed query checks the key (and loads its store), one more reads the page's
fingerprint, and a client that already has the page gets a 304 without any block JSON being
read. It does not use the login session or CSRF: the ``Authorization: Bearer`` key is the
only credential it accepts, and its errors are JSON.
"""
from __future__ import annotations

import hashlib

from flask import Blueprint, Response, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from portal.api import services
from portal.api.models import StoreApiKey
from portal.decoration.services import effective_page, page_fingerprint
from portal.extensions import csrf, db
from portal.org import roles
from portal.org.scope import get_store_or_404
from portal.org.access import current_scope, roles_required

bp = Blueprint("api", __name__)

# Part of every ETag: bump it when the JSON the API returns changes shape.
PAGE_FORMAT = "page-v1"


# --------------------------------------------------------------------------- the read API

def _unauthorized(message: str) -> Response:
    response = jsonify(error={"code": 401, "message": message})
    response.status_code = 401
    response.headers["WWW-Authenticate"] = 'Bearer realm="store-api"'
    return response


@bp.app_errorhandler(services.StoreRefused)
def _store_refused(exc: services.StoreRefused) -> Response:
    """Every API view authenticates through services.authenticate, which raises this for a
    closed store (any call) or a suspended one (writes)."""
    response = jsonify(error={"code": exc.code, "message": exc.message})
    response.status_code = exc.status
    return response


def _bearer() -> str | None:
    scheme, _sep, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def _etag(store, fingerprint: tuple | None) -> str:
    # The store's own row (name, code) is in the JSON too, so its updated_at is part of the tag.
    parts = (PAGE_FORMAT, store.id, store.code, store.updated_at, *(fingerprint or ("no page",)))
    return hashlib.sha256("|".join(map(str, parts)).encode("utf-8")).hexdigest()[:32]


@bp.route("/api/v1/stores/<code>/page")
@csrf.exempt
def store_page(code: str):
    token = _bearer()
    if token is None:
        return _unauthorized("Send the store's API key as 'Authorization: Bearer <key>'.")
    store = services.authenticate(token)
    if store is None:
        return _unauthorized("The API key is not valid or has been revoked.")
    if store.code != code:
        abort(404)      # another store's code: the same answer as a store that does not exist
    etag = _etag(store, page_fingerprint(store.id))
    if request.if_none_match.contains_weak(etag):
        response = Response(status=304)
    else:
        response = jsonify(effective_page(store).to_json())
    response.set_etag(etag)
    response.cache_control.no_cache = True
    response.vary.add("Authorization")
    return response


# --------------------------------------------------------------------------- keys (admins)

@bp.route("/stores/<int:store_id>/api-keys", methods=["POST"])
@roles_required(*roles.ADMINS)
def create_key(store_id: int):
    scope = current_scope()
    store = get_store_or_404(scope, store_id)
    key, plain = services.issue_key(store, actor=scope.user)
    # The key is in this response only: not in a flash (the session cookie), not in the database.
    response = Response(render_template("api/key_created.html", store=store, key=key, plain=plain,
                                        shown=services.display_prefix(key)))
    response.cache_control.no_store = True
    return response


@bp.route("/stores/<int:store_id>/api-keys/<int:key_id>/revoke", methods=["POST"])
@roles_required(*roles.ADMINS)
def revoke_key(store_id: int, key_id: int):
    scope = current_scope()
    store = get_store_or_404(scope, store_id)
    key = db.session.scalar(select(StoreApiKey).where(StoreApiKey.id == key_id, StoreApiKey.store_id == store.id))
    if key is None:
        abort(404)
    if services.revoke_key(scope, store, key, actor=scope.user):
        flash(_("API key %(key)s revoked: the mini-programs using it can no longer read the store's page.",
                key=services.display_prefix(key)), "success")
    else:
        flash(_("This API key was already revoked."), "info")
    return redirect(url_for("org.view_store", store_id=store.id), 303)


@bp.app_template_global()
def store_api_keys(store) -> list[StoreApiKey]:
    """The store's active keys, for the card on the store page (shown to admins only)."""
    return services.active_keys(store)
