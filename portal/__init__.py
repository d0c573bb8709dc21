"""The franchise portal: one Flask backend for the mini-programs of thousands of stores."""
from __future__ import annotations

import os

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from portal.config import CONFIGS, INSTANCE
from portal.extensions import babel, csrf, db, htmx, login_manager, migrate
from portal.kernel import cache as derived


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
    from portal.kernel import crypto
    crypto.init_app(app)       # DATA_KEYS: phone numbers and API secrets are stored encrypted

    if app.config["TRUSTED_PROXIES"]:
        n = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)

    from portal.kernel import ids, money
    from portal.kernel.jsonbody import StrictJSONProvider
    ids.init_app(app)          # before any route is added: bounded <int:...> ids everywhere
    money.init_app(app)        # |yuan and |yuan_text in templates
    app.json = StrictJSONProvider(app)     # request bodies: no NaN, no 100,000-deep nesting
    _init_extensions(app)
    _register_blueprints(app)

    from portal import cli, jobs, web
    web.init_app(app)
    _template_globals(app)
    cli.init_app(app)
    jobs.init_app(app)
    return app


def _init_extensions(app: Flask) -> None:
    from portal.auth import sessions
    from portal.i18n import select_locale
    from portal.org import access  # noqa: F401  (the login manager's user loader)

    db.init_app(app)
    derived.init_app(app)      # after the database: it watches the engine's writes
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(__file__), "..", "migrations"))
    csrf.init_app(app)
    htmx.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    sessions.init_app(app)
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
    """Every blueprint, in this order, with the navigation sections its module declares."""
    from portal import web
    from portal.assortments import views as assortments
    from portal.auth import views as auth
    from portal.campaigns import views as campaigns
    from portal.core import audit_log, link_picker
    from portal.core import views as core
    from portal.decoration import views as decoration
    from portal.goods import views as goods
    from portal.live import views as live
    from portal.live import views_figures as live_figures
    from portal.live import views_lottery as live_actions
    from portal.media import views as media
    from portal.members import views as members
    from portal.members import views_guides as guides
    from portal.members import views_identity as member_identity
    from portal.members import views_settings as member_settings
    from portal.orders import views as orders
    from portal.orders import views_commission as commissions
    from portal.org import views as org
    from portal.pushes import views as pushes
    from portal.shelf import views as shelf
    from portal.targets import views as targets

    for module in (core, auth, org, audit_log, targets, pushes, decoration, campaigns, shelf, assortments, goods,
                   media, link_picker, members, member_identity, guides, orders, member_settings, commissions, live,
                   live_figures, live_actions):
        app.register_blueprint(module.bp)
        web.add_nav(app, getattr(module, "NAV", ()))
    from portal import api
    api.init_app(app)          # every /api/v1 endpoint, its OpenAPI document, the keys' pages


def _template_globals(app: Flask) -> None:
    """What the domains give every template: the roles and the labels of audit entries and pushes."""
    from portal.audit.labels import ACTION_LABELS
    from portal.org import roles
    from portal.pushes import labels as push_labels

    # The audit page formats an entry's details itself (portal.core.audit_log.detail_items).
    app.jinja_env.globals.update(
        roles=roles, audit_labels=ACTION_LABELS, push_labels=push_labels)


# Models must be imported for Alembic's autogenerate and for relationships to resolve.
from portal.api import models as _api_models  # noqa: E402,F401
from portal.assortments import models as _assortment_models  # noqa: E402,F401
from portal.assortments import push_kind as _goods_push  # noqa: E402,F401
from portal.audit import models as _audit_models  # noqa: E402,F401
from portal.auth import models as _auth_models  # noqa: E402,F401
from portal.auth import tasks as _auth_tasks  # noqa: E402,F401  (jobs and periodic tasks, see portal.jobs)
from portal.campaigns import models as _campaign_models  # noqa: E402,F401
from portal.campaigns import preview as _campaign_preview  # noqa: E402,F401  (a page preview's coupons, promos)
from portal.campaigns import push_kind as _campaign_push  # noqa: E402,F401
from portal.decoration import models as _decoration_models  # noqa: E402,F401
from portal.goods import models as _goods_models  # noqa: E402,F401
from portal.ingest import models as _ingest_models  # noqa: E402,F401
from portal.ingest import tasks as _ingest_tasks  # noqa: E402,F401  (the inbox purge)
from portal.live import events as _live_events  # noqa: E402,F401  (live.* handlers)
from portal.live import models as _live_models  # noqa: E402,F401
from portal.live import tasks as _live_tasks  # noqa: E402,F401  (clock, sync, flush, reminders)
from portal.media import models as _media_models  # noqa: E402,F401
from portal.members import events as _member_events  # noqa: E402,F401  (member.signup / member.updated)
from portal.members import models as _member_models  # noqa: E402,F401
from portal.members import tasks as _member_tasks  # noqa: E402,F401  (the nightly RFM recompute)
from portal.orders import events as _order_events  # noqa: E402,F401  (order.*, coupon.* handlers)
from portal.orders import models as _order_models  # noqa: E402,F401
from portal.orders import tasks as _order_tasks  # noqa: E402,F401  (closes ended commission months)
from portal.org import models as _org_models  # noqa: E402,F401
from portal.pushes import models as _push_models  # noqa: E402,F401
from portal.pushes import tasks as _push_tasks  # noqa: E402,F401
from portal.shelf import models as _shelf_models  # noqa: E402,F401
from portal.shelf import preview as _shelf_preview  # noqa: E402,F401  (a page preview's goods and prices)
from portal.shelf import prices as _shelf_prices  # noqa: E402,F401  (answers the goods library's price signals)
from portal.targets import models as _target_models  # noqa: E402,F401
