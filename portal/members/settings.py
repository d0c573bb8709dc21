"""HQ's member settings: saving them (audited) and what the settings page reads."""
from __future__ import annotations

from flask import abort
from sqlalchemy import func, select

from portal.audit.services import record
from portal.extensions import db
from portal.members.models import SEGMENTS, SegmentMove
from portal.members.rfm import get_settings
from portal.org import roles
from portal.org.models import Store
from portal.org.scope import Scope

FIELDS = ("binding_rule", "protect_days", "rfm_window_days", "rfm_new_days", "rfm_mode", "rfm_recency_days",
          "rfm_frequency", "rfm_monetary_fen")


def may_edit(scope: Scope) -> bool:
    """Only HQ sets the rules (they hold for the whole brand); others read them."""
    return scope.user is not None and scope.user.role == roles.HQ_ADMIN and scope.is_everything()


def save_settings(scope: Scope, values: dict, *, actor):
    """Write HQ's settings; the audit entry names what changed, old → new. Flushes."""
    if not may_edit(scope):
        abort(403)
    s = get_settings(for_writing=True)
    changes = {k: [getattr(s, k), v] for k, v in values.items() if k in FIELDS and getattr(s, k) != v}
    for key, (_old, new) in changes.items():
        setattr(s, key, new)
    s.updated_by_id = actor.id
    if changes:
        record(actor, "member_settings.update", "member_settings", 1, "member_settings", scope.path or "",
               {"changes": {k: [old, new] for k, (old, new) in changes.items()}})
    db.session.flush()
    return s, changes


def moves_matrix(scope: Scope, month: str, store_id: int | None = None) -> dict[tuple[str, str], int]:
    """(from, to) -> members moved since the month began, in the scope's stores (or one store)."""
    stmt = (select(SegmentMove.from_segment, SegmentMove.to_segment, func.sum(SegmentMove.members))
            .join(Store, Store.id == SegmentMove.store_id)
            .where(SegmentMove.month == month, scope.stores())
            .group_by(SegmentMove.from_segment, SegmentMove.to_segment))
    if store_id is not None:
        stmt = stmt.where(SegmentMove.store_id == store_id)
    return {(f, t): int(n) for f, t, n in db.session.execute(stmt).all()}


def moves_by_store(scope: Scope, month: str):
    """Stores of the scope with members that moved this month, most moves first (a select to page)."""
    return (select(Store, func.sum(SegmentMove.members).label("moved"))
            .join(SegmentMove, SegmentMove.store_id == Store.id)
            .where(SegmentMove.month == month, scope.stores())
            .group_by(Store.id).order_by(func.sum(SegmentMove.members).desc(), Store.code))


MATRIX_ROWS = (*SEGMENTS, "")
