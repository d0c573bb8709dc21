"""Every endpoint × every role: allowed, 403, or 404 for ids outside the user's scope.

The table below must name every route the app has; a new route without a row fails
``test_every_route_is_in_the_table``.
"""
from __future__ import annotations

import pytest

from portal.targets.models import Target
from tests.conftest import login

ALL = ("hq", "east_admin", "south_admin", "sh_manager", "gd_manager", "owner1", "owner_gd")
ADMINS = ("hq", "east_admin", "south_admin")
STAFF = ("hq", "east_admin", "south_admin", "sh_manager", "gd_manager")
OWNERS = ("owner1", "owner_gd")
# Each user's side of the tree: their "own" objects are made on it, their "foreign" ones on the
# other side (华东 east: R-SH with sh1 and R-JS; 华南 south: R-GD with gd1). HQ's scope is all.
SIDE = {"hq": "east", "east_admin": "east", "sh_manager": "east", "owner1": "east",
        "south_admin": "south", "gd_manager": "south", "owner_gd": "south"}
PUBLIC = "public"
# The mini-program API takes a store's Bearer key, never a session: every role (and anonymous)
# gets a JSON 401 without a key. Its key cases are in tests/api/test_page_api.py.
API_KEY = "api key"
# The ingestion API's writes are signed (X-Portal-Key + X-Portal-Signature), never a session:
# every role gets a JSON 401 bad_signature. Its cases are in tests/api/test_signing.py.
SIGNED = "signed"

def _id_merge_form(org, role, own):
    """Merging another member of the same store into ``own`` (a member of the acting side)."""
    from portal.extensions import db
    from portal.members.models import Member
    from tests.factories import make_member

    member = db.session.get(Member, own)
    other = make_member(db.session.get(type(org.stores["sh1"]), member.store_id), "同一个人")
    db.session.commit()
    return {"absorbed_id": str(other.id), "reason": "同一个人"}


