"""Users managed by admins inside their own subtree, through the real app: who may create whom
where, what they may see and change, field errors, and the audit trail."""
from __future__ import annotations

import html
import re
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from portal.audit.models import AuditEntry
from portal.org import roles
from portal.org.models import User
from tests.conftest import PASSWORD, login

NEW_PASSWORD = "initial-pass-1"


@pytest.fixture
def english(client):
    client.set_cookie("lang", "en")
    return client


def field_errors(response) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for name, text in re.findall(r'<div class="invalid-feedback" data-field="([^"]+)">(.*?)</div>',
                                 response.get_data(as_text=True), re.S):
        errors.setdefault(name, []).append(html.unescape(text))
    return errors


def user_form(username="new_user", role=roles.REGIONAL_MANAGER, node=None, store_code="",
              password=NEW_PASSWORD, display_name="新用户") -> dict:
    return {"username": username, "display_name": display_name, "role": role,
            "node_id": str(node.id) if node is not None else "", "store_code": store_code,
            "password": password}


def edit_form(user: User, **changes) -> dict:
    data = {"display_name": user.display_name, "role": user.role,
            "node_id": str(user.node_id or ""), "store_code": user.store.code if user.store else ""}
    data.update(changes)
    return data


def find_user(db, username: str) -> User | None:
    db.session.expire_all()
    return db.session.scalar(select(User).where(User.username == username))


def user_count(db) -> int:
    return db.session.scalar(select(func.count()).select_from(User))


def audit(db, action: str) -> list[AuditEntry]:
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action)
                                   .order_by(AuditEntry.id)))


def listed_usernames(response) -> set[str]:
    return set(re.findall(r"<tr>\s*<td>([^<]+)</td>", response.get_data(as_text=True)))


def signed_in(client) -> bool:
    r = client.get("/")
    if r.status_code == 200:
        return True
    assert r.status_code == 302 and urlsplit(r.location).path == "/login"
    return False


# --------------------------------------------------------------------------- who may come in

@pytest.mark.parametrize("who", ["sh_manager", "gd_manager", "owner1", "owner_gd"])
def test_non_admins_are_refused_every_user_page(login_as, org, db, who):
    c = login_as(who)
    target = org.users["east_admin"].id if who != "sh_manager" else org.users["owner1"].id
    before = user_count(db)
    assert c.get("/users").status_code == 403
    assert c.get("/users/new").status_code == 403
    assert c.post("/users/new", data=user_form(node=org.nodes["r_sh"])).status_code == 403
    assert c.get(f"/users/{target}/edit").status_code == 403
    assert c.post(f"/users/{target}/edit", data={"display_name": "x"}).status_code == 403
    assert c.post(f"/users/{target}/active", data={"active": "0"}).status_code == 403
    assert c.post(f"/users/{target}/password", data={"password": NEW_PASSWORD}).status_code == 403
    assert user_count(db) == before
    assert find_user(db, org.users["east_admin"].username).active
    assert find_user(db, org.users["owner1"].username).active


def test_anonymous_is_sent_to_sign_in(client, org):
    r = client.get("/users")
    assert r.status_code == 302 and urlsplit(r.location).path == "/login"
    r = client.post(f"/users/{org.users['owner1'].id}/active", data={"active": "0"})
    assert r.status_code == 302 and urlsplit(r.location).path == "/login"


# --------------------------------------------------------------------------- lists

def test_hq_sees_every_user(login_as, org):
    c = login_as("hq")
    r = c.get("/users")
    assert r.status_code == 200
    assert listed_usernames(r) == set(org.users)


def test_distributor_admin_sees_only_users_of_its_subtree(login_as, org):
    c = login_as("east_admin")
    r = c.get("/users")
    assert r.status_code == 200
    assert listed_usernames(r) == {"east_admin", "sh_manager", "owner1"}
    c = login_as("south_admin")
    assert listed_usernames(c.get("/users")) == {"south_admin", "gd_manager", "owner_gd"}


