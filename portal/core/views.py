"""Home page per role, language switch, health check."""
from __future__ import annotations

import time

from flask import Blueprint, current_app, jsonify, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, select, text

from portal.audit.labels import SIGN_INS
from portal.audit.services import query_entries
from portal.extensions import db
from portal.i18n import LANG_COOKIE
from portal.org import roles
from portal.org.access import current_scope, roles_required
from portal.org.models import OrgNode, Store
from portal.org.services import build_tree, status_by_city
from portal.web import NavEntry

bp = Blueprint("core", __name__)
# Its sections of the navigation (assembled by the app factory, see portal.web.NavEntry).
NAV = (
    NavEntry("core.index", _l("Overview"), "home", roles.ALL, order=10,
             pages=frozenset({"core.index"})),
)


@bp.route("/")
@roles_required(*roles.ALL)
def index():
    scope = current_scope()
    if scope.store_id is not None:
        store = db.session.get(Store, scope.store_id)
        return render_template("core/store_home.html", store=store)
    tree = build_tree(scope)
    counts = tree.by_status
    # Break the stores down by the next level of the tree, or by city for a single region.
    breakdown = [(c.node.name, c.by_status, url_for("org.list_stores", node=c.node.id)) for c in tree.children]
    if not breakdown:
        breakdown = [(city, by, url_for("org.list_stores", q=city)) for city, by in status_by_city(scope)]
    regions = db.session.scalar(select(func.count()).where(scope.nodes(), OrgNode.kind == roles.REGION))
    recent = []
    if scope.role in roles.ADMINS:
        # "Recent changes": sign-ins and sign-outs are in the audit log, but they change nothing.
        recent = db.session.scalars(query_entries(scope, exclude=SIGN_INS).limit(8)).all()
    return render_template("core/index.html", counts=counts, total=tree.total_stores, tree=tree,
                           breakdown=breakdown, by_city=not tree.children, regions=regions, recent=recent)


@bp.route("/language", methods=["POST"])
def set_language():
    lang = request.form.get("lang", "")
    if lang not in current_app.config["LANGUAGES"]:
        lang = current_app.config["BABEL_DEFAULT_LOCALE"]
    if current_user.is_authenticated:
        current_user.locale = lang
    target = request.referrer if request.referrer and request.referrer.startswith(request.host_url) else "/"
    response = redirect(target)
    response.set_cookie(LANG_COOKIE, lang, max_age=365 * 24 * 3600, httponly=True, samesite="Lax",
                        secure=request.is_secure)
    return response


@bp.route("/healthz")
def healthz():
    started = time.perf_counter()
    try:
        db.session.execute(text("SELECT 1"))
        revision = db.session.execute(text("SELECT version_num FROM alembic_version")).scalar()
        ok = True
        error = None
    except Exception as exc:  # the point of the endpoint is to report any failure
        db.session.rollback()
        ok, revision, error = False, None, exc.__class__.__name__
    body = {
        "status": "ok" if ok else "error",
        "database": {
            "ok": ok,
            "backend": db.engine.dialect.name,
            "revision": revision,
            "latency_ms": round((time.perf_counter() - started) * 1000, 2),
        },
    }
    if error:
        body["database"]["error"] = error
    return jsonify(body), 200 if ok else 503
