"""The push engine through its services, on a real database."""
from sqlalchemy import func, select

from portal.decoration.models import StorePage
from portal.org.scope import scope_for
from portal.pushes import services as pushes
from portal.pushes.models import Delivery, Push
from portal.targets.services import TargetSpec
from tests import factories
from tests.factories import age_heartbeat


def _push(db, user, version, spec, **kw):
    scope = scope_for(user)
    push = pushes.create_push(scope, "template", version.id, f"v{version.number}", spec, actor=user, **kw)
    db.session.commit()          # the job runs after the commit (eagerly in tests)
    db.session.expire_all()
    return db.session.get(Push, push.id)


def _outcomes(db, push):
    return {sid: (o, r) for sid, o, r in db.session.execute(
        select(Delivery.store_id, Delivery.outcome, Delivery.reason).where(Delivery.push_id == push.id))}


def _page(db, store):
    page = db.session.get(StorePage, store.id)
    return page.version_id if page else None



def test_push_to_a_region_delivers_each_store_once(app, db, org):
    hq = org.users["hq"]
    _t, v1 = factories.make_template_version(hq)
    factories.make_store(org.nodes["r_sh"], "SH009", status="closed")
    db.session.commit()
    push = _push(db, hq, v1, TargetSpec(node_ids=[org.nodes["r_sh"].id], active_only=False))
    assert push.state == "done"
    out = _outcomes(db, push)
    assert push.total == 3 and push.delivered == 2 and push.skipped == 1
    closed = db.session.scalar(select(func.min(Delivery.store_id)).where(Delivery.reason == "store_closed"))
    assert out[closed] == ("skipped", "store_closed")
    assert _page(db, org.stores["sh1"]) == v1.id and _page(db, org.stores["gd1"]) is None
    # The same thing again changes nothing: every store already has it.
    again = _push(db, hq, v1, TargetSpec(node_ids=[org.nodes["r_sh"].id], active_only=False))
    assert again.delivered == 0 and again.skipped == 3
    assert {r for _o, r in _outcomes(db, again).values()} == {"already_has_it", "store_closed"}


def test_distributor_push_writes_no_row_for_stores_outside_its_subtree(app, db, org):
    # The issue changed this: a foreign store used to get a skipped "out_of_scope" row, naming
    # it on the push page. Now it is as unknown as a code nobody uses: no row at all.
    east = org.users["east_admin"]
    _t, v1 = factories.make_template_version(east)
    db.session.commit()
    push = _push(db, east, v1, TargetSpec(store_codes=["SH001", "GD001"]))
    out = _outcomes(db, push)
    assert out == {org.stores["sh1"].id: ("delivered", "")}
    assert push.total == 1 and _page(db, org.stores["gd1"]) is None
    push = _push(db, east, v1, TargetSpec(node_ids=[org.nodes["r_gd"].id, org.nodes["south"].id]))
    assert _outcomes(db, push) == {} and push.total == 0


def test_killed_half_way_resumes_without_double_effects(app, db, org):
    hq = org.users["hq"]
    for i in range(25):
        factories.make_store(org.nodes["r_js"], f"JSK{i:03d}")
    _t, v1 = factories.make_template_version(hq)
    db.session.commit()
    with factories.jobs_dropped():
        scope = scope_for(hq)
        push = pushes.create_push(scope, "template", v1.id, "v1", TargetSpec(everything=True), actor=hq)
    pushes.run_push(push.id, batch_size=10, max_batches=1)        # dies after the first batch
    db.session.expire_all()
    push = db.session.get(Push, push.id)
    assert push.state == "running" and push.delivered == 10 and push.total == 30
    # The dead runner's heartbeat grows old; a new run takes the push over (a run started while
    # the heartbeat is fresh leaves the push to its runner: see test_stall.py).
    age_heartbeat(push.id)
    pushes.run_push(push.id, batch_size=10)                       # the resumed run
    db.session.expire_all()
    push = db.session.get(Push, push.id)
    assert push.state == "done" and push.delivered == 30 and push.total == 30
    assert db.session.scalar(select(func.count()).select_from(Delivery).where(Delivery.push_id == push.id)) == 30
    assert db.session.scalar(select(func.count()).select_from(StorePage).where(StorePage.version_id == v1.id)) == 30


