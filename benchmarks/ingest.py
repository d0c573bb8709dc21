"""The signed ingestion API under load: gunicorn with 4 workers on PostgreSQL over 127.0.0.1,
beside its floor measured in the same run.

One run:

1. creates a fresh PostgreSQL database (dropped at the end), migrates it with Alembic, seeds a
   brand (``--stores``, default 1,000), the demo menu's distribution plan pushed to the stores
   under load, two guides per store, and issues each of those stores a signed credential with
   ``flask issue-api-key CODE --json`` (the CLI, in-process);
2. starts ``gunicorn -w 4`` (``--worker-class gthread --threads 2`` by default: the sync worker
   closes the connection after every response, so a client keeping its connection open — as the
   mini-programs' HTTP/1.1 clients do — pays a new TCP connection and a new accept per request;
   gthread keeps connections alive, and its second thread lets a worker parse the next request
   while the first waits on PostgreSQL's commit. ``--worker-class sync`` to compare) on a free
   port of 127.0.0.1;
3. (a) single-event requests: ``--clients`` processes (default 4), each with one persistent
   connection and its own stores, post one event per request; (b) batches of 500 events, one
   store's each. The mix is realistic: 25 % ``member.signup``, 65 % ``order.paid`` (1–3 lines, most
   under the plan, with guides and sharers), 10 % ``order.refunded`` of an order sent earlier (half
   one cup of one line, half the whole order). Every body is built and signed before the timer
   starts (signed right before its phase: the signature's ``t`` must be within 300 s), and the
   benchmark checks that every event was answered ``applied`` (rejections prove nothing);
4. (c) the floor: the rows phase (b) wrote — every table with an ``id`` (inbox, members,
   identities, bindings, orders, lines, refunds, ledger entries, and whatever else the handlers
   write) read back with ``COPY … TO STDOUT``, deleted, and re-inserted with ``COPY … FROM STDIN``
   in as many transactions as phase (b) had batches, each of about one batch's rows (cut at
   snapshots of the tables' highest ids taken during phase (b), so a child row never comes
   before its parent). events/s of the floor = phase (b)'s events ÷ the floor's time;
5. (d) the floor of (a): phase (a) again, same clients, stores, events and signatures, against
   ``benchmarks/ingest_floor_app.py`` under the same gunicorn: a bare Flask app that checks the
   signature (secrets in memory), parses the body, inserts one row per event and commits — the
   least a durable signed write costs on this machine.

Before the run the brand gets a history (``--history``, default 1,000,000 members and 1,000,000
orders with their ledger, by ``benchmarks/gen_members.py`` with COPY, then ANALYZE): a running
brand's tables are large and analysed. Into empty tables each worker's connection would plan its
foreign-key checks on empty tables and keep those plans (a sequential scan per check, quadratic in
the run). The CPU seconds of gunicorn's workers and of PostgreSQL's processes are printed per phase.

Usage (from the project root; PostgreSQL on 127.0.0.1:5432):

    .venv/bin/python benchmarks/ingest.py [--single 6000] [--batches 60] [--clients 4]
                                          [--worker-class gthread|sync] [--threads 2] [--stores 1000]
                                          [--history 1000000]

Prints a table and writes benchmarks/results/ingest-postgresql.json. Targets (issue 10):
single ≥ 1,500 events/s, batches ≥ 20,000 events/s and ≥ 0.4 × the floor.
"""
from __future__ import annotations

import argparse
import base64
import json
import multiprocessing as mp
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from store_list import DEFAULT_PG, RESULTS, machine, make_app, postgres_database, seed  # noqa: E402
from traffic import Client, demo_menu, encode, signed_headers  # noqa: E402

from portal.orders.demo import EventMaker  # noqa: E402

TARGET_SINGLE = 1500
TARGET_BATCH = 20000
TARGET_RATIO = 0.4
BATCH = 500
GUIDES = ["DG01", "DG02"]


# --------------------------------------------------------------------------- the events

