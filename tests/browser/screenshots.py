"""Screenshots of the portal for the docs and for a look at the layout.

    .venv/bin/python tests/browser/screenshots.py [--out docs/screenshots] [--stores 3000] [--only NAME ...]

Pages in zh-CN at 1366×768, the store owner's at 390×844. Each part of the portal may add its
pages as a *scene* module (``tests/browser/scenes_<part>.py`` with ``desktop(page, shot)`` signed
in as hq and/or ``phone(page, shot)`` signed in as the owner) listed in SCENES below.

Builds a demo brand in a throw-away SQLite database migrated with Alembic, serves it on a free
local port, drives Debian's Chromium through the main pages in Chinese and writes PNGs.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

CHROMIUM = "/usr/bin/chromium"
# The browser's own widgets (file picker button, date fields) follow Chromium's UI language:
# English unless Debian's chromium-l10n is installed.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--lang=zh-CN"]
DESKTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}

BAD_CSV = ("门店编码,门店名称,城市,地址,区域编码,状态,标签\n"
           "S900001,鲜果时光·杭州湖滨银泰店,杭州,湖滨路1号,R-ZJ,营业中,旗舰店\n"
           "S900002,鲜果时光·杭州武林店,杭州,武林路2号,R-XX,营业中,\n"
           "S900003,,杭州,江南大道3号,R-ZJ,营业中,\n"
           "S900004,鲜果时光·宁波天一店,宁波,中山东路4号,R-ZJ,装修中,\n"
           "S900001,鲜果时光·杭州湖滨银泰店,杭州,湖滨路1号,R-ZJ,营业中,\n")


def build_app(db_path: str, n_stores: int):
    """A migrated SQLite database with the demo brand and a few changes in its audit log."""
    from flask_migrate import upgrade
    from sqlalchemy import select

    from portal import create_app
    from portal.extensions import db
    from portal.org import demo, roles, services
    from portal.org.models import OrgNode, Store, User
    from portal.org.scope import scope_for

    app = create_app("development", SQLALCHEMY_DATABASE_URI=f"sqlite:///{db_path}",
                     LOGIN_THROTTLE_STORAGE="memory://", SECRET_KEY="screenshots", JOBS_BACKEND="eager")
    with app.app_context():
        upgrade()
        demo.seed_demo(n_stores)
        db.session.commit()
        # Some history, made through the services as a person would through the pages.
        with app.test_request_context(environ_base={"REMOTE_ADDR": "10.8.0.12"}):
            hq = db.session.scalar(select(User).where(User.username == "hq"))
            scope = scope_for(hq)
            stores = db.session.scalars(select(Store).order_by(Store.code).limit(6)).all()
            services.set_store_status(scope, stores[1], roles.STORE_SUSPENDED, actor=hq)
            services.set_store_status(scope, stores[2], roles.STORE_CLOSED, actor=hq)
            zj = db.session.scalar(select(OrgNode).where(OrgNode.code == "R-ZJ"))
            services.bulk_add_tag(scope, select(Store.id).where(Store.node_id == zj.id), "夏季新品", actor=hq)
            services.rename_node(scope, zj, "浙江大区", actor=hq)
            services.create_user(scope, username="hangzhou", display_name="杭州区域经理 周涛",
                                 role=roles.REGIONAL_MANAGER, node_id=zj.id, store_code="",
                                 password="demo-2026", actor=hq)
            services.create_user(scope, username="owner_s000004", display_name="店主 " + stores[3].owner_name,
                                 role=roles.STORE_OWNER, node_id=None, store_code=stores[3].code,
                                 password="demo-2026", actor=hq)
            from portal.campaigns.demo import seed_goods_and_campaign
            from portal.decoration.demo import seed_decoration
            seed_decoration(hq)
            seed_goods_and_campaign(hq)
            # The draft moves on after v1: a new block waiting to be published.
            from portal.decoration import services as deco
            from portal.decoration.models import Template
            from portal.org.scope import scope_for
            deco.add_block(scope_for(hq), db.session.scalar(select(Template)), "notice", actor=hq)
        db.session.commit()
        db.session.remove()
    return app


class Server:
    def __init__(self, app):
        from werkzeug.serving import WSGIRequestHandler, make_server

        class Quiet(WSGIRequestHandler):
            def log_request(self, *args, **kwargs):
                pass

        self.server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=Quiet)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def log_in(page, username: str, password: str = "demo-2026") -> None:
    page.goto("/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("form[action^='/login'] button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)


def settle(page) -> None:
    page.wait_for_load_state("networkidle")
    page.evaluate("document.fonts.ready")


APP = None                         # the demo app being shot, once main() has built it (see main)

# Modules of extra pages: each may define desktop(page, shot) and phone(page, shot).
# scenes_live first: it seeds members, orders and rooms as `flask seed-demo` does, on the demo
# before the other scenes change its campaigns.
SCENES: list[str] = ["scenes_live", "scenes_marketing", "scenes_pushes", "scenes_storepicker", "scenes_goodspicker",
                     "scenes_images", "scenes_preview", "scenes_words", "scenes_identity", "scenes_orders",
                     "scenes_audiences", "scenes_rfm", "scenes_ingest", "scenes_commission"]


def _scenes():
    import importlib

    return [importlib.import_module(f"tests.browser.{name}") for name in SCENES]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    parser.add_argument("--stores", type=int, default=3000)
    parser.add_argument("--only", nargs="*", help="write only these screenshots (names without .png)")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    from playwright.sync_api import sync_playwright

    started = time.perf_counter()
    tmp = tempfile.mkdtemp(prefix="portal-shots-")
    os.environ.setdefault("PORTAL_INSTANCE_PATH", tmp)
    app = build_app(os.path.join(tmp, "demo.db"), args.stores)
    # Scenes that stage data through the services use it (they import this module by its name:
    # run as a script, it is __main__ here).
    from tests.browser import screenshots as named

    named.APP = app
    shots: list[Path] = []

    def shot(page, name: str, full_page: bool = False) -> None:
        if args.only and name not in args.only:
            return
        settle(page)
        path = out / f"{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        shots.append(path)

    with Server(app) as server, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)

        desk = browser.new_context(base_url=server.url, viewport=DESKTOP, locale="zh-CN")
        page = desk.new_page()
        page.goto("/login")
        shot(page, "login")

        log_in(page, "hq")
        shot(page, "overview")

        page.goto("/stores")
        shot(page, "stores")

        page.locator("input[name=q]").press_sequentially("杭州", delay=40)
        page.wait_for_url("**q=*")
        page.select_option("select[name=status]", "active")
        page.wait_for_url("**status=active*")
        page.check("#bulk-form [data-select-all]")
        shot(page, "stores-filtered")

        page.click("#store-rows tbody tr:first-child td:nth-child(3) a")
        page.wait_for_url("**/stores/*")
        shot(page, "store", full_page=True)

        page.goto("/org")
        shot(page, "org-tree", full_page=True)

        page.goto("/audit")
        shot(page, "audit")

        page.goto("/users")
        shot(page, "users", full_page=True)

        page.goto("/templates")
        page.click("#template-rows a.fw-bold")
        page.wait_for_selector("#editor")
        page.click("#block-list .block-row[data-type=notice] a.block-text")
        page.wait_for_selector("#block-panel")
        page.wait_for_timeout(400)
        shot(page, "template-editor")

        # The push form: a region ticked, the reach updated live.
        page.goto(page.url.split("#")[0].rstrip("/") + "/versions/1/push")
        page.locator(".target-fields input[name=node_ids]").nth(4).check()
        page.wait_for_selector("[data-reach]")
        page.wait_for_timeout(300)
        shot(page, "push-form")
        page.goto("/pushes")
        page.click("table a >> nth=0")
        page.wait_for_selector("#push-progress")
        shot(page, "push-detail")

        page.goto("/goods")
        shot(page, "goods")
        page.goto("/campaigns")
        shot(page, "campaigns")
        page.click("table a >> nth=0")
        page.wait_for_timeout(300)
        shot(page, "campaign", full_page=True)

        page.goto("/stores/import")
        page.set_input_files("input[type=file][name=file]",
                            files=[{"name": "门店.csv", "mimeType": "text/csv", "buffer": BAD_CSV.encode()}])
        page.click("form[enctype='multipart/form-data'] button[type=submit]")
        page.wait_for_selector("#import-errors")
        shot(page, "import-errors", full_page=True)
        for scene in _scenes():
            if hasattr(scene, "desktop"):
                page.goto("/")
                scene.desktop(page, shot)
        desk.close()

        phone = browser.new_context(base_url=server.url, viewport=PHONE, device_scale_factor=2,
                                    is_mobile=True, has_touch=True, locale="zh-CN")
        page = phone.new_page()
        log_in(page, "owner")
        shot(page, "phone-owner-home", full_page=True)
        page.click("[data-toggle-menu]")
        shot(page, "phone-owner-menu")
        page.click("[data-toggle-menu]")
        page.goto("/my/page")
        shot(page, "phone-owner-page", full_page=True)
        page.click("#page-blocks .block-row[data-type=notice] [data-edit]")
        page.wait_for_selector("#block-panel")
        shot(page, "phone-owner-page-edit")
        page.goto("/my/goods")
        shot(page, "phone-owner-goods")
        page.goto("/my/campaigns")
        shot(page, "phone-owner-campaigns", full_page=True)
        for scene in _scenes():
            if hasattr(scene, "phone"):
                page.goto("/")
                scene.phone(page, shot)
        page.context.clear_cookies()
        log_in(page, "hq")
        page.goto("/stores")
        shot(page, "phone-stores")
        phone.close()
        browser.close()

    for path in shots:
        print(f"  {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    print(f"{len(shots)} screenshots in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
