"""Rooms through the pages: a store owner's room in two taps, a broadcast carried by many stores,
the rules refused beside their fields, scope (another store's room is 404), the provider told."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from portal.assortments.models import StoreAssortment
from portal.audit.models import AuditEntry
from portal.extensions import db
from portal.kernel.time import utcnow
from portal.live.models import LIVE, MINIPROGRAM, LiveRoom, LiveRoomGoods, LiveRoomStore
from portal.live.providers import get_provider
from portal.live.status import apply_status
from tests.factories import make_assortment, make_product
from tests.live.helpers import make_room


@pytest.fixture
def goods(org):
    """sh1 carries HQ's assortment (two products) and has one local product; gd1 a local one."""
    hq_goods = [make_product(org.nodes["hq"], "TEA01", name="春茶礼盒"),
                make_product(org.nodes["hq"], "TEA02", name="白茶")]
    a = make_assortment(org.nodes["hq"], hq_goods)
    db.session.add(StoreAssortment(store_id=org.stores["sh1"].id, assortment_id=a.id))
    local = make_product(org.stores["sh1"], "SH-LOCAL", name="门店自制糕点")
    foreign = make_product(org.stores["gd1"], "GD-LOCAL", name="广式早茶")
    db.session.commit()
    return {"tea1": hq_goods[0], "tea2": hq_goods[1], "local": local, "foreign": foreign}


def _form_values(html: str) -> dict:
    """The values the new-room form comes with (what one tap on "schedule" posts)."""
    data = {}
    for name in ("title", "anchor", "start", "end"):
        m = re.search(rf'name="{name}"[^>]*value="([^"]*)"', html)
        data[name] = m.group(1) if m else ""
    data["provider"] = "channels"
    for name in ("comments", "likes", "shelf", "replay", "sharing"):
        data[name] = "y"
    return data


def test_a_store_owner_schedules_a_room_in_two_taps(login_as, goods, org):
    client = login_as("owner1")
    page = client.get("/live/new")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "上海南京路店直播间" in html and '<option selected value="channels">' in html
    assert "门店自制糕点" in html and "春茶礼盒" in html and "广式早茶" not in html
    data = _form_values(html)
    data["product_ids"] = [str(goods["tea1"].id), str(goods["local"].id)]
    response = client.post("/live/new", data=data)
    assert response.status_code == 302
    room = db.session.scalar(select(LiveRoom))
    assert room.title == "上海南京路店直播间" and room.store_id == org.stores["sh1"].id and room.status == 102
    start = room.scheduled_start
    assert start - utcnow() >= timedelta(minutes=10) and start.minute in (10, 40)
    assert room.scheduled_end - start == timedelta(hours=2)
    assert db.session.scalars(select(LiveRoomStore.store_id).where(LiveRoomStore.room_id == room.id)).all() == \
        [org.stores["sh1"].id]
    assert db.session.scalars(select(LiveRoomGoods.product_id).where(LiveRoomGoods.room_id == room.id)
                              .order_by(LiveRoomGoods.position)).all() == [goods["tea1"].id, goods["local"].id]
    view = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "春茶礼盒" in view and "门店自制糕点" in view
    assert db.session.scalar(select(AuditEntry.action).where(AuditEntry.object_id == room.id)) == "live_room.create"


def test_the_provider_fake_records_the_room_and_its_goods(login_as, goods, org):
    room = make_room(org.users["owner1"], store=org.stores["sh1"], product_ids=[goods["tea2"].id])
    call, = [c for c in get_provider().calls if c.name == "create_room"]
    assert call.room_id == room.id and call.args["goods"] == ["TEA02"] and call.args["provider"] == "channels"
    assert db.session.get(LiveRoom, room.id).provider_room_id == f"fake-channels-{room.id}"


