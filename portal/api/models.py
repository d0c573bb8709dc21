from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db
from portal.kernel.time import UTCDateTime, utcnow


class StoreApiKey(db.Model):
    """A key the store's mini-program sends as ``Authorization: Bearer <key>``.

    Only a SHA-256 of the key is kept (keys are long random strings, so a fast hash is enough);
    ``prefix`` finds the row without a scan. A store may hold two keys while it rotates."""

    __tablename__ = "store_api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"), index=True)
    prefix: Mapped[str] = mapped_column(String(12), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Signed writes (the ingestion API): ``X-Portal-Key: <key_id>`` and an HMAC of the body made
    # with the secret, which is kept encrypted (portal.kernel.crypto) since it must be read back to
    # check a signature. A rotated key stays valid until ``expires_at`` (the overlap window).
    key_id: Mapped[str | None] = mapped_column(String(32), unique=True)
    secret_enc: Mapped[str | None] = mapped_column(Text)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
