"""Signing in and out through the real app: messages, redirects, throttling, cookies, CSRF,
and the ways a session ends (disable, password change, admin reset)."""
from __future__ import annotations

import re
import time
from urllib.parse import urljoin, urlsplit

import pytest
from limits import parse
from sqlalchemy import select

from portal.audit.models import AuditEntry
from portal.org.models import Store, User
from tests import factories
from tests.conftest import PASSWORD, login

WRONG_LOGIN = "Wrong username or password, or the account is disabled."


def english(client):
    """Messages are checked in English (the UI defaults to Chinese)."""
    client.set_cookie("lang", "en")
    return client


def attempt(client, username: str, password: str, ip: str = "127.0.0.1", **kw):
    return client.post("/login", data={"username": username, "password": password},
                       environ_base={"REMOTE_ADDR": ip}, **kw)


def alerts(response) -> list[str]:
    return re.findall(r'<div class="alert alert-danger" role="alert">(.*?)</div>',
                      response.get_data(as_text=True), re.S)


def signed_in(client) -> bool:
    """What the user notices: the overview opens, or they are sent to the sign-in page."""
    r = client.get("/")
    if r.status_code == 200:
        return True
    assert r.status_code == 302 and urlsplit(r.location).path == "/login", (r.status_code, r.location)
    return False


def amount(app, key: str) -> int:
    return parse(app.config[key]).amount


def session_cookie(response) -> str:
    cookies = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    assert len(cookies) == 1, response.headers.getlist("Set-Cookie")
    return cookies[0]


def actions(db, action: str) -> list[AuditEntry]:
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action)
                                   .order_by(AuditEntry.id)))


# --------------------------------------------------------------------------- sign in / out

def test_login_page_renders(client):
    r = client.get("/login")
    assert r.status_code == 200
    assert 'name="username"' in r.get_data(as_text=True)
    assert 'name="csrf_token"' in r.get_data(as_text=True)


def test_login_success_redirects_home_and_records_it(client, org, db):
    r = attempt(client, "sh_manager", PASSWORD)
    assert r.status_code == 302
    assert urlsplit(r.location).path == "/"
    assert signed_in(client)
    user = db.session.get(User, org.users["sh_manager"].id)
    db.session.refresh(user)
    assert user.last_login_at is not None
    assert [e.actor_name for e in actions(db, "login")] == ["sh_manager"]


def test_username_is_case_and_space_insensitive(client, org):
    assert attempt(client, "  SH_Manager ", PASSWORD).status_code == 302
    assert signed_in(client)


def test_wrong_password_is_422_with_message(client, org):
    english(client)
    r = attempt(client, "sh_manager", "not-the-password")
    assert r.status_code == 422
    assert alerts(r) == [WRONG_LOGIN]
    assert not signed_in(client)


def test_empty_form_is_422(client, org):
    r = client.post("/login", data={"username": "", "password": ""})
    assert r.status_code == 422
    assert not signed_in(client)


def _normalised(response, username: str) -> str:
    html = response.get_data(as_text=True)
    html = re.sub(r"I[\w-]{20,}\.[\w-]{4,}\.[\w-]{20,}", "CSRF-TOKEN", html)   # signed, timestamped
    return html.replace(username, "USERNAME")


def test_unknown_user_and_wrong_password_look_the_same(client, org):
    english(client)
    unknown = attempt(client, "nobody_here", "whatever-123", ip="10.1.0.1")
    wrong = attempt(client, "sh_manager", "whatever-123", ip="10.1.0.2")
    assert unknown.status_code == wrong.status_code == 422
    assert alerts(unknown) == alerts(wrong) == [WRONG_LOGIN]
    assert _normalised(unknown, "nobody_here") == _normalised(wrong, "sh_manager")


def test_disabled_account_gets_the_same_answer_as_a_wrong_password(client, org, db):
    english(client)
    user = db.session.get(User, org.users["sh_manager"].id)
    user.active = False
    db.session.commit()
    r = attempt(client, "sh_manager", PASSWORD)
    assert r.status_code == 422
    assert alerts(r) == [WRONG_LOGIN]
    assert not signed_in(client)