def store_stream(tag: str, n: int, seed: int, plan_id: int | None) -> list[dict]:
    """``n`` events of one store in the benchmark's mix, each refund after its order."""
    rng = random.Random(seed)
    maker = EventMaker(rng, tag, demo_menu(), GUIDES, plan_id)
    now = datetime.now(UTC)
    out, orders, refunded = [], [], set()
    for k in range(n):
        at = now - timedelta(seconds=(n - k) * 2)
        roll = rng.random()
        if not maker.people or roll < 0.25:
            out.append(maker.signup(at))
        elif roll < 0.90 or len(orders) <= len(refunded):
            event, order = maker.order(rng.choice(maker.people), at)
            out.append(event)
            orders.append(order)
        else:
            order = next(o for o in orders if o.number not in refunded)
            refunded.add(order.number)
            out.append(maker.refund(order, at, full=rng.random() < 0.5))
    return out


def _client(conn_args: dict, jobs: list[tuple[str, str, str, list[bytes]]], per_request: int, barrier, queue):
    """A load process: signs every body (right before the phase), waits for the others, posts them
    in order over one persistent connection, and reports its answers."""
    signed = []
    for store, key_id, secret, bodies in jobs:
        client = Client(conn_args["url"], store, key_id, secret)
        signed.append((client, [(b, signed_headers(key_id, secret, b)) for b in bodies]))
    barrier.wait()
    started = time.monotonic()
    statuses: Counter = Counter()
    http: Counter = Counter()
    errors = []
    # Round-robin over this process's stores: one connection per store is open.
    pending = [iter(bodies) for _c, bodies in signed]
    clients = [c for c, _b in signed]
    while pending:
        alive = []
        for client, it in zip(clients, pending, strict=True):
            item = next(it, None)
            if item is None:
                continue
            status, answer = client.post(*item)
            http[status] += 1
            if status != 200:
                if len(errors) < 5:
                    errors.append({"http": status, **answer})
            else:
                for r in answer.get("results", []):
                    statuses[r["status"]] += 1
                    if r["status"] != "applied" and len(errors) < 5:
                        errors.append(r)
            alive.append((client, it))
        clients, pending = [c for c, _ in alive], [i for _, i in alive]
    ended = time.monotonic()
    for client, _b in signed:
        client.close()
    queue.put({"started": started, "ended": ended, "statuses": dict(statuses), "http": dict(http), "errors": errors})


def run_phase(name: str, url: str, creds: list[dict], per_store: int, per_request: int, clients: int,
              plan_id: int | None, monitor=None) -> dict:
    """Post ``per_store`` events to each store of ``creds`` in requests of ``per_request``."""
    jobs: list[list] = [[] for _ in range(clients)]
    events = 0
    for i, c in enumerate(creds):
        stream = store_stream(f"{name}-{c['store']}", per_store, seed=zlib.crc32(f"{name}-{c['store']}".encode()),
                              plan_id=plan_id)
        bodies = [encode(stream[j:j + per_request]) for j in range(0, len(stream), per_request)]
        events += len(stream)
        jobs[i % clients].append((c["store"], c["key_id"], c["secret"], bodies))
    return run_jobs(url, [job for job in jobs if job], events, per_request, monitor)


def run_jobs(url: str, jobs: list[list], events: int, per_request: int, monitor=None) -> dict:
    """Post ``jobs`` (one load process each: [(store code, key id, secret, [body, …]), …], each
    store's bodies in order) to the signed API at ``url``, all processes started together, and sum
    up their answers (``events``: how many events the bodies hold)."""
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    barrier = ctx.Barrier(len(jobs) + 1)
    procs = [ctx.Process(target=_client, args=({"url": url}, job, per_request, barrier, queue)) for job in jobs]
    for p in procs:
        p.start()
    stop = threading.Event()
    sampler = threading.Thread(target=monitor, args=(stop,)) if monitor else None
    barrier.wait()
    if sampler:
        sampler.start()
    reports = [queue.get(timeout=900) for _ in procs]
    stop.set()
    if sampler:
        sampler.join()
    for p in procs:
        p.join()
    started = min(r["started"] for r in reports)
    ended = max(r["ended"] for r in reports)
    statuses, http = Counter(), Counter()
    errors = []
    for r in reports:
        statuses.update(r["statuses"])
        http.update(r["http"])
        errors += r["errors"]
    seconds = ended - started
    return {"events": events, "requests": sum(http.values()), "events_per_request": per_request,
            "seconds": round(seconds, 3), "events_per_s": round(events / seconds, 1) if seconds else None,
            "statuses": dict(statuses), "http": dict(http), "errors": errors[:10],
            "all_applied": statuses.get("applied", 0) == events and set(http) == {200}}


