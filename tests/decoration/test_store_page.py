"""A store's page: the version pushed to it, its owner's edits, and what happens to them when
HQ publishes and pushes again. Through the real endpoints, with jobs running eagerly."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal.decoration.models import BlockOverride, StorePage
from portal.extensions import db
from portal.pushes.models import Push
from tests.decoration.helpers import NOTICE_TEXT, compose, publish, push_to_region

OWN_TEXT = "南京路店：周三会员日，满 50 减 10"


def overrides() -> int:
    return db.session.scalar(select(func.count()).select_from(BlockOverride))


@pytest.fixture
def pushed(login_as, org):
    """HQ composes, publishes v1 and pushes it to the Shanghai region (sh1, sh2)."""
    client = login_as("hq")
    tid, keys = compose(client)
    client.post(f"/templates/{tid}/blocks/{keys['notice']}", data={"text": NOTICE_TEXT}, hx="editor")
    assert publish(client, tid, "v1").status_code == 302
    push_id = push_to_region(client, tid, 1, org.nodes["r_sh"].id)
    push = db.session.get(Push, push_id)
    assert push.state == "done" and push.delivered == 2
    return tid, keys


def owner_edits_notice(client, org, key, text=OWN_TEXT, hx=True):
    return client.post(f"/stores/{org.stores['sh1'].id}/page/blocks/{key}", data={"text": text, "link": ""},
                       hx="page" if hx else False)


def test_push_page_shows_reach_and_refuses_an_empty_target(login_as, org):
    client = login_as("hq")
    tid, _keys = compose(client)
    publish(client, tid)
    r = client.get(f"/templates/{tid}/versions/1/push")
    assert r.status_code == 200 and 'id="reach"' in r.get_data(as_text=True)
    r = client.post(f"/templates/{tid}/versions/1/push", data={"target_id": ""})
    assert r.status_code == 422
    assert db.session.scalar(select(func.count()).select_from(Push)) == 0


def test_the_store_owner_sees_an_empty_state_until_a_page_arrives(login_as, org):
    client = login_as("owner1")
    r = client.get("/my/page")
    assert r.status_code == 200 and "mp-block" not in r.get_data(as_text=True)
    client = login_as("hq")
    tid, _keys = compose(client)
    publish(client, tid)
    push_to_region(client, tid, 1, org.nodes["r_sh"].id)
    assert db.session.get(StorePage, org.stores["sh1"].id) is not None
    assert db.session.get(StorePage, org.stores["gd1"].id) is None          # not in the region
    client = login_as("owner1")
    html = client.get("/my/page").get_data(as_text=True)
    assert "春季首页" in html and 'data-version="1"' in html
    assert html.count('class="mp-block') == 3
    # The push's page (what HQ watches) says it is done.
    client = login_as("owner_gd")
    assert "mp-block" not in client.get("/my/page").get_data(as_text=True)


def test_store_owner_edits_an_editable_block_and_the_edit_survives_a_new_version(login_as, org, pushed):
    tid, keys = pushed
    client = login_as("owner1")
    html = client.get("/my/page").get_data(as_text=True)
    # Edit buttons only on editable blocks; the locked banner says HQ set it.
    assert f'/page/blocks/{keys["notice"]}"' in html and f'/page/blocks/{keys["rich_text"]}"' in html
    assert f'/page/blocks/{keys["banner"]}"' not in html and "data-locked" in html

    r = client.get(f"/stores/{org.stores['sh1'].id}/page/blocks/{keys['notice']}", hx="page")
    assert r.status_code == 200 and 'name="text"' in r.get_data(as_text=True)
    r = owner_edits_notice(client, org, keys["notice"])
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert "<html" not in html and OWN_TEXT in html and "data-customized" in html
    assert OWN_TEXT in client.get("/my/page").get_data(as_text=True)
    assert overrides() == 1

    # HQ changes other things, publishes v2 and pushes it: the store's notice stays its own.
    client = login_as("hq")
    client.post(
        f"/templates/{tid}/blocks/{keys['rich_text']}", data={"title": "新故事", "body": "全新配方"}, hx="editor"
    )
    client.post(f"/templates/{tid}/blocks", data={"type": "store_card"}, hx="editor")
    assert publish(client, tid, "v2").status_code == 302
    push_to_region(client, tid, 2, org.nodes["r_sh"].id)

    client = login_as("owner1")
    html = client.get("/my/page").get_data(as_text=True)
    assert 'data-version="2"' in html
    assert OWN_TEXT in html and NOTICE_TEXT not in html
    assert "全新配方" in html and 'data-type="store_card"' in html
    assert "dropped-edits" not in html
    # The other store of the region has HQ's notice.
    other = db.session.get(StorePage, org.stores["sh2"].id)
    assert other.version_id == db.session.get(StorePage, org.stores["sh1"].id).version_id


def test_edits_dropped_by_hq_are_reported_with_the_reason(login_as, org, pushed):
    tid, keys = pushed
    client = login_as("owner1")
    owner_edits_notice(client, org, keys["notice"])
    client.post(f"/stores/{org.stores['sh1'].id}/page/blocks/{keys['rich_text']}",
                data={"title": "本店故事", "body": "十年老店"}, hx="page")
    assert overrides() == 2

    client = login_as("hq")
    client.post(f"/templates/{tid}/blocks/{keys['notice']}/delete", hx="editor")
    client.post(f"/templates/{tid}/blocks/{keys['rich_text']}/lock", data={"locked": "1"}, hx="editor")
    publish(client, tid, "v2")
    push_to_region(client, tid, 2, org.nodes["r_sh"].id)

    client = login_as("owner1")
    html = client.get("/my/page").get_data(as_text=True)
    assert 'id="dropped-edits"' in html
    assert f'data-dropped="{keys["notice"]}" data-reason="removed"' in html
    assert f'data-dropped="{keys["rich_text"]}" data-reason="locked"' in html
    assert OWN_TEXT not in html and "十年老店" not in html          # HQ's content shows
    assert "每一杯都用当季鲜果现做" in html

    # The owner can no longer edit the now-locked block.
    r = client.post(f"/stores/{org.stores['sh1'].id}/page/blocks/{keys['rich_text']}",
                    data={"title": "x", "body": "y"}, hx="page")
    assert r.status_code == 403

    # "Discard it" clears a dropped edit, and the notice with it.
    r = client.post(f"/stores/{org.stores['sh1'].id}/page/blocks/{keys['notice']}/reset", hx="page")
    assert r.status_code == 200 and f'data-dropped="{keys["notice"]}"' not in r.get_data(as_text=True)
    assert overrides() == 1

    # The HQ view of the store reports the same.
    client = login_as("east_admin")
    html = client.get(f"/stores/{org.stores['sh1'].id}/page").get_data(as_text=True)
    assert f'data-dropped="{keys["rich_text"]}" data-reason="locked"' in html


def test_reset_a_block_to_hqs_content(login_as, org, pushed):
    _tid, keys = pushed
    client = login_as("owner1")
    owner_edits_notice(client, org, keys["notice"])
    r = client.post(f"/stores/{org.stores['sh1'].id}/page/blocks/{keys['notice']}/reset")
    assert r.status_code == 302 and r.headers["Location"].endswith("/my/page")
    html = client.get("/my/page").get_data(as_text=True)
    assert NOTICE_TEXT in html and OWN_TEXT not in html and "data-customized" not in html
    assert overrides() == 0


def test_invalid_store_edit_is_refused_and_nothing_saved(login_as, org, pushed):
    _tid, keys = pushed
    client = login_as("owner1")
    r = owner_edits_notice(client, org, keys["notice"], text="")
    assert r.status_code == 422 and 'data-field="text"' in r.get_data(as_text=True)
    r = owner_edits_notice(client, org, keys["notice"], text="x" * 121, hx=False)
    assert r.status_code == 422 and "<html" in r.get_data(as_text=True)
    assert overrides() == 0


def test_a_store_owner_cannot_edit_a_locked_block(login_as, org, pushed):
    _tid, keys = pushed
    client = login_as("owner1")
    url = f"/stores/{org.stores['sh1'].id}/page/blocks/{keys['banner']}"
    assert client.get(url).status_code == 403
    r = client.post(url, data={"slides-0-image": "https://img.example.com/mine.jpg", "interval": "4"})
    assert r.status_code == 403
    assert client.post(f"/stores/{org.stores['sh1'].id}/page/blocks/nosuchkey", data={"text": "x"}).status_code == 404
    assert overrides() == 0


def test_a_store_owner_cannot_touch_another_stores_page(login_as, org, pushed):
    _tid, keys = pushed
    client = login_as("owner1")
    other = org.stores["sh2"].id            # same region, same version, not theirs
    assert client.get(f"/stores/{other}/page/blocks/{keys['notice']}").status_code == 404
    assert client.post(f"/stores/{other}/page/blocks/{keys['notice']}", data={"text": "抢占"}).status_code == 404
    assert client.post(f"/stores/{other}/page/blocks/{keys['notice']}/reset").status_code == 404
    assert client.get(f"/stores/{other}/page").status_code == 403                     # staff's read-only view
    assert overrides() == 0


def test_people_above_a_store_see_its_page_read_only(login_as, org, pushed):
    _tid, keys = pushed
    client = login_as("owner1")
    owner_edits_notice(client, org, keys["notice"])
    for who in ("hq", "east_admin", "sh_manager"):
        client = login_as(who)
        r = client.get(f"/stores/{org.stores['sh1'].id}/page")
        assert r.status_code == 200, who
        html = r.get_data(as_text=True)
        assert OWN_TEXT in html and "data-customized" in html
        assert "data-edit" not in html and "/reset" not in html and "hx-get" not in html.split('id="page"')[1]
    assert login_as("gd_manager").get(f"/stores/{org.stores['sh1'].id}/page").status_code == 404
    # The store's detail page links to it.
    html = login_as("hq").get(f"/stores/{org.stores['sh1'].id}").get_data(as_text=True)
    assert f"/stores/{org.stores['sh1'].id}/page" in html


def test_my_page_answers_htmx_with_the_partial(login_as, org, pushed):
    client = login_as("owner1")
    full = client.get("/my/page")
    part = client.get("/my/page", hx="page")
    assert "<html" in full.get_data(as_text=True) and "<html" not in part.get_data(as_text=True)
    assert 'class="mp-block' in part.get_data(as_text=True)
    assert "HX-Request" in part.headers["Vary"]