def test_user_search_serves_rows_fragment_to_htmx_and_full_page_otherwise(login_as, org):
    c = login_as("hq")
    r = c.get("/users?q=manager", hx="user-rows")
    assert r.status_code == 200
    body = r.get_data(as_text=True)
    assert "<html" not in body
    assert listed_usernames(r) == {"sh_manager", "gd_manager"}
    assert "HX-Request" in r.headers.get("Vary", "")
    r = c.get("/users?q=manager")
    assert "<html" in r.get_data(as_text=True)
    assert listed_usernames(r) == {"sh_manager", "gd_manager"}


# --------------------------------------------------------------------------- create

@pytest.mark.parametrize("role, place", [
    (roles.HQ_ADMIN, "hq"),
    (roles.DISTRIBUTOR_ADMIN, "south"),
    (roles.REGIONAL_MANAGER, "r_js"),
    (roles.STORE_OWNER, "GD001"),
    (roles.STORE_OWNER, "so001"),      # store codes are matched without regard to case
])
def test_hq_creates_users_of_every_role_at_the_right_place(app, login_as, org, db, role, place):
    c = login_as("hq")
    if role == roles.STORE_OWNER:
        data = user_form(role=role, store_code=place)
    else:
        data = user_form(role=role, node=org.nodes[place])
    r = c.post("/users/new", data=data)
    assert r.status_code == 302, field_errors(r)
    assert urlsplit(r.location).path == "/users"

    user = find_user(db, "new_user")
    assert user.role == role and user.active and user.display_name == "新用户"
    if role == roles.STORE_OWNER:
        assert user.store.code == place.upper() and user.node_id is None
    else:
        assert user.node_id == org.nodes[place].id and user.store_id is None
    assert user.password_hash != NEW_PASSWORD

    entries = audit(db, "user.create")
    assert [(e.actor_name, e.object_label, e.details["role"]) for e in entries] == \
        [("hq", "new_user", role)]
    assert entries[0].path == user.place_path

    assert "new_user" in listed_usernames(c.get("/users"))
    fresh = app.test_client()
    login(fresh, "new_user", NEW_PASSWORD)
    assert signed_in(fresh)


def test_new_usernames_are_stored_in_lower_case(app, login_as, org, db):
    c = login_as("hq")
    r = c.post("/users/new", data=user_form(username="Li.Lei-01", node=org.nodes["r_sh"]))
    assert r.status_code == 302, field_errors(r)
    assert find_user(db, "li.lei-01") is not None
    login(app.test_client(), "Li.Lei-01", NEW_PASSWORD)


def test_distributor_admin_creates_users_inside_its_subtree(login_as, org, db):
    c = login_as("east_admin")
    cases = [("rm_js", roles.REGIONAL_MANAGER, org.nodes["r_js"], ""),
             ("owner_js", roles.STORE_OWNER, None, "JS001"),
             ("east_admin2", roles.DISTRIBUTOR_ADMIN, org.nodes["east"], "")]
    for username, role, node, code in cases:
        r = c.post("/users/new", data=user_form(username=username, role=role, node=node, store_code=code))
        assert r.status_code == 302, (username, field_errors(r))
    assert find_user(db, "rm_js").node_id == org.nodes["r_js"].id
    assert find_user(db, "owner_js").store_id == org.stores["js1"].id
    assert find_user(db, "east_admin2").node_id == org.nodes["east"].id
    assert [e.object_label for e in audit(db, "user.create")] == ["rm_js", "owner_js", "east_admin2"]
    assert {e.actor_name for e in audit(db, "user.create")} == {"east_admin"}


def test_role_choices_stop_at_the_admins_own_rank(login_as, org):
    c = login_as("east_admin")
    page = c.get("/users/new").get_data(as_text=True)
    assert 'value="hq_admin"' not in page
    for role in (roles.DISTRIBUTOR_ADMIN, roles.REGIONAL_MANAGER, roles.STORE_OWNER):
        assert f'value="{role}"' in page
    # Only places of its own subtree are offered.
    assert f'value="{org.nodes["r_sh"].id}"' in page
    assert f'value="{org.nodes["r_gd"].id}"' not in page
    assert f'value="{org.nodes["hq"].id}"' not in page


def test_distributor_admin_cannot_create_an_hq_admin(login_as, org, db, english):
    c = login_as("east_admin")
    before = user_count(db)
    for node in ("hq", "east"):
        r = c.post("/users/new", data=user_form(role=roles.HQ_ADMIN, node=org.nodes[node]))
        assert r.status_code == 422
        assert "role" in field_errors(r)
    assert user_count(db) == before
    assert audit(db, "user.create") == []


