from sqlalchemy import func, select

from portal.audit.models import AuditEntry
from portal.org.models import OrgNode, Store
from portal.org.scope import path_range
from tests.conftest import login


def _node(db, code):
    db.session.expire_all()
    return db.session.scalar(select(OrgNode).where(OrgNode.code == code))


def test_tree_page_shows_counts_per_node(client, org):
    login(client, "hq")
    html = client.get("/org").get_data(as_text=True)
    for name in ("品牌总部", "华东经销商", "上海区", "广东区"):
        assert name in html
    assert f'href="/stores?node={org.nodes["r_sh"].id}"' in html


def test_distributor_sees_only_its_subtree(client, org):
    login(client, "east_admin")
    html = client.get("/org").get_data(as_text=True)
    assert "上海区" in html and "江苏区" in html
    assert "广东区" not in html and "华南经销商" not in html


def test_hq_adds_a_region(client, org, db):
    login(client, "hq")
    r = client.post("/org/nodes/new", data={"parent_id": org.nodes["east"].id, "kind": "region",
                                            "code": "R-ZJ", "name": "浙江区"})
    assert r.status_code == 302
    node = _node(db, "R-ZJ")
    assert node.path == f"{org.nodes['east'].path}{node.id}/"
    assert node.depth == 2
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "node.create")).object_label.startswith(
        "浙江区"
    )


def test_region_cannot_hang_under_hq_and_codes_are_unique(client, org, db):
    login(client, "hq")
    r = client.post("/org/nodes/new", data={"parent_id": org.nodes["hq"].id, "kind": "region",
                                            "code": "R-X", "name": "X"})
    assert r.status_code == 422
    assert _node(db, "R-X") is None
    r = client.post("/org/nodes/new", data={"parent_id": org.nodes["east"].id, "kind": "region",
                                            "code": "r-sh", "name": "重复"})
    assert r.status_code == 422
    assert 'data-field="code"' in r.get_data(as_text=True)


def test_distributor_cannot_add_under_another_distributor(client, org, db):
    login(client, "east_admin")
    r = client.post("/org/nodes/new", data={"parent_id": org.nodes["south"].id, "kind": "region",
                                            "code": "R-NEW", "name": "新区"})
    assert r.status_code == 422      # not even a choice in the form
    assert _node(db, "R-NEW") is None


def test_rename(client, org, db):
    login(client, "east_admin")
    r = client.post(f"/org/nodes/{org.nodes['r_sh'].id}/edit", data={"action": "rename", "rename-name": "上海大区"})
    assert r.status_code == 302
    assert _node(db, "R-SH").name == "上海大区"


def test_moving_a_region_moves_its_stores_scope(client, org, db):
    """Move 上海区 from 华东 to 华南: its stores leave east_admin's scope and enter south_admin's."""
    login(client, "hq")
    r_sh = org.nodes["r_sh"]
    r = client.post(f"/org/nodes/{r_sh.id}/edit", data={"action": "move", "move-parent_id": org.nodes["south"].id})
    assert r.status_code == 302, r.get_data(as_text=True)
    moved = _node(db, "R-SH")
    south = _node(db, "D-SOUTH")
    assert moved.parent_id == south.id and moved.path == f"{south.path}{moved.id}/"
    store_paths = set(db.session.scalars(select(Store.path).where(Store.node_id == moved.id)))
    assert store_paths == {moved.path}
    # The set-based update reached every store under the region, and the audit trail moved too.
    assert db.session.scalar(select(func.count()).where(path_range(Store.path, south.path))) == 4
    client.post("/logout")

    login(client, "east_admin")
    assert client.get(f"/stores/{org.stores['sh1'].id}").status_code == 404
    client.post("/logout")
    login(client, "south_admin")
    assert client.get(f"/stores/{org.stores['sh1'].id}").status_code == 200
    # The regional manager bound to the region keeps seeing its stores.
    client.post("/logout")
    login(client, "sh_manager")
    assert client.get(f"/stores/{org.stores['sh1'].id}").status_code == 200


def test_a_node_cannot_move_under_itself_or_outside_scope(client, org, db):
    login(client, "east_admin")
    r = client.post(f"/org/nodes/{org.nodes['r_sh'].id}/edit",
                    data={"action": "move", "move-parent_id": org.nodes["south"].id})
    assert r.status_code == 422          # south is not a choice for east
    assert _node(db, "R-SH").parent_id == org.nodes["east"].id
    client.post("/logout")
    login(client, "hq")
    r = client.post(f"/org/nodes/{org.nodes['east'].id}/edit",
                    data={"action": "move", "move-parent_id": org.nodes["east"].id})
    assert r.status_code == 422
    assert _node(db, "D-EAST").parent_id == org.nodes["hq"].id


def test_subtree_query_is_one_indexed_range(app, org, db):
    """The scope condition compiles to a range on the indexed path column, no recursion."""
    from portal.org.scope import scope_for

    scope = scope_for(org.users["east_admin"])
    sql = str(select(Store.id).where(scope.stores()).compile(db.engine))
    assert "stores.path >=" in sql and "stores.path <" in sql
    codes = set(db.session.scalars(select(Store.code).where(scope.stores())))
    assert codes == {"SH001", "SH002", "JS001"}
    plan = " ".join(str(r) for r in db.session.execute(
        __import__("sqlalchemy").text(("EXPLAIN QUERY PLAN " if db.engine.dialect.name == "sqlite" else "EXPLAIN ")
                                      + str(select(Store.id).where(scope.stores()).compile(
                                          db.engine, compile_kwargs={"literal_binds": True})))))
    if db.engine.dialect.name == "sqlite":
        assert "USING INDEX" in plan or "USING COVERING INDEX" in plan, plan
