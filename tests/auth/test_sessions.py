"""Server-side sessions: the cookie is only an id, signing out ends the session everywhere the
cookie was copied, and signing in never keeps an id planted before."""
from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy import select, update

from portal.auth.models import ServerSession
from tests.conftest import login


def _sid(client) -> str:
    cookie = client.get_cookie("session")
    assert cookie is not None
    return cookie.value


def _copy(app, client):
    """A second browser holding a copy of ``client``'s session cookie."""
    thief = app.test_client()
    thief.set_cookie("session", _sid(client))
    return thief


def _signed_in(client) -> bool:
    r = client.get("/")
    if r.status_code == 200:
        return True
    assert r.status_code == 302 and urlsplit(r.location).path == "/login", (r.status_code, r.location)
    return False


def test_a_copied_cookie_stops_working_when_its_owner_signs_out(app, client, org, db):
    login(client, "hq")
    thief = _copy(app, client)
    assert _signed_in(thief)                       # the copy works while the owner is signed in

    r = client.post("/logout")
    assert r.status_code == 302 and urlsplit(r.location).path == "/login"
    assert not _signed_in(client)
    assert not _signed_in(thief)                   # ...and not after: the server forgot that id
    assert not _signed_in(thief)


def test_signing_out_deletes_the_kept_session(app, client, org, db):
    login(client, "owner1")
    before = _sid(client)
    assert db.session.scalar(select(ServerSession).where(ServerSession.session_id == f"session:{before}"))
    client.post("/logout")
    db.session.expire_all()
    assert db.session.scalar(select(ServerSession).where(ServerSession.session_id == f"session:{before}")) is None
    # The "you have signed out" message still shows, under a new id.
    assert _sid(client) != before
    assert "您已退出登录。" in client.get("/login").get_data(as_text=True)


def test_the_cookie_is_an_opaque_id_not_the_session_data(client, org, db):
    login(client, "hq")
    sid = _sid(client)
    assert "." not in sid and len(sid) >= 40          # no signed payload, just a random id
    row = db.session.scalar(select(ServerSession).where(ServerSession.session_id == f"session:{sid}"))
    assert row is not None and row.data


def test_signing_in_gives_a_new_session_id(app, client, org, db):
    client.get("/login")
    client.csrf_token()                               # a session exists before signing in
    planted = _sid(client)
    victim_copy = _copy(app, client)
    login(client, "hq")
    assert _sid(client) != planted
    assert _signed_in(client)
    assert not _signed_in(victim_copy)                # an id planted before sign-in is never signed in


def test_the_session_ends_after_twelve_idle_hours(app, client, org, db):
    login(client, "hq")
    sid = _sid(client)
    row = db.session.scalar(select(ServerSession).where(ServerSession.session_id == f"session:{sid}"))
    assert timedelta(hours=11) < row.expiry - datetime.utcnow() <= timedelta(hours=12)
    row.expiry = datetime.utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert not _signed_in(client)


def test_an_unchanged_session_is_written_back_at_most_once_a_minute(app, client, org, db):
    """Pages that change nothing in the session do not rewrite its row on every request: its
    expiry is pushed back when the last write is over SESSION_REFRESH_SECONDS old."""
    login(client, "hq")
    key = f"session:{_sid(client)}"

    def expiry():
        return db.session.scalar(select(ServerSession.expiry).where(ServerSession.session_id == key))

    written = expiry()
    assert _signed_in(client) and _signed_in(client)
    assert expiry() == written                       # two pages, no write
    db.session.execute(update(ServerSession).where(ServerSession.session_id == key)
                       .values(expiry=written - timedelta(seconds=app.config["SESSION_REFRESH_SECONDS"] + 1)))
    db.session.commit()                              # as if the last write were a minute older
    assert _signed_in(client)
    assert timedelta(hours=12) - timedelta(seconds=5) < expiry() - datetime.utcnow() <= timedelta(hours=12)


def test_the_redis_backend_ends_a_copied_session_too(make_app, redis_url, org):
    """Production keeps sessions in Redis when REDIS_URL is set: the same guarantee there."""
    import secrets

    import redis

    url = redis_url
    prefix = f"test-session-{secrets.token_hex(4)}:"
    app = make_app(SESSION_TYPE="redis", REDIS_URL=url, SESSION_KEY_PREFIX=prefix)
    kept = redis.Redis.from_url(url)
    try:
        owner = app.test_client()
        login(owner, "hq")
        assert kept.exists(prefix + _sid(owner))
        thief = _copy(app, owner)
        assert _signed_in(thief)
        owner.post("/logout")
        assert not _signed_in(thief)
        assert not _signed_in(owner)
    finally:
        for name in kept.scan_iter(prefix + "*"):
            kept.delete(name)


def test_a_signed_in_request_reads_its_session_and_its_user_in_one_statement(client, org):
    """The session row names its user, so one statement reads both (with the user's node or
    store), not a session read and then the login manager's user query."""
    from tests.factories import sql_log

    login(client, "hq")
    with sql_log() as statements:
        assert client.get("/stores").status_code == 200
    reads = [s for s in statements if " sessions" in s or " users" in s]
    assert len(reads) == 1, reads
    assert "FROM sessions LEFT OUTER JOIN users" in reads[0]


def test_expired_sessions_are_deleted_by_a_periodic_task_not_by_a_random_request(app, client, org, db):
    """Flask-Session would delete expired rows on one request in a thousand, at random (and a
    page's statement count with it); here a periodic task does it, keeping live sessions."""
    from portal import jobs
    from portal.auth.sessions import delete_expired_sessions

    assert jobs.PERIODIC["delete-expired-sessions"] == (delete_expired_sessions.job_name, "SESSION_CLEANUP_SECONDS")
    assert not any(getattr(f, "__name__", "") == "_cleanup_n_requests"
                   for f in app.before_request_funcs.get(None, ()))
    login(client, "hq")
    live = f"session:{_sid(client)}"
    db.session.add(ServerSession(session_id="session:old", data=b"", expiry=datetime.utcnow() - timedelta(hours=1)))
    db.session.commit()
    assert delete_expired_sessions() == 1
    assert db.session.scalars(select(ServerSession.session_id)).all() == [live]