# --------------------------------------------------------------------------- the floor

def _tables_with_id(app) -> list[str]:
    """Every table with an ``id`` column, parents first."""
    from portal.extensions import db

    with app.app_context():
        return [t.name for t in db.metadata.sorted_tables if "id" in t.c]


def _max_ids(conn, tables: list[str]) -> dict[str, int]:
    sql = "SELECT " + ", ".join(f"(SELECT COALESCE(max(id), 0) FROM {t})" for t in tables)
    return dict(zip(tables, conn.execute(sql).fetchone(), strict=True))


class Snapshots:
    """The tables' highest ids, sampled while a phase runs: cut points for the floor's
    transactions. Read from the tables' id sequences (one statement, a page each), not with
    ``max(id)`` (an index descent per table, 40 tables every 5 ms: the sampler itself then took
    most of a core of PostgreSQL away from the load it measures). A parent's id is drawn before
    its children's, so cutting at drawn ids keeps parents in or before their children's batch."""

    def __init__(self, dsn: str, tables: list[str]):
        self.dsn, self.tables, self.samples = dsn, tables, []

    def __call__(self, stop: threading.Event) -> None:
        import psycopg

        with psycopg.connect(self.dsn, autocommit=True) as conn:
            seqs = conn.execute("SELECT " + ", ".join(f"pg_get_serial_sequence('{t}', 'id')" for t in self.tables)
                                ).fetchone()
            sql = "SELECT " + ", ".join(
                f"(SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM {s})" if s else "0" for s in seqs)
            while not stop.is_set():
                self.samples.append(dict(zip(self.tables, conn.execute(sql).fetchone(), strict=True)))
                time.sleep(0.005)
            self.samples.append(_max_ids(conn, self.tables))


def floor(dsn: str, tables: list[str], before: dict[str, int], samples: list[dict], n_batches: int,
          fks: dict[str, list[tuple[str, str]]] | None = None, keyed: dict[str, str] | None = None) -> dict:
    """Read back what the phase wrote, delete it, and time COPYing it in again, in ``n_batches``
    transactions cut at ``samples`` (so each holds whole parents before their children).

    ``keyed``: tables without an ``id`` that the phase wrote too (a live room's viewers), each with
    the SQL condition that selects the phase's rows; they are read back, deleted and COPYed in the
    same way, each row in the transaction of the latest row it points at."""
    import psycopg

    keyed = keyed or {}
    with psycopg.connect(dsn) as conn:
        after = _max_ids(conn, tables)
        written = [t for t in tables if after[t] > before[t]] + list(keyed)
        cols, data = {}, {}
        for t in written:
            names = [r[0] for r in conn.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = %s AND is_generated = 'NEVER' "
                "ORDER BY ordinal_position",
                (t,))]
            where = keyed[t] if t in keyed else f"id > {before[t]} ORDER BY id"
            cols[t] = names if t in keyed else ["id"] + [c for c in names if c != "id"]   # generated ones left out
            lines: list[tuple[int | None, bytes]] = []
            with conn.cursor().copy(f"COPY (SELECT {', '.join(cols[t])} FROM {t} WHERE {where}) TO STDOUT") as copy:
                buf = b""
                for chunk in copy:
                    buf += bytes(chunk)
                    *full, buf = buf.split(b"\n")
                    lines += [(None if t in keyed else int(line.split(b"\t", 1)[0]), line + b"\n") for line in full]
            data[t] = lines
        rows = {t: len(v) for t, v in data.items()}
        # The delete is not timed; without the foreign-key triggers it does not look, for each
        # deleted ledger entry, for entries reversing it (an unindexed self-reference).
        conn.execute("SET session_replication_role = replica")
        for t in reversed(written):
            conn.execute(f"DELETE FROM {t} WHERE {keyed[t] if t in keyed else f'id > {before[t]}'}")
        conn.execute("SET session_replication_role = origin")
        conn.commit()
        # Cut points: n_batches of the snapshots, evenly by rows; then each row goes into the
        # transaction of its own cut or of the latest of the rows it points at, whichever is later
        # (concurrent requests take ids out of commit order, so a cut alone can split a row from
        # its parent).
        id_tables = [t for t in written if t not in keyed]
        cuts = _cuts(samples + [after], id_tables, n_batches)
        parts = _assign(data, cols, written, cuts, fks or {})
        started = time.perf_counter()
        for k in range(len(cuts)):
            with conn.transaction():
                for t in written:
                    part = parts[t].get(k)
                    if part:
                        with conn.cursor().copy(f"COPY {t} ({', '.join(cols[t])}) FROM STDIN") as copy:
                            copy.write(b"".join(part))
        seconds = time.perf_counter() - started
        assert _max_ids(conn, tables) == after, "the floor did not put back every row"
    return {"tables": rows, "rows": sum(rows.values()), "transactions": len(cuts), "seconds": round(seconds, 3)}


