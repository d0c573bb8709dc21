"""The push engine's jobs and periodic tasks, collected by ``portal.jobs``.

``run_push`` and ``rollback_push`` are jobs (``@job`` in ``services``): a push is enqueued after
the commit that creates it. Every 30 s due scheduled pushes go out; every
PUSH_STALL_CHECK_SECONDS pushes whose worker died resume.
"""
from __future__ import annotations

from portal.jobs import periodic
from portal.pushes.services import dispatch_due, resume_stalled, rollback_push, run_push  # noqa: F401

periodic("dispatch-due-pushes", dispatch_due, every=30.0)
periodic("resume-stalled-pushes", resume_stalled, every="PUSH_STALL_CHECK_SECONDS")
