"""The store picker (issue 9 point 4): stores picked in the dialog and "all N matching" searches
are added on top of the tree's organizations, saved as store ids and store-list filters, and
never reach a store outside the actor's scope, however the ids are forged."""
import re

from sqlalchemy import select

from portal.org.scope import scope_for
from portal.pushes import services as pushes
from portal.pushes.models import Push
from portal.targets import services
from portal.targets.models import Target
from portal.targets.services import TargetSpec
from tests import factories


def _reach(html: str) -> int:
    m = re.search(r'data-reach="(\d+)"', html)
    return int(m.group(1)) if m else -1


def _suzhou(org, n=12):
    """n stores in 苏州 under 江苏区 (east), every third one suspended."""
    for i in range(n):
        factories.make_store(org.nodes["r_js"], f"SZ{i:03d}", name=f"苏州观前街{i}号店", city="苏州",
                             status="suspended" if i % 3 == 2 else "active")


def test_picked_stores_and_searches_add_on_top_of_the_tree(app, db, org):
    _suzhou(org)
    db.session.commit()
    hq = scope_for(org.users["hq"])
    r_sh, gd1, js1 = org.nodes["r_sh"].id, org.stores["gd1"].id, org.stores["js1"].id
    assert services.count(hq, TargetSpec(node_ids=[r_sh])) == 2
    # 上海区 (2) OR two picked stores of other regions: 4, where the AND of kinds would give 0.
    assert services.count(hq, TargetSpec(node_ids=[r_sh], store_ids=[gd1, js1])) == 4
    assert services.count(hq, TargetSpec(store_ids=[gd1, js1, org.stores["sh1"].id])) == 3
    # A search: 苏州, open stores only by the target's own rule (8 of 12 are open).
    flt = {"q": "苏州", "node": None, "status": "", "tag": ""}
    assert services.count(hq, TargetSpec(filters=[flt])) == 8
    assert services.count(hq, TargetSpec(filters=[flt], active_only=False)) == 12
    assert services.count(hq, TargetSpec(filters=[dict(flt, status="suspended")], active_only=False)) == 4
    # Tree + picked + search, minus an exclusion; counts() of the list says the same as count().
    spec = TargetSpec(node_ids=[r_sh], store_ids=[gd1], filters=[flt], exclude_codes=["SZ000"])
    assert services.count(hq, spec) == 2 + 1 + 7
    assert services.counts(hq, {1: spec, 2: TargetSpec(store_ids=[gd1])}) == {1: 10, 2: 1}
    # The preview names each part (a search by what it looks for).
    with app.test_request_context():
        reach = services.reach(hq, spec)
    assert [p.values for p in reach.parts if p.field == "filters"] == [["“苏州”"]]
    assert reach.count == 10 and {p.field: p.count for p in reach.parts} == {
        "node_ids": 2, "store_ids": 1, "filters": 8}


def test_forged_ids_and_foreign_regions_never_reach_outside_the_scope(app, db, org):
    east = scope_for(org.users["east_admin"])
    gd1, sh1 = org.stores["gd1"].id, org.stores["sh1"].id
    r_gd = org.nodes["r_gd"].id
    assert services.count(east, TargetSpec(store_ids=[gd1, 2**31 - 1])) == 0
    assert services.count(east, TargetSpec(store_ids=[gd1, sh1])) == 1
    assert services.count(east, TargetSpec(filters=[{"q": "", "node": r_gd, "status": "", "tag": ""}])) == 0
    assert services.count(east, TargetSpec(filters=[{"q": "广州", "node": None, "status": "", "tag": ""}])) == 0
    assert services.unknown_store_ids(east, [gd1, sh1]) == [gd1]
    hq_user = org.users["hq"]
    _t, v1 = factories.make_template_version(hq_user)
    db.session.commit()
    # Even a push built straight from a forged spec delivers only inside the scope.
    push = pushes.create_push(east, "template", v1.id, "v1", TargetSpec(store_ids=[sh1], node_ids=[r_gd]),
                              actor=org.users["east_admin"])
    db.session.commit()
    assert db.session.get(Push, push.id).delivered == 1


