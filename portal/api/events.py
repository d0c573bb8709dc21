"""``POST /api/v1/stores/<code>/events``: what a store's mini-program reports back, signed, in
batches, idempotent per (store, event id).

The request is authenticated by its signature before the body is parsed (``portal.api.auth``);
the body is at most 512 KB and 500 events (413 otherwise), a JSON object with an ``events`` list
(400 naming the field otherwise). The answer is 200 with one result per event, in order
(``portal.ingest.services.ingest``): a bad event is rejected with its reason while the good ones
are stored, and the request commits once, so a 200 means every applied event is stored.

The document lists every registered event type with its data schema (``Event`` is a ``oneOf`` of
one variant per type, by ``type``), built from ``portal.ingest.registry.handlers()`` when the app
is made: a type registered by a domain shows up here without touching this module.
"""
from __future__ import annotations

import json

import marshmallow as ma
from flask import Response

from portal.api.auth import SIGNED_SCHEME, current_store, signed_body, too_large
from portal.api.errors import ApiError, ErrorSchema
from portal.api.spec import ApiBlueprint
from portal.ingest import registry
from portal.ingest import services as ingest
from portal.ingest.models import APPLIED, DUPLICATE, HELD, REJECTED
from portal.kernel.jsonbody import BodyError, loads

bp = ApiBlueprint("api_events", __name__, url_prefix="/api/v1", signed=True,
                  description="Events the mini-program reports: members, orders, refunds, coupons (signed)")

MAX_EVENTS = ingest.MAX_EVENTS
STATUSES = (APPLIED, DUPLICATE, HELD, REJECTED)
_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


class EventErrorSchema(ma.Schema):
    code = ma.fields.String(required=True, metadata={
        "description": "invalid, unknown_type, idempotency_conflict, conflict, retry, or a handler's own code"})
    field = ma.fields.String(required=True, allow_none=True, metadata={
        "description": "Where in the event: id, type, occurred_at, data.lines.0.quantity …; null for the whole event"})
    message = ma.fields.String(required=True)


class EventResultSchema(ma.Schema):
    index = ma.fields.Integer(required=True, metadata={"description": "The event's place in the batch, from 0."})
    id = ma.fields.String(required=True, allow_none=True, metadata={"description": "The event's id as sent."})
    status = ma.fields.String(required=True, validate=ma.validate.OneOf(STATUSES), metadata={
        "description": "applied (stored now), duplicate (this id and body were stored before: not applied "
                       "again), held (stored, applied when what it needs arrives), rejected (not stored: see "
                       "error; fix it and send it again under the same id)"})
    error = ma.fields.Nested(EventErrorSchema, required=True, allow_none=True)


class EventResultsSchema(ma.Schema):
    results = ma.fields.List(ma.fields.Nested(EventResultSchema), required=True)


def _bad(message: str, field: str | None = "events", status: int = 400) -> ApiError:
    return ApiError(status, message, code="invalid" if status == 400 else "too_large", field=field)


@bp.route("/stores/<code>/events", methods=["POST"], endpoint="post_events")
@bp.doc(security=[{SIGNED_SCHEME: []}],
        requestBody={"required": True, "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/EventBatch"}}}})
@bp.response(200, EventResultsSchema)
@bp.alt_response(400, schema=ErrorSchema, description="Not JSON, or no events list (the error names the field).")
@bp.alt_response(401, schema=ErrorSchema, description="Unsigned or badly signed (bad_signature), or stale_request.")
@bp.alt_response(413, schema=ErrorSchema, description="Over 512 KB or over 500 events.")
def post_events(code: str):
    """Report a batch of events (at most 500 and 512 KB), one result per event"""
    store = current_store()
    try:
        body = loads(signed_body())
    except BodyError as exc:
        raise ApiError(400, str(exc), code="invalid_json") from None
    if not isinstance(body, dict):
        raise _bad('The body must be a JSON object: {"events": [{"id", "type", "occurred_at", "data"}, …]}.', None)
    events = body.get("events")
    if not isinstance(events, list):
        raise _bad('"events" must be a list of events: {"events": [{"id", "type", "occurred_at", "data"}, …]}.')
    if len(events) > MAX_EVENTS:
        raise too_large(f"{len(events)} events in one request: send at most {MAX_EVENTS}.")
    results = ingest.ingest(store, events, own_transaction=True)
    return Response(_encode({"results": results}), mimetype="application/json")


# --------------------------------------------------------------------------- the document

def _component_name(type_: str, suffix: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in type_.replace("-", "_").replace(".", "_").split("_")) \
        + suffix


def _envelope(type_schema: dict, data: dict, description: str = "") -> dict:
    return {"type": "object", "required": ["id", "type", "occurred_at", "data"], "description": description,
            "properties": {
                "id": {"type": "string", "minLength": 1, "maxLength": ingest.MAX_ID,
                       "description": "The client's id of the event: the same id is applied once per store "
                                      "(remembered at least 7 days)."},
                "type": type_schema,
                "occurred_at": {"type": "string", "format": "date-time",
                                "description": "When it happened, ISO 8601 with its offset."},
                "data": data}}


def document_types(api) -> None:
    """Add the batch, the event (one variant per registered type) and each type's data schema to
    the OpenAPI document."""
    components = api.spec.components
    handlers = sorted(registry.handlers().values(), key=lambda h: (h.phase, h.type))
    names: dict[type, str] = {}
    variants = {}
    for h in handlers:
        if h.schema not in names:
            names[h.schema] = _component_name(h.type, "Data")
            components.schema(names[h.schema], schema=h.schema)
        variant = _component_name(h.type, "Event")
        components.schema(variant, component=_envelope(
            {"type": "string", "enum": [h.type]}, {"$ref": f"#/components/schemas/{names[h.schema]}"}, h.doc))
        variants[h.type] = f"#/components/schemas/{variant}"
    if variants:
        event = {"oneOf": [{"$ref": ref} for ref in variants.values()],
                 "discriminator": {"propertyName": "type", "mapping": variants}}
    else:
        event = _envelope({"type": "string"}, {"type": "object"})
    components.schema("Event", component=event)
    components.schema("EventBatch", component={
        "type": "object", "required": ["events"],
        "properties": {"events": {
            "type": "array", "maxItems": MAX_EVENTS, "items": {"$ref": "#/components/schemas/Event"},
            "description": "At most 500 events, at most 512 KB in all. Each is applied all-or-nothing; "
                           "a bad one does not stop the others."}}})
