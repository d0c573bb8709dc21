"""The live domain's periodic tasks, collected by ``portal.jobs``.

``live-flush-counters``: a safety net behind the aggregator's own timer (``portal.live.counters``):
with Redis, deltas a worker added just before it stopped wait for the next event of any worker;
this flushes them within LIVE_FLUSH_CHECK_SECONDS instead.
"""
from __future__ import annotations

from portal.jobs import periodic
from portal.live import counters


def flush_live_counters() -> None:
    """Write what the aggregator holds (it commits for itself)."""
    counters.flush_all()


periodic("live-flush-counters", flush_live_counters, every="LIVE_FLUSH_CHECK_SECONDS")
