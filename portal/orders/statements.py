"""Balances, monthly statements and payouts, computed from the commission ledger.

A month (Asia/Shanghai) is closed once it has ended, for the whole brand and in order: by the
periodic task of portal/orders/tasks.py within the hour, or earlier by HQ ("close month" on the
statements page). Closing writes one statement per beneficiary and store
(the store whose orders earned it) that has a balance or any movement, computed set-based with
GROUP BY over the ledger and over the previous month's statements:

    opening (the previous statement's closing) + earned (entries that became payable)
    + reversed (negative entries that became payable) − paid out (the payout of the previous
    statement, made during this month) = closing

A closing balance may be negative (a reversal after the payout): it is carried into the next
statement and netted against later earnings, never capped nor lost. A statement with a balance
always gets a successor, so the previous month's statements are all the openings there are.

A payout pays the positive closing balance of a statement of the latest closed month (an older
statement's balance is already carried into a later one). It is a conditional UPDATE: a second
click, or a second admin, finds it paid and gets a Conflict (409).
"""
from __future__ import annotations

from datetime import date, datetime

from flask import abort
from flask_babel import gettext as _
from sqlalchemy import case, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from portal.audit import services as audit
from portal.extensions import db
from portal.kernel.errors import Conflict, RuleError
from portal.kernel.money import yuan_text
from portal.kernel.time import day_start_utc, local_tz, utcnow
from portal.members.models import Guide, Member
from portal.orders.labels import BENEFICIARY_LABELS
from portal.orders.models import (
    BENEFICIARY_GUIDE,
    BENEFICIARY_SHARER,
    BENEFICIARY_STORE,
    CommissionEntry,
    CommissionMonth,
    CommissionStatement,
    Order,
)
from portal.org.models import Store, User
from portal.org.scope import Scope

BENEFICIARIES = (BENEFICIARY_STORE, BENEFICIARY_GUIDE, BENEFICIARY_SHARER)


# --------------------------------------------------------------------------- months

def parse_month(text: str | None) -> str | None:
    """"2026-03" (as ``<input type=month>`` sends it) or None."""
    text = (text or "").strip()
    if len(text) != 7 or text[4] != "-":
        return None
    try:
        year, month = int(text[:4]), int(text[5:])
    except ValueError:
        return None
    if not (2000 <= year <= 2999 and 1 <= month <= 12):
        return None
    return f"{year:04d}-{month:02d}"


def month_of(instant: datetime) -> str:
    return instant.astimezone(local_tz()).strftime("%Y-%m")


def next_month(month: str) -> str:
    year, m = int(month[:4]), int(month[5:])
    return f"{year + m // 12:04d}-{m % 12 + 1:02d}"


def previous_month(month: str) -> str:
    year, m = int(month[:4]), int(month[5:])
    return f"{year - (m == 1):04d}-{(m - 2) % 12 + 1:02d}"


def month_bounds(month: str) -> tuple[datetime, datetime]:
    """The UTC instants the month starts and ends at, in the portal's time zone."""
    start = date(int(month[:4]), int(month[5:]), 1)
    end_month = next_month(month)
    return day_start_utc(start), day_start_utc(date(int(end_month[:4]), int(end_month[5:]), 1))


def last_closed() -> CommissionMonth | None:
    return db.session.scalar(select(CommissionMonth).order_by(CommissionMonth.month.desc()).limit(1))


def month_to_close(now: datetime | None = None) -> str | None:
    """The month "close month" would close: the one after the last closed, or last month for a
    first closing; None while it has not ended yet."""
    now = now or utcnow()
    last = last_closed()
    month = next_month(last.month) if last else previous_month(month_of(now))
    return month if month_bounds(month)[1] <= now else None


def covered_from(month: CommissionMonth) -> datetime | None:
    """Where the month's statements start: the end of the previous closed month (None for the
    first closing, which covers everything before its end)."""
    return db.session.scalar(select(CommissionMonth.ends_at).where(CommissionMonth.month < month.month)
                             .order_by(CommissionMonth.month.desc()).limit(1))


