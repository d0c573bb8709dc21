"""A campaign pushed to 10,000 stores: one opt-in coupon campaign, one participation row per store.

One run per backend builds a fresh database (temp SQLite file; a PostgreSQL database created and
dropped by the script — helpers from benchmarks/store_list.py), migrates it, seeds the demo brand
(10,000 stores) and then, several times over, creates and publishes a campaign and pushes it to
every store: target resolution, one delivery row and one campaign_stores row per store, the push's
state and counts. Each figure is the wall time from ``create_push`` to the push being ``done`` (the
job runs inline, as the worker would). Beside it, the floor: a bare bulk INSERT of as many
campaign_stores rows.

Usage:  .venv/bin/python benchmarks/campaign_push.py [--stores 10000] [--runs 5] [--sqlite-only]
Writes benchmarks/results/campaign_push-<backend>.json.
"""
from __future__ import annotations

import argparse
import statistics
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

RULES = {"discount": "amount", "amount_fen": 1000, "percent": None, "threshold_fen": 10000, "per_member": 1,
         "budget": 10000}


def run_backend(backend, args) -> dict:
    from portal.campaigns import services as campaigns
    from portal.campaigns.models import Campaign, CampaignStore
    from portal.org.models import Store, User, utcnow
    from portal.org.scope import scope_for
    from portal.pushes import services as pushes
    from portal.pushes.models import Push
    from portal.targets.services import TargetSpec

    app = make_app(backend.url)
    app.config["JOBS_BACKEND"] = "eager"
    app.config["JOBS_RAISE"] = True
    seeded = seed(app, args.stores)
    runs, floors, last = [], [], {}
    with app.app_context():
        hq = db.session.scalar(select(User).where(User.username == "hq"))
        scope = scope_for(hq)
        now = utcnow()
        for i in range(args.runs):
            c = campaigns.create_campaign(scope, "coupon", f"基准券 {i}", RULES, now, now + timedelta(days=7),
                                          participation="opt_in", join_deadline=now + timedelta(days=3), actor=hq)
            campaigns.publish_campaign(scope, c, actor=hq)
            db.session.commit()
            started = time.perf_counter()
            push = pushes.create_push(scope, "campaign", c.id, c.name, TargetSpec(everything=True, active_only=False),
                                      actor=hq)
            db.session.commit()                      # the job runs here, after the commit
            runs.append(time.perf_counter() - started)
            db.session.expire_all()
            push = db.session.get(Push, push.id)
            assert push.state == "done", push.state
            parts = db.session.scalar(select(func.count()).select_from(CampaignStore)
                                      .where(CampaignStore.campaign_id == c.id))
            last = {"delivered": push.delivered, "skipped": push.skipped, "total": push.total, "rows": parts}
            # The floor: a bare multi-row INSERT of as many participation rows, then removed.
            scratch = campaigns.create_campaign(scope, "coupon", "floor", RULES, now, now + timedelta(days=1), actor=hq)
            db.session.commit()
            ids = list(db.session.scalars(select(Store.id).limit(args.stores)))
            rows = [{"campaign_id": scratch.id, "store_id": sid, "status": "invited", "updated_at": now} for sid in ids]
            t0 = time.perf_counter()
            db.session.execute(insert(CampaignStore), rows)
            db.session.commit()
            floors.append(time.perf_counter() - t0)
            db.session.execute(delete(CampaignStore).where(CampaignStore.campaign_id == scratch.id))
            db.session.execute(delete(Campaign).where(Campaign.id == scratch.id))
            db.session.commit()
        db.session.remove()
    med, floor = statistics.median(runs), statistics.median(floors)
    return {
        "backend": backend.name, "version": backend.version, "stores": args.stores, "seed": seeded,
        "push_runs_s": [round(r, 3) for r in runs], "push_median_s": round(med, 3),
        "floor_runs_s": [round(f, 3) for f in floors], "floor_median_s": round(floor, 3),
        "ratio_to_floor": round(med / floor, 1) if floor else None, "last_push": last,
        "target_s": 1.0, "meets_target": med <= 1.0,
    }


def print_report(r: dict) -> None:
    print(f"\n{r['backend']}: push one campaign to {r['stores']:,} stores, median of {len(r['push_runs_s'])} runs")
    print(f"  push {r['push_median_s']:.3f} s · floor (bulk insert) {r['floor_median_s']:.3f} s · "
          f"ratio {r['ratio_to_floor']} · aim ≤ 1 s {'met' if r['meets_target'] else 'MISSED'}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stores", type=int, default=10000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--sqlite-only", action="store_true")
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432")
    args = parser.parse_args(argv)
    return run_benchmark("campaign_push", args, argv, run_backend, print_report, runs=args.runs)


if __name__ == "__main__":
    sys.exit(main())
