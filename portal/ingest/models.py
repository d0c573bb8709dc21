from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db
from portal.kernel.sql import BigId
from portal.kernel.time import UTCDateTime, utcnow

APPLIED, DUPLICATE, HELD, REJECTED = "applied", "duplicate", "held", "rejected"


class InboxEvent(db.Model):
    """One event a store reported and the portal accepted (applied, or held until what it needs
    arrives). Rejected events are not remembered: the mini-program may fix and resend them under
    the same id. Rows older than ``INBOX_KEEP_DAYS`` (at least 7) are purged, held ones never."""

    __tablename__ = "inbox_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    event_id: Mapped[str] = mapped_column(String(64))
    type: Mapped[str] = mapped_column(String(32))
    body_hash: Mapped[str] = mapped_column(String(64))        # SHA-256 of the event's canonical JSON
    status: Mapped[str] = mapped_column(String(10))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Held events only: what they wait for ("order:<number>") and their data, to apply later.
    waiting_for: Mapped[str | None] = mapped_column(String(100))
    data: Mapped[dict | None] = mapped_column(JSON)

    __table_args__ = (
        UniqueConstraint("store_id", "event_id", name="uq_inbox_events_store_event"),
        CheckConstraint("status IN ('applied', 'held')", name="status"),
        # Every accepted event is a row here, so each index is paid on every event: the held
        # ones (a few) are indexed alone, and the purge's time range is a BRIN on PostgreSQL
        # (rows arrive in time order; a few pages of summary instead of an entry per row).
        Index("ix_inbox_events_waiting", "store_id", "waiting_for",
              postgresql_where=text("status = 'held'"), sqlite_where=text("status = 'held'")),
        Index("ix_inbox_events_received", "received_at", postgresql_using="brin"),
        # The held events that failed when released (``services.failed_after_hold``): the only
        # applied rows that keep their data.
        Index("ix_inbox_events_failed", "store_id", "applied_at",
              postgresql_where=text("status = 'applied' AND data IS NOT NULL"),
              sqlite_where=text("status = 'applied' AND data IS NOT NULL")),
    )


__all__ = ["InboxEvent"]