def test_unknown_user_costs_as_much_time_as_a_wrong_password(app, client, db):
    """The stand-in hash for unknown users must be as slow as a real one, or timing tells."""
    app.config["PASSWORD_HASH_METHOD"] = "pbkdf2:sha256:200000"
    store_node = factories.make_node(None, "hq", "HQ-T", "HQ")
    factories.make_user("slow_user", "hq_admin", store_node)
    db.session.commit()

    def timed(username: str, n: int) -> float:
        started = time.perf_counter()
        assert attempt(client, username, "wrong-password-1", ip=f"10.9.{n}.1").status_code == 422
        return time.perf_counter() - started

    # The fastest of several runs: load on the machine only ever adds time, never removes it.
    wrong = min(timed("slow_user", i) for i in range(5))
    unknown = min(timed("no_such_user", 10 + i) for i in range(5))
    assert unknown > wrong * 0.5, (unknown, wrong)


def test_signed_in_user_visiting_login_goes_home(login_as):
    c = login_as("hq")
    r = c.get("/login")
    assert r.status_code == 302 and urlsplit(r.location).path == "/"


def test_logout_is_post_only_and_ends_the_session(login_as, db):
    c = login_as("owner1")
    assert c.get("/logout").status_code == 405
    assert signed_in(c)
    r = c.post("/logout")
    assert r.status_code == 302 and urlsplit(r.location).path == "/login"
    assert not signed_in(c)
    assert [e.actor_name for e in actions(db, "logout")] == ["owner1"]


# --------------------------------------------------------------------------- next=

def test_next_param_is_followed_inside_the_site(client, org):
    r = client.post("/login", query_string={"next": "/stores?q=上海"},
                    data={"username": "hq", "password": PASSWORD})
    assert r.status_code == 302
    assert r.location == "/stores?q=%E4%B8%8A%E6%B5%B7"
    assert client.get(r.location).status_code == 200


def test_login_required_page_sends_back_after_signing_in(client, org):
    r = client.get("/users")
    assert r.status_code == 302
    login_url = r.location
    assert urlsplit(login_url).path == "/login" and "next=" in login_url
    r = client.post(login_url, data={"username": "hq", "password": PASSWORD})
    assert r.status_code == 302 and urlsplit(r.location).path == "/users"


def _browser_target(location: str) -> str:
    """Where a browser goes for this Location: tabs and newlines are dropped, '\\' is '/'."""
    cleaned = re.sub(r"[\t\r\n]", "", location).replace("\\", "/")
    return urljoin("http://localhost/login", cleaned)


@pytest.mark.parametrize("target", [
    "//evil.com", "http://evil.com", "https://evil.com/login", "///evil.com", "/\\evil.com",
    "\\\\evil.com", "/\\/evil.com", "/\t/evil.com", "https:evil.com", "javascript:alert(1)",
    " //evil.com", "\x00//evil.com",
])
def test_next_param_never_leaves_the_site(client, org, target):
    r = client.post("/login", query_string={"next": target},
                    data={"username": "hq", "password": PASSWORD})
    assert r.status_code == 302
    where = urlsplit(_browser_target(r.location))
    assert where.scheme == "http" and where.netloc == "localhost", r.location
    assert "evil" not in where.netloc


# --------------------------------------------------------------------------- throttling

def test_failures_for_one_account_from_one_address_block_it_even_with_the_right_password(app, client, org):
    english(client)
    n = amount(app, "LOGIN_LIMIT_ACCOUNT_IP")
    for _ in range(n):
        assert attempt(client, "sh_manager", "guess-guess", ip="10.0.0.1").status_code == 422
    r = attempt(client, "sh_manager", PASSWORD, ip="10.0.0.1")
    assert r.status_code == 429
    assert "Try again" in " ".join(alerts(r))
    assert not signed_in(client)


