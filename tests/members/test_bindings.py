"""The service relationship: HQ's binding rule, causes kept, sharer chains without cycles,
guides leaving hand their members back to the store."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from portal.kernel.time import utcnow
from portal.members import services
from portal.members.models import Member, MemberBinding, MemberSettings
from portal.org.scope import scope_for
from tests import factories


def _rule(db, rule: str, days: int = 30) -> None:
    db.session.add(MemberSettings(id=1, binding_rule=rule, protect_days=days))
    db.session.flush()


def _history(db, member) -> list[tuple]:
    return db.session.execute(select(MemberBinding.store_id, MemberBinding.cause, MemberBinding.end_cause)
                              .where(MemberBinding.member_id == member.id)
                              .order_by(MemberBinding.started_at, MemberBinding.id)).all()


def test_first_binding_stays(org, db):
    _rule(db, "first")
    sh1, sh2 = org.stores["sh1"], org.stores["sh2"]
    m = factories.make_member(sh1, bound_at=utcnow() - timedelta(days=400))
    assert services.bind(sh2, [(m.id, None, "order", utcnow())]) == []
    db.session.expire_all()
    assert db.session.get(Member, m.id).store_id == sh1.id
    assert len(_history(db, m)) == 1


def test_latest_wins_and_the_cause_is_kept(org, db):
    _rule(db, "latest")
    sh1, sh2 = org.stores["sh1"], org.stores["sh2"]
    guide = factories.make_guide(sh2, "G2")
    m = factories.make_member(sh1)
    assert services.bind(sh2, [(m.id, guide.id, "share", utcnow())]) == [m.id]
    db.session.expire_all()
    got = db.session.get(Member, m.id)
    assert (got.store_id, got.guide_id, got.path) == (sh2.id, guide.id, sh2.path)
    assert _history(db, m) == [(sh1.id, "signup", "share"), (sh2.id, "share", None)]


def test_a_binding_is_protected_for_n_days_then_may_change(org, db):
    _rule(db, "protected", days=30)
    sh1, sh2 = org.stores["sh1"], org.stores["sh2"]
    start = utcnow() - timedelta(days=10)
    m = factories.make_member(sh1, bound_at=start)
    # Inside the 30 days: refused.
    assert services.bind(sh2, [(m.id, None, "order", start + timedelta(days=29))]) == []
    db.session.expire_all()
    assert db.session.get(Member, m.id).store_id == sh1.id
    assert services.protected_until(db.session.get(Member, m.id)) is not None
    # After them: allowed.
    assert services.bind(sh2, [(m.id, None, "order", start + timedelta(days=31))]) == [m.id]
    db.session.expire_all()
    assert db.session.get(Member, m.id).store_id == sh2.id
    assert [h[1] for h in _history(db, m)] == ["signup", "order"]


def test_a_manual_rebinding_always_applies_and_is_audited(org, db):
    from portal.audit.models import AuditEntry

    _rule(db, "first")
    sh1, sh2 = org.stores["sh1"], org.stores["sh2"]
    m = factories.make_member(sh1)
    g = factories.make_guide(sh2, "G7")
    east = org.users["east_admin"]
    assert services.rebind(scope_for(east), m, sh2, g, actor=east, note="顾客要求")
    db.session.commit()
    assert db.session.get(Member, m.id).guide_id == g.id
    assert _history(db, m)[-1] == (sh2.id, "manual", None)
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "member.rebind"))
    assert entry.object_label == f"#{m.id}"


def test_a_guide_of_the_same_store_completes_a_binding_under_any_rule(org, db):
    _rule(db, "first")
    sh1 = org.stores["sh1"]
    m = factories.make_member(sh1)
    g = factories.make_guide(sh1, "G1")
    assert services.bind(sh1, [(m.id, g.id, "signup", utcnow())]) == [m.id]
    db.session.expire_all()
    assert db.session.get(Member, m.id).guide_id == g.id


def test_self_referral_and_cycles_are_refused(org, db):
    sh1 = org.stores["sh1"]
    a, b, c = (factories.make_member(sh1) for _ in range(3))
    assert services.set_referrers([(a.id, a.id)]) == [a.id]
    assert services.set_referrers([(b.id, a.id), (c.id, b.id)]) == []
    # a -> c would close the circle c -> b -> a -> c.
    assert services.set_referrers([(a.id, c.id)]) == [a.id]
    # Inside one batch too.
    d, e = factories.make_member(sh1), factories.make_member(sh1)
    assert services.set_referrers([(d.id, e.id), (e.id, d.id)]) == [e.id]
    db.session.expire_all()
    assert db.session.get(Member, a.id).referrer_id is None
    assert db.session.get(Member, c.id).referrer_id == b.id
    assert db.session.get(Member, e.id).referrer_id is None


def test_the_first_sharer_stays(org, db):
    sh1 = org.stores["sh1"]
    a, b, c = (factories.make_member(sh1) for _ in range(3))
    services.set_referrers([(c.id, a.id)])
    services.set_referrers([(c.id, b.id)])
    db.session.expire_all()
    assert db.session.get(Member, c.id).referrer_id == a.id


def test_deactivating_a_guide_hands_their_members_back_to_the_store(org, db):
    sh1 = org.stores["sh1"]
    g, other = factories.make_guide(sh1, "G1"), factories.make_guide(sh1, "G2")
    served = [factories.make_member(sh1, guide=g) for _ in range(3)]
    kept = factories.make_member(sh1, guide=other)
    owner = org.users["owner1"]
    from tests.factories import sql_log

    with sql_log() as statements:
        assert services.set_guide_active(scope_for(owner), g, False, actor=owner) == 3
    assert len(statements) < 12
    db.session.commit()
    for m in served:
        got = db.session.get(Member, m.id)
        assert got.guide_id is None and got.store_id == sh1.id
        assert _history(db, m)[-1] == (sh1.id, "guide_left", None)
    assert db.session.get(Member, kept.id).guide_id == other.id
    # No longer a code the mini-program may bind to.
    assert services.guides_by_code(sh1, ["G1", "G2"]) == {"G2": other.id}


def test_binding_many_members_costs_a_bounded_number_of_statements(org, db):
    from tests.factories import sql_log

    _rule(db, "latest")
    sh1, sh2 = org.stores["sh1"], org.stores["sh2"]
    g = factories.make_guide(sh2, "G2")

    def run(n: int) -> int:
        members = [factories.make_member(sh1) for _ in range(n)]
        with sql_log() as statements:
            changed = services.bind(sh2, [(m.id, g.id, "order", utcnow()) for m in members])
        assert len(changed) == n
        return len(statements)

    assert run(200) <= run(3) + 1