# endpoint: (method, url template, roles allowed, kind of object in the URL or None, form data)
# {id} is an object inside the acting user's scope; the same URL with the object of the other side
# of the tree must answer 404 for everyone but HQ. Form data may name the user's side with
# placeholders ({code} its store's code, {region} its region's id, {region_code}, {parent} its
# distributor's id) or be a function of (org, role, own id) for data read from the object.
TABLE = {
    "core.index": ("GET", "/", ALL, None, None),
    "core.healthz": ("GET", "/healthz", PUBLIC, None, None),
    "core.set_language": ("POST", "/language", PUBLIC, None, {"lang": "en"}),
    "auth.login": ("GET", "/login", PUBLIC, None, None),
    "auth.logout": ("POST", "/logout", ALL, None, {}),
    "auth.change_password": ("GET", "/account/password", ALL, None, None),
    "org.tree": ("GET", "/org", STAFF, None, None),
    "org.create_node": ("GET", "/org/nodes/new", ADMINS, None, None),
    "org.edit_node": ("GET", "/org/nodes/{id}/edit", ADMINS, "node", None),
    "org.list_stores": ("GET", "/stores", STAFF, None, None),
    "org.create_store": ("GET", "/stores/new", ADMINS, None, None),
    "org.view_store": ("GET", "/stores/{id}", ALL, "store", None),
    "org.edit_store": ("GET", "/stores/{id}/edit", ADMINS, "store", None),
    "org.set_store_status": ("POST", "/stores/{id}/status", ADMINS, "store", {"status": "suspended"}),
    "org.bulk_stores": ("POST", "/stores/bulk", ADMINS, None, {"action": "suspended"}),
    "org.import_stores": ("GET", "/stores/import", ADMINS, None, None),
    "org.export_stores": ("GET", "/stores/export.csv", STAFF, None, None),
    "org.export_stores_xlsx": ("GET", "/stores/export.xlsx", STAFF, None, None),
    "org.store_template": ("GET", "/stores/import/template.xlsx", ADMINS, None, None),
    "org.list_users": ("GET", "/users", ADMINS, None, None),
    "org.create_user": ("GET", "/users/new", ADMINS, None, None),
    "org.edit_user": ("GET", "/users/{id}/edit", ADMINS, "user", None),
    "org.set_user_active": ("POST", "/users/{id}/active", ADMINS, "user", {"active": "1"}),
    "org.reset_password": ("POST", "/users/{id}/password", ADMINS, "user", {"password": "a-new-password-1"}),
    "audit.list_entries": ("GET", "/audit", ADMINS, None, None),
    "api_pages.store_page": ("GET", "/api/v1/stores/SH001/page", API_KEY, None, None),
    "api_goods.list_goods": ("GET", "/api/v1/stores/SH001/goods", API_KEY, None, None),
    "api_campaigns.list_campaigns": ("GET", "/api/v1/stores/SH001/campaigns", API_KEY, None, None),
    "api_campaigns.claim_coupon": ("POST", "/api/v1/stores/SH001/coupons/1/claim", API_KEY, None, {}),
    "api_live.list_live_rooms": ("GET", "/api/v1/stores/SH001/live-rooms", API_KEY, None, None),
    "api_events.post_events": ("POST", "/api/v1/stores/SH001/events", SIGNED, None, {}),
    "api_docs.openapi_json": ("GET", "/api/v1/openapi.json", PUBLIC, None, None),
    "api_docs.docs": ("GET", "/api/v1/docs", PUBLIC, None, None),
    "api.create_key": ("POST", "/stores/{id}/api-keys", ADMINS, "store", {}),
    "api.revoke_key": ("POST", "/stores/{id[0]}/api-keys/{id[1]}/revoke", ADMINS, "apikey", {}),
    "targets.list_targets": ("GET", "/targets", ADMINS, None, None),
    "targets.edit_target": ("GET", "/targets/{id}/edit", ADMINS, "target", None),
    "targets.delete_target": ("POST", "/targets/{id}/delete", ADMINS, "target", {}),
    "targets.preview": ("GET", "/targets/preview?everything=y", ADMINS, None, None),
    # Regional managers read the pushes that reached their region (tests/pushes/test_read_access.py).
    "pushes.list_pushes": ("GET", "/pushes", STAFF, None, None),
    "pushes.view_push": ("GET", "/pushes/{id}", STAFF, "push", None),
    "pushes.push_progress": ("GET", "/pushes/{id}/progress", STAFF, "push", None),
    "targets.pick_stores": ("GET", "/targets/stores?pick_q=1", ADMINS, None, None),
    "pushes.rollback": ("POST", "/pushes/{id}/rollback", ADMINS, "push", {}),
    "pushes.cancel": ("POST", "/pushes/{id}/cancel", ADMINS, "push", {}),
    "pushes.retry": ("POST", "/pushes/{id}/retry", ADMINS, "push", {}),
    "decoration.list_templates": ("GET", "/templates", ADMINS, None, None),
    "decoration.create_template": ("GET", "/templates/new", ADMINS, None, None),
    "decoration.edit_template": ("GET", "/templates/{id}", ADMINS, "template", None),
    "decoration.add_block": ("POST", "/templates/{id}/blocks", ADMINS, "template", {"type": "notice"}),
    "decoration.edit_block": ("GET", "/templates/{id}/blocks/blk1", ADMINS, "template", None),
    "decoration.move_block": ("POST", "/templates/{id}/blocks/blk1/move", ADMINS, "template", {"direction": "down"}),
    "decoration.lock_block": ("POST", "/templates/{id}/blocks/blk1/lock", ADMINS, "template", {"locked": "1"}),
    "decoration.delete_block": ("POST", "/templates/{id}/blocks/blk1/delete", ADMINS, "template", {}),
    "decoration.publish": ("POST", "/templates/{id}/publish", ADMINS, "template", {"note": ""}),
    "decoration.view_version": ("GET", "/templates/{id}/versions/1", ADMINS, "template", None),
    "decoration.push_version": ("GET", "/templates/{id}/versions/1/push", ADMINS, "template", None),
    "decoration.find_sample_stores": ("GET", "/templates/{id}/sample-stores?q=店", ADMINS, "template", None),
    "decoration.set_sample_store": ("POST", "/templates/{id}/sample-store", ADMINS, "template", {"store_id": ""}),
    "decoration.my_page": ("GET", "/my/page", OWNERS, None, None),
    "decoration.view_store_page": ("GET", "/stores/{id}/page", STAFF, "store", None),
    "decoration.edit_page_block": ("GET", "/stores/{id}/page/blocks/blk1", OWNERS, "store_page", None),
    "decoration.reset_page_block": ("POST", "/stores/{id}/page/blocks/blk1/reset", OWNERS, "store_page", {}),
    "goods.list_products": ("GET", "/goods", ADMINS, None, None),
    "goods.create_product": ("GET", "/goods/new", ADMINS, None, None),
    "goods.import_products": ("GET", "/goods/import", ADMINS, None, None),
    "goods.export_products": ("GET", "/goods/export.csv", ADMINS, None, None),
    "goods.export_products_xlsx": ("GET", "/goods/export.xlsx", ADMINS, None, None),
    "goods.import_template": ("GET", "/goods/import/template.xlsx", ADMINS, None, None),
    "goods.pick_goods": ("GET", "/goods/picker?mode=skus&q=P", ADMINS, None, None),
    "goods.edit_product": ("GET", "/goods/{id}", ADMINS, "product", None),
    "goods.archive_product": ("POST", "/goods/{id}/archive", ADMINS, "product", {"archived": "1"}),
    "goods.upload_image": ("POST", "/goods/{id}/images", ADMINS, "product", {}),
    "goods.delete_image": ("POST", "/goods/{id[0]}/images/{id[1]}/delete", ADMINS, "product_image", {}),
    "goods.product_image": ("GET", "/goods/{id[0]}/images/{id[1]}", ALL, "product_image", None),
    "goods.media": ("GET", "/media/goods/{id}", PUBLIC, "thumb", None),
    # Picking a picture that is not there (or not the user's to use) answers like a bad upload: the
    # product page with the error. Picking a real one is in tests/media/test_media.py.
    "goods.add_media_image": ("POST", "/goods/{id}/images/from-media", ADMINS, "product", {"media_id": "1"}),
    "media.list_images": ("GET", "/media", ADMINS, None, None),
    "media.picker": ("GET", "/media/picker", ADMINS + OWNERS, None, None),
    "media.upload": ("POST", "/media/upload", ADMINS, None, {}),
    "media.rename": ("POST", "/media/{id}/rename", ADMINS, "media", {"name": "新名字"}),
    "media.delete": ("POST", "/media/{id}/delete", ADMINS, "media", {}),
    "media.file": ("GET", "/media/i/{id}", PUBLIC, "media_file", None),
    "links.picker": ("GET", "/links/picker?tab=goods", ADMINS + OWNERS, None, None),
    "shelf.my_goods": ("GET", "/my/goods", OWNERS, None, None),
    "shelf.view_store_goods": ("GET", "/stores/{id}/goods", STAFF, "store", None),
    "shelf.save_listing": ("POST", "/stores/{id[0]}/goods/{id[1]}", OWNERS, "shelf_sku",
                                   {"price": "", "stock": ""}),
    "shelf.toggle_shelf": ("POST", "/stores/{id[0]}/goods/{id[1]}/shelf", OWNERS, "shelf_sku",
                                   {"on_shelf": "0"}),
    "shelf.mark_notices_read": ("POST", "/stores/{id}/notices/read", OWNERS, "store", {}),
    "shelf.create_local_product": ("GET", "/my/goods/new", OWNERS, None, None),
    "shelf.edit_local_product": ("GET", "/stores/{id[0]}/products/{id[1]}/edit", OWNERS,
                                         "local_product", None),
    "assortments.list_assortments": ("GET", "/assortments", ADMINS, None, None),
    "assortments.create_assortment": ("GET", "/assortments/new", ADMINS, None, None),
    "assortments.edit_assortment": ("GET", "/assortments/{id}", ADMINS, "assortment", None),
    "assortments.add_items": ("POST", "/assortments/{id}/items", ADMINS, "assortment", {"codes": "P-ACCESS"}),
    "assortments.remove_item": ("POST", "/assortments/{id}/items/1/delete", ADMINS, "assortment", {}),
    "assortments.push_assortment": ("GET", "/assortments/{id}/push", ADMINS, "assortment", None),
    "campaigns.marketing_center": ("GET", "/marketing", ADMINS, None, None),
    # Regional managers read the campaigns reaching their region (and distributors HQ's reaching
    # their stores): the "offer" campaigns are offered to sh1 (east) and gd1 (south).
    "campaigns.list_campaigns": ("GET", "/campaigns", STAFF, None, None),
    "campaigns.create_campaign": ("GET", "/campaigns/new/coupon", ADMINS, None, None),
    "campaigns.view_campaign": ("GET", "/campaigns/{id}", STAFF, "offer", None),
    "campaigns.edit_campaign": ("GET", "/campaigns/{id}/edit", ADMINS, "campaign", None),
    "campaigns.publish_campaign": ("POST", "/campaigns/{id}/publish", ADMINS, "campaign", {}),
    "campaigns.cancel_campaign": ("POST", "/campaigns/{id}/cancel", ADMINS, "campaign", {}),
    "campaigns.push_campaign": ("GET", "/campaigns/{id}/push", ADMINS, "campaign", None),
    "campaigns.stop_campaign": ("POST", "/campaigns/{id}/stop", ADMINS, "campaign", {"all": "1"}),
    "campaigns.stop_form": ("GET", "/campaigns/{id}/stop-in-stores", ADMINS, "campaign", None),
    "campaigns.my_campaigns": ("GET", "/my/campaigns", OWNERS, None, None),
    "campaigns.view_offer": ("GET", "/my/campaigns/{id}", OWNERS, "offer", None),
    "campaigns.join_campaign": ("POST", "/my/campaigns/{id}/join", OWNERS, "offer", {}),
    "campaigns.decline_campaign": ("POST", "/my/campaigns/{id}/decline", OWNERS, "offer", {}),
    # Members' One ID, service relationship and personal data (issue 10, identity): a member of
    # sh1 (east) and one of gd1 (south); the phone, export and erase are HQ's alone.
    "member_identity.view_member": ("GET", "/members/{id}/identity", ALL, "id_member", None),
    "member_identity.rebind": ("GET", "/members/{id}/rebind", ADMINS, "id_member", None),
    "member_identity.rebind_stores": ("GET", "/members/{id}/rebind/stores?q=S", ADMINS, "id_member", None),
    "member_identity.merge_candidates": ("GET", "/members/{id}/merge-candidates?q=会员", ADMINS, "id_member", None),
    "member_identity.merge": ("POST", "/members/{id}/merge", ADMINS, "id_member", _id_merge_form),
    "member_identity.undo_merge": ("POST", "/merges/{id}/undo", ADMINS, "id_merge", {}),
    "member_identity.export_member": ("GET", "/members/{id}/export.json", ("hq",), "id_member", None),
    "member_identity.erase_member": ("POST", "/members/{id}/erase", ("hq",), "id_member", {}),
    "guides.my_guides": ("GET", "/my/guides", OWNERS, None, None),
    "guides.set_active": ("POST", "/guides/{id}/active", OWNERS, "guide", {"active": "0"}),
    "guides.store_guides": ("GET", "/stores/{id}/guides", STAFF, "store", None),
    # Orders: owners see their store's (an order of sh1 / of gd1), staff those of their subtree.
    "orders.list_orders": ("GET", "/orders", ALL, None, None),
    "orders.export_orders": ("GET", "/orders/export.csv", ALL, None, None),
    "orders.view_order": ("GET", "/orders/{id}", ALL, "order", None),
    # issue 10: audiences. Everyone reads their scope's members; HQ, distributors and owners tag them.
    "members.list_members": ("GET", "/members", ALL, None, None),
    "members.view_member": ("GET", "/members/{id}", ALL, "member", None),
    "members.set_member_tags": ("POST", "/members/{id}/tags", ADMINS + OWNERS, "member", {}),
    "members.bulk_members": ("POST", "/members/bulk", ADMINS + OWNERS, None, {"action": "tag", "ids": "1"}),
    "members.list_tags": ("GET", "/members/tags", ("hq",), None, None),
    "members.delete_tag": ("POST", "/members/tags/{id}/delete", ("hq",), "member_tag", {}),
    "members.list_tiers": ("GET", "/members/tiers", ("hq",), None, None),
    "members.edit_tier": ("GET", "/members/tiers/{id}/edit", ("hq",), "member_tier", None),
    "members.delete_tier": ("POST", "/members/tiers/{id}/delete", ("hq",), "member_tier", {}),
    "members.list_groups": ("GET", "/members/groups", ADMINS, None, None),
    "members.edit_group": ("GET", "/members/groups/{id}/edit", ADMINS, "member_group", None),
    "members.delete_group": ("POST", "/members/groups/{id}/delete", ADMINS, "member_group", {}),
    "members.group_preview": ("GET", "/members/groups/preview?segment=new", ADMINS, None, None),
    # HQ sets the member rules; distributors and regional managers read them and their stores' moves.
    "member_settings.edit_settings": ("GET", "/members/settings", STAFF, None, None),
    "member_settings.save_settings": ("POST", "/members/settings", ("hq",), None,
                                      {"binding_rule": "protected", "protect_days": "15", "rfm_window_days": "365",
                                       "rfm_new_days": "30", "rfm_mode": "thresholds", "rfm_recency_days": "90",
                                       "rfm_frequency": "3", "rfm_monetary": "1000"}),
    "member_settings.preview_counts": ("GET", "/members/settings/counts?binding_rule=first&rfm_window_days=365"
                                       "&rfm_new_days=30&rfm_mode=thresholds&rfm_recency_days=90&rfm_frequency=3"
                                       "&rfm_monetary=1000", ("hq",), None, None),
    "member_settings.recompute": ("POST", "/members/settings/recompute", ("hq",), None, {}),
    "member_settings.run_progress": ("GET", "/members/settings/runs/{id}", ("hq",), "rfm_run", None),
    "member_settings.list_moves": ("GET", "/members/settings/moves", STAFF, None, None),
    "member_settings.store_moves": ("GET", "/members/settings/moves/{id}", STAFF, "store", None),
    # Commissions (issue 10): owners read their store's ledger and statements; admins pay; HQ closes months.
    "commissions.list_entries": ("GET", "/commissions", ALL, None, None),
    "commissions.list_statements": ("GET", "/commissions/statements", ALL, None, None),
    "commissions.view_statement": ("GET", "/commissions/statements/{id}", ALL, "statement", None),
    "commissions.export_statement": ("GET", "/commissions/statements/{id}.csv", ALL, "statement", None),
    "commissions.export_statement_xlsx": ("GET", "/commissions/statements/{id}.xlsx", ALL, "statement", None),
    "commissions.export_month": ("GET", "/commissions/statements.csv", ALL, None, None),
    "commissions.export_month_xlsx": ("GET", "/commissions/statements.xlsx", ALL, None, None),
    "commissions.pay_statement": ("POST", "/commissions/statements/{id}/pay", ADMINS, "statement", {}),
    "commissions.close_month": ("POST", "/commissions/months", ("hq",), None, {"month": "2020-01"}),
    # Live rooms: a store room of sh1 (east) and one of gd1 (south); every role has rooms (an owner its
    # store's, a node user its broadcasts and its stores' rooms).
    "live.list_rooms": ("GET", "/live", ALL, None, None),
    "live.create_room": ("GET", "/live/new", ALL, None, None),
    "live.view_room": ("GET", "/live/{id}", ALL, "live_room", None),
    "live.edit_room": ("GET", "/live/{id}/edit", ALL, "live_room", None),
    "live.delete_room": ("POST", "/live/{id}/delete", ALL, "live_room", {}),
    "live_figures.show_figures": ("GET", "/live/{id}/figures", ALL, "live_room", None),
    "live_figures.show_leaderboard": ("GET", "/live/{id}/leaderboard", ALL, "live_room", None),
    "live_figures.export_figures": ("GET", "/live/{id}/figures/export?format=xlsx", ALL, "live_room", None),
    # issue 11: a room's lottery, invitations and post-live coupons (a store room of sh1 / of gd1)
    "live_actions.engage": ("GET", "/live/{id}/engage", ALL, "live_room", None),
    "live_actions.panel": ("GET", "/live/{id}/panels/coupons", ALL, "live_room", None),
    "live_actions.announce_lottery": ("POST", "/live/{id}/lotteries", ALL, "live_room",
                                      {"title": "免单", "pool": "viewers", "min_shares": "0", "exclude_staff": "y",
                                       "winners": "1"}),
    "live_actions.draw_lottery": ("POST", "/live/lotteries/{id}/draw", ALL, "live_lottery", {}),
    "live_actions.view_lottery": ("GET", "/live/lotteries/{id}", ALL, "live_lottery", None),
    "live_actions.lottery_entrants": ("GET", "/live/lotteries/{id}/entrants.csv", ALL, "live_drawn", None),
    "live_actions.invite": ("POST", "/live/{id}/invite", ALL, "live_room", {"audience": "segment:new"}),
    "live_actions.send_coupons": ("POST", "/live/{id}/coupons", ALL, "live_coupon",
                                  lambda org, role, room_id: _live_coupon_form(room_id)),
}