def holder_expr():
    """The beneficiary's own id on an entry: exactly one of these is set per entry."""
    return func.coalesce(CommissionEntry.guide_id, CommissionEntry.member_id, CommissionEntry.beneficiary_store_id)


def close_month(scope: Scope, month: str, *, actor: User | None, now: datetime | None = None) -> CommissionMonth:
    """Close ``month`` for the whole brand and store its statements (HQ only)."""
    now = now or utcnow()
    if not scope.is_everything():
        raise RuleError(_("Only HQ closes a month: it closes for every store at once."), "month")
    starts_at, ends_at = month_bounds(month)
    if ends_at > now:
        raise RuleError(_("%(month)s has not ended yet.", month=month), "month")
    # The last closed month's row, locked: a payout of its statements (which locks it too) is
    # either counted in this closing or refused after it, never lost in between (PostgreSQL;
    # SQLite serialises writers anyway).
    last = db.session.scalar(select(CommissionMonth).order_by(CommissionMonth.month.desc()).limit(1)
                             .with_for_update())
    if last is not None and month <= last.month:
        raise Conflict(_("%(month)s is already closed.", month=month))
    if last is not None and month != next_month(last.month):
        raise RuleError(_("Close %(month)s first: months close in order.", month=next_month(last.month)), "month")
    row = CommissionMonth(month=month, starts_at=starts_at, ends_at=ends_at, closed_at=now,
                          closed_by_id=actor.id if actor else None)
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except IntegrityError:
        raise Conflict(_("%(month)s is already closed.", month=month)) from None

    lo = last.ends_at if last else None
    statements: dict[tuple, dict] = {}

    def slot(store_id, beneficiary, holder):
        return statements.setdefault((store_id, beneficiary, holder), dict(
            month=month, store_id=store_id, beneficiary=beneficiary, holder_id=holder, opening_fen=0,
            earned_fen=0, reversed_fen=0, paid_out_fen=0, entries=0, created_at=now))

    if last is not None:
        for s in db.session.execute(
                select(CommissionStatement.store_id, CommissionStatement.beneficiary, CommissionStatement.holder_id,
                       CommissionStatement.closing_fen, CommissionStatement.payout_fen)
                .where(CommissionStatement.month == last.month)):
            if s.closing_fen or s.payout_fen:
                one = slot(s.store_id, s.beneficiary, s.holder_id)
                one["opening_fen"] = s.closing_fen
                one["paid_out_fen"] = s.payout_fen or 0
    holder = holder_expr()
    amount = CommissionEntry.amount_fen
    activity = (select(CommissionEntry.store_id, CommissionEntry.beneficiary, holder.label("holder"),
                       func.sum(case((amount > 0, amount), else_=0)).label("earned"),
                       func.sum(case((amount < 0, amount), else_=0)).label("reversed"),
                       func.count().label("n"))
                .where(CommissionEntry.payable_at < ends_at)
                .group_by(CommissionEntry.store_id, CommissionEntry.beneficiary, holder))
    if lo is not None:
        activity = activity.where(CommissionEntry.payable_at >= lo)
    for a in db.session.execute(activity):
        one = slot(a.store_id, a.beneficiary, a.holder)
        one.update(earned_fen=int(a.earned), reversed_fen=int(a.reversed), entries=int(a.n))
    if statements:
        paths = dict(db.session.execute(select(Store.id, Store.path).where(
            Store.id.in_({k[0] for k in statements}))).all())
        rows = []
        for one in statements.values():
            one["path"] = paths[one["store_id"]]
            one["closing_fen"] = one["opening_fen"] + one["earned_fen"] + one["reversed_fen"] - one["paid_out_fen"]
            rows.append(one)
        db.session.execute(insert(CommissionStatement.__table__), rows)
    row.statements = len(statements)
    db.session.flush()
    audit.record(actor, "commission.close_month", "commission_month", None, month, scope.path,
                 {"count": len(statements)})
    return row


# --------------------------------------------------------------------------- reading