@pytest.mark.parametrize("role, place, field, message", [
    (roles.REGIONAL_MANAGER, "r_gd", "node_id", "Choose a place within your part of the organization."),
    (roles.DISTRIBUTOR_ADMIN, "south", "node_id", "Choose a place within your part of the organization."),
    (roles.STORE_OWNER, "GD001", "store_code", "No store with this code in your part of the organization."),
    (roles.STORE_OWNER, "SO001", "store_code", "No store with this code in your part of the organization."),
])
def test_distributor_admin_cannot_bind_a_user_outside_its_subtree(login_as, org, db, english,
                                                                  role, place, field, message):
    c = login_as("east_admin")
    before = user_count(db)
    if role == roles.STORE_OWNER:
        data = user_form(role=role, store_code=place)
    else:
        data = user_form(role=role, node=org.nodes[place])
    r = c.post("/users/new", data=data)
    assert r.status_code == 422
    assert field_errors(r) == {field: [message]}
    assert user_count(db) == before
    assert find_user(db, "new_user") is None
    assert audit(db, "user.create") == []


@pytest.mark.parametrize("role, place, field, message", [
    (roles.REGIONAL_MANAGER, "east", "node_id", "This role must be bound to a region."),
    (roles.DISTRIBUTOR_ADMIN, "r_sh", "node_id", "This role must be bound to a distributor."),
    (roles.HQ_ADMIN, "east", "node_id", "This role must be bound to a HQ."),
    (roles.REGIONAL_MANAGER, None, "node_id", "Choose a place within your part of the organization."),
    (roles.STORE_OWNER, "", "store_code", "No store with this code in your part of the organization."),
    (roles.STORE_OWNER, "NOPE01", "store_code", "No store with this code in your part of the organization."),
])
def test_role_must_be_bound_to_the_matching_kind_of_place(login_as, org, db, english,
                                                          role, place, field, message):
    c = login_as("hq")
    before = user_count(db)
    if role == roles.STORE_OWNER:
        data = user_form(role=role, store_code=place)
    else:
        data = user_form(role=role, node=org.nodes[place] if place else None)
    r = c.post("/users/new", data=data)
    assert r.status_code == 422
    errors = field_errors(r)
    assert list(errors) == [field]
    assert errors[field][0].lower() == message.lower()
    assert user_count(db) == before


def test_unknown_role_is_refused(login_as, org, db):
    c = login_as("hq")
    r = c.post("/users/new", data=user_form(role="superuser", node=org.nodes["hq"]))
    assert r.status_code == 422
    assert "role" in field_errors(r)
    assert find_user(db, "new_user") is None


@pytest.mark.parametrize("username", ["sh_manager", "SH_Manager", " owner1 "])
def test_duplicate_username_is_a_field_error(login_as, org, db, english, username):
    c = login_as("hq")
    before = user_count(db)
    r = c.post("/users/new", data=user_form(username=username, node=org.nodes["r_js"]))
    assert r.status_code == 422
    assert field_errors(r) == {"username": ["This username is taken."]}
    assert user_count(db) == before


@pytest.mark.parametrize("username", ["", "ab", "has space", "中文名字", "semi;colon", "a" * 65,
                                      "<script>"])
def test_username_rules(login_as, org, db, english, username):
    c = login_as("hq")
    before = user_count(db)
    r = c.post("/users/new", data=user_form(username=username, node=org.nodes["r_js"]))
    assert r.status_code == 422
    assert list(field_errors(r)) == ["username"]
    assert user_count(db) == before
    assert "<script>" not in r.get_data(as_text=True).split("<body", 1)[1]


@pytest.mark.parametrize("password", ["", "short", "1234567"])
def test_initial_password_must_be_long_enough(login_as, org, db, english, password):
    c = login_as("hq")
    r = c.post("/users/new", data=user_form(node=org.nodes["r_js"], password=password))
    assert r.status_code == 422
    assert list(field_errors(r)) == ["password"]
    if password:
        assert field_errors(r)["password"] == ["At least 8 characters."]
    assert find_user(db, "new_user") is None