def foreign_keys(app) -> dict[str, list[tuple[str, str]]]:
    """{table: [(column, referenced table)]} of the foreign keys onto ``id`` columns."""
    from portal.extensions import db

    with app.app_context():
        return {t.name: [(fk.parent.name, fk.column.table.name) for fk in t.foreign_keys if fk.column.name == "id"]
                for t in db.metadata.sorted_tables}


def _assign(data, cols, written, cuts, fks) -> dict[str, dict[int, list[bytes]]]:
    """Each row's transaction: its cut's, or later when a row it points at comes later (a row of
    a table without ``id``: the transaction of the latest row it points at)."""
    from bisect import bisect_left

    where: dict[str, dict[int, int]] = {}
    parts: dict[str, dict[int, list[bytes]]] = {}
    for t in written:                               # parents first
        bounds = [c[t] for c in cuts] if t in cuts[0] else None
        refs = [(cols[t].index(col), ref) for col, ref in fks.get(t, []) if ref in where or ref == t]
        mine: dict[int, int] = {}
        where[t] = mine
        out: dict[int, list[bytes]] = {}
        for i, line in data[t]:
            k = 0 if bounds is None else min(bisect_left(bounds, i), len(cuts) - 1)
            if refs:
                fields = line.rstrip(b"\n").split(b"\t")
                for at, ref in refs:
                    value = fields[at]
                    if value != b"\\N":
                        k = max(k, where[ref].get(int(value), 0))
            if i is not None:
                mine[i] = k
            out.setdefault(k, []).append(line)
        parts[t] = out
    return parts


def _cuts(samples: list[dict], tables: list[str], n: int) -> list[dict]:
    total = lambda s: sum(s[t] for t in tables)  # noqa: E731
    first, last = total(samples[0]), total(samples[-1])
    cuts, step = [], max(1, (last - first) / max(1, n))
    goal = first + step
    for s in samples:
        if total(s) >= goal:
            cuts.append(s)
            goal = total(s) + step
    if not cuts or cuts[-1] != samples[-1]:
        cuts.append(samples[-1])
    return cuts


# --------------------------------------------------------------------------- set-up

def _ticks(pid: int) -> int:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])


def cpu_split(server_pid: int) -> dict[str, dict[int, int]]:
    """CPU clock ticks (user + system) so far of gunicorn's workers and of each PostgreSQL process."""
    out: dict[str, dict[int, int]] = {"app": {}, "database": {}}
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            stat = Path(f"/proc/{p}/stat").read_text()
            comm = stat.split("(", 1)[1].split(")", 1)[0]
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        if ppid == server_pid:
            out["app"][int(p)] = _ticks(int(p))
        elif comm.startswith("postgres"):
            out["database"][int(p)] = _ticks(int(p))
    return out


