"""Push history and a push's page, through the app."""

from portal.org.scope import scope_for
from portal.pushes import services as pushes
from portal.pushes.models import Push
from portal.targets.services import TargetSpec
from tests import factories
from tests.conftest import login


def _make_push(db, user, spec, **kw):
    _t, version = factories.make_template_version(user)
    push = pushes.create_push(scope_for(user), "template", version.id, "春季首页 v1", spec, actor=user, **kw)
    db.session.commit()
    return db.session.get(Push, push.id)


def test_history_and_detail_with_outcome_filter(client, org, db):
    # The skipped store is now one of east's own (closed): a foreign code no longer gets a row.
    factories.make_store(org.nodes["r_js"], "JS009", status="closed")
    push = _make_push(db, org.users["east_admin"], TargetSpec(store_codes=["SH001", "JS009", "JS001"]))
    login(client, "east_admin")
    html = client.get("/pushes").get_data(as_text=True)
    assert "春季首页 v1" in html
    page = client.get(f"/pushes/{push.id}").get_data(as_text=True)
    assert "SH001" in page and "JS009" in page
    skipped = client.get(f"/pushes/{push.id}?outcome=skipped", hx="delivery-rows").get_data(as_text=True)
    assert "<html" not in skipped and "JS009" in skipped and "SH001" not in skipped
    progress = client.get(f"/pushes/{push.id}/progress", hx="push-progress").get_data(as_text=True)
    assert 'data-state="done"' in progress and 'hx-trigger="every 1s"' not in progress


def test_push_pages_are_scoped(client, org, db):
    push = _make_push(db, org.users["south_admin"], TargetSpec(everything=True))
    login(client, "east_admin")
    assert "春季首页" not in client.get("/pushes").get_data(as_text=True)
    assert client.get(f"/pushes/{push.id}").status_code == 404
    assert client.post(f"/pushes/{push.id}/rollback").status_code == 404


def test_rollback_from_the_page(client, org, db):
    push = _make_push(db, org.users["hq"], TargetSpec(everything=True))
    login(client, "hq")
    r = client.post(f"/pushes/{push.id}/rollback")
    assert r.status_code == 302
    db.session.expire_all()
    assert db.session.get(Push, push.id).state == "rolled_back"
    # A second rollback is refused with a message, and changes nothing.
    client.post(f"/pushes/{push.id}/rollback")
    assert db.session.get(Push, push.id).state == "rolled_back"


def test_scheduled_push_waits_for_its_time_then_goes_out(client, org, db, app):
    from datetime import timedelta

    from portal.kernel.time import utcnow

    push = _make_push(db, org.users["hq"], TargetSpec(everything=True), scheduled_for=utcnow() + timedelta(hours=1))
    assert push.state == "scheduled" and push.total == 0
    assert pushes.dispatch_due() == 0
    db.session.get(Push, push.id).scheduled_for = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert pushes.dispatch_due() == 1
    db.session.expire_all()
    assert db.session.get(Push, push.id).state == "done"


def test_cancel_a_scheduled_push(client, org, db):
    from datetime import timedelta

    from portal.kernel.time import utcnow

    push = _make_push(db, org.users["hq"], TargetSpec(everything=True), scheduled_for=utcnow() + timedelta(days=1))
    login(client, "hq")
    assert client.post(f"/pushes/{push.id}/cancel").status_code == 302
    db.session.expire_all()
    assert db.session.get(Push, push.id).state == "cancelled"      # its own state now (issue point 13)
    assert pushes.dispatch_due() == 0


def test_a_cancelled_push_says_who_cancelled_it_in_the_readers_language(client, org, db):
    from datetime import timedelta

    from portal.kernel.time import utcnow

    push = _make_push(db, org.users["hq"], TargetSpec(everything=True), scheduled_for=utcnow() + timedelta(days=1))
    login(client, "hq")
    client.post(f"/pushes/{push.id}/cancel")
    page = client.get(f"/pushes/{push.id}").get_data(as_text=True)
    assert "已取消" in page and "已由hq取消" in page
    assert f"/pushes/{push.id}/rollback" not in page and "失败" not in page.split('id="push-progress"')[1][:400]
    # Stored as a key with its parameters: the English reader reads it in English.
    client.post("/language", data={"lang": "en"})
    page = client.get(f"/pushes/{push.id}").get_data(as_text=True)
    assert "Cancelled by hq" in page and "已由hq取消" not in page
    assert "Cancelled" in client.get("/pushes").get_data(as_text=True)
    # A cancelled push cannot be rolled back, nor cancelled again: refused with a message.
    r = client.post(f"/pushes/{push.id}/rollback", follow_redirects=True)
    assert r.status_code == 200 and "Only a finished push can be rolled back." in r.get_data(as_text=True)
    assert db.session.get(Push, push.id).state == "cancelled"


def test_cancel_loses_the_race_to_the_clock(client, org, db):
    """The clock sent the push out just before the cancel arrived: the cancel is refused with a
    message, and the push that went out is untouched."""
    from datetime import timedelta

    from portal.kernel.time import utcnow

    push = _make_push(db, org.users["hq"], TargetSpec(everything=True), scheduled_for=utcnow() + timedelta(days=1))
    login(client, "hq")
    page = client.get(f"/pushes/{push.id}").get_data(as_text=True)       # the admin sees the cancel button
    assert f"/pushes/{push.id}/cancel" in page
    db.session.get(Push, push.id).scheduled_for = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert pushes.dispatch_due() == 1
    r = client.post(f"/pushes/{push.id}/cancel", follow_redirects=True)
    assert r.status_code == 200 and "只有定时推送才能取消。" in r.get_data(as_text=True)
    push = db.session.get(Push, push.id)
    assert push.state == "done" and push.delivered == 5 and push.error == ""


def test_a_rollback_records_who_and_when_beside_the_push_itself(client, org, db):
    push = _make_push(db, org.users["east_admin"], TargetSpec(node_ids=[org.nodes["r_sh"].id]))
    finished, delivered = push.finished_at, push.delivered
    assert delivered == 2
    login(client, "hq")
    client.post(f"/pushes/{push.id}/rollback")
    push = db.session.get(Push, push.id)
    assert push.state == "rolled_back" and push.rollback_by_name == "hq"
    assert push.finished_at == finished and push.delivered == delivered and push.reverted == 2
    assert push.rollback_requested_at is not None and push.rolled_back_at >= push.rollback_requested_at
    page = client.get(f"/pushes/{push.id}").get_data(as_text=True)
    assert "回滚发起人" in page and "east_admin" in page      # both facts: who sent, who rolled back
    assert 'class="datagrid-content push-rollback-by">hq · ' in page and "回滚完成" in page
    history = client.get("/pushes").get_data(as_text=True)
    # Delivered, rolled back and who rolled it back when: separate cells, not one merged status.
    assert '<td class="text-end" data-count="delivered">2</td>' in history
    assert '<div data-count="reverted">2 家门店</div>' in history and "hq · " in history