# The POST branch of every route that serves a form (GET) and takes it (POST): the same URL as in
# TABLE, with form data that succeeds for an allowed role. Checked like TABLE's rows.
_WHEN = {"starts_at": "2031-03-01T10:00", "ends_at": "2031-03-10T10:00", "participation": "mandatory"}
_COUPON = {**_WHEN, "name": "满100减10", "rules-discount": "amount", "rules-amount": "10", "rules-percent": "",
           "rules-threshold": "100", "rules-per_member": "1", "rules-budget": "10"}
_LOCAL = {"name": "自制蛋挞", "category": "烘焙", "description": "", "skus-0-spec": "单个", "skus-0-price": "6.5"}
_STORE = {"name": "新店", "city": "上海", "address": "", "node_id": "{region}", "status": "active", "tags": "",
          "appid": "", "owner_name": "", "owner_phone": ""}


def _product_form(org, role, product_id):
    from portal.extensions import db
    from portal.goods.models import Product

    product = db.session.get(Product, product_id)
    data = {"code": product.code, "name": "改名", "category": product.category, "description": "",
            "commission": "", "action": "save"}
    for i, sku in enumerate(product.skus):
        data.update({f"skus-{i}-id": str(sku.id), f"skus-{i}-code": sku.code, f"skus-{i}-spec": "",
                     f"skus-{i}-list_price": "10", f"skus-{i}-price_floor": "8", f"skus-{i}-price_ceiling": "15"})
    return data


