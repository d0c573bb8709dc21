"""A store's shelf: its effective goods, the listings it changes, its own local goods and the
notices HQ's price changes leave it.

A store's effective goods = the SKUs of the (not archived) products of every assortment it
carries + its own local products. Each SKU shows the store's price (its listing's price, else the
list price, always clamped into the SKU's current bounds), its stock (None: not tracked) and
whether it is on the shelf (True unless a listing says otherwise). A page of them is ONE query:
products ⋈ SKUs ⟕ the store's listings, the total counted by a window over the same rows.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import and_, case, func, or_, select, update

from portal.assortments.models import AssortmentItem, StoreAssortment
from portal.audit import services as audit
from portal.extensions import db
from portal.goods.models import Product, ProductImage, Sku
from portal.kernel.errors import RuleError
from portal.kernel.money import MAX_FEN, format_yuan, yuan_text
from portal.kernel.paging import page_count
from portal.kernel.sql import insert_missing
from portal.kernel.time import utcnow
from portal.org.models import Store, User
from portal.org.scope import Scope
from portal.shelf.models import Listing, StoreNotice

SHELF_FILTERS = ("on", "off")
LOCAL_CEILING = MAX_FEN               # fen: a store's own goods are bounded by the portal's one ceiling


# --------------------------------------------------------------------------- money



# --------------------------------------------------------------------------- effective goods

def _carried(store_id: int):
    """Products of the assortments the store carries."""
    return (select(AssortmentItem.product_id)
            .join(StoreAssortment, StoreAssortment.assortment_id == AssortmentItem.assortment_id)
            .where(StoreAssortment.store_id == store_id))


def _goods_condition(store_id: int):
    return and_(Product.archived.is_(False),
                or_(Product.store_id == store_id,
                    and_(Product.store_id.is_(None), Product.id.in_(_carried(store_id)))))


def effective_products(store_id: int):
    """The condition for the products of a store's effective goods (its assortments' products and
    its own local goods, none archived): what a store's live room may show."""
    return _goods_condition(store_id)


def _price_expr():
    raw = func.coalesce(Listing.price, Sku.list_price)
    # Clamp on read too: bounds HQ changed since the store set its price win.
    return case((raw < Sku.price_floor, Sku.price_floor), (raw > Sku.price_ceiling, Sku.price_ceiling), else_=raw)


@dataclass
class Good:
    sku_id: int
    sku_code: str
    spec: dict
    product_id: int
    product_code: str
    name: str
    category: str
    local: bool
    price: int
    list_price: int
    floor: int
    ceiling: int
    stock: int | None
    on_shelf: bool
    changed: bool          # the store has a listing row for it
    thumb: str | None = None
    own_price: int | None = None     # the store's own price; None: it follows HQ's list price

    @property
    def follows_hq(self) -> bool:
        """The store sells it at HQ's list price, and will follow HQ's next change of it."""
        return not self.local and self.own_price is None

    @property
    def spec_text(self) -> str:
        return " / ".join(str(v) for v in (self.spec or {}).values())


@dataclass
class GoodsPage:
    goods: list[Good]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return page_count(self.total, self.per_page)


def goods_page(store_id: int, *, page: int = 1, per_page: int = 50, category: str = "", q: str = "",
               shelf: str = "", with_thumbs: bool = False) -> GoodsPage:
    """One page of the store's effective goods, in ONE query (its total by a window count)."""
    price = _price_expr().label("price")
    on_shelf = func.coalesce(Listing.on_shelf, True)
    columns = [Sku.id, Sku.code, Sku.spec, Product.id, Product.code, Product.name, Product.category,
               Product.store_id, price, Sku.list_price, Sku.price_floor, Sku.price_ceiling, Listing.stock,
               on_shelf.label("on_shelf"), Listing.id.label("listing_id"), Listing.price.label("own_price"),
               func.count().over().label("total")]
    if with_thumbs:
        columns.append(select(ProductImage.thumb).where(ProductImage.product_id == Product.id)
                       .order_by(ProductImage.position, ProductImage.id).limit(1).scalar_subquery().label("thumb"))
    stmt = (select(*columns).select_from(Product).join(Sku, Sku.product_id == Product.id)
            .outerjoin(Listing, and_(Listing.sku_id == Sku.id, Listing.store_id == store_id))
            .where(_goods_condition(store_id)))
    if category:
        stmt = stmt.where(Product.category == category)
    if q:
        like = f"%{q}%"
        stmt = stmt.where(or_(Product.name.like(like), Product.code.ilike(like), Sku.code.ilike(like)))
    if shelf == "on":
        stmt = stmt.where(on_shelf.is_(True))
    elif shelf == "off":
        stmt = stmt.where(on_shelf.is_(False))
    page = max(1, page)
    rows = db.session.execute(stmt.order_by(Product.category, Product.code, Sku.id)
                              .limit(per_page).offset((page - 1) * per_page)).all()
    total = rows[0].total if rows else (_count(stmt) if page > 1 else 0)
    goods = [Good(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7] is not None, r.price, r[9], r[10], r[11], r[12],
                  bool(r.on_shelf), r.listing_id is not None, r.thumb if with_thumbs else None, r.own_price)
             for r in rows]
    return GoodsPage(goods, total, page, per_page)


