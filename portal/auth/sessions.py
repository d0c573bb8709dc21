"""Sessions: signing in and out, kept server-side.

Sessions are server-side (Flask-Session): the cookie carries a random id, the data lives in the
``sessions`` table of the portal's database, or in Redis when ``REDIS_URL`` is set. Signing in
and out gives the browser a new id and deletes the old one's data, so a copied cookie is worth
nothing once its owner signs out."""
from __future__ import annotations

from datetime import datetime

import msgspec
from flask import Flask, current_app, g, request, session
from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from flask_session._utils import retry_query
from flask_session.base import ServerSideSessionInterface
from flask_session.redis import RedisSessionInterface
from flask_session.sqlalchemy import SqlAlchemySessionInterface
from itsdangerous import want_bytes
from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import joinedload

from portal.auth.models import ServerSession
from portal.extensions import db, login_manager
from portal.kernel.ids import MAX_ID
from portal.org.access import parse_login_id
from portal.org.models import User


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
        self.client = db
        self.sql_session_model = ServerSession
        ServerSideSessionInterface.__init__(self, app, **_common_options(app),
                                            cleanup_n_requests=None)
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
        # The row with its user (and the user's node or store), for org.access.load_user.
        row = db.session.execute(
            select(table.c.data, table.c.expiry, User).outerjoin(User, User.id == table.c.user_id)
            .where(table.c.session_id == store_id)
            .options(joinedload(User.node), joinedload(User.store))).first()
        g._session_row = (store_id, row.expiry if row is not None else None)
        if row is None:
            return None
        g._session_user = row.User
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
        values = {"data": self.serializer.encode(session), "expiry": expiry,
                  "user_id": _session_user_id(session)}
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


def delete_expired_sessions() -> int:
    """Delete the session rows past their expiry (naive UTC, as Flask-Session writes it); the
    periodic task of portal/auth/tasks.py. A job commits for itself."""
    table = ServerSession.__table__
    deleted = db.session.execute(delete(table).where(table.c.expiry <= datetime.utcnow())).rowcount
    db.session.commit()
    return deleted


def _session_user_id(session) -> int | None:
    parsed = parse_login_id(session.get("_user_id")) if session.get("_user_id") else None
    return parsed[0] if parsed and parsed[0] <= MAX_ID else None


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


def init_app(app: Flask) -> None:
    app.session_interface = SESSION_BACKENDS[app.config["SESSION_TYPE"]](app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please sign in to continue.")
    login_manager.login_message_category = "warning"
    login_manager.session_protection = "basic"
    # Remember-me cookies would outlive "disable the user"; sessions are enough here.
    app.config.setdefault("REMEMBER_COOKIE_HTTPONLY", True)
