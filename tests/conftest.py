"""Fixtures: a real app on a real database (SQLite file by default, PostgreSQL when
TEST_DATABASE_URL is set), a test client that sends CSRF tokens like a browser, and a small
org with one user per role."""
from __future__ import annotations

import os
import re
import secrets
import tempfile

import pytest
from flask import has_app_context
from flask.testing import FlaskClient
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import text

from portal import create_app
from portal.extensions import db as _db
from tests import factories

PASSWORD = factories.PASSWORD


def _database_url(worker: str) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        path = os.path.join(tempfile.mkdtemp(prefix="portal-test-"), "test.db")
        return f"sqlite:///{path}"
    if worker == "master":
        return url
    # Under pytest-xdist every worker gets a database of its own next to the given one.
    import psycopg

    base, name = url.rsplit("/", 1)
    mine = f"{name}_{worker}"
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{mine}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{mine}"')
    return f"{base}/{mine}"


@pytest.fixture(scope="session")
def database_url(worker_id):
    """Create the schema once per run, through the Alembic migrations like production."""
    from flask_migrate import upgrade

    url = _database_url(worker_id)
    app = create_app("test", SQLALCHEMY_DATABASE_URI=_normalise(url))
    with app.app_context():
        if _db.engine.dialect.name == "postgresql":
            with _db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
        upgrade()
        _db.engine.dispose()
    yield _normalise(url)
    if worker_id != "master" and url != os.environ.get("TEST_DATABASE_URL"):
        _drop_worker_database(url)


def _drop_worker_database(url: str) -> None:
    if not url.startswith("postgresql"):
        return
    import psycopg

    base, name = url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _normalise(url: str) -> str:
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


class PortalClient(FlaskClient):
    """A test client that adds the CSRF token to every form post, as the browser would.

    Each request runs in its own application context, as in production: ``g`` (where
    Flask-Login and Flask-Babel cache the user and the locale) and the database session start
    fresh for every request instead of leaking from the test's own context.
    """

    def open(self, *args, **kwargs):
        with self.application.app_context():
            response = super().open(*args, **kwargs)
        if has_app_context():
            _db.session.expire_all()      # the test's own session sees what the request committed
        return response

    def csrf_token(self) -> str:
        with self.session_transaction() as sess:
            raw = sess.setdefault("csrf_token", secrets.token_hex(20))
        return URLSafeTimedSerializer(self.application.secret_key, salt="wtf-csrf-token").dumps(raw)

    def post(self, *args, csrf: bool = True, hx: str | bool = False, **kwargs):
        data = kwargs.get("data")
        if csrf and (data is None or isinstance(data, dict)) and "json" not in kwargs:
            data = dict(data or {})
            data.setdefault("csrf_token", self.csrf_token())
            kwargs["data"] = data
        if hx:
            kwargs["headers"] = {**kwargs.get("headers", {}), **hx_headers(hx)}
        return super().post(*args, **kwargs)

    def get(self, *args, hx: str | bool = False, **kwargs):
        if hx:
            kwargs["headers"] = {**kwargs.get("headers", {}), **hx_headers(hx)}
        return super().get(*args, **kwargs)


def hx_headers(target: str | bool) -> dict:
    headers = {"HX-Request": "true"}
    if isinstance(target, str):
        headers["HX-Target"] = target
    return headers


@pytest.fixture
def app(database_url):
    app = create_app("test", SQLALCHEMY_DATABASE_URI=database_url)
    app.test_client_class = PortalClient
    with app.app_context():
        yield app
        _db.session.remove()
        _wipe()
        _db.engine.dispose()      # every test builds an app, and so an engine: close its pool


def _wipe() -> None:
    tables = [t.name for t in reversed(_db.metadata.sorted_tables)]
    with _db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for name in tables:
                conn.execute(text(f"DELETE FROM {name}"))


@pytest.fixture
def db(app):
    return _db


@pytest.fixture
def client(app) -> PortalClient:
    return app.test_client()


@pytest.fixture
def org(app):
    """A small brand: HQ, two distributors, three regions, five stores, one user per role."""
    world = factories.make_world()
    _db.session.commit()
    return world


def login(client: PortalClient, username: str, password: str = PASSWORD):
    response = client.post("/login", data={"username": username, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return response


@pytest.fixture
def login_as(client, org):
    """login_as("hq") signs the client in as one of the world's users."""

    def _login(name: str) -> PortalClient:
        client.post("/logout") if _logged_in(client) else None
        login(client, org.users[name].username)
        return client

    return _login


@pytest.fixture
def en(login_as):
    """en("hq") signs in like login_as, then switches to English (for tests reading English text)."""
    def _login(name: str) -> PortalClient:
        client = login_as(name)
        client.post("/language", data={"lang": "en"})
        return client
    return _login


def _logged_in(client) -> bool:
    with client.session_transaction() as sess:
        return "_user_id" in sess


def csrf_from(html: str) -> str:
    return re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html).group(1)