def test_rollback_returns_each_store_to_what_it_had(app, db, org):
    hq = org.users["hq"]
    tpl, v1 = factories.make_template_version(hq)
    db.session.commit()
    first = _push(db, hq, v1, TargetSpec(node_ids=[org.nodes["r_sh"].id]))
    from portal.decoration import services as deco
    scope = scope_for(hq)
    tpl = db.session.merge(tpl)
    v2 = deco.publish(scope, tpl, "v2", actor=hq)
    db.session.commit()
    second = _push(db, hq, v2, TargetSpec(everything=True))
    assert _page(db, org.stores["sh1"]) == v2.id and _page(db, org.stores["gd1"]) == v2.id
    pushes.request_rollback(scope, second, actor=hq)
    db.session.commit()
    db.session.expire_all()
    second = db.session.get(Push, second.id)
    # The rollback keeps the push's own count of delivered stores beside its own (issue point 13).
    assert second.state == "rolled_back" and second.reverted == 5 and second.delivered == 5
    # 上海 stores go back to v1 (from the first push); the others had nothing and have nothing again.
    assert _page(db, org.stores["sh1"]) == v1.id and _page(db, org.stores["sh2"]) == v1.id
    assert _page(db, org.stores["gd1"]) is None
    assert db.session.get(StorePage, org.stores["sh1"].id).push_id == first.id


def test_overlapping_pushes_by_two_admins(app, db, org):
    """East and HQ push different versions to overlapping stores: each store ends with the
    later one, and rolling back the later push restores the earlier one exactly."""
    hq, east = org.users["hq"], org.users["east_admin"]
    _t1, v_east = factories.make_template_version(east, "华东首页")
    _t2, v_hq = factories.make_template_version(hq, "总部首页")
    db.session.commit()
    p_east = _push(db, east, v_east, TargetSpec(everything=True))
    p_hq = _push(db, hq, v_hq, TargetSpec(node_ids=[org.nodes["r_sh"].id, org.nodes["r_gd"].id]))
    assert _page(db, org.stores["js1"]) == v_east.id
    assert _page(db, org.stores["sh1"]) == v_hq.id and _page(db, org.stores["gd1"]) == v_hq.id
    pushes.request_rollback(scope_for(hq), p_hq, actor=hq)
    db.session.commit()
    assert _page(db, org.stores["sh1"]) == v_east.id and _page(db, org.stores["gd1"]) is None
    assert db.session.get(Push, p_east.id).state == "done"


def test_two_admins_pushing_at_once_to_overlapping_stores(app, db, org):
    """Two pushes run at the same time, in two threads with their own connections, over
    overlapping stores. Per store, whichever came second records the first as what the store had,
    so rolling the winner back hands each store exactly the other push's version."""
    import threading

    hq, east = org.users["hq"], org.users["east_admin"]
    for i in range(30):
        factories.make_store(org.nodes["r_sh"], f"SHC{i:03d}")
    _t1, v_east = factories.make_template_version(east, "华东首页")
    _t2, v_hq = factories.make_template_version(hq, "总部首页")
    db.session.commit()
    with factories.jobs_dropped():
        made = []
        for user, version, spec in ((east, v_east, TargetSpec(everything=True)),
                                    (hq, v_hq, TargetSpec(node_ids=[org.nodes["r_sh"].id]))):
            push = pushes.create_push(scope_for(user), "template", version.id, "x", spec, actor=user)
            made.append(push.id)

    errors = []
    start = threading.Barrier(2)

    def run(push_id):
        with app.app_context():
            try:
                start.wait()
                pushes.run_push(push_id, batch_size=4)
            except Exception as exc:      # reported below, with the push it came from
                errors.append((push_id, exc))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(pid,)) for pid in made]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    db.session.expire_all()
    assert [db.session.get(Push, pid).state for pid in made] == ["done", "done"]
    overlap = list(db.session.scalars(select(Delivery.store_id).where(Delivery.push_id == made[1])))
    assert len(overlap) == 32
    for sid in overlap:
        page = db.session.get(StorePage, sid)
        winner = page.push_id
        loser = made[0] if winner == made[1] else made[1]
        won = db.session.scalar(select(Delivery).where(Delivery.push_id == winner, Delivery.store_id == sid))
        lost = db.session.scalar(select(Delivery).where(Delivery.push_id == loser, Delivery.store_id == sid))
        assert won.outcome == lost.outcome == "delivered"
        assert won.previous_push_id == loser and lost.previous_push_id is None, sid


