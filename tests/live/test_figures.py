"""A room's figures and share leaderboard: exact, attributed to the carrying stores, scoped, on the
page (htmx partial and full page, polling while live) and in the export."""
from __future__ import annotations

import io
from datetime import timedelta

from openpyxl import load_workbook

from portal.extensions import db
from portal.live import counters, figures
from portal.live.models import ENDED
from portal.org.scope import Scope
from tests.factories import make_guide, make_store
from tests.live.figures_helpers import (  # noqa: F401  (_fresh_counters: the autouse fixture)
    T0,
    Sender,
    _fresh_counters,
    enter,
    leave,
    like,
    make_room,
    simple,
    statuses,
)
from tests.orders.helpers import paid, refund


def _broadcast(client, org):
    """HQ's broadcast carried by sh1 and sh2: viewers and orders through each store's API."""
    room = make_room(org.nodes["hq"], carriers=[org.stores["sh1"], org.stores["sh2"]], title="总部春季直播")
    sh1, sh2 = Sender(client, org.stores["sh1"]), Sender(client, org.stores["sh2"])
    assert statuses(sh1(enter(room, "a1", 0), enter(room, "a2", 10, sharer_openid="a1"),
                        enter(room, "a3", 20, sharer_openid="a1"))) == ["applied"] * 3
    assert statuses(sh2(enter(room, "b1", 5), enter(room, "b2", 15, sharer_openid="b1"),
                        like(room, "b2", 30))) == ["applied"] * 3
    # the batches that follow: the leaves (online moves batch after batch, as they arrive)
    assert statuses(sh2(leave(room, "b1", 65))) == ["applied"]
    assert statuses(sh1(leave(room, "a2", 130))) == ["applied"]
    assert statuses(sh1(paid("S1-1", [("SKU-A", 2, 5000)], openid="a2", live_room_id=room.id, sharer_openid="a1"),
                        paid("S1-2", [("SKU-A", 1, 3000)], openid="a2", live_room_id=room.id))) == ["applied"] * 2
    assert statuses(sh2(paid("S2-1", [("SKU-B", 1, 8000)], openid="b2", live_room_id=room.id, sharer_openid="b1"),
                        refund("R1", "S2-1", amount=2000))) == ["applied"] * 2
    return room


def test_a_broadcasts_figures_are_exact_and_attributed_to_the_carrying_stores(client, org):
    room = _broadcast(client, org)
    room.ended_at = T0 + timedelta(seconds=200)       # a1, a3 and b2 never left: their stays end with the room
    db.session.commit()
    fig = figures.room_figures(Scope.of_path(org.nodes["hq"].path), room)
    assert (fig.viewers, fig.peak_online, fig.online) == (5, 5, 3)
    closed, still_open = 120 + 60, (200 - 0) + (200 - 20) + (200 - 15)
    assert fig.watch_seconds == closed + still_open and fig.average_watch_seconds == (closed + still_open) // 5
    assert (fig.likes, fig.orders, fig.gmv_fen, fig.buyers) == (30, 3, 10000 + 3000 + 8000 - 2000, 2)
    assert fig.conversion == 2 / 5
    by_store = {s.code: (s.viewers, s.orders, s.gmv_fen, s.buyers) for s in fig.stores}
    assert by_store == {"SH001": (3, 2, 13000, 1), "SH002": (2, 1, 6000, 1)}


def test_a_broadcast_carried_by_many_stores_shows_its_top_stores_and_exports_them_all(client, org, login_as):
    """The room page (polled every 3 s while live) ranks the carrying stores by viewers brought,
    then GMV, and shows the first TOP_STORES with how many more there are; the export has every
    one. A region sees its own stores' share, ranked the same way."""
    extra = [make_store(org.nodes["r_js"], f"JS{n:03d}", name=f"江苏{n}号店") for n in range(2, figures.TOP_STORES + 4)]
    carriers = [org.stores["sh1"], org.stores["sh2"], org.stores["js1"], *extra]
    room = make_room(org.nodes["hq"], carriers=carriers, title="全国品牌日")
    crowd = {store.code: k for k, store in enumerate(carriers)}          # JS012 brings the most
    for store in carriers:
        events = [enter(room, f"{store.code}-v{i}", i) for i in range(crowd[store.code])]
        if events:
            assert set(statuses(Sender(client, store)(*events))) == {"applied"}
    assert statuses(Sender(client, org.stores["sh1"])(
        paid("SH-1", [("SKU-A", 1, 5000)], openid="SH001-x", live_room_id=room.id))) == ["applied"]
    hq = Scope.of_path(org.nodes["hq"].path)

    fig = figures.room_figures(hq, room)
    ranked = sorted(carriers, key=lambda s: (-crowd[s.code], s.code != "SH001", s.code))
    assert fig.carried == len(carriers) == figures.TOP_STORES + 5
    assert [s.code for s in fig.stores] == [s.code for s in ranked[:figures.TOP_STORES]]
    assert [s.viewers for s in fig.stores] == [crowd[s.code] for s in ranked[:figures.TOP_STORES]]
    assert fig.viewers == sum(crowd.values()) and fig.orders == 1          # a buyer need not be a viewer
    every = figures.room_figures(hq, room, top=None)
    assert [s.code for s in every.stores] == [s.code for s in ranked]
    assert {s.code: (s.orders, s.gmv_fen) for s in every.stores}["SH001"] == (1, 5000)

    login_as("hq")
    page = client.get(f"/live/{room.id}/figures", hx=True).get_data(as_text=True)
    assert page.count("data-store=") == figures.TOP_STORES and 'data-more-stores="5"' in page
    assert f'data-store="{ranked[0].code}"' in page and f'data-store="{ranked[-1].code}"' not in page
    sheet = load_workbook(io.BytesIO(client.get(f"/live/{room.id}/figures/export?format=xlsx").data))
    codes = [row[0].value for row in sheet.worksheets[1].iter_rows(min_row=2)]
    assert codes == [s.code for s in ranked]

    js = figures.room_figures(Scope.of_path(org.nodes["r_js"].path), room)
    assert js.carried == len(extra) + 1 and not js.whole
    assert js.viewers == sum(crowd[s.code] for s in [org.stores["js1"], *extra]) and js.orders == 0
    assert all(s.code.startswith("JS") for s in js.stores) and len(js.stores) == figures.TOP_STORES