def holder_name():
    """The beneficiary's name, for lists: the store's, the guide's or the sharer's nickname."""
    return case((CommissionStatement.beneficiary == BENEFICIARY_GUIDE, Guide.name),
                (CommissionStatement.beneficiary == BENEFICIARY_SHARER, Member.nickname),
                else_=Store.name)


def _statements(scope: Scope):
    """(statement, store name, store code, beneficiary name) rows in scope."""
    return (select(CommissionStatement, Store.name.label("store_name"), Store.code.label("store_code"),
                   holder_name().label("holder_name"))
            .join(Store, Store.id == CommissionStatement.store_id)
            .outerjoin(Guide, (CommissionStatement.beneficiary == BENEFICIARY_GUIDE)
                       & (Guide.id == CommissionStatement.holder_id))
            .outerjoin(Member, (CommissionStatement.beneficiary == BENEFICIARY_SHARER)
                       & (Member.id == CommissionStatement.holder_id))
            .where(scope.store_rows(CommissionStatement.store_id, CommissionStatement.path)))


def statements_query(scope: Scope, month: str, beneficiary: str | None = None, store_id: int | None = None):
    """The month's statements in scope: store ones first, then guides, then sharers."""
    q = _statements(scope).where(CommissionStatement.month == month)
    if beneficiary in BENEFICIARIES:
        q = q.where(CommissionStatement.beneficiary == beneficiary)
    if store_id is not None:
        q = q.where(CommissionStatement.store_id == store_id)
    order = case((CommissionStatement.beneficiary == BENEFICIARY_STORE, 0),
                 (CommissionStatement.beneficiary == BENEFICIARY_GUIDE, 1), else_=2)
    return q.order_by(order, Store.code, CommissionStatement.holder_id)


def totals(scope: Scope, month: str) -> dict[str, dict]:
    """Per kind of beneficiary: statements, opening, earned, reversed, paid out, closing, to pay
    (the positive closings not yet paid), in one GROUP BY."""
    s = CommissionStatement
    rows = db.session.execute(
        select(s.beneficiary, func.count(), func.sum(s.opening_fen), func.sum(s.earned_fen), func.sum(s.reversed_fen),
               func.sum(s.paid_out_fen), func.sum(s.closing_fen),
               func.sum(case(((s.closing_fen > 0) & s.payout_at.is_(None), s.closing_fen), else_=0)),
               func.sum(case((s.payout_fen.isnot(None), s.payout_fen), else_=0)))
        .where(s.month == month, scope.store_rows(s.store_id, s.path)).group_by(s.beneficiary))
    keys = ("count", "opening", "earned", "reversed", "paid_out", "closing", "to_pay", "payouts")
    return {r[0]: dict(zip(keys, (int(v or 0) for v in r[1:]), strict=True)) for r in rows}


def get_statement_or_404(scope: Scope, statement_id: int):
    """(statement, store name, store code, beneficiary name), or 404 outside the scope."""
    row = db.session.execute(_statements(scope).where(CommissionStatement.id == statement_id)).first()
    if row is None:
        abort(404)
    return row


def statement_entries(statement: CommissionStatement):
    """The ledger entries the statement sums (those that became payable in its period)."""
    month = db.session.get(CommissionMonth, statement.month)
    lo = covered_from(month)
    q = (select(CommissionEntry).where(
        CommissionEntry.store_id == statement.store_id, CommissionEntry.beneficiary == statement.beneficiary,
        holder_expr() == statement.holder_id, CommissionEntry.payable_at < month.ends_at)
        .order_by(CommissionEntry.payable_at, CommissionEntry.id))
    if lo is not None:
        q = q.where(CommissionEntry.payable_at >= lo)
    return db.session.scalars(q).all()


def is_payable(statement: CommissionStatement) -> bool:
    last = last_closed()
    return (statement.payout_at is None and statement.closing_fen > 0 and last is not None
            and statement.month == last.month)


# --------------------------------------------------------------------------- payouts

