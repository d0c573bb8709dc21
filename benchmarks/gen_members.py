"""The 1,000,000-member generator: members, identities, bindings, guides, orders, order lines,
refunds (and, with ``--ledger``, the guides' commission entries) for a brand of 10,000 stores,
written with COPY on PostgreSQL.

Distributions (seeded RNG, so two runs build the same data):

* members per store are skewed (Zipf-like weights over the active stores in a random order: a few
  busy flagship stores, a long tail of quiet ones); 2–4 guides per store, about 70 % of members
  bound to one of them; about one in eight members was brought by a sharer of the same store;
* about 45 % of members gave a phone (stored encrypted, with its keyed hash and mask, as the
  identity rules store it), one in twenty a unionid;
* members joined 120 to 400 days ago (uniformly); orders per member Poisson-ish around
  orders/members (about 30 % never buy), at times between the member's join and now, with 1–3 lines;
  unit prices log-normal around ¥25; about 4 % of orders refunded in full.

``generate(writer, stores, ...)`` builds the rows (streamed: nothing but a few ints per member is
held in memory) and hands each table to the writer: ``CopyWriter`` (psycopg 3
``cursor.copy("COPY … FROM STDIN")`` with ``write_row``) on PostgreSQL, ``InsertWriter``
(executemany through SQLAlchemy, in chunks) elsewhere, the tests' SQLite included. Ids are given
explicitly (after the tables' current maximum) and the sequences are set after COPY.

Usage (from the project root): a fresh PostgreSQL database, migrated and seeded with a
10,000-store brand, then the rows; prints the time per table and keeps nothing (``--keep`` leaves
the database for ``benchmarks/members.py --database …``):

    .venv/bin/python benchmarks/gen_members.py [--members 1000000] [--orders 1000000] [--stores 10000]
                                               [--ledger] [--keep] [--pg-url postgresql://postgres@127.0.0.1:5432/]
"""
from __future__ import annotations

import argparse
import json
import math
import random
import sys
import time
from bisect import bisect_right
from datetime import UTC, datetime, timedelta
from itertools import accumulate
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select, text  # noqa: E402

from portal.extensions import db  # noqa: E402

SEED = 1_000_000
MENU = [("G001-L", "杨枝甘露（大杯）"), ("G002-L", "芝士葡萄（大杯）"), ("G003-M", "满杯红柚（中杯）"),
        ("G004-M", "多肉桃桃（中杯）"), ("G005-L", "霸气芒果（大杯）"), ("G006-M", "柠檬绿茶（中杯）"),
        ("G011-L", "牛角可颂"), ("G013-M", "榴莲千层")]
NICKS = ["橙子", "柚子", "芒果", "桃桃", "葡萄", "草莓", "西瓜", "椰子", "奶茶", "可颂", "雪梨", "荔枝",
         "蓝莓", "柠檬", "榴莲", "团子", "布丁", "果冻", "糖糖", "乐乐", "晴天", "月亮", "星星", "阳光"]
PREFIX = ["小", "阿", "大", "老", ""]
GUIDE_RATE_BP = 300

# Columns written, per table (every NOT NULL column: Python-side defaults do not apply to COPY)
COLUMNS = {
    "guides": ("id", "store_id", "code", "name", "phone_masked", "active", "created_at"),
    "members": ("id", "nickname", "phone_enc", "phone_hash", "phone_masked", "phone_verified", "status",
                "store_id", "path", "guide_id", "bound_at", "referrer_id", "created_at", "updated_at"),
    "member_identities": ("id", "member_id", "store_id", "appid", "openid", "unionid", "created_at"),
    "member_bindings": ("id", "member_id", "store_id", "guide_id", "cause", "started_at", "note"),
    "orders": ("id", "store_id", "path", "number", "member_id", "status", "goods_fen", "discount_fen",
               "coupon_fen", "freight_fen", "paid_fen", "refunded_fen", "sharer_id", "guide_id", "paid_at",
               "created_at"),
    "order_lines": ("id", "order_id", "line_no", "sku_code", "name", "quantity", "unit_fen", "paid_fen",
                    "refunded_quantity", "refunded_fen", "fulfilled_by"),
    "refunds": ("id", "store_id", "order_id", "number", "amount_fen", "refunded_at", "created_at"),
    "refund_lines": ("id", "refund_id", "line_id", "quantity", "amount_fen"),
    "commission_entries": ("id", "store_id", "path", "order_id", "line_id", "beneficiary", "level", "guide_id",
                           "rate_bp", "base_fen", "amount_fen", "why", "payable_at", "created_at"),
}
# Parents before children
ORDER = ("guides", "members", "member_identities", "member_bindings", "orders", "order_lines", "refunds",
         "refund_lines", "commission_entries")


