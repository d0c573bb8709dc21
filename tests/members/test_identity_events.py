"""member.signup / member.updated through the ingestion service: field errors, guide codes,
sharers, out-of-order updates, and a batch costing a bounded number of statements."""
from __future__ import annotations

from sqlalchemy import func, select

from portal.ingest.services import ingest
from portal.members.models import Member, MemberBinding, MemberIdentity
from tests import factories
from tests.factories import sql_log

AT = "2026-03-02T10:15:00+08:00"


def _ev(i, type_="member.signup", **data):
    return {"id": f"e{i}", "type": type_, "occurred_at": AT, "data": data}


def _member(db, openid):
    mid = db.session.scalar(select(MemberIdentity.member_id).where(MemberIdentity.openid == openid))
    return db.session.get(Member, mid) if mid else None


def test_signup_makes_the_member_bound_to_the_store_and_its_guide(org, db):
    sh1 = org.stores["sh1"]
    g = factories.make_guide(sh1, "G01", "小陈")
    res = ingest(sh1, [_ev(1, openid="oX", nickname="阿花", phone="13811112222", guide_code="G01")])
    assert res[0]["status"] == "applied", res
    m = _member(db, "oX")
    assert (m.store_id, m.guide_id, m.nickname, m.phone_masked) == (sh1.id, g.id, "阿花", "138****2222")
    assert db.session.scalar(select(MemberBinding.cause).where(MemberBinding.member_id == m.id)) == "signup"


def test_bad_fields_are_rejected_by_name_and_the_good_events_applied(org, db):
    sh1 = org.stores["sh1"]
    res = ingest(sh1, [_ev(1, openid="oA", phone="12345"), _ev(2, openid="oB", guide_code="NOPE"),
                       _ev(3, openid="oC", sharer_openid="oC"), _ev(4, nickname="x"),
                       _ev(5, openid="o" * 65), _ev(6, openid="oOK")])
    assert [r["status"] for r in res] == ["rejected"] * 5 + ["applied"]
    assert [r["error"]["field"] for r in res[:5]] == ["data.phone", "data.guide_code", "data.sharer_openid",
                                                      "data.openid", "data.openid"]
    assert _member(db, "oB") is None and _member(db, "oC") is None and _member(db, "oOK") is not None


def test_a_share_sets_the_referrer_and_the_binding_cause(org, db):
    sh1 = org.stores["sh1"]
    ingest(sh1, [_ev(1, openid="oS", nickname="分享人")])
    ingest(sh1, [_ev(2, openid="oN", sharer_openid="oS")])
    new, sharer = _member(db, "oN"), _member(db, "oS")
    assert new.referrer_id == sharer.id
    assert db.session.scalar(select(MemberBinding.cause).where(MemberBinding.member_id == new.id)) == "share"


def test_updated_for_an_unknown_openid_makes_the_member_and_then_updates_it(org, db):
    sh1 = org.stores["sh1"]
    res = ingest(sh1, [_ev(1, "member.updated", openid="oLate", nickname="先到的更新")])
    assert res[0]["status"] == "applied"
    assert _member(db, "oLate").nickname == "先到的更新"
    ingest(sh1, [_ev(2, "member.updated", openid="oLate", nickname="新昵称", phone="13600001234")])
    db.session.expire_all()
    m = _member(db, "oLate")
    assert (m.nickname, m.phone_masked) == ("新昵称", "136****1234")
    assert db.session.scalar(select(func.count()).select_from(Member)) == 1


def _statements(store, n: int, start: int) -> int:
    events = [_ev(start + i, openid=f"o{start + i}", unionid=f"u{start + i}", phone=f"139{start + i:08d}",
                  nickname=f"会员{i}") for i in range(n)]
    with sql_log() as statements:
        res = ingest(store, events)
    assert all(r["status"] == "applied" for r in res), res[:3]
    return len(statements)


def test_a_batch_of_signups_costs_a_bounded_number_of_statements(org, db):
    sh1 = org.stores["sh1"]
    small = _statements(sh1, 5, 0)
    big = _statements(sh1, 500, 1000)
    assert big <= small + 2, (small, big)
    assert big <= 25, big
    assert db.session.scalar(select(func.count()).select_from(Member)) == 505
