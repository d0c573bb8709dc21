"""The commission ledger's periodic task, collected by ``portal.jobs``: a month that has ended is
closed for the whole brand (its statements stored) within the hour, if HQ has not closed it
from the statements page already. Closing is in order and idempotent, so a missed run or two
runs at once change nothing (the second finds the month closed)."""
from __future__ import annotations

from sqlalchemy import select

from portal.extensions import db
from portal.jobs import periodic
from portal.kernel.errors import RuleError
from portal.orders import statements
from portal.org.models import OrgNode
from portal.org.scope import Scope


def close_due_months() -> list[str]:
    """Close every month that has ended and is not closed yet, oldest first. A job commits for
    itself, one month at a time."""
    root = db.session.scalar(select(OrgNode.path).where(OrgNode.parent_id.is_(None)).order_by(OrgNode.id).limit(1))
    if root is None:
        return []
    closed = []
    while (month := statements.month_to_close()) is not None:
        try:
            statements.close_month(Scope.of_path(root), month, actor=None)
        except RuleError:            # closed meanwhile from the page (Conflict is a RuleError)
            db.session.rollback()
            break
        db.session.commit()
        closed.append(month)
    return closed


periodic("close-commission-months", close_due_months, every=3600)
