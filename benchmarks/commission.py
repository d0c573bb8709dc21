"""The commission ledger at scale: accruing 10,000 paid orders, reversing refunds, closing a month.

One run per backend builds a fresh database (temp SQLite file; a PostgreSQL database created and
dropped by the script — helpers from benchmarks/store_list.py), migrates it, seeds the demo brand,
pushes a two-level distribution plan to every store, and gives one store 200 members with guides
and 50 sharers (with referrers). Then, timed:

* accrue: ``--orders`` orders of two lines (one HQ-shipped) paid last month, in batches of 500
  as the orders API hands them over (rows inserted untimed; the engine's work is timed): seven
  entries per order (store, guide and two sharer levels on line 1; guide and sharers on line
  2). Floor: a bare bulk INSERT of the same number of ledger rows.
* reverse: a partial refund of one line of every tenth order, in batches of 500. Floor: the same
  bare INSERT of as many rows.
* close: closing last month (the statements of every beneficiary, GROUP BY over the ledger).
  Floor: the bare GROUP BY SELECT over the same entries.

Usage:  .venv/bin/python benchmarks/commission.py [--orders 10000] [--stores 200] [--sqlite-only]
Writes benchmarks/results/commission-<backend>.json.
"""
from __future__ import annotations

import argparse
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from sqlalchemy import delete, func, insert, select  # noqa: E402
from store_list import make_app, run_benchmark, seed  # noqa: E402

from portal.extensions import db  # noqa: E402

BATCH = 500
PLAN = {"levels": 2, "store_rate": "8.00", "guide_rate": "5.00", "sharer_rate": "3.00", "second_rate": "1.00",
        "freeze_days": 7}


def _floor_insert(n: int, template: dict) -> float:
    from portal.orders.models import CommissionEntry

    rows = [dict(template) for _ in range(n)]
    t0 = time.perf_counter()
    db.session.execute(insert(CommissionEntry.__table__), rows)
    db.session.commit()
    took = time.perf_counter() - t0
    db.session.execute(delete(CommissionEntry).where(CommissionEntry.level == 99))
    db.session.commit()
    return took


