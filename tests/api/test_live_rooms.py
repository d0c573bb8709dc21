"""GET /api/v1/stores/<code>/live-rooms through the real app: the rooms a mini-program lists."""
from __future__ import annotations

from datetime import timedelta

from portal.extensions import db
from portal.kernel.time import utcnow
from portal.live.models import ENDED, EXPIRED, LIVE, MINIPROGRAM, NOT_STARTED, LiveRoom, LiveRoomGoods, LiveRoomStore
from portal.shelf.models import Listing
from tests import factories
from tests.campaigns.helpers import key


def _room(owner, *, title="春季新品直播", status=NOT_STARTED, starts_in=timedelta(hours=2), carried_by=(),
          goods=(), **kw) -> LiveRoom:
    """A store's room (``owner`` a Store) or a broadcast (an OrgNode) carried by ``carried_by``, as rows."""
    start = utcnow() + starts_in
    is_store = owner.__class__.__name__ == "Store"
    room = LiveRoom(store_id=owner.id if is_store else None, node_id=None if is_store else owner.id,
                    path=owner.path, title=title, anchor=kw.pop("anchor", "小王"), status=status,
                    scheduled_start=start, scheduled_end=start + timedelta(hours=2), **kw)
    db.session.add(room)
    db.session.flush()
    stores = ([owner] if is_store else []) + list(carried_by)
    db.session.add_all([LiveRoomStore(room_id=room.id, store_id=s.id, path=s.path) for s in stores])
    db.session.add_all([LiveRoomGoods(room_id=room.id, product_id=p.id, position=k) for k, p in enumerate(goods)])
    db.session.commit()
    return room


def _get(client, store, k, etag=None):
    headers = {"Authorization": f"Bearer {k}"}
    if etag:
        headers["If-None-Match"] = etag
    return client.get(f"/api/v1/stores/{store.code}/live-rooms", headers=headers)


def test_the_store_lists_its_upcoming_and_live_rooms_with_goods_at_its_prices(client, db, org):
    sh1, sh2 = org.stores["sh1"], org.stores["sh2"]
    latte = factories.make_product(org.nodes["hq"], "LATTE", name="拿铁", skus=2, list_price=1800, floor=1500,
                                   ceiling=2500)
    cake = factories.make_product(sh1, "CAKE", name="芝士蛋糕", category="甜点", skus=1, list_price=2600,
                                  floor=2600, ceiling=2600)
    db.session.add(Listing(store_id=sh1.id, sku_id=latte.skus[1].id, price=1600))
    live = _room(sh1, title="周末拿铁专场", status=LIVE, starts_in=timedelta(minutes=-30), goods=[cake, latte],
                 provider=MINIPROGRAM, provider_room_id="1024", cover_url="/media/i/cover.jpg",
                 options={"comments": False, "likes": True, "shelf": True, "replay": True, "sharing": True})
    upcoming = _room(sh1, title="新品预告", starts_in=timedelta(days=1))
    _room(sh1, title="上周直播", status=ENDED, starts_in=timedelta(days=-7), replay_url="https://example.com/r")
    _room(sh1, title="没开播", status=EXPIRED, starts_in=timedelta(days=-3))
    _room(sh1, title="过了时间还没被时钟改", starts_in=timedelta(hours=-5))     # 102 whose end has passed
    other = _room(sh2, title="徐家汇店的直播", status=LIVE, starts_in=timedelta(minutes=-10))

    r = _get(client, sh1, key(sh1))

    assert r.status_code == 200
    body = r.get_json()
    assert body["store"] == {"code": "SH001", "name": "上海南京路店"}
    assert [room["id"] for room in body["rooms"]] == [live.id, upcoming.id]      # live first; no other store's
    assert other.id not in {room["id"] for room in body["rooms"]}
    shown = body["rooms"][0]
    assert shown["title"] == "周末拿铁专场" and shown["anchor"] == "小王" and shown["cover"] == "/media/i/cover.jpg"
    assert shown["provider"] == "miniprogram" and shown["provider_room_id"] == "1024"
    assert shown["status"] == 101 and shown["status_label"] == "直播中" and shown["broadcast"] is False
    assert shown["options"]["comments"] is False and shown["options"]["sharing"] is True
    assert shown["scheduled_start"] == live.scheduled_start.isoformat()
    # The shelf in its order, each at this store's price (the lowest SKU's: sh1's own 16.00 for the latte)
    assert [(g["product"], g["name"], g["price"], g["price_fen"], g["list_price"]) for g in shown["goods"]] == [
        ("CAKE", "芝士蛋糕", "26.00", 2600, "26.00"), ("LATTE", "拿铁", "16.00", 1600, "18.00")]
    assert body["rooms"][1]["status_label"] == "未开始" and body["rooms"][1]["goods"] == []


