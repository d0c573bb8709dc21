"""Errors of the mini-program API, all in the one shape of ``portal.kernel.jsonerrors``.

A view (or the request parser) raises ``ApiError``; the app-wide handler below turns it into
``{"error": {"code", "message", "field"}}``. Plain HTTP errors under ``/api/`` (an unknown path,
a wrong method, a body over the size limit, a 500) are answered in the same shape by the app's
one ``HTTPException`` handler (``portal.web``), so the HTML pages keep their HTML error pages.
"""
from __future__ import annotations

import marshmallow as ma

from portal.extensions import db
from portal.kernel.jsonerrors import http_code, json_error

AUTH_CHALLENGE = 'Bearer realm="store-api"'


class ApiError(Exception):
    def __init__(self, status: int, message: str, *, code: str | None = None, field: str | None = None,
                 headers: dict | None = None):
        super().__init__(message)
        self.status, self.message, self.field, self.headers = status, message, field, headers or {}
        self.code = code or http_code(status)


def unauthorized(message: str) -> ApiError:
    return ApiError(401, message, headers={"WWW-Authenticate": AUTH_CHALLENGE})


def not_found() -> ApiError:
    # Another store's code answers exactly what a store that does not exist answers.
    return ApiError(404, "No such store for this API key.")


def handle_api_error(exc: ApiError):
    db.session.rollback()
    return json_error(exc.status, exc.message, code=exc.code, field=exc.field, headers=exc.headers)


def field_error(messages, path: tuple = ()) -> tuple[str | None, str]:
    """The first field of a marshmallow ``messages`` tree, as a dotted path, and its message.

    ``{"json": {"member": ["Not a valid string."]}}`` → ``("member", "member: Not a valid string.")``;
    the location level (json, query, path) is not part of the field's name."""
    if isinstance(messages, dict):
        for key, value in messages.items():
            return field_error(value, path + (str(key),))
    if isinstance(messages, list) and messages and not isinstance(messages[0], str):
        return field_error(messages[0], path)
    text = messages[0] if isinstance(messages, list) and messages else str(messages)
    names = [p for p in path[1:] if p != ma.schema.SCHEMA]
    field = ".".join(names) or None
    return field, f"{field}: {text}" if field else text


# --------------------------------------------------------------------------- documented

class ErrorDetailSchema(ma.Schema):
    code = ma.fields.String(required=True, metadata={
        "description": "A stable string: unauthorized, not_found, invalid, invalid_json, store_closed, …"})
    message = ma.fields.String(required=True, metadata={"description": "What went wrong, for people."})
    field = ma.fields.String(required=True, allow_none=True, metadata={
        "description": "The request field at fault (a dotted path), or null."})


class ErrorSchema(ma.Schema):
    error = ma.fields.Nested(ErrorDetailSchema, required=True)
