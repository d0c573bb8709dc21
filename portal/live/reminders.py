"""Reminders and invitations: the outbox of messages to members about a room, and its senders.

Members subscribe to a room (``live_subscriptions``, written by the ``live.subscribe`` handler).
When a room starts (status 101, by the clock or by an event) ``remind_started(room_ids)`` puts a
reminder per subscriber into the outbox (``live_reminders``) with one ``INSERT … SELECT``; the
outbox's unique key (room, member, kind, day) makes a second call harmless, and WeChat's one push
per room per day is held by ``live_rooms.reminded_on`` (a conditional UPDATE: only the call that
moves it to today queues anything). ``invite(scope, room, spec)`` queues invitations to a member
group or an RFM segment (``portal.members.audiences.audience_members``) the same way.

``drain_outbox()`` sends what is pending, at most ``MAX_RECIPIENTS`` (2,000, WeChat's limit)
per call of the sender, and marks each row sent or failed; it runs after the commit that queued
and as a periodic task (``portal.live.tasks``). The sender is chosen by ``LIVE_REMINDER_SENDER``:
``log`` (the default: writes a line per call), ``wechat`` (subscribe messages,
``cgi-bin/message/subscribe/send``) or ``sms`` (an SMS gateway); the adapters share one
interface and are configured by settings, never reached in tests.
"""
from __future__ import annotations

import json
import logging
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, literal, or_, select, true, update
from sqlalchemy.dialects import postgresql, sqlite

from portal.audit import services as audit
from portal.extensions import db
from portal.jobs import enqueue, job
from portal.kernel.errors import RuleError
from portal.kernel.sql import among
from portal.kernel.time import UTCDateTime, local_tz, utcnow
from portal.live.models import (
    FAILED,
    INVITATION,
    LIVE,
    PENDING,
    REMINDER,
    SENT,
    LiveReminder,
    LiveRoom,
    LiveRoomStore,
    LiveSubscription,
)
from portal.members.audiences import audience_members
from portal.members.models import Member, MemberIdentity
from portal.org.scope import Scope

log = logging.getLogger(__name__)

MAX_RECIPIENTS = 2000        # WeChat: at most 2,000 recipients per call


def today() -> date:
    return utcnow().astimezone(local_tz()).date()


# --------------------------------------------------------------------------- senders

@dataclass(frozen=True)
class Recipient:
    member_id: int
    openid: str | None


@dataclass(frozen=True)
class Message:
    room_id: int
    kind: str                # reminder / invitation
    title: str
    starts_at: datetime


class Sender(Protocol):
    def send(self, message: Message, recipients: list[Recipient]) -> dict[int, str]:
        """Send ``message`` to at most ``MAX_RECIPIENTS`` recipients; answer the failures
        (member id → reason). Raising fails the whole call."""


class LogSender:
    """The default: a line in the log per call (the embedded install, the demo, the tests)."""

    def send(self, message: Message, recipients: list[Recipient]) -> dict[int, str]:
        # Looked up here, not at import: Alembic's fileConfig disables the loggers that exist when
        # it runs (a migration in the same process, as the tests do), and this one must still speak.
        logging.getLogger("portal.live.outbox").info("live %s: room %s (%s), %d recipients", message.kind,
                                                     message.room_id, message.title, len(recipients))
        return {}


def _post_json(url: str, body: dict, timeout: float = 10) -> dict:
    data = json.dumps(body, ensure_ascii=False).encode()
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 (a configured https URL)
        return json.loads(resp.read() or b"{}")


class WeChatSubscribeSender:
    """WeChat subscribe messages (订阅消息): ``POST cgi-bin/message/subscribe/send`` per recipient
    who accepted the template (the API takes one ``touser``), with the access token of the
    mini-program (``cgi-bin/token``). Configured by ``LIVE_WECHAT_APPID``, ``LIVE_WECHAT_SECRET``,
    ``LIVE_WECHAT_TEMPLATE_ID`` and ``LIVE_WECHAT_PAGE``."""

    API = "https://api.weixin.qq.com"

    def __init__(self, appid: str, secret: str, template_id: str, page: str = "pages/live/index"):
        self.appid, self.secret, self.template_id, self.page = appid, secret, template_id, page

    def _token(self) -> str:
        url = f"{self.API}/cgi-bin/token?grant_type=client_credential&appid={self.appid}&secret={self.secret}"
        with urllib.request.urlopen(url, timeout=10) as resp:  # noqa: S310
            return json.loads(resp.read())["access_token"]

    def send(self, message: Message, recipients: list[Recipient]) -> dict[int, str]:
        token = self._token()
        failed = {}
        for r in recipients:
            if not r.openid:
                failed[r.member_id] = "no openid"
                continue
            answer = _post_json(f"{self.API}/cgi-bin/message/subscribe/send?access_token={token}", {
                "touser": r.openid, "template_id": self.template_id,
                "page": f"{self.page}?room={message.room_id}",
                "data": {"thing1": {"value": message.title[:20]},
                         "time2": {"value": message.starts_at.astimezone(local_tz()).strftime("%Y-%m-%d %H:%M")}}})
            if answer.get("errcode"):
                failed[r.member_id] = f"{answer.get('errcode')} {answer.get('errmsg', '')}"[:200]
        return failed


