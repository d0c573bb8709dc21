"""The mini-program page API at full scale: GET /api/v1/stores/<code>/page, full and conditional.

One run per backend builds a fresh database (a temp SQLite file, and a PostgreSQL database the
script creates and drops; the helpers come from benchmarks/store_list.py), migrates it with
Alembic, seeds the demo brand (10,000 stores), publishes a template of several blocks and pushes
it to every store through the push engine, gives a share of the keyed stores their own edit of an
editable block, issues API keys for some stores, and then measures through the real app:

* 200: a full page for a random keyed store (key check, fingerprint, page + overrides, JSON);
* 304: the same with ``If-None-Match`` set to the store's current ETag (key check and
  fingerprint only: no block JSON is read).

Each figure is the *server* time per request (a WSGI-level timer around the app, so the test
client's own work is not counted): median and 95th percentile, with the thread's CPU time and
the number of SQL statements per request beside it.

Usage (from the project root):

    .venv/bin/python benchmarks/page_api.py [--stores 10000] [--requests 500] [--keys 500] [--sqlite-only]

Results are printed as a table and written to benchmarks/results/page_api-<backend>.json.
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select  # noqa: E402
from store_list import DEFAULT_PG, SQLCounter, WSGITimer, make_app, run_benchmark, seed, summary_ms  # noqa: E402

from portal.api.services import issue_key  # noqa: E402
from portal.decoration import services as deco  # noqa: E402
from portal.decoration.models import StorePage  # noqa: E402
from portal.extensions import db  # noqa: E402
from portal.org import roles  # noqa: E402
from portal.org.models import Store, User  # noqa: E402
from portal.org.scope import scope_for  # noqa: E402
from portal.pushes import services as pushes  # noqa: E402
from portal.pushes.models import Push  # noqa: E402
from portal.targets.services import TargetSpec  # noqa: E402

WARMUP = 20
TARGET_304_MEDIAN_MS = 5.0          # "cheap enough for every launch": a few ms of server time
BLOCKS = ("banner", "notice", "goods_grid", "live_entry", "coupon_strip", "store_card", "rich_text")
EDITABLE = ("notice", "rich_text")


# --------------------------------------------------------------------------- setting the scene

def push_template(app) -> dict:
    """HQ publishes a page of seven blocks and pushes it to every store (closed ones skipped)."""
    with app.app_context():
        hq = db.session.scalar(select(User).where(User.role == roles.HQ_ADMIN).order_by(User.id))
        scope = scope_for(hq)
        template = deco.create_template(scope, "春季首页", actor=hq)
        for kind in BLOCKS:
            block = deco.add_block(scope, template, kind, actor=hq)
            if kind in EDITABLE:
                deco.set_locked(scope, template, block["key"], False)
        version = deco.publish(scope, template, "benchmark", actor=hq)
        db.session.commit()
        started = time.perf_counter()
        push = pushes.create_push(scope, "template", version.id, "春季首页 v1",
                                  TargetSpec(everything=True, active_only=False), actor=hq)
        db.session.commit()             # JOBS_BACKEND "eager": run_push runs here, batch by batch
        took = time.perf_counter() - started
        push = db.session.get(Push, push.id)
        out = {"state": push.state, "total": push.total, "delivered": push.delivered,
               "skipped": push.skipped, "create_and_run_s": round(took, 3),
               "blocks": len(version.blocks), "editable_blocks": list(EDITABLE)}
        pages = db.session.scalar(select(func.count()).select_from(StorePage))
        db.session.remove()
    assert out["state"] == "done", out
    assert pages == out["delivered"], (pages, out)
    return out


def issue_keys(app, n_keys: int, seed_value: int) -> tuple[list[tuple[str, str]], int]:
    """Keys for n random stores that have a page; a third of them edit an editable block."""
    rng = random.Random(seed_value)
    with app.app_context():
        hq = db.session.scalar(select(User).where(User.role == roles.HQ_ADMIN).order_by(User.id))
        scope = scope_for(hq)
        ids = list(db.session.scalars(select(StorePage.store_id)))
        chosen = rng.sample(ids, min(n_keys, len(ids)))
        stores = db.session.scalars(select(Store).where(Store.id.in_(chosen))).all()
        keys, edited = [], 0
        for i, store in enumerate(stores):
            _row, plain = issue_key(store, actor=hq)
            keys.append((store.code, plain))
            if i % 3 == 0:
                page = deco.effective_page(store)
                block = next(b for b in page.blocks if b["type"] == "notice")
                deco.save_override(scope, store, block["key"], {"text": f"{store.name}：本周会员双倍积分", "link": ""},
                                   actor=hq)
                edited += 1
        db.session.commit()
        db.session.remove()
    return keys, edited


# --------------------------------------------------------------------------- measuring

def measure(client, timer: WSGITimer, sql: SQLCounter, keys: list[tuple[str, str]], n_requests: int,
            seed_value: int) -> dict:
    rng = random.Random(seed_value)
    etags: dict[str, str] = {}

    def call(code: str, key: str, etag: str | None):
        headers = {"Authorization": f"Bearer {key}"}
        if etag:
            headers["If-None-Match"] = etag
        sql.reset()
        r = client.get(f"/api/v1/stores/{code}/page", headers=headers)
        return r, timer.last, timer.last_cpu, sql.queries

    for code, key in keys[:WARMUP]:
        call(code, key, None)
    out = {}
    for label, conditional in (("200 full page", False), ("304 conditional", True)):
        server, cpu, queries, sizes = [], [], [], []
        for _ in range(n_requests):
            code, key = rng.choice(keys)
            if conditional and code not in etags:
                etags[code] = call(code, key, None)[0].headers["ETag"]
            r, t, c, q = call(code, key, etags.get(code) if conditional else None)
            expected = 304 if conditional else 200
            if r.status_code != expected:
                raise SystemExit(f"{code}: expected {expected}, got {r.status_code} {r.get_data(as_text=True)[:300]}")
            if not conditional:
                etags[code] = r.headers["ETag"]
                sizes.append(len(r.data))
            server.append(t)
            cpu.append(c)
            queries.append(q)
        out[label] = {**summary_ms(server), "cpu_median_ms": round(statistics.median(cpu) * 1000, 2),
                      "queries": max(queries),
                      "body_bytes_median": int(statistics.median(sizes)) if sizes else 0}
    return out


# --------------------------------------------------------------------------- one backend

def run_backend(backend, args) -> dict:
    print(f"\n== {backend.name} {backend.version}", flush=True)
    load_before = os.getloadavg()[0]
    app = make_app(backend.url)
    app.config["JOBS_BACKEND"] = "eager"        # the push runs in this process, at the commit
    print(f"seeding {args.stores:,} stores …", flush=True)
    seeding = seed(app, args.stores)
    print("publishing a template and pushing it to every store …", flush=True)
    push = push_template(app)
    print(f"issuing {args.keys} API keys …", flush=True)
    keys, edited = issue_keys(app, args.keys, args.seed)

    timer = WSGITimer(app.wsgi_app)
    app.wsgi_app = timer
    with app.app_context():
        sql = SQLCounter(db.engine)
    client = app.test_client()
    print(f"page API: {args.requests} requests per case …", flush=True)
    results = measure(client, timer, sql, keys, args.requests, args.seed)
    with app.app_context():
        db.engine.dispose()
    return {
        "backend": backend.name, "database_version": backend.version,
        "load_average": {"start": round(load_before, 2), "end": round(os.getloadavg()[0], 2)},
        "seed": seeding, "push": push, "keys": len(keys), "stores_with_own_edit": edited,
        "page_api": results,
        "targets": {"304_median_ms": {"target": TARGET_304_MEDIAN_MS,
                                      "value": results["304 conditional"]["median_ms"],
                                      "met": results["304 conditional"]["median_ms"] <= TARGET_304_MEDIAN_MS}},
    }


def print_report(result: dict) -> None:
    p = result["push"]
    print(f"\n{result['backend']}: {result['seed']['stores']:,} stores; push of {p['blocks']} blocks: "
          f"{p['delivered']:,} delivered, {p['skipped']:,} skipped in {p['create_and_run_s']:.2f} s; "
          f"{result['keys']} keyed stores ({result['stores_with_own_edit']} with their own edit)")
    head = f"{'case':<18}{'n':>6}{'median ms':>11}{'p95 ms':>9}{'max ms':>9}{'cpu ms':>8}{'queries':>9}{'bytes':>8}"
    print(head)
    print("-" * len(head))
    for label, c in result["page_api"].items():
        print(f"{label:<18}{c['n']:>6}{c['median_ms']:>11.2f}{c['p95_ms']:>9.2f}{c['max_ms']:>9.2f}"
              f"{c['cpu_median_ms']:>8.2f}{c['queries']:>9}{c['body_bytes_median'] or '':>8}")
    print(f"load average during the run: {result['load_average']}")
    for name, t in result["targets"].items():
        print(f"  target {name}: {t['value']} vs {t['target']} → {'met' if t['met'] else 'MISSED'}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stores", type=int, default=10000, help="stores to seed (default 10000)")
    parser.add_argument("--requests", type=int, default=500, help="timed requests per case (default 500)")
    parser.add_argument("--keys", type=int, default=500, help="stores given an API key (default 500)")
    parser.add_argument("--seed", type=int, default=11, help="random seed (default 11)")
    parser.add_argument("--sqlite-only", action="store_true", help="skip PostgreSQL")
    parser.add_argument("--pg-url", default=DEFAULT_PG,
                        help="PostgreSQL server; a fresh database is created and dropped (default %(default)s)")
    args = parser.parse_args(argv)

    return run_benchmark("page_api", args, argv, run_backend, print_report,
                         requests_per_case=args.requests, warmup=WARMUP)


if __name__ == "__main__":
    sys.exit(main())
