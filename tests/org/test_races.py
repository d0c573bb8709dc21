"""Two admins changing one store's status at once: the second is told, nothing of it is written."""
from __future__ import annotations

from sqlalchemy import func, select

from portal.audit.models import AuditEntry
from portal.org.models import Store
from tests import factories
from tests.conftest import login


def test_a_status_change_that_loses_to_another_answers_409(app, client, org, db):
    sh1 = org.stores["sh1"].id
    other = app.test_client()
    login(other, "hq")
    login(client, "east_admin")

    def hq_suspends():
        assert other.post(f"/stores/{sh1}/status", data={"status": "suspended"}).status_code == 302

    with factories.just_before("UPDATE stores", hq_suspends):
        r = client.post(f"/stores/{sh1}/status", data={"status": "closed"})
    assert r.status_code == 409 and "刚才已有其他人修改了此门店的状态" in r.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Store, sh1).status == "suspended"
    entries = db.session.scalars(select(AuditEntry.details).where(AuditEntry.action == "store.status")).all()
    assert entries == [{"status": ["active", "suspended"]}]


def test_enable_and_disable_at_once_the_second_is_told(app, client, org, db):
    from portal.org.models import User

    target = org.users["sh_manager"].id
    other = app.test_client()
    login(other, "hq")
    login(client, "east_admin")

    def hq_disables():
        assert other.post(f"/users/{target}/active", data={"active": "0"}).status_code == 302

    with factories.just_before("UPDATE users", hq_disables):
        r = client.post(f"/users/{target}/active", data={"active": "0"})
    assert r.status_code == 409 and "刚才已有其他人启用或停用了此用户" in r.get_data(as_text=True)
    db.session.expire_all()
    user = db.session.get(User, target)
    assert not user.active and user.session_version == 2        # bumped once, not twice
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)
                             .where(AuditEntry.action == "user.disable")) == 1
