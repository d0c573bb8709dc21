"""The push engine: one action delivered to N stores, set-based, idempotent, resumable,
reversible. Payload kinds (template versions now; goods and campaigns later) plug in through
``PushKind``; the engine never loops over stores in Python.

Life of a push:
1. ``create_push`` records what, to which target, by whom (state ``queued`` or ``scheduled``)
   and enqueues ``run_push`` after the commit.
2. ``run_push`` plans: one INSERT … SELECT writes a delivery row per store the target names,
   already marked skipped where the store is closed, out of the actor's scope, or has it.
   Re-planning inserts only rows that are missing, so it is safe to repeat.
3. It then takes pending rows in batches; per batch, in one transaction: lock the stores, let
   the kind record what each store had and apply the payload, mark the rows delivered.
   A crash loses at most the batch in flight, which the next run does again.
4. ``rollback_push`` returns every store that still has this push's payload to what it had.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import (ColumnElement, and_, case, exists, func, insert, literal, select,
                        update)

from portal.audit import services as audit
from portal.extensions import db
from portal.jobs import enqueue, job
from portal.org import roles
from portal.org.models import Store, User, utcnow
from portal.org.scope import Scope
from portal.org.services import RuleError
from portal.pushes.models import (ALREADY, CHANGED_SINCE, CLOSED, DELIVERED, DONE, ERROR, FAILED, OUT_OF_SCOPE,
                                  PENDING, QUEUED, REVERTED, ROLLED_BACK, ROLLING_BACK, RUNNING,
                                  SCHEDULED, SKIPPED, Delivery, Push)
from portal.targets.services import TargetSpec, selection
from portal.util import as_utc

SUSPENDED = "store_suspended"


class PushKind(Protocol):
    """What a kind of payload must provide to ride the push engine. Every method works on a
    whole batch of delivery rows at once (``rows`` is a condition on Delivery)."""

    name: str

    def has_it(self, push: Push) -> ColumnElement[bool]:
        """Condition on Store: the store already has exactly this payload."""

    def previous(self, push: Push) -> dict:
        """Delivery columns -> correlated subqueries reading what the store has now."""

    def apply(self, push: Push, rows: ColumnElement[bool]) -> None:
        """Give the payload to the stores of ``rows``."""

    def still_has(self, push: Push) -> ColumnElement[bool]:
        """Condition on Delivery: its store still has what this push gave it."""

    def revert(self, push: Push, rows: ColumnElement[bool]) -> None:
        """Give the stores of ``rows`` back what the delivery recorded they had."""


@dataclass(frozen=True)
class Batch:
    """A run of a push's delivery rows in one state, by store id: range conditions only, so a
    batch of thousands of stores binds two numbers, not thousands."""

    push_id: int
    outcome: str
    lo: int
    hi: int

    def rows(self, outcome: str | None = None) -> ColumnElement[bool]:
        return and_(Delivery.push_id == self.push_id, Delivery.outcome == (outcome or self.outcome),
                    Delivery.store_id.between(self.lo, self.hi))


def next_batch(push_id: int, outcome: str, size: int, after: int = 0) -> Batch | None:
    base = select(Delivery.store_id).where(Delivery.push_id == push_id, Delivery.outcome == outcome,
                                           Delivery.store_id > after).order_by(Delivery.store_id)
    lo = db.session.scalar(base.limit(1))
    if lo is None:
        return None
    hi = db.session.scalar(base.offset(size - 1).limit(1)) or db.session.scalar(
        select(func.max(Delivery.store_id)).where(Delivery.push_id == push_id, Delivery.outcome == outcome))
    return Batch(push_id, outcome, lo, hi)


KINDS: dict[str, PushKind] = {}


def register_kind(kind: PushKind) -> PushKind:
    KINDS[kind.name] = kind
    return kind


# --------------------------------------------------------------------------- creating

def create_push(scope: Scope, kind: str, payload_id: int, label: str, spec: TargetSpec, *, actor: User,
                target_id: int | None = None, target_label: str = "",
                scheduled_for: datetime | None = None) -> Push:
    if spec.is_empty:
        raise RuleError(_("Choose at least one region, tag or store."), "target")
    if scheduled_for is not None and as_utc(scheduled_for) <= utcnow():
        raise RuleError(_("The scheduled time must be in the future."), "scheduled_for")
    push = Push(kind=kind, payload_id=payload_id, label=label[:200], target_spec=spec.to_dict(),
                target_id=target_id, target_label=target_label[:200], path=scope.path,
                actor_id=actor.id, actor_name=actor.username,
                state=SCHEDULED if scheduled_for else QUEUED, scheduled_for=scheduled_for)
    db.session.add(push)
    db.session.flush()
    audit.record(actor, "push.create", "push", push.id, label, scope.path,
                 {"kind": kind, "target": target_label, "scheduled_for": scheduled_for.isoformat() if scheduled_for else None})
    if push.state == QUEUED:
        enqueue(run_push, push.id)
    return push


# --------------------------------------------------------------------------- running

@job
def run_push(push_id: int, *, batch_size: int | None = None, max_batches: int | None = None) -> None:
    """Plan and deliver a push. Safe to call again at any point: it continues where it stopped.

    ``max_batches`` stops after that many batches, as a crash would (used by the tests)."""
    push = db.session.get(Push, push_id)
    if push is None or push.state not in (QUEUED, RUNNING):
        return
    kind = KINDS[push.kind]
    if push.state == QUEUED:
        push.state, push.started_at = RUNNING, utcnow()
    db.session.commit()
    try:
        _plan(push, kind)
        db.session.commit()
        batch_size = batch_size or current_app.config["PUSH_BATCH_SIZE"]
        batches = 0
        while (batch := next_batch(push.id, PENDING, batch_size)) is not None:
            if max_batches is not None and batches >= max_batches:
                return              # "crash": the push stays running, its progress is kept
            _deliver_batch(push, kind, batch)
            _count(push)
            db.session.commit()
            batches += 1
        _count(push)
        push.state, push.finished_at = DONE, utcnow()
        db.session.commit()
    except Exception as exc:
        db.session.rollback()
        push = db.session.get(Push, push_id)
        push.state, push.error, push.finished_at = FAILED, f"{exc.__class__.__name__}: {exc}"[:2000], utcnow()
        _count(push)
        db.session.commit()
        raise


def _plan(push: Push, kind: PushKind) -> None:
    """One INSERT … SELECT: a delivery row for every store the target reaches inside the actor's
    scope, not yet planned. Nothing outside the scope is ever written: a region, tag or code of
    another part of the tree names no store here. A store planned earlier that has since left
    the actor's subtree is skipped as ``out_of_scope`` (re-planning happens on every resume)."""
    spec = TargetSpec.from_dict(push.target_spec)
    scope = Scope.of_path(push.path)
    db.session.execute(
        update(Delivery)
        .where(Delivery.push_id == push.id, Delivery.outcome == PENDING,
               ~exists().where(Store.id == Delivery.store_id, scope.stores()))
        .values(outcome=SKIPPED, reason=OUT_OF_SCOPE, done_at=utcnow())
        .execution_options(synchronize_session=False))
    reason = case(
        (Store.status == roles.STORE_CLOSED, CLOSED),
        (and_(literal(spec.active_only), Store.status == roles.STORE_SUSPENDED), SUSPENDED),
        (kind.has_it(push), ALREADY),
        else_="",
    )
    rows = (
        select(literal(push.id), Store.id, case((reason == "", PENDING), else_=SKIPPED), reason)
        .where(selection(spec, scope, with_status=False))
        .where(~exists().where(Delivery.push_id == push.id, Delivery.store_id == Store.id))
    )
    db.session.execute(insert(Delivery).from_select(["push_id", "store_id", "outcome", "reason"], rows))