def test_saving_a_target_from_the_picker_keeps_ids_and_filters(client, login_as, org, db):
    _suzhou(org)
    db.session.commit()
    login_as("east_admin")
    r = client.post("/targets/new", data={
        "name": "上海区加苏州", "node_ids": [str(org.nodes["r_sh"].id)],
        "store_ids": [str(org.stores["js1"].id)], "filters": ["q=苏州&status=active&sort=name&page=3"],
        "active_only": "y"})
    assert r.status_code == 302, r.get_data(as_text=True)[:2000]
    target = db.session.scalar(select(Target).where(Target.name == "上海区加苏州"))
    assert target.spec["store_ids"] == [org.stores["js1"].id]
    assert target.spec["filters"] == [{"q": "苏州", "node": None, "status": "active", "tag": ""}]  # no sort, no page
    assert services.count(scope_for(org.users["east_admin"]), TargetSpec.from_dict(target.spec)) == 2 + 1 + 8
    # The editor shows them again: the chip of the store, the chip of the search, the tree ticked.
    html = client.get(f"/targets/{target.id}/edit").get_data(as_text=True)
    assert f'data-chip-store="{org.stores["js1"].id}"' in html and "南京新街口店" in html
    assert 'name="filters" value="q=%E8%8B%8F%E5%B7%9E&amp;status=active"' in html and "“苏州” · 营业中" in html
    assert re.search(rf'name="node_ids" value="{org.nodes["r_sh"].id}" data-tree-check checked', html)
    # The list counts it like the editor does.
    assert re.search(r"上海区加苏州</a></td>\s*<td[^>]*>11 家门店", client.get("/targets").get_data(as_text=True))


def test_forged_store_ids_or_filters_are_refused_beside_the_field(client, login_as, org, db):
    login_as("east_admin")
    for data, field in (({"store_ids": [str(org.stores["gd1"].id)]}, "store_ids"),
                        ({"store_ids": ["12abc"]}, "store_ids"),
                        ({"filters": [f"node={org.nodes['r_gd'].id}"]}, "filters")):
        r = client.post("/targets/new", data={"name": "伪造", "node_ids": [str(org.nodes["r_sh"].id)], **data})
        body = r.get_data(as_text=True)
        assert r.status_code == 422, body[:1000]
        assert f'data-field="{field}"' in body and "广州天河店" not in body
    assert db.session.scalar(select(Target).where(Target.name == "伪造")) is None
    # The preview says the same and counts only what the scope holds.
    body = client.get(f"/targets/preview?store_ids={org.stores['gd1'].id}&store_ids={org.stores['sh1'].id}"
                      "&active_only=y", hx="reach").get_data(as_text=True)
    assert _reach(body) == 1 and "不在您管理的组织范围内" in body and "广州天河店" not in body


def test_an_old_or_bad_spec_of_ids_and_filters_never_fails(app, db, org):
    spec = TargetSpec.from_dict({"store_ids": ["x", -3, True, 2**40, org.stores["sh1"].id, org.stores["sh1"].id],
                                 "filters": ["q=a", {"q": ""}, {"q": "苏州", "status": "gone", "node": "x"}, 7,
                                             {"q": "苏州", "status": "gone", "node": "x"}]})
    assert spec.store_ids == [org.stores["sh1"].id]
    assert spec.filters == [{"q": "苏州", "node": None, "status": "", "tag": ""}]
    assert services.count(scope_for(org.users["hq"]), spec) == 1


