"""The ingestion endpoint's batches: one result per event, bad events rejected with their field
while the good ones are stored, idempotency inside a batch and across batches, the limits."""
from __future__ import annotations

import json

from sqlalchemy import func, select

from portal.extensions import db
from portal.ingest.models import InboxEvent
from portal.members.models import Guide
from tests.api.signing import credential, event, signed_post
from tests.ingest import handlers  # noqa: F401  (the framework test types)


def _post(client, cred, events, code="SH001"):
    r = signed_post(client, code, cred.key_id, cred.secret, {"events": events})
    assert r.status_code == 200, r.get_data(as_text=True)[:500]
    return r.get_json()["results"]


def _guides() -> dict[str, str]:
    return dict(db.session.execute(select(Guide.code, Guide.name)).all())


def _guide(n, name=None, **kw):
    return event(f"e{n}", data={"code": f"G{n}", "name": name or f"导购{n}"}, **kw)


def _statuses(results):
    return [(r["index"], r["id"], r["status"], r["error"] and (r["error"]["code"], r["error"]["field"]))
            for r in results]


def test_good_and_bad_events_in_one_batch(client, org):
    cred = credential(org.stores["sh1"])
    batch = [
        _guide(1),
        {"id": "e2", "type": "test.guide", "occurred_at": "2026-03-02T10:15:00+08:00", "data": {"code": "G2"}},
        _guide(3, type_="no.such.type"),
        _guide(4, occurred_at="2026-03-02 10:15"),                    # no offset
        _guide(5, occurred_at="yesterday"),
        {"id": "", "type": "test.guide", "occurred_at": "2026-03-02T10:15:00Z", "data": {}},
        "not an event",
        {"id": "e8", "type": "test.guide", "occurred_at": "2026-03-02T10:15:00Z", "data": [1]},
        _guide(9, name="no"),                                          # the handler refuses it
        {"id": "e10", "type": "test.guide", "occurred_at": "2026-03-02T10:15:00Z",
         "data": {"code": "G10", "name": 7}},
        _guide(11, occurred_at="2026-03-02T02:15:00Z"),
        {"id": "e\x0012", "type": "test.guide", "occurred_at": "2026-03-02T10:15:00Z",
         "data": {"code": "G12", "name": "十二"}},                    # a NUL PostgreSQL cannot store
        {"id": "e13", "type": "test.guide", "occurred_at": "2026-03-02T10:15:00Z",
         "data": {"code": "G\x0013", "name": "十三"}},                # the handler's insert fails: isolated
    ]
    results = _post(client, cred, batch)
    assert _statuses(results) == [
        (0, "e1", "applied", None),
        (1, "e2", "rejected", ("invalid", "data.name")),
        (2, "e3", "rejected", ("unknown_type", "type")),
        (3, "e4", "rejected", ("invalid", "occurred_at")),
        (4, "e5", "rejected", ("invalid", "occurred_at")),
        (5, "", "rejected", ("invalid", "id")),
        (6, None, "rejected", ("invalid", None)),
        (7, "e8", "rejected", ("invalid", "data")),
        (8, "e9", "rejected", ("test_refused", "data.name")),
        (9, "e10", "rejected", ("invalid", "data.name")),
        (10, "e11", "applied", None),
        (11, "e\x0012", "rejected", ("invalid", "id")),
        (12, "e13", ("rejected" if db.engine.dialect.name == "postgresql" else "applied"),
         ("conflict", None) if db.engine.dialect.name == "postgresql" else None),
    ]
    assert results[1]["error"]["message"] == "Missing data for required field."
    assert results[9]["error"]["message"] == "Not a valid string."
    assert {k: v for k, v in _guides().items() if k != "G\x0013"} == {"G1": "导购1", "G11": "导购11"}
    # Only the applied events are remembered: a rejected one may be fixed and resent under its id.
    assert set(db.session.scalars(select(InboxEvent.event_id))) - {"e13"} == {"e1", "e11"}
    fixed = _post(client, cred, [_guide(2)])
    assert fixed[0]["status"] == "applied" and "G2" in _guides()


