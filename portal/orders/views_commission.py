"""Commissions: the ledger, the monthly statements and their payouts, and "why this commission"
(the trace the order page includes). Scoped like orders: owners see their store's ledger (the
store's own commission, its guides' and its sharers'), the others their subtree's."""
from __future__ import annotations

from datetime import datetime

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func, select

from portal.extensions import db, htmx
from portal.kernel.forms import flash_outcome, one_of
from portal.kernel.money import format_yuan
from portal.kernel.paging import paginate
from portal.kernel.tabular import XLSX_MIMETYPE, csv_chunks, xlsx_bytes
from portal.kernel.time import utcnow
from portal.members.models import Guide, Member
from portal.orders import statements
from portal.orders.labels import BENEFICIARY_BADGES, BENEFICIARY_LABELS
from portal.orders.models import (
    BENEFICIARY_GUIDE,
    BENEFICIARY_SHARER,
    CommissionEntry,
    CommissionMonth,
    Order,
)
from portal.org import roles
from portal.org.access import current_scope, roles_required
from portal.org.models import Store
from portal.org.scope import Scope
from portal.web import NavEntry

bp = Blueprint("commissions", __name__)
NAV = (
    NavEntry("commissions.list_statements", _l("Commissions"), "coin", roles.ALL, order=125,
             pages=frozenset({"commissions.list_entries", "commissions.list_statements",
                              "commissions.view_statement"})),
)
PER_PAGE = 50
STATES = ("frozen", "payable")


@bp.context_processor
def _labels():
    return {"beneficiary_labels": BENEFICIARY_LABELS, "order_url": order_url}


@bp.app_template_global("commission_beneficiary")
def commission_beneficiary(kind: str) -> tuple[str, str]:
    """(label, badge class) of a kind of beneficiary, for the pages and the order page's trace."""
    return BENEFICIARY_LABELS[kind], BENEFICIARY_BADGES[kind]


def order_url(order_id: int) -> str | None:
    """The order page (portal.orders' ``orders.view_order``), when the app has it."""
    if "orders.view_order" not in current_app.view_functions:
        return None
    return url_for("orders.view_order", order_id=order_id)


def _holder_name():
    return case((CommissionEntry.beneficiary == BENEFICIARY_GUIDE, Guide.name),
                (CommissionEntry.beneficiary == BENEFICIARY_SHARER, Member.nickname), else_=Store.name)


def _entries(scope: Scope):
    """(entry, order number, store name, beneficiary name) in scope."""
    return (select(CommissionEntry, Order.number.label("order_number"), Store.name.label("store_name"),
                   _holder_name().label("holder_name"))
            .join(Order, Order.id == CommissionEntry.order_id)
            .join(Store, Store.id == CommissionEntry.store_id)
            .outerjoin(Guide, Guide.id == CommissionEntry.guide_id)
            .outerjoin(Member, Member.id == CommissionEntry.member_id)
            .where(scope.store_rows(CommissionEntry.store_id, CommissionEntry.path)))


@bp.app_template_global("commission_trace")
def commission_trace(order) -> list[dict]:
    """"Why this commission" for ``order``: each entry with its beneficiary's name and its
    reversals under it, in one query (the order page has already checked the scope)."""
    rows = db.session.execute(
        select(CommissionEntry, _holder_name().label("holder_name"))
        .join(Store, Store.id == CommissionEntry.store_id)
        .outerjoin(Guide, Guide.id == CommissionEntry.guide_id)
        .outerjoin(Member, Member.id == CommissionEntry.member_id)
        .where(CommissionEntry.order_id == order.id).order_by(CommissionEntry.id)).all()
    items, by_id, now = [], {}, utcnow()
    for entry, name in rows:
        if entry.reverses_id is None:
            why = entry.why or {}
            since = why.get("since") or why.get("referrer_since")
            by_id[entry.id] = item = {"entry": entry, "name": name, "why": why, "reversals": [], "reversed_fen": 0,
                                      "frozen": entry.payable_at > now,
                                      "since": datetime.fromisoformat(since) if since else None}
            items.append(item)
        elif entry.reverses_id in by_id:
            by_id[entry.reverses_id]["reversals"].append(entry)
            by_id[entry.reverses_id]["reversed_fen"] += entry.amount_fen
    return items


