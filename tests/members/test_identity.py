"""One ID: members found by openid, matched by unionid and verified phone, merges recorded and
undone exactly (identities, bindings and orders back to each side)."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from portal.kernel.crypto import decrypt
from portal.kernel.time import utcnow
from portal.members import services
from portal.members.models import Member, MemberBinding, MemberIdentity, MemberMerge
from portal.members.services import Person
from portal.orders.models import Order
from portal.org.scope import scope_for
from tests import factories


def _count(db, model, **where) -> int:
    stmt = select(func.count()).select_from(model)
    for k, v in where.items():
        stmt = stmt.where(getattr(model, k) == v)
    return db.session.scalar(stmt)


def test_resolve_creates_once_and_finds_again(org, db):
    sh1 = org.stores["sh1"]
    now = utcnow()
    ids = services.resolve(sh1, [Person("oA", nickname="小王", phone="13812341234"), Person("oB")],
                           cause="signup", at=now)
    again = services.resolve(sh1, [Person("oA"), Person("oB")], cause="order", at=now)
    assert ids == again and len(set(ids.values())) == 2
    member = db.session.get(Member, ids["oA"])
    assert member.store_id == sh1.id and member.path == sh1.path and member.nickname == "小王"
    # Encrypted at rest, found by its keyed hash, shown masked.
    assert "13812341234" not in (member.phone_enc or "") and decrypt(member.phone_enc) == "13812341234"
    assert member.phone_masked == "138****1234" and member.phone_hash
    assert _count(db, MemberBinding, member_id=member.id) == 1
    assert db.session.scalar(select(MemberBinding.cause).where(MemberBinding.member_id == member.id)) == "signup"


def test_a_unionid_makes_one_member_across_two_mini_programs(org, db):
    sh1, gd1 = org.stores["sh1"], org.stores["gd1"]
    sh1.appid, gd1.appid = "wx-sh", "wx-gd"
    now = utcnow()
    a = services.resolve(sh1, [Person("o-sh", unionid="U1")], cause="signup", at=now)["o-sh"]
    b = services.resolve(gd1, [Person("o-gd", unionid="U1")], cause="signup", at=now)["o-gd"]
    assert a == b
    assert {i.appid for i in db.session.scalars(select(MemberIdentity).where(MemberIdentity.member_id == a))} \
        == {"wx-sh", "wx-gd"}


def test_one_batch_makes_new_people_once_and_joins_known_ones(org, db):
    # New people, the same new person under two openids, and a person already known elsewhere:
    # each openid ends in the right member, with its identity, and a new member gets one binding.
    sh1, gd1 = org.stores["sh1"], org.stores["gd1"]
    sh1.appid, gd1.appid = "wx-sh", "wx-gd"
    now = utcnow()
    known = services.resolve(gd1, [Person("o-gd", unionid="U-known")], cause="signup", at=now)["o-gd"]
    ids = services.resolve(sh1, [Person("o-new1", nickname="甲", phone="13700001111"),
                                 Person("o-twin1", unionid="U-twin"), Person("o-twin2", unionid="U-twin"),
                                 Person("o-old", unionid="U-known"), Person("o-new2", nickname="乙")],
                           cause="signup", at=now, guides={}, causes={"o-new2": "share"})
    assert ids["o-old"] == known and ids["o-twin1"] == ids["o-twin2"]
    assert len({ids["o-new1"], ids["o-twin1"], ids["o-new2"], known}) == 4
    assert {i.openid: i.member_id for i in db.session.scalars(
        select(MemberIdentity).where(MemberIdentity.appid == "wx-sh"))} == {o: ids[o] for o in ids}
    new1, new2 = db.session.get(Member, ids["o-new1"]), db.session.get(Member, ids["o-new2"])
    assert (new1.nickname, new1.phone_masked, new1.store_id, new2.nickname) == ("甲", "137****1111", sh1.id, "乙")
    assert decrypt(new1.phone_enc) == "13700001111"
    assert [(b.cause, b.store_id) for b in db.session.scalars(
        select(MemberBinding).where(MemberBinding.member_id == ids["o-new2"]))] == [("share", sh1.id)]
    assert _count(db, MemberBinding, member_id=ids["o-twin1"]) == 1
    assert _count(db, MemberBinding, member_id=known) == 1          # matched, not rebound by resolve


def test_a_verified_phone_joins_mini_programs_without_a_shared_unionid(org, db):
    sh1, gd1 = org.stores["sh1"], org.stores["gd1"]
    sh1.appid, gd1.appid = "wx-sh", "wx-gd"
    now = utcnow()
    a = services.resolve(sh1, [Person("o-sh", phone="13900001111")], cause="signup", at=now)["o-sh"]
    b = services.resolve(gd1, [Person("o-gd", phone="13900001111")], cause="signup", at=now)["o-gd"]
    assert a == b


def test_a_match_joining_two_existing_members_is_a_recorded_merge(org, db):
    sh1, gd1 = org.stores["sh1"], org.stores["gd1"]
    sh1.appid, gd1.appid = "wx-sh", "wx-gd"
    now = utcnow()
    a = services.resolve(sh1, [Person("o-sh", unionid="U7")], cause="signup", at=now)["o-sh"]
    b = services.resolve(gd1, [Person("o-gd", phone="13700007777")], cause="signup", at=now)["o-gd"]
    assert a != b
    # gd1's mini-program now learns the unionid: the two are one person.
    got = services.resolve(gd1, [Person("o-gd", unionid="U7")], cause="order", at=now)["o-gd"]
    assert got == a
    merge = db.session.scalar(select(MemberMerge))
    assert (merge.survivor_id, merge.absorbed_id, merge.rule) == (a, b, "unionid")
    assert db.session.get(Member, b).status == "merged" and db.session.get(Member, b).merged_into_id == a


def _two_people(org, db):
    """Two members of one person seen by two stores, each with its order and sharer order."""
    sh1, gd1 = org.stores["sh1"], org.stores["gd1"]
    sh1.appid, gd1.appid = "wx-sh", "wx-gd"
    guide = factories.make_guide(gd1, "G1")
    a = factories.make_member(sh1, "上海的小李", openid="o-sh", unionid="U9",
                              bound_at=utcnow() - timedelta(days=10))
    b = factories.make_member(gd1, "", openid="o-gd", guide=guide)
    other = factories.make_member(gd1, "朋友")
    oa = factories.make_order(sh1, a)
    ob = factories.make_order(gd1, b, sharer_id=None)
    oc = factories.make_order(gd1, other, sharer_id=b.id)
    db.session.commit()
    return a, b, (oa, ob, oc)


def _snapshot(db, *members):
    out = {}
    for m in members:
        out[m.id] = {
            "identities": sorted(db.session.scalars(select(MemberIdentity.id).where(MemberIdentity.member_id == m.id))),
            "bindings": sorted(db.session.execute(
                select(MemberBinding.id, MemberBinding.ended_at, MemberBinding.end_cause)
                .where(MemberBinding.member_id == m.id)).all()),
            "orders": sorted(db.session.scalars(select(Order.id).where(Order.member_id == m.id))),
            "shared": sorted(db.session.scalars(select(Order.id).where(Order.sharer_id == m.id))),
            "member": db.session.execute(select(Member.nickname, Member.store_id, Member.guide_id, Member.status,
                                                Member.bound_at, Member.path).where(Member.id == m.id)).one(),
        }
    return out


def test_manual_merge_then_unmerge_gives_each_side_back_exactly_its_own(org, db):
    a, b, (oa, ob, oc) = _two_people(org, db)
    before = _snapshot(db, a, b)
    hq = org.users["hq"]
    merge = services.merge(scope_for(hq), a, b, rule="manual", reason="同一个人", actor=hq)
    db.session.commit()
    assert set(db.session.scalars(select(Order.id).where(Order.member_id == a.id))) == {oa.id, ob.id}
    assert db.session.scalar(select(Order.sharer_id).where(Order.id == oc.id)) == a.id
    assert _count(db, MemberIdentity, member_id=a.id) == 2 and _count(db, MemberIdentity, member_id=b.id) == 0
    assert db.session.get(Member, a.id).nickname == "上海的小李"
    # The first binding stays (HQ's default rule): b's open binding is closed by the merge.
    assert _count(db, MemberBinding, member_id=a.id) == 2
    assert db.session.scalar(select(func.count()).select_from(MemberBinding).where(
        MemberBinding.member_id == a.id, MemberBinding.ended_at.is_(None))) == 1
    assert merge.moved["rows"]["orders.member_id"] == [ob.id]

    services.unmerge(scope_for(hq), merge, actor=hq)
    db.session.commit()
    db.session.expire_all()
    assert _snapshot(db, a, b) == before
    assert db.session.get(MemberMerge, merge.id).undone_at is not None


def test_unionid_merge_then_unmerge_is_exact(org, db):
    a, b, _orders = _two_people(org, db)
    before = _snapshot(db, a, b)
    got = services.resolve(org.stores["gd1"], [Person("o-gd", unionid="U9")], cause="order", at=utcnow())
    assert got["o-gd"] == a.id
    merge = db.session.scalar(select(MemberMerge))
    assert merge.rule == "unionid" and merge.actor_id is None
    hq = org.users["hq"]
    services.unmerge(scope_for(hq), merge, actor=hq)
    db.session.commit()
    db.session.expire_all()
    after = _snapshot(db, a, b)
    # The unionid the mini-program reported stays known on b's identity; all else as before.
    assert after == before


def test_latest_wins_merge_takes_the_newer_binding_and_unmerge_restores_it(org, db):
    from portal.members.models import MemberSettings

    db.session.add(MemberSettings(id=1, binding_rule="latest", protect_days=0))
    a, b, _orders = _two_people(org, db)
    before = _snapshot(db, a, b)
    hq = org.users["hq"]
    merge = services.merge(scope_for(hq), a, b, rule="manual", reason="", actor=hq)
    db.session.commit()
    survivor = db.session.get(Member, a.id)
    assert survivor.store_id == org.stores["gd1"].id and survivor.path == org.stores["gd1"].path
    services.unmerge(scope_for(hq), merge, actor=hq)
    db.session.commit()
    db.session.expire_all()
    assert _snapshot(db, a, b) == before


def test_merge_refuses_self_and_inactive(app, org, db):
    import pytest

    from portal.kernel.errors import RuleError

    a, b, c = (factories.make_member(org.stores["sh1"]) for _ in range(3))
    hq = org.users["hq"]
    with app.test_request_context():
        with pytest.raises(RuleError):
            services.merge(scope_for(hq), a, a, rule="manual", reason="", actor=hq)
        services.merge(scope_for(hq), a, b, rule="manual", reason="", actor=hq)
        with pytest.raises(RuleError):
            services.merge(scope_for(hq), c, b, rule="manual", reason="", actor=hq)


def test_merging_a_person_who_brought_themself_keeps_the_chain_clean(org, db):
    sh1 = org.stores["sh1"]
    top, a, b, friend = (factories.make_member(sh1) for _ in range(4))
    services.set_referrers([(b.id, top.id), (a.id, b.id), (friend.id, b.id)])
    hq = org.users["hq"]
    merge = services.merge(scope_for(hq), a, b, rule="manual", reason="", actor=hq)
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Member, a.id).referrer_id == top.id
    assert db.session.get(Member, friend.id).referrer_id == a.id
    services.unmerge(scope_for(hq), merge, actor=hq)
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Member, a.id).referrer_id == b.id
    assert db.session.get(Member, friend.id).referrer_id == b.id
