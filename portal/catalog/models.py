"""The goods catalog: HQ's products (SPU) and their SKUs, assortments pushed to stores, and the
listings a store changed. A store's effective goods = the products of the assortments pushed to
it + its own local products; a listing row exists only where the store changed something."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (JSON, Boolean, CheckConstraint, DateTime, ForeignKey, Index, Integer, String,
                        Text, UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.kernel.time import utcnow


class Product(db.Model):
    __tablename__ = "products"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    category: Mapped[str] = mapped_column(String(50), index=True)
    description: Mapped[str] = mapped_column(Text, default="")
    direct_sale: Mapped[bool] = mapped_column(Boolean, default=False)   # HQ ships, the store earns a commission
    commission_rate: Mapped[int] = mapped_column(Integer, default=0)    # basis points of the sale for the store
    path: Mapped[str] = mapped_column(String(255), index=True)          # owner: HQ/distributor subtree
    store_id: Mapped[int | None] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"), index=True)  # a store's own
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)

    skus: Mapped[list["Sku"]] = relationship(back_populates="product", order_by="Sku.id",
                                             cascade="all, delete-orphan")
    images: Mapped[list["ProductImage"]] = relationship(back_populates="product", order_by="ProductImage.position",
                                                        cascade="all, delete-orphan")

    __table_args__ = (CheckConstraint("commission_rate >= 0 AND commission_rate <= 10000", name="commission"),)


class Sku(db.Model):
    """Prices are in fen (1/100 yuan). Stores may set their price within [floor, ceiling]."""

    __tablename__ = "skus"

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    spec: Mapped[dict] = mapped_column(JSON, default=dict)             # {"规格": "大杯", "颜色": "红"}
    list_price: Mapped[int] = mapped_column(Integer)
    price_floor: Mapped[int] = mapped_column(Integer)
    price_ceiling: Mapped[int] = mapped_column(Integer)
    # Moves on every change of the row: part of the goods API's cheap version (shelf.goods_version).
    updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)

    product: Mapped[Product] = relationship(back_populates="skus")

    __table_args__ = (
        CheckConstraint("price_floor >= 0 AND price_floor <= list_price AND list_price <= price_ceiling",
                        name="price_bounds"),
    )


class ProductImage(db.Model):
    __tablename__ = "product_images"

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(100))      # under instance/uploads/goods/
    thumb: Mapped[str] = mapped_column(String(100))
    position: Mapped[int] = mapped_column(Integer, default=0)

    product: Mapped[Product] = relationship(back_populates="images")


class Assortment(db.Model):
    """A named set of goods that HQ pushes to stores as one payload."""

    __tablename__ = "assortments"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    path: Mapped[str] = mapped_column(String(255), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


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
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


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
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)

    __table_args__ = (
        UniqueConstraint("store_id", "sku_id", name="uq_listings_store_sku"),
        CheckConstraint("stock IS NULL OR stock >= 0", name="stock"),
    )


class StoreNotice(db.Model):
    """Something the store should know, e.g. a price HQ changed or clamped into new bounds.

    The text is made when it is shown, in the reader's language: ``code`` names a template of
    ``portal.catalog.notices.NOTICE_MESSAGES`` and ``params`` fills it (amounts in fen). Rows from
    before codes existed keep the text they were written with in ``message``."""

    __tablename__ = "store_notices"

    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    code: Mapped[str | None] = mapped_column(String(64))
    params: Mapped[dict | None] = mapped_column(JSON)
    message: Mapped[str | None] = mapped_column(String(500))          # legacy rows only
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_store_notices_store_created", "store_id", "created_at"),)

    @property
    def text(self) -> str:
        """The notice in the current locale."""
        if not self.code:
            return self.message or ""
        from portal.catalog.notices import notice_text

        return notice_text(self.code, self.params)