def goods_version(store_id: int) -> tuple:
    """A cheap version of the store's effective goods, for the goods API's ETag: ONE query of
    aggregates over the same rows as ``goods_page`` (no sort, no page, no thumbnails built).

    It moves with everything a page of goods shows: which goods the store carries (assortments
    pushed or rolled back, items added or removed, products archived, its own goods: the count
    and the id sums of the SKU rows), a product's code, name or category (``products.updated_at``),
    a SKU's code, spec or prices (``skus.updated_at``), the store's prices, stock and shelf
    (its listings' count and latest ``updated_at``) and the thumbnails (pictures' count and ids).
    The store's own row (its name) is the caller's to add."""
    goods_products = select(Product.id).where(_goods_condition(store_id))
    own = Listing.store_id == store_id
    pictures = ProductImage.product_id.in_(goods_products)
    row = db.session.execute(
        select(func.count(), func.sum(Sku.id), func.sum(Sku.id * Sku.id), func.max(Product.updated_at),
               func.max(Sku.updated_at),
               select(func.count(Listing.id)).where(own).scalar_subquery(),
               select(func.max(Listing.updated_at)).where(own).scalar_subquery(),
               select(func.count(ProductImage.id)).where(pictures).scalar_subquery(),
               select(func.sum(ProductImage.id)).where(pictures).scalar_subquery())
        .select_from(Product).join(Sku, Sku.product_id == Product.id)
        .where(_goods_condition(store_id))).one()
    return tuple(row)


def _count(stmt) -> int:
    """Only for a page past the end: how many there are, to say so."""
    return db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))


def categories(store_id: int) -> list[str]:
    return list(db.session.scalars(
        select(Product.category).where(_goods_condition(store_id)).distinct().order_by(Product.category)))


def good_or_none(store_id: int, sku_id: int) -> Good | None:
    """One SKU of the store's effective goods (None when the store does not sell it)."""
    price = _price_expr().label("price")
    r = db.session.execute(
        select(Sku.id, Sku.code, Sku.spec, Product.id, Product.code, Product.name, Product.category,
               Product.store_id, price, Sku.list_price, Sku.price_floor, Sku.price_ceiling, Listing.stock,
               func.coalesce(Listing.on_shelf, True).label("on_shelf"), Listing.id.label("listing_id"),
               Listing.price.label("own_price"))
        .select_from(Product).join(Sku, Sku.product_id == Product.id)
        .outerjoin(Listing, and_(Listing.sku_id == Sku.id, Listing.store_id == store_id))
        .where(Sku.id == sku_id, _goods_condition(store_id))).first()
    if r is None:
        return None
    return Good(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7] is not None, r.price, r[9], r[10], r[11], r[12],
                bool(r.on_shelf), r.listing_id is not None, own_price=r.own_price)


# --------------------------------------------------------------------------- listings

def _upsert(store: Store, sku_id: int, **values) -> Listing:
    mine = select(Listing).where(Listing.store_id == store.id, Listing.sku_id == sku_id)
    listing = db.session.scalar(mine)
    if listing is None:
        # A second click that inserted the row first makes this insert nothing: write over it.
        insert_missing(db.session, Listing, store_id=store.id, sku_id=sku_id, on_shelf=True, updated_at=utcnow())
        listing = db.session.scalar(mine)
    for key, value in values.items():
        setattr(listing, key, value)
    db.session.flush()
    return listing


