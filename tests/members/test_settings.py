"""The member settings page: HQ edits the binding rule and RFM, with live counts per segment;
others read or are refused; "recompute now" runs the job; moves per store are scoped."""
from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from portal.audit.models import AuditEntry
from portal.extensions import db
from portal.kernel.time import utcnow
from portal.members import rfm
from portal.members.models import Member, MemberSettings, RfmRun
from tests.factories import make_member, make_order

GOOD = {"binding_rule": "protected", "protect_days": "15", "rfm_window_days": "180", "rfm_new_days": "14",
        "rfm_mode": "thresholds", "rfm_recency_days": "60", "rfm_frequency": "2", "rfm_monetary": "500.50"}


def _buyers(org):
    """sh1: one member who bought 3 × ¥400 recently (important value under the defaults, first
    order 200 days ago); gd1: one who bought once ¥50, 100 days ago (general to win back)."""
    now = utcnow()
    a = make_member(org.stores["sh1"])
    for days in (10, 100, 200):
        make_order(org.stores["sh1"], a, [("SKU1", 1, 40000)], paid_at=now - timedelta(days=days))
    b = make_member(org.stores["gd1"])
    make_order(org.stores["gd1"], b, [("SKU1", 1, 5000)], paid_at=now - timedelta(days=100))
    make_member(org.stores["sh1"])          # never bought
    db.session.commit()
    return a, b


def _count(html: str, segment: str) -> int:
    m = re.search(rf'data-segment="{segment}" data-count="(\d+)"', html)
    assert m, segment
    return int(m.group(1))


def test_hq_saves_the_settings_and_the_audit_log_says_what_changed(login_as, org):
    client = login_as("hq")
    page = client.get("/members/settings")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "会员设置" in html and "重要价值" in html and "绑定规则" in html
    r = client.post("/members/settings", data=GOOD)
    assert r.status_code == 302
    db.session.expire_all()
    s = db.session.get(MemberSettings, 1)
    assert (s.binding_rule, s.protect_days, s.rfm_window_days, s.rfm_new_days, s.rfm_recency_days, s.rfm_frequency,
            s.rfm_monetary_fen) == ("protected", 15, 180, 14, 60, 2, 50050)
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "member_settings.update"))
    assert entry.details["changes"]["rfm_monetary_fen"] == [100000, 50050]
    assert "已保存" in client.get("/members/settings").get_data(as_text=True)
    log = client.get("/audit").get_data(as_text=True)
    assert "修改了会员设置" in log and "¥1,000.00 → ¥500.50" in log and "统计周期（天）" in log


def test_bad_values_come_back_beside_their_fields_and_nothing_is_written(login_as, org):
    client = login_as("hq")
    cases = {"rfm_window_days": "0", "rfm_monetary": "abc", "rfm_frequency": "", "protect_days": "400"}
    for name, value in cases.items():
        r = client.post("/members/settings", data={**GOOD, name: value})
        assert r.status_code == 422, name
        html = r.get_data(as_text=True)
        assert f'data-field="{name}"' in html, name
    # protected with no days, and a new-customer period longer than the window
    r = client.post("/members/settings", data={**GOOD, "protect_days": ""})
    assert r.status_code == 422 and 'data-field="protect_days"' in r.get_data(as_text=True)
    r = client.post("/members/settings", data={**GOOD, "rfm_new_days": "200"})
    assert r.status_code == 422 and 'data-field="rfm_new_days"' in r.get_data(as_text=True)
    s = rfm.get_settings(for_writing=True)
    assert (s.rfm_window_days, s.binding_rule) == (365, "first")
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "member_settings.update")) is None


def test_others_read_or_are_refused(login_as, org):
    _buyers(org)
    rfm.recompute()
    db.session.commit()
    owner = login_as("owner1")
    assert owner.get("/members/settings").status_code == 403
    assert owner.post("/members/settings", data=GOOD).status_code == 403
    manager = login_as("gd_manager")
    page = manager.get("/members/settings")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<fieldset disabled" in html and "立即重新计算" not in html
    # The region's own members only: gd1's one buyer (general to win back), not sh1's
    assert _count(html, "general_retain") == 1 and _count(html, "important_value") == 0
    assert manager.post("/members/settings", data=GOOD).status_code == 403
    assert manager.post("/members/settings/recompute").status_code == 403
    assert manager.get("/members/settings/counts?" + "&".join(f"{k}={v}" for k, v in GOOD.items())).status_code == 403


