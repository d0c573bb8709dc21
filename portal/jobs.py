"""Background jobs: enqueued after the commit, run by Celery on Redis in production.

``JOBS_BACKEND`` picks how a job runs:
- ``celery``: sent to the Celery worker (``celery -A portal.worker worker -B``), the production way;
- ``thread``: a thread in the web process, so the embedded SQLite install needs nothing else;
- ``eager``: inline, at the commit (tests).
Jobs take ids, never ORM objects, and commit for themselves.

This module knows no domain: each domain declares its jobs (``@job``) and periodic tasks
(``periodic(...)``) in its own ``tasks.py``, which the app factory imports; the Celery beat
schedule and the embedded clock are built from what was declared.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from flask import Flask, current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

from portal.extensions import db

log = logging.getLogger(__name__)

# name -> function(*ids). Filled by @job.
REGISTRY: dict[str, Callable] = {}
# beat entry name -> (job name, every: seconds, or the name of the config key that holds them).
PERIODIC: dict[str, tuple[str, float | str]] = {}


def job(fn: Callable) -> Callable:
    REGISTRY[f"{fn.__module__}.{fn.__name__}"] = fn
    fn.job_name = f"{fn.__module__}.{fn.__name__}"
    return fn


def periodic(name: str, fn: Callable, *, every: float | str) -> Callable:
    """Run the job ``fn()`` every ``every`` seconds (a number, or a config key naming it): on
    Celery beat in production, on the embedded clock otherwise."""
    if not hasattr(fn, "job_name"):
        job(fn)
    PERIODIC[name] = (fn.job_name, every)
    return fn


def _seconds(app: Flask, every: float | str) -> float:
    return float(app.config[every] if isinstance(every, str) else every)


def enqueue(fn: Callable, *args) -> None:
    """Run ``fn(*args)`` as a job once the current transaction commits (dropped on rollback)."""
    db.session.info.setdefault("after_commit_jobs", []).append((fn.job_name, args))


@event.listens_for(Session, "after_commit")
def _dispatch(session: Session) -> None:
    for name, args in session.info.pop("after_commit_jobs", []):
        dispatch(name, *args)


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop("after_commit_jobs", None)


def dispatch(name: str, *args) -> None:
    app = current_app._get_current_object()
    backend = app.config["JOBS_BACKEND"]
    if backend == "celery":
        celery_client(app).send_task("portal.run_job", args=[name, *args])
    elif backend == "thread":
        threading.Thread(target=run_job_in_app, args=(app, name, *args), daemon=True,
                         name=f"job:{name}").start()
    else:  # eager: after this commit, in a context of its own (so its session is its own too)
        run_job_in_app(app, name, *args)


def make_celery(app: Flask):
    """The Celery app for this portal: the worker runs it, the web process only sends to it."""
    from celery import Celery

    celery = Celery("portal", broker=app.config["CELERY_BROKER_URL"])
    celery.conf.update(
        task_default_queue=app.config["CELERY_QUEUE"],
        task_acks_late=True,                 # a job whose worker dies is delivered again
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        broker_connection_retry_on_startup=True,
        # Without this Redis redelivers a dead worker's job after an hour. Pushes do not wait for
        # it (the stall check below resumes them within a minute), and a job delivered twice is
        # harmless: a second runner of a push that is alive does nothing.
        broker_transport_options={"visibility_timeout": app.config["CELERY_VISIBILITY_TIMEOUT"]},
        beat_schedule={name: {"task": "portal.run_job", "schedule": _seconds(app, every), "args": [job_name]}
                       for name, (job_name, every) in PERIODIC.items()},
    )
    return celery


def celery_client(app: Flask):
    client = app.extensions.get("celery")
    if client is None:
        client = app.extensions["celery"] = make_celery(app)
    return client


def run_job_in_app(app: Flask, name: str, *args) -> None:
    with app.app_context():
        try:
            REGISTRY[name](*args)
        except Exception:
            log.exception("job %s%r failed", name, args)
            db.session.rollback()
            if app.config.get("JOBS_RAISE"):
                raise
        finally:
            db.session.remove()


# --------------------------------------------------------------------------- the embedded clock

def start_clock(app: Flask, every: float | None = None) -> None:
    """Without Celery beat (the embedded install), a thread of the web process runs every periodic
    task (due scheduled pushes, stalled pushes …) every PUSH_STALL_CHECK_SECONDS. Started on the
    first request, not at import, so CLI commands and tests never run it."""
    if app.extensions.get("job_clock"):
        return
    app.extensions["job_clock"] = True
    every = every or float(app.config["PUSH_STALL_CHECK_SECONDS"])

    def tick():
        while True:
            time.sleep(every)
            clock_tick(app)

    threading.Thread(target=tick, daemon=True, name="job-clock").start()


def clock_tick(app: Flask) -> None:
    """One tick of the embedded clock: every periodic task runs once, in the order declared."""
    with app.app_context():
        for job_name, _every in PERIODIC.values():
            try:
                REGISTRY[job_name]()
            except Exception:
                log.exception("job clock: %s failed", job_name)
                db.session.rollback()
        db.session.remove()


def init_app(app: Flask) -> None:
    if app.config["JOBS_BACKEND"] == "thread" and not app.testing:
        @app.before_request
        def _clock():
            start_clock(app)
