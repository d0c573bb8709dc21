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
    "template.create": _l("Created a template"),
    "template.update": _l("Edited a template"),
    "template.publish": _l("Published a template version"),
    "page.edit": _l("Edited the store page"),
    "page.reset": _l("Reset a block to HQ's"),
    "apikey.create": _l("Issued an API key"),
    "apikey.revoke": _l("Revoked an API key"),
}
assert set(ACTION_LABELS) == set(ACTIONS)

# Names of the keys that audit details carry, for people to read.
DETAIL_LABELS = {
    "code": _l("Code"), "name": _l("Name"), "city": _l("City"), "address": _l("Address"),
    "status": _l("Status"), "appid": _l("AppID"), "owner_name": _l("Owner"), "owner_phone": _l("Owner phone"),
    "node": _l("Region"), "tags": _l("Tags"), "tag": _l("Tag"), "role": _l("Role"), "place": _l("Bound to"),
    "display_name": _l("Full name"), "rows": _l("Rows"), "created": _l("Created"), "updated": _l("Updated"),
    "unchanged": _l("Unchanged"), "count": _l("Stores"), "kind": _l("Kind"), "parent": _l("Parent"),
    "from": _l("From"), "to": _l("To"), "stores": _l("Stores"),
    "block": _l("Block"), "change": _l("Change"), "version": _l("Version"),
}
