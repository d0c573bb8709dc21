"""Where a push went, read by the people whose stores it reached: a distributor admin and a
regional manager read HQ's pushes into their stores (their own stores and counts only, no
buttons, POST 403), and a push that reached none of their stores is a 404. The history keeps the
target as people named it, filters by kind, state and date, and the push page tells the truth
while it plans, runs and rolls back."""
from __future__ import annotations

import re
from datetime import timedelta

from flask_babel import force_locale

from portal.kernel.time import local_tz, utcnow
from portal.org.scope import scope_for
from portal.pushes import services as pushes
from portal.pushes.labels import target
from portal.pushes.models import Push, PushReach
from portal.targets.services import TargetSpec
from tests import factories
from tests.conftest import login


def _push(db, user, spec, label="春季首页 v1", **kw):
    _t, version = factories.make_template_version(user)
    push = pushes.create_push(scope_for(user), "template", version.id, label, spec, actor=user, **kw)
    db.session.commit()
    db.session.expire_all()
    return db.session.get(Push, push.id)


def _history_row(html: str, push_id: int) -> str:
    match = re.search(rf'<tr data-push="{push_id}".*?</tr>', html, re.S)
    assert match, f"push {push_id} is not in the history"
    return match.group(0)


def _count(row: str, name: str) -> str:
    return re.search(rf'data-count="{name}">([^<]*)<', row).group(1)


# --------------------------------------------------------------------------- read access

def test_a_distributor_reads_hqs_push_into_its_stores_only(client, org, db):
    push = _push(db, org.users["hq"], TargetSpec(everything=True))
    assert push.delivered == 5                       # sh1, sh2, js1, gd1, south_direct
    login(client, "east_admin")
    row = _history_row(client.get("/pushes").get_data(as_text=True), push.id)
    assert _count(row, "delivered") == "3"           # its own three stores, not HQ's five
    page = client.get(f"/pushes/{push.id}").get_data(as_text=True)
    assert all(f'data-store="{c}"' in page for c in ("SH001", "SH002", "JS001"))
    assert 'data-store="GD001"' not in page and 'data-store="SO001"' not in page
    assert 'data-count="delivered">3<' in page
    # Read only: no buttons, and the POSTs are refused without touching the push.
    assert "push-read-only" in page and "data-rollback" not in page
    for action in ("rollback", "retry", "cancel"):
        assert client.post(f"/pushes/{push.id}/{action}").status_code == 403
    db.session.expire_all()
    assert db.session.get(Push, push.id).state == "done"


def test_a_regional_manager_reads_the_pushes_that_reached_its_region(client, org, db):
    everywhere = _push(db, org.users["hq"], TargetSpec(everything=True))
    elsewhere = _push(db, org.users["hq"], TargetSpec(store_codes=["GD001", "JS001"]), label="别处的推送")
    by_east = _push(db, org.users["east_admin"], TargetSpec(node_ids=[org.nodes["r_sh"].id]), label="华东的推送")
    login(client, "sh_manager")
    html = client.get("/pushes").get_data(as_text=True)
    assert _count(_history_row(html, everywhere.id), "delivered") == "2"
    assert _count(_history_row(html, by_east.id), "delivered") == "2"
    assert f'data-push="{elsewhere.id}"' not in html and "别处的推送" not in html
    page = client.get(f"/pushes/{everywhere.id}").get_data(as_text=True)
    assert 'data-store="SH001"' in page and 'data-store="SH002"' in page and 'data-store="JS001"' not in page
    assert "data-rollback" not in page
    assert client.get(f"/pushes/{everywhere.id}/progress", hx="push-progress").status_code == 200
    # A push that reached none of its stores does not exist for it.
    assert client.get(f"/pushes/{elsewhere.id}").status_code == 404
    assert client.get(f"/pushes/{elsewhere.id}/progress").status_code == 404
    assert client.post(f"/pushes/{by_east.id}/rollback").status_code == 403


