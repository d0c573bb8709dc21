"""A live room with 100,000 viewers through the signed ingestion API: gunicorn with 4 workers on
PostgreSQL over 127.0.0.1, beside its floor measured in the same run; then the room page with
its share leaderboard at 100,000 sharers.

One run:

1. creates a fresh PostgreSQL database (dropped at the end), migrates it, seeds a brand
   (``--stores``, default 200) with the members it has before the broadcast (``--brand-members``,
   default 200,000, by ``gen_members``, then ANALYZE: a brand's tables are not empty, and their
   statistics say so; the viewers are all new members on top of them. An empty ``members``
   analyzed at 0 rows makes PostgreSQL plan its foreign-key checks as sequential scans and keep
   those plans until the next ANALYZE, which never comes on a server without autovacuum, as
   this machine's is: a run from 0 members spent most of its time scanning ``members``, 1.2
   billion rows read), an HQ broadcast that is live, carried by ``--entry-stores`` stores
   (default 8: the viewers arrive through their entries, each store's mini-program reporting its
   own viewers), and issues each of them a signed credential (``flask issue-api-key``); with
   ``--carriers N`` the broadcast is carried by N stores in all (a national broadcast: ``--stores
   10000 --carriers 10000``), the entry stores among them, so the room page ranks N stores;
2. starts ``gunicorn -w 4 -k gthread --threads 2`` (``benchmarks/ingest.py``'s ``start_server``)
   with the counters' aggregator of production (``LIVE_COUNTERS=redis``, ``--redis-url``, its
   database 15 by default: the workers add to the same counters, flushed from a timer at most
   every ``LIVE_FLUSH_SECONDS``) or ``--counters memory`` (the embedded install's buffer, one per
   worker: with several workers each keeps its own online count, so online and peak are exact
   only with one worker, ``--workers 1``);
3. posts the room's events in batches of 500, one load process per client (``--clients``, default
   4), each with one persistent connection per store and the stores' events in order:
   (a) the show: every viewer's ``live.enter`` (about 40 % brought by an earlier viewer of the
   same store: ``sharer_openid``), like storms (``live.like`` with a count, ``--likes`` events a
   viewer on average), ``live.comment`` and ``live.share``, in the order they occurred;
   (b) the end: every viewer's ``live.leave``. (b) starts when (a) is answered, so the room's
   exact peak is the number of viewers, whatever the interleaving of the stores' batches.
   Every body is built and signed before the timer starts; every event must be ``applied``;
4. checks the figures exact against what was sent, once the workers' aggregators have flushed:
   the room's likes, comments, shares, watch time, online (0) and peak (the viewers); one viewer
   row per viewer with its store, comments and shares; each sharer's viewers brought. It prints
   the number of writes of the room's counters (``live_rooms.flushes``) beside the number of
   events: bounded by the time the show lasted (about workers × seconds ÷ interval), not by
   the events;
5. the floor: the rows phases (a) and (b) wrote (the inbox, members, identities, bindings …
   with ``id``, and the room's viewer and sharer rows) read back, deleted and COPYed in again
   in as many transactions as there were requests (``ingest.floor``); events/s of the floor =
   the events ÷ the floor's time;
6. the room page: every viewer made a sharer (``--sharers``, default: as many as viewers, so
   100,000 at full scale) with a number of viewers brought, ANALYZE, then ``/live/<id>`` (the
   room page, with its leaderboard) and ``/live/<id>/leaderboard`` (the partial it polls), each
   ``--page-requests`` times in process as HQ's admin, p95 beside the floor: a bare Flask page of
   the same leaderboard queries (top sharers by viewers brought with their store and guide; by
   buyers brought). Target p95 ≤ 100 ms. A route that is not there (its part not merged) is
   reported as missing, not timed.

Usage (from the project root; PostgreSQL on 127.0.0.1:5432):

    .venv/bin/python benchmarks/live.py [--viewers 100000] [--entry-stores 8] [--carriers N] [--clients 4]
                                        [--brand-members 200000] [--likes 3] [--counters redis|memory]
                                        [--page-requests 200]

Prints a table and writes benchmarks/results/live-postgresql.json. Targets (issue 11):
≥ 20,000 events/s; figures exact; page p95 ≤ 100 ms.
"""
from __future__ import annotations