def _lock(batch: Batch) -> None:
    # Lock the batch's stores (PostgreSQL; SQLite has one writer at a time anyway), in id order,
    # so two pushes over the same stores queue up instead of deadlocking.
    db.session.execute(select(Store.id).join(Delivery, Delivery.store_id == Store.id).where(batch.rows())
                       .order_by(Store.id).with_for_update(of=Store))


def _deliver_batch(push: Push, kind: PushKind, batch: Batch) -> None:
    _lock(batch)
    now = utcnow()
    # Someone may have given these stores the same payload since planning.
    db.session.execute(
        update(Delivery).where(batch.rows(), Delivery.store_id.in_(
            select(Store.id).where(Store.id.between(batch.lo, batch.hi), kind.has_it(push))))
        .values(outcome=SKIPPED, reason=ALREADY, done_at=now))
    # One statement marks the rows delivered and records what each store had before...
    db.session.execute(update(Delivery).where(batch.rows()).values(outcome=DELIVERED, done_at=now,
                                                                   **kind.previous(push)))
    # ...and the kind hands the payload to exactly those stores.
    kind.apply(push, batch.rows(DELIVERED))


def _count(push: Push) -> None:
    counts = dict(db.session.execute(
        select(Delivery.outcome, func.count()).where(Delivery.push_id == push.id).group_by(Delivery.outcome)).all())
    push.total = sum(counts.values())
    push.delivered = counts.get(DELIVERED, 0)
    push.skipped = counts.get(SKIPPED, 0)
    push.failed = counts.get(ERROR, 0)
    push.reverted = counts.get(REVERTED, 0)