def test_the_room_page_shows_its_goods_pictures_and_the_provider_gets_their_path(login_as, goods, org):
    from portal.goods.services import add_image
    from portal.org.scope import scope_for
    from tests.factories import png_bytes

    hq = org.users["hq"]
    image = add_image(scope_for(hq), goods["tea1"], png_bytes(), actor=hq)
    db.session.commit()
    room = make_room(org.users["owner1"], store=org.stores["sh1"], product_ids=[goods["tea1"].id, goods["local"].id])
    client = login_as("owner1")
    html = client.get(f"/live/{room.id}").get_data(as_text=True)
    shelf = html[html.index("data-goods"):]
    sources = re.findall(r'<img src="([^"]+)"', shelf[:shelf.index("</div>\n    </div>")])
    assert sources == [f"/media/goods/{image.thumb}"]            # the picture of the one that has one
    picture = client.get(sources[0])
    assert picture.status_code == 200 and picture.mimetype.startswith("image/")
    call, = [c for c in get_provider().calls if c.name == "create_room"]
    assert call.args["covers"] == [sources[0], ""]


@pytest.mark.parametrize("change, field, words", [
    ({"title": "新品", "provider": MINIPROGRAM}, "title", "3"),
    ({"anchor": ""}, "anchor", "anchor"),
    ({"start": "past"}, "start", "10 minutes"),
    ({"end": "13h"}, "end", "12 hours"),
    ({"end": "20m"}, "end", "30 minutes"),
    ({"cover_url": "javascript:alert(1)"}, "cover_url", "image space"),
])
def test_each_rule_is_refused_beside_its_field(en, goods, change, field, words):
    client = en("owner1")
    data = _form_values(client.get("/live/new").get_data(as_text=True))
    from datetime import datetime
    start = datetime.strptime(data["start"], "%Y-%m-%dT%H:%M")
    if change.get("start") == "past":
        change = {"start": (start - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")}
    elif change.get("end") == "13h":
        change = {"end": (start + timedelta(hours=13)).strftime("%Y-%m-%dT%H:%M")}
    elif change.get("end") == "20m":
        change = {"end": (start + timedelta(minutes=20)).strftime("%Y-%m-%dT%H:%M")}
    response = client.post("/live/new", data={**data, **change})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    message = re.search(rf'data-field="{field}">([^<]*)<', html)
    assert message and words in message.group(1)
    assert db.session.scalar(select(func.count()).select_from(LiveRoom)) == 0


def test_goods_outside_the_stores_goods_are_refused(en, goods):
    client = en("owner1")
    data = _form_values(client.get("/live/new").get_data(as_text=True))
    response = client.post("/live/new", data={**data, "product_ids": [str(goods["foreign"].id)]})
    assert response.status_code == 422
    assert "not among the goods this room may show" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(LiveRoom)) == 0


def test_another_stores_room_is_404(login_as, org):
    room = make_room(org.users["owner_gd"], store=org.stores["gd1"], title="广州天河店直播")
    client = login_as("owner1")
    assert client.get(f"/live/{room.id}").status_code == 404
    assert client.get(f"/live/{room.id}/edit").status_code == 404
    assert client.post(f"/live/{room.id}/delete").status_code == 404
    assert "广州天河店直播" not in client.get("/live").get_data(as_text=True)
    assert db.session.get(LiveRoom, room.id) is not None


def test_a_regions_broadcast_is_carried_by_its_stores(login_as, org):
    client = login_as("sh_manager")
    data = _form_values(client.get("/live/new").get_data(as_text=True))
    data.update(title="上海区春季直播", node_id=str(org.nodes["r_sh"].id))
    response = client.post("/live/new", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    room = db.session.scalar(select(LiveRoom))
    assert room.is_broadcast and room.node_id == org.nodes["r_sh"].id
    carried = set(db.session.scalars(select(LiveRoomStore.store_id).where(LiveRoomStore.room_id == room.id)))
    assert carried == {org.stores["sh1"].id, org.stores["sh2"].id}
    # the store owner shows it (read only), the other side does not see it
    owner = login_as("owner1")
    assert "上海区春季直播" in owner.get("/live").get_data(as_text=True)
    page = owner.get(f"/live/{room.id}").get_data(as_text=True)
    assert "上海区春季直播" in page and f"/live/{room.id}/edit" not in page
    assert owner.get(f"/live/{room.id}/edit").status_code == 403
    assert login_as("owner_gd").get(f"/live/{room.id}").status_code == 404
    assert login_as("east_admin").get(f"/live/{room.id}").status_code == 200
    assert login_as("south_admin").get(f"/live/{room.id}").status_code == 404


def test_hqs_broadcast_seen_by_a_region_with_its_own_stores_only(login_as, org):
    room = make_room(org.users["hq"], node=org.nodes["hq"], title="总部新品发布")
    carried = select(func.count()).select_from(LiveRoomStore).where(LiveRoomStore.room_id == room.id)
    assert db.session.scalar(carried) == 5
    page = login_as("sh_manager").get(f"/live/{room.id}").get_data(as_text=True)
    assert "上海南京路店" in page and "广州天河店" not in page
    assert login_as("sh_manager").get(f"/live/{room.id}/edit").status_code == 403


def test_a_broadcast_names_its_stores_by_code(en, org):
    client = en("hq")
    data = _form_values(client.get("/live/new").get_data(as_text=True))
    data.update(node_id=str(org.nodes["hq"].id), store_codes="SH001, gd001\nNOPE9")
    response = client.post("/live/new", data=data)
    assert response.status_code == 422
    assert "NOPE9" in re.search(r'data-field="store_codes">([^<]*)<', response.get_data(as_text=True)).group(1)
    data["store_codes"] = "SH001, gd001"
    assert client.post("/live/new", data=data).status_code == 302
    room = db.session.scalar(select(LiveRoom))
    carried = set(db.session.scalars(select(LiveRoomStore.store_id).where(LiveRoomStore.room_id == room.id)))
    assert carried == {org.stores["sh1"].id, org.stores["gd1"].id}


def test_a_distributor_cannot_name_stores_outside_its_subtree(en, org):
    client = en("east_admin")
    data = _form_values(client.get("/live/new").get_data(as_text=True))
    data.update(node_id=str(org.nodes["east"].id), store_codes="GD001")
    response = client.post("/live/new", data=data)
    assert response.status_code == 422 and "GD001" in response.get_data(as_text=True)


def test_editing_a_room_before_it_starts(login_as, goods, org):
    room = make_room(org.users["owner1"], store=org.stores["sh1"], product_ids=[goods["tea1"].id])
    client = login_as("owner1")
    data = _form_values(client.get(f"/live/{room.id}/edit").get_data(as_text=True))
    data.pop("provider")
    data.update(title="周末茶会直播", product_ids=[str(goods["tea2"].id)])
    assert client.post(f"/live/{room.id}/edit", data=data).status_code == 302
    got = db.session.get(LiveRoom, room.id)
    assert got.title == "周末茶会直播"
    edited, = [c for c in get_provider().calls if c.name == "edit_room"]       # WeChat's room follows
    assert edited.room_id == room.id and edited.args["title"] == "周末茶会直播"
    imported, = [c for c in get_provider().calls if c.name == "import_goods"]
    assert imported.args["goods"] == ["TEA02"]
    assert db.session.scalars(select(LiveRoomGoods.product_id).where(LiveRoomGoods.room_id == room.id)).all() == \
        [goods["tea2"].id]


def test_a_room_keeps_its_start_when_it_comes_close(login_as, org):
    room = make_room(org.users["owner1"], store=org.stores["sh1"], start_in=timedelta(minutes=15))
    soon = utcnow() + timedelta(minutes=5)
    db.session.execute(update(LiveRoom).where(LiveRoom.id == room.id)
                       .values(scheduled_start=soon.replace(second=0, microsecond=0),
                               scheduled_end=soon.replace(second=0, microsecond=0) + timedelta(hours=1)))
    db.session.commit()
    client = login_as("owner1")
    data = _form_values(client.get(f"/live/{room.id}/edit").get_data(as_text=True))
    data.pop("provider")
    data["title"] = "马上开始的直播"
    assert client.post(f"/live/{room.id}/edit", data=data).status_code == 302
    assert db.session.get(LiveRoom, room.id).title == "马上开始的直播"


def test_a_live_room_can_no_longer_be_changed_or_deleted(en, org):
    room = make_room(org.users["owner1"], store=org.stores["sh1"])
    apply_status([(room.id, LIVE, utcnow())])
    db.session.commit()
    client = en("owner1")
    response = client.get(f"/live/{room.id}/edit", follow_redirects=True)
    assert "can no longer be changed" in response.get_data(as_text=True)
    assert client.post(f"/live/{room.id}/delete").status_code == 409
    assert db.session.get(LiveRoom, room.id) is not None


def test_deleting_a_room_not_started(login_as, org):
    room = make_room(org.users["owner1"], store=org.stores["sh1"])
    client = login_as("owner1")
    assert client.post(f"/live/{room.id}/delete").status_code == 302
    assert db.session.scalar(select(func.count()).select_from(LiveRoom)) == 0
    assert db.session.scalar(select(AuditEntry.action).where(AuditEntry.action == "live_room.delete"))


def test_the_list_has_tabs_and_an_htmx_partial(login_as, org):
    upcoming = make_room(org.users["owner1"], store=org.stores["sh1"], title="下周的直播")
    live = make_room(org.users["owner1"], store=org.stores["sh1"], title="正在直播")
    apply_status([(live.id, LIVE, utcnow())])
    db.session.commit()
    client = login_as("owner1")
    page = client.get("/live").get_data(as_text=True)
    assert "<html" in page and "下周的直播" in page and "正在直播" not in page
    on_air = client.get("/live?tab=live").get_data(as_text=True)
    assert "正在直播" in on_air and "下周的直播" not in on_air
    part = client.get("/live?tab=upcoming&q=下周", hx="room-rows")
    assert part.status_code == 200 and "<html" not in part.get_data(as_text=True)
    assert f'data-room="{upcoming.id}"' in part.get_data(as_text=True)
    assert part.headers["Vary"].find("HX-Request") >= 0


def test_the_room_page_leaves_places_for_the_other_parts(app, login_as, org):
    room = make_room(org.users["owner1"], store=org.stores["sh1"])
    replay = "https://example.com/replay.mp4"
    db.session.execute(update(LiveRoom).where(LiveRoom.id == room.id).values(replay_url=replay))
    db.session.commit()
    page = login_as("owner1").get(f"/live/{room.id}").get_data(as_text=True)
    assert replay in page
    # The figures and the leaderboard are in the page; the lottery, coupon and reminder panels
    # load from their own addresses once it shows.
    assert f'id="live-leaderboard-{room.id}"' in page and f'id="live-figures-{room.id}"' in page
    for name in ("lottery", "coupons", "reminders"):
        assert f'hx-get="/live/{room.id}/panels/{name}"' in page


def test_an_admins_broadcast_picks_its_goods_with_the_goods_picker(en, goods, org):
    client = en("hq")
    html = client.get("/live/new").get_data(as_text=True)
    assert 'data-picker-into="#room-goods"' in html and "data-goods-picker" in html
    data = _form_values(html)
    data.update(node_id=str(org.nodes["hq"].id), product_ids=[str(goods["local"].id)])
    refused = client.post("/live/new", data=data)
    assert refused.status_code == 422 and "not among the goods" in refused.get_data(as_text=True)
    data["product_ids"] = [str(goods["tea2"].id), str(goods["tea1"].id)]
    assert client.post("/live/new", data=data).status_code == 302
    room = db.session.scalar(select(LiveRoom))
    assert db.session.scalars(select(LiveRoomGoods.product_id).where(LiveRoomGoods.room_id == room.id)
                              .order_by(LiveRoomGoods.position)).all() == [goods["tea2"].id, goods["tea1"].id]
    edit = client.get(f"/live/{room.id}/edit").get_data(as_text=True)
    assert 'data-key="TEA02"' in edit and 'data-key="TEA01"' in edit


def test_a_regional_manager_ticks_the_regions_goods(login_as, goods, org):
    html = login_as("sh_manager").get("/live/new").get_data(as_text=True)
    assert "data-goods-picker" not in html and 'name="product_ids"' in html and "春茶礼盒" in html
    assert "门店自制糕点" not in html


def test_a_store_shows_its_own_rooms_and_the_broadcasts_it_carries(org):
    from portal.live.services import store_rooms
    own = make_room(org.users["owner1"], store=org.stores["sh1"], title="本店直播", start_in=timedelta(hours=3))
    broadcast = make_room(org.users["sh_manager"], node=org.nodes["r_sh"], title="上海区联播")
    make_room(org.users["owner_gd"], store=org.stores["gd1"], title="广州直播")
    ended = make_room(org.users["owner1"], store=org.stores["sh1"], title="已结束的直播")
    apply_status([(ended.id, 103, utcnow())])
    db.session.commit()
    assert [r.id for r in store_rooms(org.stores["sh1"].id)] == [broadcast.id, own.id]
    assert [r.id for r in store_rooms(org.stores["sh2"].id)] == [broadcast.id]


def test_an_edit_that_lost_the_race_to_going_live_changes_nothing(org):
    from portal.kernel.errors import Conflict
    from portal.live import services
    from portal.org.scope import scope_for
    room = make_room(org.users["owner1"], store=org.stores["sh1"])
    stale = db.session.get(LiveRoom, room.id)          # loaded before the room went live
    db.session.execute(update(LiveRoom).where(LiveRoom.id == room.id).values(status=LIVE))
    with pytest.raises(Conflict):
        services.update_room(scope_for(org.users["owner1"]), stale, title="改过的标题", anchor="小美",
                             start=stale.scheduled_start, end=stale.scheduled_end, actor=org.users["owner1"])
    db.session.rollback()
    assert db.session.get(LiveRoom, room.id).title == "春季新品直播"


def test_the_provider_is_chosen_by_settings(app):
    from portal.live.providers import FakeProvider, WeChatProvider
    assert isinstance(get_provider(), FakeProvider)
    app.extensions.pop("live_provider")
    app.config["LIVE_PROVIDER"] = "wechat"
    assert isinstance(get_provider(), WeChatProvider)      # made without reaching the network
    app.extensions.pop("live_provider")
    app.config["LIVE_PROVIDER"] = "other"
    with pytest.raises(ValueError):
        get_provider()


def test_editing_a_broadcast_keeps_its_stores_unless_named(en, org):
    room = make_room(org.users["hq"], node=org.nodes["hq"], title="总部精选", store_codes=["SH001", "GD001"])
    client = en("hq")
    html = client.get(f"/live/{room.id}/edit").get_data(as_text=True)
    assert "the stores that carry it now stay" in html
    data = _form_values(html)
    data.pop("provider")
    data.update(title="总部精选直播", store_codes="")
    assert client.post(f"/live/{room.id}/edit", data=data).status_code == 302
    carried = set(db.session.scalars(select(LiveRoomStore.store_id).where(LiveRoomStore.room_id == room.id)))
    assert carried == {org.stores["sh1"].id, org.stores["gd1"].id}
    data["store_codes"] = "SH002"
    assert client.post(f"/live/{room.id}/edit", data=data).status_code == 302
    carried = set(db.session.scalars(select(LiveRoomStore.store_id).where(LiveRoomStore.room_id == room.id)))
    assert carried == {org.stores["sh2"].id}


def test_a_broadcast_by_store_ids_leaves_out_those_outside_the_scope(org):
    room = make_room(org.users["east_admin"], node=org.nodes["east"], title="华东联播",
                     store_ids=[org.stores["sh1"].id, org.stores["js1"].id, org.stores["gd1"].id])
    carried = set(db.session.scalars(select(LiveRoomStore.store_id).where(LiveRoomStore.room_id == room.id)))
    assert carried == {org.stores["sh1"].id, org.stores["js1"].id}
