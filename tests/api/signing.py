"""Signed requests to the ingestion API, as a mini-program sends them (reused by every test that
reports events): ``signed_post(client, "SH001", key_id, secret, {"events": [...]})``."""
from __future__ import annotations

import hashlib
import hmac
import json
import time

from portal.api.services import Credential, issue_credential
from portal.extensions import db


def credential(store) -> Credential:
    """A new credential of ``store`` (key id, secret, read key), committed."""
    cred = issue_credential(store, actor=None)
    db.session.commit()
    return cred


def body_bytes(body) -> bytes:
    return body if isinstance(body, (bytes, bytearray)) else json.dumps(body, ensure_ascii=False).encode()


def signature_header(secret: str, raw: bytes, t: int | None = None) -> str:
    t = int(time.time()) if t is None else t
    mac = hmac.new(secret.encode(), f"{t}.".encode() + raw, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def signed_post(client, code: str, key_id: str, secret: str, body, *, t: int | None = None, headers=None):
    """POST ``body`` (bytes, or an object sent as JSON) to the store's events, signed with the key."""
    raw = body_bytes(body)
    sent = {"Content-Type": "application/json", "X-Portal-Key": key_id,
            "X-Portal-Signature": signature_header(secret, raw, t), **(headers or {})}
    return client.post(f"/api/v1/stores/{code}/events", data=raw, headers=sent)


def event(id_: str, type_: str = "test.guide", data: dict | None = None, occurred_at="2026-03-02T10:15:00+08:00"):
    return {"id": id_, "type": type_, "occurred_at": occurred_at, "data": data if data is not None else {}}
