"""Members and their service relationship.

- ``Member``: one person across the brand. ``merged_into_id`` points an absorbed member at the
  one it was merged into (its rows move there; ``MemberMerge`` remembers exactly what moved, so
  an unmerge gives each side back its own). The phone is kept encrypted (``phone_enc``), found by
  its keyed hash (``phone_hash``, portal.kernel.crypto) and shown masked (``phone_masked``).
- ``MemberIdentity``: how one mini-program knows the member: (appid, openid), and the unionid
  when the mini-program's Open Platform account gives one.
- ``Guide``: a store's staff member (导购) who serves members; managed by the store owner.
- ``MemberBinding``: the history of the service relationship, one row per period (``ended_at``
  NULL for the current one, which ``Member.store_id`` / ``guide_id`` / ``bound_at`` repeat for
  fast lists and for the commission of an order).
- ``MemberSettings``: the one row of HQ's rules: the binding rule and the RFM window and
  thresholds.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    Computed,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db
from portal.kernel.sql import BigId
from portal.kernel.time import UTCDateTime, utcnow

ACTIVE, MERGED, ERASED = "active", "merged", "erased"
# Binding rules HQ chooses between
FIRST_STAYS, LATEST_WINS, PROTECTED = "first", "latest", "protected"
BINDING_RULES = (FIRST_STAYS, LATEST_WINS, PROTECTED)
# Why a binding began or ended
CAUSES = ("signup", "share", "order", "manual", "merge", "unmerge", "guide_left", "erased")
# RFM segments: the eight classic ones and new customers
SEGMENTS = ("important_value", "important_keep", "important_develop", "important_retain",
            "general_value", "general_keep", "general_develop", "general_retain", "new")

# The same text on SQLite and PostgreSQL (both have substr and length).
PHONE_TAIL_SQL = "substr(phone_masked, length(phone_masked) - 3)"


def appid_of(store) -> str:
    """The mini-program a store's members are known in: its app id, or one of its own when it has
    none yet (so openids of two stores without app ids never collide)."""
    return store.appid or f"store:{store.code}"


class Member(db.Model):
    __tablename__ = "members"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    nickname: Mapped[str] = mapped_column(String(64), default="")
    phone_enc: Mapped[str | None] = mapped_column(Text)
    phone_hash: Mapped[str | None] = mapped_column(String(64))
    phone_masked: Mapped[str] = mapped_column(String(16), default="")     # 138****1234
    # Its last four digits, computed by the database (migration 0015): the list's phone search
    phone_tail: Mapped[str | None] = mapped_column(String(4), Computed(PHONE_TAIL_SQL))
    phone_verified: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(8), default=ACTIVE)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    # The service relationship now (the open MemberBinding row repeats it)
    store_id: Mapped[int | None] = mapped_column(ForeignKey("stores.id", ondelete="SET NULL"))
    path: Mapped[str] = mapped_column(String(255), default="")    # the bound store's path: scoped lists
    guide_id: Mapped[int | None] = mapped_column(ForeignKey("guides.id", ondelete="SET NULL"))
    bound_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Who brought this member (a sharer is a member too): level 2 of a commission is this
    # member's referrer when they share. Chains refuse self-binding and cycles.
    referrer_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    tier_id: Mapped[int | None] = mapped_column(ForeignKey("member_tiers.id", ondelete="SET NULL"))
    # RFM, written set-based by portal.members.rfm
    segment: Mapped[str | None] = mapped_column(String(20))
    r_score: Mapped[int | None] = mapped_column(SmallInteger)
    f_score: Mapped[int | None] = mapped_column(SmallInteger)
    m_score: Mapped[int | None] = mapped_column(SmallInteger)
    first_order_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_order_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    rfm_orders: Mapped[int | None] = mapped_column(Integer)          # F: orders in the window (issue 10 rfm)
    rfm_net_fen: Mapped[int | None] = mapped_column(BigId)           # M: net of refunds, in the window
    segment_since: Mapped[datetime | None] = mapped_column(UTCDateTime())   # in this segment since
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        CheckConstraint("status IN ('active', 'merged', 'erased')", name="status"),
        CheckConstraint("referrer_id IS NULL OR referrer_id <> id", name="not_own_referrer"),
        Index("ix_members_phone_hash", "phone_hash"),
        Index("ix_members_path", "path", "status"),
        Index("ix_members_store", "store_id", "status"),
        Index("ix_members_guide", "guide_id"),
        Index("ix_members_referrer", "referrer_id"),
        Index("ix_members_merged_into", "merged_into_id"),
        # No index on segment or the RFM columns: the nightly recompute rewrites them for every
        # buyer, and unindexed they are HOT updates in place (fillfactor 70 on PostgreSQL leaves
        # the room, migration 0019); the list's segment filter rides the path/id indexes.
    )


class MemberIdentity(db.Model):
    __tablename__ = "member_identities"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    store_id: Mapped[int | None] = mapped_column(ForeignKey("stores.id", ondelete="SET NULL"))   # first seen in
    appid: Mapped[str] = mapped_column(String(32))
    openid: Mapped[str] = mapped_column(String(64))
    unionid: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        UniqueConstraint("appid", "openid", name="uq_member_identities_app_openid"),
        Index("ix_member_identities_member", "member_id"),
        Index("ix_member_identities_unionid", "unionid"),
    )


class Guide(db.Model):
    __tablename__ = "guides"

    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(32))          # what the mini-program reports
    name: Mapped[str] = mapped_column(String(50))
    phone_masked: Mapped[str] = mapped_column(String(16), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    deactivated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (UniqueConstraint("store_id", "code", name="uq_guides_store_code"),)


class MemberBinding(db.Model):
    __tablename__ = "member_bindings"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    store_id: Mapped[int | None] = mapped_column(ForeignKey("stores.id", ondelete="SET NULL"))
    guide_id: Mapped[int | None] = mapped_column(ForeignKey("guides.id", ondelete="SET NULL"))
    cause: Mapped[str] = mapped_column(String(12))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    end_cause: Mapped[str | None] = mapped_column(String(12))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    note: Mapped[str] = mapped_column(String(255), default="")

    __table_args__ = (Index("ix_member_bindings_member", "member_id", "started_at"),
                      Index("ix_member_bindings_guide", "guide_id"))


class MemberMerge(db.Model):
    """One merge: ``absorbed`` folded into ``survivor`` by a rule (unionid, phone) or a person.
    ``moved`` lists the ids of every row that moved ({"identities": [...], "orders": [...], ...})
    and the survivor's fields it changed, so ``undone_at`` can give each side back exactly its own."""

    __tablename__ = "member_merges"

    id: Mapped[int] = mapped_column(primary_key=True)
    survivor_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    absorbed_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    rule: Mapped[str] = mapped_column(String(12))          # unionid / phone / manual
    reason: Mapped[str] = mapped_column(String(255), default="")
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    moved: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    undone_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    undone_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    __table_args__ = (Index("ix_member_merges_survivor", "survivor_id"),
                      Index("ix_member_merges_absorbed", "absorbed_id"))


