"""The commission engine: what a paid order earns, and what a refund takes back.

Both functions append to the ledger (``CommissionEntry``), set-based: one query per kind of
thing they read (plans, lines, members, bindings, existing entries) and one bulk INSERT for the
batch, whatever its size. They flush, never commit; they never UPDATE or DELETE an entry.

The plan in force for an order: a published distribution campaign whose window holds the
order's ``paid_at`` and which the store has joined. When several hold, the one that started
last wins (a later plan is taken as the brand's newer decision; ties: the higher id), so one
order earns under exactly one plan.

Amounts: ``base × rate`` rounded half-up to the fen in integer arithmetic (rates in basis
points). A refund reverses each entry of the refunded line with cumulative rounding: the
reversal brings the entry's reversed total to ``round(orig × refunded_so_far / base)``, so
partial refunds add up and a full refund reverses exactly the original amount.

When is a reversal due: at the refund when its entry is already payable (a claw-back is due at
once); a refund during the entry's freeze waits with its entry (``payable_at`` = the later of
the refund and the entry's own), so a statement never claws back what was not yet earned.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from decimal import Decimal, InvalidOperation

from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from portal.campaigns.models import JOINED, PUBLISHED, Campaign, CampaignStore
from portal.extensions import db
from portal.kernel.sql import bulk_insert
from portal.members.models import Guide, Member, MemberBinding
from portal.orders.models import (
    BENEFICIARY_GUIDE,
    BENEFICIARY_SHARER,
    BENEFICIARY_STORE,
    CommissionEntry,
    Order,
    OrderLine,
    Refund,
    RefundLine,
)

DISTRIBUTION = "distribution"


def rate_bp(percent) -> int:
    """A plan's rate ("12.50", percent with two places) in basis points (1250); 0 if unset."""
    if percent in (None, ""):
        return 0
    try:
        return int((Decimal(str(percent)) * 100).to_integral_value())
    except (InvalidOperation, ValueError):
        return 0


def commission_fen(base_fen: int, bp: int) -> int:
    """``base × bp / 10000`` rounded half-up to the fen (both non-negative)."""
    return (base_fen * bp * 2 + 10_000) // 20_000


def _share(amount: int, part: int, whole: int) -> int:
    """``amount × part / whole`` rounded half-up (amount, part >= 0, whole > 0)."""
    return (amount * part * 2 + whole) // (2 * whole)


def plans_for(store_id: int, orders: list[Order]) -> dict[int, Campaign]:
    """The plan in force for each order (by order id), in one query."""
    if not orders:
        return {}
    first, last = min(o.paid_at for o in orders), max(o.paid_at for o in orders)
    plans = db.session.scalars(
        select(Campaign).join(CampaignStore, CampaignStore.campaign_id == Campaign.id)
        .where(CampaignStore.store_id == store_id, CampaignStore.status == JOINED, Campaign.status == PUBLISHED,
               Campaign.kind == DISTRIBUTION, Campaign.starts_at <= last, Campaign.ends_at > first)
        .order_by(Campaign.starts_at.desc(), Campaign.id.desc())).all()
    chosen = {}
    for order in orders:
        plan = plan_at(plans, order.paid_at)
        if plan is not None:
            chosen[order.id] = plan
    return chosen


def plan_at(plans, paid_at):
    """Of ``plans`` (the store's joined, published distribution plans, started last first), the
    one in force at ``paid_at``, or None."""
    for plan in plans:
        if plan.starts_at <= paid_at < plan.ends_at:
            return plan
    return None


def accrue(store, orders: list[Order]) -> None:
    """After the orders and their lines are flushed: choose the distribution plan in force for
    ``store`` at each order's paid_at, set ``Order.plan_id``, and append one CommissionEntry per
    line and beneficiary (one bulk INSERT for the batch; the orders are ``store``'s)."""
    plans = plans_for(store.id, orders)
    if not plans:
        return
    planned = [o for o in orders if o.id in plans]
    for order in planned:
        order.plan_id = plans[order.id].id
    order_ids = [o.id for o in planned]
    lines = db.session.scalars(select(OrderLine).where(OrderLine.order_id.in_(order_ids))
                               .order_by(OrderLine.order_id, OrderLine.line_no)).all()
    by_order = defaultdict(list)
    for line in lines:
        by_order[line.order_id].append(line)
    # The people named: buyers, sharers and the sharers' referrers, their guides and bindings.
    member_ids = {o.member_id for o in planned} | {o.sharer_id for o in planned if o.sharer_id}
    members = {m.id: m for m in db.session.scalars(select(Member).where(Member.id.in_(member_ids)))}
    referrers = {m.referrer_id for m in members.values() if m.referrer_id and m.referrer_id not in members}
    if referrers:
        members.update({m.id: m for m in db.session.scalars(select(Member).where(Member.id.in_(referrers)))})
    guide_ids = {o.guide_id for o in planned if o.guide_id}
    guides = ({g.id: g for g in db.session.scalars(select(Guide).where(Guide.id.in_(guide_ids)))}
              if guide_ids else {})
    since = _guide_since(planned, members)
    db.session.flush()             # Order.plan_id
    write(planned, plans, by_order, members, guides, since)


