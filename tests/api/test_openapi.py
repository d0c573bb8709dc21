"""The API checked against its own document: /api/v1/openapi.json is valid OpenAPI 3, names every
/api/v1 route with its schemas and security scheme, and a bounded schemathesis run over it
(with a real store key and seeded data, so it reaches 200s) finds no 5xx and no response that
breaks its schema. Plus the one error shape, and the HTML portal's error pages untouched."""
from __future__ import annotations

import json
import re
import zlib

import pytest
import schemathesis
from flask import abort
from hypothesis import HealthCheck, given, settings
from openapi_spec_validator import validate
from schemathesis.checks import not_a_server_error
from schemathesis.core import NOT_SET
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from portal import create_app
from portal.extensions import db
from portal.org.scope import scope_for
from portal.pushes import services as pushes
from portal.targets.services import TargetSpec
from tests import factories
from tests.api.signing import credential, signed_post
from tests.campaigns.helpers import key, make_campaign, push

ARG = re.compile(r"<(?:[a-z_]+:)?([a-z_]+)>")


def _api_rules(app):
    """(OpenAPI path, method) of every /api/v1 route that is an API endpoint (not the document)."""
    return {(ARG.sub(r"{\1}", r.rule), m.lower()) for r in app.url_map.iter_rules()
            if r.rule.startswith("/api/v1/") and not r.endpoint.startswith("api_docs.")
            for m in r.methods - {"HEAD", "OPTIONS"}}


def test_the_document_is_valid_openapi_3_and_lists_every_api_route(client):
    r = client.get("/api/v1/openapi.json")
    assert r.status_code == 200 and r.is_json
    spec = r.get_json()
    validate(spec)                                   # raises on an invalid OpenAPI document
    assert spec["openapi"].startswith("3.")
    listed = {(path, method) for path, item in spec["paths"].items() for method in item if method != "parameters"}
    assert listed == _api_rules(client.application) and len(listed) == 6
    # The store's key, required everywhere; the ingestion API's writes are signed instead.
    scheme = spec["components"]["securitySchemes"]["storeKey"]
    assert scheme["type"] == "http" and scheme["scheme"] == "bearer" and scheme["description"]
    assert spec["security"] == [{"storeKey": []}]
    signed = spec["components"]["securitySchemes"]["storeSignature"]
    assert signed["in"] == "header" and signed["name"] == "X-Portal-Key"
    assert "X-Portal-Signature" in signed["description"]
    assert spec["paths"]["/api/v1/stores/{code}/events"]["post"]["security"] == [{"storeSignature": []}]
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if method == "parameters":
                continue
            ok = [s for s in op["responses"] if s.startswith("2")]
            assert ok and all(op["responses"][s]["content"]["application/json"]["schema"]["$ref"] for s in ok), path
            assert op["responses"]["default"] == {"$ref": "#/components/responses/DEFAULT_ERROR"}, path
    error = spec["components"]["schemas"]["ErrorDetail"]
    assert set(error["properties"]) == {"code", "message", "field"} and error["properties"]["field"]["nullable"]
    goods = spec["paths"]["/api/v1/stores/{code}/goods"]["get"]
    assert [p["name"] for p in goods["parameters"]] == ["page", "per_page", "category", "If-None-Match"]
    claim = spec["paths"]["/api/v1/stores/{code}/coupons/{campaign_id}/claim"]["post"]
    assert claim["requestBody"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Claim"}


def test_the_docs_page_renders_the_document_under_the_csp(client):
    r = client.get("/api/v1/docs")
    assert r.status_code == 200 and r.mimetype == "text/html"
    html = r.get_data(as_text=True)
    for path in client.get("/api/v1/openapi.json").get_json()["paths"]:
        assert path in html
    assert "Bearer" in html and "GoodsPage" in html and "If-None-Match" in html
    assert "script-src 'self'" in r.headers["Content-Security-Policy"]
    # Nothing the CSP would block: every script is a file of ours, no inline style, no CDN.
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)
    assert " style=" not in html and "<style" not in html
    assert not re.search(r"(src|href)=\"(https?:)?//", html)
    assert "Set-Cookie" not in r.headers              # a public page: no session is made for it


