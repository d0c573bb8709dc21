"""HQ composes a decoration template through the editor's real endpoints."""
from __future__ import annotations

from sqlalchemy import func, select

from portal.audit.models import AuditEntry
from portal.decoration.blocks import BLOCK_TYPES
from portal.decoration.models import Template, TemplateVersion
from portal.extensions import db
from tests import factories
from tests.decoration.helpers import NOTICE_TEXT, add_block, block, draft, key_of, new_template, publish


def test_compose_a_page_with_every_block_type(login_as):
    client = login_as("hq")
    tid = new_template(client)
    for block_type in BLOCK_TYPES:
        r = client.post(f"/templates/{tid}/blocks", data={"type": block_type}, hx="editor")
        assert r.status_code == 200
        html = r.get_data(as_text=True)
        assert "<html" not in html                            # the editor partial, not a page
        assert 'id="block-panel"' in html                     # the new block's panel opens at once
        assert f'data-type="{block_type}"' in html            # in the list and in the preview
    blocks = draft(tid)
    assert [b["type"] for b in blocks] == list(BLOCK_TYPES)
    assert all(b["locked"] for b in blocks)                   # locked until HQ says otherwise

    # The full editor page shows every block in the list and in the phone preview.
    page = client.get(f"/templates/{tid}").get_data(as_text=True)
    assert page.count('class="list-group-item block-row') == len(BLOCK_TYPES)
    assert page.count('class="mp-block') == len(BLOCK_TYPES)


def test_edit_reorder_lock_and_delete_blocks(login_as):
    client = login_as("hq")
    tid = new_template(client)
    banner, notice, text = (add_block(client, tid, t) for t in ("banner", "notice", "rich_text"))

    r = client.post(f"/templates/{tid}/blocks/{notice}", data={"text": NOTICE_TEXT, "link": "/pages/member/index"},
                    hx="editor")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert NOTICE_TEXT in html and 'id="block-panel"' not in html      # saved: preview updated, panel closed
    assert block(tid, notice)["data"] == {"text": NOTICE_TEXT, "link": "/pages/member/index"}

    client.post(f"/templates/{tid}/blocks/{notice}/move", data={"direction": "up"}, hx="editor")
    assert [b["key"] for b in draft(tid)] == [notice, banner, text]
    client.post(f"/templates/{tid}/blocks/{notice}/move", data={"direction": "up"}, hx="editor")   # already first
    assert [b["key"] for b in draft(tid)] == [notice, banner, text]
    client.post(f"/templates/{tid}/blocks/{banner}/move", data={"direction": "down"}, hx="editor")
    assert [b["key"] for b in draft(tid)] == [notice, text, banner]
    assert client.post(f"/templates/{tid}/blocks/{banner}/move", data={"direction": "sideways"}).status_code == 400

    r = client.post(f"/templates/{tid}/blocks/{notice}/lock", data={"locked": "0"}, hx="editor")
    assert r.status_code == 200 and block(tid, notice)["locked"] is False
    assert 'lock-toggle is-open' in r.get_data(as_text=True)
    # Editing an editable block keeps it editable.
    client.post(f"/templates/{tid}/blocks/{notice}", data={"text": "新公告"}, hx="editor")
    assert block(tid, notice)["locked"] is False and block(tid, notice)["data"]["text"] == "新公告"
    client.post(f"/templates/{tid}/blocks/{notice}/lock", data={"locked": "1"}, hx="editor")
    assert block(tid, notice)["locked"] is True

    r = client.post(f"/templates/{tid}/blocks/{text}/delete", hx="editor")
    assert r.status_code == 200 and f'data-block="{text}"' not in r.get_data(as_text=True)
    assert [b["key"] for b in draft(tid)] == [notice, banner]
    assert client.post(f"/templates/{tid}/blocks/{text}/delete").status_code == 404      # gone

    changes = db.session.scalars(select(AuditEntry.details).where(AuditEntry.action == "template.update",
                                                                  AuditEntry.object_id == tid)).all()
    assert [c["change"] for c in changes].count("block_add") == 3
    assert {"block_edit", "block_move", "block_unlock", "block_lock", "block_delete"} <= {c["change"] for c in changes}


