"""The live domain's periodic tasks, collected by ``portal.jobs``.

``live-reminders``: rooms that are live and were not reminded today get their reminders queued
(a status moved by the clock or an event without ``remind_started`` being called), then the
outbox is drained. Both steps are idempotent (one push per room per day, unique outbox rows)."""
from __future__ import annotations

from portal.extensions import db
from portal.jobs import periodic
from portal.live import reminders


def remind_and_send() -> int:
    due = reminders.due_rooms()
    if due:
        reminders.remind_started(due)
        db.session.commit()
    return reminders.drain_outbox()


periodic("live-reminders", remind_and_send, every=60)
