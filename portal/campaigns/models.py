"""Campaigns: coupons, flash sales, bargains, group buys and distribution plans, pushed to stores
as mandatory or opt-in, with a budget that holds under concurrent claims."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db
from portal.kernel.sql import BigId
from portal.kernel.time import UTCDateTime, utcnow

KINDS = ("coupon", "flash_sale", "bargain", "group_buy", "distribution")
# Stored states; "scheduled / running / ended" are derived from the clock for published ones.
DRAFT, PUBLISHED, CANCELLED = "draft", "published", "cancelled"
MANDATORY, OPT_IN = "mandatory", "opt_in"
# A store's participation
INVITED, JOINED, DECLINED, STOPPED = "invited", "joined", "declined", "stopped"
# Who bears the discount (or pays the commission): what a store owner weighs before joining.
BEARERS = ("hq", "distributor", "store")


class Campaign(db.Model):
    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(100))
    rules: Mapped[dict] = mapped_column(JSON)                  # validated by the kind's form
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(12), default=DRAFT)
    participation: Mapped[str] = mapped_column(String(12), default=MANDATORY)
    join_deadline: Mapped[datetime | None] = mapped_column(UTCDateTime())
    budget: Mapped[int | None] = mapped_column(Integer)         # coupons: how many may be issued
    issued: Mapped[int] = mapped_column(Integer, default=0)
    discount_bearer: Mapped[str] = mapped_column(String(12), default="hq", server_default="hq")
    path: Mapped[str] = mapped_column(String(255), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="window"),
        CheckConstraint("budget IS NULL OR issued <= budget", name="budget"),
        CheckConstraint("discount_bearer IN ('hq', 'distributor', 'store')", name="discount_bearer"),
        Index("ix_campaigns_window", "status", "starts_at", "ends_at"),
    )


class CampaignStore(db.Model):
    """A store's part in a campaign: written by the push, changed by the store (join/decline)
    and by HQ (stop)."""

    __tablename__ = "campaign_stores"

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"), primary_key=True, index=True)
    status: Mapped[str] = mapped_column(String(12))
    push_id: Mapped[int | None] = mapped_column(ForeignKey("pushes.id", ondelete="SET NULL"), index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CouponClaim(db.Model):
    __tablename__ = "coupon_claims"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    member: Mapped[str] = mapped_column(String(64))            # the member's union id
    code: Mapped[str] = mapped_column(String(24), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Set by the coupon.redeemed event (portal.orders.events): when, and on which order.
    redeemed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    order_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("orders.id", ondelete="SET NULL"))

    __table_args__ = (Index("ix_coupon_claims_member", "campaign_id", "member"),
                      Index("ix_coupon_claims_order", "order_id"))


__all__ = ["Campaign", "CampaignStore", "CouponClaim"]
