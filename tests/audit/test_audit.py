from datetime import UTC, datetime, timedelta

from portal.audit import services as audit
from portal.audit.models import AuditEntry
from tests.conftest import login


def _entries(db, org):
    hq = org.users["hq"]
    audit.record(hq, "store.update", "store", org.stores["sh1"].id, "上海南京路店 (SH001)", org.stores["sh1"].path)
    audit.record(hq, "store.update", "store", org.stores["gd1"].id, "广州天河店 (GD001)", org.stores["gd1"].path)
    old = audit.record(
        hq, "store.status", "store", org.stores["js1"].id, "南京新街口店 (JS001)", org.stores["js1"].path
    )
    old.created_at = datetime.now(UTC) - timedelta(days=40)
    db.session.commit()


def test_admins_see_only_their_subtree(client, org, db):
    _entries(db, org)
    login(client, "east_admin")
    html = client.get("/audit").get_data(as_text=True)
    assert "上海南京路店" in html and "南京新街口店" in html
    assert "广州天河店" not in html
    client.post("/logout")
    login(client, "hq")
    html = client.get("/audit").get_data(as_text=True)
    assert "广州天河店" in html


def test_filters_by_action_person_text_and_date(client, org, db):
    _entries(db, org)
    login(client, "hq")
    body = client.get("/audit?action=store.status", hx="audit-rows").get_data(as_text=True)
    assert "南京新街口店" in body and "上海南京路店" not in body and "<html" not in body
    body = client.get("/audit?q=天河", hx="audit-rows").get_data(as_text=True)
    assert "广州天河店" in body and "上海南京路店" not in body
    since = (datetime.now(UTC) - timedelta(days=7)).date().isoformat()
    body = client.get(f"/audit?from={since}&action=store.status", hx="audit-rows").get_data(as_text=True)
    assert "南京新街口店" not in body
    body = client.get("/audit?actor=nobody", hx="audit-rows").get_data(as_text=True)
    assert "上海南京路店" not in body
    # Bad dates are ignored rather than failing the page.
    assert client.get("/audit?from=yesterday").status_code == 200


def test_every_change_by_a_person_is_recorded(client, org, db):
    login(client, "hq")
    client.post(f"/stores/{org.stores['gd1'].id}/status", data={"status": "suspended"})
    client.post(f"/org/nodes/{org.nodes['r_js'].id}/edit", data={"action": "rename", "rename-name": "苏南区"})
    actions = [e.action for e in db.session.query(AuditEntry).order_by(AuditEntry.id)]
    assert actions == ["login", "store.status", "node.rename"]
    entry = db.session.query(AuditEntry).filter_by(action="store.status").one()
    assert entry.actor_name == "hq" and entry.path == org.nodes["r_gd"].path
    assert entry.details == {"status": ["active", "suspended"]}


def test_details_read_as_labels_not_codes(client, org, db):
    login(client, "hq")
    client.post(f"/stores/{org.stores['gd1'].id}/status", data={"status": "suspended"})
    body = client.get("/audit?action=store.status", hx="audit-rows").get_data(as_text=True)
    assert "营业中 → 已暂停" in body and "active" not in body


# --------------------------------------------------------------------------- issue 9: readable log

def _rows(client, query: str = "") -> str:
    return client.get(f"/audit{query}", hx="audit-rows").get_data(as_text=True)