class SmsSender:
    """An SMS gateway taking a batch of phone numbers per call (``LIVE_SMS_URL``, ``LIVE_SMS_KEY``,
    ``LIVE_SMS_TEMPLATE``); numbers are decrypted only here, on the way out."""

    def __init__(self, url: str, key: str, template: str):
        self.url, self.key, self.template = url, key, template

    def send(self, message: Message, recipients: list[Recipient]) -> dict[int, str]:
        from portal.kernel.crypto import decrypt
        from portal.members.models import Member

        phones = dict(db.session.execute(select(Member.id, Member.phone_enc).where(
            among(db.session, Member.id, [r.member_id for r in recipients]), Member.phone_enc.is_not(None))).all())
        failed = {r.member_id: "no phone" for r in recipients if r.member_id not in phones}
        if phones:
            answer = _post_json(self.url, {"key": self.key, "template": self.template,
                                           "phones": [decrypt(p) for p in phones.values()],
                                           "params": {"title": message.title, "room": message.room_id}})
            if answer.get("error"):
                failed.update({m: str(answer["error"])[:200] for m in phones})
        return failed


def sender_from_config() -> Sender:
    cfg = current_app.config
    name = cfg["LIVE_REMINDER_SENDER"]
    if name == "wechat":
        return WeChatSubscribeSender(cfg["LIVE_WECHAT_APPID"], cfg["LIVE_WECHAT_SECRET"],
                                     cfg["LIVE_WECHAT_TEMPLATE_ID"],
                                     cfg["LIVE_WECHAT_PAGE"])
    if name == "sms":
        return SmsSender(cfg["LIVE_SMS_URL"], cfg["LIVE_SMS_KEY"], cfg["LIVE_SMS_TEMPLATE"])
    return LogSender()


# --------------------------------------------------------------------------- queueing

def _insert_ignore(table):
    dialect = db.session.get_bind().dialect.name
    return (postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table))


def _queue(select_members, kind: str, day: date) -> int:
    """INSERT … SELECT (room, member) pairs into the outbox, leaving rows already there alone."""
    now = literal(utcnow(), UTCDateTime())
    # (the WHERE lets SQLite tell the upsert's ON CONFLICT from a join's ON)
    rows = select_members.add_columns(literal(kind), literal(day), literal(PENDING), now).where(true())
    stmt = (_insert_ignore(LiveReminder.__table__)
            .from_select(["room_id", "member_id", "kind", "on_day", "status", "created_at"], rows)
            .on_conflict_do_nothing().returning(LiveReminder.id))
    # Counted from RETURNING: an INSERT … SELECT's rowcount is not given on every driver (psycopg: -1).
    return len(db.session.scalars(stmt).all())


def remind_started(room_ids: Iterable[int]) -> int:
    """Rooms that went live: a reminder per subscriber into the outbox, once per room per day.
    Returns how many reminders were queued; the drain runs after the commit."""
    room_ids = list(room_ids)
    if not room_ids:
        return 0
    day = today()
    won = list(db.session.scalars(
        update(LiveRoom).where(LiveRoom.id.in_(room_ids), LiveRoom.status == LIVE,
                               or_(LiveRoom.reminded_on.is_(None), LiveRoom.reminded_on != day))
        .values(reminded_on=day).returning(LiveRoom.id).execution_options(synchronize_session=False)))
    if not won:
        return 0
    subscribers = select(LiveSubscription.room_id, LiveSubscription.member_id).where(LiveSubscription.room_id.in_(won))
    queued = _queue(subscribers, REMINDER, day)
    if queued:
        enqueue(drain_job)
    return queued


