"""Signing in and out and changing one's password: what changes, and its audit entry, in the
request's transaction."""
from __future__ import annotations

from portal.audit import services as audit
from portal.kernel.time import utcnow
from portal.org.models import User
from portal.org.services import hash_password


def signed_in(user: User) -> None:
    user.last_login_at = utcnow()
    audit.record(user, "login", "user", user.id, user.username, user.place_path)


def signed_out(user: User) -> None:
    audit.record(user, "logout", "user", user.id, user.username, user.place_path)


def change_password(user: User, new_password: str) -> None:
    """The new password; every other session of the user ends (the session version moves on)."""
    user.password_hash = hash_password(new_password)
    user.session_version += 1
    audit.record(user, "password.change", "user", user.id, user.username, user.place_path)