def write(orders, plans: dict, lines: dict, members: dict, guides: dict, since: dict) -> None:
    """Append the entries ``orders`` earn (one bulk INSERT), all read already: ``plans`` by order
    id (the plan in force; orders without one earn nothing), ``lines`` (each order's, by line_no)
    and ``members`` / ``guides`` by id (with id, nickname, referrer_id, created_at, bound_at; id,
    name, code), ``since`` by order id (since when the order's guide serves the buyer). Plain rows
    do as well as ORM objects: order.paid hands in what it has just inserted."""
    rows = []
    for order in orders:
        plan = plans.get(order.id)
        if plan is None:
            continue
        rules = plan.rules or {}
        freeze = timedelta(days=int(rules.get("freeze_days") or 0))
        payable_at = order.paid_at + freeze
        buyer = members.get(order.member_id)
        beneficiaries = _beneficiaries(order, rules, buyer, members, guides, since)
        if not beneficiaries:
            continue
        for line in lines.get(order.id, ()):
            if line.paid_fen <= 0:
                continue
            for kind, bp, level, holder, why in beneficiaries:
                if kind == BENEFICIARY_STORE and line.fulfilled_by != "hq":
                    continue
                rows.append(dict(
                    store_id=order.store_id, path=order.path, order_id=order.id, line_id=line.id,
                    plan_id=plan.id, beneficiary=kind, level=level,
                    beneficiary_store_id=holder if kind == BENEFICIARY_STORE else None,
                    guide_id=holder if kind == BENEFICIARY_GUIDE else None,
                    member_id=holder if kind == BENEFICIARY_SHARER else None,
                    rate_bp=bp, base_fen=line.paid_fen, amount_fen=commission_fen(line.paid_fen, bp),
                    why={**why, "plan": plan.name, "plan_id": plan.id, "level": level, "rate_bp": bp,
                         "base_fen": line.paid_fen, "line": line.name or line.sku_code, "sku": line.sku_code,
                         "freeze_days": freeze.days},
                    payable_at=payable_at))
    if rows:
        bulk_insert(db.session, CommissionEntry.__table__, rows)


def _guide_since(orders: list[Order], members: dict) -> dict[int, object]:
    """Since when each buyer is served by the order's guide: the open binding's start (one
    query for the batch), else ``Member.bound_at``."""
    buyers = [o.member_id for o in orders if o.guide_id]
    if not buyers:
        return {}
    found = {}
    for member_id, guide_id, started_at in db.session.execute(
            select(MemberBinding.member_id, MemberBinding.guide_id, MemberBinding.started_at)
            .where(MemberBinding.member_id.in_(buyers), MemberBinding.ended_at.is_(None))):
        found[(member_id, guide_id)] = started_at
    out = {}
    for o in orders:
        if o.guide_id:
            start = found.get((o.member_id, o.guide_id))
            buyer = members.get(o.member_id)
            out[o.id] = start or (buyer.bound_at if buyer else None)
    return out


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def _beneficiaries(order: Order, rules: dict, buyer, members: dict, guides: dict, since: dict):
    """(kind, rate in bp, level, holder id, why) of each beneficiary the plan names for ``order``."""
    out = []
    bp = rate_bp(rules.get("store_rate"))
    if bp:
        out.append((BENEFICIARY_STORE, bp, 0, order.store_id, {"store_id": order.store_id}))
    bp = rate_bp(rules.get("guide_rate"))
    guide = guides.get(order.guide_id) if order.guide_id else None
    if bp and guide:
        out.append((BENEFICIARY_GUIDE, bp, 0, guide.id,
                     {"guide": guide.name, "guide_code": guide.code, "since": _iso(since.get(order.id))}))
    sharer = members.get(order.sharer_id) if order.sharer_id else None
    bp = rate_bp(rules.get("sharer_rate"))
    if bp and sharer:
        why = {"sharer": sharer.nickname, "shared": True}
        if buyer is not None and buyer.referrer_id == sharer.id:
            why["referrer_since"] = _iso(buyer.created_at)      # the buyer came through this sharer
        out.append((BENEFICIARY_SHARER, bp, 1, sharer.id, why))
    bp = rate_bp(rules.get("second_rate"))
    if bp and sharer and int(rules.get("levels") or 1) == 2 and sharer.referrer_id:
        second = members.get(sharer.referrer_id)
        if second is not None and second.id != order.member_id and second.id != sharer.id:
            out.append((BENEFICIARY_SHARER, bp, 2, second.id,
                        {"sharer": second.nickname, "via": sharer.nickname,
                         "referrer_since": _iso(sharer.created_at)}))
    return out


