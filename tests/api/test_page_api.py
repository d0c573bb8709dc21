"""The mini-program read API (GET /api/v1/stores/<code>/page) and its keys, through the real app."""
from __future__ import annotations

import re

from sqlalchemy import select

from portal.api.models import StoreApiKey
from portal.api.services import issue_key
from portal.audit.models import AuditEntry
from portal.decoration import services as deco
from portal.org import services as org_services
from portal.org.models import Store
from portal.org.scope import scope_for
from portal.pushes import services as pushes
from portal.targets.services import TargetSpec
from tests import factories
from tests.conftest import login
from tests.factories import sql_log

KEY = re.compile(r"fp_[0-9a-f]{10}_[A-Za-z0-9_-]{43}")


def _key(db, store) -> str:
    _row, plain = issue_key(store, actor=None)
    db.session.commit()
    return plain


def _get(client, code: str, key: str | None, etag: str | None = None, **headers):
    if key is not None:
        headers["Authorization"] = f"Bearer {key}"
    if etag is not None:
        headers["If-None-Match"] = etag
    return client.get(f"/api/v1/stores/{code}/page", headers=headers)


def _push(db, user, version, spec: TargetSpec):
    pushes.create_push(scope_for(user), "template", version.id, f"v{version.number}", spec, actor=user)
    db.session.commit()             # the push job runs at the commit (eagerly in tests)
    db.session.expire_all()


def _pushed_page(db, org):
    """HQ pushes a page (a locked banner, an editable notice) to the Shanghai region."""
    hq = org.users["hq"]
    template, version = factories.make_template_version(hq)
    db.session.commit()
    _push(db, hq, version, TargetSpec(node_ids=[org.nodes["r_sh"].id]))
    notice = next(b for b in version.blocks if b["type"] == "notice")
    return template, version, notice


def _edit_notice(db, org, notice, text: str):
    owner = org.users["owner1"]
    deco.save_override(scope_for(owner), org.stores["sh1"], notice["key"], {"text": text, "link": ""}, actor=owner)
    db.session.commit()


# --------------------------------------------------------------------------- reading the page

def test_page_after_a_push_has_the_version_blocks_and_the_store_edit(client, db, org):
    template, version, notice = _pushed_page(db, org)
    _edit_notice(db, org, notice, "本店周末会员双倍积分")
    key = _key(db, org.stores["sh1"])

    r = _get(client, "SH001", key)
    assert r.status_code == 200
    assert r.mimetype == "application/json"
    page = r.get_json()
    assert page["store"] == {"code": "SH001", "name": "上海南京路店"}
    assert page["template"] == {"id": template.id, "name": "春季首页"}
    assert page["version"] == version.number == 1
    assert [b["type"] for b in page["blocks"]] == ["banner", "notice"]
    banner, shown_notice = page["blocks"]
    assert banner["editable"] is False and banner["customized"] is False
    assert shown_notice["editable"] is True and shown_notice["customized"] is True
    assert shown_notice["data"]["text"] == "本店周末会员双倍积分"
    # Another store of the push sees HQ's notice, not sh1's edit.
    other = _get(client, "SH002", _key(db, org.stores["sh2"])).get_json()
    assert other["blocks"][1]["data"]["text"] == notice["data"]["text"]
    assert other["blocks"][1]["customized"] is False
    # A strong validator, revalidated on every launch, and no session cookie.
    assert r.headers["ETag"].startswith('"') and not r.headers["ETag"].startswith("W/")
    assert "no-cache" in r.headers["Cache-Control"]
    assert "Set-Cookie" not in r.headers


def test_matching_if_none_match_gets_304_without_reading_blocks(app, client, db, org):
    _pushed_page(db, org)
    key = _key(db, org.stores["sh1"])
    etag = _get(client, "SH001", key).headers["ETag"]

    with sql_log() as statements:
        r = _get(client, "SH001", key, etag)

    assert r.status_code == 304
    assert r.data == b""
    assert r.headers["ETag"] == etag
    assert "no-cache" in r.headers["Cache-Control"]
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 2, selects          # the key (with its store), the page fingerprint
    assert not any("template_versions" in s or "block_overrides.data" in s for s in selects), selects
    # A stale or foreign tag gets the full page.
    assert _get(client, "SH001", key, '"something-else"').status_code == 200