# --------------------------------------------------------------------------- rollback

def request_rollback(scope: Scope, push: Push, *, actor: User) -> None:
    if push.state not in (DONE, FAILED):
        raise RuleError(_("Only a finished push can be rolled back."))
    push.state = ROLLING_BACK
    audit.record(actor, "push.rollback", "push", push.id, push.label, scope.path)
    enqueue(rollback_push, push.id)


@job
def rollback_push(push_id: int, *, batch_size: int | None = None) -> None:
    push = db.session.get(Push, push_id)
    if push is None or push.state != ROLLING_BACK:
        return
    kind = KINDS[push.kind]
    batch_size = batch_size or current_app.config["PUSH_BATCH_SIZE"]
    after = 0
    while (batch := next_batch(push.id, DELIVERED, batch_size, after)) is not None:
        _lock(batch)
        # Stores that still have what this push gave them get back what they had...
        db.session.execute(update(Delivery).where(batch.rows(), kind.still_has(push))
                           .values(outcome=REVERTED, done_at=utcnow()))
        kind.revert(push, batch.rows(REVERTED))
        # ...stores that got something newer since keep it, and the row says so.
        db.session.execute(update(Delivery).where(batch.rows()).values(reason=CHANGED_SINCE))
        _count(push)
        db.session.commit()
        after = batch.hi
    _count(push)
    push.state, push.finished_at = ROLLED_BACK, utcnow()
    db.session.commit()


# --------------------------------------------------------------------------- the clock

@job
def dispatch_due() -> int:
    """Send out scheduled pushes whose time has come."""
    due = list(db.session.scalars(select(Push.id).where(Push.state == SCHEDULED, Push.scheduled_for <= utcnow())))
    for push_id in due:
        claimed = db.session.execute(update(Push).where(Push.id == push_id, Push.state == SCHEDULED)
                                     .values(state=QUEUED)).rowcount
        if claimed:
            enqueue(run_push, push_id)
    db.session.commit()
    return len(due)


@job
def resume_stalled() -> int:
    """Pushes left running by a worker that died: run them again (they continue, not restart)."""
    limit = utcnow() - timedelta(seconds=current_app.config["PUSH_STALL_SECONDS"])
    stalled = list(db.session.scalars(select(Push.id).where(
        Push.state == RUNNING,
        ~exists().where(Delivery.push_id == Push.id, Delivery.done_at > limit),
        Push.started_at < limit)))
    for push_id in stalled:
        enqueue(run_push, push_id)
    db.session.commit()
    return len(stalled)


def cancel_scheduled(scope: Scope, push: Push, *, actor: User) -> None:
    if push.state != SCHEDULED:
        raise RuleError(_("Only a scheduled push can be cancelled."))
    push.state, push.finished_at = FAILED, utcnow()
    push.error = _("Cancelled by %(name)s", name=actor.username)
    audit.record(actor, "push.cancel", "push", push.id, push.label, scope.path)


# --------------------------------------------------------------------------- reading

def scoped_pushes(scope: Scope):
    return select(Push).where(scope.paths(Push.path)).order_by(Push.created_at.desc(), Push.id.desc())


@dataclass
class Progress:
    total: int
    done: int

    @property
    def percent(self) -> int:
        return 100 if not self.total else int(100 * self.done / self.total)


def progress(push: Push) -> Progress:
    counts = dict(db.session.execute(
        select(Delivery.outcome, func.count()).where(Delivery.push_id == push.id).group_by(Delivery.outcome)).all())
    total = sum(counts.values())
    pending = counts.get(PENDING, 0) if push.state != ROLLING_BACK else counts.get(DELIVERED, 0)
    return Progress(total=total, done=total - pending)


__all__ = ["PushKind", "register_kind", "create_push", "run_push", "rollback_push", "request_rollback",
           "dispatch_due", "resume_stalled", "cancel_scheduled", "scoped_pushes", "progress", "FAILED"]
