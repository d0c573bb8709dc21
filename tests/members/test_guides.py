"""The owner's guides page (phone-first): add, refuse a bad or taken code beside the field,
deactivate (members back to the store), reactivate; managers read it; other stores' guides 404."""
from __future__ import annotations

from sqlalchemy import select

from portal.members.models import Guide, Member
from tests import factories


def test_owner_adds_a_guide_and_sees_member_counts(client, login_as, org, db):
    sh1 = org.stores["sh1"]
    g = factories.make_guide(sh1, "G01", "小陈")
    for _ in range(3):
        factories.make_member(sh1, guide=g)
    factories.make_member(sh1)
    db.session.commit()
    login_as("owner1")
    html = client.get("/my/guides").get_data(as_text=True)
    assert "<html" in html and "小陈" in html and 'data-members="3"' in html and 'data-unguided="1"' in html
    r = client.post("/my/guides", data={"name": "小李", "code": "G02", "phone": "13912345678"}, hx=True)
    assert r.status_code == 200 and "<html" not in r.get_data(as_text=True)
    assert "小李" in r.get_data(as_text=True) and "139****5678" in r.get_data(as_text=True)
    guide = db.session.scalar(select(Guide).where(Guide.code == "G02"))
    assert guide.store_id == sh1.id and guide.phone_masked == "139****5678"
    # Without htmx: a redirect back to the page.
    r = client.post("/my/guides", data={"name": "小赵", "code": "G03", "phone": ""})
    assert r.status_code == 303


def test_a_taken_or_bad_code_is_refused_beside_the_field(client, login_as, org, db):
    factories.make_guide(org.stores["sh1"], "G01")
    db.session.commit()
    login_as("owner1")
    r = client.post("/my/guides", data={"name": "小李", "code": "G01", "phone": ""}, hx=True)
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert 'data-field="code"' in html and "<html" not in html
    r = client.post("/my/guides", data={"name": "小李", "code": "G 9", "phone": "123"})
    assert r.status_code == 422 and "<html" in r.get_data(as_text=True)
    assert 'data-field="phone"' in r.get_data(as_text=True)
    assert db.session.scalar(select(Guide.id).where(Guide.name == "小李")) is None


def test_deactivating_from_the_page_hands_members_back(client, login_as, org, db):
    sh1 = org.stores["sh1"]
    g = factories.make_guide(sh1, "G01", "小陈")
    members = [factories.make_member(sh1, guide=g) for _ in range(2)]
    db.session.commit()
    login_as("owner1")
    r = client.post(f"/guides/{g.id}/active", data={"active": "0"}, hx=True)
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert 'data-active="no"' in html and "2" in html
    assert all(db.session.get(Member, m.id).guide_id is None for m in members)
    r = client.post(f"/guides/{g.id}/active", data={"active": "1"})
    assert r.status_code == 303 and db.session.get(Guide, g.id).active


def test_managers_read_guides_and_owners_of_other_stores_get_404(client, login_as, org, db):
    g = factories.make_guide(org.stores["sh1"], "G01", "小陈")
    db.session.commit()
    login_as("sh_manager")
    html = client.get(f"/stores/{org.stores['sh1'].id}/guides").get_data(as_text=True)
    assert "小陈" in html and "data-deactivate" not in html and "data-guide-form" not in html
    assert client.get(f"/stores/{org.stores['gd1'].id}/guides").status_code == 404
    login_as("owner_gd")
    assert client.post(f"/guides/{g.id}/active", data={"active": "0"}).status_code == 404
    assert db.session.get(Guide, g.id).active
    assert "小陈" not in client.get("/my/guides").get_data(as_text=True)