import argparse
import base64
import json
import os
import random
import re
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from gen_members import _poisson, build  # noqa: E402
from ingest import (  # noqa: E402
    BATCH,
    Snapshots,
    _max_ids,
    _tables_with_id,
    cpu_split,
    cpu_used,
    floor,
    foreign_keys,
    issue_keys,
    run_jobs,
    start_server,
)
from store_list import (  # noqa: E402
    DEFAULT_PG,
    RESULTS,
    WSGITimer,
    login,
    machine,
    make_app,
    postgres_database,
    seed,
    summary_ms,
)
from traffic import encode  # noqa: E402

TARGET_EVENTS_PER_S = 20000
TARGET_PAGE_P95_MS = 100.0
PAGE_WARMUP = 5
LEADERBOARD_TOP = 20
SHARER_GAP = 110            # viewers: about one batch of a store's show (≈ 4.8 events a viewer)
SHOP_TZ = timezone(timedelta(hours=8))


def iso(at: datetime) -> str:
    """ISO 8601 with the shop's offset, whole seconds, as a mini-program sends it."""
    return at.astimezone(SHOP_TZ).isoformat(timespec="seconds")


# --------------------------------------------------------------------------- the events

class Show:
    """The room's events, per store, in the two phases, and what the figures must come out as."""

    def __init__(self, room_id: int, stores: list[str], n_viewers: int, likes: float, seed: int, now: datetime):
        rng = random.Random(seed)
        self.show: dict[str, list[dict]] = {s: [] for s in stores}
        self.end: dict[str, list[dict]] = {s: [] for s in stores}
        self.expect = {"viewers": n_viewers, "viewer_rows": n_viewers, "likes": 0, "comments": 0, "shares": 0,
                       "watch_seconds": 0, "online": 0, "peak_online": n_viewers}
        self.per_viewer: dict[str, tuple[str, int, int]] = {}         # openid → (store, comments, shares)
        self.brought: Counter = Counter()                              # sharer openid → new viewers
        start = (now - timedelta(minutes=95)).replace(microsecond=0)
        span = 80 * 60                                                 # enters over 80 minutes
        timed: dict[str, list[tuple[datetime, int, dict]]] = {s: [] for s in stores}
        leaves: dict[str, list[tuple[datetime, int, dict]]] = {s: [] for s in stores}
        seen: dict[str, list[str]] = {s: [] for s in stores}
        n = 0
        for k in range(n_viewers):
            store = stores[k % len(stores)]
            openid = f"v{k}"
            entered = start + timedelta(seconds=int(span * k / max(1, n_viewers)))
            data: dict = {"room_id": room_id, "openid": openid, "nickname": f"观众{k}"}
            earlier = seen[store]
            if len(earlier) > SHARER_GAP and rng.random() < 0.4:
                # Earlier viewers share (entered a batch or more before); a few share a lot (the
                # leaderboard has a head and a tail).
                sharer = earlier[int((len(earlier) - SHARER_GAP) * rng.random() ** 3)]
                data["sharer_openid"] = sharer
                self.brought[sharer] += 1
            seen[store].append(openid)
            n += 1
            timed[store].append((entered, n, {"id": f"e{k}", "type": "live.enter", "occurred_at": iso(entered),
                                              "data": data}))
            watch = rng.randint(60, 20 * 60)
            left = entered + timedelta(seconds=watch)
            self.expect["watch_seconds"] += watch
            comments = shares = 0
            for j in range(_poisson(rng, likes)):
                at = entered + timedelta(seconds=rng.randint(1, watch - 1))
                count = rng.choice((1, 1, 1, 2, 5, 10, 20, 50))
                self.expect["likes"] += count
                n += 1
                timed[store].append((at, n, {"id": f"l{k}-{j}", "type": "live.like", "occurred_at": iso(at),
                                             "data": {"room_id": room_id, "openid": openid, "count": count}}))
            if rng.random() < 0.3:
                for j in range(rng.randint(1, 3)):
                    at = entered + timedelta(seconds=rng.randint(1, watch - 1))
                    comments += 1
                    n += 1
                    timed[store].append((at, n, {"id": f"c{k}-{j}", "type": "live.comment", "occurred_at": iso(at),
                                                 "data": {"room_id": room_id, "openid": openid}}))
            if rng.random() < 0.15:
                at = entered + timedelta(seconds=rng.randint(1, watch - 1))
                shares += 1
                n += 1
                timed[store].append((at, n, {"id": f"s{k}", "type": "live.share", "occurred_at": iso(at),
                                             "data": {"room_id": room_id, "openid": openid}}))
            self.expect["comments"] += comments
            self.expect["shares"] += shares
            self.per_viewer[openid] = (store, comments, shares)
            leaves[store].append((left, k, {"id": f"x{k}", "type": "live.leave", "occurred_at": iso(left),
                                            "data": {"room_id": room_id, "openid": openid}}))
        for store in stores:
            self.show[store] = [e for _at, _n, e in sorted(timed[store], key=lambda t: (t[0], t[1]))]
            self.end[store] = [e for _at, _n, e in sorted(leaves[store], key=lambda t: (t[0], t[1]))]

    def events(self, phase: str) -> int:
        return sum(len(v) for v in getattr(self, phase).values())