def test_etag_changes_after_a_new_push_a_store_edit_and_a_page_edit(client, db, org):
    _t, _v1, notice = _pushed_page(db, org)
    key = _key(db, org.stores["sh1"])
    first = _get(client, "SH001", key).headers["ETag"]
    assert _get(client, "SH001", key).headers["ETag"] == first          # stable while nothing changes

    # HQ publishes and pushes a new version.
    hq = org.users["hq"]
    template = db.session.get(type(_t), _t.id)
    v2 = deco.publish(scope_for(hq), template, "v2", actor=hq)
    db.session.commit()
    _push(db, hq, v2, TargetSpec(node_ids=[org.nodes["r_sh"].id]))
    r = _get(client, "SH001", key, first)
    assert r.status_code == 200 and r.get_json()["version"] == 2
    second = r.headers["ETag"]
    assert second != first

    # The store is renamed: its name is in the JSON.
    store = db.session.get(Store, org.stores["sh1"].id)
    data = {k: getattr(store, k) for k in org_services.STORE_FIELDS}
    org_services.update_store(scope_for(hq), store, {**data, "name": "上海南京东路旗舰店"}, store.node,
                              store.tag_names, actor=hq)
    db.session.commit()
    r = _get(client, "SH001", key, second)
    assert r.status_code == 200 and r.get_json()["store"]["name"] == "上海南京东路旗舰店"
    third = r.headers["ETag"]
    assert third != second

    # The owner edits an editable block.
    _edit_notice(db, org, notice, "新品上市")
    r = _get(client, "SH001", key, third)
    assert r.status_code == 200 and r.get_json()["blocks"][1]["data"]["text"] == "新品上市"
    assert r.headers["ETag"] != third


def test_a_store_without_a_page_gets_an_empty_page(client, db, org):
    key = _key(db, org.stores["gd1"])
    r = _get(client, "GD001", key)
    assert r.status_code == 200
    assert r.get_json() == {"store": {"code": "GD001", "name": "广州天河店"}, "template": None,
                            "version": None, "blocks": []}
    assert _get(client, "GD001", key, r.headers["ETag"]).status_code == 304


# --------------------------------------------------------------------------- refusals

def test_missing_bad_or_revoked_key_is_a_json_401(client, db, org):
    _pushed_page(db, org)
    key = _key(db, org.stores["sh1"])
    prefix = key.split("_")[1]
    for headers in ({}, {"Authorization": "Bearer"}, {"Authorization": "Basic c2gxOnB3"},
                    {"Authorization": f"Bearer {key}x"}, {"Authorization": f"Bearer fp_{prefix}_wrong"},
                    {"Authorization": "Bearer fp_0000000000_" + "a" * 43}, {"Authorization": "Bearer nonsense"}):
        r = client.get("/api/v1/stores/SH001/page", headers=headers)
        assert r.status_code == 401, headers
        assert r.get_json()["error"]["code"] == "unauthorized" and r.get_json()["error"]["message"]
        assert r.headers["WWW-Authenticate"].startswith("Bearer")
    assert _get(client, "SH001", key).status_code == 200

    login(client, "hq")
    row = db.session.scalar(select(StoreApiKey).where(StoreApiKey.prefix == prefix))
    assert client.post(f"/stores/{row.store_id}/api-keys/{row.id}/revoke").status_code == 303
    r = _get(client, "SH001", key)
    assert r.status_code == 401 and r.get_json()["error"]["code"] == "unauthorized"


def test_another_stores_key_is_404_like_an_unknown_store(client, db, org):
    _pushed_page(db, org)
    sh2_key = _key(db, org.stores["sh2"])
    foreign = _get(client, "SH001", sh2_key)
    unknown = _get(client, "NOPE01", sh2_key)
    assert foreign.status_code == unknown.status_code == 404
    assert foreign.get_json() == unknown.get_json()
    assert foreign.get_json()["error"]["code"] == "not_found"
    assert "SH001" not in foreign.get_data(as_text=True) and "上海" not in foreign.get_data(as_text=True)
    assert _get(client, "SH002", sh2_key).status_code == 200


# --------------------------------------------------------------------------- managing keys

def _issue(client, store_id: int):
    r = client.post(f"/stores/{store_id}/api-keys")
    assert r.status_code == 200, r.status_code
    body = r.get_data(as_text=True)
    return r, KEY.search(body).group(0)