def test_live_counts_follow_the_typed_values_and_equal_a_recompute(login_as, org):
    a, b = _buyers(org)
    client = login_as("hq")
    client.post("/members/settings/recompute")          # eager jobs: done at the commit
    base = client.get("/members/settings").get_data(as_text=True)
    assert _count(base, "important_value") == 1 and _count(base, "general_retain") == 1
    assert _count(base, "none") == 1
    # HQ types "M high from ¥2,000": the sh1 buyer (¥1,200) would be general value
    typed = {**GOOD, "rfm_window_days": "365", "rfm_recency_days": "90", "rfm_frequency": "3",
             "rfm_new_days": "30", "rfm_monetary": "2000"}
    query = "&".join(f"{k}={v}" for k, v in typed.items())
    r = client.get(f"/members/settings/counts?{query}", hx="segment-counts")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert "<html" not in html
    assert _count(html, "general_value") == 1 and _count(html, "important_value") == 0
    assert 'data-current="1"' in html           # today's count beside it
    assert db.session.get(Member, a.id).segment == "important_value"     # nothing written
    # Saved and recomputed, the segments are what the live count said
    client.post("/members/settings", data=typed)
    client.post("/members/settings/recompute")
    db.session.expire_all()
    assert db.session.get(Member, a.id).segment == "general_value"
    after = client.get("/members/settings").get_data(as_text=True)
    for seg in rfm.SEGMENTS:
        assert _count(after, seg) == _count(html, seg), seg
    # The same URL without htmx answers too (the fragment), and bad values answer 422 with the field named
    plain = client.get(f"/members/settings/counts?{query}")
    assert plain.status_code == 200
    bad = client.get(f"/members/settings/counts?{query.replace('rfm_frequency=3', 'rfm_frequency=x')}", hx=True)
    assert bad.status_code == 422 and "F" in bad.get_data(as_text=True)


def test_recompute_now_runs_the_job_and_the_card_polls_until_done(login_as, org, app):
    a, _b = _buyers(org)
    client = login_as("hq")
    r = client.post("/members/settings/recompute", hx="rfm-run")
    assert r.status_code == 200
    run = db.session.scalar(select(RfmRun))
    assert run is not None
    db.session.expire_all()
    run = db.session.get(RfmRun, run.id)
    assert run.state == "done" and run.members == 2
    assert db.session.get(Member, a.id).segment == "important_value"
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "member_settings.recompute"))
    card = client.get(f"/members/settings/runs/{run.id}", hx="rfm-run")
    html = card.get_data(as_text=True)
    assert card.status_code == 200 and "<html" not in html
    assert 'data-state="done"' in html and "hx-trigger" not in html       # finished: stops polling
    # A queued run polls itself
    queued = RfmRun(state="queued")
    db.session.add(queued)
    db.session.commit()
    html = client.get(f"/members/settings/runs/{queued.id}", hx="rfm-run").get_data(as_text=True)
    assert 'hx-trigger="every 1s"' in html
    # Asking again while one is queued starts nothing new
    client.post("/members/settings/recompute")
    assert db.session.scalar(select(RfmRun.id).order_by(RfmRun.id.desc())) == queued.id
    # Without htmx the card's URL shows the whole page; an unknown run is 404
    whole = client.get(f"/members/settings/runs/{run.id}")
    assert whole.status_code == 200 and "<html" in whole.get_data(as_text=True)
    assert client.get("/members/settings/runs/9999", hx=True).status_code == 404


def test_a_run_whose_worker_died_does_not_block_the_next(login_as, org):
    from portal.members.tasks import STALL

    _buyers(org)
    stuck = RfmRun(state="running", created_at=utcnow() - STALL * 2, started_at=utcnow() - STALL * 2)
    db.session.add(stuck)
    db.session.commit()
    client = login_as("hq")
    assert 'hx-trigger="every 1s"' not in client.get("/members/settings").get_data(as_text=True)   # no polling
    client.post("/members/settings/recompute")
    db.session.expire_all()
    assert db.session.get(RfmRun, stuck.id).state == "failed"
    assert db.session.scalar(select(RfmRun.state).order_by(RfmRun.id.desc())) == "done"


