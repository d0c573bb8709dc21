"""The franchise portal: one Flask backend for the mini-programs of thousands of stores."""
from __future__ import annotations

import os

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from portal.config import CONFIGS, INSTANCE
from portal.extensions import babel, csrf, db, htmx, login_manager, migrate


def create_app(config: str | type | None = None, **overrides) -> Flask:
    app = Flask(
        __name__,
        instance_path=str(INSTANCE),
        template_folder="../templates",
        static_folder="../static",
    )
    if config is None:
        config = os.environ.get("PORTAL_CONFIG", "development")
    app.config.from_object(CONFIGS[config] if isinstance(config, str) else config)
    app.config.update(overrides)
    os.makedirs(app.instance_path, exist_ok=True)
    from portal.security import ensure_secret_key
    ensure_secret_key(app)

    if app.config["TRUSTED_PROXIES"]:
        n = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)

    from portal.kernel import ids
    from portal.kernel.jsonbody import StrictJSONProvider
    ids.init_app(app)          # before any route is added: bounded <int:...> ids everywhere
    app.json = StrictJSONProvider(app)     # request bodies: no NaN, no 100,000-deep nesting
    _init_extensions(app)
    _register_blueprints(app)

    from portal import cli, jobs, web
    web.init_app(app)
    cli.init_app(app)
    jobs.init_app(app)
    return app


def _init_extensions(app: Flask) -> None:
    from portal import security
    from portal.i18n import select_locale

    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(__file__), "..", "migrations"))
    csrf.init_app(app)
    htmx.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    security.init_app(app)
    login_manager.init_app(app)

    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        _tune_sqlite(app)


def _tune_sqlite(app: Flask) -> None:
    from sqlalchemy import event

    with app.app_context():
        engine = db.engine

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn, _record):
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        if not app.config["SQLALCHEMY_DATABASE_URI"].endswith(":memory:"):
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()


def _register_blueprints(app: Flask) -> None:
    from portal.audit.views import bp as audit_bp
    from portal.auth.views import bp as auth_bp
    from portal.catalog.views import bp as catalog_bp
    from portal.catalog.store_views import bp as catalog_store_bp
    from portal.campaigns.views import bp as campaigns_bp
    from portal.core.views import bp as core_bp
    from portal.decoration.views import bp as decoration_bp
    from portal.org.views import bp as org_bp
    from portal.pushes.views import bp as pushes_bp
    from portal.targets.views import bp as targets_bp

    for bp in (core_bp, auth_bp, org_bp, audit_bp, targets_bp, pushes_bp, decoration_bp,
               campaigns_bp, catalog_store_bp, catalog_bp):
        app.register_blueprint(bp)
    from portal import api
    api.init_app(app)          # every /api/v1 endpoint, its OpenAPI document, the keys' pages


# Models must be imported for Alembic's autogenerate and for relationships to resolve.
from portal.org import models as _org_models  # noqa: E402,F401
from portal.audit import models as _audit_models  # noqa: E402,F401
from portal.targets import models as _target_models  # noqa: E402,F401
from portal.pushes import models as _push_models  # noqa: E402,F401
from portal.decoration import models as _decoration_models  # noqa: E402,F401
from portal.api import models as _api_models  # noqa: E402,F401
from portal.catalog import models as _catalog_models  # noqa: E402,F401
from portal.campaigns import models as _campaign_models  # noqa: E402,F401
from portal.auth import models as _auth_models  # noqa: E402,F401
from portal.catalog import push_kind as _goods_push  # noqa: E402,F401
from portal.campaigns import push_kind as _campaign_push  # noqa: E402,F401
