"""Member search at 1,000,000 members on PostgreSQL: GET /members through the real app.

The script fills a PostgreSQL database (``--url``, migrated with Alembic and seeded with the
3,000-store demo brand first) with ``--members`` generated members (one INSERT … SELECT over
generate_series: Chinese nicknames, masked phones, segments, tiers, tags on every 7th), unless
they are there already, then signs in as HQ, a distributor admin and a store owner and times
the member list's htmx rows partial (the active search) per case: a nickname fragment, the last
four digits, a masked number, a full number (keyed hash), a member id, a segment, a tag, a region
plus segment. Time is the *server* time of each request (a WSGI timer around the app). Beside
each case, its floor: the same three statements (the capped count, the page, its tags) run
through the service alone (``list_members``: SQL and row building, no Flask, no templates).

Usage (from the project root):

    .venv/bin/python benchmarks/member_search.py --url postgresql://postgres@127.0.0.1:5432/bench_members \
        [--members 1000000] [--requests 40]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select, text  # noqa: E402

from portal import create_app  # noqa: E402
from portal.extensions import db  # noqa: E402

FILL = """
INSERT INTO members (nickname, phone_masked, phone_hash, phone_verified, status, store_id, path, bound_at,
                     segment, tier_id, created_at, updated_at)
SELECT (ARRAY['张','王','李','赵','陈','刘','杨','黄','周','吴',
              '徐','孙','胡','朱','高','林','何','郭','马','罗'])[1 + (g % 20)]
       || (ARRAY['小明','伟','芳','娜','敏','静','丽','强','磊','军',
                 '洋','勇','艳','杰','娟','涛','明','超','秀英','霞'])[1 + ((g / 20) % 20)]
       || CASE WHEN g % 3 = 0 THEN (g % 997)::text ELSE '' END,
       '1' || (3 + g % 7)::text || (g % 10)::text || '****' || lpad(((g::bigint * 7919) % 10000)::text, 4, '0'),
       md5(g::text) || md5((g + 1)::text), true, CASE WHEN g % 50 = 0 THEN 'merged' ELSE 'active' END,
       s.id, s.path, now(),
       (ARRAY['important_value','important_keep','important_develop','important_retain','general_value',
              'general_keep','general_develop','general_retain','new'])[1 + g % 9],
       NULL, now() - (g || ' seconds')::interval, now()
FROM generate_series(1, :n) g JOIN stores s ON s.id = 1 + (g * 31) % (SELECT count(*) FROM stores)
"""


def _fill(n: int) -> None:
    have = db.session.scalar(text("SELECT count(*) FROM members"))
    if have >= n:
        return
    t = time.perf_counter()
    db.session.execute(text(FILL), {"n": n - have})
    db.session.execute(text("INSERT INTO member_tags (name, created_at) SELECT '复购', now() "
                            "WHERE NOT EXISTS (SELECT 1 FROM member_tags)"))
    db.session.execute(text("INSERT INTO member_tag_links (member_id, tag_id) SELECT id, "
                            "(SELECT min(id) FROM member_tags) FROM members WHERE id % 7 = 0 ON CONFLICT DO NOTHING"))
    db.session.commit()
    db.session.execute(text("ANALYZE"))
    db.session.commit()
    print(f"generated {n - have:,} members in {time.perf_counter() - t:.1f} s")


class Timer:
    def __init__(self, app):
        self.app, self.last = app, 0.0

    def __call__(self, environ, start_response):
        t = time.perf_counter()
        try:
            return list(self.app(environ, start_response))
        finally:
            self.last = time.perf_counter() - t


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=40)
    args = parser.parse_args()
    url = args.url.replace("postgresql://", "postgresql+psycopg://", 1)
    app = create_app("development", SQLALCHEMY_DATABASE_URI=url, WTF_CSRF_ENABLED=False,
                     RATELIMIT_ENABLED=False, SESSION_TYPE="sqlalchemy")
    timer = Timer(app.wsgi_app)
    app.wsgi_app = timer
    from portal.members import audiences
    from portal.members.models import MemberTag
    from portal.org.models import OrgNode, User
    from portal.org.scope import scope_for

    with app.app_context():
        _fill(args.members)
        tag = db.session.scalar(select(MemberTag.id))
        region = db.session.scalar(select(OrgNode.id).where(OrgNode.kind == "region").order_by(OrgNode.id))
        some_id = db.session.scalar(select(func.max(text("id"))).select_from(text("members")))
        users = {u.username: u for u in db.session.scalars(
            select(User).where(User.username.in_(("hq", "east", "owner"))))}
        cases = [("hq", "q=王"), ("hq", "q=王小"), ("hq", "q=小明"), ("hq", "q=李明1"), ("hq", "q=秀英99"),
                 ("hq", "q=小明3&segment=new"), ("hq", "q=没有这个人"), ("hq", "q=1234"), ("hq", "q=138****1234"),
                 ("hq", "q=13800001234"), ("hq", f"q={some_id}"), ("hq", "segment=important_retain"),
                 ("hq", f"tag={tag}"), ("hq", f"node={region}&segment=new"), ("hq", ""),
                 ("east", "q=陈伟"), ("east", "q=伟12"), ("east", "q=5678"), ("east", "segment=new&sort=oldest"),
                 ("owner", "q=张"), ("owner", "q=小明"), ("owner", "")]
        print(f"{'who':6} {'query':28} {'p50 ms':>8} {'p95 ms':>8} {'floor p95':>10} {'shown':>7}")
        p95s = []
        for who, query in cases:
            client = app.test_client()
            r = client.post("/login", data={"username": who, "password": "demo-2026"})
            assert r.status_code == 302, who
            from urllib.parse import parse_qsl
            flt = audiences.MemberFilter.from_args(dict(parse_qsl(query)))
            scope = scope_for(db.session.get(User, users[who].id))
            times, floors = [], []
            for _ in range(args.requests):
                r = client.get(f"/members?{query}", headers={"HX-Request": "true", "HX-Target": "member-rows"})
                assert r.status_code == 200
                times.append(timer.last * 1000)
                t = time.perf_counter()
                page = audiences.list_members(scope, flt)
                db.session.rollback()
                floors.append((time.perf_counter() - t) * 1000)
            p95 = statistics.quantiles(times, n=20)[18]
            p95s.append(p95)
            print(f"{who:6} {query or '(all)':28} {statistics.median(times):8.1f} {p95:8.1f} "
                  f"{statistics.quantiles(floors, n=20)[18]:10.1f} {page.total:>7}")
        print(f"worst p95 {max(p95s):.1f} ms (budget 150 ms)")


if __name__ == "__main__":
    main()
