"""Sessions, the current user, and the one decorator that guards every view."""
from __future__ import annotations

from functools import wraps

from flask import Flask, abort, g, request
from flask.sessions import SecureCookieSessionInterface
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select

from portal.extensions import db, login_manager
from portal.org.models import User
from portal.org.scope import Scope, scope_for


class SessionInterface(SecureCookieSessionInterface):
    """Marks the session cookie Secure whenever the request came over HTTPS."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"] or request.is_secure)


def init_app(app: Flask) -> None:
    app.session_interface = SessionInterface()
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
    user = db.session.scalar(select(User).where(User.id == user_id))
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
