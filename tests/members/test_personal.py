"""Personal data: the phone masked for every role but HQ admins, export of everything stored,
erasure that anonymises and keeps the order figures."""
from __future__ import annotations

import json

from sqlalchemy import select

from portal.audit.models import AuditEntry
from portal.kernel.time import utcnow
from portal.members import services
from portal.members.models import Member, MemberIdentity
from portal.members.services import Person
from portal.orders.models import Order
from portal.org.scope import scope_for
from tests import factories


def _member_with_phone(org, db):
    sh1 = org.stores["sh1"]
    ids = services.resolve(sh1, [Person("o-phone", unionid="U-P", phone="13812345678", nickname="王小姐")],
                           cause="signup", at=utcnow())
    member = db.session.get(Member, ids["o-phone"])
    order = factories.make_order(sh1, member, [("SKU1", 2, 1500)])
    db.session.commit()
    return member, order


def test_mask_phone():
    assert services.mask_phone("13812341234") == "138****1234"


def test_the_phone_is_plain_for_hq_and_masked_for_everyone_else(client, login_as, org, db):
    member, _order = _member_with_phone(org, db)
    url = f"/members/{member.id}/identity"
    login_as("hq")
    html = client.get(url).get_data(as_text=True)
    assert "13812345678" in html and 'data-phone="plain"' in html
    for role in ("east_admin", "sh_manager", "owner1"):
        login_as(role)
        html = client.get(url).get_data(as_text=True)
        assert "13812345678" not in html, role
        assert "138****5678" in html and 'data-phone="masked"' in html, role
    # Only HQ exports and erases.
    login_as("east_admin")
    assert client.get(f"/members/{member.id}/export.json").status_code == 403
    assert client.post(f"/members/{member.id}/erase").status_code == 403


def test_the_owner_cannot_open_another_stores_member(client, login_as, org, db):
    member, _order = _member_with_phone(org, db)
    login_as("owner_gd")
    assert client.get(f"/members/{member.id}/identity").status_code == 404
    login_as("owner1")
    assert client.get(f"/members/{member.id}/identity").status_code == 200


def test_export_contains_everything_about_the_person(client, login_as, org, db):
    member, order = _member_with_phone(org, db)
    login_as("hq")
    r = client.get(f"/members/{member.id}/export.json")
    assert r.status_code == 200 and "attachment" in r.headers["Content-Disposition"]
    data = json.loads(r.get_data(as_text=True))
    assert data["member"]["phone"] == "13812345678" and data["member"]["nickname"] == "王小姐"
    assert "phone_enc" not in data["member"] and "phone_hash" not in data["member"]
    assert [i["openid"] for i in data["related"]["member_identities.member_id"]] == ["o-phone"]
    assert [o["number"] for o in data["related"]["orders.member_id"]] == [order.number]
    assert data["related"]["order_lines"][0]["quantity"] == 2
    assert data["related"]["member_bindings.member_id"][0]["cause"] == "signup"


def test_erase_anonymises_and_keeps_the_order_figures(client, login_as, org, db):
    member, order = _member_with_phone(org, db)
    login_as("hq")
    page = client.get(f"/members/{member.id}/identity").get_data(as_text=True)
    assert "data-erase" in page and "data-confirm" in page
    r = client.post(f"/members/{member.id}/erase")
    assert r.status_code == 303
    got = db.session.get(Member, member.id)
    assert (got.nickname, got.status, got.phone_enc, got.phone_hash, got.phone_masked) == \
        ("已注销会员", "erased", None, None, "")
    identity = db.session.scalar(select(MemberIdentity).where(MemberIdentity.member_id == member.id))
    assert identity.openid.startswith("erased:") and identity.unionid is None
    kept = db.session.get(Order, order.id)
    assert (kept.member_id, kept.paid_fen) == (member.id, 3000)
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "member.erase"))
    text = json.dumps([entry.object_label, entry.details], ensure_ascii=False)
    assert "王小姐" not in text and "13812345678" not in text and "5678" not in text
    # The same openid reported again is a new person; the phone matches nobody any more.
    again = services.resolve(org.stores["sh1"], [Person("o-phone", phone="13812345678")], cause="signup",
                             at=utcnow())
    db.session.commit()
    assert again["o-phone"] != member.id
    html = client.get(f"/members/{member.id}/identity").get_data(as_text=True)
    assert "已注销会员" in html and "data-erase" not in html


def test_a_merged_members_page_leads_to_the_survivor(client, login_as, org, db):
    sh1 = org.stores["sh1"]
    a, b = factories.make_member(sh1, "甲"), factories.make_member(sh1, "乙")
    services.merge(scope_for(org.users["hq"]), a, b, rule="manual", reason="", actor=org.users["hq"])
    db.session.commit()
    login_as("owner1")
    r = client.get(f"/members/{b.id}/identity")
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/members/{a.id}/identity")
