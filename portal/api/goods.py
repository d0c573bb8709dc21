"""``GET /api/v1/stores/<code>/goods``: a page of the store's goods on the shelf.

The ETag is made of ``shelf.goods_version`` (one query of aggregates) and the request's page,
so a 304 never runs the page query."""
from __future__ import annotations

import marshmallow as ma

from portal.api.auth import current_store
from portal.api.conditional import conditional
from portal.api.schemas import ETAG_HEADER, StoreRefSchema
from portal.api.spec import ApiBlueprint
from portal.goods.services import thumb_path
from portal.kernel.ids import MAX_PAGE, parse_page
from portal.kernel.money import yuan_text
from portal.shelf import services as shelf

bp = ApiBlueprint("api_goods", __name__, url_prefix="/api/v1", description="The store's goods")

GOODS_FORMAT = "goods-v1"
PER_PAGE, MAX_PER_PAGE = 50, 200


class PageNumber(ma.fields.Integer):
    """A page number read as the portal's lists read it: junk or out of range is the default
    (a mini-program that sends ``page=abc`` gets the first page, as it always has)."""

    def _deserialize(self, value, attr, data, **kwargs):
        return parse_page(value, self.load_default)


class GoodsQuerySchema(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE

    page = PageNumber(load_default=1, metadata={"minimum": 1, "maximum": MAX_PAGE})
    per_page = PageNumber(load_default=PER_PAGE, metadata={
        "minimum": 1, "description": f"Goods per page; more than {MAX_PER_PAGE} gives {MAX_PER_PAGE}."})
    category = ma.fields.String(load_default="", metadata={"description": "Only this category."})


class GoodSchema(ma.Schema):
    sku = ma.fields.String(required=True, attribute="sku_code")
    product = ma.fields.String(required=True, attribute="product_code")
    name = ma.fields.String(required=True)
    category = ma.fields.String(required=True)
    spec = ma.fields.Function(lambda g: g.spec or {}, required=True, metadata={"type": "object"})
    local = ma.fields.Boolean(required=True, metadata={"description": "The store's own product, not HQ's."})
    price = ma.fields.Function(lambda g: yuan_text(g.price), required=True,
                               metadata={"type": "string", "description": "Yuan, as text: \"19.90\"."})
    price_fen = ma.fields.Integer(required=True, attribute="price")
    list_price = ma.fields.Function(lambda g: yuan_text(g.list_price), required=True, metadata={"type": "string"})
    list_price_fen = ma.fields.Integer(required=True, attribute="list_price")
    stock = ma.fields.Integer(allow_none=True, required=True, metadata={"description": "null: not tracked."})
    thumbnail = ma.fields.Function(lambda g: thumb_path(g.thumb), required=True,
                                   allow_none=True, metadata={"type": "string"})


class GoodsPageSchema(ma.Schema):
    store = ma.fields.Nested(StoreRefSchema, required=True)
    page = ma.fields.Integer(required=True)
    per_page = ma.fields.Integer(required=True)
    total = ma.fields.Integer(required=True)
    pages = ma.fields.Integer(required=True)
    category = ma.fields.String(allow_none=True, required=True)
    goods = ma.fields.List(ma.fields.Nested(GoodSchema), required=True)


@bp.route("/stores/<code>/goods", endpoint="list_goods")
@bp.arguments(GoodsQuerySchema, location="query", as_kwargs=True)
@bp.response(200, GoodsPageSchema, headers=ETAG_HEADER)
@bp.alt_response(304, description="Not modified: the copy the mini-program holds is current.")
def list_goods(code: str, page: int, per_page: int, category: str):
    """A page of the store's goods on the shelf, with its prices and stock"""
    store = current_store()
    per_page = min(MAX_PER_PAGE, per_page)
    category = category.strip()[:50]

    def body():
        result = shelf.goods_page(store.id, page=page, per_page=per_page, category=category, shelf="on",
                                  with_thumbs=True)
        return GoodsPageSchema().dump({
            "store": store, "page": result.page, "per_page": result.per_page, "total": result.total,
            "pages": result.pages, "category": category or None, "goods": result.goods})

    version = (GOODS_FORMAT, store.id, store.code, store.updated_at, shelf.goods_version(store.id),
               page, per_page, category)
    return conditional(version, body)