def test_the_blocked_account_still_signs_in_from_another_address(app, client, org):
    n = amount(app, "LOGIN_LIMIT_ACCOUNT_IP")
    for _ in range(n + 3):
        attempt(client, "sh_manager", "guess-guess", ip="10.0.0.1")
    assert attempt(client, "sh_manager", PASSWORD, ip="10.0.0.1").status_code == 429
    other = client.application.test_client()
    assert attempt(other, "sh_manager", PASSWORD, ip="10.0.0.2").status_code == 302
    assert signed_in(other)


def test_an_address_spraying_many_usernames_is_stopped(app, client, org):
    english(client)
    n = amount(app, "LOGIN_LIMIT_IP")
    for i in range(n):
        assert attempt(client, f"spray{i}", "Password1", ip="10.0.0.66").status_code == 422
    # Even a real account with its right password is refused from this address now...
    r = attempt(client, "owner1", PASSWORD, ip="10.0.0.66")
    assert r.status_code == 429
    assert "Try again" in " ".join(alerts(r))
    # ...while everybody else carries on.
    assert attempt(client, "owner1", PASSWORD, ip="10.0.0.67").status_code == 302


def test_guessing_one_account_from_many_addresses_is_stopped(app, client, org):
    n = amount(app, "LOGIN_LIMIT_ACCOUNT")
    per_ip = amount(app, "LOGIN_LIMIT_ACCOUNT_IP")
    for i in range(n):
        ip = f"10.2.{i // per_ip}.{i % per_ip + 1}"
        assert attempt(client, "hq", "guess-guess", ip=ip).status_code == 422
    assert attempt(client, "hq", "guess-guess", ip="10.3.0.1").status_code == 429


def test_the_window_expires_and_hammering_does_not_extend_it(app, client, org):
    app.config["LOGIN_LIMIT_ACCOUNT_IP"] = "2 per 3 seconds"   # wide enough for a loaded machine
    started = time.monotonic()
    for _ in range(2):
        assert attempt(client, "sh_manager", "guess-guess", ip="10.0.0.5").status_code == 422
    for _ in range(5):      # refused attempts are not counted, so they cannot prolong the lock
        assert attempt(client, "sh_manager", "guess-guess", ip="10.0.0.5").status_code == 429
    assert attempt(client, "sh_manager", PASSWORD, ip="10.0.0.5").status_code == 429
    time.sleep(max(0.0, started + 3.2 - time.monotonic()))
    assert attempt(client, "sh_manager", PASSWORD, ip="10.0.0.5").status_code == 302
    assert signed_in(client)


def test_a_success_clears_the_account_address_window(app, client, org):
    n = amount(app, "LOGIN_LIMIT_ACCOUNT_IP")
    for _ in range(n - 1):
        assert attempt(client, "sh_manager", "typo-typo", ip="10.0.0.7").status_code == 422
    assert attempt(client, "sh_manager", PASSWORD, ip="10.0.0.7").status_code == 302
    client.post("/logout")
    for _ in range(n):      # a fresh allowance: n more mistakes before the block
        assert attempt(client, "sh_manager", "typo-typo", ip="10.0.0.7").status_code == 422
    assert attempt(client, "sh_manager", PASSWORD, ip="10.0.0.7").status_code == 429


def test_an_attacker_cannot_keep_a_real_user_locked_out(app, client, org):
    """The per-account ceiling stops distributed guessing, but while an attacker keeps it full,
    the real user still signs in from a browser they signed in from before."""
    app.config["LOGIN_LIMIT_ACCOUNT"] = "3 per 1 hour"
    owner = app.test_client()
    assert attempt(owner, "owner1", PASSWORD, ip="192.168.1.10").status_code == 302
    owner.post("/logout")

    for i in range(3):
        assert attempt(client, "owner1", "guess-guess", ip=f"10.4.0.{i + 1}").status_code == 422
    # The account is now closed to unknown browsers, wherever they come from...
    stranger = app.test_client()
    assert attempt(stranger, "owner1", PASSWORD, ip="192.168.1.10").status_code == 429
    assert attempt(client, "owner1", PASSWORD, ip="10.4.0.9").status_code == 429
    # ...but not to the owner's own browser, even from a new address.
    assert attempt(owner, "owner1", PASSWORD, ip="192.168.1.10").status_code == 302
    owner.post("/logout")
    assert attempt(owner, "owner1", PASSWORD, ip="172.16.0.3").status_code == 302
    # Knowing the browser is no master key: wrong passwords from it are still counted.
    owner.post("/logout")
    n = amount(app, "LOGIN_LIMIT_ACCOUNT_IP")
    for _ in range(n):
        assert attempt(owner, "owner1", "guess-guess", ip="172.16.0.3").status_code == 422
    assert attempt(owner, "owner1", PASSWORD, ip="172.16.0.3").status_code == 429


