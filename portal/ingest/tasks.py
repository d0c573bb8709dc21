"""The inbox's periodic task, collected by ``portal.jobs``: applied events older than
INBOX_KEEP_DAYS (at least 7) are forgotten every INBOX_PURGE_SECONDS; held events are kept until
they are applied."""
from __future__ import annotations

from portal.extensions import db
from portal.ingest.services import purge
from portal.jobs import periodic


def purge_inbox() -> int:
    """A job commits for itself."""
    deleted = purge()
    db.session.commit()
    return deleted


periodic("purge-inbox", purge_inbox, every="INBOX_PURGE_SECONDS")
