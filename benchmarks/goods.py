"""Goods at full scale: an assortment of 200 goods pushed to 10,000 stores, and the goods API of
one store with 2,000 effective goods.

One run per backend builds a fresh database (temp SQLite file; a PostgreSQL database created and
dropped by the script — helpers from benchmarks/store_list.py), migrates it with Alembic, seeds
the demo brand and a catalog, then:

* push: several times over, a fresh assortment of the same 200 products (400 SKUs) is pushed to
  every store; each figure is the wall time from ``create_push`` to the push being ``done`` (the
  job runs inline, as the worker would). A push writes one store_assortments row per store and
  no listing rows, so the floor beside it is a bare bulk INSERT of 10,000 store_assortments rows.
* goods API: one store carries assortments totalling 1,000 products × 2 SKUs (2,000 effective
  goods, 10 % of them changed by the store, some off the shelf); GET /api/v1/stores/<code>/goods
  is timed at the WSGI level (median/p95 server time per request) for random pages of 50, pages
  of 200, a category filter, and conditional requests answered 304.

Usage:  .venv/bin/python benchmarks/goods.py [--stores 10000] [--runs 5] [--requests 200] [--sqlite-only]
Writes benchmarks/results/goods-<backend>.json.
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from sqlalchemy import delete, func, insert, select  # noqa: E402
from store_list import DEFAULT_PG, SQLCounter, WSGITimer, make_app, run_benchmark, seed, summary_ms  # noqa: E402

from portal.api.services import issue_key  # noqa: E402
from portal.assortments.models import Assortment, AssortmentItem, StoreAssortment
from portal.extensions import db  # noqa: E402
from portal.goods.models import Product, Sku
from portal.org import roles  # noqa: E402
from portal.org.models import Store, User  # noqa: E402
from portal.org.scope import scope_for  # noqa: E402
from portal.pushes import services as pushes  # noqa: E402
from portal.pushes.models import Push  # noqa: E402
from portal.shelf.models import Listing
from portal.targets.services import TargetSpec  # noqa: E402

PUSH_GOODS = 200
API_PRODUCTS = 1000
CATEGORIES = ("咖啡", "茶饮", "烘焙", "轻食", "周边", "礼盒", "果汁", "冰品")
WARMUP = 5


def make_catalog(hq_path: str, n: int, prefix: str) -> list[int]:
    """n HQ products with 2 SKUs each, by bulk insert. Returns the product ids."""
    db.session.execute(insert(Product), [
        {"code": f"{prefix}{i:05d}", "name": f"商品{prefix}{i}", "category": CATEGORIES[i % len(CATEGORIES)],
         "description": "", "direct_sale": i % 3 == 0, "commission_rate": 500, "path": hq_path, "archived": False}
        for i in range(n)])
    ids = list(db.session.scalars(select(Product.id).where(Product.code.like(f"{prefix}%")).order_by(Product.id)))
    db.session.execute(insert(Sku), [
        {"product_id": pid, "code": f"{prefix}{i:05d}-{s}", "spec": {"规格": ("中杯", "大杯")[s]},
         "list_price": 1500 + 300 * s + i % 50, "price_floor": 1200, "price_ceiling": 3000}
        for i, pid in enumerate(ids) for s in range(2)])
    return ids


def make_assortment(name: str, path: str, product_ids: list[int]) -> Assortment:
    a = Assortment(name=name, path=path)
    db.session.add(a)
    db.session.flush()
    if product_ids:
        db.session.execute(insert(AssortmentItem), [{"assortment_id": a.id, "product_id": p} for p in product_ids])
    return a


def measure_push(app, args) -> dict:
    runs, floors, last = [], [], {}
    with app.app_context():
        hq = db.session.scalar(select(User).where(User.role == roles.HQ_ADMIN).order_by(User.id))
        scope = scope_for(hq)
        ids = make_catalog(scope.path, PUSH_GOODS, "PG")
        db.session.commit()
        n_stores = db.session.scalar(select(func.count()).select_from(Store))
        for i in range(args.runs):
            a = make_assortment(f"基准商品 {i}", scope.path, ids)
            db.session.commit()
            started = time.perf_counter()
            push = pushes.create_push(scope, "goods", a.id, a.name, TargetSpec(everything=True, active_only=False),
                                      actor=hq)
            db.session.commit()                      # the job runs here, after the commit
            runs.append(time.perf_counter() - started)
            db.session.expire_all()
            push = db.session.get(Push, push.id)
            assert push.state == "done", push.state
            last = {"delivered": push.delivered, "skipped": push.skipped, "total": push.total}
            # The floor: a bare multi-row INSERT of as many store_assortments rows, then removed.
            scratch = make_assortment("floor", scope.path, [])
            db.session.commit()
            store_ids = list(db.session.scalars(select(Store.id)))
            rows = [{"store_id": sid, "assortment_id": scratch.id} for sid in store_ids]
            t0 = time.perf_counter()
            db.session.execute(insert(StoreAssortment), rows)
            db.session.commit()
            floors.append(time.perf_counter() - t0)
            db.session.execute(delete(StoreAssortment).where(StoreAssortment.assortment_id == scratch.id))
            db.session.execute(delete(Assortment).where(Assortment.id == scratch.id))
            db.session.commit()
        counts = {"store_assortments": db.session.scalar(select(func.count()).select_from(StoreAssortment)),
                  "listings": db.session.scalar(select(func.count()).select_from(Listing))}
        db.session.remove()
    med, floor = statistics.median(runs), statistics.median(floors)
    return {"goods": PUSH_GOODS, "skus": PUSH_GOODS * 2, "stores": n_stores,
            "runs_s": [round(r, 3) for r in runs], "median_s": round(med, 3),
            "floor_runs_s": [round(f, 3) for f in floors], "floor_median_s": round(floor, 3),
            "ratio_to_floor": round(med / floor, 1) if floor else None, "last_push": last, "rows_after": counts}


def prepare_api_store(app, seed_value: int) -> tuple[str, str, int]:
    """A store carrying 1,000 products × 2 SKUs (the 200 pushed to all + 800 more in a second
    assortment), 10 % of them changed by the store. Returns (code, key, effective goods)."""
    rng = random.Random(seed_value)
    with app.app_context():
        hq = db.session.scalar(select(User).where(User.role == roles.HQ_ADMIN).order_by(User.id))
        path = scope_for(hq).path
        store = db.session.scalar(select(Store).where(Store.status == roles.STORE_ACTIVE).order_by(Store.id).offset(77))
        more = make_catalog(path, API_PRODUCTS - PUSH_GOODS, "PA")
        a = make_assortment("门店专属", path, more)
        db.session.add(StoreAssortment(store_id=store.id, assortment_id=a.id))
        skus = list(db.session.scalars(select(Sku.id).join(Product).where(Product.code.like("P%"))))
        changed = rng.sample(skus, len(skus) // 10)
        db.session.execute(insert(Listing), [
            {"store_id": store.id, "sku_id": sid, "price": rng.randint(1200, 3000),
             "stock": rng.choice((None, 0, 5, 50)), "on_shelf": rng.random() > 0.2} for sid in changed])
        _row, key = issue_key(store, actor=hq)
        db.session.commit()
        from portal.shelf.services import goods_page
        total = goods_page(store.id, per_page=1).total
        code = store.code
        if db.engine.dialect.name == "postgresql":
            from sqlalchemy import text
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("ANALYZE"))
        db.session.remove()
    return code, key, total


def measure_api(app, code: str, key: str, n_requests: int, seed_value: int) -> dict:
    rng = random.Random(seed_value)
    timer = WSGITimer(app.wsgi_app)
    app.wsgi_app = timer
    with app.app_context():
        sql = SQLCounter(db.engine)
    client = app.test_client()
    headers = {"Authorization": f"Bearer {key}"}
    first = client.get(f"/api/v1/stores/{code}/goods", headers=headers).get_json()
    pages50 = first["pages"]
    pages200 = -(-first["total"] // 200)
    cases = {
        "page of 50 (random)": lambda: {"page": rng.randint(1, pages50)},
        "page of 200 (random)": lambda: {"page": rng.randint(1, pages200), "per_page": 200},
        "category, page 1": lambda: {"category": rng.choice(CATEGORIES)},
    }
    out = {}
    for label, params in cases.items():
        for _ in range(WARMUP):
            client.get(f"/api/v1/stores/{code}/goods", query_string=params(), headers=headers)
        server, cpu, queries, sizes = [], [], [], []
        for _ in range(n_requests):
            sql.reset()
            r = client.get(f"/api/v1/stores/{code}/goods", query_string=params(), headers=headers)
            assert r.status_code == 200, r.get_data(as_text=True)[:300]
            server.append(timer.last)
            cpu.append(timer.last_cpu)
            queries.append(sql.queries)
            sizes.append(len(r.data))
        out[label] = {**summary_ms(server), "cpu_median_ms": round(statistics.median(cpu) * 1000, 2),
                      "queries": max(queries), "body_bytes_median": int(statistics.median(sizes))}
    # Conditional: the client already has page 1.
    etag = client.get(f"/api/v1/stores/{code}/goods", headers=headers).headers["ETag"]
    server, cpu, queries = [], [], []
    for _ in range(n_requests):
        sql.reset()
        r = client.get(f"/api/v1/stores/{code}/goods", headers={**headers, "If-None-Match": etag})
        assert r.status_code == 304, r.status_code
        server.append(timer.last)
        cpu.append(timer.last_cpu)
        queries.append(sql.queries)
    out["304 conditional"] = {**summary_ms(server), "cpu_median_ms": round(statistics.median(cpu) * 1000, 2),
                              "queries": max(queries), "body_bytes_median": 0}
    # What the 304 saves (issue 8): the ETag's version query against the page query it ran before,
    # alternated in the same run on the same store.
    from portal.shelf import services as shelf
    with app.app_context():
        store_id = db.session.scalar(select(Store.id).where(Store.code == code))
        version_s, page_s = [], []
        for _ in range(n_requests):
            t = time.perf_counter()
            shelf.goods_version(store_id)
            version_s.append(time.perf_counter() - t)
            t = time.perf_counter()
            shelf.goods_page(store_id, page=1, per_page=50, shelf="on", with_thumbs=True)
            page_s.append(time.perf_counter() - t)
        db.session.remove()
    out["queries: version / page"] = {
        "version_median_ms": round(statistics.median(version_s) * 1000, 2),
        "page_median_ms": round(statistics.median(page_s) * 1000, 2),
        "ratio": round(statistics.median(version_s) / statistics.median(page_s), 2)}
    return {"on_shelf": first["total"], "cases": out}


def run_backend(backend, args) -> dict:
    print(f"\n== {backend.name} {backend.version}", flush=True)
    load_before = os.getloadavg()[0]
    app = make_app(backend.url)
    app.config["JOBS_BACKEND"] = "eager"
    app.config["JOBS_RAISE"] = True
    print(f"seeding {args.stores:,} stores …", flush=True)
    seeding = seed(app, args.stores)
    print(f"pushing {PUSH_GOODS} goods to every store, {args.runs} times …", flush=True)
    push = measure_push(app, args)
    print("preparing one store with 2,000 effective goods …", flush=True)
    code, key, total = prepare_api_store(app, args.seed)
    print(f"goods API: {args.requests} requests per case …", flush=True)
    api = measure_api(app, code, key, args.requests, args.seed)
    api["effective_goods"] = total
    with app.app_context():
        db.engine.dispose()
    return {"backend": backend.name, "database_version": backend.version,
            "load_average": {"start": round(load_before, 2), "end": round(os.getloadavg()[0], 2)},
            "seed": seeding, "push": push, "api": api}


def print_report(result: dict) -> None:
    p = result["push"]
    print(f"\n{result['backend']}: push {p['goods']} goods ({p['skus']} SKUs) to {p['stores']:,} stores, "
          f"median of {len(p['runs_s'])} runs")
    print(f"{'push median':>14}{'floor (bulk insert)':>22}{'ratio':>8}   rows after: {p['rows_after']}")
    print(f"{p['median_s']:>13.3f}s{p['floor_median_s']:>21.3f}s{p['ratio_to_floor']:>8}")
    a = result["api"]
    print(f"goods API, one store with {a['effective_goods']:,} effective goods ({a['on_shelf']:,} on the shelf):")
    head = f"{'case':<22}{'n':>6}{'median ms':>11}{'p95 ms':>9}{'max ms':>9}{'cpu ms':>8}{'queries':>9}{'bytes':>9}"
    print(head)
    print("-" * len(head))
    queries = a["cases"].pop("queries: version / page", None)
    for label, c in a["cases"].items():
        print(f"{label:<22}{c['n']:>6}{c['median_ms']:>11.2f}{c['p95_ms']:>9.2f}{c['max_ms']:>9.2f}"
              f"{c['cpu_median_ms']:>8.2f}{c['queries']:>9}{c['body_bytes_median'] or '':>9}")
    if queries:
        print(f"ETag version query {queries['version_median_ms']} ms vs the page query {queries['page_median_ms']} ms"
              f" (ratio {queries['ratio']}), same store, alternated")
        a["cases"]["queries: version / page"] = queries
    print(f"load average during the run: {result['load_average']}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stores", type=int, default=10000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--sqlite-only", action="store_true")
    parser.add_argument("--pg-url", default=DEFAULT_PG)
    args = parser.parse_args(argv)
    return run_benchmark("goods", args, argv, run_backend, print_report, requests_per_case=args.requests,
                         warmup_per_case=WARMUP)


if __name__ == "__main__":
    sys.exit(main())