def cpu_used(before: dict, after: dict) -> dict[str, float]:
    """CPU seconds between two ``cpu_split``s (a process that started in between counts whole)."""
    tick = os.sysconf("SC_CLK_TCK")
    return {k: round(sum(t - before[k].get(pid, 0) for pid, t in after[k].items()) / tick, 2) for k in before}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare(app, n_stores: int, n_bench: int) -> tuple[list[dict], int | None]:
    """Seed the brand, the distribution plan and two guides per bench store; issue their keys."""
    from sqlalchemy import insert, select

    from portal.campaigns.demo import seed_goods_and_campaign
    from portal.extensions import db
    from portal.members.models import Guide
    from portal.orders.demo import seed_plan
    from portal.org import roles
    from portal.org.models import Store, User

    seed(app, n_stores)
    with app.app_context():
        hq = db.session.scalar(select(User).where(User.username == "hq"))
        seed_goods_and_campaign(hq)
        stores = db.session.scalars(select(Store).where(Store.status == roles.STORE_ACTIVE)
                                    .order_by(Store.code).limit(n_bench)).all()
        plan = seed_plan(hq, stores, datetime.now(UTC))
        db.session.execute(insert(Guide), [{"store_id": s.id, "code": g, "name": f"导购{g}"}
                                           for s in stores for g in GUIDES])
        db.session.commit()
        codes = [s.code for s in stores]
        plan_id = plan.id
        db.session.remove()
    return issue_keys(app, codes), plan_id


def issue_keys(app, codes: list[str]) -> list[dict]:
    """A signed credential for each store, with ``flask issue-api-key CODE --json`` (the CLI, in-process)."""
    runner = app.test_cli_runner()
    creds = []
    for code in codes:
        out = runner.invoke(args=["issue-api-key", code, "--json"])
        if out.exit_code != 0:
            raise SystemExit(f"issue-api-key {code} --json failed: {out.output}")
        creds.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return creds


READY_HOOK = """import os

def post_worker_init(worker):
    open(os.path.join({dir!r}, str(worker.pid)), "w").close()
"""


def start_server(url: str, env: dict, args, spec: str = "wsgi:app", cwd: Path = ROOT) -> tuple[subprocess.Popen, str]:
    """gunicorn on a free port of 127.0.0.1, returned once *every* worker has loaded the app (a
    ``post_worker_init`` hook marks each): the master accepts connections before its workers
    have imported anything, and a timer started then counts their start-up as load."""
    port = _free_port()
    ready = tempfile.mkdtemp(prefix="gunicorn-ready-")
    config = Path(ready) / "hooks.py"
    config.write_text(READY_HOOK.format(dir=ready))
    cmd = [sys.executable, "-m", "gunicorn", "-w", str(args.workers), "-k", args.worker_class,
           "-b", f"127.0.0.1:{port}", "--access-logfile", "/dev/null", "--error-logfile", "-",
           "--log-level", "warning", "--timeout", "120", "--keep-alive", "30", "-c", str(config)]
    if args.worker_class == "gthread":
        cmd += ["--threads", str(args.threads)]
    proc = subprocess.Popen([*cmd, spec], cwd=cwd, env=env)
    deadline = time.time() + 120
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit("gunicorn exited at start")
        if len(os.listdir(ready)) - 1 >= args.workers:
            break
        time.sleep(0.2)
    else:
        raise SystemExit("gunicorn's workers did not start within 120 s")
    with socket.create_connection(("127.0.0.1", port), timeout=5):
        pass
    return proc, f"http://127.0.0.1:{port}"


def single_floor(dsn: str, env: dict, args, creds: list[dict], plan_id: int | None) -> dict:
    """Phase (a) again against ``benchmarks/ingest_floor_app.py``: the same clients, stores, kind of
    events and signatures, answered by the least a durable signed write costs (module docstring
    there). Its table is made for the phase and dropped after it."""
    import psycopg
    from ingest_floor_app import CREATE, TABLE

    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(CREATE)
    keys = {c["key_id"]: [c["secret"], c["store"]] for c in creds}
    server, url = start_server(dsn, dict(env, FLOOR_DSN=dsn, FLOOR_KEYS=json.dumps(keys)), args,
                               spec="ingest_floor_app:app", cwd=ROOT / "benchmarks")
    try:
        run_phase("floor-warm", url, creds[:args.clients], 50, 1, args.clients, plan_id)
        cpu0 = cpu_split(server.pid)
        out = run_phase("floor-single", url, creds, args.single // len(creds), 1, args.clients, plan_id)
        out["cpu_s"] = cpu_used(cpu0, cpu_split(server.pid))
    finally:
        server.terminate()
        server.wait(timeout=30)
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f"DROP TABLE {TABLE}")
    return out


