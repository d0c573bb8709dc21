"""The library under the API layer: flask-smorest (marshmallow schemas, webargs parsing, apispec).

Two adjustments keep it inside /api/v1:

- ``Api`` registers no app-wide ``HTTPException`` handler (flask-smorest's would answer the
  HTML portal's 404 and 403 in JSON); API errors are ``ApiError`` and the app's own handler
  answers the rest in the same shape (``portal.api.errors``).
- ``ApiBlueprint`` parses with ``ApiParser``: a JSON body goes through the portal's strict JSON
  reader (no NaN, no 100,000-deep nesting: 400 ``invalid_json``), and a validation error is
  422 ``invalid`` naming its field.
"""
from __future__ import annotations

import flask_smorest
from apispec import BasePlugin
from webargs.flaskparser import FlaskParser

from portal.api.auth import (
    SCHEME,
    SECURITY_SCHEME,
    SIGNED_SCHEME,
    SIGNED_SECURITY_SCHEME,
    authenticate_request,
    authenticate_signed_request,
)
from portal.api.errors import ApiError, ErrorSchema, field_error, handle_api_error
from portal.api.schemas import IF_NONE_MATCH
from portal.kernel.ids import MAX_ID, IdConverter
from portal.kernel.jsonbody import BodyError, json_object

TITLE = "Franchise portal mini-program API"
VERSION = "1"
OPENAPI_VERSION = "3.0.3"


class ApiParser(FlaskParser):
    def load_json(self, req, schema):
        try:
            return json_object(req)
        except BodyError as exc:
            raise ApiError(400, str(exc), code="invalid_json") from None

    def handle_error(self, error, req, schema, *, error_status_code, error_headers):
        field, message = field_error(error.messages)
        raise ApiError(422, message, code="invalid", field=field)


class ApiBlueprint(flask_smorest.Blueprint):
    """A blueprint of /api/v1 endpoints: each authenticates by the store's key before its view
    runs; ``signed=True``: by the signature of its body (the ingestion API's writes)."""

    ARGUMENTS_PARSER = ApiParser()

    def __init__(self, *args, signed: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.before_request(authenticate_signed_request if signed else authenticate_request)


class ConditionalReads(BasePlugin):
    """Every operation that documents a 304 takes ``If-None-Match``: documented once, here."""

    def operation_helper(self, path=None, operations=None, **kwargs):
        for operation in (operations or {}).values():
            if any(str(status) == "304" for status in operation.get("responses", {})):
                operation.setdefault("parameters", []).append(dict(IF_NONE_MATCH))


class Api(flask_smorest.Api):
    ERROR_SCHEMA = ErrorSchema

    def __init__(self, app):
        super().__init__(spec_kwargs={"title": TITLE, "version": VERSION, "openapi_version": OPENAPI_VERSION,
                                      "security": [{SCHEME: []}],
                                      "extra_plugins": [ConditionalReads()]})
        self.register_converter(IdConverter, lambda _c: {"type": "integer", "minimum": 1, "maximum": MAX_ID})
        self.init_app(app)
        self.spec.components.security_scheme(SCHEME, SECURITY_SCHEME)
        self.spec.components.security_scheme(SIGNED_SCHEME, SIGNED_SECURITY_SCHEME)

    def _register_error_handlers(self):
        # Not flask-smorest's app-wide HTTPException handler: the HTML pages keep their error pages.
        self._app.register_error_handler(ApiError, handle_api_error)


def api_of(app) -> Api:
    return app.extensions["flask-smorest"]["apis"][""]["ext_obj"]
