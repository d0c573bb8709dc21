"""Screenshots of the push pages: a push while it works out its stores, while it runs, once done;
the history with filters; the history and a push as a regional manager and a distributor read
them. The push is staged in the screenshot database by a worker of our own (a second app on the
same SQLite file) that runs its job step by step, so each state is on screen for sure."""
from __future__ import annotations

import os
from contextlib import contextmanager

from tests.browser.screenshots import log_in


@contextmanager
def _worker():
    """An app on the screenshot database, in a request context (as the demo seed is made)."""
    from portal import create_app
    from portal.extensions import db

    path = os.path.join(os.environ["PORTAL_INSTANCE_PATH"], "demo.db")
    app = create_app("development", SQLALCHEMY_DATABASE_URI=f"sqlite:///{path}", SECRET_KEY="screenshots",
                     LOGIN_THROTTLE_STORAGE="memory://", JOBS_BACKEND="eager")
    with app.test_request_context():
        try:
            yield db
        finally:
            db.session.remove()
            db.engine.dispose()


def _stage_push() -> int:
    """HQ sends the home page to three regions; no worker has picked it up yet."""
    from sqlalchemy import select

    from portal.decoration.models import TemplateVersion
    from portal.org.models import OrgNode, User
    from portal.org.scope import scope_for
    from portal.pushes.services import create_push
    from portal.targets.services import TargetSpec

    with _worker() as db:
        hq = db.session.scalar(select(User).where(User.username == "hq"))
        version = db.session.scalar(select(TemplateVersion).order_by(TemplateVersion.id))
        regions = db.session.scalars(select(OrgNode.id).where(OrgNode.code.in_(("R-SH", "R-ZJ", "R-JS")))).all()
        push = create_push(scope_for(hq), "template", version.id, "夏季首页 v1", TargetSpec(node_ids=list(regions)),
                           actor=hq)
        db.session.info.pop("after_commit_jobs", None)      # the job is left for the steps below
        db.session.commit()
        return push.id


def _run(push_id: int, **kw) -> None:
    from portal.pushes.services import run_push
    from tests.factories import age_heartbeat

    with _worker():
        age_heartbeat(push_id)          # the step before "crashed" on purpose: carry on from there
        run_push(push_id, **kw)


def desktop(page, shot) -> None:
    push_id = _stage_push()
    page.goto(f"/pushes/{push_id}")
    page.wait_for_selector("#push-progress[data-planning=true]")
    shot(page, "pushes-detail-planning")

    _run(push_id, batch_size=150, max_batches=2)
    page.wait_for_selector("#push-progress[data-planning=false][data-state=running]")
    page.wait_for_selector("#delivery-rows tr[data-outcome=delivered]")
    shot(page, "pushes-detail-running")

    _run(push_id, batch_size=150)
    page.wait_for_selector("#push-progress[data-state=done]")
    page.wait_for_selector("#push-actions [data-rollback]")
    page.wait_for_timeout(1200)          # the store table's last refresh
    shot(page, "pushes-detail-done")

    # Rolled back (the form sent as the confirmed button would): who and when beside the push.
    # Only 浙江区 and 江苏区 stores change: 上海区's already had v1, so the owner's pages stay.
    page.evaluate("document.querySelector('#push-actions form[action$=\"/rollback\"]').submit()")
    page.wait_for_selector("#push-progress[data-state=rolled_back]")
    shot(page, "pushes-detail-rolled-back")

    page.goto("/pushes")
    shot(page, "pushes-history")
    page.select_option("select[name=kind]", "template")
    page.wait_for_url("**kind=template*")
    page.select_option("select[name=state]", "done")
    page.wait_for_url("**state=done*")
    shot(page, "pushes-history-filtered")
    page.goto("/pushes?since=2026-13-01")
    shot(page, "pushes-history-bad-date")

    # A regional manager reads the pushes that reached the region: its own stores only.
    page.context.clear_cookies()
    log_in(page, "shanghai")
    page.goto("/pushes")
    shot(page, "pushes-history-regional")
    page.click("tr[data-push][data-state=done] td a >> nth=-1")     # HQ's goods to every store
    page.wait_for_selector("#push-progress")
    shot(page, "pushes-detail-regional")
    page.context.clear_cookies()
    log_in(page, "east")
    page.goto(f"/pushes/{push_id}")
    shot(page, "pushes-detail-distributor")
    page.context.clear_cookies()
    log_in(page, "hq")
