"""Words the commission pages show for the ledger's codes."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from portal.orders.models import BENEFICIARY_GUIDE, BENEFICIARY_SHARER, BENEFICIARY_STORE

BENEFICIARY_LABELS = {BENEFICIARY_STORE: _l("Store"), BENEFICIARY_GUIDE: _l("Guide"),
                      BENEFICIARY_SHARER: _l("Sharer")}
BENEFICIARY_BADGES = {BENEFICIARY_STORE: "bg-blue-lt", BENEFICIARY_GUIDE: "bg-green-lt",
                      BENEFICIARY_SHARER: "bg-purple-lt"}