# --------------------------------------------------------------------------- writers

class InsertWriter:
    """executemany through SQLAlchemy Core, ``chunk`` rows at a time (SQLite, and any backend)."""

    name = "executemany"

    def __init__(self, session, chunk: int = 5000):
        self.session, self.chunk = session, chunk

    def write(self, table: str, rows) -> int:
        t = db.metadata.tables[table]
        cols = COLUMNS[table]
        n, buf = 0, []
        for row in rows:
            buf.append(dict(zip(cols, row, strict=True)))
            if len(buf) >= self.chunk:
                self.session.execute(t.insert(), buf)
                n, buf = n + len(buf), []
        if buf:
            self.session.execute(t.insert(), buf)
            n += len(buf)
        return n

    def finish(self, tables) -> None:
        self.session.flush()


class CopyWriter:
    """``COPY table (cols) FROM STDIN`` with psycopg 3's ``write_row``, on the session's own
    connection (so the rows are in the caller's transaction)."""

    name = "COPY"

    def __init__(self, session):
        self.session = session
        self.raw = session.connection().connection.driver_connection     # the psycopg connection

    def write(self, table: str, rows) -> int:
        cols = COLUMNS[table]
        json_at = [i for i, c in enumerate(cols) if c == "why"]
        n = 0
        with self.raw.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN") as copy:
            for row in rows:
                if json_at:          # COPY's text format: a JSON column takes the JSON text
                    row = list(row)
                    for i in json_at:
                        row[i] = json.dumps(row[i], ensure_ascii=False)
                copy.write_row(row)
                n += 1
        return n

    def finish(self, tables) -> None:
        with self.raw.cursor() as cur:
            for table in tables:
                cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                            f"COALESCE((SELECT max(id) FROM {table}), 0) + 1, false)")


def writer_for(session):
    return CopyWriter(session) if session.get_bind().dialect.name == "postgresql" else InsertWriter(session)


# --------------------------------------------------------------------------- the rows

def _poisson(rng: random.Random, lam: float) -> int:
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def _next_id(session, table: str) -> int:
    t = db.metadata.tables[table]
    return (session.scalar(select(func.max(t.c.id))) or 0) + 1


