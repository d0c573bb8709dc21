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
