"""Moving a node rewrites the path of every row that belongs to what moved, in every table
that carries a tree path (portal/org/paths.py is the one list of them)."""
from datetime import timedelta

from sqlalchemy import inspect, select

from portal.assortments.models import Assortment
from portal.audit.models import AuditEntry
from portal.campaigns.models import Campaign
from portal.decoration.models import Template
from portal.extensions import db as _db
from portal.kernel.time import utcnow
from portal.live.models import LiveRoom, LiveRoomStore
from portal.media.models import MediaImage
from portal.members.models import Member, MemberGroup
from portal.orders.models import CommissionEntry, CommissionMonth, CommissionStatement, Order, OrderLine
from portal.org import paths
from portal.pushes.models import Push, PushReach
from portal.targets.models import Target
from tests import factories


def _path_columns() -> set[tuple[str, str]]:
    return {(table.name, col.name) for table in _db.metadata.tables.values() for col in table.columns
            if col.name == "path" or col.name.endswith("_path")}


def test_every_table_with_a_path_column_is_in_the_registry(app):
    registered = {(t.table, t.column) for t in paths.PATH_TABLES}
    missing = _path_columns() - registered
    assert not missing, f"tables carrying a tree path that move_node does not know about: {missing}"
    assert registered <= _path_columns(), "the registry names a table or column that does not exist"
    assert all(t.policy in (paths.MOVES, paths.STAYS) and t.why for t in paths.PATH_TABLES)


def _rows(place_path: str, tag: str) -> dict[str, object]:
    """One row of every path-carrying table (bar the tree itself) recorded at ``place_path``."""
    now = utcnow()
    return {
        "assortments": Assortment(name=f"货架{tag}", path=place_path),
        "templates": Template(name=f"模板{tag}", path=place_path, draft=[]),
        "campaigns": Campaign(kind="coupon", name=f"券{tag}", rules={}, starts_at=now, ends_at=now + timedelta(days=1),
                              path=place_path),
        "targets": Target(name=f"目标{tag}", path=place_path, spec={"everything": True}),
        "member_groups": MemberGroup(name=f"分组{tag}", kind="filter", path=place_path, spec={"segment": "new"}),
        "pushes": Push(kind="template", payload_id=0, label=f"推送{tag}", target_spec={}, path=place_path,
                       actor_name="x", state="done"),
        "audit_entries": AuditEntry(actor_name="x", action="store.update", object_type="store", path=place_path),
        "media_images": MediaImage(name=f"图{tag}", path=place_path,
                                   filename=f"{tag}{place_path}.jpg".replace("/", "_"),
                                   thumb=f"{tag}{place_path}.t.jpg".replace("/", "_"), width=1, height=1, size=1),
    }


def _sales(db, store, tag: str) -> dict[str, object]:
    """A member served by ``store``, one order of theirs there and its ledger entry."""
    now = utcnow()
    member = Member(nickname=f"会员{tag}", store_id=store.id, path=store.path)
    db.session.add(member)
    db.session.flush()
    order = Order(store_id=store.id, path=store.path, number=f"NO{tag}", member_id=member.id, goods_fen=100,
                  paid_fen=100, paid_at=now)
    db.session.add(order)
    db.session.flush()
    line = OrderLine(order_id=order.id, line_no=1, sku_code="S1", quantity=1, unit_fen=100, paid_fen=100)
    db.session.add(line)
    db.session.flush()
    entry = CommissionEntry(store_id=store.id, path=store.path, order_id=order.id, line_id=line.id,
                            beneficiary="store", beneficiary_store_id=store.id, rate_bp=500, base_fen=100,
                            amount_fen=5, payable_at=now)
    db.session.add(entry)
    if db.session.get(CommissionMonth, "2020-01") is None:
        db.session.add(CommissionMonth(month="2020-01", starts_at=now, ends_at=now))
        db.session.flush()
    statement = CommissionStatement(month="2020-01", store_id=store.id, path=store.path, beneficiary="store",
                                    holder_id=store.id)
    db.session.add(statement)
    db.session.flush()
    room = LiveRoom(store_id=store.id, path=store.path, title=f"直播{tag}", anchor="店长", scheduled_start=now,
                    scheduled_end=now + timedelta(hours=1))
    db.session.add(room)
    db.session.flush()
    entry_row = LiveRoomStore(room_id=room.id, store_id=store.id, path=store.path)
    db.session.add(entry_row)
    db.session.flush()
    return {"members": member, "orders": order, "commission_entries": entry, "commission_statements": statement,
            "live_rooms": room, "live_room_stores": entry_row}


def _key(row) -> tuple:
    """A row's primary key (one id, or (push id, path) for a push's reach)."""
    return inspect(row).identity


def _is(table, key: tuple, moving: str) -> list:
    """The row of ``key``, found by the part of its key that does not move (a reach's push id)."""
    return [column == value for column, value in zip(table.primary_key.columns, key, strict=True)
            if column.name != moving]


