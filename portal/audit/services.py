"""Recording and reading the audit log. Every domain writes it (org too), so it imports none:
an actor is anything with ``id`` and ``username``, a scope anything with ``paths(column)``."""
from __future__ import annotations

from datetime import date
from typing import Protocol

from flask import has_request_context, request
from sqlalchemy import Select, or_, select

from portal.audit.models import AuditEntry
from portal.extensions import db
from portal.kernel.time import day_end_utc, day_start_utc


class Actor(Protocol):
    """What the log needs of whoever acted (org's User is one)."""
    id: int
    username: str


class Scope(Protocol):
    """What the log needs of a viewer's scope (org's Scope is one)."""
    def paths(self, column): ...

# Action names, with the object type they concern; the UI labels them (see audit/labels.py).
ACTIONS = (
    "login", "logout", "password.change",
    "node.create", "node.rename", "node.move",
    "store.create", "store.update", "store.status", "store.bulk_status", "store.bulk_tag",
    "store.import",
    "user.create", "user.update", "user.disable", "user.enable", "user.password_reset",
    "target.save", "target.delete",
    "push.create", "push.rollback", "push.cancel", "push.retry",
    "template.create", "template.update", "template.publish",
    "page.edit", "page.reset", "apikey.create", "apikey.revoke",
    "product.create", "product.update", "product.archive", "product.import", "product.image",
    "assortment.save", "listing.update", "local_product.save",
    "campaign.create", "campaign.update", "campaign.publish", "campaign.cancel", "campaign.stop",
    "campaign.join", "campaign.decline",
    "media.upload", "media.rename", "media.delete",
    "member.merge", "member.unmerge", "member.rebind", "member.export", "member.erase",
    "guide.create", "guide.deactivate", "guide.reactivate",
    # issue 10: audiences
    "member.tag", "member.bulk_tag", "member_tag.save", "member_tag.delete", "member_tier.save",
    "member_tier.delete", "member_group.save", "member_group.delete", "member_group.add", "member_group.remove",
    "member_settings.update", "member_settings.recompute",
    "apikey.rotate",
    "commission.close_month", "commission.payout",
    # issue 11: live rooms
    "live_room.create", "live_room.update", "live_room.delete",
    # issue 11: live rooms' lotteries, invitations and post-live coupons
    "live_lottery.announce", "live_lottery.draw", "live.invite", "live.coupons",
)


def record(actor: Actor | None, action: str, obj_type: str, obj_id: int | None, label: str,
           path: str, details: dict | None = None, *, actor_name: str | None = None) -> AuditEntry:
    """Add an audit entry to the current transaction (committed with the change it records)."""
    assert action in ACTIONS, action
    entry = AuditEntry(
        actor_id=actor.id if actor else None,
        actor_name=actor_name or (actor.username if actor else "system"),
        action=action,
        object_type=obj_type,
        object_id=obj_id,
        object_label=label[:200],
        path=path,
        ip=(request.remote_addr or "") if has_request_context() else "",
        details=details or {},
    )
    db.session.add(entry)
    return entry


def query_entries(scope: Scope, *, action: str = "", actor: str = "", q: str = "",
                  date_from: date | None = None, date_to: date | None = None,
                  exclude: tuple[str, ...] = ()) -> Select:
    """Entries in the scope, newest first; ``exclude`` leaves out actions (sign-ins, by default
    on the audit page)."""
    stmt = select(AuditEntry).where(scope.paths(AuditEntry.path))
    if action:
        stmt = stmt.where(AuditEntry.action == action)
    elif exclude:
        stmt = stmt.where(AuditEntry.action.not_in(exclude))
    if actor:
        stmt = stmt.where(AuditEntry.actor_name == actor.strip().lower())
    if q:
        like = f"%{q.strip()}%"
        stmt = stmt.where(or_(AuditEntry.object_label.like(like), AuditEntry.actor_name.like(like)))
    if date_from:
        stmt = stmt.where(AuditEntry.created_at >= day_start_utc(date_from))
    if date_to:
        stmt = stmt.where(AuditEntry.created_at < day_end_utc(date_to))
    return stmt.order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
