"""Store API keys: issuing, revoking, and checking the key a mini-program sends.

A key reads ``fp_<prefix>_<secret>``: ``prefix`` (10 hex characters) finds the row through its
unique index, ``secret`` (32 random bytes) is what makes the key unguessable. Only the SHA-256
of the whole key is stored, so a key is shown once, when it is issued, and never again.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets

from flask import has_request_context, request
from sqlalchemy import select, update

from portal.api.models import StoreApiKey
from portal.audit import services as audit
from portal.extensions import db
from portal.kernel.time import utcnow
from portal.org import roles
from portal.org.models import Store, User
from portal.org.scope import Scope

KEY_PREFIX = "fp_"
PREFIX_HEX = 10             # characters of the lookup prefix (the column holds 12)


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def _new_key() -> tuple[str, str]:
    prefix = secrets.token_hex(PREFIX_HEX // 2)
    return prefix, f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"


def display_prefix(key: StoreApiKey) -> str:
    """How the UI names a key: its public start, never the secret."""
    return f"{KEY_PREFIX}{key.prefix}_…"


def issue_key(store: Store, *, actor: User | None, actor_name: str | None = None) -> tuple[StoreApiKey, str]:
    """A new key for the store. Returns the row and the plain key, which is not kept anywhere."""
    prefix, plain = _new_key()
    row = StoreApiKey(store_id=store.id, prefix=prefix, key_hash=_hash(plain))
    db.session.add(row)
    db.session.flush()
    audit.record(actor, "apikey.create", "store", store.id, f"{store.name} ({store.code})", store.path,
                 {"key": display_prefix(row)}, actor_name=actor_name)
    return row, plain


def active_keys(store: Store) -> list[StoreApiKey]:
    return list(db.session.scalars(
        select(StoreApiKey).where(StoreApiKey.store_id == store.id, StoreApiKey.revoked_at.is_(None))
        .order_by(StoreApiKey.created_at.desc(), StoreApiKey.id.desc())))


def revoke_key(scope: Scope, store: Store, key: StoreApiKey, *, actor: User) -> bool:
    """Revoke one of the store's keys. False when it was already revoked."""
    if key.revoked_at is not None:
        return False
    # Conditional: of two revokes at once (a double click) one writes and records, the other is
    # "already revoked".
    revoked = db.session.execute(
        update(StoreApiKey).where(StoreApiKey.id == key.id, StoreApiKey.revoked_at.is_(None))
        .values(revoked_at=utcnow()).execution_options(synchronize_session=False)).rowcount
    db.session.expire(key, ["revoked_at"])
    if not revoked:
        return False
    audit.record(actor, "apikey.revoke", "store", store.id, f"{store.name} ({store.code})", store.path,
                 {"key": display_prefix(key)})
    return True


class StoreRefused(Exception):
    """A valid key whose store may not make this call: answered 403 with a string ``code``."""

    status = 403

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


READS = frozenset({"GET", "HEAD", "OPTIONS"})


def authenticate(raw: str, *, write: bool | None = None) -> Store | None:
    """The store of an active key, or None for a malformed, unknown or revoked key.

    A closed store's key is refused on every call and a suspended store's on every write
    (``StoreRefused``). ``write`` defaults to "the request is not a GET/HEAD/OPTIONS", so a new
    write endpoint is covered without remembering to ask.

    One query through the unique index on ``prefix`` (it loads the store too); the hash
    comparison is constant-time."""
    parts = raw.split("_", 2)
    if len(parts) != 3 or parts[0] + "_" != KEY_PREFIX or len(parts[1]) != PREFIX_HEX or not parts[2]:
        return None
    row = db.session.execute(
        select(StoreApiKey.key_hash, StoreApiKey.revoked_at, Store)
        .join(Store, Store.id == StoreApiKey.store_id)
        .where(StoreApiKey.prefix == parts[1])).first()
    if row is None or not hmac.compare_digest(row.key_hash, _hash(raw)) or row.revoked_at is not None:
        return None
    store = row.Store
    if write is None:
        write = has_request_context() and request.method not in READS
    if store.status == roles.STORE_CLOSED:
        raise StoreRefused("store_closed", "This store is closed: its API key no longer works.")
    if write and store.status == roles.STORE_SUSPENDED:
        raise StoreRefused("store_suspended", "This store is suspended: it can read but not write or claim.")
    return store
