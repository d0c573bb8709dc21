"""The job runner knows no domain (issue 8, point 2): the periodic tasks the domains declare in
their tasks.py are what Celery beat and the embedded clock run."""
from __future__ import annotations

from portal import jobs


def test_the_push_engines_periodic_tasks_are_declared_by_pushes_tasks(app):
    from portal.pushes import tasks  # noqa: F401  (the app factory imports it too)

    schedule = jobs.make_celery(app).conf.beat_schedule
    assert schedule["dispatch-due-pushes"] == {"task": "portal.run_job", "schedule": 30.0,
                                               "args": ["portal.pushes.services.dispatch_due"]}
    assert schedule["resume-stalled-pushes"]["args"] == ["portal.pushes.services.resume_stalled"]
    assert schedule["resume-stalled-pushes"]["schedule"] == float(app.config["PUSH_STALL_CHECK_SECONDS"])


def test_a_domains_periodic_task_goes_on_beat_and_on_the_clock(app):
    ran = []

    def tick() -> None:
        ran.append(True)

    jobs.periodic("test-tick", tick, every=7)
    try:
        entry = jobs.make_celery(app).conf.beat_schedule["test-tick"]
        assert entry == {"task": "portal.run_job", "schedule": 7.0, "args": [tick.job_name]}
        jobs.clock_tick(app)                 # what the embedded install's clock thread runs
        assert ran == [True]
    finally:
        jobs.PERIODIC.pop("test-tick")
        jobs.REGISTRY.pop(tick.job_name)


def test_a_periodic_task_may_use_translated_words_outside_any_request(app, org):
    """The embedded clock runs tasks with no request: the locale is the portal's own, not a crash
    (closing a commission month formats its messages)."""
    from flask_babel import gettext

    with app.app_context():
        assert gettext("Members") == "会员"