def _csv(text: str):
    import io

    return lambda org, role, own: {"file": (io.BytesIO(_fill(text, org, role).encode()), "upload.csv")}


def _live_room_form(org, role, own):
    """A new room (a store owner's) or broadcast (of the user's own node), or the edit of ``own``."""
    from datetime import timedelta

    from portal.extensions import db
    from portal.kernel.time import utcnow
    from portal.live.forms import to_local
    from portal.live.models import LiveRoom

    room = db.session.get(LiveRoom, own) if own else None
    start = room.scheduled_start if room else utcnow() + timedelta(hours=1)
    data = {"title": "门店直播间", "anchor": "小美", "provider": "channels",
            "start": to_local(start).strftime("%Y-%m-%dT%H:%M"),
            "end": to_local(start + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"), "comments": "y"}
    user = org.users.get(role)
    if user is not None and user.node_id:
        data["node_id"] = str(user.node_id)
    return data


POSTS = {
    "live.create_room": _live_room_form,
    "live.edit_room": _live_room_form,
    "auth.login": {"username": "hq", "password": "correct-horse-9"},
    "auth.change_password": {"current": "correct-horse-9", "new": "a-new-password-1", "confirm": "a-new-password-1"},
    "org.create_node": {"parent_id": "{parent}", "kind": "region", "code": "R-NEW", "name": "新区"},
    "org.edit_node": {"action": "rename", "rename-name": "新名字"},
    "org.create_store": {**_STORE, "code": "NEW1"},
    "org.edit_store": {**_STORE, "code": "{code}"},
    "org.import_stores": _csv("code,name,city,address,region_code,status\r\nNEW1,新店,上海,,{region_code},active\r\n"),
    "org.create_user": {"username": "new_user", "display_name": "", "role": "regional_manager",
                        "node_id": "{region}", "store_code": "", "password": "a-new-password-1"},
    "org.edit_user": {"display_name": "改名", "role": "regional_manager", "node_id": "{region}", "store_code": ""},
    "targets.edit_target": {"name": "全部门店", "everything": "y", "active_only": "y"},
    "decoration.create_template": {"name": "夏季首页"},
    "decoration.edit_block": {"text": "新的公告", "link": ""},
    "decoration.push_version": {"store_codes": "{code}", "active_only": "y"},
    "decoration.edit_page_block": {"text": "本店公告", "link": ""},
    "goods.create_product": {"code": "CF-NEW", "name": "拿铁", "category": "咖啡", "description": "", "commission": "",
                               "action": "save", "skus-0-code": "CF-NEW-L", "skus-0-list_price": "18"},
    "goods.edit_product": _product_form,
    "goods.import_products": _csv("product_code,product_name,category,sku_code,spec,list_price,price_floor,"
                                    "price_ceiling,direct_sale,commission\nCF-9,拿铁,咖啡,CF-9-M,,18,,,否,\n"),
    "shelf.create_local_product": _LOCAL,
    "shelf.edit_local_product": _LOCAL,
    "assortments.create_assortment": {"name": "夏季新品"},
    "assortments.edit_assortment": {"name": "改名"},
    "assortments.push_assortment": {"store_codes": "{code}", "active_only": "y"},
    "campaigns.create_campaign": _COUPON,
    "campaigns.edit_campaign": _COUPON,
    "campaigns.push_campaign": {"store_codes": "{code}", "active_only": "y"},
    "member_identity.rebind": {"store_code": "{code}", "guide_id": "", "note": ""},
    "guides.my_guides": {"name": "小陈", "code": "G88", "phone": ""},
    "members.list_tags": {"name": "高价值"},
    "members.list_tiers": {"name": "金卡", "rank": "2", "min_spent": "1000"},
    "members.edit_tier": {"name": "银卡", "rank": "1", "min_spent": "500"},
    "members.edit_group": {"name": "新客", "kind": "filter", "segment": "new"},
}


def _fill(text: str, org, role: str) -> str:
    side = SIDE.get(role, "east")
    store, region, parent = {"east": ("sh1", "r_sh", "east"), "south": ("gd1", "r_gd", "south")}[side]
    return (text.replace("{code}", org.stores[store].code).replace("{region_code}", org.nodes[region].code)
            .replace("{region}", str(org.nodes[region].id)).replace("{parent}", str(org.nodes[parent].id)))


def _data(data, org, role: str, own):
    if callable(data):
        return data(org, role, own)
    return {k: _fill(v, org, role) if isinstance(v, str) else v for k, v in (data or {}).items()}


def _ids(org, kind: str) -> tuple[int, int]:
    """(inside every allowed role's scope, outside every scope but HQ's)."""
    if kind == "store":
        return org.stores["sh1"].id, org.stores["gd1"].id
    if kind == "node":
        return org.nodes["r_sh"].id, org.nodes["r_gd"].id
    if kind == "user":
        return org.users["sh_manager"].id, org.users["gd_manager"].id
    if kind == "apikey":      # (store id, key id): a key of sh1, and one of gd1
        from portal.api.services import issue_key
        from portal.extensions import db

        own, foreign = (issue_key(org.stores[s], actor=None)[0] for s in ("sh1", "gd1"))
        db.session.commit()
        return (org.stores["sh1"].id, own.id), (org.stores["gd1"].id, foreign.id)
    if kind == "target":
        return _object(Target, org, name="t", spec={"everything": True})
    if kind == "push":
        return _pushes(org)
    if kind in ("template", "store_page"):
        own, foreign = _templates(org)
        return (own, foreign) if kind == "template" else (org.stores["sh1"].id, org.stores["gd1"].id)
    if kind in ("campaign", "offer"):
        return _campaigns(org, offered=kind == "offer")
    if kind in ("shelf_sku", "local_product", "assortment"):
        return _goods(org, kind)
    if kind in ("product", "product_image", "thumb"):
        return _products(org, kind)
    if kind == "media":          # a picture of 华东's image space, and one of 华南's
        return _picture(org, "east").id, _picture(org, "south").id
    if kind == "media_file":
        return _hq_picture(org).thumb, "0" * 32 + ".png"
    if kind in ("id_member", "id_merge", "guide"):
        return _identity_objects(org, kind)
    if kind == "order":
        return _orders(org)
    if kind in ("member", "member_tag", "member_tier", "member_group"):
        return _members(org, kind)
    if kind == "rfm_run":        # recompute runs are the brand's (HQ's) only: no foreign one to guess
        from portal.extensions import db
        from portal.members.models import RfmRun

        runs = [RfmRun(state="done"), RfmRun(state="done")]
        db.session.add_all(runs)
        db.session.commit()
        return runs[0].id, runs[1].id
    if kind == "live_room":
        from tests.live.helpers import make_room

        return (make_room(org.users["owner1"], store=org.stores["sh1"]).id,
                make_room(org.users["owner_gd"], store=org.stores["gd1"]).id)
    if kind.startswith("live_"):
        return _live(org, kind)
    if kind == "statement":          # a guide's statement of sh1 (east) and one of gd1 (south)
        from tests.orders.ledger_helpers import closed_statements

        return tuple(s.id for s in closed_statements(org))
    if kind == "live_room":          # a room of sh1 (east) and one of gd1 (south)
        from tests.live.figures_helpers import make_room

        return make_room(org.stores["sh1"]).id, make_room(org.stores["gd1"]).id
    raise AssertionError(kind)


def _live(org, kind: str) -> tuple[int, int]:
    """A store room of sh1 (east) and one of gd1 (south), each with a viewer; live_lottery: an
    announced lottery on each, live_drawn: a drawn one; live_coupon: the rooms, with a running
    coupon campaign each store has joined."""
    from portal.extensions import db
    from portal.live import lottery
    from portal.org.scope import scope_for
    from tests.live.lottery_helpers import make_room, watch

    rooms = []
    for store in ("sh1", "gd1"):
        room = make_room(org.stores[store])
        watch(room, org.stores[store])
        rooms.append(room)
    db.session.commit()
    if kind == "live_coupon":
        from portal.targets.services import TargetSpec
        from tests.campaigns.helpers import make_campaign, push

        campaign = make_campaign(org.users["hq"])
        push(org.users["hq"], campaign, TargetSpec(store_codes=["SH001", "GD001"]))
    if kind in ("live_lottery", "live_drawn"):
        hq = org.users["hq"]
        lots = [lottery.announce_lottery(scope_for(hq), room, title="免单", pool="viewers", min_shares=0,
                                         exclude_staff=True, winners=1, actor=hq) for room in rooms]
        if kind == "live_drawn":
            for lot in lots:
                lottery.draw_lottery(scope_for(hq), lot, actor=hq)
        db.session.commit()
        return lots[0].id, lots[1].id
    return rooms[0].id, rooms[1].id


def _live_coupon_form(room_id: int) -> dict:
    from portal.extensions import db
    from portal.live.coupons import coupon_campaigns
    from portal.live.models import LiveRoom

    return {"campaign_id": str(coupon_campaigns(db.session.get(LiveRoom, room_id))[0].id), "audience": "watched"}


def _orders(org) -> tuple[int, int]:
    """An order of sh1 (华东) and one of gd1 (华南), each by a member of its store."""
    from portal.extensions import db
    from tests.factories import make_member, make_order

    ids = [make_order(org.stores[s], make_member(org.stores[s])).id for s in ("sh1", "gd1")]
    db.session.commit()
    return ids[0], ids[1]


def _identity_objects(org, kind: str):
    """id_member: a member of sh1 and one of gd1; id_merge: a merge kept by each; guide: a guide
    of each store."""
    from portal.extensions import db
    from portal.members import services
    from tests.factories import make_guide, make_member

    ids = []
    for store in (org.stores["sh1"], org.stores["gd1"]):
        if kind == "guide":
            ids.append(make_guide(store).id)
            continue
        member = make_member(store, "会员甲")
        if kind == "id_merge":
            ids.append(services.merge(None, member, make_member(store, "会员乙"), rule="manual", reason="",
                                      actor=None).id)
        else:
            ids.append(member.id)
    db.session.commit()
    return ids[0], ids[1]


def _members(org, kind: str):
    """member: a member served by sh1 (east) and one by gd1 (south); member_group: a group of
    华东 and one of 华南; member_tag / member_tier: two of HQ's brand-wide ones."""
    from portal.extensions import db
    from portal.members.models import MemberGroup, MemberTag, MemberTier
    from tests.factories import make_member

    if kind == "member_group":
        return _object(MemberGroup, org, name="g", kind="filter", spec={"segment": "new"})
    if kind == "member":
        ids = make_member(org.stores["sh1"]).id, make_member(org.stores["gd1"]).id
    else:
        model = MemberTag if kind == "member_tag" else MemberTier
        rows = [model(name=f"{kind}{i}") for i in (1, 2)]
        db.session.add_all(rows)
        db.session.flush()
        ids = rows[0].id, rows[1].id
    db.session.commit()
    return ids


def _picture(org, node: str):
    from portal.extensions import db
    from portal.media.services import upload_image
    from portal.org.scope import Scope
    from tests.factories import png_bytes

    picture = upload_image(Scope.of_path(org.nodes[node].path), png_bytes(40, 30), f"{node}.png",
                           actor=org.users["hq"])
    db.session.commit()
    return picture


def _hq_picture(org):
    """A picture of HQ's image space: every admin below may use it."""
    return _picture(org, "hq")


MEDIA_NODE = {"hq": "hq", "east_admin": "east", "south_admin": "south"}


def _pictures(org, role: str):
    """media: a picture of the acting user's own node (only its own people change it), and one of
    the other distributor's; media_file: a kept picture's public name, and a name never kept."""
    own = _picture(org, MEDIA_NODE.get(role, "south" if SIDE.get(role) == "south" else "east"))
    foreign = _picture(org, "east" if SIDE.get(role) == "south" else "south")
    return own.id, foreign.id


def _products(org, kind: str):
    """product: a product of 华东 (east) and one of 华南 (south), each with one picture;
    product_image: (product id, picture id) of each; thumb: the public thumbnail names."""
    from portal.extensions import db
    from portal.goods.services import add_image
    from portal.org.scope import scope_for
    from tests.factories import make_product, png_bytes

    rows = []
    for node, admin in (("east", "east_admin"), ("south", "south_admin")):
        product = make_product(org.nodes[node])
        user = org.users[admin]
        image = add_image(scope_for(user), product, png_bytes(), actor=user)
        rows.append((product.id, image.id, image.thumb))
    db.session.commit()
    if kind == "product":
        return rows[0][0], rows[1][0]
    if kind == "thumb":
        return rows[0][2], "0" * 32 + "-t.png"
    return rows[0][:2], rows[1][:2]


def _goods(org, kind: str):
    """shelf_sku: (store id, SKU id) of a good sh1 / gd1 sells; local_product: (store id, product
    id) of each store's own product; assortment: one of 华东 and one of 华南 (HQ product P-ACCESS
    exists to be added)."""
    from portal.assortments.models import Assortment, AssortmentItem, StoreAssortment
    from portal.extensions import db
    from tests.factories import make_product

    if kind == "assortment":
        make_product(org.nodes["hq"], "P-ACCESS")
        db.session.commit()
        return _object(Assortment, org, name="a")
    ids = []
    for store in (org.stores["sh1"], org.stores["gd1"]):
        if kind == "local_product":
            ids.append((store.id, make_product(store).id))
            continue
        product = make_product(org.nodes["hq"])
        assortment = Assortment(name=f"a {store.code}", path=org.nodes["hq"].path)
        db.session.add(assortment)
        db.session.flush()
        db.session.add_all([AssortmentItem(assortment_id=assortment.id, product_id=product.id),
                            StoreAssortment(store_id=store.id, assortment_id=assortment.id)])
        ids.append((store.id, product.skus[0].id))
    db.session.commit()
    return ids[0], ids[1]


def _campaigns(org, offered: bool) -> tuple[int, int]:
    """A campaign of 华东 and one of 华南; offered: both published opt-in, offered to sh1 and gd1."""
    from datetime import timedelta

    from portal.campaigns.models import Campaign, CampaignStore
    from portal.extensions import db
    from portal.kernel.time import utcnow

    now = utcnow()
    values = dict(kind="coupon", name="c", rules={"per_member": 1, "budget": 5}, budget=5,
                  starts_at=now - timedelta(days=1), ends_at=now + timedelta(days=5),
                  status="published" if offered else "draft", participation="opt_in",
                  join_deadline=now + timedelta(days=2))
    own, foreign = _object(Campaign, org, **values)
    if offered:
        db.session.add_all([CampaignStore(campaign_id=own, store_id=org.stores["sh1"].id, status="invited"),
                            CampaignStore(campaign_id=foreign, store_id=org.stores["gd1"].id, status="invited")])
        db.session.commit()
    return own, foreign


def _templates(org) -> tuple[int, int]:
    """A template of 华东 (inside east's scope) and one of 华南, each with v1 pushed to a store of
    its own (sh1, gd1) and a draft changed since; block "blk1" is an editable notice."""
    from portal.decoration import services as deco
    from portal.extensions import db
    from portal.org.scope import scope_for
    from portal.pushes.services import create_push
    from portal.targets.services import TargetSpec
    from tests.factories import make_template_version

    ids = []
    for admin, store in (("east_admin", "SH001"), ("south_admin", "GD001")):
        user = org.users[admin]
        blocks = [{"key": "blk1", "type": "notice", "locked": False, "data": {"text": "欢迎光临", "link": ""}}]
        template, version = make_template_version(user, f"{admin} 首页", blocks)
        deco.add_block(scope_for(user), template, "rich_text", actor=user)
        create_push(scope_for(user), "template", version.id, "v1", TargetSpec(store_codes=[store]), actor=user)
        db.session.commit()
        ids.append(template.id)
    return ids[0], ids[1]


def _pushes(org) -> tuple[int, int]:
    """A push of 华东 (by east_admin, to sh1) and one of 华南 (by south_admin, to gd1): each reaches
    a store of its side's region, so that region's manager reads it and the other side's does not."""
    from portal.extensions import db
    from portal.org.scope import scope_for
    from portal.pushes.services import create_push
    from portal.targets.services import TargetSpec
    from tests.factories import make_template_version

    ids = []
    for admin, store in (("east_admin", "SH001"), ("south_admin", "GD001")):
        user = org.users[admin]
        _template, version = make_template_version(user, f"{admin} 推送")
        ids.append(create_push(scope_for(user), "template", version.id, "v1", TargetSpec(store_codes=[store]),
                               actor=user).id)
        db.session.commit()
    return ids[0], ids[1]


def _object(model, org, **values) -> tuple[int, int]:
    """One row in 华东 (inside east's scope) and one in 华南 (outside it)."""
    from portal.extensions import db

    own = model(path=org.nodes["east"].path, **values)
    foreign = model(path=org.nodes["south"].path, **values)
    db.session.add_all([own, foreign])
    db.session.commit()
    return own.id, foreign.id


def test_every_route_is_in_the_table(app):
    endpoints = {r.endpoint for r in app.url_map.iter_rules() if r.endpoint != "static"}
    assert endpoints == set(TABLE), f"missing: {endpoints - set(TABLE)}, stale: {set(TABLE) - endpoints}"


def test_every_post_branch_is_in_the_table(app):
    """A route that takes POST is called with POST: by its TABLE row, or by POSTS for the
    routes that serve a form on GET."""
    takes_post = {r.endpoint for r in app.url_map.iter_rules() if "POST" in r.methods}
    covered = {e for e, row in TABLE.items() if row[0] == "POST"} | set(POSTS)
    assert takes_post == covered, f"missing: {takes_post - covered}, stale: {covered - takes_post}"
    assert not set(POSTS) & {e for e, row in TABLE.items() if row[0] == "POST"}


def _call(client, method, url, data):
    if method == "GET":
        return client.get(url)
    return client.post(url, data=data or {})


ROLES = ALL + ("anonymous",)
CASES = ([(endpoint, TABLE[endpoint][0], role) for endpoint in TABLE for role in ROLES]
         + [(endpoint, "POST", role) for endpoint in POSTS for role in ROLES])


def _own_and_foreign(org, kind: str, role: str):
    """The object of the acting user's side of the tree, and the one of the other side."""
    if kind == "media":
        return _pictures(org, role)
    east, south = _ids(org, kind)
    if kind in ("thumb", "media_file"):            # public pictures: a real one and one that does not exist
        return east, south
    return (south, east) if SIDE.get(role) == "south" else (east, south)


@pytest.mark.parametrize("endpoint,method,role", CASES, ids=[f"{e}-{m}-{r}" for e, m, r in CASES])
def test_endpoint_for_role(client, org, endpoint, method, role):
    _method, template, allowed, kind, data = TABLE[endpoint]
    if method != _method:
        data = POSTS[endpoint]
    if role != "anonymous":
        login(client, org.users[role].username)
    own = foreign = None
    if kind:
        own, foreign = _own_and_foreign(org, kind, role)
    url = template.format(id=own)
    response = _call(client, method, url, _data(data, org, role, own))

    if allowed == API_KEY:
        assert response.status_code == 401, response.status_code
        assert response.get_json()["error"]["code"] == "unauthorized"
    elif allowed == SIGNED:
        assert response.status_code == 401, response.status_code
        assert response.get_json()["error"]["code"] == "bad_signature"
    elif allowed == PUBLIC:
        assert response.status_code in (200, 302), response.status_code
    elif role == "anonymous":
        assert response.status_code == 302
        assert "/login" in response.headers["Location"]
    elif role in allowed:
        assert response.status_code in (200, 302, 303), (url, response.status_code,
                                                          response.get_data(as_text=True)[:3000])
        if response.status_code in (302, 303) and endpoint != "auth.logout":
            assert "/login" not in response.headers["Location"]
        if method == "POST" and response.status_code == 200 and endpoint in POSTS:
            # A form that comes back is a form that failed: its data must succeed for this role.
            assert "is-invalid" not in response.get_data(as_text=True), (url, role)
    else:
        assert response.status_code == 403, (url, response.status_code)

    # The other side of the tree's object: 404 for every allowed role but HQ (whose scope is all).
    if kind and role in allowed and role != "hq":
        foreign_url = template.format(id=foreign)
        assert _call(client, method, foreign_url, _data(data, org, role, foreign)).status_code == 404, foreign_url


def test_store_owner_guessing_ids_sees_nothing(client, org):
    """A store owner walking through ids finds only their own store."""
    login(client, "owner1")
    found = [s for s in org.stores.values() if client.get(f"/stores/{s.id}").status_code == 200]
    assert [s.code for s in found] == ["SH001"]
    assert client.get("/stores/999999").status_code == 404


def test_nobody_edits_the_node_they_are_bound_to(client, org):
    login(client, "east_admin")
    assert client.get(f"/org/nodes/{org.nodes['east'].id}/edit").status_code == 403
    login_hq = client.post("/logout")
    assert login_hq.status_code == 302
    login(client, "hq")
    assert client.get(f"/org/nodes/{org.nodes['hq'].id}/edit").status_code == 403


def test_bulk_action_ignores_ids_outside_scope(client, org, db):
    from portal.org.models import Store

    login(client, "east_admin")
    ids = [str(org.stores["sh1"].id), str(org.stores["gd1"].id)]
    r = client.post("/stores/bulk", data={"action": "suspended", "ids": ids})
    assert r.status_code == 303
    db.session.expire_all()
    assert db.session.get(Store, org.stores["sh1"].id).status == "suspended"
    assert db.session.get(Store, org.stores["gd1"].id).status == "active"
