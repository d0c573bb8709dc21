"""SECRET_KEY: production refuses to start without a real one; the embedded install makes its
own once and keeps it; the key older versions shipped signs nobody in."""
from __future__ import annotations

import os
import stat
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.sessions import SecureCookieSessionInterface

from portal import create_app
from portal.security import ConfigError

OLD_DEFAULT = "dev-only-change-me"


@pytest.mark.parametrize("key", ["", None, OLD_DEFAULT])
def test_production_refuses_to_start_without_a_real_key(key):
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app("production", SECRET_KEY=key)


DATA_KEYS = {"DATA_KEYS": "cHJvZHVjdGlvbi1kYXRhLWtleS0wMTIzNDU2Nzg5YWI=", "DATA_HASH_KEY": "production-hash-key-0123"}


def test_production_starts_with_a_key_of_its_own():
    app = create_app("production", SECRET_KEY="a-long-random-production-key-1234567890", **DATA_KEYS)
    assert app.secret_key == "a-long-random-production-key-1234567890"


def test_development_makes_a_key_once_keeps_it_private_and_reuses_it(tmp_path, database_url):
    path = tmp_path / "instance" / "secret_key"
    first = create_app("development", SECRET_KEY="", SECRET_KEY_FILE=str(path), SQLALCHEMY_DATABASE_URI=database_url)
    assert path.exists()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert first.secret_key and first.secret_key != OLD_DEFAULT and len(first.secret_key) >= 40
    assert path.read_text().strip() == first.secret_key

    again = create_app("development", SECRET_KEY="", SECRET_KEY_FILE=str(path), SQLALCHEMY_DATABASE_URI=database_url)
    assert again.secret_key == first.secret_key
    # The published default counts as no key: the kept one is used instead.
    old = create_app("development", SECRET_KEY=OLD_DEFAULT, SECRET_KEY_FILE=str(path),
                     SQLALCHEMY_DATABASE_URI=database_url)
    assert old.secret_key == first.secret_key
    assert sorted(p.name for p in path.parent.iterdir()) == ["secret_key"]     # no temporary file left


def test_development_uses_the_key_it_is_given(tmp_path, database_url):
    path = tmp_path / "secret_key"
    app = create_app("development", SECRET_KEY="given-by-the-operator", SECRET_KEY_FILE=str(path),
                     SQLALCHEMY_DATABASE_URI=database_url)
    assert app.secret_key == "given-by-the-operator"
    assert not path.exists()


def _forged_cookie(user) -> str:
    """What anyone could sign with the old published default: "I am this user"."""
    forger = Flask("forger")
    forger.secret_key = OLD_DEFAULT
    serializer = SecureCookieSessionInterface().get_signing_serializer(forger)
    return serializer.dumps({"_user_id": f"{user.id}.{user.session_version}", "_fresh": True})


def test_a_cookie_forged_with_the_old_default_does_not_sign_in(tmp_path, org, database_url):
    dev = create_app("development", SECRET_KEY_FILE=str(tmp_path / "secret_key"),
                     SQLALCHEMY_DATABASE_URI=database_url, LOGIN_THROTTLE_STORAGE="memory://",
                     JOBS_BACKEND="eager")            # no embedded job clock left running after the test
    browser = dev.test_client()
    browser.set_cookie("session", _forged_cookie(org.users["hq"]))
    r = browser.get("/")
    assert r.status_code == 302 and urlsplit(r.location).path == "/login"
    assert browser.get("/stores").status_code == 302