def run_backend(backend, args) -> dict:
    from portal.campaigns import services as campaigns
    from portal.kernel.time import utcnow
    from portal.members.models import Guide, Member
    from portal.orders import commission, statements
    from portal.orders.models import CommissionEntry, Order, OrderLine, Refund, RefundLine
    from portal.org.models import Store, User
    from portal.org.scope import scope_for
    from portal.pushes import services as pushes
    from portal.targets.services import TargetSpec

    app = make_app(backend.url)
    app.config["JOBS_BACKEND"] = "eager"
    app.config["JOBS_RAISE"] = True
    seeded = seed(app, args.stores)
    with app.app_context(), app.test_request_context():
        hq = db.session.scalar(select(User).where(User.username == "hq"))
        scope = scope_for(hq)
        now = utcnow()
        month = statements.previous_month(statements.month_of(now))
        start = statements.month_bounds(month)[0]
        plan = campaigns.create_campaign(scope, "distribution", "基准分销", PLAN, now - timedelta(days=70),
                                         now + timedelta(days=30), actor=hq)
        campaigns.publish_campaign(scope, plan, actor=hq)
        db.session.commit()
        pushes.create_push(scope, "campaign", plan.id, plan.name, TargetSpec(everything=True, active_only=False),
                           actor=hq)
        db.session.commit()
        store = db.session.scalar(select(Store).order_by(Store.id))
        guides = [Guide(store_id=store.id, code=f"G{i:03d}", name=f"导购{i}") for i in range(20)]
        db.session.add_all(guides)
        db.session.flush()
        sharers = [Member(nickname=f"分享人{i}", store_id=store.id, path=store.path) for i in range(50)]
        db.session.add_all(sharers)
        db.session.flush()
        for i, s in enumerate(sharers[1:], 1):
            s.referrer_id = sharers[i // 2].id
        buyers = [Member(nickname=f"会员{i}", store_id=store.id, path=store.path, guide_id=guides[i % 20].id,
                         bound_at=start) for i in range(200)]
        db.session.add_all(buyers)
        db.session.commit()

        # The orders and their lines, inserted untimed.
        orders = [dict(store_id=store.id, path=store.path, number=f"B{i:07d}", member_id=buyers[i % 200].id,
                       goods_fen=12900, paid_fen=12900, guide_id=guides[i % 20].id, sharer_id=sharers[i % 50].id,
                       paid_at=start + timedelta(minutes=3 * i % (20 * 24 * 60))) for i in range(args.orders)]
        db.session.execute(insert(Order.__table__), orders)
        ids = list(db.session.scalars(select(Order.id).order_by(Order.id)))
        lines = [row for oid in ids for row in (
            dict(order_id=oid, line_no=1, sku_code="HQ-1", quantity=1, unit_fen=9900, paid_fen=9900,
                 fulfilled_by="hq"),
            dict(order_id=oid, line_no=2, sku_code="OWN-1", quantity=1, unit_fen=3000, paid_fen=3000,
                 fulfilled_by="store"))]
        db.session.execute(insert(OrderLine.__table__), lines)
        db.session.commit()

        accrue_s = 0.0
        for i in range(0, len(ids), BATCH):
            batch = list(db.session.scalars(select(Order).where(Order.id.in_(ids[i:i + BATCH]))))
            t0 = time.perf_counter()
            commission.accrue(store, batch)
            db.session.commit()
            accrue_s += time.perf_counter() - t0
        entries = db.session.scalar(select(func.count()).select_from(CommissionEntry))
        template = dict(store_id=store.id, path=store.path, order_id=ids[0],
                        line_id=db.session.scalar(select(OrderLine.id).limit(1)), beneficiary="guide", level=99,
                        guide_id=guides[0].id, rate_bp=500, base_fen=9900, amount_fen=495, why={"floor": True},
                        payable_at=now, created_at=now)
        accrue_floor = _floor_insert(entries, template)

        refunded = ids[::10]
        line_of = dict(db.session.execute(select(OrderLine.order_id, OrderLine.id).where(
            OrderLine.line_no == 1, OrderLine.order_id.in_(refunded))).all())
        reverse_s = 0.0
        for i in range(0, len(refunded), BATCH):
            part = refunded[i:i + BATCH]
            db.session.execute(insert(Refund.__table__), [
                dict(store_id=store.id, order_id=oid, number=f"R{oid}", amount_fen=3300,
                     refunded_at=start + timedelta(days=25), created_at=now) for oid in part])
            refunds = list(db.session.scalars(select(Refund).where(Refund.order_id.in_(part))))
            db.session.execute(insert(RefundLine.__table__), [
                dict(refund_id=r.id, line_id=line_of[r.order_id], quantity=0, amount_fen=3300) for r in refunds])
            db.session.execute(OrderLine.__table__.update().where(OrderLine.id.in_([line_of[o] for o in part]))
                               .values(refunded_fen=3300))
            db.session.flush()
            t0 = time.perf_counter()
            commission.reverse(store, refunds)
            db.session.commit()
            reverse_s += time.perf_counter() - t0
        reversals = db.session.scalar(select(func.count()).select_from(CommissionEntry)
                                      .where(CommissionEntry.reverses_id.isnot(None)))
        reverse_floor = _floor_insert(reversals, template)

        t0 = time.perf_counter()
        closed = statements.close_month(scope, month, actor=hq)
        db.session.commit()
        close_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        holder = statements.holder_expr()
        db.session.execute(select(CommissionEntry.store_id, CommissionEntry.beneficiary, holder,
                                  func.sum(CommissionEntry.amount_fen), func.count())
                           .where(CommissionEntry.payable_at < closed.ends_at)
                           .group_by(CommissionEntry.store_id, CommissionEntry.beneficiary, holder)).all()
        close_floor = time.perf_counter() - t0
        db.session.remove()
    return {
        "backend": backend.name, "version": backend.version, "seed": seeded, "orders": args.orders,
        "entries": entries, "reversals": reversals, "statements": closed.statements,
        "accrue_s": round(accrue_s, 3), "accrue_floor_s": round(accrue_floor, 3),
        "accrue_ratio": round(accrue_s / accrue_floor, 1) if accrue_floor else None,
        "reverse_s": round(reverse_s, 3), "reverse_floor_s": round(reverse_floor, 3),
        "reverse_ratio": round(reverse_s / reverse_floor, 1) if reverse_floor else None,
        "close_s": round(close_s, 3), "close_floor_s": round(close_floor, 3),
        "close_ratio": round(close_s / close_floor, 1) if close_floor else None,
    }


def print_report(r: dict) -> None:
    print(f"\n{r['backend']}: {r['orders']:,} orders → {r['entries']:,} entries, {r['reversals']:,} reversals, "
          f"{r['statements']:,} statements")
    for key, label in (("accrue", "accrue (batches of 500)"), ("reverse", "reverse (batches of 500)"),
                       ("close", "close the month")):
        print(f"  {label:26} {r[key + '_s']:.3f} s · floor {r[key + '_floor_s']:.3f} s · ratio {r[key + '_ratio']}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=10000)
    parser.add_argument("--stores", type=int, default=200)
    parser.add_argument("--sqlite-only", action="store_true")
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432")
    args = parser.parse_args(argv)
    return run_benchmark("commission", args, argv, run_backend, print_report)


if __name__ == "__main__":
    sys.exit(main())