# --------------------------------------------------------------------------- one error shape

def _shape(r, status: int, code: str, field=None):
    assert r.status_code == status, (r.status_code, r.get_data(as_text=True)[:300])
    assert r.is_json
    assert r.get_json() == {"error": {"code": code, "message": r.get_json()["error"]["message"], "field": field}}
    assert r.get_json()["error"]["message"]


def test_every_api_error_has_the_one_shape(client, org, db):
    hq = org.users["hq"]
    coupon = make_campaign(hq, rules={"discount": "percent", "percent": 20, "threshold_fen": 0, "per_member": 1,
                                      "budget": 5})
    push(hq, coupon, TargetSpec(store_codes=["SH001"]))
    k = key(org.stores["sh1"])
    auth = {"Authorization": f"Bearer {k}"}
    claim_url = f"/api/v1/stores/SH001/coupons/{coupon.id}/claim"

    _shape(client.get("/api/v1/stores/SH001/goods"), 401, "unauthorized")
    _shape(client.get("/api/v1/stores/GD001/goods", headers=auth), 404, "not_found")
    _shape(client.get("/api/v1/no/such/path", headers=auth), 404, "not_found")
    _shape(client.delete("/api/v1/stores/SH001/page", headers=auth), 405, "method_not_allowed")
    _shape(client.post(claim_url, data="nope", headers={**auth, "Content-Type": "application/json"}, csrf=False),
           400, "invalid_json")
    _shape(client.post(claim_url, json={"member": 7}, headers=auth, csrf=False), 422, "invalid", "member")
    _shape(client.post(claim_url, json={}, headers=auth, csrf=False), 422, "invalid", "member")
    # An id past PostgreSQL's INTEGER names no row: 404, never the 500 of an overflowing parameter.
    _shape(client.post(f"/api/v1/stores/SH001/coupons/{2**31}/claim", json={"member": "m1"}, headers=auth,
                       csrf=False), 404, "not_found")
    assert client.post(claim_url, json={"member": "m1"}, headers=auth, csrf=False).status_code == 201
    _shape(client.post(claim_url, json={"member": "m1"}, headers=auth, csrf=False), 409, "member_limit")


def test_413_415_429_and_500_have_the_one_shape_too(app, org):
    """The same handler answers any HTTP error of an API path: a body over the size limit, and
    statuses the endpoints do not raise today (a route of this test's own app raises them)."""
    k = key(org.stores["sh1"])
    small = create_app("test", SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
                       MAX_CONTENT_LENGTH=64, PROPAGATE_EXCEPTIONS=False)

    @small.route("/api/v1/_status/<int:status>")
    def _status(status):
        if status == 500:
            raise RuntimeError("a bug")
        abort(status)

    client = small.test_client()
    big = '{"member": "' + "a" * 100 + '"}'
    with small.app_context():
        _shape(client.post("/api/v1/stores/SH001/coupons/1/claim", data=big,
                           headers={"Content-Type": "application/json", "Authorization": "Bearer nope"}),
               401, "unauthorized")          # the key is checked before the body is read
        _shape(client.post("/api/v1/stores/SH001/coupons/1/claim", data=big,
                           headers={"Content-Type": "application/json", "Authorization": f"Bearer {k}"}),
               413, "too_large")
        for status, code in ((413, "too_large"), (415, "unsupported_media_type"), (429, "too_many_requests"),
                             (500, "server_error"), (400, "bad_request"), (403, "forbidden"), (409, "conflict")):
            _shape(client.get(f"/api/v1/_status/{status}"), status, code)
        from portal.extensions import db
        db.session.remove()
    with small.app_context():
        from portal.extensions import db
        db.engine.dispose()


def test_the_html_portal_keeps_its_html_error_pages(client, login_as):
    """flask-smorest's app-wide JSON error handler is not installed: pages answer HTML."""
    r = client.get("/no/such/page")
    assert r.status_code == 404 and r.mimetype == "text/html" and "<html" in r.get_data(as_text=True)
    r = login_as("owner1").get("/stores")
    assert r.status_code == 403 and r.mimetype == "text/html" and "<html" in r.get_data(as_text=True)


