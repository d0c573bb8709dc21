"""The image space (图片空间): pictures uploaded once to an org node and used by everything below
it (decoration banners and hotspots, goods pictures, covers)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db
from portal.kernel.time import UTCDateTime, utcnow


class MediaImage(db.Model):
    __tablename__ = "media_images"

    id: Mapped[int] = mapped_column(primary_key=True)
    path: Mapped[str] = mapped_column(String(255))            # the org node it belongs to
    name: Mapped[str] = mapped_column(String(100))            # what people call it; searchable
    filename: Mapped[str] = mapped_column(String(64), unique=True)   # under MEDIA_UPLOAD_DIR
    thumb: Mapped[str] = mapped_column(String(64), unique=True)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    size: Mapped[int] = mapped_column(Integer)                # bytes of the kept file
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (Index("ix_media_images_path_id", "path", "id"),)

    @property
    def url(self) -> str:
        return f"/media/i/{self.filename}"

    @property
    def thumb_url(self) -> str:
        return f"/media/i/{self.thumb}"