def jobs_of(streams: dict[str, list[dict]], creds: list[dict], clients: int) -> list[list]:
    """The load processes' jobs: each store's events in bodies of ``BATCH``, the stores spread."""
    jobs: list[list] = [[] for _ in range(clients)]
    for i, c in enumerate(creds):
        stream = streams[c["store"]]
        bodies = [encode(stream[j:j + BATCH]) for j in range(0, len(stream), BATCH)]
        jobs[i % clients].append((c["store"], c["key_id"], c["secret"], bodies))
    return [job for job in jobs if job]


# --------------------------------------------------------------------------- set-up

def prepare(app, n_stores: int, n_entries: int, now: datetime, brand_members: int = 0,
            n_carriers: int = 0) -> tuple[int, list[dict]]:
    """The brand with ``brand_members`` members already (``gen_members.build``: COPY, then
    ANALYZE), a live HQ broadcast carried by ``max(n_entries, n_carriers)`` active stores, and
    the keys of the first ``n_entries`` (the stores whose mini-programs report the viewers)."""
    from sqlalchemy import select

    from portal.extensions import db
    from portal.live.models import LIVE, LiveRoom, LiveRoomStore
    from portal.org import roles
    from portal.org.models import OrgNode, Store

    seed(app, n_stores)
    if brand_members:
        build(app, brand_members, 0, report=lambda *a, **k: None)
    with app.app_context():
        hq = db.session.scalar(select(OrgNode).where(OrgNode.kind == roles.HQ))
        stores = db.session.scalars(select(Store).where(Store.status == roles.STORE_ACTIVE)
                                    .order_by(Store.code).limit(max(n_entries, n_carriers))).all()
        room = LiveRoom(node_id=hq.id, path=hq.path, title="十万人品牌日直播", anchor="品牌主播", status=LIVE,
                        scheduled_start=now - timedelta(minutes=100), scheduled_end=now + timedelta(hours=2),
                        started_at=now - timedelta(minutes=100))
        db.session.add(room)
        db.session.flush()
        db.session.add_all([LiveRoomStore(room_id=room.id, store_id=s.id, path=s.path) for s in stores])
        db.session.commit()
        room_id, codes = room.id, [s.code for s in stores[:n_entries]]
        db.session.remove()
    return room_id, issue_keys(app, codes)


