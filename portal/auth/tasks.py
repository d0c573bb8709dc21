"""Sign-in's periodic task, collected by ``portal.jobs``: expired server-side sessions are
deleted every SESSION_CLEANUP_SECONDS (Redis expires its own by TTL; there the table is empty)."""
from __future__ import annotations

from portal.auth.sessions import delete_expired_sessions
from portal.jobs import periodic

periodic("delete-expired-sessions", delete_expired_sessions, every="SESSION_CLEANUP_SECONDS")