class MemberTier(db.Model):
    __tablename__ = "member_tiers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(32), unique=True)
    rank: Mapped[int] = mapped_column(Integer, default=0)
    min_spent_fen: Mapped[int] = mapped_column(Integer, default=0)


class MemberSettings(db.Model):
    """HQ's rules for members, one row (id 1)."""

    __tablename__ = "member_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    binding_rule: Mapped[str] = mapped_column(String(12), default=FIRST_STAYS)
    protect_days: Mapped[int] = mapped_column(Integer, default=30)
    rfm_window_days: Mapped[int] = mapped_column(Integer, default=365)
    rfm_new_days: Mapped[int] = mapped_column(Integer, default=30)
    rfm_mode: Mapped[str] = mapped_column(String(12), default="thresholds")     # or "median"
    rfm_recency_days: Mapped[int] = mapped_column(Integer, default=90)      # bought within: R high
    rfm_frequency: Mapped[int] = mapped_column(Integer, default=3)          # orders at least: F high
    rfm_monetary_fen: Mapped[int] = mapped_column(Integer, default=100_000)  # net spent at least: M high
    rfm_computed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    __table_args__ = (CheckConstraint("binding_rule IN ('first', 'latest', 'protected')", name="binding_rule"),)


# ---- issue 10: audiences (migration 0016_audiences) --------------------------------------------
# The member list's filters, sorts and search (nickname: trigrams on PostgreSQL for three characters
# or more, a prefix index for one or two, plain indexes on SQLite; the phone's last four digits:
# the computed ``phone_tail``).
Index("ix_members_tier", Member.tier_id)
Index("ix_members_phone_tail", Member.phone_tail)
Index("ix_members_nickname", Member.nickname, postgresql_using="gin", postgresql_ops={"nickname": "gin_trgm_ops"})
Index("ix_members_nickname_prefix", Member.nickname, postgresql_ops={"nickname": "varchar_pattern_ops"})

