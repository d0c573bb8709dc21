import re

import pytest
from sqlalchemy import func, select

from portal.audit.models import AuditEntry
from portal.org.models import Store
from tests import factories
from tests.conftest import login


def _codes(html: str) -> list[str]:
    return re.findall(r'<td class="text-secondary">([A-Z0-9-]+)</td>', html)


@pytest.fixture
def many(org, db):
    """60 more stores in 江苏区 so the list pages."""
    for i in range(60):
        factories.make_store(org.nodes["r_js"], f"JSX{i:03d}", name=f"苏州观前街{i}号店", city="苏州",
                             status="suspended" if i % 10 == 0 else "active", tags=["社区店"] if i % 3 == 0 else None)
    db.session.commit()
    return org


def test_list_full_page_and_htmx_partial(client, many):
    login(client, "hq")
    full = client.get("/stores")
    assert full.status_code == 200
    html = full.get_data(as_text=True)
    assert "<html" in html and 'id="store-rows"' in html
    assert "65" in html                               # 5 + 60 stores match
    assert "HX-Request" in full.headers.get("Vary", "")
    part = client.get("/stores?q=苏州", hx="store-rows")
    body = part.get_data(as_text=True)
    assert part.status_code == 200 and "<html" not in body
    assert len(_codes(body)) == 50 and all(c.startswith("JSX") for c in _codes(body))


def test_search_by_name_code_and_city(client, many):
    login(client, "sh_manager")
    assert _codes(client.get("/stores?q=南京路", hx="store-rows").get_data(as_text=True)) == ["SH001"]
    assert _codes(client.get("/stores?q=sh002", hx="store-rows").get_data(as_text=True)) == ["SH002"]
    # A regional manager's search never reaches outside the region.
    assert _codes(client.get("/stores?q=苏州", hx="store-rows").get_data(as_text=True)) == []


def test_filters_sort_and_pages(client, many):
    login(client, "hq")
    body = client.get("/stores?status=suspended", hx="store-rows").get_data(as_text=True)
    assert sorted(_codes(body)) == [f"JSX{i:03d}" for i in range(0, 60, 10)]
    body = client.get(f"/stores?node={many.nodes['r_sh'].id}", hx="store-rows").get_data(as_text=True)
    assert sorted(_codes(body)) == ["SH001", "SH002"]
    body = client.get("/stores?tag=社区店", hx="store-rows").get_data(as_text=True)
    assert len(_codes(body)) == 20
    desc = _codes(client.get("/stores?sort=code&dir=desc", hx="store-rows").get_data(as_text=True))
    assert desc[0] == "SO001" and desc == sorted(desc, reverse=True)
    page2 = _codes(client.get("/stores?page=2", hx="store-rows").get_data(as_text=True))
    page1 = _codes(client.get("/stores?page=1", hx="store-rows").get_data(as_text=True))
    assert len(page1) == 50 and len(page2) == 15 and not set(page1) & set(page2)
    # Unknown sort keys and silly pages fall back safely instead of reaching SQL.
    assert client.get("/stores?sort=password_hash;drop&page=-3", hx="store-rows").status_code == 200
    assert len(_codes(client.get("/stores?page=999", hx="store-rows").get_data(as_text=True))) == 15


def test_filter_on_a_node_outside_scope_shows_nothing(client, org):
    login(client, "east_admin")
    body = client.get(f"/stores?node={org.nodes['r_gd'].id}", hx="store-rows").get_data(as_text=True)
    assert _codes(body) == []


VALID = {"code": "SH100", "name": "上海静安寺店", "city": "上海", "address": "南京西路1号", "status": "active",
         "tags": "旗舰店, 新店", "appid": "wx0123456789abcdef", "owner_name": "张伟", "owner_phone": "13800138000"}


def test_create_store(client, org, db):
    login(client, "east_admin")
    r = client.post("/stores/new", data={**VALID, "node_id": org.nodes["r_sh"].id})
    assert r.status_code == 302
    store = db.session.scalar(select(Store).where(Store.code == "SH100"))
    assert store.path == org.nodes["r_sh"].path and sorted(store.tag_names) == ["新店", "旗舰店"]
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "上海静安寺店" in page and "wx0123456789abcdef" in page
    assert db.session.scalar(select(AuditEntry.action).where(AuditEntry.object_id == store.id)) == "store.create"


@pytest.mark.parametrize("field,value", [
    ("code", ""), ("code", "has space"), ("code", "X" * 33), ("name", ""), ("name", "长" * 101),
    ("appid", "wx123"), ("owner_phone", "12345"), ("status", "open"), ("tags", ",".join(f"t{i}" for i in range(11))),
])
def test_bad_store_input_shows_field_error_and_saves_nothing(client, org, db, field, value):
    login(client, "hq")
    before = db.session.scalar(select(func.count()).select_from(Store))
    r = client.post("/stores/new", data={**VALID, field: value, "node_id": org.nodes["r_sh"].id})
    assert r.status_code == 422
    assert f'data-field="{field}"' in r.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Store)) == before


def test_duplicate_code_and_region_outside_scope(client, org, db):
    login(client, "east_admin")
    r = client.post("/stores/new", data={**VALID, "code": "gd001", "node_id": org.nodes["r_sh"].id})
    assert r.status_code == 422 and 'data-field="code"' in r.get_data(as_text=True)
    r = client.post("/stores/new", data={**VALID, "node_id": org.nodes["r_gd"].id})
    assert r.status_code == 422 and 'data-field="node_id"' in r.get_data(as_text=True)
    assert db.session.scalar(select(Store).where(Store.code == "SH100")) is None


