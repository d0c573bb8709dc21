"""The one JSON error shape: ``{"error": {"code": "<string>", "message": "…", "field": …}}``.

Every JSON error the portal answers has it: the mini-program API's (``portal.api``) and the
generic HTTP errors of JSON requests (``portal.web``). ``code`` is a stable string a client may
branch on; ``message`` is for people; ``field`` names the request field at fault (a dotted path
for nested fields), or is null.
"""
from __future__ import annotations

from http import HTTPStatus

from flask import jsonify

# The codes of plain HTTP errors; an error about something more precise names its own code
# ("store_closed", "invalid_json", "member_limit" …).
HTTP_CODES = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
    406: "not_acceptable", 409: "conflict", 413: "too_large", 415: "unsupported_media_type",
    422: "invalid", 429: "too_many_requests", 500: "server_error",
}


def http_code(status: int) -> str:
    """The string code of a plain HTTP status: ``404`` → ``"not_found"``."""
    if status in HTTP_CODES:
        return HTTP_CODES[status]
    try:
        return HTTPStatus(status).phrase.lower().replace(" ", "_").replace("-", "_")
    except ValueError:
        return "error"


def error_body(status: int, message: str, *, code: str | None = None, field: str | None = None) -> dict:
    return {"error": {"code": code or http_code(status), "message": message, "field": field}}


def json_error(status: int, message: str, *, code: str | None = None, field: str | None = None,
               headers=None):
    """The JSON response of an error, with its status (and any headers, e.g. WWW-Authenticate)."""
    response = jsonify(error_body(status, message, code=code, field=field))
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response