def save_listing(scope: Scope, store: Store, good: Good, *, price: int | None, stock: int | None,
                 actor: User) -> None:
    """The store's price (None: follow HQ's list price, now and after HQ changes it) and stock
    (None: not tracked) for one SKU. A local SKU's price is its own: it is written on the SKU
    itself (None leaves it as it is)."""
    if price is not None and not good.local and not good.floor <= price <= good.ceiling:
        raise RuleError(_("The price must be between %(lo)s and %(hi)s.", lo=format_yuan(good.floor),
                          hi=format_yuan(good.ceiling)), "price")
    if stock is not None and stock < 0:
        raise RuleError(_("Stock cannot be negative."), "stock")
    if good.local:
        if price is not None:
            db.session.execute(update(Sku).where(Sku.id == good.sku_id).values(
                list_price=price, price_floor=0, price_ceiling=max(price, LOCAL_CEILING)))
        _upsert(store, good.sku_id, stock=stock)
    else:
        _upsert(store, good.sku_id, price=price, stock=stock)
    audit.record(actor, "listing.update", "store", store.id, f"{good.name} ({good.sku_code})", store.path,
                 {"price": yuan_text(price) if price is not None else None, "stock": stock})


def set_on_shelf(scope: Scope, store: Store, good: Good, on_shelf: bool, *, actor: User) -> None:
    _upsert(store, good.sku_id, on_shelf=on_shelf)
    audit.record(actor, "listing.update", "store", store.id, f"{good.name} ({good.sku_code})", store.path,
                 {"on_shelf": on_shelf})


# --------------------------------------------------------------------------- notices

def unread_notices(store_id: int, limit: int = 20) -> list[StoreNotice]:
    return list(db.session.scalars(
        select(StoreNotice).where(StoreNotice.store_id == store_id, StoreNotice.read_at.is_(None))
        .order_by(StoreNotice.created_at.desc(), StoreNotice.id.desc()).limit(limit)))


def mark_notices_read(store: Store) -> int:
    result = db.session.execute(update(StoreNotice).where(StoreNotice.store_id == store.id,
                                                          StoreNotice.read_at.is_(None)).values(read_at=utcnow()))
    return result.rowcount or 0


# --------------------------------------------------------------------------- local goods

def local_product_or_none(store: Store, product_id: int) -> Product | None:
    return db.session.scalar(select(Product).where(Product.id == product_id, Product.store_id == store.id))


def _next_code(prefix: str, model, column) -> str:
    n = db.session.scalar(select(func.count()).select_from(model)) + 1
    while db.session.scalar(select(model.id).where(column == f"{prefix}{n}")) is not None:
        n += 1
    return f"{prefix}{n}"


def save_local_product(scope: Scope, store: Store, product: Product | None, *, name: str, category: str,
                       description: str, skus: list[tuple[str, int]], actor: User) -> Product:
    """Create or edit one of the store's own products. ``skus``: (spec text, price in fen)."""
    if not skus:
        raise RuleError(_("Add at least one specification with a price."), "skus")
    creating = product is None
    if creating:
        product = Product(code=_next_code(f"L{store.code}-", Product, Product.code), path=store.path,
                          store_id=store.id, direct_sale=False)
        db.session.add(product)
    product.name, product.category, product.description = name, category, description or ""
    db.session.flush()
    existing = list(product.skus)
    for i, (spec, price) in enumerate(skus):
        values = dict(spec={"规格": spec} if spec else {}, list_price=price, price_floor=0,
                      price_ceiling=max(price, LOCAL_CEILING))
        if i < len(existing):
            for k, v in values.items():
                setattr(existing[i], k, v)
        else:
            product.skus.append(Sku(code=f"{product.code}-{i + 1}", **values))
    for extra in existing[len(skus):]:
        product.skus.remove(extra)
    db.session.flush()
    audit.record(actor, "local_product.save", "product", product.id,
                 f"{product.name} ({product.code})", store.path, {"local": True})
    return product


# --------------------------------------------------------------------------- prices of picked products

@dataclass
class ProductPrice:
    product_id: int
    price: int              # fen: the lowest of its SKUs' prices in the store (listing, else list price; clamped)
    list_price: int         # fen: the lowest of its SKUs' list prices
    skus: int


def product_prices(store_id: int, product_ids) -> dict[int, ProductPrice]:
    """Each product's price in the store as the goods API shows its SKUs (the store's listing
    price, else the list price, clamped into the SKU's bounds), "from" the lowest SKU: ONE
    statement. For goods a page picked (a live room's shelf), whether or not the store carries
    them: a broadcast shows HQ's goods in every carrying store at that store's price."""
    ids = sorted({int(i) for i in product_ids})
    if not ids:
        return {}
    rows = db.session.execute(
        select(Sku.product_id, func.min(_price_expr()), func.min(Sku.list_price), func.count(Sku.id))
        .select_from(Sku)
        .outerjoin(Listing, and_(Listing.sku_id == Sku.id, Listing.store_id == store_id))
        .where(Sku.product_id.in_(ids)).group_by(Sku.product_id)).all()
    return {pid: ProductPrice(pid, price, list_price, n) for pid, price, list_price, n in rows}
