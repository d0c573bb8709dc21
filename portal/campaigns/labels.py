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
