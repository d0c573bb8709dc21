"""What the UI calls campaign kinds, states and a store's participation."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

KIND_LABELS = {
    "coupon": _l("Coupon"),
    "flash_sale": _l("Flash sale"),
    "bargain": _l("Bargain"),
    "group_buy": _l("Group buy"),
    "distribution": _l("Distribution plan"),
}
KIND_ICONS = {"coupon": "ticket", "flash_sale": "bolt", "bargain": "scissors", "group_buy": "users",
              "distribution": "share"}
# One line per tool card of the 营销中心 (marketing center): what the kind does for a brand.
KIND_BLURBS = {
    "coupon": _l("Money off or a discount that members claim and spend in any store you push it to."),
    "flash_sale": _l("Chosen goods at a special price for a short window, in a limited quantity."),
    "bargain": _l("Members ask friends to cut the price, down to a floor you set: every cut brings a visitor."),
    "group_buy": _l("A lower price once enough buyers join a group in time: customers bring customers."),
    "distribution": _l("Commission for the stores, guides and sharers who bring a buyer."),
}
STATE_LABELS = {
    "draft": _l("Draft"),
    "scheduled": _l("Not started"),
    "running": _l("Running"),
    "ended": _l("Ended"),
    "cancelled": _l("Cancelled"),
}
STATE_BADGES = {"draft": "bg-yellow-lt", "scheduled": "bg-blue-lt", "running": "bg-green-lt",
                "ended": "bg-secondary-lt", "cancelled": "bg-red-lt"}
PARTICIPATION_LABELS = {"mandatory": _l("Mandatory"), "opt_in": _l("Opt-in")}
STORE_STATUS_LABELS = {
    "invited": _l("Invited"),
    "joined": _l("Joined"),
    "declined": _l("Declined"),
    "stopped": _l("Stopped"),
}
STORE_STATUS_BADGES = {"invited": "bg-blue-lt", "joined": "bg-green-lt", "declined": "bg-secondary-lt",
                       "stopped": "bg-red-lt"}
BEARER_LABELS = {
    "hq": _l("Borne by HQ"),
    "distributor": _l("Borne by the distributor"),
    "store": _l("Borne by the store"),
}
# What a store owner reads on a campaign offered to the store (and in the join confirmation).
BEARER_SENTENCES = {
    "hq": _l("HQ bears the discount."),
    "distributor": _l("The distributor bears the discount."),
    "store": _l("Your store bears the discount."),
}