def test_the_known_browser_mark_is_per_user_and_signed(app, client, org):
    app.config["LOGIN_LIMIT_ACCOUNT"] = "1 per 1 hour"
    browser = app.test_client()
    assert attempt(browser, "owner1", PASSWORD, ip="192.168.1.10").status_code == 302
    browser.post("/logout")
    attempt(client, "owner_gd", "guess-guess", ip="10.4.0.1")
    # Having signed in as owner1 does not open owner_gd's account to this browser.
    assert attempt(browser, "owner_gd", PASSWORD, ip="192.168.1.10").status_code == 429
    forged = app.test_client()
    forged.set_cookie("known_login", "owner_gd")
    assert attempt(forged, "owner_gd", PASSWORD, ip="192.168.1.11").status_code == 429


def test_throttle_message_is_translated(app, client, org):
    """The default (Chinese) UI still answers 429 and says when to try again."""
    app.config["LOGIN_LIMIT_ACCOUNT_IP"] = "1 per 5 minutes"
    attempt(client, "sh_manager", "guess-guess", ip="10.0.0.8")
    r = attempt(client, "sh_manager", PASSWORD, ip="10.0.0.8")
    assert r.status_code == 429
    assert alerts(r) and "5" in alerts(r)[0]


# --------------------------------------------------------------------------- cookies

def test_session_cookie_is_httponly_lax_and_not_secure_on_http(client, org):
    r = attempt(client, "hq", PASSWORD)
    assert r.status_code == 302
    cookie = session_cookie(r).lower()
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    assert "secure" not in cookie.replace("samesite", "")


def test_session_cookie_is_secure_over_https(client, org):
    r = attempt(client, "hq", PASSWORD, base_url="https://localhost",
                headers={"Referer": "https://localhost/login"})
    assert r.status_code == 302, r.get_data(as_text=True)[:300]
    cookie = session_cookie(r).lower()
    assert "; secure" in cookie
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    assert client.get("/", base_url="https://localhost").status_code == 200


# --------------------------------------------------------------------------- CSRF

def test_login_without_csrf_token_is_rejected(client, org):
    r = client.post("/login", data={"username": "hq", "password": PASSWORD}, csrf=False)
    assert r.status_code == 400
    assert not signed_in(client)


def test_login_with_a_forged_csrf_token_is_rejected(client, org):
    r = client.post("/login", data={"username": "hq", "password": PASSWORD, "csrf_token": "forged"})
    assert r.status_code == 400
    assert not signed_in(client)


def test_logout_without_csrf_token_is_rejected(login_as):
    c = login_as("hq")
    assert c.post("/logout", csrf=False).status_code == 400
    assert signed_in(c)


def test_store_edit_without_csrf_token_is_rejected(login_as, org, db):
    c = login_as("hq")
    store = org.stores["sh1"]
    data = {"code": store.code, "name": "被篡改的名字", "city": store.city, "address": "",
            "status": "active", "tags": "", "appid": "", "owner_name": "", "owner_phone": "",
            "node_id": str(store.node_id)}
    assert c.post(f"/stores/{store.id}/edit", data=data, csrf=False).status_code == 400
    db.session.expire_all()
    assert db.session.get(Store, store.id).name == "上海南京路店"
    # The same form with its token goes through, so the 400 above was the missing token.
    assert c.post(f"/stores/{store.id}/edit", data=data).status_code == 302
    db.session.expire_all()
    assert db.session.get(Store, store.id).name == "被篡改的名字"


