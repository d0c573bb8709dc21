"""Background jobs: enqueued after the commit, run by Celery on Redis in production.

``JOBS_BACKEND`` picks how a job runs:
- ``celery``: sent to the Celery worker (``celery -A portal.worker worker -B``), the production way;
- ``thread``: a thread in the web process, so the embedded SQLite install needs nothing else;
- ``eager``: inline, at the commit (tests).
Jobs take ids, never ORM objects, and commit for themselves.
"""
from __future__ import annotations

import logging
import threading
from typing import Callable

from flask import Flask, current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

from portal.extensions import db

log = logging.getLogger(__name__)

# name -> function(*ids). Filled by @job.
REGISTRY: dict[str, Callable] = {}


def job(fn: Callable) -> Callable:
    REGISTRY[f"{fn.__module__}.{fn.__name__}"] = fn
    fn.job_name = f"{fn.__module__}.{fn.__name__}"
    return fn


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
        from portal.worker import celery

        celery.send_task("portal.run_job", args=[name, *args])
    elif backend == "thread":
        threading.Thread(target=run_job_in_app, args=(app, name, *args), daemon=True,
                         name=f"job:{name}").start()
    else:  # eager: after this commit, in a context of its own (so its session is its own too)
        run_job_in_app(app, name, *args)


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
