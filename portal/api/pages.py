"""``GET /api/v1/stores/<code>/page``: the store's effective decoration page.

Called on every mini-program launch, so a client that holds the page gets a 304 after two
indexed queries (the key with its store, the page's fingerprint) and no block JSON is read."""
from __future__ import annotations

import marshmallow as ma

from portal.api.auth import current_store
from portal.api.conditional import conditional
from portal.api.schemas import ETAG_HEADER, StoreRefSchema
from portal.api.spec import ApiBlueprint
from portal.decoration.services import effective_page, page_fingerprint

bp = ApiBlueprint("api_pages", __name__, url_prefix="/api/v1", description="The store's decoration page")

# Part of every ETag: bump it when the JSON changes shape.
PAGE_FORMAT = "page-v1"


class TemplateRefSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)


class BlockSchema(ma.Schema):
    key = ma.fields.String(required=True)
    type = ma.fields.String(required=True, metadata={"description": "banner, notice, goods_grid, live_entry, …"})
    editable = ma.fields.Boolean(required=True, metadata={"description": "The store may edit it."})
    customized = ma.fields.Boolean(required=True, metadata={"description": "It shows the store's own edit."})
    data = ma.fields.Dict(required=True, metadata={"description": "The block's content; its keys depend on its type."})


class PageSchema(ma.Schema):
    store = ma.fields.Nested(StoreRefSchema, required=True)
    template = ma.fields.Nested(TemplateRefSchema, allow_none=True, required=True)
    version = ma.fields.Integer(allow_none=True, required=True)
    blocks = ma.fields.List(ma.fields.Nested(BlockSchema), required=True)


@bp.route("/stores/<code>/page", endpoint="store_page")
@bp.response(200, PageSchema, headers=ETAG_HEADER)
@bp.alt_response(304, description="Not modified: the copy the mini-program holds is current.")
def store_page(code: str):
    """The store's page: the template version pushed to it, with its own edits"""
    store = current_store()
    # The store's own row (name, code) is in the JSON too, so its updated_at is in the version.
    version = (PAGE_FORMAT, store.id, store.code, store.updated_at, page_fingerprint(store.id))
    return conditional(version, lambda: PageSchema().dump(effective_page(store).to_json()))
