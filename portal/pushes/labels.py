from flask_babel import lazy_gettext as _l

from portal.kernel.messages import define
from portal.kernel.messages import render as message  # noqa: F401  (templates: push_labels.message)
from portal.targets.services import render_description

STATE_LABELS = {
    "scheduled": (_l("Scheduled"), "bg-purple-lt"),
    "queued": (_l("Queued"), "bg-azure-lt"),
    "running": (_l("Sending"), "bg-blue-lt"),
    "done": (_l("Done"), "bg-green-lt"),
    "failed": (_l("Failed"), "bg-red-lt"),
    "rolling_back": (_l("Rolling back"), "bg-orange-lt"),
    "rolled_back": (_l("Rolled back"), "bg-secondary-lt"),
    "cancelled": (_l("Cancelled"), "bg-secondary-lt"),
}
OUTCOME_LABELS = {
    "pending": _l("Waiting"),
    "delivered": _l("Delivered"),
    "skipped": _l("Skipped"),
    "failed": _l("Failed"),
    "reverted": _l("Rolled back"),
}
REASON_LABELS = {
    "store_closed": _l("store closed"),
    "store_suspended": _l("store suspended"),
    "already_has_it": _l("store already has it"),
    "out_of_scope": _l("outside your part of the organization"),
    "changed_since": _l("store got something newer since; kept"),
}
KIND_LABELS = {"template": _l("Decoration template"), "goods": _l("Goods"), "campaign": _l("Campaign")}

# What the engine stores in Push.error / Delivery.error: keys, translated when shown.
CANCELLED_BY, PUSH_STOPPED, DELIVERY_FAILED = "push.cancelled", "push.stopped", "push.delivery_failed"
define({
    CANCELLED_BY: _l("Cancelled by %(name)s"),
    PUSH_STOPPED: _l("The push stopped on an error: %(error)s"),
    DELIVERY_FAILED: _l("Delivery failed: %(error)s"),
})


def target(push) -> str:
    """Where the push went, as people named it, in the reader's language."""
    return push.target_label or render_description(push.target_parts) or "—"