def test_a_job_delivered_twice_runs_once(app, org):
    from portal.members.tasks import run_recompute

    _buyers(org)
    run = RfmRun(state="queued")
    db.session.add(run)
    db.session.commit()
    run_recompute(run.id)
    first = db.session.get(RfmRun, run.id).finished_at
    run_recompute(run.id)
    db.session.expire_all()
    assert db.session.get(RfmRun, run.id).finished_at == first


def test_nightly_runs_once_a_day(app, org):
    from datetime import UTC, datetime

    from portal.members.tasks import nightly_due, recompute_nightly

    _buyers(org)
    recompute_nightly()                     # never computed: runs at once
    db.session.expire_all()
    assert rfm.get_settings(for_writing=True).rfm_computed_at is not None
    assert db.session.scalar(select(RfmRun.state)) == "done"
    recompute_nightly()                     # already done since today's 03:00 (or yesterday's): nothing
    assert len(db.session.scalars(select(RfmRun)).all()) == 1
    # 03:00 in Shanghai is 19:00 UTC the day before
    computed = datetime(2026, 6, 14, 18, 0, tzinfo=UTC)
    assert not nightly_due(datetime(2026, 6, 14, 18, 30, tzinfo=UTC), computed, 3)
    assert nightly_due(datetime(2026, 6, 14, 19, 5, tzinfo=UTC), computed, 3)


def test_moves_per_store_are_scoped(login_as, org):
    a, b = _buyers(org)
    # Last recompute of the month before: a was new, b important to win back … as stored
    db.session.execute(Member.__table__.update().where(Member.id == a.id).values(segment="new"))
    db.session.execute(Member.__table__.update().where(Member.id == b.id).values(segment="general_value"))
    db.session.commit()
    rfm.recompute()            # first of this month: snapshot, then a → important_value, b → general_retain
    db.session.commit()
    hq = login_as("hq")
    html = hq.get("/members/settings").get_data(as_text=True)
    assert 'data-moved="2"' in html
    assert 'data-move="new>important_value" data-members="1"' in html
    assert 'data-store="SH001"' in html and 'data-store="GD001"' in html
    east = login_as("east_admin")
    html = east.get("/members/settings/moves", hx="segment-moves").get_data(as_text=True)
    assert "<html" not in html and 'data-moved="1"' in html
    assert 'data-store="SH001"' in html and 'data-store="GD001"' not in html
    assert 'data-move="general_value>general_retain"' not in html
    whole = east.get("/members/settings/moves")
    assert whole.status_code == 200 and "<html" in whole.get_data(as_text=True)
    one = east.get(f"/members/settings/moves/{org.stores['sh1'].id}", hx="segment-moves")
    assert one.status_code == 200 and 'data-move="new>important_value"' in one.get_data(as_text=True)
    full = east.get(f"/members/settings/moves/{org.stores['sh1'].id}")
    assert full.status_code == 200 and "<html" in full.get_data(as_text=True)
    assert east.get(f"/members/settings/moves/{org.stores['gd1'].id}").status_code == 404


def test_the_member_rfm_section(app, org):
    from flask import render_template

    a, _b = _buyers(org)
    rfm.recompute()
    db.session.commit()
    with app.test_request_context("/"):
        html = render_template("members/_rfm.html", member=db.session.get(Member, a.id))
    assert "重要价值" in html and "¥1,200.00" in html and 'data-f>3<' in html
    never = db.session.scalar(select(Member).where(Member.segment.is_(None), Member.status == "active"))
    with app.test_request_context("/"):
        html = render_template("members/_rfm.html", member=never)
    assert 'data-segment="none"' in html


def test_the_nightly_recompute_is_on_the_beat(app):
    from portal import jobs

    entry = jobs.make_celery(app).conf.beat_schedule["rfm-nightly"]
    assert entry["args"] == ["portal.members.tasks.recompute_nightly"] and entry["schedule"] == 3600.0


def test_reading_the_rules_writes_nothing(org, login_as):
    """Pages and events that only read HQ's rules get the defaults without inserting the row (a
    reader holding a row lock it did not need deadlocked a concurrent write on PostgreSQL)."""
    from sqlalchemy import func, select

    from portal.extensions import db
    from portal.members.models import MemberSettings

    assert login_as("hq").get("/members/settings").status_code == 200
    assert login_as("sh_manager").get("/members/settings").status_code == 200
    assert db.session.scalar(select(func.count()).select_from(MemberSettings)) == 0
