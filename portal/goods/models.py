"""The goods library: HQ's products (SPU), their SKUs and pictures, and a store's own local
products (the same rows, with ``store_id`` set). Assortments (``portal.assortments``) put them in
front of stores; the store's shelf (``portal.shelf``) is what each store made of them."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.kernel.time import UTCDateTime, utcnow


class Product(db.Model):
    __tablename__ = "products"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    category: Mapped[str] = mapped_column(String(50), index=True)
    description: Mapped[str] = mapped_column(Text, default="")
    direct_sale: Mapped[bool] = mapped_column(Boolean, default=False)   # HQ ships, the store earns a commission
    commission_rate: Mapped[int] = mapped_column(Integer, default=0)    # basis points of the sale for the store
    path: Mapped[str] = mapped_column(String(255), index=True)  # owner: HQ/distributor subtree
    store_id: Mapped[int | None] = mapped_column(
        ForeignKey("stores.id", ondelete="CASCADE"), index=True
    )  # a store's own
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    skus: Mapped[list[Sku]] = relationship(back_populates="product", order_by="Sku.id",
                                             cascade="all, delete-orphan")
    images: Mapped[list[ProductImage]] = relationship(back_populates="product", order_by="ProductImage.position",
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
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

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
