"""What HQ's price changes do to the stores' shelves: the stores whose price moves are told (a
notice), and store prices outside new bounds are clamped into them. Set-based: one statement per
SKU whatever the number of stores."""
from __future__ import annotations

from sqlalchemy import JSON, String, and_, case, false, func, insert, literal, or_, select, union, update

from portal.assortments.models import AssortmentItem, StoreAssortment
from portal.extensions import db
from portal.goods.models import Product, Sku
from portal.goods.services import SkuData, price_change_asked, sku_repriced
from portal.kernel.time import UTCDateTime, utcnow
from portal.org.models import Store
from portal.shelf import notices
from portal.shelf.models import Listing, StoreNotice

NOTICE_PRICE_CLAMPED = "price_clamped"
NOTICE_PRICE_CHANGED = "price_changed"


def _carriers(product_id: int):
    """Stores that carry ``product_id`` through an assortment pushed to them."""
    return (select(StoreAssortment.store_id)
            .join(AssortmentItem, AssortmentItem.assortment_id == StoreAssortment.assortment_id)
            .where(AssortmentItem.product_id == product_id))


def _price_moves(product: Product, sku_id: int, *, old_list: int, new_list: int, lo: int, hi: int):
    """(store_id, code) of every store whose price of the SKU moves when HQ gives it list price
    ``new_list`` (was ``old_list``) and bounds [lo, hi]: a store with a price of its own outside
    them is clamped (code ``price_raised`` / ``price_lowered``); a store that sells the SKU at HQ's
    price (no price of its own) follows a list price change (``price_followed``). One SELECT."""
    own = Listing.price
    below = and_(own.is_not(None), own < lo)
    above = and_(own.is_not(None), own > hi)
    follows = (and_(own.is_(None), Store.id.in_(_carriers(product.id)))
               if new_list != old_list and not product.archived else false())
    code = case((below, literal(notices.PRICE_RAISED, String)), (above, literal(notices.PRICE_LOWERED, String)),
                else_=literal(notices.PRICE_FOLLOWED, String))
    return (select(Store.id.label("store_id"), code.label("code")).select_from(Store)
            .outerjoin(Listing, and_(Listing.store_id == Store.id, Listing.sku_id == sku_id))
            .where(or_(below, above, follows)))


def price_change_reach(product: Product, skus: list[SkuData]) -> int:
    """How many stores' prices saving ``skus`` (the edit form's rows) would change: stores selling
    a SKU at HQ's price whose list price changes, and stores whose own price gets clamped into new
    bounds. Each store counts once, whatever the number of SKUs; one COUNT query."""
    current = {s.id: s for s in product.skus}
    moves = []
    for s in skus:
        sku = current.get(s.id)
        if sku is None or (s.list_price, s.price_floor, s.price_ceiling) == (
                sku.list_price, sku.price_floor, sku.price_ceiling):
            continue
        moves.append(_price_moves(product, sku.id, old_list=sku.list_price, new_list=s.list_price,
                                  lo=s.price_floor, hi=s.price_ceiling).with_only_columns(Store.id))
    if not moves:
        return 0
    stores = union(*moves).subquery() if len(moves) > 1 else moves[0].distinct().subquery()
    return db.session.scalar(select(func.count()).select_from(stores)) or 0


def clamp_listings(product: Product, sku: Sku, *, old_list_price: int | None = None) -> int:
    """After HQ changed ``sku``'s prices (its list price was ``old_list_price``), tell every store
    whose price moves, and move the store prices now outside the bounds to the nearest bound: one
    INSERT … SELECT of notices (see ``_price_moves``) and one UPDATE, whatever the number of
    stores. The notices are stored as codes with parameters (amounts in fen) and are worded in
    the reader's language when shown. Returns the number of listings clamped."""
    lo, hi = sku.price_floor, sku.price_ceiling
    old = sku.list_price if old_list_price is None else old_list_price
    moves = _price_moves(product, sku.id, old_list=old, new_list=sku.list_price, lo=lo, hi=hi).subquery()
    label = f"{product.name}（{sku.code}）" if sku.spec else product.name
    params = {"product": label, "old_price_fen": old, "price_fen": sku.list_price, "floor_fen": lo, "ceiling_fen": hi}
    details = {"product_id": product.id, "product_code": product.code, "sku_id": sku.id, "sku_code": sku.code,
               "list_price": sku.list_price, "price_floor": lo, "price_ceiling": hi}
    kind = case((moves.c.code == notices.PRICE_FOLLOWED, literal(NOTICE_PRICE_CHANGED, String)),
                else_=literal(NOTICE_PRICE_CLAMPED, String))
    result = db.session.execute(insert(StoreNotice).from_select(
        ["store_id", "kind", "code", "params", "details", "created_at"],
        select(moves.c.store_id, kind, moves.c.code, literal(params, JSON), literal(details, JSON),
               literal(utcnow(), UTCDateTime()))))
    if not result.rowcount:
        return 0
    outside = and_(Listing.sku_id == sku.id, Listing.price.is_not(None), or_(Listing.price < lo, Listing.price > hi))
    clamped = db.session.execute(
        update(Listing).where(outside)
        .values(price=case((Listing.price < lo, lo), else_=hi), updated_at=utcnow())
        .execution_options(synchronize_session=False))
    return clamped.rowcount


@sku_repriced.connect
def _on_repriced(product: Product, *, sku: Sku, old_list_price: int) -> int:
    return clamp_listings(product, sku, old_list_price=old_list_price)


@price_change_asked.connect
def _on_asked(product: Product, *, skus: list[SkuData]) -> int:
    return price_change_reach(product, skus)
