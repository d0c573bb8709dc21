"""Server-side sessions (Flask-Session's SQLAlchemy backend) kept in the portal's own database.

The browser holds only a random session id; signing out deletes the row, so a copied cookie
stops working. The columns are the ones Flask-Session reads and writes (``expiry`` is naive
UTC, as it compares it with ``datetime.utcnow()``); the table is made by migration 0004, not
by the library at start-up."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db


class ServerSession(db.Model):
    __tablename__ = "sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    data: Mapped[bytes | None] = mapped_column(LargeBinary)
    expiry: Mapped[datetime | None] = mapped_column(DateTime, index=True)
    # Ours, not the library's: the signed-in user, written with the row, so that reading the
    # session also reads its user (one statement per request for both). No foreign key: a
    # session outliving its user simply finds none.
    user_id: Mapped[int | None] = mapped_column(Integer)
