"""The OpenAPI document (``/api/v1/openapi.json``) and its readable page (``/api/v1/docs``).

Both are generated from the code: flask-smorest builds the document from the blueprints'
schemas, and the page is rendered on the server from that document (no script, no CDN: it
works under the portal's Content-Security-Policy and offline). Neither needs a key."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify, render_template

from portal.api.spec import api_of

bp = Blueprint("api_docs", __name__, url_prefix="/api/v1")

METHODS = ("get", "post", "put", "patch", "delete")


def document() -> dict:
    return api_of(current_app).spec.to_dict()


@bp.route("/openapi.json")
def openapi_json():
    return jsonify(document())


def _ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def type_text(prop: dict) -> str:
    """A property's type as a reader wants it: ``string``, ``integer | null``, ``[Good]``, ``Store``."""
    if "$ref" in prop:
        text = _ref_name(prop["$ref"])
    elif prop.get("allOf") or prop.get("anyOf"):
        parts = [type_text(p) for p in prop.get("allOf") or prop["anyOf"]]
        text = " | ".join(dict.fromkeys(p for p in parts if p not in ("object | null",)))
        if "object | null" in parts:
            text += " | null"
        return text
    elif prop.get("type") == "array":
        text = f"[{type_text(prop.get('items', {}))}]"
    else:
        text = prop.get("type", "any")
        if prop.get("format"):
            text += f" ({prop['format']})"
    return f"{text} | null" if prop.get("nullable") else text


def _content_schema(obj: dict) -> str | None:
    schema = (obj.get("content") or {}).get("application/json", {}).get("schema")
    return type_text(schema) if schema else None


def _operations(spec: dict) -> list[dict]:
    responses = spec.get("components", {}).get("responses", {})
    ops = []
    for path, item in spec.get("paths", {}).items():
        shared = item.get("parameters", [])
        for method in METHODS:
            if method not in item:
                continue
            op = item[method]
            params = [{"name": p["name"], "in": p["in"], "required": p.get("required", False),
                       "type": type_text(p.get("schema", {})), "description": p.get("description", "")}
                      for p in [*shared, *op.get("parameters", [])]]
            shown = []
            for status, response in op.get("responses", {}).items():
                if "$ref" in response:
                    response = responses.get(_ref_name(response["$ref"]), {})
                shown.append({"status": status, "description": response.get("description", ""),
                              "schema": _content_schema(response)})
            body = op.get("requestBody")
            ops.append({"method": method.upper(), "path": path, "summary": op.get("summary", ""),
                        "description": op.get("description", ""), "tags": op.get("tags", []),
                        "params": params, "body": _content_schema(body) if body else None,
                        "responses": shown, "anchor": f"{method}-{path}".replace("/", "-").strip("-")})
    return ops


def _schemas(spec: dict) -> list[dict]:
    out = []
    for name, schema in spec.get("components", {}).get("schemas", {}).items():
        required = set(schema.get("required", []))
        out.append({"name": name, "fields": [
            {"name": field, "type": type_text(prop), "required": field in required,
             "description": prop.get("description", "")}
            for field, prop in schema.get("properties", {}).items()]})
    return out


@bp.route("/docs")
def docs():
    spec = document()
    return render_template("api/docs.html", spec=spec, operations=_operations(spec), schemas=_schemas(spec),
                           security=spec.get("components", {}).get("securitySchemes", {}))
