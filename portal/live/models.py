"""Live rooms and what happens in them.

- ``LiveRoom``: a store's own room (``store_id`` set) or a broadcast of HQ or a region
  (``node_id`` set), carried by many stores (``LiveRoomStore``: one entry per carrying store; a
  store room has its own store's entry too, so "the rooms a store shows" is one join). ``path`` is
  the owner's path (the store's or the node's): scoped lists. ``status`` is WeChat's code (101 …
  107, ``portal.live.status``); ``provider`` says whose live it is (Channels live first).
- ``LiveRoomGoods``: the goods shown on the room's shelf, in order.
- ``LiveViewer``: one row per member who entered a room: which store's entry brought them, the
  sharer and guide, when, how long they watched, and their own counts (comments, shares). Likes
  and the room's counters are aggregated before they reach the database (``portal.live.counters``):
  ``LiveRoom``'s counter columns are written a few times a second at most, whatever the rate.
- ``LiveSharer``: per room and sharer, the viewers they brought (the leaderboard, by index).
- ``LiveSubscription`` / ``LiveReminder``: members who asked to be reminded; the outbox of
  reminders and invitations (sent in chunks of at most 2,000, one push per room per day).
- ``LiveLottery`` / ``LiveLotteryWinner``: commit before, reveal after (``portal.live.lottery``).
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db
from portal.kernel.sql import BigId
from portal.kernel.time import UTCDateTime, utcnow

CHANNELS, MINIPROGRAM = "channels", "miniprogram"
PROVIDERS = (CHANNELS, MINIPROGRAM)
# WeChat's room status codes (mini-program live; Channels live's own states map onto them)
LIVE, NOT_STARTED, ENDED, BANNED, PAUSED, ABNORMAL, EXPIRED = 101, 102, 103, 104, 105, 106, 107
STATUSES = (LIVE, NOT_STARTED, ENDED, BANNED, PAUSED, ABNORMAL, EXPIRED)
# A room in one of these is over for its audience: listed under "ended", no more invitations.
FINISHED_STATUSES = (ENDED, BANNED, ABNORMAL, EXPIRED)
OPTIONS = ("comments", "likes", "shelf", "replay", "sharing")
DEFAULT_OPTIONS = {name: True for name in OPTIONS}


class LiveRoom(db.Model):
    __tablename__ = "live_rooms"

    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int | None] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    node_id: Mapped[int | None] = mapped_column(ForeignKey("org_nodes.id", ondelete="CASCADE"))
    path: Mapped[str] = mapped_column(String(255))      # the owner's path (store's or node's)
    title: Mapped[str] = mapped_column(String(60))
    cover_url: Mapped[str] = mapped_column(String(255), default="")
    anchor: Mapped[str] = mapped_column(String(40))
    provider: Mapped[str] = mapped_column(String(12), default=CHANNELS)
    provider_room_id: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[int] = mapped_column(SmallInteger, default=NOT_STARTED)
    scheduled_start: Mapped[datetime] = mapped_column(UTCDateTime())
    scheduled_end: Mapped[datetime] = mapped_column(UTCDateTime())
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    options: Mapped[dict] = mapped_column(JSON, default=lambda: dict(DEFAULT_OPTIONS))
    replay_url: Mapped[str | None] = mapped_column(String(500))
    reminded_on: Mapped[date | None] = mapped_column(Date)      # one push per room per day
    # The room's counters, flushed from the aggregator (portal.live.counters)
    likes: Mapped[int] = mapped_column(BigInteger, default=0)
    comments: Mapped[int] = mapped_column(BigInteger, default=0)
    shares: Mapped[int] = mapped_column(BigInteger, default=0)
    follows: Mapped[int] = mapped_column(BigInteger, default=0)
    watch_seconds: Mapped[int] = mapped_column(BigInteger, default=0)
    online: Mapped[int] = mapped_column(Integer, default=0)        # viewers in the room now
    peak_online: Mapped[int] = mapped_column(Integer, default=0)
    flushes: Mapped[int] = mapped_column(BigInteger, default=0)    # writes of these counters
    # (migration 0023_live_figures) unique viewers, and the sum of the entry times (epoch seconds)
    # of those in the room now: the open stays' watch time is online × now − entered_sum, so the
    # figures never scan the viewers
    viewers: Mapped[int] = mapped_column(BigInteger, default=0)
    entered_sum: Mapped[int] = mapped_column(BigInteger, default=0)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    __table_args__ = (
        CheckConstraint("(store_id IS NULL) <> (node_id IS NULL)", name="owner"),
        CheckConstraint("provider IN ('channels', 'miniprogram')", name="provider"),
        CheckConstraint("status BETWEEN 101 AND 107", name="status"),
        CheckConstraint("scheduled_end > scheduled_start", name="window"),
        Index("ix_live_rooms_path_start", "path", "scheduled_start"),
        Index("ix_live_rooms_store_start", "store_id", "scheduled_start"),
        Index("ix_live_rooms_status_end", "status", "scheduled_end"),
    )

    @property
    def is_broadcast(self) -> bool:
        return self.node_id is not None

    @property
    def is_over(self) -> bool:
        """Over for its audience (FINISHED_STATUSES): listed as ended, no more invitations."""
        return self.status in FINISHED_STATUSES

    def __repr__(self) -> str:
        return f"<LiveRoom {self.id} {self.status}>"


class LiveRoomStore(db.Model):
    """A store that carries a room: its own room, or a broadcast it shows."""
    __tablename__ = "live_room_stores"

    room_id: Mapped[int] = mapped_column(ForeignKey("live_rooms.id", ondelete="CASCADE"), primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"), primary_key=True)
    path: Mapped[str] = mapped_column(String(255))          # the store's path
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (Index("ix_live_room_stores_store", "store_id", "room_id"),
                      Index("ix_live_room_stores_path", "path", "room_id"))     # 0021: scoped lists


class LiveRoomGoods(db.Model):
    __tablename__ = "live_room_goods"

    room_id: Mapped[int] = mapped_column(ForeignKey("live_rooms.id", ondelete="CASCADE"), primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0)


class LiveViewer(db.Model):
    __tablename__ = "live_viewers"

    room_id: Mapped[int] = mapped_column(ForeignKey("live_rooms.id", ondelete="CASCADE"), primary_key=True)
    member_id: Mapped[int] = mapped_column(BigId, ForeignKey("members.id"), primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))   # whose entry
    sharer_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("members.id"))
    guide_id: Mapped[int | None] = mapped_column(ForeignKey("guides.id", ondelete="SET NULL"))
    staff: Mapped[bool] = mapped_column(Boolean, default=False)
    first_entered_at: Mapped[datetime] = mapped_column(UTCDateTime())
    entered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())     # set while present
    watch_seconds: Mapped[int] = mapped_column(Integer, default=0)
    comments: Mapped[int] = mapped_column(Integer, default=0)
    shares: Mapped[int] = mapped_column(Integer, default=0)
    followed: Mapped[bool] = mapped_column(Boolean, default=False)

    # Written again on every leave and by the counters' flushes, never in an indexed column:
    # fillfactor 70 on PostgreSQL (migration 0024) keeps those updates in place (HOT).
    __table_args__ = (Index("ix_live_viewers_sharer", "room_id", "sharer_id"),
                      Index("ix_live_viewers_store", "room_id", "store_id"),
                      Index("ix_live_viewers_member", "member_id"))


class LiveSharer(db.Model):
    """Per room and sharer: the viewers they brought. Kept by the live.enter handler."""
    __tablename__ = "live_sharers"

    room_id: Mapped[int] = mapped_column(ForeignKey("live_rooms.id", ondelete="CASCADE"), primary_key=True)
    member_id: Mapped[int] = mapped_column(BigId, ForeignKey("members.id"), primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    viewers: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (Index("ix_live_sharers_rank", "room_id", "viewers"),
                      Index("ix_live_sharers_member", "member_id"))


class LiveSubscription(db.Model):
    __tablename__ = "live_subscriptions"

    room_id: Mapped[int] = mapped_column(ForeignKey("live_rooms.id", ondelete="CASCADE"), primary_key=True)
    member_id: Mapped[int] = mapped_column(BigId, ForeignKey("members.id"), primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (Index("ix_live_subscriptions_member", "member_id"),)


REMINDER, INVITATION = "reminder", "invitation"
PENDING, SENT, FAILED = "pending", "sent", "failed"


class LiveReminder(db.Model):
    """The outbox: one row per message to a member; sent by a sender (portal.live.reminders)."""
    __tablename__ = "live_reminders"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("live_rooms.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(BigId, ForeignKey("members.id"))
    kind: Mapped[str] = mapped_column(String(12), default=REMINDER)
    on_day: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(8), default=PENDING)
    error: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (UniqueConstraint("room_id", "member_id", "kind", "on_day", name="uq_live_reminders_once"),
                      CheckConstraint("status IN ('pending', 'sent', 'failed')", name="status"),
                      Index("ix_live_reminders_pending", "status", "room_id"))


POOLS = ("sharers", "viewers", "commenters")
ANNOUNCED, DRAWN = "announced", "drawn"


class LiveLottery(db.Model):
    __tablename__ = "live_lotteries"

    id: Mapped[int] = mapped_column(primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("live_rooms.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(60))
    pool: Mapped[str] = mapped_column(String(12))
    min_shares: Mapped[int] = mapped_column(Integer, default=0)
    exclude_staff: Mapped[bool] = mapped_column(Boolean, default=True)
    winners_wanted: Mapped[int] = mapped_column(Integer)
    seed: Mapped[str] = mapped_column(Text)                 # hex; shown only once drawn
    seed_hash: Mapped[str] = mapped_column(String(64))      # SHA-256 of the seed, shown from the start
    status: Mapped[str] = mapped_column(String(10), default=ANNOUNCED)
    entrants: Mapped[int | None] = mapped_column(Integer)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    drawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    drawn_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    __table_args__ = (CheckConstraint("pool IN ('sharers', 'viewers', 'commenters')", name="pool"),
                      CheckConstraint("status IN ('announced', 'drawn')", name="status"),
                      CheckConstraint("winners_wanted > 0", name="winners"))


class LiveLotteryWinner(db.Model):
    __tablename__ = "live_lottery_winners"

    lottery_id: Mapped[int] = mapped_column(ForeignKey("live_lotteries.id", ondelete="CASCADE"), primary_key=True)
    rank: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = mapped_column(BigId, ForeignKey("members.id"))
    score: Mapped[str] = mapped_column(String(64))          # HMAC-SHA256(seed, member id), hex

    __table_args__ = (UniqueConstraint("lottery_id", "member_id", name="uq_live_lottery_winner"),)


class LiveLotteryEntrant(db.Model):
    """Who took part in a drawn lottery, fixed at the draw with each entrant's score, so the
    downloadable list (and a re-run from the revealed seed) stays what the draw saw even as the
    room's viewer rows go on changing. Added by migration 0022_live_lottery."""
    __tablename__ = "live_lottery_entrants"

    lottery_id: Mapped[int] = mapped_column(ForeignKey("live_lotteries.id", ondelete="CASCADE"), primary_key=True)
    member_id: Mapped[int] = mapped_column(BigId, ForeignKey("members.id"), primary_key=True)
    label: Mapped[str] = mapped_column(String(64), default="")    # the masked nickname shown
    score: Mapped[str] = mapped_column(String(64))                 # HMAC-SHA256(seed, member id), hex


__all__ = ["LiveLottery", "LiveLotteryEntrant", "LiveLotteryWinner", "LiveReminder", "LiveRoom", "LiveRoomGoods",
           "LiveRoomStore",
           "LiveSharer", "LiveSubscription", "LiveViewer"]
