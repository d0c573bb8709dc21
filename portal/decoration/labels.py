"""Words the decoration pages and the audit log use for block types and draft changes."""
from flask_babel import lazy_gettext as _l

from portal.decoration.blocks import BLOCK_TYPES

BLOCK_LABELS = {name: b.label for name, b in BLOCK_TYPES.items()}

# What a "template.update" audit entry records as its change.
CHANGE_LABELS = {
    "block_add": _l("added a block"),
    "block_edit": _l("edited a block"),
    "block_move": _l("moved a block"),
    "block_lock": _l("locked a block"),
    "block_unlock": _l("let stores edit a block"),
    "block_delete": _l("deleted a block"),
}

DROP_REASONS = {
    "removed": _l("HQ removed this block"),
    "locked": _l("HQ locked this block"),
}