def test_the_form_shows_the_tree_with_counts_and_the_dialog(client, login_as, org, db):
    _suzhou(org, 3)
    db.session.commit()
    login_as("east_admin")
    html = client.get("/targets/new").get_data(as_text=True)
    # east's tree: the root (its whole subtree, the "everything" box) and its two regions.
    label = r'data-tree-check\s*>\s*<span class="form-check-label">'
    assert re.search(r'name="everything" value="y" ' + label + "华东经销商", html)
    assert re.search(rf'value="{org.nodes["r_js"].id}" ' + label + "江苏区</span>"
                     r'\s*</label>\s*<span class="picker-count text-secondary" data-node-count="4">', html)
    assert "广东区" not in html
    assert 'id="store-picker"' in html and "粘贴门店编码" in html and 'name="store_codes"' in html


def test_the_dialog_searches_filters_and_pages_inside_the_scope(client, login_as, org, db):
    _suzhou(org, 12)
    db.session.commit()
    login_as("east_admin")
    r = client.get("/targets/stores?pick_q=苏州", hx="pick-rows")
    body = r.get_data(as_text=True)
    assert r.status_code == 200 and "<html" not in body and "HX-Request" in r.headers["Vary"]
    assert 'data-pick-total="12"' in body and body.count("data-pick ") == 10      # ten a page
    assert 'data-filter="q=%E8%8B%8F%E5%B7%9E"' in body and 'data-label="“苏州”"' in body
    body = client.get("/targets/stores?pick_q=苏州&pick_page=2", hx="pick-rows").get_data(as_text=True)
    assert body.count("data-pick ") == 2
    body = client.get("/targets/stores?pick_status=suspended&pick_node=" + str(org.nodes["r_js"].id),
                      hx="pick-rows").get_data(as_text=True)
    assert 'data-pick-total="4"' in body and "江苏区 · 已暂停" in body
    # Another part of the tree is not there, by search or by its region's id.
    body = client.get("/targets/stores?pick_q=广州", hx="pick-rows").get_data(as_text=True)
    assert 'data-pick-total="0"' in body
    body = client.get(f"/targets/stores?pick_node={org.nodes['r_gd'].id}", hx="pick-rows").get_data(as_text=True)
    assert 'data-pick-total="0"' in body and "data-pick-all" not in body
    # Without htmx it is a page of its own.
    full = client.get("/targets/stores?pick_q=苏州").get_data(as_text=True)
    assert "<html" in full and "苏州观前街0号店" in full


def test_many_picked_stores_are_all_kept_when_the_form_is_shown_again(client, login_as, org, db):
    from portal.org.models import Store
    from portal.targets.forms import TargetFields

    _suzhou(org, TargetFields.CHIPS + 5)
    db.session.commit()
    login_as("hq")
    ids = list(db.session.scalars(select(Store.id).where(Store.code.like("SZ%")).order_by(Store.code)))
    target = services.save_target(scope_for(org.users["hq"]), "许多门店", TargetSpec(store_ids=ids),
                                  actor=org.users["hq"])
    db.session.commit()
    html = client.get(f"/targets/{target.id}/edit").get_data(as_text=True)
    # A page of chips, the rest kept as values: saving again loses none.
    assert html.count("data-chip-store=") == TargetFields.CHIPS and 'data-chip-more="5"' in html
    posted = re.findall(r'name="store_ids" value="(\d+)"', html)
    assert sorted(map(int, posted)) == sorted(ids)


def test_the_dialog_takes_odd_parameters_without_failing(client, login_as, org):
    login_as("hq")
    for query in ("pick_page=99999999999&pick_q=上海", f"pick_node={2**63}", "pick_status=gone&pick_tag=" + "x" * 500,
                  "pick_sort=password_hash&pick_dir=desc", "pick_q=%25_%5C"):
        r = client.get(f"/targets/stores?{query}", hx="pick-rows")
        assert r.status_code == 200, query
    body = client.get("/targets/stores?pick_page=99999&pick_q=上海", hx="pick-rows").get_data(as_text=True)
    assert 'data-pick-total="2"' in body and "上海南京路店" in body          # the last page, not an empty one
