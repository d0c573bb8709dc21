"""A push whose worker died resumes by itself within a minute; a push whose runner is alive (even
in a long batch) is never taken over, and two runners never deliver twice."""
import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.decoration.models import StorePage
from portal.decoration.services import TemplatePush
from portal.extensions import db as _db
from portal.jobs import clock_tick, make_celery
from portal.kernel.time import utcnow
from portal.org.scope import scope_for
from portal.pushes import services as pushes
from portal.pushes.models import Delivery, Push
from portal.targets.services import TargetSpec
from tests import factories
from tests.conftest import login
from tests.factories import age_heartbeat


def _crashed_push(app, db, org, stores=20, batch_size=5):
    """A push whose worker died after its first batch: left running, its progress kept."""
    hq = org.users["hq"]
    for i in range(stores - len(org.stores)):
        factories.make_store(org.nodes["r_js"], f"JSS{i:03d}")
    _t, v1 = factories.make_template_version(hq)
    db.session.commit()
    with factories.jobs_dropped():
        push = pushes.create_push(scope_for(hq), "template", v1.id, "春季首页", TargetSpec(everything=True), actor=hq)
    pushes.run_push(push.id, batch_size=batch_size, max_batches=1)      # the worker dies here
    db.session.expire_all()
    return db.session.get(Push, push.id), v1



def _pages(db, version):
    return db.session.scalar(select(func.count()).select_from(StorePage).where(StorePage.version_id == version.id))


def test_the_stall_check_resumes_a_dead_workers_push_within_a_minute(app, db, org):
    push, v1 = _crashed_push(app, db, org)
    assert push.state == "running" and push.delivered == 5
    # Fresh heartbeat: the runner may just be busy. Neither the stall check nor a redelivered job
    # touches it.
    assert pushes.resume_stalled() == 0
    pushes.run_push(push.id, batch_size=5)
    db.session.expire_all()
    assert db.session.get(Push, push.id).delivered == 5 and db.session.get(Push, push.id).state == "running"
    # Just past the limit (40 s; checked every 15 s: resumed under a minute after the last beat).
    assert app.config["PUSH_STALL_SECONDS"] + app.config["PUSH_STALL_CHECK_SECONDS"] < 60
    age_heartbeat(push.id, app.config["PUSH_STALL_SECONDS"] + 1)
    assert pushes.resume_stalled() == 1
    db.session.expire_all()
    push = db.session.get(Push, push.id)
    assert push.state == "done" and push.delivered == 20 and push.total == 20
    assert _pages(db, v1) == 20
    assert db.session.scalar(select(func.count()).select_from(Delivery).where(Delivery.push_id == push.id)) == 20


def test_the_embedded_clock_resumes_it_too(app, db, org):
    push, v1 = _crashed_push(app, db, org)
    age_heartbeat(push.id, 120)
    clock_tick(app)                    # what the embedded install's clock thread runs every 15 s
    db.session.expire_all()
    assert db.session.get(Push, push.id).state == "done" and _pages(db, v1) == 20


def test_a_queued_push_whose_job_was_lost_goes_out(app, db, org):
    hq = org.users["hq"]
    _t, v1 = factories.make_template_version(hq)
    db.session.commit()
    with factories.jobs_dropped():  # the process died before the job started
        push = pushes.create_push(scope_for(hq), "template", v1.id, "春季首页", TargetSpec(everything=True), actor=hq)
    assert pushes.resume_stalled() == 0                       # just queued: its job may be on its way
    db.session.execute(Push.__table__.update().where(Push.id == push.id)
                       .values(created_at=utcnow() - timedelta(minutes=2)))
    db.session.commit()
    assert pushes.resume_stalled() == 1
    db.session.expire_all()
    assert db.session.get(Push, push.id).state == "done" and _pages(db, v1) == 5


def test_celery_beat_checks_often_and_redelivers_a_dead_workers_job_soon(app):
    conf = make_celery(app).conf
    assert conf.beat_schedule["resume-stalled-pushes"]["schedule"] <= 20
    assert conf.broker_transport_options["visibility_timeout"] <= 600        # not Redis' default hour


def test_a_stalled_rollback_resumes_as_well(app, db, org):
    push, v1 = _crashed_push(app, db, org, batch_size=20)      # one batch: it finished
    assert push.state == "done" and _pages(db, v1) == 20
    hq = org.users["hq"]
    with factories.jobs_dropped():
        pushes.request_rollback(scope_for(hq), push, actor=hq)
    pushes.rollback_push(push.id, batch_size=5, max_batches=1)          # dies during the rollback
    db.session.expire_all()
    assert db.session.get(Push, push.id).state == "rolling_back" and _pages(db, v1) == 15
    assert pushes.resume_stalled() == 0
    age_heartbeat(push.id, 120)
    assert pushes.resume_stalled() == 1
    db.session.expire_all()
    assert db.session.get(Push, push.id).state == "rolled_back" and _pages(db, v1) == 0


def test_the_push_page_says_stalled_resuming(app, db, org, client):
    push, _v1 = _crashed_push(app, db, org)
    login(client, "hq")
    assert "已停滞，正在恢复" not in client.get(f"/pushes/{push.id}").get_data(as_text=True)
    age_heartbeat(push.id, 120)
    page = client.get(f"/pushes/{push.id}").get_data(as_text=True)
    assert "已停滞，正在恢复" in page and "推送将在一分钟内自动从中断处继续" in page
    bar = client.get(f"/pushes/{push.id}/progress", hx="push-progress").get_data(as_text=True)
    assert "<html" not in bar and "已停滞，正在恢复" in bar and 'hx-trigger="every 1s"' in bar
    pushes.resume_stalled()
    bar = client.get(f"/pushes/{push.id}/progress", hx="push-progress").get_data(as_text=True)
    assert 'data-state="done"' in bar and "已停滞" not in bar


class SlowTemplate(TemplatePush):
    """The template kind with a batch slower than the stall limit; mid-batch it runs the stall
    check from another connection, as the clock would."""

    name = "test_slow"

    def __init__(self):
        self.during: list = []

    def apply(self, push, rows) -> None:
        time.sleep(1.2)
        found = []

        def check():
            with self.app.app_context():
                try:
                    found.append(pushes.resume_stalled())
                finally:
                    _db.session.remove()

        t = threading.Thread(target=check)
        t.start()
        t.join(30)
        self.during.extend(found)
        super().apply(push, rows)


@pytest.fixture
def slow(app):
    kind = pushes.register_kind(SlowTemplate())
    kind.app = app
    yield kind
    pushes.KINDS.pop(kind.name)


def test_a_long_batch_is_not_taken_over(app, db, org, slow):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer: no stall check can write while a batch runs")
    app.config["PUSH_STALL_SECONDS"] = 1            # every batch here is longer than the limit
    hq = org.users["hq"]
    _t, v1 = factories.make_template_version(hq)
    db.session.commit()
    push = pushes.create_push(scope_for(hq), "test_slow", v1.id, "慢模板", TargetSpec(everything=True), actor=hq)
    db.session.commit()                 # runs now: one batch, longer than the stall limit
    db.session.expire_all()
    assert slow.during == [0]           # the check ran mid-batch and left the push to its runner
    push = db.session.get(Push, push.id)
    assert push.state == "done" and push.delivered == 5 and _pages(db, v1) == 5