# Tags are one brand-wide list that HQ keeps; people in a member's scope apply them.
member_tag_links = Table(
    "member_tag_links",
    db.metadata,
    Column("member_id", BigId, ForeignKey("members.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", ForeignKey("member_tags.id", ondelete="CASCADE"), primary_key=True),
    Index("ix_member_tag_links_tag", "tag_id", "member_id"),
)


class MemberTag(db.Model):
    __tablename__ = "member_tags"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(32), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


# A fixed group's members (a saved-filter group has none: its ``spec`` is resolved when used).
member_group_members = Table(
    "member_group_members",
    db.metadata,
    Column("group_id", ForeignKey("member_groups.id", ondelete="CASCADE"), primary_key=True),
    Column("member_id", BigId, ForeignKey("members.id", ondelete="CASCADE"), primary_key=True),
    Index("ix_member_group_members_member", "member_id"),
)

FIXED, FILTER = "fixed", "filter"
GROUP_KINDS = (FIXED, FILTER)


class MemberGroup(db.Model):
    """An audience: a fixed list of members, or a saved filter of the member list (``spec``,
    see ``portal.members.audiences.MemberFilter``). Owned by the part of the tree that made it
    (``path``, like targets); its members are always those of the reader's scope."""

    __tablename__ = "member_groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(8), default=FIXED)
    path: Mapped[str] = mapped_column(String(255), index=True)
    spec: Mapped[dict] = mapped_column(JSON, default=dict)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    __table_args__ = (CheckConstraint("kind IN ('fixed', 'filter')", name="kind"),)




class RfmRun(db.Model):
    """One RFM recompute, nightly or asked for on the settings page: its state for the progress card."""

    __tablename__ = "rfm_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    state: Mapped[str] = mapped_column(String(8), default="queued")     # queued / running / done / failed
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    members: Mapped[int | None] = mapped_column(Integer)        # members with a segment afterwards
    error: Mapped[str] = mapped_column(String(255), default="")

    __table_args__ = (CheckConstraint("state IN ('queued', 'running', 'done', 'failed')", name="state"),
                      Index("ix_rfm_runs_state", "state"))


class SegmentMonth(db.Model):
    """A month whose snapshot of members' segments was taken (at its first recompute)."""

    __tablename__ = "segment_months"

    month: Mapped[str] = mapped_column(String(7), primary_key=True)      # 2026-12
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    members: Mapped[int] = mapped_column(Integer, default=0)


class MemberSegmentMonth(db.Model):
    """Each member's segment as the month began (written by one INSERT … SELECT)."""

    __tablename__ = "member_segment_months"

    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    member_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    store_id: Mapped[int | None] = mapped_column(Integer)
    segment: Mapped[str] = mapped_column(String(20))


class SegmentMove(db.Model):
    """Per store, how many members moved from one segment to another since the month began
    (rewritten by every recompute; '' is "no segment"). Scoped through its store."""

    __tablename__ = "segment_moves"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    month: Mapped[str] = mapped_column(String(7))
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    from_segment: Mapped[str] = mapped_column(String(20))
    to_segment: Mapped[str] = mapped_column(String(20))
    members: Mapped[int] = mapped_column(Integer)

    __table_args__ = (Index("ix_segment_moves_month_store", "month", "store_id"),)


__all__ = ["Guide", "Member", "MemberBinding", "MemberIdentity", "MemberMerge", "MemberSettings", "MemberTier",
           "MemberGroup", "MemberSegmentMonth", "MemberTag", "RfmRun", "SegmentMonth", "SegmentMove", "appid_of",
           "member_group_members", "member_tag_links"]
