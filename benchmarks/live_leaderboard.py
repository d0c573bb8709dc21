"""The share leaderboard at 100,000 sharers on PostgreSQL: the room's figures and leaderboard
partials (what the room page polls every 3 s while live) through the real app.

The script migrates a PostgreSQL database (``--url``), builds the test org (tests.factories
``make_world``) with one room of 上海南京路店, ``--sharers`` members who each brought 1 to 5,000
viewers, and as many viewers (one in three still watching), with INSERT … SELECT over
generate_series unless they are there already; then it signs in as HQ and as the store's owner
and times GET /live/<id>/leaderboard (both rankings) and /live/<id>/figures with HX-Request. Time
is the *server* time of each request (a WSGI timer around the app). Beside each, its floor: the
service alone (``figures.leaderboard`` / ``figures.room_figures``: SQL and row building, no
Flask, no templates).

Usage (from the project root):

    .venv/bin/python benchmarks/live_leaderboard.py --url postgresql://postgres@127.0.0.1:5432/bench_live \
        [--sharers 100000] [--requests 60]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import select, text  # noqa: E402

from portal import create_app  # noqa: E402
from portal.extensions import db  # noqa: E402

MEMBERS = """
INSERT INTO members (nickname, phone_masked, phone_verified, status, store_id, path, bound_at, created_at, updated_at)
SELECT '分享者' || g, '', false, 'active', :store, :path, now(), now(), now() FROM generate_series(1, :n) g
"""
SHARERS = """
INSERT INTO live_sharers (room_id, member_id, store_id, viewers)
SELECT :room, m.id, :store, 1 + (m.id * 7919) % 5000 FROM members m WHERE m.nickname LIKE '分享者%'
ON CONFLICT DO NOTHING
"""
VIEWERS = """
INSERT INTO live_viewers (room_id, member_id, store_id, sharer_id, staff, first_entered_at, entered_at, watch_seconds,
                          comments, shares, followed)
SELECT :room, m.id, :store, NULL, false, now() - interval '1 hour',
       CASE WHEN m.id % 3 = 0 THEN now() - interval '10 minutes' END, m.id % 3600, m.id % 5, m.id % 2, m.id % 7 = 0
FROM members m WHERE m.nickname LIKE '分享者%'
ON CONFLICT DO NOTHING
"""


class Timer:
    def __init__(self, app):
        self.app, self.last = app, 0.0

    def __call__(self, environ, start_response):
        t = time.perf_counter()
        try:
            return list(self.app(environ, start_response))
        finally:
            self.last = time.perf_counter() - t


def _p(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--sharers", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=60)
    args = parser.parse_args()
    url = args.url.replace("postgresql://", "postgresql+psycopg://", 1)
    app = create_app("development", SQLALCHEMY_DATABASE_URI=url, WTF_CSRF_ENABLED=False, RATELIMIT_ENABLED=False,
                     SESSION_TYPE="sqlalchemy", LIVE_COUNTERS="memory")
    timer = Timer(app.wsgi_app)
    app.wsgi_app = timer
    from flask_migrate import upgrade

    from portal.live import figures
    from portal.live.models import LiveRoom, LiveRoomStore
    from portal.org.models import Store, User
    from portal.org.scope import scope_for
    from tests import factories

    with app.app_context():
        upgrade()
        store = db.session.scalar(select(Store).where(Store.code == "SH001"))
        if store is None:
            factories.make_world()
            db.session.commit()
            store = db.session.scalar(select(Store).where(Store.code == "SH001"))
        room = db.session.scalar(select(LiveRoom).where(LiveRoom.store_id == store.id))
        if room is None:
            from datetime import timedelta

            from portal.kernel.time import utcnow
            room = LiveRoom(store_id=store.id, path=store.path, title="十万分享者直播", anchor="小王", status=101,
                            scheduled_start=utcnow(), scheduled_end=utcnow() + timedelta(hours=2))
            db.session.add(room)
            db.session.flush()
            db.session.add(LiveRoomStore(room_id=room.id, store_id=store.id, path=store.path))
            db.session.commit()
        have = db.session.scalar(text("SELECT count(*) FROM live_sharers WHERE room_id = :r"), {"r": room.id})
        if have < args.sharers:
            t = time.perf_counter()
            db.session.execute(text(MEMBERS), {"n": args.sharers - have, "store": store.id, "path": store.path})
            db.session.execute(text(SHARERS), {"room": room.id, "store": store.id})
            db.session.execute(text(VIEWERS), {"room": room.id, "store": store.id})
            db.session.commit()
            db.session.execute(text("ANALYZE"))
            db.session.commit()
            print(f"generated {args.sharers - have:,} sharers in {time.perf_counter() - t:.1f} s")
        n = db.session.scalar(text("SELECT count(*) FROM live_sharers WHERE room_id = :r"), {"r": room.id})
        v = db.session.scalar(text("SELECT count(*) FROM live_viewers WHERE room_id = :r"), {"r": room.id})
        if v < n:
            db.session.execute(text(VIEWERS), {"room": room.id, "store": store.id})
            db.session.commit()
            db.session.execute(text("ANALYZE"))
            db.session.commit()
            v = db.session.scalar(text("SELECT count(*) FROM live_viewers WHERE room_id = :r"), {"r": room.id})
        print(f"room {room.id}: {n:,} sharers, {v:,} viewers")
        users = {u.username: u.id for u in db.session.scalars(select(User).where(User.username.in_(("hq", "owner1"))))}
        print(f"{'who':7} {'page':34} {'p50 ms':>8} {'p95 ms':>8} {'floor p95':>10}")
        worst = 0.0
        for who in ("hq", "owner1"):
            client = app.test_client()
            r = client.post("/login", data={"username": who, "password": factories.PASSWORD})
            assert r.status_code == 302, (who, r.status_code)
            scope = scope_for(db.session.get(User, users[who]))
            for page, floor in (
                    (f"/live/{room.id}/leaderboard?by=viewers",
                     lambda s=scope: figures.leaderboard(s, room, by=figures.VIEWERS)),
                    (f"/live/{room.id}/leaderboard?by=buyers",
                     lambda s=scope: figures.leaderboard(s, room, by=figures.BUYERS)),
                    (f"/live/{room.id}/figures", lambda s=scope: figures.room_figures(s, room))):
                times, floors = [], []
                for _ in range(args.requests):
                    r = client.get(page, headers={"HX-Request": "true"})
                    assert r.status_code == 200, r.status_code
                    times.append(timer.last)
                    t = time.perf_counter()
                    floor()
                    db.session.rollback()
                    floors.append(time.perf_counter() - t)
                worst = max(worst, _p(times, 0.95))
                print(f"{who:7} {page:34} {statistics.median(times) * 1000:8.1f} {_p(times, 0.95):8.1f} "
                      f"{_p(floors, 0.95):10.1f}")
        print(f"worst p95 {worst:.1f} ms (target ≤ 100 ms)")


if __name__ == "__main__":
    main()
