"""Who may open a page: the signed-in user (loaded from the session), the one decorator that
guards every view by role, and the scope (the user's subtree or store) every view works in."""
from __future__ import annotations

from functools import wraps

from flask import abort, g
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from portal.extensions import db, login_manager
from portal.org.models import User
from portal.org.scope import Scope, scope_for


def parse_login_id(login_id) -> tuple[int, int] | None:
    """The (user id, session version) of the "<id>.<version>" Flask-Login keeps in a session."""
    try:
        user_id, version = (int(part) for part in str(login_id).split("."))
    except ValueError:
        return None
    return user_id, version


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    """Sessions carry "<id>.<version>"; a disabled user or a bumped version ends the session."""
    parsed = parse_login_id(session_id)
    if parsed is None:
        return None
    user_id, version = parsed
    user = g.get("_session_user")          # read with the session row (auth.sessions), if it was
    if user is None or user.id != user_id:
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