def test_create_user_needs_the_csrf_token(login_as, org, db):
    c = login_as("hq")
    r = c.post("/users/new", data=user_form(node=org.nodes["r_js"]), csrf=False)
    assert r.status_code == 400
    assert find_user(db, "new_user") is None


# --------------------------------------------------------------------------- outside the scope

@pytest.mark.parametrize("target", ["hq", "south_admin", "gd_manager", "owner_gd"])
def test_distributor_admin_gets_404_for_users_outside_its_subtree(login_as, org, db, target):
    c = login_as("east_admin")
    user = org.users[target]
    uid, old_hash, old_name = user.id, user.password_hash, user.display_name
    assert c.get(f"/users/{uid}/edit").status_code == 404
    r = c.post(f"/users/{uid}/edit", data={"display_name": "hacked", "role": user.role,
                                            "node_id": str(user.node_id or ""), "store_code": ""})
    assert r.status_code == 404
    assert c.post(f"/users/{uid}/active", data={"active": "0"}).status_code == 404
    assert c.post(f"/users/{uid}/password", data={"password": "taken-over-1"}).status_code == 404

    db.session.expire_all()
    user = db.session.get(User, uid)
    assert user.active and user.password_hash == old_hash and user.display_name == old_name
    assert audit(db, "user.disable") == [] and audit(db, "user.password_reset") == []
    # hq can still sign in with the old password
    login(c.application.test_client(), user.username, PASSWORD)


def test_unknown_user_id_is_404(login_as, org):
    c = login_as("hq")
    assert c.get("/users/999999/edit").status_code == 404
    assert c.post("/users/999999/active", data={"active": "0"}).status_code == 404


# --------------------------------------------------------------------------- edit

def test_hq_edits_a_user_and_moving_them_ends_their_sessions(app, login_as, org, db):
    victim = app.test_client()
    login(victim, "sh_manager")
    c = login_as("east_admin")
    user = org.users["sh_manager"]
    assert c.get(f"/users/{user.id}/edit").status_code == 200
    r = c.post(f"/users/{user.id}/edit", data=edit_form(user, display_name="王经理",
                                                          node_id=str(org.nodes["r_js"].id)))
    assert r.status_code == 302, field_errors(r)
    moved = find_user(db, "sh_manager")
    assert moved.display_name == "王经理" and moved.node_id == org.nodes["r_js"].id
    assert not signed_in(victim)
    [entry] = audit(db, "user.update")
    assert entry.actor_name == "east_admin" and set(entry.details["changes"]) == {"display_name", "place"}


def test_distributor_admin_cannot_move_or_promote_a_user_out_of_reach(login_as, org, db, english):
    c = login_as("east_admin")
    user = org.users["sh_manager"]
    r = c.post(f"/users/{user.id}/edit", data=edit_form(user, node_id=str(org.nodes["r_gd"].id)))
    assert r.status_code == 422
    assert field_errors(r) == {"node_id": ["Choose a place within your part of the organization."]}
    r = c.post(f"/users/{user.id}/edit", data=edit_form(user, role=roles.HQ_ADMIN,
                                                          node_id=str(org.nodes["hq"].id)))
    assert r.status_code == 422
    assert "role" in field_errors(r)
    owner = org.users["owner1"]
    r = c.post(f"/users/{owner.id}/edit", data=edit_form(owner, store_code="GD001"))
    assert r.status_code == 422
    assert field_errors(r) == {"store_code": ["No store with this code in your part of the organization."]}

    db.session.expire_all()
    assert db.session.get(User, user.id).node_id == org.nodes["r_sh"].id
    assert db.session.get(User, user.id).role == roles.REGIONAL_MANAGER
    assert db.session.get(User, owner.id).store_id == org.stores["sh1"].id
    assert audit(db, "user.update") == []


def test_an_admin_cannot_change_their_own_role_or_place(login_as, org, db, english):
    c = login_as("east_admin")
    me = org.users["east_admin"]
    r = c.post(f"/users/{me.id}/edit", data=edit_form(me, role=roles.REGIONAL_MANAGER,
                                                        node_id=str(org.nodes["r_sh"].id)))
    assert r.status_code == 422
    assert field_errors(r) == {"role": ["You cannot change your own role."]}
    db.session.expire_all()
    assert db.session.get(User, me.id).role == roles.DISTRIBUTOR_ADMIN


