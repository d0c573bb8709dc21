"""Personal data and API secrets at rest: encrypted with DATA_KEYS, which production must set,
the embedded install generates once, and which rotate without losing what was stored."""
from __future__ import annotations

import os
import stat

import pytest
from cryptography.fernet import Fernet

from portal import create_app
from portal.kernel import crypto

PROD = {"SECRET_KEY": "a-long-random-production-key-1234567890"}


def test_production_refuses_to_start_without_data_keys():
    with pytest.raises(crypto.CryptoConfigError, match="DATA_KEYS"):
        create_app("production", **PROD, DATA_KEYS="", DATA_HASH_KEY="")


def test_a_malformed_key_is_refused_with_how_to_make_one():
    with pytest.raises(crypto.CryptoConfigError, match="Fernet"):
        create_app("production", **PROD, DATA_KEYS="not-a-key", DATA_HASH_KEY="x" * 20)


def test_development_makes_the_keys_once_keeps_them_private_and_reuses_them(tmp_path, database_url):
    path = tmp_path / "instance" / "data_keys.json"
    first = create_app("development", DATA_KEYS="", DATA_HASH_KEY="", DATA_KEYS_FILE=str(path),
                       SQLALCHEMY_DATABASE_URI=database_url)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    with first.app_context():
        token, digest = crypto.encrypt("13800001234"), crypto.keyed_hash("13800001234")
    again = create_app("development", DATA_KEYS="", DATA_HASH_KEY="", DATA_KEYS_FILE=str(path),
                       SQLALCHEMY_DATABASE_URI=database_url)
    with again.app_context():
        assert crypto.decrypt(token) == "13800001234"
        assert crypto.keyed_hash("13800001234") == digest


def test_encrypted_text_is_not_the_plain_text_and_the_hash_is_keyed(app):
    token = crypto.encrypt("13800001234")
    assert "13800001234" not in token and crypto.decrypt(token) == "13800001234"
    assert crypto.encrypt("13800001234") != token            # a fresh IV every time
    assert crypto.keyed_hash("13800001234") == crypto.keyed_hash("13800001234")
    other = create_app("production", **PROD, DATA_KEYS=Fernet.generate_key().decode(),
                       DATA_HASH_KEY="another-key-1234567")
    with other.app_context():
        digest_elsewhere = crypto.keyed_hash("13800001234")
        with pytest.raises(ValueError, match="DATA_KEYS"):
            crypto.decrypt(token)
    assert digest_elsewhere != crypto.keyed_hash("13800001234")


def test_a_rotated_key_still_opens_old_values_and_rotate_moves_them_to_the_new_key(app, database_url):
    old = app.config["DATA_KEYS"]
    token = crypto.encrypt("secret")
    new_key = Fernet.generate_key().decode()
    rotated = create_app("production", **PROD, DATA_KEYS=f"{new_key} {old}", DATA_HASH_KEY=app.config["DATA_HASH_KEY"],
                         SQLALCHEMY_DATABASE_URI=database_url)
    with rotated.app_context():
        assert crypto.decrypt(token) == "secret"
        moved = crypto.rotate(token)
    only_new = create_app("production", **PROD, DATA_KEYS=new_key, DATA_HASH_KEY=app.config["DATA_HASH_KEY"],
                          SQLALCHEMY_DATABASE_URI=database_url)
    with only_new.app_context():
        assert crypto.decrypt(moved) == "secret"
        with pytest.raises(ValueError):
            crypto.decrypt(token)
