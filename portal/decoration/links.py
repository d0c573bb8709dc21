"""Where a tap in a block goes: the mini-program's pages, and the paths to one product, one
category or one campaign, in the form the mini-program reads (its query parameters are the ones
the API takes: a product's code, a category's name as ``/goods?category=``, a campaign's id).
The link picker (``portal.core.link_picker``) builds its choices from here."""
from __future__ import annotations

from urllib.parse import quote

from flask_babel import lazy_gettext as _l

# The mini-program's own pages a block may link to.
PAGES = (
    ("/pages/index/index", _l("Home")),
    ("/pages/goods/index", _l("All goods")),
    ("/pages/coupon/index", _l("Coupon centre")),
    ("/pages/campaign/index", _l("Campaigns")),
    ("/pages/live/index", _l("Live rooms")),
    ("/pages/member/index", _l("Member centre")),
    ("/pages/cart/index", _l("Shopping cart")),
    ("/pages/order/list", _l("My orders")),
    ("/pages/store/index", _l("Store info")),
)


def product_path(code: str) -> str:
    return f"/pages/goods/detail?product={quote(code, safe='')}"


def category_path(category: str) -> str:
    return f"/pages/goods/index?category={quote(category, safe='')}"


def campaign_path(campaign_id: int) -> str:
    return f"/pages/campaign/detail?id={int(campaign_id)}"
