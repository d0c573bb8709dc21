"""Reading orders, scoped by the tree: the list (search, filters, paging, CSV), one order with
everything it carries, and a member's orders.

Every query goes through ``Scope.store_rows(Order.store_id, Order.path)``: an owner sees their
store's orders, staff those of the stores in their subtree. A page is two statements (the count,
then its 50 rows with their store and buyer); an order is a fixed handful. What the mini-programs
report is applied by ``portal.orders.events``.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

from flask import abort
from flask_babel import gettext as _
from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import aliased

from portal.campaigns.models import Campaign
from portal.campaigns.services import visible as visible_campaigns
from portal.extensions import db
from portal.kernel.ids import parse_id, parse_page
from portal.kernel.money import yuan_text
from portal.kernel.paging import Page, paginate
from portal.kernel.tabular import csv_chunks
from portal.kernel.time import day_end_utc, day_start_utc, local_tz
from portal.members.models import Guide, Member
from portal.orders.models import PAID, PARTLY_REFUNDED, REFUNDED, Order, OrderLine, Refund, RefundLine
from portal.org.models import Store
from portal.org.scope import Scope

STATUSES = (PAID, PARTLY_REFUNDED, REFUNDED)
PER_PAGE = 50
MAX_EXPORT = 100_000


def _day(text: str | None) -> date | None:
    try:
        return date.fromisoformat((text or "").strip()) if text else None
    except ValueError:
        return None


@dataclass(frozen=True)
class OrderFilter:
    q: str = ""
    store: str = ""              # a store's code (staff)
    status: str = ""
    start: date | None = None    # paid on or after this day (portal time zone)
    end: date | None = None      # paid on or before this day
    campaign_id: int | None = None
    live_room_id: int | None = None
    page: int = 1

    @classmethod
    def from_args(cls, args) -> OrderFilter:
        status = args.get("status", "")
        start, end = _day(args.get("from")), _day(args.get("to"))
        if start and end and start > end:
            start, end = end, start
        return cls(q=args.get("q", "").strip()[:64], store=args.get("store", "").strip()[:32],
                   status=status if status in STATUSES else "", start=start, end=end,
                   campaign_id=parse_id(args.get("campaign")), live_room_id=parse_id(args.get("live_room")),
                   page=parse_page(args.get("page")))

    def args(self, **changes) -> dict:
        """Query arguments for a link to this filter with ``changes`` applied."""
        values = {"q": self.q, "store": self.store, "status": self.status,
                  "from": self.start.isoformat() if self.start else "", "to": self.end.isoformat() if self.end else "",
                  "campaign": self.campaign_id or "", "live_room": self.live_room_id or "", "page": self.page}
        values.update(changes)
        return {k: v for k, v in values.items() if v not in ("", None) and not (k == "page" and v == 1)}

    @property
    def narrowed(self) -> bool:
        """A filter beyond the search box is set (the phone layout then shows the filters open)."""
        return bool(self.store or self.status or self.start or self.end or self.campaign_id or self.live_room_id)


def scoped_orders(scope: Scope) -> Select:
    return select(Order).where(scope.store_rows(Order.store_id, Order.path))


def filtered_orders(scope: Scope, flt: OrderFilter) -> Select:
    """Orders in scope matching ``flt``: a SELECT of Order with no join (counted from orders alone)."""
    stmt = scoped_orders(scope)
    if flt.q:
        found = [Order.number.like(f"{flt.q}%")]
        nickname = select(Member.id).where(Member.nickname.like(f"%{flt.q}%"))
        found.append(Order.member_id.in_(nickname))
        member_id = parse_id(flt.q)
        if member_id:
            found.append(Order.member_id == member_id)
        stmt = stmt.where(or_(*found))
    if flt.store and scope.store_id is None:
        stmt = stmt.where(Order.store_id.in_(select(Store.id).where(Store.code == flt.store, scope.stores())))
    if flt.status:
        stmt = stmt.where(Order.status == flt.status)
    if flt.start:
        stmt = stmt.where(Order.paid_at >= day_start_utc(flt.start))
    if flt.end:
        stmt = stmt.where(Order.paid_at < day_end_utc(flt.end))
    if flt.campaign_id:
        stmt = stmt.where(Order.campaign_id == flt.campaign_id)
    if flt.live_room_id:
        stmt = stmt.where(Order.live_room_id == flt.live_room_id)
    return stmt


@dataclass(frozen=True)
class OrderRow:
    id: int
    number: str
    paid_at: object
    status: str
    paid_fen: int
    refunded_fen: int
    store_id: int
    store_code: str
    store_name: str
    member_id: int
    member_name: str


def _row_columns():
    return (Order.id, Order.number, Order.paid_at, Order.status, Order.paid_fen, Order.refunded_fen, Order.store_id,
            Store.code, Store.name, Order.member_id, Member.nickname)


def list_orders(scope: Scope, flt: OrderFilter, per_page: int = PER_PAGE) -> Page:
    """A page of the matching orders, newest first: the count, then the page's rows with their
    store and buyer around the page of ids (two statements)."""
    ids = filtered_orders(scope, flt).with_only_columns(Order.id).order_by(Order.paid_at.desc(), Order.id.desc())

    def load(page_ids) -> list[OrderRow]:
        return [OrderRow(*row) for row in db.session.execute(
            select(*_row_columns()).join(Store, Store.id == Order.store_id)
            .outerjoin(Member, Member.id == Order.member_id)
            .where(Order.id.in_(page_ids.correlate(None))).order_by(Order.paid_at.desc(), Order.id.desc()))]

    return paginate(ids, flt.page, per_page, clamp=True, load=load)


def campaign_choices(scope: Scope, limit: int = 100) -> list[tuple[int, str]]:
    """The campaigns the filter offers: those the user sees, newest first."""
    return list(db.session.execute(select(Campaign.id, Campaign.name).where(visible_campaigns(scope))
                                   .order_by(Campaign.starts_at.desc(), Campaign.id.desc()).limit(limit)).all())


def status_label(status: str) -> str:
    return {PAID: _("Paid"), PARTLY_REFUNDED: _("Partly refunded"), REFUNDED: _("Refunded")}.get(status, status)


def export_header() -> list[str]:
    return [_("Order number"), _("Paid at"), _("Store code"), _("Store"), _("Member ID"), _("Member"), _("Status"),
            _("Goods (yuan)"), _("Discount (yuan)"), _("Coupon (yuan)"), _("Freight (yuan)"), _("Paid (yuan)"),
            _("Refunded (yuan)"), _("Coupon code"), _("Campaign ID"), _("Live room ID"), _("Guide")]


def export_rows(scope: Scope, flt: OrderFilter) -> Iterator[str]:
    """CSV text of the matching orders (at most ``MAX_EXPORT``), newest first, in chunks."""
    tz = local_tz()
    ids = filtered_orders(scope, flt).with_only_columns(Order.id).order_by(Order.paid_at.desc()).limit(MAX_EXPORT)
    stmt = (select(Order.number, Order.paid_at, Store.code, Store.name, Order.member_id, Member.nickname,
                   Order.status, Order.goods_fen, Order.discount_fen, Order.coupon_fen, Order.freight_fen,
                   Order.paid_fen, Order.refunded_fen, Order.coupon_code, Order.campaign_id, Order.live_room_id,
                   Guide.name)
            .join(Store, Store.id == Order.store_id).outerjoin(Member, Member.id == Order.member_id)
            .outerjoin(Guide, Guide.id == Order.guide_id)
            .where(Order.id.in_(ids.scalar_subquery())).order_by(Order.paid_at.desc(), Order.id.desc()))
    rows = ((number, paid_at.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S"), code, name, member_id, nickname or "",
             status_label(status), yuan_text(goods), yuan_text(discount), yuan_text(coupon), yuan_text(freight),
             yuan_text(paid), yuan_text(refunded), coupon_code or "", campaign_id or "", live_room_id or "",
             guide or "")
            for (number, paid_at, code, name, member_id, nickname, status, goods, discount, coupon, freight, paid,
                 refunded, coupon_code, campaign_id, live_room_id, guide)
            in db.session.execute(stmt.execution_options(yield_per=1000)))
    return csv_chunks(export_header(), rows)


# --------------------------------------------------------------------------- one order

def get_order_or_404(scope: Scope, order_id: int) -> Order:
    order = db.session.scalar(scoped_orders(scope).where(Order.id == order_id))
    if order is None:
        abort(404)
    return order


@dataclass
class RefundView:
    refund: Refund
    lines: list[tuple[int, int, int]]      # (line no, quantity, fen)


@dataclass
class OrderView:
    order: Order
    store: Store
    member: Member | None
    sharer: Member | None
    guide: Guide | None
    campaign: Campaign | None
    lines: list[OrderLine]
    refunds: list[RefundView]

    @property
    def hq_fulfilled(self) -> bool:
        return any(line.fulfilled_by == "hq" for line in self.lines)


def order_view(order: Order) -> OrderView:
    """Everything the order page shows, in a fixed handful of statements."""
    sharer_alias = aliased(Member)
    store, member, sharer, guide, campaign = db.session.execute(
        select(Store, Member, sharer_alias, Guide, Campaign).select_from(Order)
        .join(Store, Store.id == Order.store_id)
        .outerjoin(Member, Member.id == Order.member_id)
        .outerjoin(sharer_alias, sharer_alias.id == Order.sharer_id)
        .outerjoin(Guide, Guide.id == Order.guide_id)
        .outerjoin(Campaign, Campaign.id == Order.campaign_id)
        .where(Order.id == order.id)).one()
    lines = list(db.session.scalars(select(OrderLine).where(OrderLine.order_id == order.id)
                                    .order_by(OrderLine.line_no)))
    refunds = list(db.session.scalars(select(Refund).where(Refund.order_id == order.id)
                                      .order_by(Refund.refunded_at, Refund.id)))
    per_refund: dict[int, list] = {r.id: [] for r in refunds}
    if refunds:
        for refund_id, line_no, quantity, fen in db.session.execute(
                select(RefundLine.refund_id, OrderLine.line_no, RefundLine.quantity, RefundLine.amount_fen)
                .join(OrderLine, OrderLine.id == RefundLine.line_id)
                .where(RefundLine.refund_id.in_(list(per_refund))).order_by(OrderLine.line_no)):
            per_refund[refund_id].append((line_no, quantity, fen))
    return OrderView(order, store, member, sharer, guide, campaign, lines,
                     [RefundView(r, per_refund[r.id]) for r in refunds])


# --------------------------------------------------------------------------- a member's orders

@dataclass
class MemberOrders:
    count: int
    paid_fen: int
    refunded_fen: int
    recent: list[OrderRow]

    @property
    def net_fen(self) -> int:
        return self.paid_fen - self.refunded_fen


def member_orders(scope: Scope, member_id: int, limit: int = 10) -> MemberOrders:
    """A member's orders that the scope sees: how many, paid and refunded in all, and the latest."""
    where = (Order.member_id == member_id, scope.store_rows(Order.store_id, Order.path))
    count, paid, refunded = db.session.execute(
        select(func.count(), func.coalesce(func.sum(Order.paid_fen), 0), func.coalesce(func.sum(Order.refunded_fen), 0))
        .where(*where)).one()
    recent = [OrderRow(*row) for row in db.session.execute(
        select(*_row_columns()).join(Store, Store.id == Order.store_id).outerjoin(Member, Member.id == Order.member_id)
        .where(*where).order_by(Order.paid_at.desc(), Order.id.desc()).limit(limit))] if count else []
    return MemberOrders(count, paid, refunded, recent)


__all__ = ["STATUSES", "MemberOrders", "OrderFilter", "OrderRow", "OrderView", "export_rows", "filtered_orders",
           "get_order_or_404", "list_orders", "member_orders", "order_view", "scoped_orders", "status_label"]
