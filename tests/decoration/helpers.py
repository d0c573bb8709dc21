"""Helpers for the decoration tests: everything goes through the real HTTP endpoints."""
from __future__ import annotations

import re

from portal.decoration.models import Template
from portal.extensions import db

NOTICE_TEXT = "本店会员日：全场第二杯半价"


def new_template(client, name: str = "春季首页") -> int:
    r = client.post("/templates/new", data={"name": name})
    assert r.status_code == 302, r.get_data(as_text=True)[:500]
    return int(re.search(r"/templates/(\d+)", r.headers["Location"]).group(1))


def draft(template_id: int) -> list[dict]:
    db.session.expire_all()
    return db.session.get(Template, template_id).draft


def add_block(client, template_id: int, block_type: str) -> str:
    before = {b["key"] for b in draft(template_id)}
    r = client.post(f"/templates/{template_id}/blocks", data={"type": block_type}, hx="editor")
    assert r.status_code == 200, r.get_data(as_text=True)[:500]
    (key,) = {b["key"] for b in draft(template_id)} - before
    return key


def key_of(template_id: int, block_type: str) -> str:
    return next(b["key"] for b in draft(template_id) if b["type"] == block_type)


def block(template_id: int, key: str) -> dict:
    return next(b for b in draft(template_id) if b["key"] == key)


def publish(client, template_id: int, note: str = ""):
    return client.post(f"/templates/{template_id}/publish", data={"note": note})


def push_to_region(client, template_id: int, number: int, node_id: int) -> int:
    r = client.post(f"/templates/{template_id}/versions/{number}/push",
                    data={"target_id": "", "node_ids": [str(node_id)], "active_only": "y"})
    assert r.status_code == 302, r.get_data(as_text=True)[:2000]
    return int(re.search(r"/pushes/(\d+)", r.headers["Location"]).group(1))


def compose(client, name: str = "春季首页") -> tuple[int, dict[str, str]]:
    """A template with a locked banner, an editable notice and an editable rich text block."""
    tid = new_template(client, name)
    keys = {t: add_block(client, tid, t) for t in ("banner", "notice", "rich_text")}
    for t in ("notice", "rich_text"):
        assert (
            client.post(f"/templates/{tid}/blocks/{keys[t]}/lock", data={"locked": "0"}, hx="editor").status_code == 200
        )
    return tid, keys
