"""The shelf's answer to a page preview (``portal.decoration.preview``): the store's goods on
its shelf at its own prices, for every goods grid of the page, in ONE statement."""
from __future__ import annotations

from sqlalchemy import and_, func, literal, or_, select, union_all
from sqlalchemy.orm import aliased

from portal.decoration.preview import GoodsRequest, PreviewGood, register_goods_source
from portal.extensions import db
from portal.goods.models import Product, ProductImage, Sku
from portal.shelf.models import Listing
from portal.shelf.services import _goods_condition, _price_expr


def goods_for_preview(store_id: int, ask: GoodsRequest) -> tuple[dict[str, list[PreviewGood]], dict[str, PreviewGood]]:
    """(category → its first goods, code lower-cased → good) of what the store sells on its
    shelf, as ``goods_page`` prices them (its listing's price clamped into the SKU's bounds).

    One product is one good, shown by its cheapest SKU, except a SKU named by its own code. The
    categories' goods come ``ask.per_category`` at most each (a window per category), the named
    ones all: one UNION ALL of the two, one statement whatever the number of grids."""
    if not ask.categories and not ask.codes:
        return {}, {}
    wanted = sorted({c.lower() for c in ask.codes})
    named_sku = aliased(Sku)
    picked = or_(func.lower(Product.code).in_(wanted),
                 Product.id.in_(select(named_sku.product_id).where(func.lower(named_sku.code).in_(wanted))))
    price = _price_expr()
    thumb = (select(ProductImage.thumb).where(ProductImage.product_id == Product.id)
             .order_by(ProductImage.position, ProductImage.id).limit(1).scalar_subquery())
    rows = (select(Product.code.label("product_code"), Product.name, Product.category, Sku.code.label("sku_code"),
                   Sku.spec, price.label("price"), Sku.list_price, thumb.label("thumb"),
                   func.row_number().over(partition_by=Product.id, order_by=(price, Sku.id)).label("rn"))
            .select_from(Product).join(Sku, Sku.product_id == Product.id)
            .outerjoin(Listing, and_(Listing.sku_id == Sku.id, Listing.store_id == store_id))
            .where(_goods_condition(store_id), func.coalesce(Listing.on_shelf, True).is_(True),
                   or_(Product.category.in_(sorted(ask.categories)), picked) if wanted
                   else Product.category.in_(sorted(ask.categories)))
            .subquery())
    cols = [rows.c.product_code, rows.c.name, rows.c.category, rows.c.sku_code, rows.c.spec, rows.c.price,
            rows.c.list_price, rows.c.thumb, rows.c.rn]
    cheapest = (select(*cols, func.row_number().over(partition_by=rows.c.category,
                                                     order_by=(rows.c.product_code,)).label("nth"))
                .where(rows.c.rn == 1, rows.c.category.in_(sorted(ask.categories))).subquery())
    parts = [select(*[cheapest.c[c.name] for c in cols], literal("category").label("why"))
             .where(cheapest.c.nth <= ask.per_category)]
    if wanted:
        parts.append(select(*cols, literal("named").label("why"))
                     .where(or_(func.lower(rows.c.product_code).in_(wanted), func.lower(rows.c.sku_code).in_(wanted))))
    by_category: dict[str, list[PreviewGood]] = {}
    by_code: dict[str, PreviewGood] = {}
    result = db.session.execute(union_all(*parts) if len(parts) > 1 else parts[0]).all()
    for r in sorted(result, key=lambda r: (r.category, r.product_code, r.rn)):
        good = PreviewGood(r.sku_code, r.name, " / ".join(str(v) for v in (r.spec or {}).values()), r.price,
                           r.list_price, r.thumb)
        if r.why == "category":
            by_category.setdefault(r.category, []).append(good)
        else:
            by_code.setdefault(r.sku_code.lower(), good)
            if r.rn == 1:
                by_code.setdefault(r.product_code.lower(), good)
    return by_category, by_code


register_goods_source(goods_for_preview)