def test_move_node_moves_every_registered_row_inside_and_nothing_outside(client, login_as, org, db):
    r_sh, east, south = org.nodes["r_sh"], org.nodes["east"], org.nodes["south"]
    inside = {"org_nodes": r_sh, "stores": org.stores["sh1"],
              "products": factories.make_product(org.stores["sh1"], "LOCAL1"), **_rows(r_sh.path, "内")}
    outside = {"org_nodes": org.nodes["r_js"], "stores": org.stores["js1"],
               "products": factories.make_product(east, "EASTP1"), **_rows(east.path, "外")}
    for row in [*inside.values(), *outside.values()]:
        db.session.add(row)
    db.session.flush()
    # Where a push's stores hang: rows of their own push (they name it).
    inside["push_reaches"] = PushReach(push_id=inside["pushes"].id, path=r_sh.path, total=1, delivered=1)
    outside["push_reaches"] = PushReach(push_id=outside["pushes"].id, path=east.path, total=1, delivered=1)
    db.session.add_all([inside["push_reaches"], outside["push_reaches"]])
    db.session.flush()
    inside.update(_sales(db, org.stores["sh1"], "内"))
    outside.update(_sales(db, org.stores["js1"], "外"))
    # The test covers every table of the registry: a new one must be added here too.
    assert set(inside) == set(outside) == {t.table for t in paths.PATH_TABLES}
    ids = {name: (_key(row), _key(outside[name])) for name, row in inside.items()}
    old_path = r_sh.path
    db.session.commit()

    login_as("hq")
    r = client.post(f"/org/nodes/{r_sh.id}/edit", data={"action": "move", "move-parent_id": south.id})
    assert r.status_code == 302
    new_path = f"{south.path}{r_sh.id}/"
    for entry in paths.PATH_TABLES:
        table = _db.metadata.tables[entry.table]
        in_id, out_id = ids[entry.table]
        got_in = db.session.scalar(select(table.c[entry.column]).where(*_is(table, in_id, entry.column)))
        got_out = db.session.scalar(select(table.c[entry.column]).where(*_is(table, out_id, entry.column)))
        expected = new_path if entry.policy == paths.MOVES else old_path
        assert got_in.startswith(expected), (entry.table, got_in)
        assert got_out.startswith(east.path), (entry.table, got_out)     # rows above the moved node stay


def test_the_old_distributor_no_longer_opens_the_moved_stores_local_goods(client, login_as, org, db):
    local = factories.make_product(org.stores["sh1"], "LOCAL1", name="本店自营蛋糕")
    db.session.commit()
    login_as("east_admin")
    assert client.get(f"/goods/{local.id}").status_code == 200
    login_as("hq")
    r = client.post(f"/org/nodes/{org.nodes['r_sh'].id}/edit",
                    data={"action": "move", "move-parent_id": org.nodes["south"].id})
    assert r.status_code == 302
    login_as("east_admin")
    assert client.get(f"/goods/{local.id}").status_code == 404
    assert "本店自营蛋糕" not in client.get("/goods?q=本店").get_data(as_text=True)
    login_as("south_admin")
    assert client.get(f"/goods/{local.id}").status_code == 200


def test_a_push_follows_the_actor_it_belongs_to(client, login_as, org, db):
    """A push made at the old distributor stays its history; its moved stores leave its page.
    A push made by someone bound inside the moved region goes with that region."""
    r_sh, east = org.nodes["r_sh"], org.nodes["east"]
    theirs = Push(kind="template", payload_id=0, label="华东的推送", target_spec={}, path=east.path,
                  actor_name="east_admin", state="done")
    local = Push(kind="template", payload_id=0, label="上海区的推送", target_spec={}, path=r_sh.path,
                 actor_name="sh", state="done")
    db.session.add_all([theirs, local])
    db.session.commit()
    login_as("hq")
    client.post(f"/org/nodes/{r_sh.id}/edit", data={"action": "move", "move-parent_id": org.nodes["south"].id})
    login_as("east_admin")
    listing = client.get("/pushes").get_data(as_text=True)
    assert "华东的推送" in listing and "上海区的推送" not in listing
    login_as("south_admin")
    listing = client.get("/pushes").get_data(as_text=True)
    assert "上海区的推送" in listing and "华东的推送" not in listing


def test_a_store_re_hung_under_another_region_takes_its_own_goods(client, login_as, org, db):
    from portal.goods.models import Product

    sh1 = org.stores["sh1"]
    local = factories.make_product(sh1, "LOCAL1")
    db.session.commit()
    login_as("hq")
    form = {"code": "SH001", "name": sh1.name, "city": "上海", "address": "", "status": "active", "appid": "",
            "owner_name": "", "owner_phone": "", "tags": "", "node_id": org.nodes["r_gd"].id}
    r = client.post(f"/stores/{sh1.id}/edit", data=form)
    assert r.status_code == 302, r.get_data(as_text=True)[:400]
    assert db.session.get(Product, local.id).path == org.nodes["r_gd"].path
    login_as("east_admin")
    assert client.get(f"/goods/{local.id}").status_code == 404
    # ...and the same through the CSV import, back to 上海区.
    login_as("hq")
    from tests.org.test_store_csv import EN, csv_bytes, upload

    r = upload(client, csv_bytes(EN, "SH001,上海南京路店,上海,,R-SH,,,,,"))
    assert r.status_code == 303, r.get_data(as_text=True)[:400]
    db.session.expire_all()
    assert db.session.get(Product, local.id).path == org.nodes["r_sh"].path