def invite(scope: Scope, room: LiveRoom, spec: dict, *, actor) -> int:
    """Invite an audience (``{"group": id}`` or ``{"segment": name}``) to ``room``: an invitation
    per member of a store that shows the room into the outbox (once per member and day). Returns
    how many were queued."""
    if room.is_over:
        raise RuleError(_("This room is over: invitations go to rooms that are upcoming or live."), "audience")
    if not spec:
        raise RuleError(_("Choose a group or a segment to invite."), "audience")
    members = audience_members(scope, spec).subquery()
    # Only members of the stores that show the room (its own store, or a broadcast's carriers).
    pairs = (select(literal(room.id), members.c.id).join(Member, Member.id == members.c.id)
             .where(Member.store_id.in_(select(LiveRoomStore.store_id).where(LiveRoomStore.room_id == room.id))))
    queued = _queue(pairs, INVITATION, today())
    audit.record(actor, "live.invite", "live_room", room.id, room.title, room.path, {"spec": spec, "queued": queued})
    db.session.flush()
    if queued:
        enqueue(drain_job)
    return queued


def due_rooms() -> list[int]:
    """Live rooms not reminded today (a status the clock or an event moved without a call)."""
    return list(db.session.scalars(select(LiveRoom.id).where(
        LiveRoom.status == LIVE, or_(LiveRoom.reminded_on.is_(None), LiveRoom.reminded_on != today()))))


# --------------------------------------------------------------------------- sending

def drain_outbox(sender: Sender | None = None, *, limit: int = 100_000) -> int:
    """Send pending outbox rows, a room and kind at a time, in calls of at most ``MAX_RECIPIENTS``;
    commit after each call (a crash re-sends at most one call's rows). Returns rows handled."""
    sender = sender or sender_from_config()
    handled = 0
    while handled < limit:
        head = db.session.execute(select(LiveReminder.room_id, LiveReminder.kind).where(LiveReminder.status == PENDING)
                                  .order_by(LiveReminder.id).limit(1)).first()
        if head is None:
            break
        chunk_q = (select(LiveReminder.id, LiveReminder.member_id)
                   .where(LiveReminder.status == PENDING, LiveReminder.room_id == head.room_id,
                          LiveReminder.kind == head.kind)
                   .order_by(LiveReminder.id).limit(MAX_RECIPIENTS))
        if db.session.get_bind().dialect.name == "postgresql":
            chunk_q = chunk_q.with_for_update(skip_locked=True)
        chunk = db.session.execute(chunk_q).all()
        if not chunk:
            db.session.rollback()
            break
        room = db.session.get(LiveRoom, head.room_id)
        members = [m for _i, m in chunk]
        openids = dict(db.session.execute(
            select(MemberIdentity.member_id, func.min(MemberIdentity.openid))
            .where(among(db.session, MemberIdentity.member_id, members)).group_by(MemberIdentity.member_id)).all())
        message = Message(room_id=room.id, kind=head.kind, title=room.title, starts_at=room.scheduled_start)
        try:
            failed = sender.send(message, [Recipient(m, openids.get(m)) for m in members])
        except Exception as exc:  # the whole call failed: every row of it says why
            log.exception("live %s sender failed for room %s", head.kind, room.id)
            failed = {m: str(exc)[:200] or type(exc).__name__ for m in members}
        now = utcnow()
        ids_sent = [i for i, m in chunk if m not in failed]
        if ids_sent:
            db.session.execute(update(LiveReminder).where(among(db.session, LiveReminder.id, ids_sent))
                               .values(status=SENT, sent_at=now).execution_options(synchronize_session=False))
        for i, m in chunk:
            if m in failed:
                db.session.execute(update(LiveReminder).where(LiveReminder.id == i)
                                   .values(status=FAILED, error=failed[m][:200])
                                   .execution_options(synchronize_session=False))
        db.session.commit()
        handled += len(chunk)
    return handled


@job
def drain_job() -> int:
    return drain_outbox()


def outbox_counts(room: LiveRoom) -> dict[tuple[str, str], int]:
    """(kind, status) → rows of the room's outbox."""
    rows = db.session.execute(select(LiveReminder.kind, LiveReminder.status, func.count())
                              .where(LiveReminder.room_id == room.id)
                              .group_by(LiveReminder.kind, LiveReminder.status)).all()
    return {(k, s): n for k, s, n in rows}


def subscriber_count(room: LiveRoom) -> int:
    return db.session.scalar(select(func.count()).select_from(LiveSubscription)
                             .where(LiveSubscription.room_id == room.id)) or 0


__all__ = ["MAX_RECIPIENTS", "LogSender", "Message", "Recipient", "Sender", "SmsSender", "WeChatSubscribeSender",
           "drain_outbox", "due_rooms", "invite", "outbox_counts", "remind_started", "sender_from_config",
           "subscriber_count", "today"]
