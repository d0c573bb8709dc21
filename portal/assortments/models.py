"""Assortments: named sets of goods-library products that HQ pushes to stores as one payload,
and the assortments each store carries (written by pushes, one row per store)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db
from portal.kernel.time import UTCDateTime, utcnow


class Assortment(db.Model):
    """A named set of goods that HQ pushes to stores as one payload."""

    __tablename__ = "assortments"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    path: Mapped[str] = mapped_column(String(255), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class AssortmentItem(db.Model):
    __tablename__ = "assortment_items"

    assortment_id: Mapped[int] = mapped_column(ForeignKey("assortments.id", ondelete="CASCADE"), primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"), primary_key=True, index=True)


class StoreAssortment(db.Model):
    """An assortment a store carries: written by pushes (one row per store, not per good)."""

    __tablename__ = "store_assortments"

    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"), primary_key=True)
    assortment_id: Mapped[int] = mapped_column(ForeignKey("assortments.id", ondelete="CASCADE"), primary_key=True,
                                               index=True)
    push_id: Mapped[int | None] = mapped_column(ForeignKey("pushes.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
