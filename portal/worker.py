"""The Celery worker: ``celery -A portal.worker worker -B --loglevel=info``.

Every job runs inside an app context of its own; the beat schedule (see portal.jobs.make_celery)
sends due scheduled pushes out and picks up pushes whose worker died.
"""
from __future__ import annotations

import os

from portal import create_app
from portal.jobs import make_celery, run_job_in_app

flask_app = create_app(os.environ.get("PORTAL_CONFIG", "production"))
celery = make_celery(flask_app)


@celery.task(name="portal.run_job")
def run_job(name: str, *args):
    run_job_in_app(flask_app, name, *args)
