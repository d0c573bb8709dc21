"""Decoration templates: a page of typed blocks that HQ designs, publishes and pushes."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.kernel.time import UTCDateTime, utcnow


class Template(db.Model):
    __tablename__ = "templates"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    path: Mapped[str] = mapped_column(String(255), index=True)     # owned by this part of the tree
    draft: Mapped[list] = mapped_column(JSON, default=list)          # blocks being edited
    latest_version: Mapped[int] = mapped_column(Integer, default=0)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    # Optimistic locking: every UPDATE of the row (a draft edit, a publish) is
    # ``... WHERE revision = <the one read>`` and bumps it, so of two editors who read the same
    # revision only the first one's write lands; the editor's forms carry the revision they show.
    revision: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    versions: Mapped[list[TemplateVersion]] = relationship(
        back_populates="template", order_by="TemplateVersion.number.desc()")

    __mapper_args__ = {"version_id_col": revision}


class TemplateVersion(db.Model):
    """A published, immutable snapshot of a template's blocks."""

    __tablename__ = "template_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    template_id: Mapped[int] = mapped_column(ForeignKey("templates.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    blocks: Mapped[list] = mapped_column(JSON)
    note: Mapped[str] = mapped_column(String(200), default="")
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    published_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    template: Mapped[Template] = relationship(back_populates="versions")

    __table_args__ = (UniqueConstraint("template_id", "number", name="uq_template_versions_number"),)


class StorePage(db.Model):
    """Which template version a store has: written by pushes (and their rollbacks) only."""

    __tablename__ = "store_pages"

    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"), primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("template_versions.id"), index=True)
    push_id: Mapped[int | None] = mapped_column(ForeignKey("pushes.id", ondelete="SET NULL"), index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class BlockOverride(db.Model):
    """A store's own content for one editable block of a template; survives new versions."""

    __tablename__ = "block_overrides"

    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    template_id: Mapped[int] = mapped_column(ForeignKey("templates.id", ondelete="CASCADE"))
    block_key: Mapped[str] = mapped_column(String(32))
    data: Mapped[dict] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    __table_args__ = (UniqueConstraint("store_id", "template_id", "block_key", name="uq_block_overrides_block"),)