def test_edit_store_moves_it_and_keeps_fields(client, org, db):
    login(client, "east_admin")
    sh1 = org.stores["sh1"]
    form = client.get(f"/stores/{sh1.id}/edit").get_data(as_text=True)
    assert 'value="旗舰店"' in form
    data = {**VALID, "code": "SH001", "name": "上海南京路旗舰店", "node_id": org.nodes["r_js"].id, "tags": "旗舰店"}
    assert client.post(f"/stores/{sh1.id}/edit", data=data).status_code == 302
    db.session.expire_all()
    store = db.session.get(Store, sh1.id)
    assert store.name == "上海南京路旗舰店" and store.path == org.nodes["r_js"].path
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "store.update"))
    assert entry.details["changes"]["name"] == ["上海南京路店", "上海南京路旗舰店"]
    # ...and the regional manager of 上海区 no longer sees it.
    client.post("/logout")
    login(client, "sh_manager")
    assert client.get(f"/stores/{sh1.id}").status_code == 404


def test_suspend_and_close(client, org, db):
    login(client, "hq")
    sid = org.stores["gd1"].id
    assert client.post(f"/stores/{sid}/status", data={"status": "closed"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Store, sid).status == "closed"
    assert client.post(f"/stores/{sid}/status", data={"status": "bogus"}).status_code == 400


def test_bulk_all_matching_applies_to_the_filter_within_scope(client, many, db):
    login(client, "east_admin")
    r = client.post("/stores/bulk", data={"action": "closed", "all_matching": "1", "filter": "q=苏州"})
    assert r.status_code == 303 and "/stores?q=" in r.headers["Location"]
    db.session.expire_all()
    closed = set(db.session.scalars(select(Store.code).where(Store.status == "closed")))
    assert closed == {f"JSX{i:03d}" for i in range(60)}
    page = client.get("/stores?q=苏州").get_data(as_text=True)
    assert "60" in page


def test_bulk_tag(client, many, db):
    login(client, "hq")
    ids = [str(many.stores["sh1"].id), str(many.stores["gd1"].id)]
    client.post("/stores/bulk", data={"action": "tag", "tag": "试点", "ids": ids})
    body = client.get("/stores?tag=试点", hx="store-rows").get_data(as_text=True)
    assert sorted(_codes(body)) == ["GD001", "SH001"]
    r = client.post("/stores/bulk", data={"action": "tag", "tag": "", "ids": ids})
    assert r.status_code == 303  # back to the list with the reason flashed
    assert "1 to 32" in client.get("/stores").get_data(as_text=True) or "32" in client.get("/stores").get_data(
        as_text=True
    )


def test_store_owner_home_is_their_store(client, org):
    login(client, "owner1")
    html = client.get("/").get_data(as_text=True)
    assert "上海南京路店" in html and "广州天河店" not in html


def test_bulk_tag_refuses_separators(client, org, db):
    from portal.org.models import Tag

    login(client, "hq")
    client.post("/stores/bulk", data={"action": "tag", "tag": "夏季,新品", "ids": [str(org.stores["sh1"].id)]})
    assert db.session.scalar(select(Tag).where(Tag.name == "夏季,新品")) is None
    assert "分隔符" in client.get("/stores").get_data(as_text=True)


def test_the_filter_menus_read_in_one_statement_are_the_two_menus(app, org, db):
    """store_filter_menus answers what store_parent_choices and all_tags answer, for every
    user of the world, in one statement."""
    from portal.org import services
    from portal.org.scope import scope_for
    from tests.factories import sql_log

    for user in org.users.values():
        if user.store_id is not None:
            continue
        scope = scope_for(user)
        with sql_log() as statements:
            nodes, tags = services.store_filter_menus(scope)
        assert len(statements) == 1
        assert [tuple(r[:5]) for r in nodes] == [tuple(r) for r in services.store_parent_choices(scope)]
        assert tags == services.all_tags(scope) and tags


def test_the_bulk_menu_has_no_preselected_action_and_names_action_and_count(client, many, db):
    login(client, "hq")
    html = client.get("/stores").get_data(as_text=True)
    # The action is empty until one is chosen from the menu, and Apply is disabled until then.
    assert re.search(r'<input type="hidden" name="action" value="" data-bulk-action>', html)
    assert re.search(r'<button type="submit" class="btn btn-sm btn-primary" data-bulk-apply disabled>', html)
    assert "批量操作…" in html and "<option" not in html.split('id="bulk-form"')[1]
    # Each action carries the confirmation the page fills with the count ({n}).
    assert 'data-confirm-other="暂停营业 {n} 家门店？暂停后顾客无法在小程序下单' in html
    assert 'data-confirm-one="暂停营业 1 家门店？' in html and 'data-confirm-other="关闭 {n} 家门店？' in html


def test_a_bulk_post_without_an_action_changes_nothing_and_says_so(client, many, db):
    login(client, "hq")
    ids = [str(many.stores["sh1"].id), str(many.stores["gd1"].id)]
    r = client.post("/stores/bulk", data={"action": "", "ids": ids, "filter": "q=上海"})
    assert r.status_code == 303 and "/stores?q=" in r.headers["Location"]
    db.session.expire_all()
    assert {db.session.get(Store, int(i)).status for i in ids} == {"active"}
    assert "请先选择批量操作" in client.get("/stores").get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action.like("store.bulk%"))) == 0