def forget(redis_url: str, prefix: str) -> int:
    """Delete the run's keys (its seen ids, 10 MB at full scale, and its counters) once measured:
    every run has a prefix of its own, so nothing else is touched. How many keys went."""
    import redis

    client = redis.Redis.from_url(redis_url)
    gone, batch = 0, []
    for key in client.scan_iter(match=prefix + "*", count=1000):
        batch.append(key)
        if len(batch) == 1000:
            gone += client.delete(*batch)
            batch = []
    return gone + (client.delete(*batch) if batch else 0)


# --------------------------------------------------------------------------- the figures

def settle(dsn: str, room_id: int, expect_likes: int, timeout: float = 30.0) -> float:
    """Wait until the workers' aggregators have written what they hold (they flush from a timer):
    the room's likes are all in and its row has not moved for a second and a half."""
    import psycopg

    started = time.monotonic()
    with psycopg.connect(dsn, autocommit=True) as conn:
        last, since = None, time.monotonic()
        while time.monotonic() - started < timeout:
            row = conn.execute("SELECT likes, comments, shares, watch_seconds, online, peak_online, flushes "
                               "FROM live_rooms WHERE id = %s", (room_id,)).fetchone()
            if row != last:
                last, since = row, time.monotonic()
            elif row[0] >= expect_likes and time.monotonic() - since >= 1.5:
                break
            time.sleep(0.1)
    return round(time.monotonic() - started, 2)


def seen_memory(redis_url: str, prefix: str) -> dict:
    """What the counted events' ids (likes, comments, shares) weigh in Redis: ``MEMORY USAGE`` of
    the run's seen-id hashes, summed."""
    import redis

    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(match=prefix + "seen:*", count=1000))
    ids = sum(client.hlen(k) for k in keys)
    total = sum(client.memory_usage(k, samples=0) or 0 for k in keys)
    return {"keys": len(keys), "ids": ids, "bytes": total, "bytes_per_id": round(total / ids, 1) if ids else None}


def check_figures(dsn: str, room_id: int, show: Show) -> dict:
    """The room's counters, its viewer rows and its sharers, against what was sent."""
    import psycopg

    with psycopg.connect(dsn) as conn:
        cols = ("likes", "comments", "shares", "watch_seconds", "online", "peak_online", "viewers", "flushes")
        row = dict(zip(cols, conn.execute(f"SELECT {', '.join(cols)} FROM live_rooms WHERE id = %s",
                                          (room_id,)).fetchone(), strict=True))
        viewers = conn.execute(
            "SELECT i.openid, s.code, v.comments, v.shares, v.watch_seconds, v.entered_at IS NULL "
            "FROM live_viewers v JOIN member_identities i ON i.member_id = v.member_id AND i.store_id = v.store_id "
            "JOIN stores s ON s.id = v.store_id WHERE v.room_id = %s", (room_id,)).fetchall()
        sharers = dict(conn.execute(
            "SELECT i.openid, sh.viewers FROM live_sharers sh JOIN member_identities i ON i.member_id = sh.member_id "
            "AND i.store_id = sh.store_id WHERE sh.room_id = %s", (room_id,)).fetchall())
    got = {k: row[k] for k in show.expect if k in row}          # viewers: the room's unique-viewers counter
    got["viewer_rows"] = len(viewers)
    mismatches = {k: {"sent": v, "database": got.get(k)} for k, v in show.expect.items() if got.get(k) != v}
    wrong_viewers = sum(1 for openid, store, comments, shares, _w, left in viewers
                        if show.per_viewer.get(openid) != (store, comments, shares) or not left)
    wrong_sharers = sum(1 for openid, n in show.brought.items() if sharers.get(openid) != n) + \
        sum(1 for openid in sharers if openid not in show.brought)
    if wrong_viewers:
        mismatches["viewer_row_counts"] = {"wrong": wrong_viewers}
    if wrong_sharers:
        mismatches["sharers"] = {"wrong": wrong_sharers}
    return {"figures": got, "expected": show.expect, "flushes": row["flushes"], "sharers": len(sharers),
            "exact": not mismatches, "mismatches": mismatches}


