"""Sessions, the current user, and the one decorator that guards every view.

Sessions are server-side (Flask-Session): the cookie carries a random id, the data lives in the
``sessions`` table of the portal's database, or in Redis when ``REDIS_URL`` is set. Signing in
and out gives the browser a new id and deletes the old one's data, so a copied cookie is worth
nothing once its owner signs out."""
from __future__ import annotations

import os
import secrets
from datetime import datetime
from functools import wraps

import msgspec

from flask import Flask, abort, current_app, g, request, session
from flask_session._utils import retry_query
from flask_session.base import ServerSideSessionInterface
from flask_session.redis import RedisSessionInterface
from flask_session.sqlalchemy import SqlAlchemySessionInterface
from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import joinedload
from itsdangerous import want_bytes

from portal.extensions import db, login_manager
from portal.org.models import User
from portal.org.scope import Scope, scope_for


def _text(obj):
    """Lazy translations (Flask-Login's "please sign in", flashed labels) are kept as the text
    they had when flashed, which is what the signed cookie used to keep too."""
    if isinstance(obj, LazyString):
        return str(obj)
    raise TypeError(f"a session cannot hold {type(obj).__name__}")


class _PortalSessions:
    """What both backends add to Flask-Session: a Secure cookie whenever the request came over
    HTTPS, and a serializer that accepts lazy translated strings."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"] or request.is_secure)

    def _accept_lazy_text(self) -> None:
        self.serializer.encoder = msgspec.msgpack.Encoder(enc_hook=_text)


class SqlSessionInterface(_PortalSessions, SqlAlchemySessionInterface):
    """Flask-Session's SQLAlchemy backend on ``portal.auth.models.ServerSession``.

    The library's constructor defines its own model and creates its table at start-up; here the
    model is ours and the table comes from the migrations, so only the common set-up runs."""

    def __init__(self, app: Flask):
        from portal.auth.models import ServerSession

        self.client = db
        self.sql_session_model = ServerSession
        ServerSideSessionInterface.__init__(self, app, **_common_options(app),
                                            cleanup_n_requests=app.config["SESSION_CLEANUP_N_REQUESTS"])
        self._accept_lazy_text()

    # Every signed-in request reads its session row; the library then reads it again and writes
    # it back with a fresh expiry, through ORM objects. Here it is one Core SELECT, and a write
    # (one UPDATE, or an INSERT for a new session) only when the session changed or its expiry
    # was last pushed back more than SESSION_REFRESH_SECONDS ago: an idle session still ends
    # 12 h after its last request, give or take that minute. The library's other rules hold: an
    # expired row is deleted on sight, expiry is naive UTC.

    @retry_query()
    def _retrieve_session_data(self, store_id: str) -> dict | None:
        table = self.sql_session_model.__table__
        row = db.session.execute(select(table.c.data, table.c.expiry).where(table.c.session_id == store_id)).first()
        g._session_row = (store_id, row.expiry if row is not None else None)
        if row is None:
            return None
        if row.expiry is None or row.expiry <= datetime.utcnow():
            try:
                db.session.execute(delete(table).where(table.c.session_id == store_id))
                db.session.commit()
            except Exception:
                db.session.rollback()
                raise
            return None
        return self.serializer.decode(want_bytes(row.data))

    @retry_query()
    def _upsert_session(self, session_lifetime, session, store_id: str) -> None:
        table = self.sql_session_model.__table__
        expiry = datetime.utcnow() + session_lifetime
        read_id, read_expiry = g.get("_session_row") or (None, None)
        if (not session.modified and read_id == store_id and read_expiry is not None
                and (expiry - read_expiry).total_seconds() < current_app.config["SESSION_REFRESH_SECONDS"]):
            return                  # unchanged, and its expiry was pushed back moments ago
        values = {"data": self.serializer.encode(session), "expiry": expiry}
        try:
            if not db.session.execute(update(table).where(table.c.session_id == store_id).values(values)).rowcount:
                db.session.execute(insert(table).values(session_id=store_id, **values))
            db.session.commit()
        except Exception:
            db.session.rollback()
            raise

    def regenerate(self, session) -> None:
        # As the library's, but the old row is deleted in the request's own transaction (the
        # library commits on the spot): it goes when the request commits, not half-way.
        if session:
            db.session.execute(delete(self.sql_session_model)
                               .where(self.sql_session_model.session_id == self._get_store_id(session.sid)))
            session.sid = self._generate_sid(self.sid_length)
            session.modified = True


class RedisSessions(_PortalSessions, RedisSessionInterface):
    """Flask-Session's Redis backend (sessions expire by Redis' own TTL)."""

    def __init__(self, app: Flask):
        from redis import Redis

        super().__init__(app, client=Redis.from_url(app.config["REDIS_URL"]), **_common_options(app))
        self._accept_lazy_text()


def _common_options(app: Flask) -> dict:
    return {"key_prefix": app.config["SESSION_KEY_PREFIX"], "use_signer": False,
            "permanent": app.config["SESSION_PERMANENT"], "sid_length": 32, "serialization_format": "msgpack"}


SESSION_BACKENDS = {"sqlalchemy": SqlSessionInterface, "redis": RedisSessions}


def renew_session() -> None:
    """Give this browser a new session id and delete the data kept under the old one (at sign-in
    against session fixation, at sign-out so that a copy of the cookie no longer works)."""
    interface = current_app.session_interface
    if isinstance(interface, ServerSideSessionInterface):
        interface.regenerate(session)


class ConfigError(RuntimeError):
    """The configuration is unsafe to start with."""


def ensure_secret_key(app: Flask) -> None:
    """Refuse to start without a real SECRET_KEY, except where the install may make its own.

    The embedded install (``SECRET_KEY_FILE`` set: the development config) generates a random
    key once, keeps it in that file (mode 0600) and reuses it on every later start."""
    from portal.config import PUBLISHED_SECRET_KEYS

    key = app.config.get("SECRET_KEY") or ""
    if key and key not in PUBLISHED_SECRET_KEYS:
        return
    path = app.config.get("SECRET_KEY_FILE")
    if not path:
        raise ConfigError(
            "SECRET_KEY is not set" + (" (it is the published default)" if key else "") + ": set the "
            "SECRET_KEY environment variable to a long random value, for example the output of "
            "python -c 'import secrets; print(secrets.token_urlsafe(48))'.")
    app.config["SECRET_KEY"] = _kept_secret_key(path)


def _kept_secret_key(path: str) -> str:
    """The key in ``path``, created there first if there is none (atomically: two processes
    starting at once end up with the same key)."""
    try:
        with open(path, encoding="utf-8") as f:
            key = f.read().strip()
        if key:
            return key
    except FileNotFoundError:
        pass
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    tmp = f"{path}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(secrets.token_urlsafe(48) + "\n")
        try:
            os.link(tmp, path)          # fails if another process got there first: use theirs
        except FileExistsError:
            pass
    finally:
        os.unlink(tmp)
    with open(path, encoding="utf-8") as f:
        key = f.read().strip()
    if not key:
        raise ConfigError(f"SECRET_KEY: the key file {path} is empty; delete it to have a new key made.")
    return key


def init_app(app: Flask) -> None:
    app.session_interface = SESSION_BACKENDS[app.config["SESSION_TYPE"]](app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please sign in to continue.")
    login_manager.login_message_category = "warning"
    login_manager.session_protection = "basic"
    # Remember-me cookies would outlive "disable the user"; sessions are enough here.
    app.config.setdefault("REMEMBER_COOKIE_HTTPONLY", True)


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    """Sessions carry "<id>.<version>"; a disabled user or a bumped version ends the session."""
    try:
        user_id, version = (int(part) for part in session_id.split("."))
    except ValueError:
        return None
    # With the node or store it is bound to (the scope, the breadcrumb): one query, not two.
    user = db.session.scalar(select(User).where(User.id == user_id)
                             .options(joinedload(User.node), joinedload(User.store)))
    if user is None or not user.active or user.session_version != version:
        return None
    return user


def roles_required(*allowed: str):
    """Log-in required, then the user's role must be one of ``allowed`` (else 403)."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if current_user.role not in allowed:
                abort(403)
            g.scope = scope_for(current_user)
            return view(*args, **kwargs)

        wrapped.allowed_roles = frozenset(allowed)
        return wrapped

    return decorator


def current_scope() -> Scope:
    return g.scope
