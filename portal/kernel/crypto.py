"""Personal data and secrets at rest: encrypted with a key from the environment, matched by a
keyed hash.

``encrypt`` / ``decrypt`` use Fernet (AES-128-CBC with an HMAC-SHA256 tag, from the
``cryptography`` package) through ``MultiFernet``: ``DATA_KEYS`` is a space-separated list of
Fernet keys, the first encrypts, every one decrypts, so a key is rotated by putting a new one
first and re-encrypting at leisure (``rotate``). ``keyed_hash`` is an HMAC-SHA256 with
``DATA_HASH_KEY``: equal inputs give equal hashes (a phone number is found, and two members are
matched, by it) but the hash says nothing without the key. The hash key never rotates (every
stored hash would have to change at once); it is separate from the encryption keys for that.

Production must set both (``create_app`` refuses to start without them); the embedded install
generates them once into the instance folder, as it does SECRET_KEY; tests use fixed ones.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import secrets

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import Flask, current_app

from portal.kernel.keyfile import kept_text


class CryptoConfigError(RuntimeError):
    """DATA_KEYS or DATA_HASH_KEY is missing or malformed."""


def generate_keys() -> dict[str, str]:
    return {"DATA_KEYS": Fernet.generate_key().decode(), "DATA_HASH_KEY": secrets.token_urlsafe(32)}


def _kept_keys(path: str) -> dict[str, str]:
    """The keys kept in ``path`` (JSON), created there first (mode 0600) if there are none."""
    return json.loads(kept_text(path, lambda: json.dumps(generate_keys())))


class _Keys:
    def __init__(self, data_keys: str, hash_key: str):
        try:
            self.fernet = MultiFernet([Fernet(k.encode()) for k in data_keys.split()])
        except (ValueError, TypeError) as exc:
            raise CryptoConfigError(
                "DATA_KEYS must be one or more Fernet keys (32 url-safe base64 bytes each), separated by "
                "spaces; make one with python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())'.") from exc
        if len(hash_key) < 16:
            raise CryptoConfigError("DATA_HASH_KEY must be at least 16 characters of random text.")
        self.hash_key = hash_key.encode()


def init_app(app: Flask) -> None:
    data_keys, hash_key = app.config.get("DATA_KEYS", ""), app.config.get("DATA_HASH_KEY", "")
    if not (data_keys and hash_key):
        path = app.config.get("DATA_KEYS_FILE")
        if not path:
            raise CryptoConfigError(
                "DATA_KEYS and DATA_HASH_KEY are not set: they encrypt phone numbers and API secrets. "
                "Set both in the environment (see portal/kernel/crypto.py for how to make them).")
        kept = _kept_keys(path)
        data_keys, hash_key = data_keys or kept["DATA_KEYS"], hash_key or kept["DATA_HASH_KEY"]
    app.extensions["portal_crypto"] = _Keys(data_keys, hash_key)


def _keys() -> _Keys:
    return current_app.extensions["portal_crypto"]


def encrypt(text: str) -> str:
    return _keys().fernet.encrypt(text.encode()).decode("ascii")


def decrypt(token: str) -> str:
    """The plain text of ``token``; ValueError if no configured key opens it (or it was altered)."""
    try:
        return _keys().fernet.decrypt(token.encode("ascii")).decode()
    except InvalidToken:
        raise ValueError("The value cannot be decrypted with the configured DATA_KEYS.") from None


def rotate(token: str) -> str:
    """``token`` re-encrypted with the first (current) key."""
    return _keys().fernet.rotate(token.encode("ascii")).decode("ascii")


def keyed_hash(text: str) -> str:
    return hmac.new(_keys().hash_key, text.encode(), hashlib.sha256).hexdigest()
