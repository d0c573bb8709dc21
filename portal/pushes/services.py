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

import secrets
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Protocol

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import (
    ColumnElement,
    and_,
    case,
    delete,
    exists,
    false,
    func,
    insert,
    literal,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.orm import aliased

from portal.audit import services as audit
from portal.extensions import db
from portal.jobs import enqueue, job
from portal.kernel.errors import Conflict, RuleError
from portal.kernel.time import day_end_utc, day_start_utc, utcnow
from portal.org import roles
from portal.org.models import Store, User
from portal.org.scope import Scope
from portal.pushes.labels import CANCELLED_BY, DELIVERY_FAILED, PUSH_STOPPED
from portal.pushes.models import (
    ALREADY,
    CANCELLED,
    CHANGED_SINCE,
    CLOSED,
    DELIVERED,
    DONE,
    ERROR,
    FAILED,
    MOVING,
    OUT_OF_SCOPE,
    PENDING,
    PUSH_STATES,
    QUEUED,
    REVERTED,
    ROLLED_BACK,
    ROLLING_BACK,
    RUNNING,
    SCHEDULED,
    SKIPPED,
    Delivery,
    Push,
    PushReach,
)
from portal.targets import services as targets
from portal.targets.services import TargetSpec, selection

SUSPENDED = "store_suspended"
# Rows being handed back inside a rollback batch's transaction, never committed: so the kind
# works on exactly this statement's rows, not on rows of the same range done earlier.
RESTORING = "restoring"


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
    if scheduled_for is not None and scheduled_for <= utcnow():
        raise RuleError(_("The scheduled time must be in the future."), "scheduled_for")
    # The target as people named it and what it reached when sent, kept for the history: a saved
    # target by its name, an ad-hoc selection described ("上海区", "3 个区域", "12 家门店").
    parts = None if target_label else targets.description(scope, spec)
    push = Push(kind=kind, payload_id=payload_id, label=label[:200], target_spec=spec.to_dict(),
                target_id=target_id, target_label=target_label[:200], target_parts=parts,
                target_count=targets.count(scope, spec),
                path=scope.path,
                actor_id=actor.id, actor_name=actor.username,
                state=SCHEDULED if scheduled_for else QUEUED, scheduled_for=scheduled_for)
    db.session.add(push)
    db.session.flush()
    if not target_label:            # the log's details are written once, in the portal's language
        with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
            target_label = targets.render_description(parts)
    audit.record(
        actor,
        "push.create",
        "push",
        push.id,
        label,
        scope.path,
        {"kind": kind, "target": target_label, "scheduled_for": scheduled_for.isoformat() if scheduled_for else None},
    )
    if push.state == QUEUED:
        enqueue(run_push, push.id)
    return push


# --------------------------------------------------------------------------- who works on a push

def _stale_before() -> datetime:
    return utcnow() - timedelta(seconds=current_app.config["PUSH_STALL_SECONDS"])


def _claim(push_id: int, state: str, *, fresh: tuple[str, ...] = ()) -> str | None:
    """Take a push to work on, in ``state``: from one of the ``fresh`` states, or when nobody holds
    it (released by the stall check) or its runner stopped beating. One conditional UPDATE: of
    two runners of the same push (a redelivered job and the stall check's), exactly one wins."""
    token, now = secrets.token_hex(16), utcnow()
    values = dict(state=state, runner=token, heartbeat_at=now)
    if state == RUNNING:
        values["started_at"] = func.coalesce(Push.started_at, now)
    won = db.session.execute(
        update(Push).where(Push.id == push_id, or_(
            Push.state.in_(fresh),
            and_(Push.state == state, or_(Push.runner.is_(None), Push.heartbeat_at.is_(None),
                                          Push.heartbeat_at < _stale_before()))))
        .values(**values).execution_options(synchronize_session=False)).rowcount
    db.session.commit()
    return token if won else None


def _beat(push_id: int, runner: str) -> bool:
    """The runner's heartbeat, and its guard: False once another runner has the push. Taken at the
    start of a batch it also holds the push's row until the batch commits (PostgreSQL), so the
    stall check skips a push whose batch is still working, however long that batch takes."""
    return db.session.execute(
        update(Push).where(Push.id == push_id, Push.runner == runner, Push.state.in_(MOVING))
        .values(heartbeat_at=utcnow()).execution_options(synchronize_session=False)).rowcount == 1


def _finish(push_id: int, runner: str, **values) -> bool:
    """The runner's last write, conditional like its heartbeat: only the runner still holding the
    push (and the push still moving) ends it; a runner that lost the push writes nothing."""
    return db.session.execute(
        update(Push).where(Push.id == push_id, Push.runner == runner, Push.state.in_(MOVING))
        .values(runner=None, **values).execution_options(synchronize_session=False)).rowcount == 1


def _error_text(exc: BaseException) -> str:
    return f"{exc.__class__.__name__}: {exc}"


# --------------------------------------------------------------------------- running

@job
def run_push(push_id: int, *, batch_size: int | None = None, max_batches: int | None = None) -> None:
    """Plan and deliver a push. Safe to call again at any point: it continues where it stopped,
    and a second runner of the same push does nothing while the first one is alive.

    ``max_batches`` stops after that many batches, as a crash would (used by the tests)."""
    runner = _claim(push_id, RUNNING, fresh=(QUEUED,))
    if runner is None:
        return
    push = db.session.get(Push, push_id)
    kind = KINDS[push.kind]
    try:
        if not _beat(push.id, runner):
            db.session.rollback()
            return
        _plan(push, kind)
        _count(push)            # the page shows every planned store (waiting) from here on
        db.session.commit()
        batch_size = batch_size or current_app.config["PUSH_BATCH_SIZE"]
        batches = 0
        while (batch := next_batch(push.id, PENDING, batch_size)) is not None:
            if max_batches is not None and batches >= max_batches:
                return              # "crash": the push stays running, its progress is kept
            if not _beat(push.id, runner):
                db.session.rollback()
                return              # the stall check gave the push to another runner
            _deliver_batch(push, kind, batch)
            _count(push)
            _beat(push.id, runner)  # the heartbeat others see is the one this commit writes
            db.session.commit()
            batches += 1
        if _finish(push.id, runner, state=DONE, finished_at=utcnow()):
            _count(push)
        db.session.commit()
    except Exception as exc:
        db.session.rollback()
        db.session.execute(update(Push).where(Push.id == push_id, Push.runner == runner).values(
            state=FAILED, error=PUSH_STOPPED, error_params={"error": _error_text(exc)[:2000]},
            finished_at=utcnow(), runner=None).execution_options(synchronize_session=False))
        _count(db.session.get(Push, push_id))
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
    _deliver_isolating(push, kind, batch)


def _deliver_isolating(push: Push, kind: PushKind, batch: Batch) -> None:
    """Deliver a batch in one go; if the kind fails on it, roll back to the savepoint and try the
    halves, until each failing store stands alone and is marked failed with its error. The common
    path stays one statement for the whole batch; k failing stores cost about 2·k·log2(batch)."""
    try:
        with db.session.begin_nested():
            # One statement marks the rows delivered and records what each store had before...
            stamp = utcnow()
            db.session.execute(update(Delivery).where(batch.rows()).values(outcome=DELIVERED, done_at=stamp,
                                                                           **kind.previous(push)))
            # ...and the kind hands the payload to exactly those stores: this statement's rows (its
            # time stamp tells them from rows of the same range delivered earlier, e.g. by a retry).
            kind.apply(push, and_(batch.rows(DELIVERED), Delivery.done_at == stamp))
        return
    except Exception as exc:           # the kind refused one or more stores of this batch
        error = exc
    halves = _halves(batch)
    if halves is None:
        db.session.execute(update(Delivery).where(batch.rows()).values(
            outcome=ERROR, error=DELIVERY_FAILED, error_params={"error": _error_text(error)[:400]},
            done_at=utcnow()))
        return
    for half in halves:
        _deliver_isolating(push, kind, half)


def _halves(batch: Batch) -> tuple[Batch, Batch] | None:
    """The batch's rows split in two ranges of (nearly) equal size; None for a single store."""
    n = db.session.scalar(select(func.count()).select_from(Delivery).where(batch.rows()))
    if n <= 1:
        return None
    last_of_first, first_of_second = db.session.scalars(
        select(Delivery.store_id).where(batch.rows()).order_by(Delivery.store_id).offset(n // 2 - 1).limit(2)).all()
    return replace(batch, hi=last_of_first), replace(batch, lo=first_of_second)


def _count(push: Push) -> None:
    """The push's outcome counts, in all and per place of the tree its stores hang on
    (``PushReach``, what distributors and regional managers read): one grouped read, one
    delete and one insert of as many rows as places reached (regions, not stores)."""
    rows = db.session.execute(
        select(Store.path, Delivery.outcome, func.count()).join(Store, Store.id == Delivery.store_id)
        .where(Delivery.push_id == push.id).group_by(Store.path, Delivery.outcome)).all()
    per_path: dict[str, dict[str, int]] = {}
    for path, outcome, n in rows:
        per_path.setdefault(path, {})[outcome] = n
    reaches = [dict(push_id=push.id, path=path, **_totals(counts)) for path, counts in per_path.items()]
    for name in ("total", "delivered", "skipped", "failed", "reverted"):
        setattr(push, name, sum(r[name] for r in reaches))
    db.session.execute(delete(PushReach).where(PushReach.push_id == push.id))
    if reaches:
        db.session.execute(insert(PushReach), reaches)


def _totals(counts: dict[str, int]) -> dict[str, int]:
    # Delivered counts every store the push reached, rolled back since or not: a rollback
    # records its own count (reverted) beside it.
    return dict(total=sum(counts.values()), delivered=counts.get(DELIVERED, 0) + counts.get(REVERTED, 0),
                skipped=counts.get(SKIPPED, 0), failed=counts.get(ERROR, 0), reverted=counts.get(REVERTED, 0))


def retry_failed(scope: Scope, push: Push, *, actor: User) -> int:
    """Queue the push's failed stores again (only those); the push runs on from there."""
    requeued = db.session.execute(
        update(Push).where(Push.id == push.id, or_(and_(Push.state == DONE, Push.failed > 0), Push.state == FAILED))
        .values(state=QUEUED, runner=None, heartbeat_at=utcnow(), finished_at=None, error="", error_params=None)
        .execution_options(synchronize_session=False)).rowcount
    if not requeued:
        if push.state == FAILED or (push.state == DONE and push.failed):
            raise Conflict(_("Someone else retried or rolled back this push just now: "
                             "nothing more was done."))
        raise RuleError(_("Only a finished push with failed stores can retry them."))
    n = db.session.execute(update(Delivery).where(Delivery.push_id == push.id, Delivery.outcome == ERROR)
                           .values(outcome=PENDING, error="", error_params=None, done_at=None)).rowcount
    audit.record(actor, "push.retry", "push", push.id, push.label, scope.path, {"stores": n})
    enqueue(run_push, push.id)
    return n


# --------------------------------------------------------------------------- rollback

def request_rollback(scope: Scope, push: Push, *, actor: User) -> None:
    now = utcnow()
    asked = db.session.execute(
        update(Push).where(Push.id == push.id, Push.state.in_((DONE, FAILED)))
        .values(state=ROLLING_BACK, runner=None, heartbeat_at=now, rollback_by_id=actor.id,
                rollback_by_name=actor.username, rollback_requested_at=now)
        .execution_options(synchronize_session=False)).rowcount
    if not asked:
        if push.state in (DONE, FAILED):    # finished when the admin looked: another admin won
            raise Conflict(_("Someone else rolled this push back or retried it just now: "
                             "nothing more was done."))
        raise RuleError(_("Only a finished push can be rolled back."))
    audit.record(actor, "push.rollback", "push", push.id, push.label, scope.path)
    enqueue(rollback_push, push.id)


@job
def rollback_push(push_id: int, *, batch_size: int | None = None, max_batches: int | None = None) -> None:
    """Return every store this push reached to what it had before it, whatever other pushes were
    rolled back before or after this one (see ``_revert_batch``). Resumable like ``run_push``."""
    runner = _claim(push_id, ROLLING_BACK)
    if runner is None:
        return
    push = db.session.get(Push, push_id)
    kind = KINDS[push.kind]
    batch_size = batch_size or current_app.config["PUSH_BATCH_SIZE"]
    batches = 0
    try:
        while (batch := next_batch(push.id, DELIVERED, batch_size)) is not None:
            if max_batches is not None and batches >= max_batches:
                return
            if not _beat(push.id, runner):
                db.session.rollback()
                return
            _lock(batch)
            _revert_batch(push, kind, batch)
            _count(push)
            _beat(push.id, runner)
            db.session.commit()
            batches += 1
        if _finish(push.id, runner, state=ROLLED_BACK, rolled_back_at=utcnow()):
            _count(push)
        db.session.commit()
    except Exception:
        # The push stays rolling back (its own error, if it has one, is kept); the job's log has
        # the error, and the stall check tries again.
        db.session.rollback()
        db.session.execute(update(Push).where(Push.id == push_id, Push.runner == runner).values(runner=None)
                           .execution_options(synchronize_session=False))
        db.session.commit()
        raise


def _revert_batch(push: Push, kind: PushKind, batch: Batch) -> None:
    """Per store, deliveries form a chain: each records what the store had before it
    (``previous_*``). Rolling a push back takes its link out of the chain, so the stores end on
    what they had before the pushes rolled back, in whatever order they were rolled back."""
    now = utcnow()
    # Stores that still have what this push gave them get back what they had...
    db.session.execute(update(Delivery).where(batch.rows(), kind.still_has(push))
                       .values(outcome=RESTORING, done_at=now))
    kind.revert(push, batch.rows(RESTORING))
    db.session.execute(update(Delivery).where(batch.rows(RESTORING)).values(outcome=REVERTED))
    # ...where a later push covered this one, the later delivery now goes back to what this one
    # found (one UPDATE), so rolling the later one back skips this push...
    mine = aliased(Delivery)
    covered = and_(mine.push_id == push.id, mine.store_id == Delivery.store_id, mine.outcome == DELIVERED)
    db.session.execute(
        update(Delivery).where(Delivery.previous_push_id == push.id, Delivery.outcome == DELIVERED,
                               Delivery.store_id.between(batch.lo, batch.hi), exists().where(covered))
        .values(previous_id=select(mine.previous_id).where(covered).scalar_subquery(),
                previous_push_id=select(mine.previous_push_id).where(covered).scalar_subquery())
        .execution_options(synchronize_session=False))
    # ...and the store keeps the newer thing; the row says so.
    db.session.execute(update(Delivery).where(batch.rows())
                       .values(outcome=REVERTED, reason=CHANGED_SINCE, done_at=now))


# --------------------------------------------------------------------------- the clock

@job
def dispatch_due() -> int:
    """Send out scheduled pushes whose time has come."""
    due = list(db.session.scalars(select(Push.id).where(Push.state == SCHEDULED, Push.scheduled_for <= utcnow())))
    for push_id in due:
        claimed = db.session.execute(update(Push).where(Push.id == push_id, Push.state == SCHEDULED)
                                     .values(state=QUEUED, heartbeat_at=utcnow())).rowcount
        if claimed:
            enqueue(run_push, push_id)
    db.session.commit()
    return len(due)


@job
def resume_stalled() -> int:
    """Pushes (and rollbacks) whose runner stopped beating for PUSH_STALL_SECONDS, or queued that
    long without a runner: release them and start a new run, which continues where the dead one
    stopped. Pushes whose batch is
    still working hold their row locked and are skipped; two checkers never take the same push."""
    stale = _stale_before()
    dead = {state: and_(Push.state == state, or_(Push.heartbeat_at.is_(None), Push.heartbeat_at < stale))
            for state in MOVING}
    # A queued push whose job was lost (the web process running it died before it started).
    dead[QUEUED] = and_(Push.state == QUEUED, func.coalesce(Push.heartbeat_at, Push.created_at) < stale)
    found = db.session.execute(select(Push.id, Push.state).where(or_(*dead.values()))
                               .with_for_update(skip_locked=True)).all()
    resumed = 0
    for push_id, state in found:
        released = db.session.execute(
            update(Push).where(Push.id == push_id, dead[state])
            .values(runner=None, heartbeat_at=utcnow()).execution_options(synchronize_session=False)).rowcount
        if released:
            enqueue(rollback_push if state == ROLLING_BACK else run_push, push_id)
            resumed += 1
    db.session.commit()
    return resumed


def is_stalled(push: Push) -> bool:
    """The push page's "stalled, resuming": its runner has not shown it is alive for too long."""
    return push.state in MOVING and (push.heartbeat_at is None or push.heartbeat_at < _stale_before())


def cancel_scheduled(scope: Scope, push: Push, *, actor: User) -> None:
    cancelled = db.session.execute(
        update(Push).where(Push.id == push.id, Push.state == SCHEDULED)
        .values(state=CANCELLED, finished_at=utcnow(), error=CANCELLED_BY, error_params={"name": actor.username})
        .execution_options(synchronize_session=False)).rowcount
    if not cancelled:
        if push.state == SCHEDULED:     # it was scheduled when the admin looked: the clock won
            raise Conflict(_("The push started before the cancel arrived: nothing was cancelled. "
                             "Roll it back once it has finished if it should not stay."))
        raise RuleError(_("Only a scheduled push can be cancelled."))
    audit.record(actor, "push.cancel", "push", push.id, push.label, scope.path)


# --------------------------------------------------------------------------- reading

def visible(scope: Scope) -> ColumnElement[bool]:
    """The pushes a scope sees: those made inside it (its own, which its admins may act on), and
    those made above it that reached any of its stores (read only: a distributor sees what HQ sent
    into its stores, a regional manager what reached its region). One indexed range over
    ``push_reaches.path``, whatever the number of deliveries."""
    if scope.store_id is not None:
        return false()
    if scope.is_everything():
        return true()
    reached = exists().where(PushReach.push_id == Push.id, scope.paths(PushReach.path))
    return or_(scope.paths(Push.path), reached)


def owns(scope: Scope, push: Push) -> bool:
    """The push was made inside the scope: its admins may roll it back, cancel or retry it, and
    every store it reached is theirs (counts are the push's own)."""
    return scope.store_id is None and scope.covers_path(push.path)


def may_act(scope: Scope, push: Push) -> bool:
    return scope.role in roles.ADMINS and owns(scope, push)


@dataclass(frozen=True)
class HistoryFilter:
    """The history's filters, read from the query string by allow-list; ``errors`` by field."""

    kind: str = ""
    state: str = ""
    since: date | None = None
    until: date | None = None
    errors: dict | None = None

    @classmethod
    def read(cls, args, kinds) -> HistoryFilter:
        errors: dict[str, str] = {}
        days = {}
        for name in ("since", "until"):
            text = (args.get(name) or "").strip()
            days[name] = None
            if text:
                try:
                    days[name] = date.fromisoformat(text[:10])
                except ValueError:
                    errors[name] = _("Enter a date such as 2026-12-01.")
        if days["since"] and days["until"] and days["since"] > days["until"]:
            errors["until"] = _("The end date comes before the start date.")
        return cls(kind=args.get("kind") if args.get("kind") in kinds else "",
                   state=args.get("state") if args.get("state") in PUSH_STATES else "",
                   since=days["since"], until=days["until"] if "until" not in errors else None,
                   errors=errors)

    def args(self) -> dict:
        return {k: v for k, v in dict(kind=self.kind, state=self.state,
                                      since=self.since.isoformat() if self.since else "",
                                      until=self.until.isoformat() if self.until else "").items() if v}


def scoped_pushes(scope: Scope, filters: HistoryFilter | None = None):
    """The history: the pushes the scope sees, newest first, filtered by kind, state and the
    local days they were made on (server-side, on indexed columns)."""
    stmt = select(Push).where(visible(scope))
    f = filters or HistoryFilter()
    if f.kind:
        stmt = stmt.where(Push.kind == f.kind)
    if f.state:
        stmt = stmt.where(Push.state == f.state)
    if f.since:
        stmt = stmt.where(Push.created_at >= day_start_utc(f.since))
    if f.until:
        stmt = stmt.where(Push.created_at < day_end_utc(f.until))
    return stmt.order_by(Push.created_at.desc(), Push.id.desc())


@dataclass
class Counts:
    total: int = 0
    delivered: int = 0
    skipped: int = 0
    failed: int = 0
    reverted: int = 0


def counts_for(scope: Scope, pushes: list[Push]) -> dict[int, Counts]:
    """What each listed push did in the viewer's stores: the push's own counts where the viewer
    owns it, else the sum over the places of its tree it reached (one statement for the page)."""
    out = {p.id: Counts(p.total, p.delivered, p.skipped, p.failed, p.reverted) for p in pushes if owns(scope, p)}
    foreign = [p.id for p in pushes if p.id not in out]
    if foreign:
        for push_id, *values in db.session.execute(
                select(PushReach.push_id, func.sum(PushReach.total), func.sum(PushReach.delivered),
                       func.sum(PushReach.skipped), func.sum(PushReach.failed), func.sum(PushReach.reverted))
                .where(PushReach.push_id.in_(foreign), scope.paths(PushReach.path))
                .group_by(PushReach.push_id)):
            out[push_id] = Counts(*(int(v or 0) for v in values))
    return {p.id: out.get(p.id, Counts()) for p in pushes}


@dataclass
class Progress:
    """Where a push (or its rollback) stands, in the viewer's stores."""

    state: str
    counts: Counts
    pending: int = 0

    @property
    def active(self) -> bool:
        return self.state in (QUEUED, RUNNING, ROLLING_BACK)

    @property
    def planning(self) -> bool:
        """Sent, but its stores are not worked out yet (no delivery row planned)."""
        return self.state in (QUEUED, RUNNING) and self.counts.total == 0

    @property
    def of(self) -> int:
        """How many stores this stage works on: all planned ones; for a rollback, those reached."""
        return self.counts.delivered if self.state in (ROLLING_BACK, ROLLED_BACK) else self.counts.total

    @property
    def done(self) -> int:
        if self.state in (ROLLING_BACK, ROLLED_BACK):
            return self.counts.reverted
        return self.counts.total - self.pending

    @property
    def percent(self) -> int:
        if not self.of:
            return 0 if self.active else 100
        return min(100, int(100 * self.done / self.of))


def progress(scope: Scope, push: Push) -> Progress:
    """Counted live from the delivery rows (one statement); only the viewer's stores when the
    push was made above the viewer."""
    stmt = select(Delivery.outcome, func.count()).where(Delivery.push_id == push.id)
    if not owns(scope, push):
        stmt = stmt.join(Store, Store.id == Delivery.store_id).where(scope.stores())
    by_outcome = dict(db.session.execute(stmt.group_by(Delivery.outcome)).all())
    return Progress(state=push.state, counts=Counts(**_totals(by_outcome)), pending=by_outcome.get(PENDING, 0))


__all__ = ["PushKind", "register_kind", "create_push", "run_push", "rollback_push", "request_rollback",
           "retry_failed", "dispatch_due", "resume_stalled", "is_stalled", "cancel_scheduled", "scoped_pushes",
           "visible", "owns", "may_act", "HistoryFilter", "counts_for", "Counts", "progress", "Progress", "FAILED"]
