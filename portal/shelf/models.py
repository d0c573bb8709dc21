"""A store's shelf: what it changed about the goods it sells (listings) and what it was told
(notices). A store's effective goods = the products of the assortments pushed to it + its own
local products; a listing row exists only where the store changed something."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db
from portal.kernel.time import UTCDateTime, utcnow


class Listing(db.Model):
    """What a store changed about one SKU it sells: price, stock, shelf. Absent = HQ's defaults
    (list price, not stock-tracked, on the shelf)."""

    __tablename__ = "listings"

    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    sku_id: Mapped[int] = mapped_column(ForeignKey("skus.id", ondelete="CASCADE"), index=True)
    price: Mapped[int | None] = mapped_column(Integer)
    stock: Mapped[int | None] = mapped_column(Integer)
    on_shelf: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    __table_args__ = (
        UniqueConstraint("store_id", "sku_id", name="uq_listings_store_sku"),
        CheckConstraint("stock IS NULL OR stock >= 0", name="stock"),
    )


class StoreNotice(db.Model):
    """Something the store should know, e.g. a price HQ changed or clamped into new bounds.

    The text is made when it is shown, in the reader's language: ``code`` names a template of
    ``portal.shelf.notices.NOTICE_MESSAGES`` and ``params`` fills it (amounts in fen). Rows from
    before codes existed keep the text they were written with in ``message``."""

    __tablename__ = "store_notices"

    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    code: Mapped[str | None] = mapped_column(String(64))
    params: Mapped[dict | None] = mapped_column(JSON)
    message: Mapped[str | None] = mapped_column(String(500))          # legacy rows only
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_store_notices_store_created", "store_id", "created_at"),)

    @property
    def text(self) -> str:
        """The notice in the current locale."""
        if not self.code:
            return self.message or ""
        from portal.shelf.notices import notice_text

        return notice_text(self.code, self.params)
