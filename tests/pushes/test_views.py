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
    push = _make_push(db, org.users["east_admin"], TargetSpec(store_codes=["SH001", "GD001", "JS001"]))
    login(client, "east_admin")
    html = client.get("/pushes").get_data(as_text=True)
    assert "春季首页 v1" in html
    page = client.get(f"/pushes/{push.id}").get_data(as_text=True)
    assert "SH001" in page and "GD001" in page
    skipped = client.get(f"/pushes/{push.id}?outcome=skipped", hx="delivery-rows").get_data(as_text=True)
    assert "<html" not in skipped and "GD001" in skipped and "SH001" not in skipped
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

    from portal.org.models import utcnow

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

    from portal.org.models import utcnow

    push = _make_push(db, org.users["hq"], TargetSpec(everything=True), scheduled_for=utcnow() + timedelta(days=1))
    login(client, "hq")
    assert client.post(f"/pushes/{push.id}/cancel").status_code == 302
    db.session.expire_all()
    assert db.session.get(Push, push.id).state == "cancelled"      # its own state now (issue point 13)
    assert pushes.dispatch_due() == 0
