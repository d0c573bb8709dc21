import re

from sqlalchemy import select

from portal.org.scope import scope_for
from portal.targets import services
from portal.targets.models import Target
from portal.targets.services import TargetSpec
from tests import factories
from tests.conftest import login


def _reach(html: str) -> int:
    m = re.search(r'data-reach="(\d+)"', html)
    return int(m.group(1)) if m else -1


def test_resolution_is_one_query_per_spec_kind(app, db, org):
    hq = scope_for(org.users["hq"])
    factories.make_store(org.nodes["r_sh"], "SH003", status="suspended")
    db.session.commit()
    assert services.count(hq, TargetSpec(everything=True)) == 5
    assert services.count(hq, TargetSpec(everything=True, active_only=False)) == 6
    assert services.count(hq, TargetSpec(node_ids=[org.nodes["east"].id])) == 3
    assert services.count(hq, TargetSpec(tags=["旗舰店", "商场店"])) == 2
    assert services.count(hq, TargetSpec(store_codes=["sh002", "GD001"])) == 2
    # Different kinds combine with AND (the issue changed this from OR): east's stores tagged 商场店.
    spec = TargetSpec(node_ids=[org.nodes["east"].id], tags=["商场店"], exclude_codes=["SH001"])
    assert {s.code for s in services.sample(hq, spec)} == set()
    spec = TargetSpec(node_ids=[org.nodes["east"].id, org.nodes["south"].id], tags=["商场店"])
    assert {s.code for s in services.sample(hq, spec)} == {"GD001"}


def test_distributor_reach_stays_inside_its_subtree(app, db, org):
    east = scope_for(org.users["east_admin"])
    spec = TargetSpec(store_codes=["SH001", "GD001"])
    assert services.count(east, spec) == 1            # GD001 is south's: to east it does not exist
    assert services.unknown_codes(east, spec.store_codes) == ["GD001"]


def test_live_preview_partial(client, org):
    login(client, "east_admin")
    r = client.get(f"/targets/preview?node_ids={org.nodes['r_sh'].id}&active_only=y", hx="reach")
    body = r.get_data(as_text=True)
    assert r.status_code == 200 and "<html" not in body
    assert _reach(body) == 2 and "SH001" in body
    body = client.get("/targets/preview?store_codes=GD001,SH002&active_only=y", hx="reach").get_data(as_text=True)
    assert _reach(body) == 1 and "GD001" in body    # GD001 is south's: reported as an unknown code
    body = client.get("/targets/preview?store_codes=NOPE1", hx="reach").get_data(as_text=True)
    assert "NOPE1" in body


def test_save_edit_and_delete_a_target(client, org, db):
    login(client, "hq")
    r = client.post("/targets/new", data={"name": "华东旗舰店", "node_ids": [str(org.nodes["east"].id)],
                                          "tags": ["旗舰店"], "active_only": "y"})
    assert r.status_code == 302
    target = db.session.scalar(select(Target).where(Target.name == "华东旗舰店"))
    tid = target.id
    assert target.spec["node_ids"] == [org.nodes["east"].id] and target.spec["tags"] == ["旗舰店"]
    page = client.get("/targets").get_data(as_text=True)
    assert "华东旗舰店" in page
    r = client.post(f"/targets/{target.id}/edit", data={"name": "华东", "everything": "y", "store_codes": "NOPE"})
    assert r.status_code == 422 and "NOPE" in r.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Target, target.id).name == "华东旗舰店"          # nothing half-written
    r = client.post(f"/targets/{target.id}/edit", data={"name": "", "everything": ""})
    assert r.status_code == 422
    assert client.post(f"/targets/{tid}/delete").status_code == 302
    assert db.session.get(Target, tid) is None


def test_an_empty_target_is_refused(client, org, db):
    login(client, "hq")
    r = client.post("/targets/new", data={"name": "空"})
    assert r.status_code == 422
    assert db.session.scalar(select(Target)) is None


def test_targets_are_private_to_the_subtree(client, org, db):
    login(client, "south_admin")
    client.post("/targets/new", data={"name": "华南全部", "everything": "y"}, follow_redirects=True)
    tid = db.session.scalar(select(Target.id))
    client.post("/logout")
    login(client, "east_admin")
    assert "华南全部" not in client.get("/targets").get_data(as_text=True)
    assert client.get(f"/targets/{tid}/edit").status_code == 404
    assert client.post(f"/targets/{tid}/delete").status_code == 404
