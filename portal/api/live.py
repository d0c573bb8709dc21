"""``GET /api/v1/stores/<code>/live-rooms``: the upcoming and live rooms the store shows — its own
and the broadcasts it carries — with their goods at the store's prices.

The ETag is made of ``live.showing.shown_version`` (one statement of aggregates), so a 304 never
builds the rooms."""
from __future__ import annotations

import marshmallow as ma

from portal.api.auth import current_store
from portal.api.conditional import conditional
from portal.api.schemas import ETAG_HEADER, StoreRefSchema
from portal.api.spec import ApiBlueprint
from portal.goods.services import thumb_path
from portal.kernel.money import yuan_text
from portal.live import showing
from portal.live.models import OPTIONS, PROVIDERS, STATUSES

bp = ApiBlueprint("api_live", __name__, url_prefix="/api/v1", description="The store's live rooms")

LIVE_FORMAT = "live-rooms-v1"


class LiveGoodSchema(ma.Schema):
    product = ma.fields.String(required=True, attribute="code")
    name = ma.fields.String(required=True)
    category = ma.fields.String(required=True)
    price = ma.fields.Function(lambda g: yuan_text(g.price), required=True, metadata={
        "type": "string", "description": "Yuan, as text: the lowest of its SKUs' prices in this store."})
    price_fen = ma.fields.Integer(required=True, attribute="price")
    list_price = ma.fields.Function(lambda g: yuan_text(g.list_price), required=True, metadata={"type": "string"})
    list_price_fen = ma.fields.Integer(required=True, attribute="list_price")
    thumbnail = ma.fields.Function(lambda g: thumb_path(g.thumb), required=True, allow_none=True,
                                   metadata={"type": "string"})


class LiveRoomSchema(ma.Schema):
    id = ma.fields.Integer(required=True, attribute="room.id")
    title = ma.fields.String(required=True, attribute="room.title")
    cover = ma.fields.Function(lambda s: s.room.cover_url or None, required=True, allow_none=True,
                               metadata={"type": "string", "description": "The cover picture's address."})
    anchor = ma.fields.String(required=True, attribute="room.anchor")
    provider = ma.fields.String(required=True, attribute="room.provider", metadata={
        "enum": list(PROVIDERS),
        "description": "channels: Channels live (视频号直播); miniprogram: mini-program live."})
    provider_room_id = ma.fields.String(required=True, allow_none=True, attribute="room.provider_room_id", metadata={
        "description": "The provider's id of the room or live notice, once the provider has it."})
    broadcast = ma.fields.Boolean(required=True, attribute="room.is_broadcast", metadata={
        "description": "HQ's or a region's room that this store carries, not the store's own."})
    status = ma.fields.Integer(required=True, attribute="room.status", metadata={
        "enum": list(STATUSES), "description": "WeChat's codes: 101 live, 102 not started, 105 paused "
                                               "(103 ended, 104 banned, 106 abnormal, 107 expired are not listed)."})
    status_label = ma.fields.String(required=True)
    scheduled_start = ma.fields.Function(lambda s: s.room.scheduled_start.isoformat(), required=True,
                                         metadata={"type": "string", "format": "date-time"})
    scheduled_end = ma.fields.Function(lambda s: s.room.scheduled_end.isoformat(), required=True,
                                       metadata={"type": "string", "format": "date-time"})
    options = ma.fields.Function(
        lambda s: {name: bool((s.room.options or {}).get(name, True)) for name in OPTIONS}, required=True,
        metadata={"type": "object", "description": "comments, likes, shelf, replay, sharing: on/off."})
    replay_url = ma.fields.String(required=True, allow_none=True, attribute="room.replay_url")
    goods = ma.fields.List(ma.fields.Nested(LiveGoodSchema), required=True, metadata={
        "description": "The room's shelf, in order."})


class LiveRoomListSchema(ma.Schema):
    store = ma.fields.Nested(StoreRefSchema, required=True)
    rooms = ma.fields.List(ma.fields.Nested(LiveRoomSchema), required=True)


@bp.route("/stores/<code>/live-rooms", endpoint="list_live_rooms")
@bp.response(200, LiveRoomListSchema, headers=ETAG_HEADER)
@bp.alt_response(304, description="Not modified: the copy the mini-program holds is current.")
def list_live_rooms(code: str):
    """The upcoming and live rooms the store shows (its own and the broadcasts it carries), live first"""
    store = current_store()
    return conditional(
        (LIVE_FORMAT, store.id, store.code, store.updated_at, showing.shown_version(store.id)),
        lambda: LiveRoomListSchema().dump({"store": store, "rooms": showing.rooms_shown(store.id)}))