# --------------------------------------------------------------------------- schemathesis

@pytest.fixture
def seeded(org, db):
    """SH001 with a pushed page, goods on its shelf, a running coupon; and its credential."""
    hq = org.users["hq"]
    _template, version = factories.make_template_version(hq)
    db.session.commit()
    pushes.create_push(scope_for(hq), "template", version.id, "v1", TargetSpec(store_codes=["SH001"]), actor=hq)
    db.session.commit()
    products = [factories.make_product(org.nodes["hq"], f"P{i}", skus=2) for i in range(3)]
    a = factories.make_assortment(org.nodes["hq"], products, "新品")
    pushes.create_push(scope_for(hq), "goods", a.id, a.name, TargetSpec(store_codes=["SH001"]), actor=hq)
    db.session.commit()
    coupon = make_campaign(hq, rules={"discount": "percent", "percent": 20, "threshold_fen": 0, "per_member": 3,
                                      "budget": 1000})
    push(hq, coupon, TargetSpec(store_codes=["SH001"]))
    _live_room(org.stores["sh1"], products)
    return credential(org.stores["sh1"]), coupon.id


def _live_room(store, products):
    """A live room of the store with goods on its shelf, so the live-rooms read has a body to check."""
    from datetime import timedelta

    from portal.kernel.time import utcnow
    from portal.live.models import LIVE, LiveRoom, LiveRoomGoods, LiveRoomStore

    start = utcnow() - timedelta(minutes=20)
    room = LiveRoom(store_id=store.id, path=store.path, title="新品直播", anchor="小王", status=LIVE,
                    scheduled_start=start, scheduled_end=start + timedelta(hours=2), replay_url=None)
    db.session.add(room)
    db.session.flush()
    db.session.add(LiveRoomStore(room_id=room.id, store_id=store.id, path=store.path))
    db.session.add_all([LiveRoomGoods(room_id=room.id, product_id=p.id, position=k) for k, p in enumerate(products)])
    db.session.commit()


EVENTS = "POST /api/v1/stores/{code}/events"
CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance, content_type_conformance]


def test_schemathesis_finds_no_5xx_and_no_response_off_its_schema(app, seeded):
    cred, coupon_id = seeded
    api_key = cred.read_key
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    seen: dict[str, set[int]] = {}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 6
    signer = app.test_client()

    # Valid requests (30 an operation), then requests off the document (15: bad bodies, wrong
    # types), all derandomized: the same ~180 calls on every run, 10-15 s on a quiet machine.
    def run(operation, mode, examples):
        @settings(max_examples=examples, derandomize=True, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy(mode))
        def one(case):
            # Mostly the key's own store (so the calls get past the key to real data), now and
            # then the generated code; the claim mostly names the running coupon.
            params = case.path_parameters
            if zlib.crc32(str(params.get("code", "")).encode()) % 5:
                params["code"] = "SH001"
            if isinstance(params.get("campaign_id"), int) and params["campaign_id"] % 3:
                params["campaign_id"] = coupon_id
            if operation.label == EVENTS:
                # Signed like a mini-program: the signature of the exact bytes sent.
                body = case.body
                raw = b"" if body is NOT_SET else body if isinstance(body, bytes) else json.dumps(body).encode()
                response = signed_post(signer, params["code"], cred.key_id, cred.secret, raw)
            else:
                response = case.call(headers={"Authorization": f"Bearer {api_key}"})
            case.validate_response(response, checks=CHECKS)
            seen.setdefault((operation.label, mode), set()).add(response.status_code)

        one()

    for operation in operations:
        run(operation, GenerationMode.POSITIVE, 30)
        run(operation, GenerationMode.NEGATIVE, 15)

    positive = {label: codes for (label, mode), codes in seen.items() if mode == GenerationMode.POSITIVE}
    assert len(positive) == 6 and all(200 in codes or 201 in codes for codes in positive.values()), seen
    claims = seen[("POST /api/v1/stores/{code}/coupons/{campaign_id}/claim", GenerationMode.NEGATIVE)]
    assert claims & {400, 422}, seen             # bad bodies got as far as the parser
