"""What the mini-programs report about orders: ``order.paid``, ``order.refunded``, ``coupon.redeemed``.

Each handler takes all the events of its type in a batch and applies them set-based: a fixed
handful of statements for 1 or 500 events (one read of what is already stored, bulk inserts with
RETURNING, bulk updates by primary key), never a query per order. Amounts are fen.

- ``order.paid`` checks its amounts (goods = Σ quantity × unit, paid = goods − discount − coupon +
  freight), finds its SKUs among the store's goods (HQ's direct-sale goods are fulfilled by HQ; a
  code the portal does not know is the store's own, kept by its code), resolves the buyer and the
  sharer to members (an unknown openid creates one), binds the buyer through the guide code, and
  stores the order with the guide serving the buyer at that moment. Each line's ``paid_fen`` is
  its share of what was paid net of discount and coupon (pro rata to the line's value, the
  remainder on the last line; freight is on no line): the commission base. Then the ledger is
  written (``commission.accrue``) and refunds held for these orders are released.
- ``order.refunded`` gives back lines (by SKU or line number, with quantities) or an amount spread
  over the lines pro rata to what is left of each; never more than is left. A refund whose order
  has not arrived is held until it does.
- ``coupon.redeemed`` marks a coupon claim of this store used (and on which order).
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from types import SimpleNamespace as _Row

import marshmallow as ma
from marshmallow import fields, validate, validates_schema
from sqlalchemy import and_, or_, select, text
from sqlalchemy.orm import aliased
from sqlalchemy.orm.util import identity_key

from portal.assortments.models import AssortmentItem, StoreAssortment
from portal.campaigns.models import JOINED, PUBLISHED, Campaign, CampaignStore, CouponClaim
from portal.extensions import db
from portal.goods.models import Product, Sku
from portal.ingest import services as ingest
from portal.ingest.registry import COUPONS, ORDERS, REFUNDS, Event, Held, Reject, handler
from portal.ingest.schemas import EventData, text_field
from portal.kernel.money import MAX_FEN
from portal.kernel.sql import among, bulk_insert, bulk_update, next_ids
from portal.members import services as members
from portal.members.models import Guide, Member, MemberBinding
from portal.orders import commission
from portal.orders.models import PAID, PARTLY_REFUNDED, REFUNDED, Order, OrderLine, Refund, RefundLine

MAX_LINES = 200
MAX_QUANTITY = 100_000


def _fen(*, required: bool = False, minimum: int = 0):
    kw = {"required": True} if required else {"load_default": 0}
    return fields.Integer(strict=True, validate=validate.Range(minimum, MAX_FEN), **kw)


def _key(number: str) -> str:
    return f"order:{number}"


# --------------------------------------------------------------------------- order.paid

class PaidLines(fields.Field):
    """``lines`` of an order: 1 to 200 of {sku, quantity ≥ 1, unit_fen ≥ 0, name}. Checked by hand
    rather than as a nested schema: it is the bulk of an order's data, and the nested schema
    costs three times as much per line. Errors name the line and the field: ``lines.0.quantity``."""

    def __init__(self, **kw):
        super().__init__(required=True, metadata={
            "type": "array", "minItems": 1, "maxItems": MAX_LINES,
            "items": {"type": "object", "required": ["sku", "quantity", "unit_fen"], "properties": {
                "sku": {"type": "string", "maxLength": 64}, "quantity": {"type": "integer", "minimum": 1},
                "unit_fen": {"type": "integer", "minimum": 0}, "name": {"type": "string", "maxLength": 200}}}},
            **kw)

    @staticmethod
    def _int(line: dict, i: int, key: str, low: int, high: int) -> int:
        value = line.get(key)
        if value is None:
            raise ma.ValidationError({i: {key: ["Missing data for required field."]}})
        if type(value) is not int:
            raise ma.ValidationError({i: {key: ["Not a valid integer."]}})
        if not low <= value <= high:
            raise ma.ValidationError({i: {key: [f"Must be greater than or equal to {low} and less than or equal "
                                                f"to {high}."]}})
        return value

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, list):
            raise ma.ValidationError("Not a valid list.")
        if not 1 <= len(value) <= MAX_LINES:
            raise ma.ValidationError(f"An order has 1 to {MAX_LINES} lines.")
        out = []
        for i, line in enumerate(value):
            if not isinstance(line, dict):
                raise ma.ValidationError({i: {"_schema": ["Each line is an object with sku, quantity and unit_fen."]}})
            sku = line.get("sku")
            if not isinstance(sku, str) or not 1 <= len(sku) <= 64:
                raise ma.ValidationError({i: {"sku": ["A SKU code of 1 to 64 characters."]}})
            name = line.get("name") or ""
            if not isinstance(name, str) or len(name) > 200:
                raise ma.ValidationError({i: {"name": ["A name of at most 200 characters."]}})
            out.append({"sku": sku, "quantity": self._int(line, i, "quantity", 1, MAX_QUANTITY),
                        "unit_fen": self._int(line, i, "unit_fen", 0, MAX_FEN), "name": name})
        return out


class OrderPaidSchema(EventData):
    number = text_field(64, required=True)
    openid = text_field(64, required=True)
    unionid = text_field(64)
    phone = fields.String(load_default=None, allow_none=True, validate=validate.Regexp(r"^\+?\d{6,20}$"))
    nickname = text_field(64, min_len=0)
    lines = PaidLines()
    goods_fen = _fen(required=True)
    discount_fen = _fen()
    coupon_fen = _fen()
    freight_fen = _fen()
    paid_fen = _fen(required=True)
    coupon_code = text_field(24)
    campaign_id = fields.Integer(load_default=None, allow_none=True, strict=True, validate=validate.Range(1))
    live_room_id = fields.Integer(load_default=None, allow_none=True, strict=True, validate=validate.Range(1))
    sharer_openid = text_field(64)
    guide_code = text_field(32)
    paid_at = fields.AwareDateTime(load_default=None, allow_none=True)

    @validates_schema
    def _amounts(self, data, **_kw):
        goods = sum(line["quantity"] * line["unit_fen"] for line in data["lines"])
        if data["goods_fen"] != goods:
            raise ma.ValidationError(f"goods_fen is {data['goods_fen']} but the lines add up to {goods} "
                                     "(the sum of quantity × unit_fen).", "goods_fen")
        if data["discount_fen"] + data["coupon_fen"] > goods:
            raise ma.ValidationError("discount_fen + coupon_fen is more than goods_fen.", "coupon_fen")
        expected = goods - data["discount_fen"] - data["coupon_fen"] + data["freight_fen"]
        if data["paid_fen"] != expected:
            raise ma.ValidationError(f"paid_fen is {data['paid_fen']} but goods − discount − coupon + freight "
                                     f"is {expected}.", "paid_fen")


def allocate(total: int, weights: list[int]) -> list[int]:
    """``total`` split over ``weights`` pro rata, rounded down, the remainder on the last one."""
    whole = sum(weights)
    if whole <= 0 or total <= 0:
        return [0] * len(weights)
    shares = [total * w // whole for w in weights[:-1]]
    return [*shares, total - sum(shares)]


def _goods_condition(store_id: int):
    """The store's effective goods (as portal.shelf reads them): its assortments' products and its own."""
    carried = (select(AssortmentItem.product_id)
               .join(StoreAssortment, StoreAssortment.assortment_id == AssortmentItem.assortment_id)
               .where(StoreAssortment.store_id == store_id))
    return or_(Product.store_id == store_id, and_(Product.store_id.is_(None), Product.id.in_(carried)))


@handler("order.paid", OrderPaidSchema, phase=ORDERS)
def order_paid(store, events: list[Event]) -> dict:
    """An order paid in the store's mini-program: its lines, amounts, buyer, sharer, guide,
    campaign and live room. Refused: a number the store used already (``duplicate_order``), a
    campaign not running in this store at payment, a live room the store does not carry
    (``unknown_room``, field ``data.live_room_id``)."""
    out: dict = {}
    numbers = [e.data["number"] for e in events]
    taken = set(db.session.scalars(select(Order.number).where(Order.store_id == store.id,
                                                              among(db.session, Order.number, set(numbers)))))
    # The campaigns named (to check that they run here) and the distribution plans in force over
    # the batch (the commission's), in one read: the store's joined, published ones, started last first.
    campaign_ids = {e.data["campaign_id"] for e in events if e.data["campaign_id"]}
    times = [e.data["paid_at"] or e.occurred_at for e in events]
    first, last = min(times), max(times)
    wanted = and_(Campaign.kind == commission.DISTRIBUTION, Campaign.starts_at <= last, Campaign.ends_at > first)
    campaigns = db.session.execute(
        select(Campaign.id, Campaign.kind, Campaign.name, Campaign.rules, Campaign.starts_at, Campaign.ends_at)
        .join(CampaignStore, CampaignStore.campaign_id == Campaign.id)
        .where(CampaignStore.store_id == store.id, CampaignStore.status == JOINED, Campaign.status == PUBLISHED,
               or_(Campaign.id.in_(campaign_ids), wanted) if campaign_ids else wanted)
        .order_by(Campaign.starts_at.desc(), Campaign.id.desc())).all()
    windows = {c.id: (c.starts_at, c.ends_at) for c in campaigns}
    carried = _carried_rooms(store, {e.data["live_room_id"] for e in events if e.data["live_room_id"]})
    plans = [c for c in campaigns if c.kind == commission.DISTRIBUTION and c.starts_at <= last and c.ends_at > first]
    todo: list[tuple[Event, object]] = []
    for e in events:
        d = e.data
        paid_at = d["paid_at"] or e.occurred_at
        if d["number"] in taken:
            out[e.index] = Reject("duplicate_order", "This store already has an order with this number.",
                                  "data.number")
            continue
        if d["campaign_id"]:
            window = windows.get(d["campaign_id"])
            if window is None or not (window[0] <= paid_at < window[1]):
                out[e.index] = Reject("campaign_not_running", "This campaign was not running in this store "
                                      "when the order was paid.", "data.campaign_id")
                continue
        if d["live_room_id"] and d["live_room_id"] not in carried:
            out[e.index] = Reject("unknown_room", "This store carries no live room with this id.",
                                  "data.live_room_id")
            continue
        taken.add(d["number"])
        todo.append((e, paid_at))
    if not todo:
        return out

    # SKUs: the store's goods by code (one read); HQ's direct-sale goods are shipped by HQ.
    codes = {line["sku"] for e, _t in todo for line in e.data["lines"]}
    skus = {code: (sku_id, "hq" if direct and owner is None else "store")
            for code, sku_id, direct, owner in db.session.execute(
                select(Sku.code, Sku.id, Product.direct_sale, Product.store_id)
                .join(Product, Product.id == Sku.product_id)
                .where(Sku.code.in_(codes), _goods_condition(store.id)))}

    # Buyers and sharers as members (an unknown openid creates one), then the guide binding.
    people = [members.Person(e.data["openid"], e.data["unionid"], e.data["phone"], e.data["nickname"])
              for e, _t in todo]
    people += [members.Person(e.data["sharer_openid"]) for e, _t in todo if e.data["sharer_openid"]]
    ids = members.resolve(store, people, cause="order", at=min(t for _e, t in todo))
    guides = members.guides_by_code(store, {e.data["guide_code"] for e, _t in todo if e.data["guide_code"]})
    guides = {code: getattr(g, "id", g) for code, g in guides.items()}
    members.bind(store, [(ids[e.data["openid"]], guides.get(e.data["guide_code"]), "order", t) for e, t in todo])
    named, serving, guide_rows, since = _people(
        store, {ids[e.data["openid"]] for e, _t in todo},
        {ids[e.data["sharer_openid"]] for e, _t in todo if e.data["sharer_openid"]})

    n_lines = sum(len(e.data["lines"]) for e, _t in todo)
    order_ids, line_ids = _new_ids(len(todo), n_lines)
    rows, chosen, lines, by_order = [], {}, [], {}
    for order_id, (e, paid_at) in zip(order_ids, todo, strict=True):
        d = e.data
        buyer = ids[d["openid"]]
        sharer = ids.get(d["sharer_openid"]) if d["sharer_openid"] else None
        plan = commission.plan_at(plans, paid_at)
        if plan is not None:
            chosen[order_id] = plan
        row = {"id": order_id, "store_id": store.id, "path": store.path, "number": d["number"],
               "member_id": buyer, "status": PAID, "goods_fen": d["goods_fen"], "discount_fen": d["discount_fen"],
               "coupon_fen": d["coupon_fen"], "freight_fen": d["freight_fen"], "paid_fen": d["paid_fen"],
               "refunded_fen": 0, "coupon_code": d["coupon_code"], "campaign_id": d["campaign_id"],
               "live_room_id": d["live_room_id"], "sharer_id": sharer if sharer != buyer else None,
               "guide_id": serving.get(buyer), "plan_id": plan.id if plan is not None else None,
               "paid_at": paid_at}
        rows.append(row)
        net = d["paid_fen"] - d["freight_fen"]
        bases = allocate(net, [line["quantity"] * line["unit_fen"] for line in d["lines"]])
        mine = by_order[order_id] = []
        for no, (line, base) in enumerate(zip(d["lines"], bases, strict=True), 1):
            sku_id, by = skus.get(line["sku"], (None, "store"))
            ln = {"id": next(line_ids), "order_id": order_id, "line_no": no, "sku_code": line["sku"],
                  "sku_id": sku_id, "name": line["name"] or "", "quantity": line["quantity"],
                  "unit_fen": line["unit_fen"], "paid_fen": base, "refunded_quantity": 0, "refunded_fen": 0,
                  "fulfilled_by": by}
            lines.append(ln)
            mine.append(_Row(**ln))
    bulk_insert(db.session, Order.__table__, rows)
    bulk_insert(db.session, OrderLine.__table__, lines)
    if chosen:
        commission.write([_Row(**r) for r in rows], chosen, by_order, named, guide_rows,
                         {r["id"]: since.get(r["member_id"]) for r in rows if r["guide_id"]})
    ingest.release(store, [_key(r["number"]) for r in rows])
    return out


def _carried_rooms(store, room_ids: set[int]) -> set[int]:
    """The live rooms among ``room_ids`` that the store carries (its own, or a broadcast it shows).
    The live domain sits above orders: its table is read by name from the metadata, as
    ``members.refs`` reads the tables that reference members."""
    if not room_ids:
        return set()
    carriers = db.metadata.tables["live_room_stores"]
    return set(db.session.scalars(select(carriers.c.room_id).where(carriers.c.store_id == store.id,
                                                                   carriers.c.room_id.in_(room_ids))))


def _new_ids(orders: int, lines: int) -> tuple[list[int], Iterator[int]]:
    """Fresh keys for ``orders`` orders and ``lines`` lines, in one statement on PostgreSQL."""
    if db.session.get_bind().dialect.name != "postgresql":
        return (next_ids(db.session, Order.__table__, orders),
                iter(next_ids(db.session, OrderLine.__table__, lines)))
    got = db.session.execute(text(
        "SELECT 1, nextval(pg_get_serial_sequence('orders', 'id')) FROM generate_series(1, :o) "
        "UNION ALL SELECT 2, nextval(pg_get_serial_sequence('order_lines', 'id')) FROM generate_series(1, :l)"),
        {"o": orders, "l": lines}).all()
    return sorted(k for t, k in got if t == 1), iter(sorted(k for t, k in got if t == 2))


def _people(store, buyers: set[int], sharers: set[int]):
    """After the binding, in one read: the members an order names (buyers, sharers and the
    sharers' referrers: id, nickname, referrer_id, created_at, bound_at), the guide serving each
    buyer of this store, those guides (id, name, code) and since when each serves (the open
    binding's start, else ``Member.bound_at``)."""
    cond = among(db.session, Member.id, buyers | sharers)
    if sharers:
        # One IN over a UNION (not an OR of two INs, which PostgreSQL answers with a scan of members).
        sharer = aliased(Member)
        cond = Member.id.in_(select(Member.id).where(cond).union(
            select(sharer.referrer_id).where(sharer.id.in_(sharers), sharer.referrer_id.is_not(None))))
    named, serving, guides, since = {}, {}, {}, {}
    for row in db.session.execute(
            select(Member.id, Member.store_id, Member.guide_id, Member.nickname, Member.referrer_id,
                   Member.created_at, Member.bound_at, Guide.name.label("guide_name"),
                   Guide.code.label("guide_code"), MemberBinding.started_at)
            .outerjoin(Guide, Guide.id == Member.guide_id)
            .outerjoin(MemberBinding, and_(MemberBinding.member_id == Member.id,
                                           MemberBinding.guide_id == Member.guide_id,
                                           MemberBinding.ended_at.is_(None)))
            .where(cond)):
        named[row.id] = row
        if row.id in buyers and row.store_id == store.id:
            serving[row.id] = row.guide_id
            if row.guide_id is not None:
                guides[row.guide_id] = _Row(id=row.guide_id, name=row.guide_name, code=row.guide_code)
                since[row.id] = row.started_at or row.bound_at
    return named, serving, guides, since


# --------------------------------------------------------------------------- order.refunded

class RefundItemSchema(EventData):
    sku = text_field(64)
    line_no = fields.Integer(load_default=None, allow_none=True, strict=True, validate=validate.Range(1, MAX_LINES))
    quantity = fields.Integer(required=True, strict=True, validate=validate.Range(1, MAX_QUANTITY))

    @validates_schema
    def _one_of(self, data, **_kw):
        if (data["sku"] is None) == (data["line_no"] is None):
            raise ma.ValidationError("Give either sku or line_no.", "sku")


class OrderRefundedSchema(EventData):
    number = text_field(64, required=True)
    order_number = text_field(64, required=True)
    lines = fields.List(fields.Nested(RefundItemSchema), load_default=None, allow_none=True,
                        validate=validate.Length(1, MAX_LINES))
    amount_fen = fields.Integer(load_default=None, allow_none=True, strict=True, validate=validate.Range(1, MAX_FEN))

    @validates_schema
    def _one_of(self, data, **_kw):
        if (data["lines"] is None) == (data["amount_fen"] is None):
            raise ma.ValidationError("Give either lines (with quantities) or amount_fen.", "lines")


@dataclass
class _Line:
    id: int
    line_no: int
    sku: str
    quantity: int
    paid_fen: int
    refunded_quantity: int
    refunded_fen: int

    @property
    def left_fen(self) -> int:
        return self.paid_fen - self.refunded_fen


@dataclass
class _Order:
    id: int
    paid_fen: int
    refunded_fen: int
    lines: list[_Line] = field(default_factory=list)


class _Refused(Exception):
    def __init__(self, reject: Reject):
        self.reject = reject


def _by_lines(order: _Order, items: list[dict]) -> dict[int, tuple[int, int]]:
    """{line id: (quantity, fen)} given back by ``items``, or _Refused naming the item."""
    taking: dict[int, int] = {}
    for i, item in enumerate(items):
        where = f"data.lines.{i}"
        if item["line_no"] is not None:
            matches = [ln for ln in order.lines if ln.line_no == item["line_no"]]
            where_key = f"{where}.line_no"
        else:
            matches = [ln for ln in order.lines if ln.sku == item["sku"]]
            where_key = f"{where}.sku"
        if not matches:
            raise _Refused(Reject("unknown_line", "The order has no such line.", where_key))
        # A SKU on two lines: the first with quantity left.
        line = next((ln for ln in matches if ln.quantity - ln.refunded_quantity - taking.get(ln.id, 0) > 0),
                    matches[0])
        left = line.quantity - line.refunded_quantity - taking.get(line.id, 0)
        if item["quantity"] > left:
            raise _Refused(Reject("over_refund", f"Only {left} of this line can still be refunded.",
                                  f"{where}.quantity"))
        taking[line.id] = taking.get(line.id, 0) + item["quantity"]
    out = {}
    for line in order.lines:
        q = taking.get(line.id)
        if not q:
            continue
        if line.refunded_quantity + q == line.quantity:
            fen = line.left_fen                        # the last units take what is left
        else:
            fen = min(line.left_fen, line.paid_fen * q // line.quantity)
        out[line.id] = (q, fen)
    return out


def _by_amount(order: _Order, amount: int) -> dict[int, tuple[int, int]]:
    """{line id: (0, fen)}: ``amount`` spread over the lines pro rata to what is left of each
    (rounded down, the odd fen to the first lines with room); beyond the lines it is freight."""
    left = order.paid_fen - order.refunded_fen
    if amount > left:
        raise _Refused(Reject("over_refund", f"Only {left} fen of this order can still be refunded.",
                              "data.amount_fen"))
    open_lines = [ln for ln in order.lines if ln.left_fen > 0]
    room = sum(ln.left_fen for ln in open_lines)
    to_lines = min(amount, room)
    if not to_lines:
        return {}
    shares = {ln.id: to_lines * ln.left_fen // room for ln in open_lines}
    rest = to_lines - sum(shares.values())
    for ln in open_lines:
        if not rest:
            break
        more = min(rest, ln.left_fen - shares[ln.id])
        shares[ln.id] += more
        rest -= more
    return {line_id: (0, fen) for line_id, fen in shares.items() if fen}


@handler("order.refunded", OrderRefundedSchema, phase=REFUNDS)
def order_refunded(store, events: list[Event]) -> dict:
    """A refund of some lines (quantities) or of an amount of an order; held until its order arrives."""
    out: dict = {}
    taken = set(db.session.scalars(select(Refund.number).where(
        Refund.store_id == store.id, among(db.session, Refund.number, {e.data["number"] for e in events}))))
    wanted = {e.data["order_number"] for e in events}
    orders: dict[str, _Order] = {}
    for row in db.session.execute(          # the orders with their lines, in one read
            select(Order.id, Order.number, Order.paid_fen, Order.refunded_fen, OrderLine.id, OrderLine.line_no,
                   OrderLine.sku_code, OrderLine.quantity, OrderLine.paid_fen, OrderLine.refunded_quantity,
                   OrderLine.refunded_fen)
            .join(OrderLine, OrderLine.order_id == Order.id)
            .where(Order.store_id == store.id, among(db.session, Order.number, wanted))
            .order_by(Order.id, OrderLine.line_no)):
        order = orders.get(row[1])
        if order is None:
            order = orders[row[1]] = _Order(row[0], row[2], row[3])
        order.lines.append(_Line(*row[4:]))

    refunds, refund_lines = [], []
    touched_lines: dict[int, _Line] = {}
    touched_orders: dict[int, _Order] = {}
    for e in events:
        d = e.data
        if d["number"] in taken:
            out[e.index] = Reject("duplicate_refund", "This store already has a refund with this number.",
                                  "data.number")
            continue
        order = orders.get(d["order_number"])
        if order is None:
            out[e.index] = Held(_key(d["order_number"]))
            continue
        try:
            given = _by_lines(order, d["lines"]) if d["lines"] is not None else _by_amount(order, d["amount_fen"])
        except _Refused as exc:
            out[e.index] = exc.reject
            continue
        amount = d["amount_fen"] if d["amount_fen"] is not None else sum(fen for _q, fen in given.values())
        if amount <= 0:
            out[e.index] = Reject("nothing_to_refund", "These lines were paid nothing: there is nothing to refund.",
                                  "data.lines")
            continue
        taken.add(d["number"])
        lines = {ln.id: ln for ln in order.lines}
        for line_id, (q, fen) in given.items():
            line = lines[line_id]
            line.refunded_quantity += q
            line.refunded_fen += fen
            touched_lines[line_id] = line
        order.refunded_fen += amount
        touched_orders[order.id] = order
        refunds.append({"id": None, "store_id": store.id, "order_id": order.id, "number": d["number"],
                        "amount_fen": amount, "refunded_at": e.occurred_at})
        refund_lines.append(given)
    if not refunds:
        return out

    for row, refund_id in zip(refunds, next_ids(db.session, Refund.__table__, len(refunds)), strict=True):
        row["id"] = refund_id
    bulk_insert(db.session, Refund.__table__, refunds)
    rows = [{"refund_id": row["id"], "line_id": line_id, "quantity": q, "amount_fen": fen}
            for row, given in zip(refunds, refund_lines, strict=True) for line_id, (q, fen) in given.items()]
    if rows:
        bulk_insert(db.session, RefundLine.__table__, rows)
        bulk_update(db.session, OrderLine.__table__, [
            {"id": ln.id, "refunded_quantity": ln.refunded_quantity, "refunded_fen": ln.refunded_fen}
            for ln in touched_lines.values()])
    bulk_update(db.session, Order.__table__, [
        {"id": o.id, "refunded_fen": o.refunded_fen, "status": _status(o)} for o in touched_orders.values()])
    # A bulk update by key leaves the session's copies as they were (an order a caller loaded
    # earlier in the transaction); let them be read again.
    for model, ids in ((Order, touched_orders), (OrderLine, touched_lines)):
        for key in ids:
            obj = db.session.identity_map.get(identity_key(model, key))
            if obj is not None:
                db.session.expire(obj)
    # The ledger: each line touched, with the refund of the batch that touched it last.
    last_refund: dict[int, _Row] = {}
    for row, given in zip(refunds, refund_lines, strict=True):
        refund = _Row(**row)
        for line_id in given:
            current = last_refund.get(line_id)
            if current is None or (refund.refunded_at, refund.id) > (current.refunded_at, current.id):
                last_refund[line_id] = refund
    commission.reverse_lines(last_refund, {line_id: touched_lines[line_id].refunded_fen for line_id in last_refund})
    return out

def _status(order: _Order) -> str:
    if order.refunded_fen >= order.paid_fen or (
            order.lines and all(ln.refunded_quantity == ln.quantity for ln in order.lines)):
        return REFUNDED
    return PARTLY_REFUNDED if order.refunded_fen else PAID


# --------------------------------------------------------------------------- coupon.redeemed

class CouponRedeemedSchema(EventData):
    code = text_field(24, required=True)
    openid = text_field(64, required=True)
    order_number = text_field(64)


@handler("coupon.redeemed", CouponRedeemedSchema, phase=COUPONS)
def coupon_redeemed(store, events: list[Event]) -> dict:
    """A coupon claimed in this store was used (on an order, when the number is given)."""
    out: dict = {}
    claims = {code: (cid, redeemed) for cid, code, redeemed in db.session.execute(
        select(CouponClaim.id, CouponClaim.code, CouponClaim.redeemed_at)
        .where(CouponClaim.store_id == store.id, CouponClaim.code.in_({e.data["code"] for e in events})))}
    numbers = {e.data["order_number"] for e in events if e.data["order_number"]}
    order_ids = dict(db.session.execute(select(Order.number, Order.id).where(
        Order.store_id == store.id, Order.number.in_(numbers))).all()) if numbers else {}
    used = {code for code, (_cid, redeemed) in claims.items() if redeemed is not None}
    rows = []
    for e in events:
        d = e.data
        if d["code"] not in claims:
            out[e.index] = Reject("unknown_coupon", "No coupon with this code was claimed in this store.", "data.code")
        elif d["code"] in used:
            out[e.index] = Reject("already_redeemed", "This coupon was already used.", "data.code")
        elif d["order_number"] and d["order_number"] not in order_ids:
            out[e.index] = Held(_key(d["order_number"]))
        else:
            used.add(d["code"])
            rows.append({"id": claims[d["code"]][0], "redeemed_at": e.occurred_at,
                         "order_id": order_ids.get(d["order_number"])})
    if rows:
        bulk_update(db.session, CouponClaim.__table__, rows)
    return out


__all__ = ["CouponRedeemedSchema", "OrderPaidSchema", "OrderRefundedSchema", "PaidLines", "allocate", "coupon_redeemed",
           "order_paid", "order_refunded"]
