"""Rebinding and merging from the member's identity page, with and without htmx."""
from __future__ import annotations

from sqlalchemy import select

from portal.members.models import Member, MemberMerge
from portal.orders.models import Order
from tests import factories


def test_the_guide_picker_lists_the_typed_stores_active_guides(client, login_as, org, db):
    sh1, sh2 = org.stores["sh1"], org.stores["sh2"]
    m = factories.make_member(sh1)
    factories.make_guide(sh2, "G9", "徐家汇导购")
    factories.make_guide(sh2, "G8", "离职导购", active=False)
    db.session.commit()
    login_as("east_admin")
    r = client.get(f"/members/{m.id}/rebind?store_code=SH002", hx=True)
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "<html" not in html
    assert "徐家汇导购" in html and "离职导购" not in html
    r = client.get(f"/members/{m.id}/rebind?store_code=GD001", hx=True)
    assert 'data-field="store_code"' in r.get_data(as_text=True)      # outside 华东: unknown


def test_the_store_picker_finds_the_scopes_active_stores_and_choosing_one_lists_its_guides(client, login_as, org, db):
    import re

    sh1, sh2, gd1 = org.stores["sh1"], org.stores["sh2"], org.stores["gd1"]
    m = factories.make_member(sh1)
    factories.make_guide(sh2, "G9", "徐家汇导购")
    db.session.commit()
    login_as("east_admin")
    page = client.get(f"/members/{m.id}/identity").get_data(as_text=True)
    assert f'data-chosen-store="{sh1.code}"' in page and 'name="store_code"' in page
    assert f'hx-get="/members/{m.id}/rebind/stores"' in page          # a search, not a typed code

    def found(q: str) -> list[str]:
        r = client.get(f"/members/{m.id}/rebind/stores", query_string={"q": q}, hx=True)
        assert r.status_code == 200
        return re.findall(r'data-store-choice="([^"]+)"', r.get_data(as_text=True))

    assert found(sh2.name) == [sh2.code]
    assert found(sh2.code.lower()) == [sh2.code]                     # codes match in any case
    assert gd1.code not in found("") and found(gd1.name) == []       # 华南 is outside the scope
    assert "data-no-store" in client.get(f"/members/{m.id}/rebind/stores?q={gd1.name}", hx=True).get_data(as_text=True)
    # Choosing a store (the button's GET) shows the form with that store and its guides.
    r = client.get(f"/members/{m.id}/rebind", query_string={"store_code": sh2.code}, hx=True)
    html = r.get_data(as_text=True)
    assert f'data-chosen-store="{sh2.code}"' in html and "徐家汇导购" in html


def test_rebinding_by_hand_with_and_without_htmx(client, login_as, org, db):
    sh1, sh2 = org.stores["sh1"], org.stores["sh2"]
    m = factories.make_member(sh1)
    g = factories.make_guide(sh2, "G9", "徐家汇导购")
    db.session.commit()
    login_as("east_admin")
    r = client.post(f"/members/{m.id}/rebind", data={"store_code": "SH002", "guide_id": str(g.id), "note": "搬家"},
                    hx=True)
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "<html" not in html and "徐家汇导购" in html and 'data-cause="manual"' in html
    got = db.session.get(Member, m.id)
    assert (got.store_id, got.guide_id) == (sh2.id, g.id)
    # A store outside the scope, a guide of another store: refused beside the field, nothing written.
    r = client.post(f"/members/{m.id}/rebind", data={"store_code": "GD001", "guide_id": "", "note": ""})
    assert r.status_code == 422 and "<html" in r.get_data(as_text=True)
    other = factories.make_guide(sh1, "G1")
    db.session.commit()
    r = client.post(f"/members/{m.id}/rebind", data={"store_code": "SH002", "guide_id": str(other.id), "note": ""},
                    hx=True)
    assert r.status_code == 422 and 'data-field="guide_id"' in r.get_data(as_text=True)
    assert db.session.get(Member, m.id).guide_id == g.id
    r = client.post(f"/members/{m.id}/rebind", data={"store_code": "SH001", "guide_id": "", "note": ""})
    assert r.status_code == 303 and db.session.get(Member, m.id).store_id == sh1.id


def test_merge_and_undo_from_the_page(client, login_as, org, db):
    sh1 = org.stores["sh1"]
    a, b = factories.make_member(sh1, "王女士"), factories.make_member(sh1, "王女士小号")
    order = factories.make_order(sh1, b)
    db.session.commit()
    login_as("east_admin")
    r = client.get(f"/members/{a.id}/merge-candidates?q=小号", hx=True)
    assert f'data-candidate="{b.id}"' in r.get_data(as_text=True) and "<html" not in r.get_data(as_text=True)
    r = client.post(f"/members/{a.id}/merge", data={"absorbed_id": str(b.id), "reason": ""}, hx=True)
    assert r.status_code == 422 and 'data-field="reason"' in r.get_data(as_text=True)
    r = client.post(f"/members/{a.id}/merge", data={"absorbed_id": str(b.id), "reason": "同一手机号"}, hx=True)
    assert r.status_code == 200 and 'data-merge="' in r.get_data(as_text=True)
    assert db.session.get(Order, order.id).member_id == a.id
    merge = db.session.scalar(select(MemberMerge))
    r = client.post(f"/merges/{merge.id}/undo")
    assert r.status_code == 303
    assert db.session.get(Order, order.id).member_id == b.id and db.session.get(Member, b.id).status == "active"
    # Undoing twice: a message, not a 500.
    r = client.post(f"/merges/{merge.id}/undo", hx=True)
    assert r.status_code == 422


def test_a_member_of_another_subtree_cannot_be_merged_in(client, login_as, org, db):
    a = factories.make_member(org.stores["sh1"])
    foreign = factories.make_member(org.stores["gd1"])
    db.session.commit()
    login_as("east_admin")
    r = client.post(f"/members/{a.id}/merge", data={"absorbed_id": str(foreign.id), "reason": "x"})
    assert r.status_code == 422
    assert db.session.get(Member, foreign.id).status == "active"


def test_merge_candidates_without_htmx_is_the_whole_page(client, login_as, org, db):
    a, b = factories.make_member(org.stores["sh1"], "王女士"), factories.make_member(org.stores["sh1"], "王女士小号")
    db.session.commit()
    login_as("hq")
    r = client.get(f"/members/{a.id}/merge-candidates?q=小号")
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "<html" in html and f'data-candidate="{b.id}"' in html
    assert "HX-Request" in r.headers.get("Vary", "")
