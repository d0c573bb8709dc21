"""A target is resolved inside the actor's scope only: a region, tag or store code of another
part of the tree is exactly as unknown as one that does not exist. Nothing a distributor does
with a target (saving it, previewing it, pushing with it) tells it anything about other stores."""
import re

from sqlalchemy import func, select

from portal.org.scope import scope_for
from portal.pushes import services as pushes
from portal.pushes.models import Delivery, Push
from portal.targets.models import Target
from portal.targets.services import TargetSpec
from tests import factories
from tests.factories import age_heartbeat

BIG = "9223372036854775808"        # one past the largest signed 64-bit id


def _reach(html: str) -> int:
    m = re.search(r'data-reach="(\d+)"', html)
    return int(m.group(1)) if m else -1


def _push_url(db, org) -> str:
    _t, version = factories.make_template_version(org.users["east_admin"])
    db.session.commit()
    return f"/templates/{version.template_id}/versions/{version.number}/push"


def _nothing_pushed(db) -> bool:
    return db.session.scalar(select(func.count()).select_from(Push)) == 0 and \
        db.session.scalar(select(func.count()).select_from(Delivery)) == 0


def test_east_pushing_south_region_code_or_tag_is_refused_as_unknown(client, login_as, org, db):
    url = _push_url(db, org)
    login_as("east_admin")
    gd = org.nodes["r_gd"].id
    r = client.post(url, data={"node_ids": [str(gd)], "active_only": "y"})
    body = r.get_data(as_text=True)
    assert r.status_code == 422
    assert f"Unknown region or distributor: {gd}" in body or f"未知的区域或经销商：{gd}" in body
    assert 'data-field="node_ids"' in body and "广东区" not in body and "GD001" not in body

    r = client.post(url, data={"store_codes": "SH001, GD001", "active_only": "y"})
    body = r.get_data(as_text=True)
    assert r.status_code == 422 and 'data-field="store_codes"' in body and "GD001" in body
    assert "SH001" not in re.search(r'data-field="store_codes">([^<]*)<', body).group(1)

    # 商场店 is carried only by a south store: to east there is no such tag.
    r = client.post(url, data={"tags": ["商场店"], "active_only": "y"})
    body = r.get_data(as_text=True)
    assert r.status_code == 422 and 'data-field="tags"' in body and "商场店" in body
    assert _nothing_pushed(db)


def test_unknown_and_foreign_codes_get_the_same_answer(client, login_as, org, db):
    url = _push_url(db, org)
    login_as("east_admin")
    foreign = client.post(url, data={"store_codes": "GD001"}).get_data(as_text=True)
    unknown = client.post(url, data={"store_codes": "ZZ001"}).get_data(as_text=True)
    message = re.compile(r'data-field="store_codes">([^<]*)<')
    assert message.search(foreign).group(1).replace("GD001", "X") == message.search(unknown).group(1).replace(
        "ZZ001", "X"
    )
    # The preview answers the same too, and the same as for a region id that does not exist.
    pf = client.get("/targets/preview?store_codes=GD001", hx="reach").get_data(as_text=True)
    pu = client.get("/targets/preview?store_codes=ZZ001", hx="reach").get_data(as_text=True)
    assert pf.replace("GD001", "X") == pu.replace("ZZ001", "X")
    gd, nobody = org.nodes["r_gd"].id, 987654
    nf = client.get(f"/targets/preview?node_ids={gd}", hx="reach").get_data(as_text=True)
    nu = client.get(f"/targets/preview?node_ids={nobody}", hx="reach").get_data(as_text=True)
    assert nf.replace(str(gd), "X") == nu.replace(str(nobody), "X")
    assert _nothing_pushed(db)


def test_preview_never_counts_stores_outside_the_scope(client, login_as, org, db):
    for i in range(7):
        factories.make_store(org.nodes["r_gd"], f"GDX{i}", tags=["直营"])
    factories.make_store(org.nodes["r_sh"], "SHX1", tags=["直营"])
    db.session.commit()
    login_as("east_admin")
    body = client.get(f"/targets/preview?node_ids={org.nodes['south'].id}&node_ids={org.nodes['r_gd'].id}"
                      "&active_only=y", hx="reach").get_data(as_text=True)
    assert _reach(body) == 0 and "GD" not in body and "8" not in body and "outside" not in body
    body = client.get("/targets/preview?tags=直营&active_only=y", hx="reach").get_data(as_text=True)
    assert _reach(body) == 1 and "SHX1" in body and "GDX" not in body
    body = client.get("/targets/preview?everything=y&store_codes=GDX1,GDX2", hx="reach").get_data(as_text=True)
    assert _reach(body) == 0 and "GDX1" in body          # named back as unknown, nothing counted
    assert "data-part-count=\"0\"" in body