def test_a_push_reaching_none_of_a_distributors_stores_is_a_404(client, org, db):
    push = _push(db, org.users["hq"], TargetSpec(store_codes=["GD001"]))
    login(client, "east_admin")
    assert client.get(f"/pushes/{push.id}").status_code == 404
    assert client.post(f"/pushes/{push.id}/rollback").status_code == 404
    assert f'data-push="{push.id}"' not in client.get("/pushes").get_data(as_text=True)
    client.post("/logout")
    login(client, "south_admin")
    assert client.get(f"/pushes/{push.id}").status_code == 200


def test_a_distributor_still_acts_on_its_own_push(client, org, db):
    push = _push(db, org.users["east_admin"], TargetSpec(node_ids=[org.nodes["r_sh"].id]))
    login(client, "east_admin")
    page = client.get(f"/pushes/{push.id}").get_data(as_text=True)
    assert "data-rollback" in page and "push-read-only" not in page
    assert 'data-confirm="在 2 家门店回滚此推送？' in page
    assert client.post(f"/pushes/{push.id}/rollback").status_code == 302
    db.session.expire_all()
    assert db.session.get(Push, push.id).state == "rolled_back"


def test_the_reach_per_place_follows_the_counts(client, org, db):
    push = _push(db, org.users["hq"], TargetSpec(everything=True))
    reach = {r.path: (r.total, r.delivered) for r in db.session.query(PushReach).filter_by(push_id=push.id)}
    assert reach == {org.nodes["r_sh"].path: (2, 2), org.nodes["r_js"].path: (1, 1),
                     org.nodes["r_gd"].path: (1, 1), org.nodes["south"].path: (1, 1)}
    login(client, "hq")
    client.post(f"/pushes/{push.id}/rollback")
    db.session.expire_all()
    assert db.session.get(PushReach, (push.id, org.nodes["r_sh"].path)).reverted == 2


# --------------------------------------------------------------------------- the target, as named

def test_the_history_names_the_target_as_people_did(client, org, db):
    region = _push(db, org.users["hq"], TargetSpec(node_ids=[org.nodes["r_sh"].id]))
    everything = _push(db, org.users["hq"], TargetSpec(everything=True))
    regions = _push(db, org.users["hq"], TargetSpec(node_ids=[org.nodes[n].id for n in ("r_sh", "r_js", "r_gd")]))
    codes = _push(db, org.users["hq"], TargetSpec(store_codes=["SH001", "SH002", "GD001"], exclude_codes=["SH002"]))
    with force_locale("zh_Hans_CN"):
        assert (target(region), region.target_count) == ("上海区", 2)
        assert (target(everything), everything.target_count) == ("全部门店", 5)
        assert (target(regions), regions.target_count) == ("3 个区域", 4)
        assert (target(codes), codes.target_count) == ("3 家门店，排除 1 家门店", 2)
    # Kept in no language: the reader's names it.
    assert region.target_parts == {"nodes": ["上海区"]} and codes.target_parts == {"store_codes": 3, "excluded": 1}
    login(client, "hq")
    html = client.get("/pushes").get_data(as_text=True)
    assert "上海区" in _history_row(html, region.id) and "2 家门店" in _history_row(html, region.id)
    assert "临时选择" not in html
    page = client.get(f"/pushes/{region.id}").get_data(as_text=True)
    assert re.search(r'push-target">上海区<span class="text-secondary"> · 2 家门店</span>', page)


def test_a_saved_target_is_named_by_its_name(client, org, db):
    from portal.targets import services as targets

    hq = org.users["hq"]
    target = targets.save_target(scope_for(hq), "华东重点门店", TargetSpec(node_ids=[org.nodes["r_sh"].id]), actor=hq)
    _t, version = factories.make_template_version(hq)
    db.session.commit()
    login(client, "hq")
    r = client.post(f"/templates/{_t.id}/versions/1/push", data={"target_id": str(target.id), "active_only": "y"})
    assert r.status_code == 302
    push = db.session.scalar(db.select(Push).order_by(Push.id.desc()))
    assert (push.target_label, push.target_count, push.target_id) == ("华东重点门店", 2, target.id)


