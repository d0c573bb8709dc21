"""Store registry at full scale: the store list, the 10,000-row CSV import, and seeding.

One run builds a fresh database per backend (a temp SQLite file, and a PostgreSQL database that
the script creates and drops), migrates it with Alembic like production, seeds the demo brand,
signs in as the HQ admin and measures through the real app:

* seeding: ``seed_demo(N)`` and its commit;
* the store list (GET /stores: search, filters, sort, paging, the htmx rows partial): median and
  95th percentile *server* time per request, taken by a WSGI-level timer around the app (so the
  test client's own work is not counted), per case and over all cases;
* beside each case, its floor (issue #8): a bare Flask app (no extension, no session, no login,
  no ORM) on the same database that runs the same SQL for the same search (the count, then the
  page's 50 stores with their region and tags around the page of ids) and renders them as a
  50-row table with a plain Jinja template (the benchmark checks it lists the same stores); its
  requests alternate with the real app's, so both see the same load;
* the CSV import (POST /stores/import) of 10,000 new stores, the re-import of the same file
  (all unchanged), and an import of the same codes with every name changed (all updated).

Usage (from the project root):

    .venv/bin/python benchmarks/store_list.py [--stores 10000] [--requests 200] [--sqlite-only] [--no-import]

Results are printed as a table and written to benchmarks/results/store_list-<backend>.json.
"""
from __future__ import annotations

import argparse
import base64
import cProfile
import csv
import io
import json
import math
import os
import platform
import random
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import event, func, select, text  # noqa: E402

from portal import create_app  # noqa: E402
from portal.extensions import db  # noqa: E402
from portal.org import demo  # noqa: E402
from portal.org.models import OrgNode, Store  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
DEFAULT_PG = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/")
WARMUP = 5
TARGET_LIST_MEDIAN_MS = 30.0      # on SQLite, from issue #2
TARGET_IMPORT_S = 5.0
TARGET_FLOOR_RATIO = 3.0          # every case within 3x of its floor, both backends (issue #8)


# --------------------------------------------------------------------------- timing

class WSGITimer:
    """Wraps the app's WSGI callable and records the server time of the last request:
    from the moment the request reaches the app until its body has been produced and closed
    (this includes the teardown that returns the DB connection)."""

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app
        self.last = 0.0         # wall-clock seconds
        self.last_cpu = 0.0     # CPU seconds of this thread (the test client runs the app in it)

    def __call__(self, environ, start_response):
        started, cpu = time.perf_counter(), time.thread_time()
        body = self.wsgi_app(environ, start_response)
        try:
            chunks = list(body)
        finally:
            if hasattr(body, "close"):
                body.close()
        self.last = time.perf_counter() - started
        self.last_cpu = time.thread_time() - cpu
        return chunks


class SQLCounter:
    """Number of statements and time spent inside cursor.execute() during a request.

    On SQLite, execute() runs a statement up to its first row, which for these queries (COUNT,
    ORDER BY … LIMIT) is nearly all of the work; the remaining fetch is not counted."""

    def __init__(self, engine):
        self.queries = 0
        self.seconds = 0.0
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, conn, cursor, statement, parameters, context, executemany):
        conn.info["bench_t0"] = time.perf_counter()

    def _after(self, conn, cursor, statement, parameters, context, executemany):
        self.queries += 1
        self.seconds += time.perf_counter() - conn.info.pop("bench_t0", time.perf_counter())

    def reset(self):
        self.queries, self.seconds = 0, 0.0


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(pct / 100 * len(ordered)) - 1)]


def summary_ms(seconds: list[float]) -> dict:
    ms = [s * 1000 for s in seconds]
    return {
        "n": len(ms),
        "median_ms": round(statistics.median(ms), 2),
        "p95_ms": round(percentile(ms, 95), 2),
        "mean_ms": round(statistics.fmean(ms), 2),
        "min_ms": round(min(ms), 2),
        "max_ms": round(max(ms), 2),
    }


# --------------------------------------------------------------------------- databases