def test_a_store_that_left_the_subtree_is_not_listed_on_the_push_page(client, login_as, org, db, app):
    east = org.users["east_admin"]
    _t, v1 = factories.make_template_version(east)
    db.session.commit()
    with factories.jobs_dropped():
        push = pushes.create_push(scope_for(east), "template", v1.id, "v1",
                                  TargetSpec(node_ids=[org.nodes["east"].id]), actor=east)
    pushes.run_push(push.id, max_batches=0)            # planned: SH001, SH002, JS001 pending
    assert db.session.scalar(select(func.count()).where(Delivery.push_id == push.id)) == 3

    login_as("hq")                               # 上海区 moves from 华东 to 华南
    r = client.post(f"/org/nodes/{org.nodes['r_sh'].id}/edit",
                    data={"action": "move", "move-parent_id": org.nodes["south"].id})
    assert r.status_code == 302
    age_heartbeat(push.id)                       # the first runner "crashed"; a new run takes over
    pushes.run_push(push.id)
    db.session.expire_all()
    outcomes = dict(db.session.execute(
        select(Delivery.store_id, Delivery.reason).where(Delivery.push_id == push.id)).all())
    # The moved stores were planned before they left: they are skipped, never delivered.
    assert outcomes[org.stores["sh1"].id] == "out_of_scope" and outcomes[org.stores["js1"].id] == ""
    assert db.session.get(Push, push.id).delivered == 1

    login_as("east_admin")
    page = client.get(f"/pushes/{push.id}").get_data(as_text=True)
    assert "JS001" in page and "SH001" not in page and "上海南京路店" not in page
    for q in ("SH001", "上海"):
        rows = client.get(f"/pushes/{push.id}?q={q}", hx="delivery-rows").get_data(as_text=True)
        assert "SH001" not in rows and "SH002" not in rows
    rows = client.get(f"/pushes/{push.id}?outcome=skipped&page=1", hx="delivery-rows").get_data(as_text=True)
    assert "SH00" not in rows
    # HQ sees the whole record, with the reason.
    login_as("hq")
    assert "SH001" in client.get(f"/pushes/{push.id}").get_data(as_text=True)


def test_saved_target_refuses_foreign_and_out_of_range_ids(client, login_as, org, db):
    login_as("east_admin")
    for value in (str(org.nodes["r_gd"].id), BIG, "abc", "-3"):
        r = client.post("/targets/new", data={"name": "坏", "node_ids": [value]})
        body = r.get_data(as_text=True)
        assert r.status_code == 422, value
        assert 'data-field="node_ids"' in body and value in body
    r = client.post("/targets/new", data={"name": "坏", "tags": ["商场店"]})
    assert r.status_code == 422 and 'data-field="tags"' in r.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Target)) == 0
    r = client.get(f"/targets/preview?node_ids={BIG}&node_ids=abc", hx="reach")
    assert r.status_code == 200 and BIG in r.get_data(as_text=True) and _reach(r.get_data(as_text=True)) == -1


def test_an_old_bad_saved_spec_never_breaks_the_pages(client, login_as, org, db):
    east = org.nodes["east"]
    bad = [{"node_ids": [int(BIG)], "everything": True},
           {"node_ids": ["x", None, {"a": 1}, -1, 2.5], "tags": 7, "store_codes": "SH001"},
           ["not", "a", "dict"]]
    ids = []
    for i, spec in enumerate(bad):
        t = Target(name=f"旧{i}", path=east.path, spec=spec)
        db.session.add(t)
        db.session.flush()
        ids.append(t.id)
    db.session.commit()
    for user in ("east_admin", "hq"):
        login_as(user)
        r = client.get("/targets")
        assert r.status_code == 200 and "旧0" in r.get_data(as_text=True)
        for tid in ids:
            assert client.get(f"/targets/{tid}/edit").status_code == 200
            assert client.get(f"/targets/preview?target_id={tid}", hx="reach").status_code == 200
    # Reading keeps what can be read: "everything" still reaches east's three stores.
    login_as("east_admin")
    body = client.get("/targets").get_data(as_text=True)
    assert re.search(r"旧0</a></td>\s*<td[^>]*>3 家门店", body)