# --------------------------------------------------------------------------- history filters

def test_the_history_filters_by_kind_state_and_date(client, org, db):
    done = _push(db, org.users["hq"], TargetSpec(everything=True), label="已完成的推送")
    later = _push(db, org.users["hq"], TargetSpec(everything=True), label="定时的推送",
                  scheduled_for=utcnow() + timedelta(days=1))
    old = _push(db, org.users["hq"], TargetSpec(everything=True), label="上个月的推送")
    db.session.get(Push, old.id).created_at = utcnow() - timedelta(days=40)
    db.session.commit()
    login(client, "hq")

    def shown(query: str) -> set[int]:
        r = client.get(f"/pushes?{query}", hx="push-rows")
        assert r.status_code == 200 and "<html" not in r.get_data(as_text=True)
        return {int(i) for i in re.findall(r'<tr data-push="(\d+)"', r.get_data(as_text=True))}

    assert shown("") == {done.id, later.id, old.id}
    assert shown("state=scheduled") == {later.id}
    assert shown("kind=campaign") == set()
    assert shown("kind=template&state=done") == {done.id, old.id}
    today = utcnow().astimezone(local_tz()).date().isoformat()     # the portal's own day (Asia/Shanghai)
    month_ago = (utcnow() - timedelta(days=45)).date().isoformat()
    week_ago = (utcnow() - timedelta(days=7)).date().isoformat()
    assert shown(f"since={week_ago}") == {done.id, later.id}
    assert shown(f"since={month_ago}&until={week_ago}") == {old.id}
    assert shown(f"until={today}&state=bogus&kind=<script>") == {done.id, later.id, old.id}


def test_a_bad_date_is_named_beside_its_field(client, org, db):
    _push(db, org.users["hq"], TargetSpec(everything=True))
    login(client, "hq")
    r = client.get("/pushes?since=2026-13-45")
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert '<div class="invalid-feedback" data-field="since">请输入日期，例如 2026-12-01。</div>' in html
    r = client.get("/pushes?since=2026-12-05&until=2026-12-01")
    assert r.status_code == 422 and 'data-field="until">结束日期早于开始日期。' in r.get_data(as_text=True)


# --------------------------------------------------------------------------- the live page

def test_planning_says_so_at_zero_percent_then_the_poll_brings_the_finished_page(client, org, db):
    hq = org.users["hq"]
    _t, version = factories.make_template_version(hq)
    db.session.commit()
    with factories.jobs_dropped():        # sent, not yet planned: no store worked out
        push = pushes.create_push(scope_for(hq), "template", version.id, "v1", TargetSpec(everything=True),
                                  actor=hq)
    push_id = push.id
    login(client, "hq")
    page = client.get(f"/pushes/{push_id}").get_data(as_text=True)
    assert "正在计算目标门店…" in page and "pct-w-0" in page and 'push-percent">0%' in page
    assert "已处理" not in page and "data-rollback" not in page
    poll = client.get(f"/pushes/{push_id}/progress", hx="push-progress")
    assert 'hx-trigger="every 1s"' in poll.get_data(as_text=True) and poll.headers["HX-Trigger"] == "push-moved"

    pushes.run_push(push_id, batch_size=2, max_batches=1)     # planned, and 2 of 5 stores done
    rows = client.get(f"/pushes/{push_id}", hx="delivery-rows").get_data(as_text=True)
    assert rows.count('data-outcome="delivered"') == 2 and rows.count('data-outcome="pending"') == 3
    assert 'hx-trigger="push-moved from:body"' in rows           # the table keeps refreshing itself
    poll = client.get(f"/pushes/{push_id}/progress", hx="push-progress").get_data(as_text=True)
    assert "已处理2 / 5家门店" in poll and 'push-percent">40%' in poll

    factories.age_heartbeat(push_id)       # the first runner "crashed"; a new one carries on
    pushes.run_push(push_id)
    db.session.expire_all()
    poll = client.get(f"/pushes/{push_id}/progress", hx="push-progress").get_data(as_text=True)
    assert 'data-state="done"' in poll and 'hx-trigger="every 1s"' not in poll
    assert '<div id="push-actions" hx-swap-oob="true">' in poll and "data-rollback" in poll
    finished = db.session.get(Push, push_id).finished_at
    assert 'push-finished-at">—' not in poll and "已于 " in poll and finished is not None
    assert 'hx-swap-oob="delete:' in poll                      # the "pushing…" notice goes
    rows = client.get(f"/pushes/{push_id}", hx="delivery-rows").get_data(as_text=True)
    assert rows.count('data-outcome="delivered"') == 5 and "push-moved" not in rows