@bp.route("/commissions")
@roles_required(*roles.ALL)
def list_entries():
    """The ledger, newest first, with filters: kind, store, guide, month, frozen / payable."""
    scope = current_scope()
    kind = one_of(request.args.get("kind"), statements.BENEFICIARIES)
    state = one_of(request.args.get("state"), STATES)
    month = statements.parse_month(request.args.get("month")) or ""
    q = request.args.get("q", "").strip()[:50]
    guides = _guides(scope)
    guide_id = request.args.get("guide", type=int)
    guide_id = guide_id if guide_id in {g.id for g in guides} else None
    stmt = _entries(scope)
    if kind:
        stmt = stmt.where(CommissionEntry.beneficiary == kind)
    if guide_id:
        stmt = stmt.where(CommissionEntry.guide_id == guide_id)
    if q and scope.store_id is None:
        stmt = stmt.where((Store.code == q.upper()) | Store.name.contains(q, autoescape=True))
    now = utcnow()
    if state == "frozen":
        stmt = stmt.where(CommissionEntry.payable_at > now)
    elif state == "payable":
        stmt = stmt.where(CommissionEntry.payable_at <= now)
    if month:
        start, end = statements.month_bounds(month)
        stmt = stmt.where(CommissionEntry.payable_at >= start, CommissionEntry.payable_at < end)
    total = _sums(stmt, now)
    page = paginate(stmt.order_by(CommissionEntry.id.desc()), request.args.get("page"), PER_PAGE, rows=True)
    ctx = dict(rows=page.items, total=page.total, page=page.page, pages=page.pages, kind=kind, state=state,
               month=month, q=q, guides=guides, guide_id=guide_id or "", sums=total, now=now,
               args={"kind": kind, "state": state, "month": month, "q": q, "guide": guide_id or ""})
    if htmx and htmx.target == "entry-rows":
        return render_template("commissions/_entries.html", **ctx), {"Vary": "HX-Request"}
    return render_template("commissions/entries.html", **ctx), {"Vary": "HX-Request"}


def _sums(stmt, now):
    """(sum, frozen part) of the filtered entries, in one aggregate over the same query."""
    sub = stmt.with_only_columns(CommissionEntry.amount_fen, CommissionEntry.payable_at).subquery()
    row = db.session.execute(select(func.coalesce(func.sum(sub.c.amount_fen), 0),
                                    func.coalesce(func.sum(case((sub.c.payable_at > now, sub.c.amount_fen),
                                                                else_=0)), 0))).one()
    return {"amount": int(row[0]), "frozen": int(row[1])}


def _guides(scope: Scope) -> list[Guide]:
    """The guides a filter may name: an owner's store's (other users filter by store instead)."""
    if scope.store_id is None:
        return []
    return list(db.session.scalars(select(Guide).where(Guide.store_id == scope.store_id).order_by(Guide.name)))


def _months() -> list[CommissionMonth]:
    return list(db.session.scalars(select(CommissionMonth).order_by(CommissionMonth.month.desc()).limit(36)))


@bp.route("/commissions/statements")
@roles_required(*roles.ALL)
def list_statements():
    """A closed month's statements per store, guide and sharer, with totals."""
    scope = current_scope()
    months = _months()
    month = statements.parse_month(request.args.get("month"))
    if month not in {m.month for m in months}:
        month = months[0].month if months else None
    kind = one_of(request.args.get("kind"), statements.BENEFICIARIES)
    rows, totals, total, page, pages = [], {}, 0, 1, 1
    if month:
        result = paginate(statements.statements_query(scope, month, kind or None), request.args.get("page"),
                          PER_PAGE, rows=True)
        rows, total, page, pages = result.items, result.total, result.page, result.pages
        totals = statements.totals(scope, month)
    latest = months[0].month if months else None
    ctx = dict(months=months, month=month, kind=kind, rows=rows, totals=totals, total=total, page=page,
               pages=pages, latest=latest, can_pay=scope.role in roles.ADMINS,
               can_close=scope.role == roles.HQ_ADMIN and scope.is_everything(),
               to_close=statements.month_to_close() if scope.role == roles.HQ_ADMIN else None,
               args={"month": month or "", "kind": kind})
    if htmx and htmx.target == "statement-rows":
        return render_template("commissions/_statements.html", **ctx), {"Vary": "HX-Request"}
    return render_template("commissions/statements.html", **ctx), {"Vary": "HX-Request"}


