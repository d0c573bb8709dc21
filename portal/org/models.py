"""Org tree, stores, tags and users.

The tree is a materialized path: every node carries ``path`` = the ids from the root down to
itself (``/1/4/17/``). A store carries the path of the node it hangs under. "Everything under
node N" is then one range condition on an indexed column (see ``portal.org.scope``).
"""
from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.kernel.time import UTCDateTime, utcnow
from portal.org import roles


class OrgNode(db.Model):
    __tablename__ = "org_nodes"

    id: Mapped[int] = mapped_column(primary_key=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("org_nodes.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    path: Mapped[str] = mapped_column(String(255), index=True)
    depth: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    parent: Mapped[OrgNode | None] = relationship(remote_side=[id])

    __table_args__ = (
        CheckConstraint("kind IN ('hq', 'distributor', 'region')", name="kind"),
        # One brand, one HQ: the tree has a single root, whose subtree is every store.
        Index("uq_org_nodes_one_hq", "kind", unique=True,
              sqlite_where=text("kind = 'hq'"), postgresql_where=text("kind = 'hq'")),
    )

    def __repr__(self) -> str:
        return f"<OrgNode {self.code} {self.path}>"


store_tags = Table(
    "store_tags",
    db.metadata,
    Column("store_id", ForeignKey("stores.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Tag(db.Model):
    __tablename__ = "tags"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(32), unique=True)


class Store(db.Model):
    __tablename__ = "stores"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    city: Mapped[str] = mapped_column(String(50), default="")
    address: Mapped[str] = mapped_column(String(255), default="")
    node_id: Mapped[int] = mapped_column(ForeignKey("org_nodes.id"), index=True)
    # The path of ``node``; kept in step by every write that moves a store or its node.
    path: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16), default=roles.STORE_ACTIVE)
    appid: Mapped[str] = mapped_column(String(32), default="")
    owner_name: Mapped[str] = mapped_column(String(50), default="")
    owner_phone: Mapped[str] = mapped_column(String(20), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=utcnow, onupdate=utcnow
    )

    node: Mapped[OrgNode] = relationship()
    tags: Mapped[list[Tag]] = relationship(secondary=store_tags, order_by=Tag.name)

    __table_args__ = (
        CheckConstraint("status IN ('active', 'suspended', 'closed')", name="status"),
        Index("ix_stores_path_status", "path", "status"),
        Index("ix_stores_name", "name"),
        Index("ix_stores_city", "city"),
    )

    @property
    def tag_names(self) -> list[str]:
        return [t.name for t in self.tags]


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(64), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(32))
    node_id: Mapped[int | None] = mapped_column(ForeignKey("org_nodes.id"), index=True)
    store_id: Mapped[int | None] = mapped_column(ForeignKey("stores.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Bumped to end every session of the user (disable, password change).
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    locale: Mapped[str | None] = mapped_column(String(16))
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    node: Mapped[OrgNode | None] = relationship()
    store: Mapped[Store | None] = relationship()

    __table_args__ = (
        CheckConstraint(
            "(node_id IS NULL) <> (store_id IS NULL)", name="bound_to_node_or_store"
        ),
        CheckConstraint(
            "role IN ('hq_admin', 'distributor_admin', 'regional_manager', 'store_owner')",
            name="role",
        ),
    )

    # Flask-Login: the session stores "<id>.<session_version>" so bumping the version
    # invalidates every cookie issued before.
    def get_id(self) -> str:
        return f"{self.id}.{self.session_version}"

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def place_path(self) -> str:
        return self.node.path if self.node else self.store.path

    @property
    def place_name(self) -> str:
        return self.node.name if self.node else self.store.name
