"""Where a store-list request's server time goes, phase by phase (issue #8's profile).

Wraps, in a running app, the session interface (open, save), the user loader, the list service,
the filter menus' one statement, template rendering and the after-request hooks with thread-CPU-time
counters, sends each store-list case N times and prints the median per phase; what is left is
Flask itself, routing, Flask-Login and the scope. Thread CPU time, because other processes on a
shared machine inflate wall-clock time far more.

Usage (from the project root, on a database seeded by benchmarks/store_list.py's ``seed``):

    .venv/bin/python benchmarks/store_list_phases.py sqlite:////tmp/bench.db [--requests 150] [--seed]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import flask.templating  # noqa: E402
from store_list import WSGITimer, list_cases, login, make_app, seed  # noqa: E402

from portal.org import services  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url", help="database URL (seeded with --stores stores, or pass --seed)")
    parser.add_argument("--stores", type=int, default=10000)
    parser.add_argument("--requests", type=int, default=150)
    parser.add_argument("--seed", action="store_true", help="migrate and seed the database first")
    args = parser.parse_args(argv)

    app = make_app(args.url)
    if args.seed:
        seed(app, args.stores)
    timer = WSGITimer(app.wsgi_app)
    app.wsgi_app = timer
    spent: dict[str, float] = {}

    def timed(fn, label):
        def wrapper(*a, **kw):
            started = time.thread_time()
            try:
                return fn(*a, **kw)
            finally:
                spent[label] = spent.get(label, 0.0) + time.thread_time() - started
        return wrapper

    si = app.session_interface
    si.open_session = timed(si.open_session, "session: read")
    si.save_session = timed(si.save_session, "session: write back")
    app.login_manager._user_callback = timed(app.login_manager._user_callback, "user (with node/store)")
    services.list_stores = timed(services.list_stores, "list: count + page (SQL + objects)")
    services.store_filter_menus = timed(services.store_filter_menus, "filter menus (regions + tags)")
    flask.templating._render = timed(flask.templating._render, "templates")
    hooks = app.after_request_funcs[None]
    hooks[:] = [timed(f, "after_request: commit + headers") for f in hooks]

    client = app.test_client()
    login(client)
    for label, url, headers in list_cases(app, args.stores):
        for _ in range(10):
            client.get(url, headers=headers)
        per: dict[str, list[float]] = {}
        total = []
        for _ in range(args.requests):
            spent.clear()
            client.get(url, headers=headers)
            total.append(timer.last_cpu)
            for k, v in spent.items():
                per.setdefault(k, []).append(v)
        median = statistics.median(total) * 1000
        print(f"\n{label}: server CPU median {median:.2f} ms")
        known = 0.0
        for k, v in per.items():
            m = statistics.median(v) * 1000
            known += m
            print(f"  {k:<40}{m:7.2f}")
        print(f"  {'rest: Flask, routing, login, scope':<40}{median - known:7.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