@bp.route("/commissions/months", methods=["POST"])
@roles_required(roles.HQ_ADMIN)
def close_month():
    """Close the month the form names (HQ, for every store): its statements are stored."""
    scope = current_scope()
    month = statements.parse_month(request.form.get("month"))
    if month is None:
        flash(_("Choose a month."), "danger")
        return redirect(url_for("commissions.list_statements"), 303)
    flash_outcome(lambda: statements.close_month(scope, month, actor=scope.user),
                  lambda row: _("%(month)s closed: %(num)s statements.", month=month, num=row.statements))
    return redirect(url_for("commissions.list_statements", month=month), 303)


@bp.route("/commissions/statements/<int:statement_id>")
@roles_required(*roles.ALL)
def view_statement(statement_id: int):
    scope = current_scope()
    statement, store_name, store_code, holder = statements.get_statement_or_404(scope, statement_id)
    entries = statements.statement_entries(statement)
    numbers = dict(db.session.execute(select(Order.id, Order.number).where(
        Order.id.in_({e.order_id for e in entries}))).all()) if entries else {}
    return render_template("commissions/statement.html", s=statement, store_name=store_name, store_code=store_code,
                           holder=holder, entries=entries, numbers=numbers,
                           can_pay=scope.role in roles.ADMINS and statements.is_payable(statement),
                           latest=statements.last_closed().month, now=utcnow())


@bp.route("/commissions/statements/<int:statement_id>/pay", methods=["POST"])
@roles_required(*roles.ADMINS)
def pay_statement(statement_id: int):
    """Pay the statement's positive closing balance; a second click answers 409."""
    scope = current_scope()
    statement = statements.get_statement_or_404(scope, statement_id)[0]
    flash_outcome(lambda: statements.pay_statement(scope, statement, actor=scope.user),
                  lambda paid: _("Paid %(amount)s.", amount=format_yuan(paid)))
    return redirect(url_for("commissions.view_statement", statement_id=statement_id), 303)


def _download(header, rows, name: str, fmt: str):
    if fmt == "xlsx":
        return Response(xlsx_bytes(header, rows, title=_("Statement")), mimetype=XLSX_MIMETYPE,
                        headers={"Content-Disposition": f"attachment; filename={name}.xlsx"})
    return Response("".join(csv_chunks(header, rows)), mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename={name}.csv"})


@bp.route("/commissions/statements/<int:statement_id>.csv", defaults={"fmt": "csv"},
          endpoint="export_statement")
@bp.route("/commissions/statements/<int:statement_id>.xlsx", defaults={"fmt": "xlsx"},
          endpoint="export_statement_xlsx")
@roles_required(*roles.ALL)
def export_statement(statement_id: int, fmt: str):
    statement, store_name, store_code, holder = statements.get_statement_or_404(current_scope(), statement_id)
    header, rows = statements.statement_table(statement, holder or "", store_name)
    return _download(header, rows, f"statement-{statement.month}-{store_code}-{statement.id}", fmt)


@bp.route("/commissions/statements.csv", defaults={"fmt": "csv"}, endpoint="export_month")
@bp.route("/commissions/statements.xlsx", defaults={"fmt": "xlsx"}, endpoint="export_month_xlsx")
@roles_required(*roles.ALL)
def export_month(fmt: str):
    month = statements.parse_month(request.args.get("month"))
    if month is None:
        last = statements.last_closed()
        month = last.month if last else statements.month_of(utcnow())
    header, rows = statements.month_table(current_scope(), month)
    return _download(header, rows, f"statements-{month}", fmt)


__all__ = ["NAV", "bp", "commission_trace"]
