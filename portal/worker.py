"""The Celery worker: ``celery -A portal.worker worker -B --loglevel=info``.

Every job runs inside an app context of its own; the beat schedule sends due scheduled pushes
out and picks up pushes whose worker died.
"""
from __future__ import annotations

import os

from celery import Celery

from portal import create_app

flask_app = create_app(os.environ.get("PORTAL_CONFIG", "production"))
celery = Celery("portal", broker=flask_app.config["CELERY_BROKER_URL"])
celery.conf.update(
    task_acks_late=True,                 # a job whose worker dies is delivered again
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    broker_connection_retry_on_startup=True,
    beat_schedule={
        "dispatch-due-pushes": {"task": "portal.run_job", "schedule": 30.0,
                                "args": ["portal.pushes.services.dispatch_due"]},
        "resume-stalled-pushes": {"task": "portal.run_job", "schedule": 300.0,
                                  "args": ["portal.pushes.services.resume_stalled"]},
    },
)


@celery.task(name="portal.run_job")
def run_job(name: str, *args):
    from portal import jobs

    jobs.run_job_in_app(flask_app, name, *args)
