"""The admin pages that issue, rotate and revoke a store's API credentials (HTML, session and
CSRF, like every portal page; the card on the store page is ``templates/api/_keys_card.html``).
Issuing a credential while the store has one is a rotation: the previous one keeps working for
``API_KEY_OVERLAP_HOURS`` beside the new one, then stops.

Keys stay in ``portal.api`` with the endpoints they open: the layer above org and audit, so
issuing a key can write its audit entry, and no domain imports the API."""
from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from portal.api import services
from portal.api.models import StoreApiKey
from portal.extensions import db
from portal.ingest import services as ingest
from portal.org import roles
from portal.org.access import current_scope, roles_required
from portal.org.scope import get_store_or_404

bp = Blueprint("api", __name__)


@bp.route("/stores/<int:store_id>/api-keys", methods=["POST"])
@roles_required(*roles.ADMINS)
def create_key(store_id: int):
    scope = current_scope()
    store = get_store_or_404(scope, store_id)
    cred = services.issue_credential(store, actor=scope.user)
    # The keys are in this response only: not in a flash (the session cookie), not in the database
    # (the read key as a hash, the signing secret encrypted).
    response = Response(render_template("api/key_created.html", store=store, key=cred.row, plain=cred.read_key,
                                        cred=cred, shown=services.display_prefix(cred.row),
                                        overlap_hours=services.overlap().total_seconds() / 3600))
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
        flash(_("API key %(key)s revoked: the mini-programs using it can no longer read the store's page "
                "or report events.", key=services.display_prefix(key)), "success")
    else:
        flash(_("This API key was already revoked."), "info")
    return redirect(url_for("org.view_store", store_id=store.id), 303)


@bp.app_template_global()
def store_api_keys(store) -> list[StoreApiKey]:
    """The store's active keys, for the card on the store page (shown to admins only)."""
    return services.active_keys(store)


FAILED_SHOWN = 20


@bp.app_template_global()
def store_failed_events(store) -> tuple[int, list[dict]]:
    """How many of the store's held events were refused when released, and the latest
    FAILED_SHOWN of them, for the card on the store page (admins): one count on a partial index,
    and a read only when there are some."""
    total = ingest.failed_after_hold_count(store)
    return total, ingest.failed_after_hold(store, limit=FAILED_SHOWN) if total else []


@bp.app_template_global()
def api_key_overlap_hours() -> float:
    """How long a rotated key keeps working beside the new one (API_KEY_OVERLAP_HOURS)."""
    return services.overlap().total_seconds() / 3600