def test_details_name_every_field_and_format_values(login_as, org, db):
    """No raw keys (``scheduled_for:``), no ISO instants, ¥ on money, labels on codes."""
    from portal.org.scope import scope_for
    from portal.pushes import services as pushes
    from portal.targets.services import TargetSpec

    hq = org.users["hq"]
    # 2031-03-01 02:00 UTC is 10:00 in the portal's time zone (Asia/Shanghai).
    when = datetime(2031, 3, 1, 2, 0, tzinfo=UTC)
    pushes.create_push(scope_for(hq), "template", 1, "春季首页 v1", TargetSpec(store_codes=["SH001"]),
                       actor=hq, target_label="上海区", scheduled_for=when)
    audit.record(hq, "listing.update", "store", org.stores["sh1"].id, "美式 (CF-1)", org.stores["sh1"].path,
                 {"price": "12.50", "stock": 1200})
    audit.record(hq, "listing.update", "store", org.stores["sh1"].id, "美式 (CF-1)", org.stores["sh1"].path,
                 {"on_shelf": False})
    db.session.commit()
    client = login_as("hq")
    push_row = _rows(client, "?action=push.create")
    assert "scheduled_for" not in push_row and "2031-03-01T" not in push_row
    assert "计划时间：</span> 2031-03-01 10:00" in push_row
    assert "类型：</span> 装修模板" in push_row and "上海区" in push_row
    shelf = _rows(client, "?action=listing.update")
    assert "¥12.50" in shelf and "1,200" in shelf and "上架：</span> 否" in shelf
    assert "on_shelf" not in shelf and "price:" not in shelf
    en = client.post("/language", data={"lang": "en"}) and _rows(client, "?action=push.create")
    assert "Scheduled for:</span> 2031-03-01 10:00" in en


def test_a_change_reads_old_to_new(login_as, org, db):
    client = login_as("hq")
    client.post(f"/users/{org.users['sh_manager'].id}/edit",
                data={"display_name": "沪区经理", "role": "regional_manager", "node_id": str(org.nodes["r_js"].id),
                      "store_code": ""})
    row = _rows(client, "?action=user.update")
    assert "姓名：</span> " in row and "→ 沪区经理" in row
    assert "display_name" not in row


def test_the_address_a_change_came_from_is_recorded_and_shown(make_app, org, db):
    """Behind one trusted proxy, the address is the client's (X-Forwarded-For), not the proxy's."""
    behind = make_app(TRUSTED_PROXIES=1)
    client = behind.test_client()
    headers = {"X-Forwarded-For": "203.0.113.9"}
    client.post("/login", data={"username": "hq", "password": "correct-horse-9"}, headers=headers,
                environ_base={"REMOTE_ADDR": "10.0.0.2"})
    client.post(f"/stores/{org.stores['gd1'].id}/status", data={"status": "suspended"}, headers=headers,
                environ_base={"REMOTE_ADDR": "10.0.0.2"})
    entry = db.session.query(AuditEntry).filter_by(action="store.status").one()
    assert entry.ip == "203.0.113.9"
    row = client.get("/audit?action=store.status", hx="audit-rows").get_data(as_text=True)
    assert "data-ip>203.0.113.9<" in row


def test_the_address_without_a_proxy_is_the_peer(client, org, db):
    """Without TRUSTED_PROXIES a forged X-Forwarded-For is not believed."""
    client.post("/login", data={"username": "hq", "password": "correct-horse-9"},
                headers={"X-Forwarded-For": "203.0.113.9"}, environ_base={"REMOTE_ADDR": "198.51.100.7"})
    entry = db.session.query(AuditEntry).filter_by(action="login").one()
    assert entry.ip == "198.51.100.7"


def test_sign_ins_are_folded_away_unless_asked_for(login_as, org, db):
    client = login_as("hq")
    client.post(f"/stores/{org.stores['gd1'].id}/status", data={"status": "suspended"})
    page = client.get("/audit").get_data(as_text=True)
    assert 'data-action="store.status"' in page and 'data-action="login"' not in page
    assert 'name="logins"' in page and "显示登录记录" in page
    shown = _rows(client, "?logins=1")
    assert 'data-action="login"' in shown and 'data-action="store.status"' in shown
    # Asking for sign-ins by the action filter shows them too.
    assert 'data-action="login"' in _rows(client, "?action=login")
    # The action filter is grouped by what the actions are about.
    assert '<optgroup label="门店">' in page and 'value="campaign.stop"' in page


def test_a_saved_target_names_its_org_units(login_as, org, db):
    client = login_as("hq")
    r = client.post("/targets/new", data={"name": "沪苏两区", "node_ids": [str(org.nodes["r_sh"].id),
                                                                       str(org.nodes["r_js"].id)],
                                          "active_only": "y"})
    assert r.status_code in (302, 303), r.get_data(as_text=True)[:2000]
    row = _rows(client, "?action=target.save")
    assert "上海区、江苏区" in row and "仅营业中门店：</span> 是" in row
    assert "node_ids" not in row and "active_only" not in row
