"""What the notices to stores say: one template per code, translated when a notice is shown.

Parameters (see ``portal.shelf.prices.clamp_listings``): ``product`` (the name, with the SKU
code when the product has several), ``old_price_fen`` / ``price_fen`` (HQ's list price before and
after), ``floor_fen`` / ``ceiling_fen`` (the new bounds).
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from portal.kernel.messages import define, render

PRICE_FOLLOWED = "price_followed"      # the store follows HQ's price, and HQ changed it
PRICE_RAISED = "price_raised"          # the store's own price was below the new floor
PRICE_LOWERED = "price_lowered"        # the store's own price was above the new ceiling

NOTICE_MESSAGES = {
    PRICE_FOLLOWED: _l("HQ changed the price of %(product)s from %(old_price)s to %(price)s: your store follows "
                       "HQ’s price, so it now sells at %(price)s."),
    PRICE_RAISED: _l("HQ changed the price range of %(product)s to %(floor)s–%(ceiling)s: your price was below "
                     "it and is now %(floor)s."),
    PRICE_LOWERED: _l("HQ changed the price range of %(product)s to %(floor)s–%(ceiling)s: your price was above "
                      "it and is now %(ceiling)s."),
}


define(NOTICE_MESSAGES)


def notice_text(code: str, params: dict | None) -> str:
    return render(code, params)