# --------------------------------------------------------------------------- the page

LEADERBOARD_SQL = """
SELECT s.member_id, m.nickname, st.name, g.name, s.viewers
FROM live_sharers s JOIN members m ON m.id = s.member_id JOIN stores st ON st.id = s.store_id
LEFT JOIN guides g ON g.id = m.guide_id
WHERE s.room_id = :room ORDER BY s.viewers DESC, s.member_id LIMIT :top
"""
BUYERS_SQL = """
SELECT o.sharer_id, count(DISTINCT o.member_id) AS buyers FROM orders o
WHERE o.live_room_id = :room AND o.sharer_id IS NOT NULL
GROUP BY o.sharer_id ORDER BY buyers DESC, o.sharer_id LIMIT :top
"""
FLOOR_PAGE = """<!doctype html><html><body><h1>{{ room }}</h1>
<table>{% for r in rows %}<tr><td>{{ loop.index }}</td><td>{{ r[1] }}</td><td>{{ r[2] }}</td><td>{{ r[3] or "" }}</td>
<td>{{ r[4] }}</td></tr>{% endfor %}</table>
<table>{% for r in buyers %}<tr><td>{{ r[0] }}</td><td>{{ r[1] }}</td></tr>{% endfor %}</table></body></html>"""


def make_sharers(dsn: str, room_id: int, n: int) -> int:
    """Every viewer (up to ``n``) a sharer of the room with some viewers brought; ANALYZE."""
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO live_sharers (room_id, member_id, store_id, viewers) "
            "SELECT room_id, member_id, store_id, 1 + abs(hashtext(member_id::text)) %% 200 FROM live_viewers "
            "WHERE room_id = %s ORDER BY member_id LIMIT %s ON CONFLICT (room_id, member_id) DO NOTHING",
            (room_id, n))
        conn.execute("ANALYZE live_sharers")
        conn.execute("ANALYZE live_viewers")
        return conn.execute("SELECT count(*) FROM live_sharers WHERE room_id = %s", (room_id,)).fetchone()[0]


def floor_page_app(url: str):
    """A bare Flask page of the same leaderboard queries: no login, no scope, no ORM."""
    from flask import Flask, render_template_string
    from sqlalchemy import create_engine, text

    engine = create_engine(url, pool_size=2)
    bare = Flask("live_floor")

    @bare.get("/floor/<int:room_id>")
    def page(room_id: int):
        with engine.connect() as conn:
            rows = conn.execute(text(LEADERBOARD_SQL), {"room": room_id, "top": LEADERBOARD_TOP}).all()
            buyers = conn.execute(text(BUYERS_SQL), {"room": room_id, "top": LEADERBOARD_TOP}).all()
        return render_template_string(FLOOR_PAGE, room=room_id, rows=rows, buyers=buyers)

    return bare, engine


def time_pages(app, url: str, room_id: int, n: int) -> dict:
    """p95 of the room page and its leaderboard partial, in process as HQ's admin, beside the floor."""
    out: dict = {}
    rules = [r.rule for r in app.url_map.iter_rules()]
    cases = [("room page", r"/live/<(int:)?\w+>", f"/live/{room_id}"),
             ("leaderboard partial", r"/live/<(int:)?\w+>/leaderboard", f"/live/{room_id}/leaderboard")]
    timer = WSGITimer(app.wsgi_app)
    app.wsgi_app = timer
    client = app.test_client()
    login(client)
    for label, rule, path in cases:
        if not any(re.fullmatch(rule, r) for r in rules):
            out[label] = {"missing": True, "path": path}
            continue
        seconds, status = [], Counter()
        for k in range(PAGE_WARMUP + n):
            r = client.get(path)
            status[r.status_code] += 1
            if k >= PAGE_WARMUP:
                seconds.append(timer.last)
        out[label] = {"path": path, **summary_ms(seconds), "http": dict(status)}
    bare, engine = floor_page_app(url)
    bare_timer = WSGITimer(bare.wsgi_app)
    bare.wsgi_app = bare_timer
    bare_client = bare.test_client()
    seconds = []
    for k in range(PAGE_WARMUP + n):
        r = bare_client.get(f"/floor/{room_id}")
        assert r.status_code == 200, r.status_code
        if k >= PAGE_WARMUP:
            seconds.append(bare_timer.last)
    engine.dispose()
    out["floor"] = {"path": "bare Flask page of the leaderboard queries", **summary_ms(seconds)}
    return out