def test_duplicate_ids_in_one_batch(client, org):
    cred = credential(org.stores["sh1"])
    results = _post(client, cred, [_guide(1), _guide(1), _guide(1, name="别的名字"), _guide(2, name="no"),
                                   _guide(2, name="no")])
    assert _statuses(results) == [
        (0, "e1", "applied", None),
        (1, "e1", "duplicate", None),
        (2, "e1", "rejected", ("idempotency_conflict", "id")),
        (3, "e2", "rejected", ("test_refused", "data.name")),
        (4, "e2", "rejected", ("test_refused", "data.name")),        # answered like its first occurrence
    ]
    assert _guides() == {"G1": "导购1"}


def test_duplicate_ids_across_batches(client, org):
    cred = credential(org.stores["sh1"])
    _post(client, cred, [_guide(1), _guide(2)])
    results = _post(client, cred, [_guide(2), _guide(1, name="改过的"), _guide(3)])
    assert _statuses(results) == [(0, "e2", "duplicate", None), (1, "e1", "rejected", ("idempotency_conflict", "id")),
                                  (2, "e3", "applied", None)]
    assert _guides() == {"G1": "导购1", "G2": "导购2", "G3": "导购3"}
    # Key order and spacing are not the body: the same event written differently is a duplicate.
    same = json.loads(json.dumps(_guide(3)))
    same["data"] = {"name": "导购3", "code": "G3"}
    assert _post(client, cred, [same])[0]["status"] == "duplicate"


def test_event_ids_are_per_store(client, org):
    sh, gd = credential(org.stores["sh1"]), credential(org.stores["gd1"])
    assert _post(client, sh, [_guide(1)])[0]["status"] == "applied"
    assert _post(client, gd, [_guide(1)], code="GD001")[0]["status"] == "applied"
    assert db.session.scalar(select(func.count()).select_from(Guide)) == 2


def test_501_events_is_413_and_500_are_taken(client, org):
    cred = credential(org.stores["sh1"])
    r = signed_post(client, "SH001", cred.key_id, cred.secret, {"events": [_guide(n) for n in range(501)]})
    assert r.status_code == 413
    assert r.get_json()["error"]["code"] == "too_large" and "500" in r.get_json()["error"]["message"]
    assert not _guides()
    results = _post(client, cred, [_guide(n) for n in range(500)])
    assert len(results) == 500 and {r["status"] for r in results} == {"applied"}
    assert len(_guides()) == 500


def test_a_600_kb_body_is_413(client, org):
    cred = credential(org.stores["sh1"])
    body = {"events": [_guide(1, name="长" * 50)], "padding": "x" * (600 * 1024)}
    r = signed_post(client, "SH001", cred.key_id, cred.secret, body)
    assert r.status_code == 413 and r.get_json()["error"]["code"] == "too_large"
    assert "512 KB" in r.get_json()["error"]["message"]
    assert not _guides()


def test_malformed_json_and_a_missing_events_list_are_400_naming_the_field(client, org):
    cred = credential(org.stores["sh1"])
    r = signed_post(client, "SH001", cred.key_id, cred.secret, b'{"events": [')
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "invalid_json"
    for body in ({}, {"events": {"id": "e1"}}, {"event": []}):
        r = signed_post(client, "SH001", cred.key_id, cred.secret, body)
        assert r.status_code == 400 and r.get_json()["error"]["field"] == "events", body
    r = signed_post(client, "SH001", cred.key_id, cred.secret, [])
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "invalid"
    assert _post(client, cred, []) == []


def test_the_document_lists_the_endpoint_and_every_registered_type(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    op = spec["paths"]["/api/v1/stores/{code}/events"]["post"]
    assert op["security"] == [{"storeSignature": []}]
    body = op["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/EventBatch"}
    ok = op["responses"]["200"]["content"]["application/json"]["schema"]
    assert ok == {"$ref": "#/components/schemas/EventResults"}
    schemas = spec["components"]["schemas"]
    assert schemas["EventBatch"]["properties"]["events"]["maxItems"] == 500
    mapping = schemas["Event"]["discriminator"]["mapping"]
    assert mapping["test.guide"] == "#/components/schemas/TestGuideEvent"
    assert schemas["TestGuideEvent"]["properties"]["data"] == {"$ref": "#/components/schemas/TestGuideData"}
    assert set(schemas["TestGuideData"]["required"]) == {"code", "name"}
    assert set(schemas["EventResult"]["properties"]) == {"index", "id", "status", "error"}