def pay_statement(scope: Scope, statement: CommissionStatement, *, actor: User, now: datetime | None = None) -> int:
    """Pay the statement's positive closing balance, once: a conditional UPDATE that a second
    click finds done (Conflict). Returns the fen paid."""
    now = now or utcnow()
    # Its month's row, locked: a closing of the next month waits for this payout (see close_month).
    db.session.execute(select(CommissionMonth.month).where(CommissionMonth.month == statement.month)
                       .with_for_update())
    latest = select(func.max(CommissionMonth.month)).scalar_subquery()
    result = db.session.execute(
        update(CommissionStatement)
        .where(CommissionStatement.id == statement.id, CommissionStatement.payout_at.is_(None),
               CommissionStatement.closing_fen > 0, CommissionStatement.month == latest)
        .values(payout_fen=CommissionStatement.closing_fen, payout_at=now, payout_by_id=actor.id)
        .execution_options(synchronize_session=False))
    db.session.expire(statement)
    if result.rowcount != 1:
        if statement.payout_at is not None:
            raise Conflict(_("This statement was already paid: %(amount)s.",
                             amount="¥" + yuan_text(statement.payout_fen)))
        if statement.closing_fen <= 0:
            raise RuleError(_("Nothing to pay: the closing balance is %(amount)s.",
                              amount="¥" + yuan_text(statement.closing_fen)))
        raise RuleError(_("A later statement carries this balance: pay that one."))
    audit.record(actor, "commission.payout", "commission_statement", statement.id, statement.month, statement.path,
                 {"amount": yuan_text(statement.payout_fen)})
    return statement.payout_fen


# --------------------------------------------------------------------------- downloads

def statement_table(statement: CommissionStatement, holder: str, store_name: str):
    """(header, rows) of one statement: its figures, then its entries."""
    header = [_("Month"), _("Store"), _("Beneficiary"), _("Kind"), _("Order"), _("Level"), _("Rate %"),
              _("Base (yuan)"), _("Amount (yuan)"), _("Payable at")]
    entries = statement_entries(statement)
    numbers = dict(db.session.execute(select(Order.id, Order.number).where(
        Order.id.in_({e.order_id for e in entries}))).all()) if entries else {}
    rows = [[statement.month, store_name, holder, _("Opening balance"), "", "", "", "",
             yuan_text(statement.opening_fen), ""]]
    for e in entries:
        rows.append([statement.month, store_name, holder, _("Reversal") if e.amount_fen < 0 else _("Commission"),
                     numbers.get(e.order_id, ""), e.level or "", f"{e.rate_bp / 100:.2f}", yuan_text(e.base_fen),
                     yuan_text(e.amount_fen), e.payable_at.astimezone(local_tz()).strftime("%Y-%m-%d %H:%M")])
    if statement.paid_out_fen:
        rows.append([statement.month, store_name, holder, _("Paid out"), "", "", "", "",
                     yuan_text(-statement.paid_out_fen), ""])
    rows.append([statement.month, store_name, holder, _("Closing balance"), "", "", "", "",
                 yuan_text(statement.closing_fen), ""])
    return header, rows


def month_table(scope: Scope, month: str):
    """(header, rows) of the month's statements in scope, one row each."""
    header = [_("Month"), _("Store code"), _("Store"), _("Kind"), _("Beneficiary"), _("Opening (yuan)"),
              _("Earned (yuan)"), _("Reversed (yuan)"), _("Paid out (yuan)"), _("Closing (yuan)"),
              _("Payout (yuan)")]
    rows = []
    for s, store_name, store_code, holder in db.session.execute(statements_query(scope, month)):
        rows.append([s.month, store_code, store_name, str(BENEFICIARY_LABELS[s.beneficiary]), holder or "",
                     yuan_text(s.opening_fen), yuan_text(s.earned_fen), yuan_text(s.reversed_fen),
                     yuan_text(s.paid_out_fen), yuan_text(s.closing_fen),
                     yuan_text(s.payout_fen) if s.payout_fen else ""])
    return header, rows


__all__ = ["BENEFICIARIES", "close_month", "get_statement_or_404", "is_payable", "last_closed", "month_bounds",
           "month_of", "month_table", "month_to_close", "parse_month", "pay_statement", "statement_entries",
           "statement_table", "statements_query", "totals"]
