"""Signed writes to the ingestion API: who may write, with what, and when. Every refusal writes
nothing (the event is not in the inbox, the guide not in the store)."""
from __future__ import annotations

import time
from datetime import timedelta

from sqlalchemy import func, select

from portal.api import services as keys
from portal.audit.models import AuditEntry
from portal.extensions import db
from portal.ingest.models import InboxEvent
from portal.kernel.time import utcnow
from portal.members.models import Guide
from tests.api.signing import body_bytes, credential, event, signature_header, signed_post
from tests.ingest import handlers  # noqa: F401  (the framework test types)

BODY = {"events": [event("e1", data={"code": "G1", "name": "小王"})]}


def _stored() -> int:
    return db.session.scalar(select(func.count()).select_from(Guide))


def _refused(r, status, code):
    assert r.status_code == status, (r.status_code, r.get_data(as_text=True)[:300])
    assert r.get_json()["error"]["code"] == code and r.get_json()["error"]["message"]
    assert _stored() == 0 and not db.session.scalar(select(func.count()).select_from(InboxEvent))


def test_a_signed_batch_is_applied_and_a_replay_is_applied_once(client, org):
    cred = credential(org.stores["sh1"])
    t = int(time.time())
    first = signed_post(client, "SH001", cred.key_id, cred.secret, BODY, t=t)
    assert first.status_code == 200, first.get_data(as_text=True)
    assert first.get_json() == {"results": [{"index": 0, "id": "e1", "status": "applied", "error": None}]}
    # The same request, byte for byte, sent again (a retry after a lost answer, or a replay).
    again = signed_post(client, "SH001", cred.key_id, cred.secret, BODY, t=t)
    assert again.status_code == 200 and again.get_json()["results"][0]["status"] == "duplicate"
    assert _stored() == 1


def test_a_tampered_body_is_refused(client, org):
    cred = credential(org.stores["sh1"])
    raw = body_bytes(BODY)
    tampered = raw.replace("小王".encode(), "小李".encode())
    r = client.post("/api/v1/stores/SH001/events", data=tampered, csrf=False,
                    headers={"Content-Type": "application/json", "X-Portal-Key": cred.key_id,
                             "X-Portal-Signature": signature_header(cred.secret, raw)})
    _refused(r, 401, "bad_signature")


def test_a_wrong_secret_an_unknown_key_and_a_read_key_are_refused(client, org):
    cred = credential(org.stores["sh1"])
    _refused(signed_post(client, "SH001", cred.key_id, "not-the-secret", BODY), 401, "bad_signature")
    _refused(signed_post(client, "SH001", "pk_0123456789abcdef", cred.secret, BODY), 401, "bad_signature")
    _refused(signed_post(client, "SH001", cred.read_key, cred.secret, BODY), 401, "bad_signature")
    # The read key as a Bearer token does not open writes either.
    r = client.post("/api/v1/stores/SH001/events", json=BODY, csrf=False,
                    headers={"Authorization": f"Bearer {cred.read_key}"})
    _refused(r, 401, "bad_signature")


def test_an_old_and_a_future_timestamp_are_stale(client, org):
    cred = credential(org.stores["sh1"])
    now = int(time.time())
    _refused(signed_post(client, "SH001", cred.key_id, cred.secret, BODY, t=now - 301), 401, "stale_request")
    _refused(signed_post(client, "SH001", cred.key_id, cred.secret, BODY, t=now + 301), 401, "stale_request")
    # Within the window either way: accepted.
    assert signed_post(client, "SH001", cred.key_id, cred.secret, BODY, t=now + 200).status_code == 200


def test_malformed_signature_headers_are_refused(client, org):
    cred = credential(org.stores["sh1"])
    raw = body_bytes(BODY)
    good = signature_header(cred.secret, raw)
    t, v1 = good.split(",")
    for header in ("", "garbage", t, v1, f"{t},v1=abc", f"t=soon,{v1}", f"{t};{v1}", f"{t},{t},{v1}",
                   f"t=１２３,{v1}", f"{t},v1={'é' * 64}", f"{t},v1={'g' * 64}"):
        r = client.post("/api/v1/stores/SH001/events", data=raw, csrf=False,
                        headers={"Content-Type": "application/json", "X-Portal-Key": cred.key_id,
                                 "X-Portal-Signature": header})
        _refused(r, 401, "bad_signature")
    r = client.post("/api/v1/stores/SH001/events", data=raw, csrf=False,
                    headers={"Content-Type": "application/json", "X-Portal-Signature": good})
    _refused(r, 401, "bad_signature")
    # Upper-case hex and an extra scheme beside v1 are fine.
    r = client.post("/api/v1/stores/SH001/events", data=raw, csrf=False,
                    headers={"Content-Type": "application/json", "X-Portal-Key": cred.key_id,
                             "X-Portal-Signature": f"{t},v1={v1[3:].upper()},v2=whatever"})
    assert r.status_code == 200


def test_a_key_on_another_stores_url_is_404_like_a_store_that_does_not_exist(client, org):
    gd = credential(org.stores["gd1"])
    r = signed_post(client, "SH001", gd.key_id, gd.secret, BODY)
    _refused(r, 404, "not_found")
    assert r.get_json() == signed_post(client, "NOPE01", gd.key_id, gd.secret, BODY).get_json()


