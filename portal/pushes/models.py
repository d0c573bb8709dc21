"""The push engine's records: one push, one delivery row per store it reached."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db
from portal.kernel.time import UTCDateTime, utcnow

# Push states
SCHEDULED, QUEUED, RUNNING, DONE, FAILED, ROLLING_BACK, ROLLED_BACK, CANCELLED = (
    "scheduled", "queued", "running", "done", "failed", "rolling_back", "rolled_back", "cancelled")
PUSH_STATES = (SCHEDULED, QUEUED, RUNNING, DONE, FAILED, ROLLING_BACK, ROLLED_BACK, CANCELLED)
MOVING = (RUNNING, ROLLING_BACK)          # states a runner works on, with a heartbeat

# Delivery outcomes and skip reasons
PENDING, DELIVERED, SKIPPED, ERROR, REVERTED = "pending", "delivered", "skipped", "failed", "reverted"
OUTCOMES = (PENDING, DELIVERED, SKIPPED, ERROR, REVERTED)
CLOSED, ALREADY, OUT_OF_SCOPE, CHANGED_SINCE = "store_closed", "already_has_it", "out_of_scope", "changed_since"


class Push(db.Model):
    __tablename__ = "pushes"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))                     # "template", later "goods", "campaign"
    payload_id: Mapped[int] = mapped_column(Integer)                   # e.g. the template version
    label: Mapped[str] = mapped_column(String(200))                    # what, for people
    target_spec: Mapped[dict] = mapped_column(JSON)                    # snapshot of the target used
    target_id: Mapped[int | None] = mapped_column(ForeignKey("targets.id", ondelete="SET NULL"))
    # The target as people named it when the push was made ("上海区", a saved target's name,
    # "3 个区域") and how many stores it reached then: the history shows both.
    # ``target_label`` is a saved target's name (or, for pushes made before 0010, what was typed
    # then); ``target_parts`` describes an ad-hoc selection in no language (see
    # ``targets.services.description``), shown in the reader's.
    target_label: Mapped[str] = mapped_column(String(200), default="")
    target_parts: Mapped[dict | None] = mapped_column(JSON)
    target_count: Mapped[int | None] = mapped_column(Integer)
    path: Mapped[str] = mapped_column(String(255), index=True)         # the actor's subtree at the time
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor_name: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16), index=True)
    scheduled_for: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    total: Mapped[int] = mapped_column(Integer, default=0)
    delivered: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    reverted: Mapped[int] = mapped_column(Integer, default=0)
    # What went wrong, as a message key with its parameters (translated when shown, see
    # portal.kernel.messages and portal.pushes.labels).
    error: Mapped[str] = mapped_column(Text, default="")
    error_params: Mapped[dict | None] = mapped_column(JSON)
    # The runner working on the push (a token) and when it last showed it is alive: a push
    # whose heartbeat is older than PUSH_STALL_SECONDS is taken over by the stall check.
    runner: Mapped[str | None] = mapped_column(String(32))
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # A rollback: who asked, when, and when it finished (the push's own finish time stays).
    rollback_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    rollback_by_name: Mapped[str] = mapped_column(String(64), default="", server_default="")
    rollback_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    rolled_back_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Delivery(db.Model):
    __tablename__ = "push_deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    push_id: Mapped[int] = mapped_column(ForeignKey("pushes.id", ondelete="CASCADE"))
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"), index=True)
    outcome: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(32), default="", server_default="")
    error: Mapped[str] = mapped_column(String(500), default="", server_default="")    # a message key
    error_params: Mapped[dict | None] = mapped_column(JSON)
    # What the store had before this push (e.g. a template version id), for rollback.
    previous_id: Mapped[int | None] = mapped_column(Integer)
    previous_push_id: Mapped[int | None] = mapped_column(Integer)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        UniqueConstraint("push_id", "store_id", name="uq_push_deliveries_store"),
        Index("ix_push_deliveries_push_outcome", "push_id", "outcome", "store_id"),
    )


class PushReach(db.Model):
    """Where a push went, per place of the tree its stores hang on (a region, or a distributor
    for its own stores): the outcome counts of the stores at that path. Rewritten with the push's
    own counts, so a distributor or a regional manager finds the pushes that reached its stores,
    with its own stores' counts, by one indexed range over ``path`` instead of over deliveries."""

    __tablename__ = "push_reaches"

    push_id: Mapped[int] = mapped_column(ForeignKey("pushes.id", ondelete="CASCADE"), primary_key=True)
    path: Mapped[str] = mapped_column(String(255), primary_key=True)
    total: Mapped[int] = mapped_column(Integer, default=0)
    delivered: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    reverted: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (Index("ix_push_reaches_path", "path", "push_id"),)
