"""Where the ingestion API's time goes, with a dummy handler (the real ones are the members and
orders domains'): the framework cost per event, and requests through the real signed endpoint.

* loading an order-like event's data: marshmallow's ``Schema().load`` against the compiled loader
  (``portal.ingest.fastload``) the framework uses, per event;
* ``ingest.ingest`` on 500 events (envelope, load, hash, the claim INSERT, dispatch), per event,
  and its Python-only part (a handler that writes nothing), with a cProfile of the top functions;
* in-process requests through the test client (one process, no gunicorn): single-event requests
  per second and events per second in batches of 500, signed like a mini-program.

Usage (from the project root): ``.venv/bin/python benchmarks/ingest_profile.py [--pg URL] [--profile]``
(default: a temporary SQLite file; ``--pg postgresql://postgres@127.0.0.1:5432`` makes and drops a
database ``ingest_profile`` there). The gunicorn figures of the issue are measured separately.
"""
from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import tempfile
import time
import timeit

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import marshmallow as ma

from portal.ingest import registry


class Line(ma.Schema):
    sku = ma.fields.String(required=True, validate=ma.validate.Length(1, 64))
    quantity = ma.fields.Integer(required=True, validate=ma.validate.Range(min=1))
    unit_fen = ma.fields.Integer(required=True, validate=ma.validate.Range(min=0))


class OrderLike(ma.Schema):
    number = ma.fields.String(required=True, validate=ma.validate.Length(1, 64))
    openid = ma.fields.String(required=True, validate=ma.validate.Length(1, 64))
    unionid = ma.fields.String(load_default=None, allow_none=True)
    lines = ma.fields.List(ma.fields.Nested(Line), required=True, validate=ma.validate.Length(min=1))
    goods_fen = ma.fields.Integer(required=True)
    discount_fen = ma.fields.Integer(load_default=0)
    paid_fen = ma.fields.Integer(required=True)
    coupon = ma.fields.String(load_default=None, allow_none=True)
    sharer = ma.fields.String(load_default=None, allow_none=True)
    paid_at = ma.fields.AwareDateTime(required=True)


@registry.handler("bench.noop", OrderLike, phase=registry.ORDERS)
def noop(store, events):
    return {}


def data(n: int) -> dict:
    return {"number": f"NO{n:010d}", "openid": f"o{n:012d}", "unionid": None, "goods_fen": 3600,
            "discount_fen": 0, "paid_fen": 3600, "paid_at": "2026-03-02T10:15:00+08:00",
            "lines": [{"sku": "CF-LATTE-M", "quantity": 2, "unit_fen": 1200},
                      {"sku": "CF-AMER-L", "quantity": 1, "unit_fen": 1200}]}


def events(start: int, n: int) -> list[dict]:
    return [{"id": f"ev{i}", "type": "bench.noop", "occurred_at": "2026-03-02T10:15:00+08:00", "data": data(i)}
            for i in range(start, start + n)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pg", help="PostgreSQL server URL (postgresql://user@host:port)")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()

    schema, fast = OrderLike(), registry.get("bench.noop").load
    sample = data(1)
    assert schema.load(sample) == fast(sample)
    n = 5000
    slow_us = timeit.timeit(lambda: schema.load(sample), number=n) / n * 1e6
    fast_us = timeit.timeit(lambda: fast(sample), number=n) / n * 1e6
    print(f"load one order-like event: marshmallow {slow_us:.1f} µs, compiled {fast_us:.1f} µs")

    from flask_migrate import upgrade

    from portal import create_app
    from portal.extensions import db
    from portal.ingest import services as ingest
    from tests import factories
    from tests.api.signing import signed_post

    if args.pg:
        import psycopg
        with psycopg.connect(f"{args.pg}/postgres", autocommit=True) as conn:
            conn.execute("DROP DATABASE IF EXISTS ingest_profile WITH (FORCE)")
            conn.execute("CREATE DATABASE ingest_profile")
        url = f"postgresql+psycopg://{args.pg.split('://', 1)[1]}/ingest_profile"
    else:
        url = f"sqlite:///{tempfile.mkdtemp()}/ingest.db"
    app = create_app("test", SQLALCHEMY_DATABASE_URI=url)
    try:
        with app.app_context():
            upgrade()
            world = factories.make_world()
            db.session.commit()
            store = world.stores["sh1"]
            from portal.api.services import issue_credential
            cred = issue_credential(store, actor=None)
            db.session.commit()

            ingest.ingest(store, events(0, 500))            # warm up
            db.session.rollback()
            batch = events(0, 500)
            started = time.perf_counter()
            ingest.ingest(store, batch)
            total = time.perf_counter() - started
            db.session.rollback()
            noclaim = ingest._claim
            ingest._claim = lambda _s, evs, _h: {e.id for e in evs.values()}
            started = time.perf_counter()
            ingest.ingest(store, batch)
            python_only = time.perf_counter() - started
            ingest._claim = noclaim
            db.session.rollback()
            print(f"ingest() of 500 events without the claim (Python only): {python_only * 1e6 / 500:.1f} µs per event")
            print(f"ingest() of 500 events with the claim INSERT: {total * 1e6 / 500:.1f} µs per event")
            if args.profile:
                prof = cProfile.Profile()
                prof.enable()
                ingest.ingest(store, events(1000, 500))
                prof.disable()
                db.session.rollback()
                pstats.Stats(prof).sort_stats("cumulative").print_stats(25)

            client = app.test_client()
            # Warm up, then single-event requests.
            for i in range(20):
                signed_post(client, "SH001", cred.key_id, cred.secret, {"events": events(10_000 + i, 1)})
            k = 300
            started = time.perf_counter()
            for i in range(k):
                r = signed_post(client, "SH001", cred.key_id, cred.secret, {"events": events(20_000 + i, 1)})
                assert r.status_code == 200 and r.get_json()["results"][0]["status"] == "applied"
            single = k / (time.perf_counter() - started)
            b = 10
            started = time.perf_counter()
            for i in range(b):
                r = signed_post(client, "SH001", cred.key_id, cred.secret, {"events": events(100_000 + i * 500, 500)})
                assert r.status_code == 200
            batched = b * 500 / (time.perf_counter() - started)
            print(f"in-process, one thread, {db.engine.dialect.name}: single-event requests {single:,.0f}/s; "
                  f"batches of 500 {batched:,.0f} events/s")
            db.session.remove()
            db.engine.dispose()
    finally:
        if args.pg:
            import psycopg
            with psycopg.connect(f"{args.pg}/postgres", autocommit=True) as conn:
                conn.execute("DROP DATABASE IF EXISTS ingest_profile WITH (FORCE)")


if __name__ == "__main__":
    main()