def run(args) -> dict:
    with postgres_database(args.pg_url) as backend:
        keys = {"SECRET_KEY": os.urandom(24).hex(),
                "DATA_KEYS": base64.urlsafe_b64encode(os.urandom(32)).decode(),
                "DATA_HASH_KEY": os.urandom(24).hex()}
        os.environ.update(keys)          # make_app reads them: the server and the CLI share them
        app = make_app(backend.url)
        n_single_stores = args.clients * 4
        n_batch_stores = max(args.clients, args.batches // 2)
        print(f"seeding {args.stores:,} stores, issuing {n_single_stores + n_batch_stores + args.clients} keys …",
              flush=True)
        creds, plan_id = prepare(app, args.stores, n_single_stores + n_batch_stores + args.clients)
        history = None
        if args.history:
            from gen_members import build

            print(f"the brand's history: {args.history:,} members and orders with their ledger (COPY, ANALYZE) …",
                  flush=True)
            history = build(app, args.history, args.history, ledger=True, report=lambda *a, **k: None)
        warm, single, batch = (creds[:args.clients], creds[args.clients:args.clients + n_single_stores],
                               creds[args.clients + n_single_stores:])
        dsn = backend.url.replace("postgresql+psycopg://", "postgresql://", 1)
        env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "FLASK_APP")}
        env.update(keys, PORTAL_CONFIG="production", DATABASE_URL=dsn, LOGIN_THROTTLE_STORAGE="memory://",
                   SESSION_TYPE="sqlalchemy", JOBS_BACKEND="thread",
                   PORTAL_INSTANCE_PATH=tempfile.mkdtemp(prefix="portal-ingest-"))
        server, url = start_server(dsn, env, args)
        try:
            print(f"gunicorn {args.workers} × {args.worker_class} on {url}; warming up …", flush=True)
            warmup = run_phase("warm", url, warm, 50, 1, args.clients, plan_id)
            print(f"(a) {args.single:,} single-event requests …", flush=True)
            cpu0 = cpu_split(server.pid)
            a = run_phase("single", url, single, args.single // len(single), 1, args.clients, plan_id)
            cpu1 = cpu_split(server.pid)
            a["cpu_s"] = cpu_used(cpu0, cpu1)
            print(f"    {a['events_per_s']:,.0f} events/s, {a['statuses']}", flush=True)
            print(f"(b) {args.batches} batches of {BATCH} …", flush=True)
            tables = _tables_with_id(app)
            import psycopg

            with psycopg.connect(dsn) as conn:
                before = _max_ids(conn, tables)
            snaps = Snapshots(dsn, tables)
            per_store = args.batches * BATCH // len(batch)
            cpu0 = cpu_split(server.pid)
            b = run_phase("batch", url, batch, per_store, BATCH, args.clients, plan_id, monitor=snaps)
            cpu1 = cpu_split(server.pid)
            b["cpu_s"] = cpu_used(cpu0, cpu1)
            print(f"    {b['events_per_s']:,.0f} events/s, {b['statuses']}", flush=True)
        finally:
            server.terminate()
            server.wait(timeout=30)
        print("(d) the floor of (a): a bare signed-write app under the same gunicorn …", flush=True)
        d = single_floor(dsn, env, args, single, plan_id)
        print(f"    {d['events_per_s']:,.0f} events/s", flush=True)
        print("(c) the floor: the same rows COPYed into the same tables …", flush=True)
        fl = floor(dsn, tables, before, snaps.samples, b["requests"], foreign_keys(app))
        fl["events_per_s"] = round(b["events"] / fl["seconds"], 1)
        with app.app_context():
            from portal.extensions import db

            db.engine.dispose()
        ratio = round(b["events_per_s"] / fl["events_per_s"], 3)
        return {
            "date": datetime.now(UTC).isoformat(timespec="seconds"), "machine": machine(),
            "command": " ".join([".venv/bin/python", "benchmarks/ingest.py", *sys.argv[1:]]),
            "database_version": backend.version,
            "server": {"workers": args.workers, "worker_class": args.worker_class,
                       "threads": args.threads if args.worker_class == "gthread" else 1},
            "clients": args.clients, "load_average": round(os.getloadavg()[0], 2),
            "history": history, "warmup": warmup, "single": a, "single_floor": d,
            "single_ratio_to_floor": round(a["events_per_s"] / d["events_per_s"], 3),
            "batch": b, "floor": fl, "batch_ratio_to_floor": ratio,
            "targets": {
                "single_events_per_s": {"target": TARGET_SINGLE, "value": a["events_per_s"],
                                        "met": a["all_applied"] and a["events_per_s"] >= TARGET_SINGLE},
                "batch_events_per_s": {"target": TARGET_BATCH, "value": b["events_per_s"],
                                       "met": b["all_applied"] and b["events_per_s"] >= TARGET_BATCH},
                "batch_ratio_to_floor": {"target": TARGET_RATIO, "value": ratio, "met": ratio >= TARGET_RATIO},
            },
        }


def print_report(r: dict) -> None:
    head = f"{'phase':<34}{'events':>9}{'requests':>10}{'seconds':>9}{'events/s':>11}  statuses"
    print("\n" + head + "\n" + "-" * (len(head) + 20))
    for key, label in (("single", "(a) single-event requests"), ("batch", f"(b) batches of {BATCH}")):
        p = r[key]
        print(f"{label:<34}{p['events']:>9,}{p['requests']:>10,}{p['seconds']:>9.2f}{p['events_per_s']:>11,.0f}  "
              f"{p['statuses']} http {p['http']}")
    d = r["single_floor"]
    print(f"{'(d) floor of (a): bare signed write':<34}{d['events']:>9,}{d['requests']:>10,}{d['seconds']:>9.2f}"
          f"{d['events_per_s']:>11,.0f}  {d['statuses']} (one INSERT + COMMIT a request, no ORM)")
    f = r["floor"]
    print(f"{'(c) floor: COPY of the same rows':<34}{r['batch']['events']:>9,}{f['transactions']:>10,}"
          f"{f['seconds']:>9.2f}{f['events_per_s']:>11,.0f}  {f['rows']:,} rows in {len(f['tables'])} tables")
    print(f"batch ÷ floor: {r['batch_ratio_to_floor']}; single ÷ its floor: {r['single_ratio_to_floor']}")
    for key in ("single", "single_floor", "batch"):
        cpu = r[key].get("cpu_s") or {}
        per = 1e6 / r[key]["events"]
        print(f"  CPU {key}: " + ", ".join(f"{name} {sec:.2f} s ({sec * per:,.0f} µs/event)"
                                           for name, sec in cpu.items()))
    for name, t in r["targets"].items():
        print(f"  target {name}: {t['value']} vs {t['target']} → {'met' if t['met'] else 'MISSED'}")
    for key in ("single", "batch"):
        for e in r[key]["errors"][:3]:
            print(f"  {key} error: {e}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog=__doc__.split("\n\n", 1)[1])
    parser.add_argument("--single", type=int, default=6000, help="events sent one per request (default 6000)")
    parser.add_argument("--batches", type=int, default=60, help=f"batches of {BATCH} events (default 60)")
    parser.add_argument("--clients", type=int, default=4, help="load processes (default 4)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (default 4)")
    parser.add_argument("--worker-class", default="gthread", choices=("gthread", "sync"))
    parser.add_argument("--threads", type=int, default=2, help="threads per gthread worker (default 2)")
    parser.add_argument("--stores", type=int, default=1000, help="stores of the brand (default 1000)")
    parser.add_argument("--history", type=int, default=1_000_000,
                        help="members and orders (with their ledger) the brand has before the run, made with the "
                             "generator and ANALYZEd (default 1,000,000; 0 for an empty database)")
    parser.add_argument("--pg-url", default=DEFAULT_PG)
    args = parser.parse_args(argv)
    result = run(args)
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / "ingest-postgresql.json"
    out.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
    print_report(result)
    print(f"written to {out.relative_to(ROOT)}")
    ok = all(t["met"] for t in result["targets"].values())
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