def test_a_revoked_key_stops_at_once(client, org, login_as):
    store = org.stores["sh1"]
    cred = credential(store)
    assert signed_post(client, "SH001", cred.key_id, cred.secret, BODY).status_code == 200
    admin = login_as("east_admin")
    assert admin.post(f"/stores/{store.id}/api-keys/{cred.row.id}/revoke").status_code == 303
    r = signed_post(client, "SH001", cred.key_id, cred.secret, {"events": [event("e2", data={"code": "G2",
                                                                                          "name": "小李"})]})
    assert r.status_code == 401 and r.get_json()["error"]["code"] == "bad_signature"
    assert _stored() == 1


def test_a_rotated_key_works_during_the_overlap_and_not_after(client, org, app):
    store = org.stores["sh1"]
    old = credential(store)
    new = credential(store)              # rotation: the old one now expires after the overlap window
    db.session.expire_all()
    row = db.session.get(keys.StoreApiKey, old.row.id)
    hours = app.config["API_KEY_OVERLAP_HOURS"]
    assert hours == 24 and abs((row.expires_at - utcnow()) - timedelta(hours=hours)) < timedelta(minutes=1)
    assert db.session.get(keys.StoreApiKey, new.row.id).expires_at is None
    rotate = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "apikey.rotate")).one()
    assert rotate.details["previous"] == [keys.display_prefix(old.row)]

    ok = signed_post(client, "SH001", old.key_id, old.secret, BODY)
    assert ok.status_code == 200 and ok.get_json()["results"][0]["status"] == "applied"
    assert client.get("/api/v1/stores/SH001/goods",
                      headers={"Authorization": f"Bearer {old.read_key}"}).status_code == 200
    # The window passes.
    row.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    body = {"events": [event("e2", data={"code": "G2", "name": "小李"})]}
    r = signed_post(client, "SH001", old.key_id, old.secret, body)
    assert r.status_code == 401 and r.get_json()["error"]["code"] == "bad_signature"
    assert client.get("/api/v1/stores/SH001/goods",
                      headers={"Authorization": f"Bearer {old.read_key}"}).status_code == 401
    assert signed_post(client, "SH001", new.key_id, new.secret, body).get_json()["results"][0]["status"] == "applied"
    assert keys.active_keys(store) == [db.session.get(keys.StoreApiKey, new.row.id)]


def test_the_secret_is_stored_encrypted(org):
    cred = credential(org.stores["sh1"])
    row = db.session.get(keys.StoreApiKey, cred.row.id)
    assert cred.secret not in (row.secret_enc or "") and row.key_id == cred.key_id
    from portal.kernel.crypto import decrypt
    assert decrypt(row.secret_enc) == cred.secret


def test_a_suspended_store_may_not_write(client, org):
    store = org.stores["sh1"]
    cred = credential(store)
    store.status = "suspended"
    db.session.commit()
    _refused(signed_post(client, "SH001", cred.key_id, cred.secret, BODY), 403, "store_suspended")


def test_the_signature_is_checked_before_a_big_body_is_read(client, org):
    cred = credential(org.stores["sh1"])
    big = b'{"events": [' + b" " * (600 * 1024) + b"]}"
    # Unsigned: refused for the missing signature, the body never read.
    r = client.post("/api/v1/stores/SH001/events", data=big, csrf=False, headers={"Content-Type": "application/json"})
    _refused(r, 401, "bad_signature")
    _refused(signed_post(client, "SH001", cred.key_id, cred.secret, big), 413, "too_large")


def test_the_cli_prints_a_credential_as_json_for_scripts(app, client, org):
    import json

    result = app.test_cli_runner().invoke(args=["issue-api-key", "SH001", "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert set(out) == {"store", "key_id", "secret", "read_key"} and out["store"] == "SH001"
    r = signed_post(client, "SH001", out["key_id"], out["secret"], BODY)
    assert r.status_code == 200 and r.get_json()["results"][0]["status"] == "applied"
    assert client.get("/api/v1/stores/SH001/goods",
                      headers={"Authorization": f"Bearer {out['read_key']}"}).status_code == 200


def test_the_keys_card_shows_key_ids_and_expiry_and_the_secret_once(client, org, login_as):
    store = org.stores["sh1"]
    admin = login_as("east_admin")
    card = admin.get(f"/stores/{store.id}").get_data(as_text=True).split('id="api-keys"')[1]
    assert "生成密钥" in card
    first = admin.post(f"/stores/{store.id}/api-keys")
    assert first.status_code == 200 and "no-store" in first.headers["Cache-Control"]
    row = db.session.scalars(select(keys.StoreApiKey)).one()
    html = first.get_data(as_text=True)
    assert row.key_id in html and keys._secret(row.secret_enc).decode() in html
    # The store page lists the key id, never the secret; the button now rotates.
    page = admin.get(f"/stores/{store.id}").get_data(as_text=True)
    card = page.split('id="api-keys"')[1]
    assert row.key_id in card and keys._secret(row.secret_enc).decode() not in page
    assert "轮换密钥" in card
    second = admin.post(f"/stores/{store.id}/api-keys")
    assert second.status_code == 200 and "24" in second.get_data(as_text=True)
    card = admin.get(f"/stores/{store.id}").get_data(as_text=True).split('id="api-keys"')[1]
    assert card.count("pk_") == 2 and "停用于" in card          # the old one shows when it stops working
    entries = [e.action for e in db.session.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    assert entries[-2:] == ["apikey.create", "apikey.rotate"]