def reverse(store, refunds: list[Refund]) -> None:
    """After refunds, refund lines and the lines' refunded amounts are flushed: append reversing
    entries in proportion to what was refunded of each line (one bulk INSERT)."""
    if not refunds:
        return
    by_id = {r.id: r for r in refunds}
    # Each refunded line, and the refund of the batch that touched it last.
    last_refund = {}
    for refund_id, line_id in db.session.execute(
            select(RefundLine.refund_id, RefundLine.line_id).where(RefundLine.refund_id.in_(list(by_id)))):
        current = last_refund.get(line_id)
        if current is None or (by_id[refund_id].refunded_at, refund_id) > (current.refunded_at, current.id):
            last_refund[line_id] = by_id[refund_id]
    if not last_refund:
        return
    refunded = dict(db.session.execute(select(OrderLine.id, OrderLine.refunded_fen)
                                       .where(OrderLine.id.in_(list(last_refund)))).all())
    reverse_lines(last_refund, refunded)


def reverse_lines(last_refund: dict, refunded: dict[int, int]) -> None:
    """The reversing entries of refunded lines, all read already: ``last_refund`` by line id (the
    refund of the batch that touched the line last: id, number, order_id, refunded_at) and
    ``refunded`` by line id (the line's refunded_fen now). One read of the lines' entries with
    what each has had reversed so far, one bulk INSERT."""
    if not last_refund:
        return
    line_ids = list(last_refund)
    order_ids = {r.order_id for r in last_refund.values()}      # the ledger's index is by order
    reversal = aliased(CommissionEntry)
    so_far = (select(func.sum(reversal.amount_fen))
              .where(reversal.order_id == CommissionEntry.order_id, reversal.reverses_id == CommissionEntry.id)
              .correlate(CommissionEntry).scalar_subquery())
    e = CommissionEntry
    originals = db.session.execute(
        select(e.id, e.store_id, e.path, e.order_id, e.line_id, e.plan_id, e.beneficiary, e.level,
               e.beneficiary_store_id, e.guide_id, e.member_id, e.rate_bp, e.base_fen, e.amount_fen,
               e.payable_at, so_far.label("reversed"))
        .where(e.order_id.in_(order_ids), e.line_id.in_(line_ids), e.reverses_id.is_(None))
        .order_by(e.id)).all()
    rows = []
    for entry in originals:
        if entry.base_fen <= 0 or entry.amount_fen <= 0:
            continue
        part = min(refunded.get(entry.line_id) or 0, entry.base_fen)
        target = _share(entry.amount_fen, part, entry.base_fen)
        delta = target + int(entry.reversed or 0)      # reversals are negative
        if delta <= 0:
            continue
        refund = last_refund[entry.line_id]
        rows.append(dict(
            store_id=entry.store_id, path=entry.path, order_id=entry.order_id, line_id=entry.line_id,
            refund_id=refund.id, reverses_id=entry.id, plan_id=entry.plan_id, beneficiary=entry.beneficiary,
            level=entry.level, beneficiary_store_id=entry.beneficiary_store_id, guide_id=entry.guide_id,
            member_id=entry.member_id, rate_bp=entry.rate_bp, base_fen=entry.base_fen, amount_fen=-delta,
            why={"refund": refund.number, "refunded_fen": part, "base_fen": entry.base_fen},
            payable_at=max(refund.refunded_at, entry.payable_at)))
    if rows:
        bulk_insert(db.session, CommissionEntry.__table__, rows)


__all__ = ["accrue", "commission_fen", "plan_at", "plans_for", "rate_bp", "reverse", "reverse_lines", "write"]
