"""Orders, refunds and the commission ledger.

- ``Order`` / ``OrderLine``: what a store's mini-program reported as paid, amounts in fen. The
  order keeps the attribution at payment (sharer, guide, campaign, live room) so a later change
  of binding never rewrites who earned what. ``fulfilled_by`` is per line: "hq" for HQ-shipped
  direct-sale goods (the store earns a commission on them), else "store".
- ``Refund`` / ``RefundLine``: what was given back, per line (quantity and fen).
- ``CommissionEntry``: the ledger, append-only: an entry is never updated or deleted. A paid line
  yields one entry per beneficiary of the distribution plan in force; a refund appends reversing
  entries (negative ``amount_fen``, ``reverses_id`` set) in proportion to what was refunded of
  that line. ``why`` keeps the relationship as it was at order time, for "why this commission".
  An entry is frozen until ``payable_at``; statements and payouts sum it per beneficiary.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db
from portal.kernel.sql import BigId
from portal.kernel.time import UTCDateTime, utcnow

PAID, PARTLY_REFUNDED, REFUNDED = "paid", "partly_refunded", "refunded"
FULFILLERS = ("store", "hq")
# Beneficiaries of a commission entry
BENEFICIARY_STORE, BENEFICIARY_GUIDE, BENEFICIARY_SHARER = "store", "guide", "sharer"


class Order(db.Model):
    __tablename__ = "orders"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"))
    path: Mapped[str] = mapped_column(String(255))          # the store's path: scoped lists
    number: Mapped[str] = mapped_column(String(64))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    status: Mapped[str] = mapped_column(String(16), default=PAID)
    goods_fen: Mapped[int] = mapped_column(Integer)
    discount_fen: Mapped[int] = mapped_column(Integer, default=0)
    coupon_fen: Mapped[int] = mapped_column(Integer, default=0)
    freight_fen: Mapped[int] = mapped_column(Integer, default=0)
    paid_fen: Mapped[int] = mapped_column(Integer)
    refunded_fen: Mapped[int] = mapped_column(Integer, default=0)
    coupon_code: Mapped[str | None] = mapped_column(String(24))
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="SET NULL"))
    live_room_id: Mapped[int | None] = mapped_column(ForeignKey("live_rooms.id", ondelete="SET NULL"))  # portal.live
    sharer_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    guide_id: Mapped[int | None] = mapped_column(ForeignKey("guides.id", ondelete="SET NULL"))   # at payment
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="SET NULL"))  # distribution plan
    paid_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        UniqueConstraint("store_id", "number", name="uq_orders_store_number"),
        CheckConstraint("status IN ('paid', 'partly_refunded', 'refunded')", name="status"),
        CheckConstraint("refunded_fen >= 0 AND refunded_fen <= paid_fen", name="refunded"),
        Index("ix_orders_path_paid", "path", "paid_at"),
        Index("ix_orders_store_paid", "store_id", "paid_at"),
        Index("ix_orders_member", "member_id", "paid_at"),
        Index("ix_orders_sharer", "sharer_id"),
        Index("ix_orders_campaign", "campaign_id"),
        Index("ix_orders_live_room", "live_room_id"),
        Index("ix_orders_paid", "paid_at"),          # HQ's list, newest first (migration 0015)
        Index("ix_orders_number", "number"),          # search by order number across stores
    )


class OrderLine(db.Model):
    __tablename__ = "order_lines"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    line_no: Mapped[int] = mapped_column(Integer)
    sku_code: Mapped[str] = mapped_column(String(64))
    sku_id: Mapped[int | None] = mapped_column(ForeignKey("skus.id", ondelete="SET NULL"))
    name: Mapped[str] = mapped_column(String(200), default="")
    quantity: Mapped[int] = mapped_column(Integer)
    unit_fen: Mapped[int] = mapped_column(Integer)
    paid_fen: Mapped[int] = mapped_column(Integer)        # the line's share of what was paid (the base)
    refunded_quantity: Mapped[int] = mapped_column(Integer, default=0)
    refunded_fen: Mapped[int] = mapped_column(Integer, default=0)
    fulfilled_by: Mapped[str] = mapped_column(String(8), default="store")

    __table_args__ = (
        UniqueConstraint("order_id", "line_no", name="uq_order_lines_order_line"),
        CheckConstraint("quantity > 0", name="quantity"),
        CheckConstraint("refunded_quantity >= 0 AND refunded_quantity <= quantity", name="refunded_quantity"),
        CheckConstraint("refunded_fen >= 0 AND refunded_fen <= paid_fen", name="refunded_fen"),
        CheckConstraint("fulfilled_by IN ('store', 'hq')", name="fulfilled_by"),
    )


class Refund(db.Model):
    __tablename__ = "refunds"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"))
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    number: Mapped[str] = mapped_column(String(64))
    amount_fen: Mapped[int] = mapped_column(Integer)
    refunded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (UniqueConstraint("store_id", "number", name="uq_refunds_store_number"),
                      CheckConstraint("amount_fen > 0", name="amount"),
                      Index("ix_refunds_order", "order_id"))


class RefundLine(db.Model):
    __tablename__ = "refund_lines"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    refund_id: Mapped[int] = mapped_column(ForeignKey("refunds.id", ondelete="CASCADE"), index=True)
    line_id: Mapped[int] = mapped_column(ForeignKey("order_lines.id", ondelete="CASCADE"))
    quantity: Mapped[int] = mapped_column(Integer, default=0)
    amount_fen: Mapped[int] = mapped_column(Integer)


class CommissionEntry(db.Model):
    __tablename__ = "commission_entries"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"))      # the order's store (scope)
    path: Mapped[str] = mapped_column(String(255))
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    line_id: Mapped[int] = mapped_column(ForeignKey("order_lines.id"))
    refund_id: Mapped[int | None] = mapped_column(ForeignKey("refunds.id"))
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("commission_entries.id"))
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="SET NULL"))
    beneficiary: Mapped[str] = mapped_column(String(8))        # store / guide / sharer
    level: Mapped[int] = mapped_column(Integer, default=0)      # sharers: 1 or 2
    beneficiary_store_id: Mapped[int | None] = mapped_column(ForeignKey("stores.id"))
    guide_id: Mapped[int | None] = mapped_column(ForeignKey("guides.id"))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))    # the sharer
    rate_bp: Mapped[int] = mapped_column(Integer)        # basis points: 1250 = 12.50 %
    base_fen: Mapped[int] = mapped_column(Integer)
    amount_fen: Mapped[int] = mapped_column(Integer)     # negative for a reversal
    why: Mapped[dict] = mapped_column(JSON, default=dict)
    payable_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        CheckConstraint("beneficiary IN ('store', 'guide', 'sharer')", name="beneficiary"),
        Index("ix_commission_entries_order", "order_id"),
        Index("ix_commission_entries_store", "beneficiary_store_id", "payable_at"),
        Index("ix_commission_entries_guide", "guide_id", "payable_at"),
        Index("ix_commission_entries_member", "member_id", "payable_at"),
        Index("ix_commission_entries_path", "path", "created_at"),
    )


class CommissionMonth(db.Model):
    """A closed month (Asia/Shanghai): its statements are stored and no longer change. Months close
    in order, for the whole brand; a month's statements cover what became payable since the end
    of the previous closed month (all of it for the first one) up to ``ends_at``."""

    __tablename__ = "commission_months"

    month: Mapped[str] = mapped_column(String(7), primary_key=True)        # "2026-03"
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    statements: Mapped[int] = mapped_column(Integer, default=0)
    closed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class CommissionStatement(db.Model):
    """One beneficiary's month at one store (the store whose orders earned it): opening balance
    (the previous statement's closing), what became payable, the reversals, what was paid out,
    the closing balance, which may be negative and is carried into the next month. ``holder_id``
    is the beneficiary's own id (the store's, the guide's or the sharer member's). A payout is
    written on the statement it pays (``payout_*``) and counted in the next month's statement."""

    __tablename__ = "commission_statements"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    month: Mapped[str] = mapped_column(ForeignKey("commission_months.month"))
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"))
    path: Mapped[str] = mapped_column(String(255))
    beneficiary: Mapped[str] = mapped_column(String(8))
    holder_id: Mapped[int] = mapped_column(BigId)
    opening_fen: Mapped[int] = mapped_column(Integer, default=0)
    earned_fen: Mapped[int] = mapped_column(Integer, default=0)
    reversed_fen: Mapped[int] = mapped_column(Integer, default=0)       # <= 0
    paid_out_fen: Mapped[int] = mapped_column(Integer, default=0)       # payouts made during the month
    closing_fen: Mapped[int] = mapped_column(Integer, default=0)
    entries: Mapped[int] = mapped_column(Integer, default=0)
    payout_fen: Mapped[int | None] = mapped_column(Integer)
    payout_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    payout_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        UniqueConstraint("month", "store_id", "beneficiary", "holder_id", name="uq_commission_statements_holder"),
        CheckConstraint("beneficiary IN ('store', 'guide', 'sharer')", name="beneficiary"),
        CheckConstraint("payout_fen IS NULL OR payout_fen > 0", name="payout"),
        Index("ix_commission_statements_path", "path", "month"),
        Index("ix_commission_statements_store", "store_id", "month"),
    )


__all__ = ["CommissionEntry", "CommissionMonth", "CommissionStatement", "Order", "OrderLine", "Refund",
           "RefundLine"]