# --------------------------------------------------------------------------- the run

def run(args) -> dict:
    import psycopg

    with postgres_database(args.pg_url) as backend:
        keys = {"SECRET_KEY": os.urandom(24).hex(),
                "DATA_KEYS": base64.urlsafe_b64encode(os.urandom(32)).decode(),
                "DATA_HASH_KEY": os.urandom(24).hex()}
        os.environ.update(keys)
        app = make_app(backend.url)
        now = datetime.now(UTC)
        print(f"seeding {args.stores:,} stores with {args.brand_members:,} members, a live broadcast carried by "
              f"{max(args.entry_stores, args.carriers):,} ({args.entry_stores} reporting its viewers) …", flush=True)
        room_id, creds = prepare(app, args.stores, args.entry_stores, now, args.brand_members, args.carriers)
        print(f"building {args.viewers:,} viewers' events …", flush=True)
        show = Show(room_id, [c["store"] for c in creds], args.viewers, args.likes, seed=2026_11, now=now)
        dsn = backend.url.replace("postgresql+psycopg://", "postgresql://", 1)
        env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "FLASK_APP")}
        env.update(keys, PORTAL_CONFIG="production", DATABASE_URL=dsn, LOGIN_THROTTLE_STORAGE="memory://",
                   SESSION_TYPE="sqlalchemy", JOBS_BACKEND="thread", CACHE_TYPE="SimpleCache",
                   LIVE_COUNTERS=args.counters, LIVE_FLUSH_SECONDS=str(args.flush_seconds),
                   PORTAL_INSTANCE_PATH=tempfile.mkdtemp(prefix="portal-live-"))
        if args.counters == "redis":
            # A prefix of the run's own: room ids start again at 1 in the fresh database
            env.update(REDIS_URL=args.redis_url, LIVE_REDIS_PREFIX=f"bench:live:{os.getpid()}:{int(time.time())}:")
        tables = _tables_with_id(app)
        with psycopg.connect(dsn) as conn:
            before = _max_ids(conn, tables)
        snaps = Snapshots(dsn, tables)
        server, url = start_server(dsn, env, args)
        phases = {}
        try:
            print(f"gunicorn {args.workers} × {args.worker_class} on {url}; counters: {args.counters}", flush=True)
            cpu0 = cpu_split(server.pid)
            for phase, label in (("show", "(a) enters, likes, comments, shares"), ("end", "(b) leaves")):
                print(f"{label}: {show.events(phase):,} events …", flush=True)
                phases[phase] = run_jobs(url, jobs_of(getattr(show, phase), creds, args.clients), show.events(phase),
                                         BATCH, monitor=snaps)
                print(f"    {phases[phase]['events_per_s']:,.0f} events/s, {phases[phase]['statuses']}", flush=True)
            cpu1 = cpu_split(server.pid)
            waited = settle(dsn, room_id, show.expect["likes"])
        finally:
            server.terminate()
            server.wait(timeout=30)
        events = sum(p["events"] for p in phases.values())
        seconds = sum(p["seconds"] for p in phases.values())
        total = {"events": events, "requests": sum(p["requests"] for p in phases.values()),
                 "seconds": round(seconds, 3), "events_per_s": round(events / seconds, 1),
                 "all_applied": all(p["all_applied"] for p in phases.values()), "cpu_s": cpu_used(cpu0, cpu1),
                 "flush_bound": round(args.workers * seconds / args.flush_seconds) + args.workers * 4}
        figures = check_figures(dsn, room_id, show)
        figures["settled_after_s"] = waited
        if args.counters == "redis":
            figures["seen_ids"] = seen_memory(args.redis_url, env["LIVE_REDIS_PREFIX"])
            forget(args.redis_url, env["LIVE_REDIS_PREFIX"])
        print("(c) the floor: the same rows COPYed into the same tables …", flush=True)
        fl = floor(dsn, tables, before, snaps.samples, total["requests"], foreign_keys(app),
                   keyed={"live_viewers": f"room_id = {room_id}", "live_sharers": f"room_id = {room_id}"})
        fl["events_per_s"] = round(events / fl["seconds"], 1)
        n_sharers = make_sharers(dsn, room_id, args.sharers or args.viewers)
        print(f"(d) the room page with its leaderboard at {n_sharers:,} sharers …", flush=True)
        with app.app_context():
            pages = time_pages(app, backend.url, room_id, args.page_requests)
            from portal.extensions import db

            db.session.remove()
            db.engine.dispose()
        timed = [p for k, p in pages.items() if k != "floor" and not p.get("missing")]
        p95 = max((p["p95_ms"] for p in timed), default=None)
        return {
            "date": datetime.now(UTC).isoformat(timespec="seconds"), "machine": machine(),
            "command": " ".join([".venv/bin/python", "benchmarks/live.py", *sys.argv[1:]]),
            "database_version": backend.version,
            "server": {"workers": args.workers, "worker_class": args.worker_class, "threads": args.threads,
                       "counters": args.counters, "flush_seconds": args.flush_seconds},
            "clients": args.clients, "entry_stores": args.entry_stores,
            "carriers": max(args.entry_stores, args.carriers), "viewers": args.viewers,
            "brand_members": args.brand_members,
            "load_average": round(os.getloadavg()[0], 2),
            "phases": phases, "total": total, "figures": figures, "floor": fl,
            "ratio_to_floor": round(total["events_per_s"] / fl["events_per_s"], 3),
            "sharers": n_sharers, "pages": pages,
            "targets": {
                "events_per_s": {"target": TARGET_EVENTS_PER_S, "value": total["events_per_s"],
                                 "met": total["all_applied"] and total["events_per_s"] >= TARGET_EVENTS_PER_S},
                "figures_exact": {"target": True, "value": figures["exact"], "met": figures["exact"]},
                "flushes_bounded_by_time": {"target": total["flush_bound"], "value": figures["flushes"],
                                            "met": figures["flushes"] <= total["flush_bound"]},
                "page_p95_ms": {"target": TARGET_PAGE_P95_MS, "value": p95,
                                "met": p95 is not None and p95 <= TARGET_PAGE_P95_MS},
            },
        }


