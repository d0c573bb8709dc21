"""The day-of-traffic script (``benchmarks/traffic.py``): its signatures, its day, and the day
played through the real signed API on a local server (once the ingestion endpoint exists)."""
from __future__ import annotations

import hashlib
import hmac
import json
import sys
import threading
from collections import Counter
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import traffic  # noqa: E402

from portal.orders.demo import TZ  # noqa: E402


def test_signature_is_hmac_of_time_dot_raw_body():
    body = traffic.encode([{"id": "e1", "type": "member.signup", "occurred_at": "2026-03-02T10:15:00+08:00",
                            "data": {"openid": "o1", "nickname": "小橙子"}}])
    headers = traffic.signed_headers("k_123", "s3cret", body, t=1767225600)
    assert headers["X-Portal-Key"] == "k_123"
    expected = hmac.new(b"s3cret", b"1767225600." + body, hashlib.sha256).hexdigest()
    assert headers["X-Portal-Signature"] == f"t=1767225600,v1={expected}"
    assert "小橙子".encode() in body, "the body is sent as UTF-8 JSON, not escaped"


def test_a_day_has_morning_signups_orders_a_held_refund_and_nothing_in_the_future():
    now = datetime(2026, 3, 2, 20, 30, tzinfo=TZ)
    events = traffic.day_events("SH001", seed=5, signups=10, orders=40, refunds=4, guides=["DG01"], plan_id=2,
                                now=now)
    kinds = Counter(e["type"] for e in events)
    assert kinds == {"member.signup": 10, "order.paid": 40, "order.refunded": 4}
    assert all(datetime.fromisoformat(e["occurred_at"]) <= now for e in events)
    assert all(datetime.fromisoformat(e["occurred_at"]) >= now.replace(hour=8, minute=0) for e in events)
    first_refund = next(i for i, e in enumerate(events) if e["type"] == "order.refunded")
    its_order = next(i for i, e in enumerate(events) if e["type"] == "order.paid"
                     and e["data"]["number"] == events[first_refund]["data"]["order_number"])
    assert first_refund < its_order, "one refund is sent before its order"
    assert len({e["id"] for e in events}) == len(events)
    again = traffic.day_events("SH001", seed=5, signups=10, orders=40, refunds=4, guides=["DG01"], plan_id=2, now=now)
    assert again == events, "the same seed replays the same ids"


def test_the_day_through_the_signed_api(app, db, org):
    from werkzeug.serving import make_server

    result = app.test_cli_runner().invoke(args=["issue-api-key", org.stores["sh1"].code, "--json"])
    assert result.exit_code == 0, result.output
    cred = json.loads(result.stdout.strip().splitlines()[-1])
    db.session.remove()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}"
        client = traffic.Client(url, cred["store"], cred["key_id"], cred["secret"])
        events = traffic.day_events(cred["store"], seed=1, signups=6, orders=20, refunds=3, guides=[], plan_id=None)
        out = traffic.play(client, events, batch=5, retry_every=2, rng=None)
        client.close()
    finally:
        server.shutdown()
    assert out["http"] == {200: out["batches"] + out["batches"] // 2}
    # Each event applied once (the refund sent before its order may be held until the order comes);
    # the retried batches are answered duplicate.
    assert out["results"]["applied"] + out["results"].get("held", 0) == len(events)
    assert out["results"]["duplicate"] > 0 and "rejected" not in out["results"]
