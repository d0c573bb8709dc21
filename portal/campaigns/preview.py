"""The campaigns' answer to a page preview (``portal.decoration.preview``): the coupons the store
runs now and the campaign prices of its goods, from ``running_in_store`` (what the campaigns API
gives the mini-program), in ONE statement."""
from __future__ import annotations

from portal.campaigns.labels import KIND_LABELS
from portal.campaigns.services import rule_prices, running_in_store
from portal.decoration.preview import PreviewCoupon, register_campaign_source


def campaigns_for_preview(store_id: int) -> tuple[list[PreviewCoupon], dict[str, tuple[str, int]]]:
    coupons, promos = [], {}
    for c in running_in_store(store_id):
        rules = c.rules or {}
        if c.kind == "coupon":
            coupons.append(PreviewCoupon(c.id, c.name, rules.get("discount") or "amount", rules.get("amount_fen"),
                                         rules.get("percent"), rules.get("threshold_fen") or 0))
        else:
            for code, price in rule_prices(c):
                if price is not None:
                    promos.setdefault(code, (str(KIND_LABELS[c.kind]), price))
    return coupons, promos


register_campaign_source(campaigns_for_preview)
