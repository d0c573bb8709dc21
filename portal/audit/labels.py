from flask_babel import lazy_gettext as _l

from portal.audit.services import ACTIONS

ACTION_LABELS = {
    "login": _l("Signed in"),
    "logout": _l("Signed out"),
    "password.change": _l("Changed own password"),
    "node.create": _l("Added org node"),
    "node.rename": _l("Renamed org node"),
    "node.move": _l("Moved org node"),
    "store.create": _l("Created store"),
    "store.update": _l("Edited store"),
    "store.status": _l("Changed store status"),
    "store.bulk_status": _l("Changed status of many stores"),
    "store.bulk_tag": _l("Tagged many stores"),
    "store.import": _l("Imported stores"),
    "user.create": _l("Created user"),
    "user.update": _l("Edited user"),
    "user.disable": _l("Disabled user"),
    "user.enable": _l("Enabled user"),
    "user.password_reset": _l("Reset a password"),
    "target.save": _l("Saved a target"),
    "target.delete": _l("Deleted a target"),
    "push.create": _l("Started a push"),
    "push.rollback": _l("Rolled back a push"),
    "push.cancel": _l("Cancelled a scheduled push"),
    "push.retry": _l("Retried a push's failed stores"),
    "template.create": _l("Created a template"),
    "template.update": _l("Edited a template"),
    "template.publish": _l("Published a template version"),
    "page.edit": _l("Edited the store page"),
    "page.reset": _l("Reset a block to HQ's"),
    "apikey.create": _l("Issued an API key"),
    "apikey.revoke": _l("Revoked an API key"),
    "product.create": _l("Added a product"),
    "product.update": _l("Edited a product"),
    "product.archive": _l("Archived a product"),
    "product.import": _l("Imported the catalog"),
    "product.image": _l("Changed product images"),
    "assortment.save": _l("Saved an assortment"),
    "listing.update": _l("Changed the store's shelf"),
    "local_product.save": _l("Saved a store's own product"),
    "campaign.create": _l("Created a campaign"),
    "campaign.update": _l("Edited a campaign"),
    "campaign.publish": _l("Published a campaign"),
    "campaign.cancel": _l("Cancelled a campaign"),
    "campaign.stop": _l("Stopped a campaign in stores"),
    "campaign.join": _l("Joined a campaign"),
    "campaign.decline": _l("Declined a campaign"),
    "media.upload": _l("Uploaded a picture"),
    "media.rename": _l("Renamed a picture"),
    "media.delete": _l("Deleted a picture"),
    "commission.close_month": _l("Closed a commission month"),
    "commission.payout": _l("Paid out a commission statement"),
}
assert set(ACTION_LABELS) == set(ACTIONS)

# The actions folded away by default on the audit page ("show sign-ins" brings them back).
SIGN_INS = ("login", "logout")

# The action filter's groups: a label and the prefixes of the action names it holds.
_GROUPS = (
    (_l("Sign-in and account"), ("login", "logout", "password")),
    (_l("Organization"), ("node",)),
    (_l("Stores"), ("store", "apikey")),
    (_l("Users"), ("user",)),
    (_l("Targets"), ("target",)),
    (_l("Pushes"), ("push",)),
    (_l("Decoration"), ("template", "page")),
    (_l("Image space"), ("media",)),
    (_l("Goods"), ("product", "assortment")),
    (_l("Store shelves"), ("listing", "local_product")),
    (_l("Campaigns"), ("campaign",)),
    (_l("Commissions"), ("commission",)),
)
ACTION_GROUPS = [(label, [(a, ACTION_LABELS[a]) for a in ACTIONS if a.split(".")[0] in prefixes])
                 for label, prefixes in _GROUPS]
assert sum(len(items) for _label, items in ACTION_GROUPS) == len(ACTIONS)

# Names of the keys that audit details carry, for people to read.
DETAIL_LABELS = {
    "code": _l("Code"), "name": _l("Name"), "city": _l("City"), "address": _l("Address"),
    "status": _l("Status"), "appid": _l("AppID"), "owner_name": _l("Owner"), "owner_phone": _l("Owner phone"),
    "node": _l("Region"), "tags": _l("Tags"), "tag": _l("Tag"), "role": _l("Role"), "place": _l("Bound to"),
    "display_name": _l("Full name"), "rows": _l("Rows"), "created": _l("Created"), "updated": _l("Updated"),
    "unchanged": _l("Unchanged"), "count": _l("Stores"), "kind": _l("Kind"), "parent": _l("Parent"),
    "from": _l("From"), "to": _l("To"), "stores": _l("Stores"),
    "block": _l("Block"), "change": _l("Change"), "version": _l("Version"), "size": _l("Picture size"),
    "target": _l("Target"), "scheduled_for": _l("Scheduled for"), "added": _l("Added"), "removed": _l("Removed"),
    "clamped": _l("Prices clamped"), "skus": _l("SKUs"), "archived": _l("Archived"), "key": _l("API key"),
    "price": _l("Price"), "stock": _l("Stock"), "on_shelf": _l("On shelf"), "local": _l("Store's own product"),
    "all": _l("Every store"), "store": _l("Store"), "category": _l("Category"), "description": _l("Description"),
    "direct_sale": _l("HQ-supplied"), "commission_rate": _l("Commission"), "everything": _l("Whole scope"),
    "node_ids": _l("Org units"), "store_codes": _l("Store codes"), "exclude_codes": _l("Excluded stores"),
    "active_only": _l("Active stores only"),
}