def print_report(r: dict) -> None:
    head = f"{'phase':<40}{'events':>10}{'requests':>10}{'seconds':>9}{'events/s':>11}  statuses"
    print("\n" + head + "\n" + "-" * (len(head) + 20))
    for key, label in (("show", "(a) enters, likes, comments, shares"), ("end", "(b) leaves")):
        p = r["phases"][key]
        print(f"{label:<40}{p['events']:>10,}{p['requests']:>10,}{p['seconds']:>9.2f}{p['events_per_s']:>11,.0f}  "
              f"{p['statuses']} http {p['http']}")
    t, f = r["total"], r["floor"]
    print(f"{'(a) + (b)':<40}{t['events']:>10,}{t['requests']:>10,}{t['seconds']:>9.2f}{t['events_per_s']:>11,.0f}")
    print(f"{'(c) floor: COPY of the same rows':<40}{t['events']:>10,}{f['transactions']:>10,}{f['seconds']:>9.2f}"
          f"{f['events_per_s']:>11,.0f}  {f['rows']:,} rows in {len(f['tables'])} tables")
    print(f"events/s ÷ floor: {r['ratio_to_floor']}")
    cpu = t.get("cpu_s") or {}
    per = 1e6 / t["events"]
    print("  CPU: " + ", ".join(f"{name} {sec:.2f} s ({sec * per:,.0f} µs/event)" for name, sec in cpu.items()))
    fig = r["figures"]
    print(f"\nroom counters written {fig['flushes']:,} times for {t['events']:,} events "
          f"(bound by time: {t['flush_bound']:,} = {r['server']['workers']} workers × {t['seconds']:.1f} s "
          f"÷ {r['server']['flush_seconds']} s + start-up); settled {fig['settled_after_s']} s after the last answer")
    print("figures " + ("exact" if fig["exact"] else f"NOT EXACT: {fig['mismatches']}") + ": "
          + ", ".join(f"{k} {v:,}" for k, v in fig["figures"].items()) + f", sharers {fig['sharers']:,}")
    seen = fig.get("seen_ids")
    if seen:
        print(f"counted events' ids in Redis (no inbox rows): {seen['ids']:,} in {seen['keys']:,} hashes, "
              f"{seen['bytes'] / 1e6:.1f} MB ({seen['bytes_per_id']} bytes an id)")
    print(f"\npages at {r['sharers']:,} sharers ({r['pages']['floor']['n']} requests each):")
    for label, p in r["pages"].items():
        if p.get("missing"):
            print(f"  {label:<22} {p['path']}: not there (its part is not merged)")
        else:
            print(f"  {label:<22} median {p['median_ms']:>7.2f} ms  p95 {p['p95_ms']:>7.2f} ms  {p.get('http', '')}")
    for name, t in r["targets"].items():
        print(f"  target {name}: {t['value']} vs {t['target']} → {'met' if t['met'] else 'MISSED'}")
    for key in ("show", "end"):
        for e in r["phases"][key]["errors"][:3]:
            print(f"  {key} error: {e}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog=__doc__.split("\n\n", 1)[1])
    parser.add_argument("--viewers", type=int, default=100_000, help="viewers of the room (default 100,000)")
    parser.add_argument("--likes", type=float, default=3.0, help="like events a viewer on average (default 3)")
    parser.add_argument("--entry-stores", type=int, default=8,
                        help="stores carrying the room whose mini-programs report its viewers (default 8)")
    parser.add_argument("--carriers", type=int, default=0,
                        help="stores carrying the room in all, the entry stores among them (default: the entry "
                             "stores; a national broadcast: --stores 10000 --carriers 10000)")
    parser.add_argument("--clients", type=int, default=4, help="load processes (default 4)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (default 4)")
    parser.add_argument("--worker-class", default="gthread", choices=("gthread", "sync"))
    parser.add_argument("--threads", type=int, default=2, help="threads per gthread worker (default 2)")
    parser.add_argument("--counters", default="redis", choices=("memory", "redis"),
                        help="the counters' aggregator: redis (default: production, shared by the workers) or "
                             "memory (the embedded install's buffer, one per worker)")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/15", help="for --counters redis")
    parser.add_argument("--flush-seconds", type=float, default=0.25, help="LIVE_FLUSH_SECONDS (default 0.25)")
    parser.add_argument("--stores", type=int, default=200, help="stores of the brand (default 200)")
    parser.add_argument("--brand-members", type=int, default=200_000,
                        help="members the brand has before the broadcast (default 200,000: 1,000 a store)")
    parser.add_argument("--sharers", type=int, default=0, help="sharers for the page (default: as many as viewers)")
    parser.add_argument("--page-requests", type=int, default=200, help="requests per page (default 200)")
    parser.add_argument("--pg-url", default=DEFAULT_PG)
    args = parser.parse_args(argv)
    result = run(args)
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / "live-postgresql.json"
    out.write_text(json.dumps(result, ensure_ascii=False, indent=2, default=str) + "\n")
    print_report(result)
    print(f"written to {out.relative_to(ROOT)}")
    return 0 if all(t["met"] for t in result["targets"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
