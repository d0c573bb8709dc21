"""A page preview with a store's real data: the goods, prices and coupons its blocks show, as its
mini-program shows them (the goods and campaigns APIs read the same services).

Decoration sits below the shelf and the campaigns, so it knows neither: each registers a source
at set-up (``portal.shelf.preview``, ``portal.campaigns.preview``, imported by the app factory)
and this module asks them. A source answers for all the page's blocks at once, in a fixed number
of statements (one each), whatever the number of blocks; without a store (HQ's editor before it
picks a sample store) nothing is asked and the preview draws placeholders.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from portal.decoration.blocks import codes
from portal.org.models import Store

# How many goods and coupons the phone preview draws per block (the mini-program scrolls on).
COUPONS_SHOWN = 3


def goods_shown(data: dict) -> int:
    """A goods grid shows two rows of its columns in the preview, never more than its limit."""
    cols = int(data.get("columns") or 2)
    return max(1, min(int(data.get("limit") or 6), cols * 2))


def coupons_shown(data: dict) -> int:
    return max(1, min(int(data.get("limit") or 3), COUPONS_SHOWN))


@dataclass
class PreviewGood:
    sku: str
    name: str
    spec: str
    price: int                    # fen: the store's price on its shelf
    list_price: int
    thumb: str | None = None
    promo: str | None = None      # a running campaign's label ("秒杀") on this SKU…
    promo_price: int | None = None  # …and its price


@dataclass
class PreviewCoupon:
    id: int
    name: str
    discount: str                 # "amount" or "percent"
    amount: int | None            # fen
    percent: int | None
    threshold: int                # fen, 0: no minimum


@dataclass
class GoodsRequest:
    """What the page's goods grids ask for: categories, codes (product or SKU), how many each."""

    categories: set[str] = field(default_factory=set)
    codes: list[str] = field(default_factory=list)
    per_category: int = 0


@dataclass
class PreviewData:
    store: Store | None
    goods: dict[str, list[PreviewGood]] = field(default_factory=dict)     # block key → goods shown
    coupons: dict[str, list[PreviewCoupon]] = field(default_factory=dict)  # block key → coupons shown
    promos: dict[str, tuple[str, int]] = field(default_factory=dict)      # SKU code → (label, price)

    @property
    def real(self) -> bool:
        return self.store is not None


# Registered at set-up by the domains above: (store_id, GoodsRequest) → (by category, by code
# lower-cased), and store_id → (running coupons, promos by SKU code).
GoodsSource = Callable[[int, GoodsRequest], tuple[dict[str, list[PreviewGood]], dict[str, PreviewGood]]]
CampaignSource = Callable[[int], tuple[list[PreviewCoupon], dict[str, tuple[str, int]]]]
_sources: dict[str, Callable] = {}


def register_goods_source(source: GoodsSource) -> None:
    _sources["goods"] = source


def register_campaign_source(source: CampaignSource) -> None:
    _sources["campaigns"] = source


def preview_data(store: Store | None, blocks: list[dict]) -> PreviewData:
    """What the blocks of a page show in ``store``: one statement per source, none without a store."""
    data = PreviewData(store)
    if store is None:
        return data
    grids = [b for b in blocks if b["type"] == "goods_grid"]
    strips = [b for b in blocks if b["type"] == "coupon_strip"]
    if strips or grids:
        source = _sources.get("campaigns")
        if source is not None:
            running, data.promos = source(store.id)
            for b in strips:
                d = b.get("data") or {}
                if d.get("source") == "picked":
                    wanted = [c.strip() for c in codes(d.get("coupons", ""))]
                    by_id = {str(c.id): c for c in running}
                    chosen = [by_id[w] for w in wanted if w in by_id]
                else:
                    chosen = running
                data.coupons[b["key"]] = chosen[:coupons_shown(d)]
    if grids and "goods" in _sources:
        ask = GoodsRequest()
        for b in grids:
            d = b.get("data") or {}
            if d.get("source") == "picked":
                ask.codes += [c.strip() for c in codes(d.get("goods", ""))]
            elif d.get("category"):
                ask.categories.add(d["category"])
            ask.per_category = max(ask.per_category, goods_shown(d))
        by_category, by_code = _sources["goods"](store.id, ask)
        for b in grids:
            d = b.get("data") or {}
            if d.get("source") == "picked":
                found = [by_code.get(c.strip().lower()) for c in codes(d.get("goods", ""))]
                goods = [g for g in found if g is not None]
            else:
                goods = by_category.get(d.get("category") or "", [])
            goods = goods[:goods_shown(d)]
            for g in goods:
                if g.sku in data.promos:
                    g.promo, g.promo_price = data.promos[g.sku]
            data.goods[b["key"]] = goods
    return data
