"""Fixtures: a real app on a real database (SQLite file by default, PostgreSQL when
TEST_DATABASE_URL is set), a test client that sends CSRF tokens like a browser, and a small
org with one user per role.

The app is built once per test process (per xdist worker), so its Jinja templates compile once;
each test gets it in an application context of its own, and after the test the data is deleted
(ids start again at 1), and whatever the test changed on the app — its config, the lazily made
extensions such as the login throttle — is put back. A test that needs an app configured
differently asks ``make_app(**config)`` for one of its own.
"""
from __future__ import annotations

import copy
import os
import re
import secrets
import tempfile
import threading

import pytest
from flask import has_app_context
from flask.testing import FlaskClient
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import text

from portal import create_app
from portal.extensions import cache as _cache
from portal.extensions import db as _db
from tests import factories

PASSWORD = factories.PASSWORD


def _database_url(worker: str) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        path = os.path.join(tempfile.mkdtemp(prefix="portal-test-"), "test.db")
        return f"sqlite:///{path}"
    # Under pytest-xdist every worker gets a database of its own next to the given one; without
    # xdist the given one is used, and made if it is not there yet.
    import psycopg

    base, name = url.rsplit("/", 1)
    mine = name if worker == "master" else f"{name}_{worker}"
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (mine,)).fetchone()
        if worker != "master" and exists:
            conn.execute(f'DROP DATABASE "{mine}" WITH (FORCE)')
        if worker != "master" or not exists:
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


@pytest.fixture(scope="session")
def _shared_app(database_url):
    """The one app of this test process."""
    options = {}
    if database_url.startswith("postgresql"):
        # A test database need not survive a crash: commits return without waiting for the disk.
        options = {"connect_args": {"options": "-c synchronous_commit=off"}}
    app = create_app("test", SQLALCHEMY_DATABASE_URI=database_url, SQLALCHEMY_ENGINE_OPTIONS=options)
    app.test_client_class = PortalClient
    with app.app_context():
        wipe = _Wipe(_db.engine)
    yield app, copy.deepcopy(dict(app.config)), set(app.extensions), wipe
    with app.app_context():
        _db.engine.dispose()


@pytest.fixture
def app(_shared_app):
    app, config, extensions, wipe = _shared_app
    with app.app_context():
        try:
            yield app
        finally:
            _join_job_threads()
            _stop_live_counters()
            _db.session.remove()
            wipe()
            _cache.clear()
            _restore(app, config, extensions)


def _job_clocks() -> int:
    return sum(1 for t in threading.enumerate() if t.name == "job-clock")


@pytest.fixture(autouse=True)
def _no_job_clock_left_running():
    """A test must not leave the embedded job clock running: an app that is not in testing mode
    and serves a request starts it (``portal.jobs.start_clock``), and its thread would then run
    every periodic task against the test database while the other tests run, for good (a CI run
    found one ticking after the last test). Such apps take ``JOBS_BACKEND="eager"``."""
    before = _job_clocks()
    yield
    if _job_clocks() > before:
        pytest.fail("this test started the embedded job clock (an app outside testing mode served a "
                    "request): give that app JOBS_BACKEND='eager'", pytrace=False)


def _restore(app, config: dict, extensions: set) -> None:
    """Put back what a test changed on the shared app: its config, and the extensions made on
    first use from that config (the login throttle and its counters, the Celery client)."""
    if dict(app.config) != config:
        app.config.clear()
        app.config.update(copy.deepcopy(config))
    for name in set(app.extensions) - extensions:
        del app.extensions[name]


def _join_job_threads(timeout: float = 30) -> None:
    """Jobs a test ran on the ``thread`` backend finish before the data goes."""
    for thread in threading.enumerate():
        if thread.name.startswith("job:") and thread is not threading.current_thread():
            thread.join(timeout)


def _stop_live_counters() -> None:
    """The live counters' aggregator of the test (made on first use) stops its flush timer, and a
    flush under way finishes, before the data goes: a late flush would write into the next test's
    rooms (their ids start again at 1)."""
    from portal.live import counters

    counters.reset()


class _Wipe:
    """Deletes every row and starts every id sequence again, in one round trip.

    On PostgreSQL DELETE beats TRUNCATE on tables this small (TRUNCATE makes new files for each
    table and its indexes: 0.4-0.85 s per test on the loaded CI machine, against 2-13 ms), and it
    takes no lock that waits for another connection.
    """

    def __init__(self, engine):
        self.engine = engine
        self.tables = [t.name for t in reversed(_db.metadata.sorted_tables)]
        deletes = [f"DELETE FROM {name}" for name in self.tables]
        if engine.dialect.name == "postgresql":
            with engine.connect() as conn:
                sequences = conn.scalars(text(
                    "SELECT c.oid::regclass::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                    " WHERE c.relkind = 'S' AND n.nspname = current_schema()")).all()
            if sequences:
                deletes.append("SELECT " + ", ".join(f"setval('{name}', 1, false)" for name in sequences))
            self.sql = "; ".join(deletes)
        else:
            with engine.connect() as conn:
                if conn.scalar(text("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_sequence'")):
                    deletes.append("DELETE FROM sqlite_sequence")
            self.statements = deletes

    def __call__(self) -> None:
        if self.engine.dialect.name == "postgresql":
            # psycopg sends a parameterless string as one simple query: all statements, one trip.
            with self.engine.begin() as conn:
                conn.exec_driver_sql(self.sql)
        else:
            with self.engine.begin() as conn:
                for statement in self.statements:
                    conn.exec_driver_sql(statement)


@pytest.fixture(scope="session")
def redis_url():
    """The Redis the tests use (its database 15, or TEST_REDIS_URL). Without it the tests that
    need it fail with this message; they never skip."""
    import redis

    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
        return url
    except redis.exceptions.RedisError as exc:
        problem = str(exc)
    pytest.fail(f"Redis is not reachable at {url} ({problem}): start it, or run `bash .ci/setup --tests`,"
                " which installs and starts it.", pytrace=False)


@pytest.fixture
def make_app(database_url):
    """``make_app(SESSION_TYPE="redis")``: an app of its own, configured differently from the
    shared one (the test config, the test database, plus the given settings). Its engine is
    closed after the test."""
    made = []

    def _make(config: str = "test", **overrides):
        overrides.setdefault("SQLALCHEMY_DATABASE_URI", database_url)
        new = create_app(config, **overrides)
        new.test_client_class = PortalClient
        made.append(new)
        return new

    yield _make
    for new in made:
        if "sqlalchemy" in new.extensions:
            with new.app_context():
                _db.engine.dispose()


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
