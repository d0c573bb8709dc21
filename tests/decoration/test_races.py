"""Two editors of one template, and two publishes at once: the second write loses, is told so
(409) and keeps what it typed; nothing it sent is written, and nothing answers 500."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from portal.decoration.models import Template, TemplateVersion
from portal.extensions import db
from tests import factories
from tests.conftest import login
from tests.decoration.helpers import block, compose, publish

STALE = "您编辑期间，其他人保存了此模板。"


def _revision(html: str) -> str:
    return re.search(r'name="revision" value="(\d+)"', html).group(1)


@pytest.fixture
def second(app, org):
    """A second admin's browser (HQ's other editor)."""
    other = app.test_client()
    login(other, org.users["hq"].username)
    return other


def _open_notice(client, tid, key) -> str:
    return _revision(client.get(f"/templates/{tid}/blocks/{key}", hx="editor").get_data(as_text=True))


@pytest.mark.parametrize("hx", ["editor", False], ids=["htmx", "page"])
def test_a_save_from_a_stale_editor_is_refused_and_keeps_its_text(login_as, second, hx):
    first = login_as("hq")
    tid, keys = compose(first)
    seen_a, seen_b = _open_notice(first, tid, keys["notice"]), _open_notice(second, tid, keys["notice"])
    assert seen_a == seen_b

    r = first.post(f"/templates/{tid}/blocks/{keys['notice']}", data={"text": "甲的公告", "revision": seen_a},
                   hx="editor")
    assert r.status_code == 200
    r = second.post(f"/templates/{tid}/blocks/{keys['notice']}", data={"text": "乙的公告", "revision": seen_b},
                    hx=hx)
    html = r.get_data(as_text=True)
    assert r.status_code == 409
    assert STALE in html and "乙的公告" in html                 # told, and the text is still in the form
    assert ("<html" in html) is (not hx)
    assert block(tid, keys["notice"])["data"]["text"] == "甲的公告"   # the first save stands

    # The form now carries the revision it shows: saving again replaces the first editor's text.
    fresh = _revision(html)
    assert fresh != seen_b
    r = second.post(f"/templates/{tid}/blocks/{keys['notice']}", data={"text": "乙的公告", "revision": fresh},
                    hx="editor")
    assert r.status_code == 200 and block(tid, keys["notice"])["data"]["text"] == "乙的公告"


def test_two_saves_from_the_same_revision_at_once_first_write_wins(login_as, second):
    """Both editors read the same revision; the first one's write lands between the second one's
    read and write. The second one's conditional UPDATE matches nothing: 409, its text kept."""
    first = login_as("hq")
    tid, keys = compose(first)
    key = keys["notice"]
    seen = _open_notice(first, tid, key)

    def first_saves():
        r = first.post(f"/templates/{tid}/blocks/{key}", data={"text": "甲的公告", "revision": seen}, hx="editor")
        assert r.status_code == 200

    with factories.just_before("UPDATE templates", first_saves):
        r = second.post(f"/templates/{tid}/blocks/{key}", data={"text": "乙的公告", "revision": seen},
                        hx="editor")
    html = r.get_data(as_text=True)
    assert r.status_code == 409 and STALE in html and "乙的公告" in html
    assert block(tid, key)["data"]["text"] == "甲的公告"


@pytest.mark.parametrize("action", ["move", "lock", "delete", "add"])
def test_every_editor_action_from_a_stale_page_is_refused(login_as, second, action):
    first = login_as("hq")
    tid, keys = compose(first)
    seen = _revision(second.get(f"/templates/{tid}").get_data(as_text=True))
    first.post(f"/templates/{tid}/blocks/{keys['notice']}", data={"text": "甲的公告"}, hx="editor")
    db.session.expire_all()
    before = db.session.get(Template, tid).draft
    url, data = {"move": (f"/blocks/{keys['notice']}/move", {"direction": "up"}),
                 "lock": (f"/blocks/{keys['notice']}/lock", {"locked": "1"}),
                 "delete": (f"/blocks/{keys['notice']}/delete", {}),
                 "add": ("/blocks", {"type": "notice"})}[action]
    r = second.post(f"/templates/{tid}{url}", data={**data, "revision": seen}, hx="editor")
    assert r.status_code == 409 and STALE in r.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Template, tid).draft == before


def test_two_publishes_at_once_make_one_version_and_a_409(login_as, second):
    first = login_as("hq")
    tid, _keys = compose(first)
    seen = _revision(first.get(f"/templates/{tid}").get_data(as_text=True))

    def first_publishes():
        assert first.post(f"/templates/{tid}/publish", data={"note": "甲", "revision": seen}).status_code == 302

    with factories.just_before("UPDATE templates", first_publishes):
        r = second.post(f"/templates/{tid}/publish", data={"note": "乙", "revision": seen})
    assert r.status_code == 409
    assert "此模板刚刚已被他人发布或修改" in r.get_data(as_text=True)
    notes = db.session.scalars(select(TemplateVersion.note).where(TemplateVersion.template_id == tid)).all()
    assert notes == ["甲"]
    db.session.expire_all()
    assert db.session.get(Template, tid).latest_version == 1


def test_a_double_click_on_publish_publishes_once(login_as):
    client = login_as("hq")
    tid, _keys = compose(client)
    seen = _revision(client.get(f"/templates/{tid}").get_data(as_text=True))
    assert client.post(f"/templates/{tid}/publish", data={"note": "", "revision": seen}).status_code == 302
    r = client.post(f"/templates/{tid}/publish", data={"note": "", "revision": seen})
    assert r.status_code == 409
    assert db.session.scalar(select(func.count()).select_from(TemplateVersion)
                             .where(TemplateVersion.template_id == tid)) == 1
    assert publish(client, tid).status_code == 422          # a form naming no revision: "nothing changed"


def test_a_double_click_on_a_store_owners_first_edit_keeps_one_override(app, org, pushed_page):
    from portal.decoration.models import BlockOverride

    _tid, keys = pushed_page
    owner, again = app.test_client(), app.test_client()
    login(owner, org.users["owner1"].username)
    login(again, org.users["owner1"].username)
    url = f"/stores/{org.stores['sh1'].id}/page/blocks/{keys['notice']}"

    def first_click():
        assert again.post(url, data={"text": "第一次", "link": ""}).status_code == 302

    with factories.just_before("INSERT INTO block_overrides", first_click):
        r = owner.post(url, data={"text": "第二次", "link": ""})
    assert r.status_code == 302
    rows = db.session.scalars(select(BlockOverride)).all()
    assert len(rows) == 1 and rows[0].data["text"] == "第二次"


@pytest.fixture
def pushed_page(login_as, org):
    from tests.decoration.helpers import push_to_region

    client = login_as("hq")
    tid, keys = compose(client)
    assert publish(client, tid, "v1").status_code == 302
    push_to_region(client, tid, 1, org.nodes["r_sh"].id)
    return tid, keys