def generate(session, stores: list[tuple[int, str, str]], n_members: int, n_orders: int, *, seed: int = SEED,
             now: datetime | None = None, ledger: bool = False, phones: bool = True, tag: str = "g",
             report=None) -> dict:
    """Write ``n_members`` members and ``n_orders`` orders over ``stores`` = [(id, path, appid)].
    Returns rows written per table and seconds per table. Flushes; the caller commits."""
    from portal.kernel import crypto

    rng = random.Random(seed)
    now = now or datetime.now(UTC)
    writer = writer_for(session)
    counts: dict[str, int] = {}
    seconds: dict[str, float] = {}

    def put(table, rows):
        started = time.perf_counter()
        counts[table] = writer.write(table, rows)
        seconds[table] = round(time.perf_counter() - started, 2)
        if report:
            report(f"  {table:<20} {counts[table]:>10,} rows  {seconds[table]:7.2f} s ({writer.name})")

    # Stores: skewed weights over a shuffled order
    order = list(range(len(stores)))
    rng.shuffle(order)
    weights = [0.0] * len(stores)
    for rank, i in enumerate(order, 1):
        weights[i] = 1 / rank ** 0.8
    cum = list(accumulate(weights))
    total_w = cum[-1]

    # Guides: 2-4 per store
    g0 = _next_id(session, "guides")
    guides_of: list[list[int]] = []
    guide_rows = []
    gid = g0
    for sid, _path, _appid in stores:
        mine = []
        for k in range(1, rng.randint(2, 4) + 1):
            guide_rows.append((gid, sid, f"{tag.upper()}G{k:02d}", f"导购{gid}", f"138****{gid % 10000:04d}", True,
                               now - timedelta(days=500)))
            mine.append(gid)
            gid += 1
        guides_of.append(mine)
    put("guides", guide_rows)
    del guide_rows

    # Members (kept per member: store index, guide id, join time as epoch seconds)
    m0 = _next_id(session, "members")
    m_store = [0] * n_members
    m_guide = [0] * n_members
    m_joined = [0.0] * n_members
    now_s = now.timestamp()
    per_store_last: dict[int, int] = {}

    def members():
        for k in range(n_members):
            si = bisect_right(cum, rng.random() * total_w)
            si = min(si, len(stores) - 1)
            sid, path, _appid = stores[si]
            gid = rng.choice(guides_of[si]) if rng.random() < 0.7 else None
            joined = now_s - rng.uniform(120, 400) * 86400
            m_store[k], m_guide[k], m_joined[k] = si, gid or 0, joined
            mid = m0 + k
            referrer = per_store_last.get(si) if rng.random() < 0.125 else None
            if rng.random() < 0.2:
                per_store_last[si] = mid
            nick = f"{rng.choice(PREFIX)}{rng.choice(NICKS)}{rng.randint(1, 9999)}"
            if phones and rng.random() < 0.45:
                phone = f"1{rng.choice('3456789')}{rng.randint(0, 999_999_999):09d}"
                enc, hashed, masked, verified = (crypto.encrypt(phone), crypto.keyed_hash(phone),
                                                 f"{phone[:3]}****{phone[-4:]}", rng.random() < 0.8)
            else:
                enc = hashed = None
                masked, verified = "", False
            at = datetime.fromtimestamp(joined, UTC)
            yield (mid, nick, enc, hashed, masked, verified, "active", sid, path, gid, at, referrer, at, at)

    put("members", members())

    i0 = _next_id(session, "member_identities")
    b0 = _next_id(session, "member_bindings")

    def identities():
        for k in range(n_members):
            sid, _path, appid = stores[m_store[k]]
            unionid = f"un-{tag}-{m0 + k}" if rng.random() < 0.05 else None
            yield (i0 + k, m0 + k, sid, appid, f"o-{tag}-{m0 + k}", unionid,
                   datetime.fromtimestamp(m_joined[k], UTC))

    put("member_identities", identities())

    def bindings():
        for k in range(n_members):
            yield (b0 + k, m0 + k, stores[m_store[k]][0], m_guide[k] or None, "signup",
                   datetime.fromtimestamp(m_joined[k], UTC), "")

    put("member_bindings", bindings())

    # Orders per member: Poisson around the mean among buyers (about 30 % never buy), then made
    # to add up to exactly n_orders.
    lam = n_orders / max(1, n_members) / 0.7
    per_member = [(_poisson(rng, lam) if rng.random() < 0.7 else 0) for _ in range(n_members)]
    diff = n_orders - sum(per_member)
    while diff != 0 and n_members:
        k = rng.randrange(n_members)
        if diff > 0:
            per_member[k] += 1
            diff -= 1
        elif per_member[k] > 0:
            per_member[k] -= 1
            diff += 1

    o0, l0 = _next_id(session, "orders"), _next_id(session, "order_lines")
    r0, rl0 = _next_id(session, "refunds"), _next_id(session, "refund_lines")
    c0 = _next_id(session, "commission_entries")
    lines_out: list[tuple] = []
    refunds_out: list[tuple] = []
    refund_lines_out: list[tuple] = []
    ledger_out: list[tuple] = []
    state = {"oid": o0, "lid": l0, "rid": r0, "rlid": rl0, "cid": c0}

    def orders():
        for k in range(n_members):
            for _ in range(per_member[k]):
                oid = state["oid"]
                state["oid"] += 1
                sid, path, _appid = stores[m_store[k]]
                at = datetime.fromtimestamp(rng.uniform(m_joined[k], now_s - 60), UTC)
                goods = 0
                mine = []
                for no in range(1, rng.choice((1, 1, 1, 2, 2, 3)) + 1):
                    sku, name = MENU[rng.randrange(len(MENU))]
                    qty = rng.choice((1, 1, 1, 2, 3))
                    unit = max(300, int(rng.lognormvariate(math.log(2500), 0.45)))
                    goods += qty * unit
                    mine.append([state["lid"], oid, no, sku, name, qty, unit, qty * unit, 0, 0, "store"])
                    state["lid"] += 1
                discount = 200 if goods >= 5000 and rng.random() < 0.15 else 0
                mine[-1][7] -= discount          # the last line bears the discount (its paid share)
                paid = goods - discount
                refunded = rng.random() < 0.04
                if refunded:
                    rid = state["rid"]
                    state["rid"] += 1
                    back = at + timedelta(hours=rng.uniform(1, 48))
                    refunds_out.append((rid, sid, oid, f"R{oid}", paid, min(back, now), min(back, now)))
                    for line in mine:
                        line[8], line[9] = line[5], line[7]
                        refund_lines_out.append((state["rlid"], rid, line[0], line[5], line[7]))
                        state["rlid"] += 1
                guide = m_guide[k] or None
                if ledger and guide:
                    for line in mine:
                        ledger_out.append((state["cid"], sid, path, oid, line[0], "guide", 0, guide, GUIDE_RATE_BP,
                                           line[7], line[7] * GUIDE_RATE_BP // 10000, {}, at + timedelta(days=7),
                                           at))
                        state["cid"] += 1
                lines_out.extend(tuple(line) for line in mine)
                yield (oid, sid, path, f"G{oid}", m0 + k, "refunded" if refunded else "paid", goods, discount, 0, 0,
                       paid, paid if refunded else 0, None, guide, at, at)

    put("orders", orders())
    put("order_lines", lines_out)
    lines_out.clear()
    put("refunds", refunds_out)
    put("refund_lines", refund_lines_out)
    if ledger:
        put("commission_entries", ledger_out)
    ledger_out.clear()
    writer.finish(list(counts))
    session.flush()
    return {"writer": writer.name, "rows": counts, "seconds": seconds}