def test_without_htmx_every_action_redirects_back_to_the_full_editor(login_as):
    client = login_as("hq")
    tid = new_template(client)
    r = client.post(f"/templates/{tid}/blocks", data={"type": "notice"})
    key = key_of(tid, "notice")
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/templates/{tid}/blocks/{key}")
    full = client.get(r.headers["Location"])
    assert full.status_code == 200
    html = full.get_data(as_text=True)
    assert "<html" in html and 'id="block-panel"' in html and 'name="text"' in html
    fragment = client.get(f"/templates/{tid}/blocks/{key}", hx="editor").get_data(as_text=True)
    assert "<html" not in fragment and 'name="text"' in fragment
    assert "Vary" in full.headers and "HX-Request" in full.headers["Vary"]

    r = client.post(f"/templates/{tid}/blocks/{key}", data={"text": NOTICE_TEXT})
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/templates/{tid}")
    for url, data in ((f"/templates/{tid}/blocks/{key}/lock", {"locked": "0"}),
                      (f"/templates/{tid}/blocks/{key}/move", {"direction": "down"}),
                      (f"/templates/{tid}/blocks/{key}/delete", {})):
        r = client.post(url, data=data)
        assert r.status_code == 302 and r.headers["Location"].endswith(f"/templates/{tid}")
    assert draft(tid) == []


def test_invalid_block_content_is_refused_beside_the_field_and_nothing_is_saved(login_as):
    client = login_as("hq")
    tid = new_template(client)
    notice, banner, hotspot, grid = (
        add_block(client, tid, t) for t in ("notice", "banner", "image_hotspot", "goods_grid")
    )
    before = draft(tid)

    r = client.post(f"/templates/{tid}/blocks/{notice}", data={"text": "", "link": "ftp://nope"}, hx="editor")
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert 'data-field="text"' in html and 'data-field="link"' in html and 'id="block-panel"' in html

    r = client.post(f"/templates/{tid}/blocks/{banner}", hx="editor", data={
        "slides-0-image": "not-an-address", "slides-0-title": "新品", "interval": "99"})
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert 'data-field="slides-0-image"' in html and 'data-field="interval"' in html

    r = client.post(f"/templates/{tid}/blocks/{banner}", hx="editor", data={"slides-0-image": "", "interval": "4"})
    assert r.status_code == 422 and 'data-field="slides"' in r.get_data(as_text=True)    # at least one slide

    r = client.post(f"/templates/{tid}/blocks/{hotspot}", hx="editor", data={
        "image": "https://img.example.com/a.png", "hotspots-0-x": "80", "hotspots-0-y": "0",
        "hotspots-0-w": "40", "hotspots-0-h": "50", "hotspots-0-link": "/pages/goods/index"})
    assert r.status_code == 422 and 'data-field="hotspots-0-w"' in r.get_data(as_text=True)   # runs off the image

    r = client.post(f"/templates/{tid}/blocks/{grid}", hx="editor", data={
        "title": "爆款", "source": "picked", "goods": "", "columns": "2", "limit": "6"})
    assert r.status_code == 422 and 'data-field="goods"' in r.get_data(as_text=True)

    # Without htmx the whole page comes back, also with 422 and the errors.
    r = client.post(f"/templates/{tid}/blocks/{notice}", data={"text": ""})
    assert r.status_code == 422 and "<html" in r.get_data(as_text=True)
    assert draft(tid) == before


def test_lists_of_rows_offer_one_blank_row_and_drop_blank_ones(login_as):
    client = login_as("hq")
    tid = new_template(client)
    banner = add_block(client, tid, "banner")
    html = client.get(f"/templates/{tid}/blocks/{banner}", hx="editor").get_data(as_text=True)
    assert 'name="slides-0-image"' in html and 'name="slides-1-image"' in html and 'name="slides-2-image"' not in html

    r = client.post(f"/templates/{tid}/blocks/{banner}", hx="editor", data={
        "slides-0-image": "https://img.example.com/1.jpg", "slides-0-title": "春季新品", "slides-0-link": "",
        "slides-1-image": "https://img.example.com/2.jpg", "slides-1-title": "", "slides-1-link": "/pages/live/index",
        "slides-2-image": "", "slides-2-title": "", "slides-2-link": "",
        "interval": "5"})
    assert r.status_code == 200
    data = block(tid, banner)["data"]
    assert [s["image"] for s in data["slides"]] == ["https://img.example.com/1.jpg", "https://img.example.com/2.jpg"]
    assert data["interval"] == 5
    html = client.get(f"/templates/{tid}/blocks/{banner}", hx="editor").get_data(as_text=True)
    assert 'name="slides-2-image"' in html and 'name="slides-3-image"' not in html       # two filled + one blank