def test_a_carrying_store_sees_its_own_share(client, org, login_as):
    room = _broadcast(client, org)
    login_as("owner1")
    r = client.get(f"/live/{room.id}/figures", hx=True)
    assert r.status_code == 200 and "<html" not in r.get_data(as_text=True)
    page = r.get_data(as_text=True)
    assert 'data-figure="viewers">3<' in page and 'data-store="SH001"' in page and 'data-store="SH002"' not in page
    assert 'data-figure="gmv"' in page and "130.00" in page


def test_the_leaderboard_ranks_sharers_by_viewers_and_by_buyers_with_store_and_guide(client, org):
    store = org.stores["sh1"]
    guide = make_guide(store, code="G1", name="导购小李")
    db.session.commit()
    room = make_room(store)
    send = Sender(client, store)
    send(enter(room, "s1", 0, nickname="分享王", guide_code="G1"), enter(room, "s2", 0, nickname="小红"),
         enter(room, "s3", 0, nickname="小蓝"))
    batch = [enter(room, f"v{i}", 10 + i, sharer_openid="s2") for i in range(5)]
    batch += [enter(room, f"w{i}", 10 + i, sharer_openid="s1") for i in range(3)]
    batch += [enter(room, "x0", 30, sharer_openid="s3")]
    assert statuses(send(*batch)) == ["applied"] * 9
    send(paid("O1", openid="w0", live_room_id=room.id, sharer_openid="s1"),
         paid("O2", openid="w1", live_room_id=room.id, sharer_openid="s1"),
         paid("O3", openid="x0", live_room_id=room.id, sharer_openid="s3"))
    hq = Scope.of_path(org.nodes["hq"].path)
    ranks = figures.leaderboard(hq, room)
    assert [(r.rank, r.nickname, r.viewers, r.buyers) for r in ranks] == [
        (1, "小红", 5, 0), (2, "分享王", 3, 2), (3, "小蓝", 1, 1)]
    assert ranks[1].store == store.name
    by_buyers = figures.leaderboard(hq, room, by=figures.BUYERS)
    assert [(r.nickname, r.buyers) for r in by_buyers] == [("分享王", 2), ("小蓝", 1)]
    assert by_buyers[0].guide == guide.name or by_buyers[0].guide is None


def test_the_partials_poll_while_live_and_stop_when_ended(client, org, login_as):
    store = org.stores["sh1"]
    room = make_room(store)
    send = Sender(client, store)
    login_as("owner1")
    send(enter(room, "a", 0))
    r = client.get(f"/live/{room.id}/leaderboard", hx=True)
    assert 'hx-trigger="every 3s"' in r.get_data(as_text=True)
    send(enter(room, "b", 5, sharer_openid="a"))
    r = client.get(f"/live/{room.id}/leaderboard", hx=True)       # the next poll shows the new sharer
    assert 'data-viewers="1"' in r.get_data(as_text=True)
    full = client.get(f"/live/{room.id}/figures")
    assert full.status_code == 200 and "<html" in full.get_data(as_text=True)
    assert "live-leaderboard" in full.get_data(as_text=True)
    room.status = ENDED
    db.session.commit()
    r = client.get(f"/live/{room.id}/figures", hx=True)
    assert "every 3s" not in r.get_data(as_text=True)


def test_another_stores_owner_gets_404(client, org, login_as):
    room = make_room(org.stores["sh1"])
    login_as("owner_gd")
    for url in (f"/live/{room.id}/figures", f"/live/{room.id}/leaderboard", f"/live/{room.id}/figures/export"):
        assert client.get(url).status_code == 404
    login_as("gd_manager")
    assert client.get(f"/live/{room.id}/figures").status_code == 404


def test_export_csv_and_xlsx(client, org, login_as):
    room = _broadcast(client, org)
    login_as("hq")
    r = client.get(f"/live/{room.id}/figures/export?format=csv")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    text = r.get_data(as_text=True)
    assert "SH002" in text and "190.00" in text
    r = client.get(f"/live/{room.id}/figures/export?format=xlsx")
    book = load_workbook(io.BytesIO(r.get_data()))
    assert len(book.sheetnames) == 3
    values = [row for row in book[book.sheetnames[0]].iter_rows(values_only=True)]
    assert any(v[1] == 5 for v in values[1:])                  # unique viewers
    assert client.get(f"/live/{room.id}/figures/export?format=pdf").status_code == 404


def test_figures_include_what_the_aggregator_still_holds(client, org):
    store = org.stores["sh1"]
    room = make_room(store)
    agg = counters.aggregator()
    agg.timer_enabled = False                      # nothing flushes on its own in this test
    try:
        send = Sender(client, store)
        send(enter(room, "a"), like(room, "a", 7), simple("live.comment", room, "a"))
        hq = Scope.of_path(org.nodes["hq"].path)
        fig = figures.room_figures(hq, room)
        assert (fig.likes, fig.comments, fig.online, fig.flushes) == (7, 1, 1, 0)
        counters.flush_all()
        fig = figures.room_figures(hq, room)
        assert (fig.likes, fig.comments, fig.online, fig.flushes) == (7, 1, 1, 1)
    finally:
        agg.timer_enabled = True
