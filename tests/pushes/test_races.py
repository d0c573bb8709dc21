"""An admin's button pressed while the clock or another admin changes the push: the later write
is refused with 409 and a message, and changes nothing."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from portal.audit.models import AuditEntry
from portal.extensions import db
from portal.kernel.time import utcnow
from portal.org.scope import scope_for
from portal.pushes import services as pushes
from portal.pushes.models import Push
from portal.targets.services import TargetSpec
from tests import factories
from tests.conftest import login


def _push(user, **kw):
    _t, version = factories.make_template_version(user)
    push = pushes.create_push(scope_for(user), "template", version.id, "春季首页 v1", TargetSpec(everything=True),
                              actor=user, **kw)
    db.session.commit()
    return push.id


def _audits(action: str) -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == action))


def test_a_cancel_that_loses_to_the_start_answers_409(client, org):
    push_id = _push(org.users["hq"], scheduled_for=utcnow() + timedelta(days=1))
    db.session.get(Push, push_id).scheduled_for = utcnow() - timedelta(seconds=1)
    db.session.commit()
    login(client, "hq")
    # The cancel has read the push (scheduled); the clock starts it before the cancel's write.
    with factories.just_before("UPDATE pushes", pushes.dispatch_due):
        r = client.post(f"/pushes/{push_id}/cancel")
    assert r.status_code == 409
    assert "取消到达之前推送已经开始" in r.get_data(as_text=True)
    db.session.expire_all()
    push = db.session.get(Push, push_id)
    assert push.state == "done" and push.delivered == 5 and push.error == ""
    assert _audits("push.cancel") == 0


def test_two_rollbacks_at_once_roll_back_once(app, client, org):
    push_id = _push(org.users["hq"])
    other = app.test_client()
    login(other, "hq")
    login(client, "hq")

    def other_rolls_back():
        assert other.post(f"/pushes/{push_id}/rollback").status_code == 302

    with factories.just_before("UPDATE pushes", other_rolls_back):
        r = client.post(f"/pushes/{push_id}/rollback")
    assert r.status_code == 409 and "刚才已有其他人回滚或重试了此推送" in r.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Push, push_id).state == "rolled_back"
    assert _audits("push.rollback") == 1
