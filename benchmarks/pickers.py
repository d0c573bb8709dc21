"""The store picker at full scale (issue 9): its dialog's pages and the target form with the org
tree, beside the store list's first page (its benchmarked neighbour) in the same run; server CPU
per request (median, p95) through the real app.

Usage (from the project root, on a 10,000-store database seeded by store_list_phases.py --seed):

    .venv/bin/python benchmarks/pickers.py [sqlite:////tmp/bench.db] [--requests 40]

Printed as a table and written to benchmarks/results/pickers.json.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask_migrate import upgrade  # noqa: E402
from store_list import RESULTS, WSGITimer, login, make_app  # noqa: E402

CASES = [
    ("dialog, first page", "/targets/stores?pick_q="),
    ("dialog, search 上海", "/targets/stores?pick_q=上海"),
    ("dialog, page 500", "/targets/stores?pick_q=&pick_page=500"),
    ("target form (org tree)", "/targets/new"),
    ("store list, first page", "/stores"),
]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url", nargs="?", default="sqlite:////tmp/bench.db")
    parser.add_argument("--requests", type=int, default=40)
    args = parser.parse_args(argv)

    app = make_app(args.url)
    with app.app_context():
        upgrade()
    timer = WSGITimer(app.wsgi_app)
    app.wsgi_app = timer
    client = app.test_client()
    login(client)
    headers = {"HX-Request": "true"}
    out = {}
    print(f"{'request':28} {'median ms':>10} {'p95 ms':>8}")
    for label, url in CASES:
        response = client.get(url, headers=headers)
        assert response.status_code == 200, (url, response.status_code)
        for _ in range(5):
            client.get(url, headers=headers)
        times = []
        for _ in range(args.requests):
            client.get(url, headers=headers)
            times.append(timer.last_cpu * 1000)
        times.sort()
        out[label] = {"url": url, "median_ms": round(statistics.median(times), 2),
                      "p95_ms": round(times[int(len(times) * 0.95) - 1], 2)}
        print(f"{label:28} {out[label]['median_ms']:10.1f} {out[label]['p95_ms']:8.1f}")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "pickers.json").write_text(json.dumps(out, ensure_ascii=False, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