def test_a_rollback_in_progress_counts_what_it_rolled_back(client, org, db):
    push = _push(db, org.users["hq"], TargetSpec(node_ids=[org.nodes["r_sh"].id]))
    hq = org.users["hq"]
    with factories.jobs_dropped():
        pushes.request_rollback(scope_for(hq), db.session.get(Push, push.id), actor=hq)
    pushes.rollback_push(push.id, batch_size=1, max_batches=1)
    login(client, "hq")
    poll = client.get(f"/pushes/{push.id}/progress", hx="push-progress").get_data(as_text=True)
    assert 'data-state="rolling_back"' in poll and "已回滚 1 / 2 家门店" in poll and 'push-percent">50%' in poll
    assert 'hx-trigger="every 1s"' in poll and "data-rollback" not in poll
    factories.age_heartbeat(push.id)
    pushes.rollback_push(push.id)
    poll = client.get(f"/pushes/{push.id}/progress", hx="push-progress").get_data(as_text=True)
    assert 'data-state="rolled_back"' in poll and 'hx-trigger="every 1s"' not in poll
    assert 'push-rolled-back-at">' in poll and "进行中" not in poll


def test_the_reach_moves_with_the_region(client, org, db):
    push = _push(db, org.users["hq"], TargetSpec(node_ids=[org.nodes["r_sh"].id]))
    login(client, "hq")
    r = client.post(f"/org/nodes/{org.nodes['r_sh'].id}/edit",
                    data={"action": "move", "move-parent_id": org.nodes["south"].id})
    assert r.status_code == 302
    client.post("/logout")
    login(client, "south_admin")                      # 上海区 is south's now, with HQ's push into it
    assert _count(_history_row(client.get("/pushes").get_data(as_text=True), push.id), "delivered") == "2"
    client.post("/logout")
    login(client, "east_admin")
    assert client.get(f"/pushes/{push.id}").status_code == 404


def test_the_push_page_counts_in_english_too(en, org, db):
    push = _push(db, org.users["hq"], TargetSpec(store_codes=["SH001"]))
    client = en("hq")
    page = client.get(f"/pushes/{push.id}").get_data(as_text=True)
    assert 'data-confirm="Roll back this push in 1 store?' in page and "SH001 · 1 store" not in page
    assert 'push-target">SH001<span class="text-secondary"> · 1 store</span>' in page
    history = client.get("/pushes").get_data(as_text=True)
    assert "1 push<" in history
    push2 = _push(db, org.users["hq"], TargetSpec(everything=True))
    page = client.get(f"/pushes/{push2.id}").get_data(as_text=True)
    assert "data-confirm=\"Roll back this push in 5 stores?" in page and "全部门店" not in page
    assert 'push-target">All stores<span class="text-secondary"> · 5 stores</span>' in page
    assert "2 pushes<" in client.get("/pushes").get_data(as_text=True)
