"""The RFM recompute as a job, collected by ``portal.jobs``.

- ``run_recompute(run_id)``: the run HQ started on the settings page (``start_recompute``), or the
  nightly one. It takes its run with a conditional UPDATE (queued → running), so a job delivered
  twice does the work once, and commits for itself; a failure is kept on the run.
- ``recompute_nightly``: a periodic task. Celery beat calls it every hour and the embedded clock
  every few seconds, so it decides for itself: it runs once a local day, from RFM_NIGHTLY_HOUR
  (03:00 by default), and at once when no recompute has ever run.
- Each recompute gives members their tiers too (the best one their net spend reaches:
  ``audiences.assign_tiers``), in the same transaction; ``reassign_tiers`` does it alone, queued
  when HQ changes the tiers.
"""
from __future__ import annotations

from datetime import datetime, time, timedelta

from flask import current_app
from sqlalchemy import func, select, update

from portal.audit.services import record
from portal.extensions import db
from portal.jobs import enqueue, job, periodic
from portal.kernel.time import local_tz, utcnow
from portal.members import audiences, rfm
from portal.members.models import RfmRun

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
ACTIVE_STATES = (QUEUED, RUNNING)


# A run queued or running for longer than this lost its worker (a recompute takes seconds).
STALL = timedelta(hours=1)


def _alive():
    return func.coalesce(RfmRun.started_at, RfmRun.created_at) >= utcnow() - STALL


def active_run() -> RfmRun | None:
    return db.session.scalar(select(RfmRun).where(RfmRun.state.in_(ACTIVE_STATES), _alive())
                             .order_by(RfmRun.id.desc()))


def is_active(run: RfmRun | None) -> bool:
    """Queued or running, and not given up for dead."""
    if run is None or run.state not in ACTIVE_STATES:
        return False
    return (run.started_at or run.created_at) >= utcnow() - STALL


def _reap_stalled() -> None:
    """Runs whose worker died are failed, so they no longer block a new one."""
    db.session.execute(update(RfmRun).where(RfmRun.state.in_(ACTIVE_STATES), ~_alive())
                       .values(state=FAILED, finished_at=utcnow(), error="stalled"))


def start_recompute(scope, *, actor) -> tuple[RfmRun, bool]:
    """Queue a recompute (run after the request commits), audited. One at a time: while one is
    queued or running, asking again gives that one back (and False: nothing new started)."""
    _reap_stalled()
    running = active_run()
    if running is not None:
        return running, False
    run = RfmRun(state=QUEUED, actor_id=actor.id if actor else None)
    db.session.add(run)
    db.session.flush()
    record(actor, "member_settings.recompute", "rfm_run", run.id, "RFM", scope.path or "")
    enqueue(run_recompute, run.id)
    return run, True


@job
def run_recompute(run_id: int) -> None:
    took = db.session.execute(update(RfmRun).where(RfmRun.id == run_id, RfmRun.state == QUEUED)
                              .values(state=RUNNING, started_at=utcnow())).rowcount
    db.session.commit()
    if not took:
        return
    try:
        result = rfm.recompute()
        audiences.assign_tiers()
    except Exception as exc:
        db.session.rollback()
        db.session.execute(update(RfmRun).where(RfmRun.id == run_id)
                           .values(state=FAILED, finished_at=utcnow(), error=str(exc)[:255]))
        db.session.commit()
        raise
    db.session.execute(update(RfmRun).where(RfmRun.id == run_id)
                       .values(state=DONE, finished_at=utcnow(), members=result.members))
    db.session.commit()


@job
def reassign_tiers() -> int:
    """Every active member's tier from their net spend, after HQ changed the tiers; commits."""
    n = audiences.assign_tiers()
    db.session.commit()
    return n


def nightly_due(now: datetime, computed_at: datetime | None, hour: int) -> bool:
    """Due once per local day from ``hour``, or at once if it never ran."""
    if computed_at is None:
        return True
    tz = local_tz()
    local = now.astimezone(tz)
    since = datetime.combine(local.date(), time(hour), tzinfo=tz)
    return local >= since and computed_at.astimezone(tz) < since


def recompute_nightly() -> None:
    now = utcnow()
    settings = rfm.get_settings()
    db.session.commit()
    if not nightly_due(now, settings.rfm_computed_at, int(current_app.config.get("RFM_NIGHTLY_HOUR", 3))):
        return
    _reap_stalled()
    if active_run() is not None:
        db.session.commit()
        return
    run = RfmRun(state=QUEUED)
    db.session.add(run)
    db.session.commit()
    run_recompute(run.id)


periodic("rfm-nightly", recompute_nightly, every=3600.0)