def test_hq_issues_a_key_shown_once_then_revokes_it(client, db, org):
    _pushed_page(db, org)
    sh1 = org.stores["sh1"]
    login(client, "hq")
    assert "api-keys" in client.get(f"/stores/{sh1.id}").get_data(as_text=True)      # the card

    # The key forms keep CSRF (only the read API is exempt).
    assert client.post(f"/stores/{sh1.id}/api-keys", csrf=False).status_code == 400
    assert db.session.scalar(select(StoreApiKey.id)) is None

    r, key = _issue(client, sh1.id)
    assert "no-store" in r.headers["Cache-Control"]
    assert _get(client, "SH001", key).status_code == 200

    # Stored only as a hash; the store page lists it by prefix, never in full.
    row = db.session.scalar(select(StoreApiKey).where(StoreApiKey.store_id == sh1.id))
    assert row.prefix == key.split("_")[1] and key not in (row.key_hash, row.prefix)
    page = client.get(f"/stores/{sh1.id}").get_data(as_text=True)
    assert f"fp_{row.prefix}_" in page and key not in page and not KEY.search(page)
    with client.session_transaction() as sess:
        assert key not in str(dict(sess))
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "apikey.create",
                                                      AuditEntry.object_id == sh1.id)) is not None

    # A second key, then the first is revoked: the second keeps working.
    _r, second = _issue(client, sh1.id)
    r = client.post(f"/stores/{sh1.id}/api-keys/{row.id}/revoke")
    assert r.status_code == 303 and r.headers["Location"].endswith(f"/stores/{sh1.id}")
    card = client.get(f"/stores/{sh1.id}").get_data(as_text=True).split('id="api-keys"')[1]
    assert f"fp_{row.prefix}_" not in card and f"fp_{second.split('_')[1]}_" in card
    assert _get(client, "SH001", key).status_code == 401
    assert _get(client, "SH001", second).status_code == 200
    assert db.session.get(StoreApiKey, row.id).revoked_at is not None
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "apikey.revoke")) is not None
    # Revoking again changes nothing.
    assert client.post(f"/stores/{sh1.id}/api-keys/{row.id}/revoke").status_code == 303


def test_distributor_admin_manages_keys_in_its_subtree_only(client, db, org):
    sh1, gd1 = org.stores["sh1"], org.stores["gd1"]
    gd_row, gd_key = issue_key(gd1, actor=None)
    db.session.commit()
    login(client, "east_admin")
    _r, key = _issue(client, sh1.id)
    assert _get(client, "SH001", key).status_code == 200
    assert client.post(f"/stores/{gd1.id}/api-keys").status_code == 404
    assert client.post(f"/stores/{gd1.id}/api-keys/{gd_row.id}/revoke").status_code == 404
    # Another store's key through one's own store: not found either, and still valid.
    assert client.post(f"/stores/{sh1.id}/api-keys/{gd_row.id}/revoke").status_code == 404
    assert _get(client, "GD001", gd_key).status_code == 200
    assert db.session.scalar(select(StoreApiKey.id).where(StoreApiKey.store_id == gd1.id)) == gd_row.id


def test_regional_managers_and_store_owners_cannot_manage_keys(client, db, org):
    sh1 = org.stores["sh1"]
    row, key = issue_key(sh1, actor=None)
    db.session.commit()
    for user in ("sh_manager", "owner1"):
        login(client, user)
        assert "api-keys" not in client.get(f"/stores/{sh1.id}").get_data(as_text=True)
        assert client.post(f"/stores/{sh1.id}/api-keys").status_code == 403
        assert client.post(f"/stores/{sh1.id}/api-keys/{row.id}/revoke").status_code == 403
        client.post("/logout")
    assert db.session.scalar(select(StoreApiKey).where(StoreApiKey.store_id == sh1.id)).revoked_at is None
    assert _get(client, "SH001", key).status_code == 200


def test_cli_issues_a_working_key(app, client, db, org):
    result = app.test_cli_runner().invoke(args=["issue-api-key", "GD001"])
    assert result.exit_code == 0, result.output
    key = result.stdout.strip()
    assert KEY.fullmatch(key)
    assert _get(client, "GD001", key).status_code == 200
    assert _get(client, "SH001", key).status_code == 404

    missing = app.test_cli_runner().invoke(args=["issue-api-key", "NOPE01"])
    assert missing.exit_code != 0 and "NOPE01" in missing.output