def test_a_push_whose_worker_died_is_picked_up_again(app, db, org):
    from datetime import timedelta

    from portal.kernel.time import utcnow

    hq = org.users["hq"]
    _t, v1 = factories.make_template_version(hq)
    db.session.commit()
    with factories.jobs_dropped():
        push = pushes.create_push(scope_for(hq), "template", v1.id, "v1", TargetSpec(everything=True), actor=hq)
    pushes.run_push(push.id, batch_size=2, max_batches=1)          # the worker dies here
    assert pushes.resume_stalled() == 0                               # not stalled yet: it just moved
    long_ago = utcnow() - timedelta(hours=1)
    db.session.execute(Push.__table__.update().where(Push.id == push.id).values(started_at=long_ago))
    db.session.execute(Delivery.__table__.update().where(Delivery.push_id == push.id).values(done_at=long_ago))
    db.session.commit()
    age_heartbeat(push.id)             # what the stall check looks at now
    assert pushes.resume_stalled() == 1
    db.session.expire_all()
    push = db.session.get(Push, push.id)
    assert push.state == "done" and push.delivered == 5


def _stale(db, push_id):
    """The push as a request loaded it a moment ago, before someone else changed it."""
    push = db.session.get(Push, push_id)
    db.session.expunge(push)
    db.session.commit()
    return push


def _elsewhere(app, fn, *args):
    """Run ``fn`` in a connection of its own, as another request or the clock would."""
    import threading

    def run():
        with app.app_context():
            try:
                fn(*args)
            finally:
                db_.session.remove()

    from portal.extensions import db as db_
    t = threading.Thread(target=run)
    t.start()
    t.join(30)


def test_cancel_and_rollback_that_lose_a_race_are_refused_and_change_nothing(app, db, org):
    from datetime import timedelta

    import pytest

    from portal.kernel.errors import RuleError
    from portal.kernel.time import utcnow

    hq = org.users["hq"]
    _t, v1 = factories.make_template_version(hq)
    db.session.commit()
    push = _push(db, hq, v1, TargetSpec(everything=True), scheduled_for=utcnow() + timedelta(hours=1))
    db.session.get(Push, push.id).scheduled_for = utcnow() - timedelta(seconds=1)
    db.session.commit()
    seen = _stale(db, push.id)                       # the admin's page still says "scheduled"
    _elsewhere(app, pushes.dispatch_due)             # the clock sends it out
    db.session.add(seen)
    with app.test_request_context(), pytest.raises(RuleError):
        pushes.cancel_scheduled(scope_for(hq), seen, actor=hq)
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Push, push.id).state == "done"

    # Two admins press "roll back" at once: one rollback runs, the other is refused.
    seen = _stale(db, push.id)
    _elsewhere(app, lambda: (pushes.request_rollback(scope_for(hq), db.session.get(Push, push.id), actor=hq),
                             db.session.commit()))
    db.session.expire_all()
    done = db.session.get(Push, push.id)
    assert done.state == "rolled_back"
    rolled_back_at = done.rolled_back_at
    db.session.expunge(done)
    db.session.add(seen)
    with app.test_request_context(), pytest.raises(RuleError):
        pushes.request_rollback(scope_for(hq), seen, actor=hq)
    db.session.commit()
    db.session.expire_all()
    again = db.session.get(Push, push.id)
    assert again.state == "rolled_back" and again.rolled_back_at == rolled_back_at
