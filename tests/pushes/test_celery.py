"""A push through the real queue: a Celery worker process on Redis, sharing the test database."""
import os
import subprocess
import sys
import time
import uuid

from sqlalchemy import select

from portal.org.scope import scope_for
from portal.pushes import services as pushes
from portal.pushes.models import Push
from portal.targets.services import TargetSpec
from tests import factories


def test_a_push_runs_on_the_celery_worker(app, db, org, database_url, redis_url):
    # The queue must be there, as in production: without Redis this fails (never skips).
    queue = f"portal-test-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_url, "CELERY_QUEUE": queue,
           "PORTAL_CONFIG": "production", "SECRET_KEY": "test",
           "DATA_KEYS": app.config["DATA_KEYS"], "DATA_HASH_KEY": app.config["DATA_HASH_KEY"]}
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "portal.worker", "worker", "--pool", "solo",
         "--loglevel", "warning", "--without-gossip", "--without-mingle", "--without-heartbeat"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        hq = org.users["hq"]
        _t, version = factories.make_template_version(hq)
        db.session.commit()
        app.config.update(JOBS_BACKEND="celery", CELERY_BROKER_URL=redis_url, CELERY_QUEUE=queue)
        push = pushes.create_push(scope_for(hq), "template", version.id, "v1", TargetSpec(everything=True), actor=hq)
        db.session.commit()                       # sent to the queue now
        push_id = push.id
        deadline = time.monotonic() + 60
        state = None
        while time.monotonic() < deadline:
            db.session.expire_all()
            state = db.session.scalar(select(Push.state).where(Push.id == push_id))
            if state in ("done", "failed"):
                break
            time.sleep(0.3)
        assert state == "done", worker.stdout.read1().decode() if worker.poll() is not None else state
        assert db.session.get(Push, push_id).delivered == 5
    finally:
        worker.terminate()
        worker.wait(timeout=20)
