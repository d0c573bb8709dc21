"""Store API credentials: issuing, rotating, revoking, and checking what a mini-program sends.

A credential is one row with two parts, shown once when it is issued and never again:

- the *read key* ``fp_<prefix>_<secret>`` sent as ``Authorization: Bearer`` on reads: ``prefix``
  (10 hex characters) finds the row through its unique index; only a SHA-256 of the key is kept;
- the *signing key*: a public ``key_id`` (``pk_<16 hex>``, sent as ``X-Portal-Key``) and a secret
  the writes are signed with (HMAC-SHA256, ``portal.api.auth``). The secret must be read back to
  check a signature, so it is kept encrypted (``portal.kernel.crypto``), never in plain text.

Issuing a new credential *rotates*: the store's previous ones stay valid for
``API_KEY_OVERLAP_HOURS`` (``expires_at``, default 24 h), so the mini-program can switch without a
gap, then stop working; revoking stops one at once.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app, has_request_context, request
from sqlalchemy import or_, select, update

from portal.api.models import StoreApiKey
from portal.audit import services as audit
from portal.extensions import db
from portal.kernel import crypto
from portal.kernel.time import utcnow
from portal.org import roles
from portal.org.models import Store, User
from portal.org.scope import Scope

KEY_PREFIX = "fp_"
PREFIX_HEX = 10             # characters of the lookup prefix (the column holds 12)
KEY_ID_PREFIX = "pk_"
KEY_ID_HEX = 16


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def _new_key() -> tuple[str, str]:
    prefix = secrets.token_hex(PREFIX_HEX // 2)
    return prefix, f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"


def display_prefix(key: StoreApiKey) -> str:
    """How the UI names a key: its public start, never the secret."""
    return f"{KEY_PREFIX}{key.prefix}_…"


@dataclass(frozen=True)
class Credential:
    row: StoreApiKey
    read_key: str           # fp_<prefix>_<secret>: Authorization: Bearer, for reads
    key_id: str             # X-Portal-Key, for signed writes
    secret: str             # what the writes are signed with

    def as_json(self, store: Store) -> dict:
        return {"store": store.code, "key_id": self.key_id, "secret": self.secret, "read_key": self.read_key}


def overlap() -> timedelta:
    return timedelta(hours=float(current_app.config.get("API_KEY_OVERLAP_HOURS", 24)))


def issue_credential(store: Store, *, actor: User | None, actor_name: str | None = None) -> Credential:
    """A new credential for the store; its other live credentials now expire after the overlap
    window (one UPDATE; audited as a rotation). Returns the plain keys, which are kept nowhere."""
    prefix, plain = _new_key()
    key_id, secret = f"{KEY_ID_PREFIX}{secrets.token_hex(KEY_ID_HEX // 2)}", secrets.token_urlsafe(32)
    now = utcnow()
    until = now + overlap()
    previous = list(db.session.scalars(
        update(StoreApiKey)
        .where(StoreApiKey.store_id == store.id, StoreApiKey.revoked_at.is_(None),
               or_(StoreApiKey.expires_at.is_(None), StoreApiKey.expires_at > until))
        .values(expires_at=until).returning(StoreApiKey.prefix).execution_options(synchronize_session=False)))
    row = StoreApiKey(store_id=store.id, prefix=prefix, key_hash=_hash(plain), key_id=key_id,
                      secret_enc=crypto.encrypt(secret), created_at=now)
    db.session.add(row)
    db.session.flush()
    where = f"{store.name} ({store.code})"
    if previous:
        audit.record(actor, "apikey.rotate", "store", store.id, where, store.path,
                     {"key": display_prefix(row), "key_id": key_id,
                      "previous": [f"{KEY_PREFIX}{p}_…" for p in sorted(previous)], "until": until.isoformat()},
                     actor_name=actor_name)
    else:
        audit.record(actor, "apikey.create", "store", store.id, where, store.path,
                     {"key": display_prefix(row), "key_id": key_id}, actor_name=actor_name)
    return Credential(row, plain, key_id, secret)


def issue_key(store: Store, *, actor: User | None, actor_name: str | None = None) -> tuple[StoreApiKey, str]:
    """A new credential for the store (rotating the previous ones): the row and the read key."""
    cred = issue_credential(store, actor=actor, actor_name=actor_name)
    return cred.row, cred.read_key


def _live(now):
    return StoreApiKey.revoked_at.is_(None), or_(StoreApiKey.expires_at.is_(None), StoreApiKey.expires_at > now)


def active_keys(store: Store) -> list[StoreApiKey]:
    """The store's credentials that work now (not revoked, not past their overlap window)."""
    return list(db.session.scalars(
        select(StoreApiKey).where(StoreApiKey.store_id == store.id, *_live(utcnow()))
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
        select(StoreApiKey.key_hash, StoreApiKey.revoked_at, StoreApiKey.expires_at, Store)
        .join(Store, Store.id == StoreApiKey.store_id)
        .where(StoreApiKey.prefix == parts[1])).first()
    if row is None or not hmac.compare_digest(row.key_hash, _hash(raw)) or not _works(row):
        return None
    if write is None:
        write = has_request_context() and request.method not in READS
    return _allowed(row.Store, write)


def _works(row) -> bool:
    return row.revoked_at is None and (row.expires_at is None or row.expires_at > utcnow())


def _allowed(store: Store, write: bool) -> Store:
    if store.status == roles.STORE_CLOSED:
        raise StoreRefused("store_closed", "This store is closed: its API key no longer works.")
    if write and store.status == roles.STORE_SUSPENDED:
        raise StoreRefused("store_suspended", "This store is suspended: it can read but not write or claim.")
    return store


# Decrypted signing secrets, by their ciphertext (which names exactly one plain text): a Fernet
# decryption per signed request is a cost worth skipping. Revocation and expiry are read from the
# row on every request, so the cache never keeps a key working.
_SECRETS: dict[str, bytes] = {}
_SECRETS_MAX = 10_000


def _secret(token: str) -> bytes:
    secret = _SECRETS.get(token)
    if secret is None:
        if len(_SECRETS) >= _SECRETS_MAX:
            _SECRETS.clear()
        secret = _SECRETS[token] = crypto.decrypt(token).encode()
    return secret


def signing_key(key_id: str) -> tuple[bytes, Store] | None:
    """The secret and the store of a working signing key id, or None (unknown, revoked, expired,
    or a read-only key of before issue 10). One query through the unique index on key_id."""
    if not (key_id.startswith(KEY_ID_PREFIX) and len(key_id) == len(KEY_ID_PREFIX) + KEY_ID_HEX):
        return None
    row = db.session.execute(
        select(StoreApiKey.secret_enc, StoreApiKey.revoked_at, StoreApiKey.expires_at, Store)
        .join(Store, Store.id == StoreApiKey.store_id)
        .where(StoreApiKey.key_id == key_id)).first()
    if row is None or row.secret_enc is None or not _works(row):
        return None
    return _secret(row.secret_enc), row.Store


def allowed_store(store: Store, *, write: bool) -> Store:
    """``store`` if its status lets it make this call, else StoreRefused (closed, suspended)."""
    return _allowed(store, write)