def test_publish_freezes_an_immutable_version(login_as):
    client = login_as("hq")
    tid = new_template(client)
    r = publish(client, tid)
    assert r.status_code == 422                                    # nothing to publish yet
    assert 'data-field="note"' in r.get_data(as_text=True)
    notice = add_block(client, tid, "notice")
    client.post(f"/templates/{tid}/blocks/{notice}", data={"text": NOTICE_TEXT}, hx="editor")

    r = publish(client, tid, note="首发")
    assert r.status_code == 302
    v1 = db.session.scalar(select(TemplateVersion).where(TemplateVersion.template_id == tid))
    assert v1.number == 1 and v1.note == "首发" and v1.blocks[0]["data"]["text"] == NOTICE_TEXT
    page = client.get(f"/templates/{tid}").get_data(as_text=True)
    assert 'data-version="1"' in page and f"/templates/{tid}/versions/1/push" in page

    # Publishing again with nothing changed is refused, clearly.
    r = publish(client, tid)
    assert r.status_code == 422 and 'data-field="note"' in r.get_data(as_text=True)

    # Editing the draft afterwards never touches v1.
    client.post(f"/templates/{tid}/blocks/{notice}", data={"text": "草稿里的新公告"}, hx="editor")
    add_block(client, tid, "store_card")
    db.session.expire_all()
    v1 = db.session.get(TemplateVersion, v1.id)
    assert len(v1.blocks) == 1 and v1.blocks[0]["data"]["text"] == NOTICE_TEXT
    shown = client.get(f"/templates/{tid}/versions/1").get_data(as_text=True)
    assert NOTICE_TEXT in shown and "草稿里的新公告" not in shown

    assert publish(client, tid).status_code == 302
    assert db.session.get(Template, tid).latest_version == 2
    assert db.session.scalar(select(func.count()).select_from(TemplateVersion)
                             .where(TemplateVersion.template_id == tid)) == 2


def test_publish_refuses_an_incomplete_block_and_says_which(login_as, org):
    client = login_as("hq")
    tid = new_template(client)
    template = db.session.get(Template, tid)
    # A block stored before a rule existed: the publish check catches it.
    template.draft = [{"key": "old1", "type": "notice", "locked": True, "data": {"text": "", "link": ""}}]
    db.session.commit()
    r = publish(client, tid)
    assert r.status_code == 422
    assert 'data-field="note"' in r.get_data(as_text=True)
    assert db.session.get(Template, tid).latest_version == 0
    assert db.session.scalar(select(func.count()).select_from(TemplateVersion)) == 0


def test_template_list_and_new_template_form(login_as):
    client = login_as("hq")
    r = client.post("/templates/new", data={"name": ""})
    assert r.status_code == 422 and 'data-field="name"' in r.get_data(as_text=True)
    tid = new_template(client, "夏季首页")
    html = client.get("/templates").get_data(as_text=True)
    assert "夏季首页" in html and f'data-template="{tid}"' in html


def test_a_distributor_sees_only_its_own_templates(login_as, org):
    hq_template, _v = factories.make_template_version(org.users["hq"], "总部首页")
    db.session.commit()
    client = login_as("east_admin")
    assert "总部首页" not in client.get("/templates").get_data(as_text=True)
    for url in (f"/templates/{hq_template.id}", f"/templates/{hq_template.id}/versions/1",
                f"/templates/{hq_template.id}/versions/1/push"):
        assert client.get(url).status_code == 404, url
    assert client.post(f"/templates/{hq_template.id}/blocks", data={"type": "notice"}).status_code == 404
    assert client.post(f"/templates/{hq_template.id}/publish", data={}).status_code == 404
    assert len(db.session.get(Template, hq_template.id).draft) == 2            # untouched

    # A distributor makes its own, owned by its part of the tree; HQ sees it too.
    tid = new_template(client, "华东首页")
    assert db.session.get(Template, tid).path == org.nodes["east"].path
    client = login_as("south_admin")
    assert client.get(f"/templates/{tid}").status_code == 404
    client = login_as("hq")
    html = client.get("/templates").get_data(as_text=True)
    assert "华东首页" in html and "总部首页" in html
    assert client.get(f"/templates/{tid}").status_code == 200