def brand_stores(session) -> list[tuple[int, str, str]]:
    """(id, path, appid) of the brand's active stores, by code."""
    from portal.members.models import appid_of
    from portal.org import roles
    from portal.org.models import Store

    rows = session.scalars(select(Store).where(Store.status == roles.STORE_ACTIVE).order_by(Store.code)).all()
    return [(s.id, s.path, appid_of(s)) for s in rows]


# --------------------------------------------------------------------------- the command

def build(app, n_members: int, n_orders: int, *, ledger: bool = False, report=print) -> dict:
    """On ``app``'s (seeded) database: generate, commit, ANALYZE. Returns the timings."""
    with app.app_context():
        stores = brand_stores(db.session)
        started = time.perf_counter()
        out = generate(db.session, stores, n_members, n_orders, ledger=ledger, report=report)
        generated = time.perf_counter()
        db.session.commit()
        committed = time.perf_counter()
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("ANALYZE"))
        analyzed = time.perf_counter()
        db.session.remove()
    out.update(stores=len(stores), generate_s=round(generated - started, 2), commit_s=round(committed - generated, 2),
               analyze_s=round(analyzed - committed, 2), total_s=round(analyzed - started, 2))
    return out


def main(argv=None) -> int:
    from benchmarks.store_list import DEFAULT_PG, make_app, postgres_database, seed

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--stores", type=int, default=10_000)
    parser.add_argument("--ledger", action="store_true", help="also write the guides' commission entries")
    parser.add_argument("--keep", action="store_true", help="leave the database (its URL is printed)")
    parser.add_argument("--pg-url", default=DEFAULT_PG)
    args = parser.parse_args(argv)

    ctx = postgres_database(args.pg_url)
    backend = ctx.__enter__()
    try:
        app = make_app(backend.url)
        print(f"seeding a {args.stores:,}-store brand on {backend.name} {backend.version} …", flush=True)
        seed(app, args.stores)
        print(f"generating {args.members:,} members and {args.orders:,} orders …", flush=True)
        out = build(app, args.members, args.orders, ledger=args.ledger)
        print(f"generated in {out['generate_s']} s, commit {out['commit_s']} s, ANALYZE {out['analyze_s']} s: "
              f"{out['total_s']} s in all")
        print(json.dumps(out["rows"]))
        with app.app_context():
            db.engine.dispose()
        if args.keep:
            print(f"database kept: {backend.url}")
            return 0
    finally:
        if not args.keep:
            ctx.__exit__(None, None, None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