def test_a_broadcast_shows_in_the_stores_that_carry_it_and_not_elsewhere(client, db, org):
    sh1, sh2, gd1 = org.stores["sh1"], org.stores["sh2"], org.stores["gd1"]
    latte = factories.make_product(org.nodes["hq"], "LATTE", name="拿铁", skus=1, list_price=1800, floor=1500,
                                   ceiling=2500)
    db.session.add(Listing(store_id=sh2.id, sku_id=latte.skus[0].id, price=1700))
    broadcast = _room(org.nodes["r_sh"], title="上海区品牌日", status=LIVE, starts_in=timedelta(minutes=-5),
                      carried_by=[sh1, sh2], goods=[latte])

    in_sh1 = _get(client, sh1, key(sh1)).get_json()["rooms"]
    in_sh2 = _get(client, sh2, key(sh2)).get_json()["rooms"]
    in_gd1 = _get(client, gd1, key(gd1)).get_json()["rooms"]

    assert [r["id"] for r in in_sh1] == [r["id"] for r in in_sh2] == [broadcast.id]
    assert in_sh1[0]["broadcast"] is True and in_sh1[0]["title"] == "上海区品牌日"
    # Each carrying store shows the goods at its own price
    assert in_sh1[0]["goods"][0]["price"] == "18.00" and in_sh2[0]["goods"][0]["price"] == "17.00"
    assert in_gd1 == []


def test_etag_gives_304_until_a_room_changes(client, db, org):
    sh1 = org.stores["sh1"]
    room = _room(sh1, title="新品预告")
    k = key(sh1)
    first = _get(client, sh1, k)
    etag = first.headers["ETag"]
    assert first.status_code == 200 and "no-cache" in first.headers["Cache-Control"]

    again = _get(client, sh1, k, etag)
    assert again.status_code == 304 and again.data == b""

    room = db.session.get(LiveRoom, room.id)
    room.status = LIVE
    db.session.commit()
    changed = _get(client, sh1, k, etag)
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert changed.get_json()["rooms"][0]["status_label"] == "直播中"

    # A new room carried by the store moves it too
    _room(org.nodes["r_sh"], title="上海区品牌日", carried_by=[sh1])
    newer = _get(client, sh1, k, changed.headers["ETag"])
    assert newer.status_code == 200 and len(newer.get_json()["rooms"]) == 2


def test_another_stores_key_gets_404_and_no_key_401(client, db, org):
    sh1, sh2 = org.stores["sh1"], org.stores["sh2"]
    _room(sh1)
    assert client.get(f"/api/v1/stores/{sh1.code}/live-rooms").status_code == 401
    r = _get(client, sh1, key(sh2))
    assert r.status_code == 404 and r.get_json()["error"]["code"]


def test_the_endpoint_is_in_the_openapi_document(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    op = spec["paths"]["/api/v1/stores/{code}/live-rooms"]["get"]
    assert set(op["responses"]) >= {"200", "304"}
    assert any(p["name"] == "If-None-Match" for p in op["parameters"])
    schema = op["responses"]["200"]["content"]["application/json"]["schema"]
    ref = schema["$ref"].rsplit("/", 1)[-1]
    rooms = spec["components"]["schemas"][ref]["properties"]["rooms"]["items"]["$ref"].rsplit("/", 1)[-1]
    props = spec["components"]["schemas"][rooms]["properties"]
    assert {"title", "cover", "anchor", "provider", "provider_room_id", "status", "status_label", "scheduled_start",
            "scheduled_end", "options", "goods", "replay_url"} <= set(props)


def test_etag_moves_with_the_goods_a_room_shows(client, db, org):
    sh1 = org.stores["sh1"]
    latte = factories.make_product(org.nodes["hq"], "LATTE", name="拿铁", skus=1, list_price=1800, floor=1500,
                                   ceiling=2500)
    cake = factories.make_product(org.nodes["hq"], "CAKE", name="蛋糕", skus=1)
    room = _room(sh1, goods=[latte])
    k = key(sh1)
    tags = [_get(client, sh1, k).headers["ETag"]]

    def changed() -> dict:
        r = _get(client, sh1, k, tags[-1])
        assert r.status_code == 200, "the ETag did not move"
        tags.append(r.headers["ETag"])
        return r.get_json()["rooms"][0]

    db.session.add(Listing(store_id=sh1.id, sku_id=latte.skus[0].id, price=1600))     # the store's price
    db.session.commit()
    assert changed()["goods"][0]["price"] == "16.00"
    db.session.get(type(latte), latte.id).name = "冰拿铁"                               # HQ renames it
    db.session.commit()
    assert changed()["goods"][0]["name"] == "冰拿铁"
    db.session.add(LiveRoomGoods(room_id=room.id, product_id=cake.id, position=1))     # another product shown
    db.session.commit()
    assert [g["product"] for g in changed()["goods"]] == ["LATTE", "CAKE"]
    assert _get(client, sh1, k, tags[-1]).status_code == 304
