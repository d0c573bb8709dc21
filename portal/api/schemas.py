"""Schemas every resource shares."""
from __future__ import annotations

import marshmallow as ma


class StoreRefSchema(ma.Schema):
    code = ma.fields.String(required=True)
    name = ma.fields.String(required=True)


# A read answers 304 (no body) when If-None-Match holds its current ETag.
IF_NONE_MATCH = {
    "in": "header", "name": "If-None-Match", "required": False, "schema": {"type": "string"},
    "description": "The ETag of the copy the mini-program holds: 304 with no body if it is still current.",
}
ETAG_HEADER = {"ETag": {"description": "Send it back as If-None-Match.", "schema": {"type": "string"}}}