# --------------------------------------------------------------------------- sessions end

def _second_client(app, username: str):
    other = app.test_client()
    login(other, username)
    return other


def test_disabling_a_user_ends_their_session_and_enabling_lets_them_back(app, login_as, org, db):
    victim = _second_client(app, "sh_manager")
    assert signed_in(victim)
    admin = login_as("hq")
    uid = org.users["sh_manager"].id
    r = admin.post(f"/users/{uid}/active", data={"active": "0"})
    assert r.status_code == 302
    assert not signed_in(victim)
    assert attempt(victim, "sh_manager", PASSWORD, ip="10.0.0.20").status_code == 422

    assert admin.post(f"/users/{uid}/active", data={"active": "1"}).status_code == 302
    assert attempt(victim, "sh_manager", PASSWORD, ip="10.0.0.21").status_code == 302
    assert signed_in(victim)
    assert [e.object_label for e in actions(db, "user.disable")] == ["sh_manager"]
    assert [e.object_label for e in actions(db, "user.enable")] == ["sh_manager"]


def test_changing_password_ends_other_sessions_but_keeps_this_one(app, client, org, db):
    english(client)
    login(client, "sh_manager")
    other = _second_client(app, "sh_manager")
    assert signed_in(other)

    r = client.post("/account/password", data={"current": PASSWORD, "new": "brand-new-pass-7",
                                               "confirm": "brand-new-pass-7"})
    assert r.status_code == 302
    assert signed_in(client)
    assert not signed_in(other)

    assert attempt(app.test_client(), "sh_manager", PASSWORD, ip="10.0.0.30").status_code == 422
    assert attempt(app.test_client(), "sh_manager", "brand-new-pass-7", ip="10.0.0.31").status_code == 302
    entries = actions(db, "password.change")
    assert [(e.actor_name, e.object_label) for e in entries] == [("sh_manager", "sh_manager")]


def test_change_password_checks_the_current_one_and_the_rules(client, org, db):
    english(client)
    login(client, "owner1")
    before = db.session.get(User, org.users["owner1"].id).password_hash

    r = client.post("/account/password", data={"current": "not-mine-123", "new": "brand-new-pass-7",
                                               "confirm": "brand-new-pass-7"})
    assert r.status_code == 422
    assert "This is not your current password." in r.get_data(as_text=True)

    r = client.post("/account/password", data={"current": PASSWORD, "new": "short",
                                               "confirm": "short"})
    assert r.status_code == 422
    assert "At least 8 characters." in r.get_data(as_text=True)

    r = client.post("/account/password", data={"current": PASSWORD, "new": "brand-new-pass-7",
                                               "confirm": "brand-new-pass-8"})
    assert r.status_code == 422
    assert "The two passwords differ." in r.get_data(as_text=True)

    db.session.expire_all()
    assert db.session.get(User, org.users["owner1"].id).password_hash == before
    assert signed_in(client)
    assert actions(db, "password.change") == []


def test_change_password_needs_the_csrf_token(client, org, db):
    login(client, "owner1")
    r = client.post("/account/password", csrf=False,
                    data={"current": PASSWORD, "new": "brand-new-pass-7", "confirm": "brand-new-pass-7"})
    assert r.status_code == 400
    assert attempt(client.application.test_client(), "owner1", PASSWORD, ip="10.0.0.40").status_code == 302


def test_admin_password_reset_ends_the_users_sessions(app, login_as, org, db):
    victim = _second_client(app, "owner1")
    admin = login_as("east_admin")
    uid = org.users["owner1"].id
    r = admin.post(f"/users/{uid}/password", data={"password": "reset-by-admin-1"})
    assert r.status_code == 302
    assert not signed_in(victim)
    assert attempt(victim, "owner1", PASSWORD, ip="10.0.0.50").status_code == 422
    assert attempt(victim, "owner1", "reset-by-admin-1", ip="10.0.0.51").status_code == 302
    entries = actions(db, "user.password_reset")
    assert [(e.actor_name, e.object_label) for e in entries] == [("east_admin", "owner1")]
