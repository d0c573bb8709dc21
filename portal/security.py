"""The secret key the portal refuses to start without. (Sessions are ``portal.auth.sessions``;
who may open which page is ``portal.org.access``; the response headers are ``portal.web``.)"""
from __future__ import annotations

import secrets

from flask import Flask


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
    """The key in ``path``, created there first if there is none (portal.kernel.keyfile: atomically,
    so two processes starting at once end up with the same key)."""
    from portal.kernel.keyfile import kept_text

    key = kept_text(path, lambda: secrets.token_urlsafe(48) + "\n").strip()
    if not key:
        raise ConfigError(f"SECRET_KEY: the key file {path} is empty; delete it to have a new key made.")
    return key
