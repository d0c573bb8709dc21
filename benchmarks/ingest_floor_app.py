"""The floor of a single-event request on this machine: the least a durable signed write costs.

A bare Flask app served by the same gunicorn as the portal, taking the same signed requests on the
same URL: it reads the raw body, finds the key's secret (held in memory: no query), checks the
HMAC signature in constant time, parses the JSON, inserts one row per event into a table of its
own (store, event id unique, type, data as JSONB) with psycopg (one connection per thread, no ORM,
no pool) and commits: one INSERT, one COMMIT per request. It validates nothing else, resolves no
member, writes no order, line or ledger entry. ``GET``-less and stateless; the benchmark
(benchmarks/ingest.py) starts it with ``FLOOR_DSN`` and ``FLOOR_KEYS`` (JSON ``{key_id:
[secret, store code]}``) and creates its table.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import threading

import psycopg
from flask import Flask, Response, request

TABLE = "floor_events"
CREATE = (f"CREATE TABLE IF NOT EXISTS {TABLE} (id bigserial PRIMARY KEY, store text NOT NULL, "
          "event_id text NOT NULL, type text NOT NULL, data jsonb NOT NULL, "
          "received_at timestamptz NOT NULL DEFAULT now(), UNIQUE (store, event_id))")

app = Flask(__name__)
_keys = {k: (v[0].encode(), v[1]) for k, v in json.loads(os.environ.get("FLOOR_KEYS", "{}")).items()}
_local = threading.local()


def _conn() -> psycopg.Connection:
    conn = getattr(_local, "conn", None)
    if conn is None:
        conn = _local.conn = psycopg.connect(os.environ["FLOOR_DSN"])
    return conn


def _refuse(code: str, status: int = 401) -> Response:
    return Response(json.dumps({"error": {"code": code}}), status, mimetype="application/json")


@app.post("/api/v1/stores/<code>/events")
def events(code: str):
    key = _keys.get(request.headers.get("X-Portal-Key", ""))
    parts = dict(p.split("=", 1) for p in request.headers.get("X-Portal-Signature", "").split(",") if "=" in p)
    if key is None or "t" not in parts or "v1" not in parts:
        return _refuse("bad_signature")
    raw = request.get_data()
    mac = hmac.new(key[0], parts["t"].encode() + b"." + raw, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(mac, parts["v1"]):
        return _refuse("bad_signature")
    if key[1] != code:
        return _refuse("not_found", 404)
    batch = json.loads(raw)["events"]
    conn = _conn()
    with conn.transaction():
        conn.cursor().executemany(
            f"INSERT INTO {TABLE} (store, event_id, type, data) VALUES (%s, %s, %s, %s)",
            [(code, e["id"], e["type"], json.dumps(e["data"])) for e in batch])
    return Response(json.dumps({"results": [{"index": i, "id": e["id"], "status": "applied", "error": None}
                                            for i, e in enumerate(batch)]}), mimetype="application/json")