@dataclass
class Backend:
    name: str
    url: str                      # SQLAlchemy URL the app uses
    version: str = ""


@contextmanager
def sqlite_database():
    tmp = tempfile.mkdtemp(prefix="portal-bench-")
    try:
        yield Backend("sqlite", f"sqlite:///{os.path.join(tmp, 'bench.db')}", sqlite3.sqlite_version)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@contextmanager
def postgres_database(server_url: str):
    import psycopg

    server_url = server_url.rstrip("/")
    name = f"portal_bench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    try:
        admin = psycopg.connect(f"{server_url}/postgres", autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        sys.exit(f"PostgreSQL is not reachable at {server_url} ({exc}).\n"
                 f"Start it, point --pg-url at it, or pass --sqlite-only to skip PostgreSQL.")
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        version = admin.execute("SHOW server_version").fetchone()[0]
        collation = admin.execute("SELECT datcollate FROM pg_database WHERE datname = %s", (name,)).fetchone()[0]
        try:
            url = f"{server_url}/{name}".replace("postgresql://", "postgresql+psycopg://", 1)
            yield Backend("postgresql", url, f"{version} (collation {collation})")
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def make_app(url: str):
    # The production config, pointed at the benchmark database. CSRF off so the client can post
    # plain forms; login throttling in memory so a REDIS_URL in the environment is not needed;
    # a throw-away SECRET_KEY (production refuses to start without one).
    return create_app(
        "production",
        SQLALCHEMY_DATABASE_URI=url,
        WTF_CSRF_ENABLED=False,
        LOGIN_THROTTLE_STORAGE="memory://",
        SECRET_KEY=os.environ.get("SECRET_KEY") or os.urandom(24).hex(),
        # Throw-away keys for personal data at rest (production refuses to start without them).
        DATA_KEYS=os.environ.get("DATA_KEYS") or base64.urlsafe_b64encode(os.urandom(32)).decode(),
        DATA_HASH_KEY=os.environ.get("DATA_HASH_KEY") or os.urandom(24).hex(),
    )


# --------------------------------------------------------------------------- the floor

FLOOR_TEMPLATE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>门店</title></head>
<body>
<p id="match-count" data-count="{{ total }}">{{ total }} 家门店</p>
<table>
<thead><tr><th>编码</th><th>门店</th><th>城市</th><th>区域</th><th>标签</th><th>状态</th></tr></thead>
<tbody>
{%- for s in rows %}
<tr><td>{{ s.code }}</td><td><a href="/stores/{{ s.id }}">{{ s.name }}</a></td><td>{{ s.city }}</td>
<td>{{ s.region }}</td><td>{% for t in s.tags %}<span>{{ t }}</span>{% endfor %}</td><td>{{ s.status }}</td></tr>
{%- endfor %}
</tbody>
</table>
<p>第 {{ page }} / {{ pages }} 页</p>
</body></html>
"""


def floor_app(url: str, per_page: int):
    """The store list's floor: a bare Flask app that answers the same URLs with the same SQL as
    ``portal.org.services.list_stores`` (the count over the filtered ids; the page's stores with
    their region and tags around the page of ids in the same order) through a plain SQLAlchemy
    Core engine on the same database, and renders a 50-row table with a plain Jinja template. What it
    leaves out is what the portal adds: extensions, session, signed-in user, scope, ORM objects,
    navigation, translations, macros, CSRF token, headers."""
    from flask import Flask, request
    from sqlalchemy import and_, column, create_engine, or_, table, true

    stores = table("stores", column("id"), column("code"), column("name"), column("city"),
                   column("status"), column("path"), column("node_id"))
    nodes = table("org_nodes", column("id"), column("name"), column("path"))
    tags = table("tags", column("id"), column("name"))
    store_tags = table("store_tags", column("store_id"), column("tag_id"))
    sorts = {"code": stores.c.code, "name": stores.c.name, "city": stores.c.city,
             "status": stores.c.status, "region": nodes.c.name}

    engine = create_engine(url)
    app = Flask("store_list_floor")
    page_template = app.jinja_env.from_string(FLOOR_TEMPLATE)

    @app.get("/stores")
    def list_stores():
        args = request.args
        cond = [true()]
        with engine.connect() as conn:
            q = args.get("q", "").strip()
            if q:
                like = f"%{q}%"
                cond.append(or_(stores.c.name.like(like), stores.c.code.ilike(like), stores.c.city.like(like)))
            if args.get("node"):
                path = conn.scalar(select(nodes.c.path).where(nodes.c.id == int(args["node"])))
                cond.append(and_(stores.c.path >= path, stores.c.path < path[:-1] + "0"))
            if args.get("status"):
                cond.append(stores.c.status == args["status"])
            if args.get("tag"):
                cond.append(stores.c.id.in_(select(store_tags.c.store_id).join(tags, tags.c.id == store_tags.c.tag_id)
                                            .where(tags.c.name == args["tag"])))
            ids = select(stores.c.id).where(*cond)
            total = conn.scalar(select(func.count()).select_from(ids.subquery()))
            pages = max(1, math.ceil(total / per_page))
            page = min(max(1, int(args.get("page", 1))), pages)
            sort = args.get("sort", "code")
            order = (sorts[sort].desc() if args.get("dir") == "desc" else sorts[sort].asc(), stores.c.id)
            if sort == "region":
                ids = ids.join(nodes, stores.c.node_id == nodes.c.id)
            page_ids = ids.order_by(*order).limit(per_page).offset((page - 1) * per_page).correlate(None)
            rows: dict[int, dict] = {}
            for r in conn.execute(
                    select(stores.c.id, stores.c.code, stores.c.name, stores.c.city, stores.c.status,
                           nodes.c.name.label("region"), tags.c.name.label("tag"))
                    .join_from(stores, nodes, stores.c.node_id == nodes.c.id)
                    .outerjoin(store_tags, store_tags.c.store_id == stores.c.id)
                    .outerjoin(tags, tags.c.id == store_tags.c.tag_id)
                    .where(stores.c.id.in_(page_ids)).order_by(*order, tags.c.name)):
                row = rows.setdefault(r.id, {**r._mapping, "tags": []})
                if r.tag is not None:
                    row["tags"].append(r.tag)
        return page_template.render(rows=rows.values(), total=total, page=page, pages=pages)

    app.floor_engine = engine
    return app


# --------------------------------------------------------------------------- the measurements

def seed(app, n_stores: int) -> dict:
    from flask_migrate import upgrade

    with app.app_context():
        upgrade()
        started = time.perf_counter()
        demo.seed_demo(n_stores)
        seeded = time.perf_counter()
        db.session.commit()
        done = time.perf_counter()
        if db.engine.dialect.name == "postgresql":
            # Autovacuum would analyze 10,000 fresh rows within a minute; do it now so the
            # planner has statistics, as on a running server. SQLite gets no ANALYZE: the app
            # never runs one.
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("ANALYZE"))
        count = db.session.scalar(select(func.count()).select_from(Store))
        db.session.remove()
    assert count == n_stores, count
    return {"stores": n_stores, "seed_demo_s": round(seeded - started, 3),
            "commit_s": round(done - seeded, 3), "total_s": round(done - started, 3)}


def login(client) -> None:
    r = client.post("/login", data={"username": "hq", "password": demo.DEMO_PASSWORD})
    if r.status_code != 302:
        raise SystemExit(f"login as hq failed: {r.status_code} {r.get_data(as_text=True)[:300]}")


def list_cases(app, n_stores: int) -> list[tuple[str, str, dict]]:
    """The store-list requests, as (label, URL, headers)."""
    with app.app_context():
        region_id = db.session.scalar(select(OrgNode.id).where(OrgNode.code == "R-JS"))
        db.session.remove()
    per_page = app.config["STORES_PER_PAGE"]
    last = max(1, math.ceil(n_stores / per_page))
    hx = {"HX-Request": "true", "HX-Target": "store-rows"}
    later = max(1, last * 3 // 4)
    return [
        ("first page", "/stores", {}),
        ("search q=上海", "/stores?q=上海", {}),
        ("search code q=S0012", "/stores?q=S0012", {}),
        ("status+region", f"/stores?status=active&node={region_id}", {}),
        ("tag+sort name, p3", "/stores?tag=旗舰店&sort=name&page=3", {}),
        (f"deep page {last}", f"/stores?page={last}", {}),
        (f"sort region desc, p{later}", f"/stores?sort=region&dir=desc&page={later}", {}),
        ("htmx rows q=杭州 p2", "/stores?q=杭州&status=active&page=2", hx),
    ]


MATCH_COUNT = re.compile(r'id="match-count" data-count="(\d+)"')
PORTAL_CODES = re.compile(r'<td class="text-secondary">([^<]+)</td>')
FLOOR_CODES = re.compile(r'<tr><td>([^<]+)</td>')


def measure_list(app, client, timer: WSGITimer, sql: SQLCounter, n_stores: int, n_requests: int,
                 floor=None) -> dict:
    """Each case ``n_requests`` times; with ``floor`` = (client, timer) of the floor app, each
    request of the portal is followed by the same request to the floor."""
    cases, everything, everything_cpu = [], [], []
    for label, url, headers in list_cases(app, n_stores):
        for _ in range(WARMUP):
            r = client.get(url, headers=headers)
            assert r.status_code == 200, (url, r.status_code)
            if floor:
                f = floor[0].get(url)
                assert f.status_code == 200, (url, f.status_code)
        body = r.get_data(as_text=True)
        matched = MATCH_COUNT.search(body)
        if headers:
            assert "<html" not in body, "the htmx request got a full page"
        if floor:
            floor_matched = MATCH_COUNT.search(f.get_data(as_text=True))
            assert floor_matched and matched and floor_matched.group(1) == matched.group(1), \
                (f"the floor of {url} counts {floor_matched and floor_matched.group(1)}, "
                 f"the portal {matched and matched.group(1)}")
            assert FLOOR_CODES.findall(f.get_data(as_text=True)) == PORTAL_CODES.findall(body), \
                f"the floor of {url} lists other stores than the portal"
        server, cpu, queries, sql_time, floor_server, floor_cpu = [], [], [], [], [], []
        for _ in range(n_requests):
            sql.reset()
            r = client.get(url, headers=headers)
            server.append(timer.last)
            cpu.append(timer.last_cpu)
            queries.append(sql.queries)
            sql_time.append(sql.seconds)
            assert r.status_code == 200, (url, r.status_code)
            if floor:
                floor[0].get(url)
                floor_server.append(floor[1].last)
                floor_cpu.append(floor[1].last_cpu)
        everything += server
        everything_cpu += cpu
        case = {"case": label, "url": url, "htmx": bool(headers),
                "matches": int(matched.group(1)) if matched else None,
                "queries": max(queries), "sql_median_ms": round(statistics.median(sql_time) * 1000, 2),
                "cpu_median_ms": round(statistics.median(cpu) * 1000, 2),
                **summary_ms(server)}
        if floor:
            case["floor"] = {**summary_ms(floor_server), "cpu_median_ms": round(statistics.median(floor_cpu) * 1000, 2)}
            case["ratio_to_floor"] = round(case["median_ms"] / case["floor"]["median_ms"], 2)
            # On a machine busier than its cores, a request that needs more than a time slice
            # waits for the CPU between slices and the short floor seldom does: the wall-clock
            # ratio then inflates; the ratio of CPU times does not.
            case["cpu_ratio_to_floor"] = round(case["cpu_median_ms"] / case["floor"]["cpu_median_ms"], 2)
        cases.append(case)
    overall = {**summary_ms(everything), "cpu_median_ms": round(statistics.median(everything_cpu) * 1000, 2)}
    return {"cases": cases, "overall": overall}


def import_csv(rows: list[dict]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        ["门店编码", "门店名称", "城市", "地址", "区域编码", "状态", "标签", "小程序AppID", "店主", "店主电话"]
    )
    for r in rows:
        writer.writerow([r["code"], r["name"], r["city"], r["address"], r["region"], r["status"],
                         ",".join(r["tags"]), r["appid"], r["owner"], r["phone"]])
    return out.getvalue().encode("utf-8")


def import_rows(n: int, seed: int = 7) -> list[dict]:
    """n new stores (codes B000001…, not used by the demo brand) spread over the demo regions."""
    rng = random.Random(seed)
    regions = [(rcode, cities) for _d, _n, regs in demo.DISTRIBUTORS for rcode, _rn, cities in regs]
    statuses = ["营业中"] * 18 + ["已暂停", "已关闭"]
    rows = []
    for i in range(1, n + 1):
        rcode, cities = rng.choice(regions)
        city = rng.choice(cities)
        rows.append({
            "code": f"B{i:06d}", "name": f"{demo.BRAND}·{city}{rng.choice(demo.PLACES)}{i}号店", "city": city,
            "address": f"{city}市{rng.choice(demo.STREETS)}{rng.randint(1, 999)}号", "region": rcode,
            "status": rng.choice(statuses), "tags": rng.sample(demo.TAGS, rng.choice((0, 1, 2))),
            "appid": "wx" + "".join(rng.choice("0123456789abcdef") for _ in range(16)),
            "owner": rng.choice(demo.SURNAMES) + rng.choice(demo.GIVEN),
            "phone": f"1{rng.choice('3456789')}{rng.randint(0, 999999999):09d}",
        })
    return rows


def post_import(client, timer: WSGITimer, raw: bytes) -> tuple[float, float, float, str]:
    started = time.perf_counter()
    r = client.post("/stores/import", data={"file": (io.BytesIO(raw), "stores.csv")},
                    content_type="multipart/form-data")
    wall = time.perf_counter() - started
    if r.status_code != 303:
        raise SystemExit(f"import failed: {r.status_code}\n{r.get_data(as_text=True)[:2000]}")
    with client.session_transaction() as sess:
        flashes = sess.pop("_flashes", [])
    return timer.last, timer.last_cpu, wall, " ".join(msg for _cat, msg in flashes)


def measure_import(app, client, timer: WSGITimer, n_rows: int, n_stores: int) -> dict:
    rows = import_rows(n_rows)
    raw = import_csv(rows)
    changed = import_csv([{**r, "name": r["name"] + "·新"} for r in rows])
    out = {"rows": n_rows, "file_bytes": len(raw)}
    for key, payload in (("new", raw), ("reimport_unchanged", raw), ("all_updated", changed)):
        server, cpu, wall, message = post_import(client, timer, payload)
        out[key] = {"server_s": round(server, 3), "cpu_s": round(cpu, 3), "client_s": round(wall, 3),
                    "flash": message}
    with app.app_context():
        total = db.session.scalar(select(func.count()).select_from(Store))
        db.session.remove()
    assert total == n_stores + n_rows, f"expected {n_stores + n_rows} stores after import, found {total}"
    return out


# --------------------------------------------------------------------------- one backend

def run_backend(backend: Backend, args) -> dict:
    print(f"\n== {backend.name} {backend.version}", flush=True)
    load_before = os.getloadavg()[0]
    app = make_app(backend.url)
    print(f"seeding {args.stores:,} stores …", flush=True)
    seeding = seed(app, args.stores)

    timer = WSGITimer(app.wsgi_app)
    app.wsgi_app = timer
    with app.app_context():
        sql = SQLCounter(db.engine)
    client = app.test_client()
    login(client)
    bare = floor_app(backend.url, app.config["STORES_PER_PAGE"])
    floor_timer = WSGITimer(bare.wsgi_app)
    bare.wsgi_app = floor_timer

    profiler = cProfile.Profile() if args.profile else None
    if profiler:
        profiler.enable()
    print(f"store list: {args.requests} requests per case …", flush=True)
    listing = measure_list(app, client, timer, sql, args.stores, args.requests,
                           floor=(bare.test_client(), floor_timer))
    bare.floor_engine.dispose()
    importing = None
    if not args.no_import:
        print(f"CSV import: {args.import_rows:,} rows …", flush=True)
        importing = measure_import(app, client, timer, args.import_rows, args.stores)
    if profiler:
        profiler.disable()
        prof = RESULTS / f"store_list-{backend.name}.prof"
        profiler.dump_stats(prof)
        print(f"profile written to {prof.relative_to(ROOT)} (timings above include profiler overhead)")

    with app.app_context():
        db.engine.dispose()
    return {
        "backend": backend.name, "database_version": backend.version,
        # Other processes on the machine inflate wall-clock times; the CPU column does not.
        "load_average": {"start": round(load_before, 2), "end": round(os.getloadavg()[0], 2)},
        "seed": seeding, "list": listing, "import": importing,
        "targets": targets(backend.name, listing, importing),
    }


def targets(backend: str, listing: dict, importing: dict | None) -> dict:
    out = {}
    if importing:
        out["import_new_s"] = {"target": TARGET_IMPORT_S, "value": importing["new"]["server_s"],
                               "met": importing["new"]["server_s"] <= TARGET_IMPORT_S}
    worst = max(listing["cases"], key=lambda c: c["ratio_to_floor"])
    out["list_ratio_to_floor"] = {"target": TARGET_FLOOR_RATIO, "value": worst["ratio_to_floor"],
                                  "worst_case": worst["case"],
                                  "met": worst["ratio_to_floor"] <= TARGET_FLOOR_RATIO}
    worst = max(listing["cases"], key=lambda c: c["cpu_ratio_to_floor"])
    out["list_cpu_ratio_to_floor"] = {"target": TARGET_FLOOR_RATIO, "value": worst["cpu_ratio_to_floor"],
                                      "worst_case": worst["case"],
                                      "met": worst["cpu_ratio_to_floor"] <= TARGET_FLOOR_RATIO}
    if backend == "sqlite":
        worst = max(c["median_ms"] for c in listing["cases"])
        out["list_median_ms"] = {"target": TARGET_LIST_MEDIAN_MS, "value": listing["overall"]["median_ms"],
                                 "worst_case_median": worst,
                                 "met": listing["overall"]["median_ms"] <= TARGET_LIST_MEDIAN_MS,
                                 "met_by_every_case": worst <= TARGET_LIST_MEDIAN_MS}
    return out


# --------------------------------------------------------------------------- reporting

def machine() -> dict:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    mem_kb = next((int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal")), 0)
    dirty = " (with uncommitted changes)" if _git("status", "--porcelain") else ""
    return {
        "revision": _git("rev-parse", "--short", "HEAD") + dirty,
        "cpus": os.cpu_count(), "cpu_model": cpu, "memory_gib": round(mem_kb / 1024 / 1024, 1),
        "python": platform.python_version(), "sqlite": sqlite3.sqlite_version,
        "sqlalchemy": metadata.version("sqlalchemy"), "flask": metadata.version("flask"),
        "psycopg": metadata.version("psycopg"), "platform": platform.platform(),
    }


def _git(*args: str) -> str:
    try:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""


def print_report(result: dict) -> None:
    b = result["backend"]
    s = result["seed"]
    print(f"\n{b}: seed_demo({s['stores']:,}) {s['seed_demo_s']:.2f} s + commit {s['commit_s']:.2f} s "
          f"= {s['total_s']:.2f} s")
    head = (f"{'case':<28}{'matches':>8}{'median ms':>11}{'p95 ms':>9}{'max ms':>9}{'cpu ms':>8}"
            f"{'sql ms':>8}{'queries':>8}{'floor ms':>10}{'floor cpu':>10}{'ratio':>7}{'cpu ratio':>10}")
    print(head)
    print("-" * len(head))
    for c in result["list"]["cases"]:
        print(f"{c['case']:<28}{c['matches'] if c['matches'] is not None else '':>8}{c['median_ms']:>11.1f}"
              f"{c['p95_ms']:>9.1f}{c['max_ms']:>9.1f}{c['cpu_median_ms']:>8.1f}{c['sql_median_ms']:>8.1f}"
              f"{c['queries']:>8}{c['floor']['median_ms']:>10.1f}{c['floor']['cpu_median_ms']:>10.1f}"
              f"{c['ratio_to_floor']:>7.2f}{c['cpu_ratio_to_floor']:>10.2f}")
    o = result["list"]["overall"]
    print(f"{'overall (' + str(o['n']) + ' requests)':<28}{'':>8}{o['median_ms']:>11.1f}{o['p95_ms']:>9.1f}"
          f"{o['max_ms']:>9.1f}{o['cpu_median_ms']:>8.1f}")
    print(f"load average during the run: {result['load_average']}")
    imp = result["import"]
    if not imp:
        print("import: not run (--no-import)")
    for name, t in result["targets"].items():
        if name != "import_new_s":
            print(f"  target {name}: {t['value']} vs {t['target']} → {'met' if t['met'] else 'MISSED'}")
    if not imp:
        return
    print(f"import {imp['rows']:,} rows ({imp['file_bytes'] / 1e6:.1f} MB):")
    for key, label in (("new", "new stores"), ("reimport_unchanged", "re-import, unchanged"),
                       ("all_updated", "every name changed")):
        r = imp[key]
        print(f"  {label:<22} {r['server_s']:6.2f} s server ({r['cpu_s']:.2f} s cpu)  {r['flash']}")
    t = result["targets"]["import_new_s"]
    print(f"  target import_new_s: {t['value']} vs {t['target']} → {'met' if t['met'] else 'MISSED'}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stores", type=int, default=10000, help="stores to seed (default 10000)")
    parser.add_argument("--requests", type=int, default=200, help="timed requests per list case (default 200)")
    parser.add_argument("--import-rows", type=int, default=10000, help="rows in the imported CSV (default 10000)")
    parser.add_argument("--sqlite-only", action="store_true", help="skip PostgreSQL")
    parser.add_argument("--pg-url", default=DEFAULT_PG,
                        help="PostgreSQL server; a fresh database is created and dropped (default %(default)s)")
    parser.add_argument("--no-import", action="store_true", help="measure the store list only (no CSV import)")
    parser.add_argument("--profile", action="store_true",
                        help="also write a cProfile of the list and import phases to benchmarks/results/")
    args = parser.parse_args(argv)

    return run_benchmark("store_list", args, argv, run_backend, print_report,
                         requests_per_case=args.requests, warmup_per_case=WARMUP)


def run_benchmark(name: str, args, argv, run_backend, print_report, **meta) -> int:
    """Run ``run_backend`` on SQLite and (unless --sqlite-only) PostgreSQL; print and save each."""
    RESULTS.mkdir(exist_ok=True)
    load, cpus = os.getloadavg()[0], os.cpu_count() or 1
    if load > cpus / 2:
        print(f"note: load average {load:.1f} on {cpus} CPUs: other processes will inflate the wall-clock "
              f"figures; the cpu column (this process's own CPU time) is less affected.")
    meta = {"date": datetime.now(UTC).isoformat(timespec="seconds"), "machine": machine(),
            "command": " ".join([".venv/bin/python", f"benchmarks/{name}.py", *(argv or sys.argv[1:])]),
            "stores": args.stores, **meta}
    backends = [sqlite_database()]
    if args.sqlite_only:
        print(f"--sqlite-only: PostgreSQL skipped; no {name}-postgresql.json is written.")
    else:
        backends.append(postgres_database(args.pg_url))
    for make in backends:
        with make as backend:
            result = {**meta, **run_backend(backend, args)}
        out = RESULTS / f"{name}-{backend.name}.json"
        out.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
        print_report(result)
        print(f"written to {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