# --------------------------------------------------------------------------- disable, reset

@pytest.mark.parametrize("who", ["hq", "east_admin"])
def test_nobody_can_disable_themselves(login_as, org, db, who):
    c = login_as(who)
    uid = org.users[who].id
    assert c.post(f"/users/{uid}/active", data={"active": "0"}).status_code == 403
    db.session.expire_all()
    assert db.session.get(User, uid).active
    assert signed_in(c)
    assert audit(db, "user.disable") == []


def test_disable_and_enable_are_audited_and_shown(app, login_as, org, db, english):
    c = login_as("east_admin")
    uid = org.users["owner1"].id
    r = c.post(f"/users/{uid}/active", data={"active": "0"})
    assert r.status_code == 302
    page = c.get("/users").get_data(as_text=True)
    assert "owner1 is disabled and has been signed out everywhere." in page
    assert not find_user(db, "owner1").active
    c.post(f"/users/{uid}/active", data={"active": "1"})
    assert find_user(db, "owner1").active
    assert [(e.actor_name, e.object_label, e.path) for e in audit(db, "user.disable")] == \
        [("east_admin", "owner1", org.stores["sh1"].path)]
    assert [e.object_label for e in audit(db, "user.enable")] == ["owner1"]
    # The entries show in the east admin's audit log, not in the south admin's.
    assert "owner1" in c.get("/audit?action=user.disable").get_data(as_text=True)
    south = login_as("south_admin")
    assert "owner1" not in south.get("/audit?action=user.disable").get_data(as_text=True)


def test_disable_needs_the_csrf_token(login_as, org, db):
    c = login_as("hq")
    uid = org.users["owner1"].id
    assert c.post(f"/users/{uid}/active", data={"active": "0"}, csrf=False).status_code == 400
    assert find_user(db, "owner1").active


def test_reset_password_rules_and_audit(app, login_as, org, db, english):
    c = login_as("hq")
    uid = org.users["gd_manager"].id
    r = c.post(f"/users/{uid}/password", data={"password": "short"})
    assert r.status_code == 422
    assert field_errors(r) == {"password": ["At least 8 characters."]}
    login(app.test_client(), "gd_manager", PASSWORD)      # unchanged

    r = c.post(f"/users/{uid}/password", data={"password": "fresh-start-22"})
    assert r.status_code == 302
    login(app.test_client(), "gd_manager", "fresh-start-22")
    assert [(e.actor_name, e.object_label) for e in audit(db, "user.password_reset")] == \
        [("hq", "gd_manager")]


def test_reset_password_needs_the_csrf_token(app, login_as, org, db):
    c = login_as("hq")
    uid = org.users["gd_manager"].id
    assert c.post(f"/users/{uid}/password", data={"password": "fresh-start-22"}, csrf=False).status_code == 400
    login(app.test_client(), "gd_manager", PASSWORD)


def test_enable_disable_needs_an_explicit_choice(client, org, db):
    login(client, "hq")
    uid = org.users["sh_manager"].id
    assert client.post(f"/users/{uid}/active", data={}).status_code == 400
    assert db.session.get(User, uid).active is True


def test_admins_change_their_own_password_from_the_account_page(client, org):
    login(client, "east_admin")
    me = org.users["east_admin"].id
    # Not reachable through the user list (their own row has no edit link), and refused here.
    r = client.post(f"/users/{me}/password", data={"password": "another-pass-1"})
    assert r.status_code in (403, 404)
    client.post("/logout")
    login(client, "east_admin")          # the old password still works


def test_guessing_the_current_password_is_throttled(client, org, app):
    login(client, "owner1")
    limit = int(app.config["LOGIN_LIMIT_ACCOUNT_IP"].split()[0])
    for _ in range(limit):
        r = client.post(
            "/account/password", data={"current": "wrong-guess", "new": "n3w-password", "confirm": "n3w-password"}
        )
        assert r.status_code == 422
    r = client.post("/account/password", data={"current": PASSWORD, "new": "n3w-password", "confirm": "n3w-password"})
    assert r.status_code == 429
