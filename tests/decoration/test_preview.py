"""A page preview with real data: a store's page (the owner's /my/page, HQ's view of it) draws its
goods grids with the store's own goods on its shelf at its own prices, running campaign prices,
and its coupon strip with the coupons it runs; HQ's editor does so for a sample store it picks
(none picked: placeholders, labelled as such). A fixed number of statements per preview."""
from __future__ import annotations

import re
from datetime import timedelta

from portal.assortments.models import StoreAssortment
from portal.extensions import db as _db
from portal.goods.services import add_image
from portal.kernel.time import utcnow
from portal.org.scope import scope_for
from portal.pushes import services as pushes
from portal.shelf.models import Listing
from portal.targets.services import TargetSpec
from tests.campaigns.helpers import make_campaign, push
from tests.factories import make_assortment, make_product, make_template_version, png_bytes, sql_log


def _grid(key, category="茶饮", limit=6, columns=2, source="category", goods=""):
    return {"key": key, "type": "goods_grid", "locked": True,
            "data": {"title": "人气推荐", "source": source, "category": category, "goods": goods,
                     "columns": columns, "limit": limit}}


def _strip(key, source="auto", coupons=""):
    return {"key": key, "type": "coupon_strip", "locked": True,
            "data": {"title": "领券中心", "source": source, "coupons": coupons, "limit": 3}}


def _shop(org):
    """sh1 carries HQ's 茶饮 (three products, one off its shelf, one at its own price, one with a
    picture), has a local 茶饮 of its own, and gd1 has one too (never seen in sh1)."""
    hq = org.users["hq"]
    milk = make_product(org.nodes["hq"], "MILK", name="茉莉奶绿", category="茶饮", skus=2, list_price=1800,
                        floor=1000, ceiling=2500)
    lemon = make_product(org.nodes["hq"], "LEMON", name="暴打柠檬茶", category="茶饮", skus=1, list_price=1600,
                         floor=1000, ceiling=2500)
    hidden = make_product(org.nodes["hq"], "HIDDEN", name="已下架奶茶", category="茶饮", skus=1)
    cake = make_product(org.nodes["hq"], "CAKE", name="芝士蛋糕", category="甜品", skus=1, list_price=2800,
                        floor=2000, ceiling=3500)
    make_product(org.stores["sh1"], "OWN", name="本店招牌柚子茶", category="茶饮", skus=1, list_price=1200,
                 floor=0, ceiling=9999)
    make_product(org.stores["gd1"], "GDOWN", name="广州店自制凉茶", category="茶饮", skus=1)
    a = make_assortment(org.nodes["hq"], [milk, lemon, hidden, cake])
    sh1 = org.stores["sh1"]
    _db.session.add(StoreAssortment(store_id=sh1.id, assortment_id=a.id))
    _db.session.add(Listing(store_id=sh1.id, sku_id=lemon.skus[0].id, price=1500, on_shelf=True))
    _db.session.add(Listing(store_id=sh1.id, sku_id=hidden.skus[0].id, on_shelf=False))
    add_image(scope_for(hq), milk, png_bytes(), actor=hq)
    _db.session.commit()
    return {"milk": milk, "lemon": lemon, "cake": cake}


def _page(org, blocks):
    hq = org.users["hq"]
    template, version = make_template_version(hq, "实数据首页", blocks=blocks)
    pushes.create_push(scope_for(hq), "template", version.id, "实数据首页 v1", TargetSpec(store_codes=["SH001"]),
                       actor=hq)
    _db.session.commit()
    return template


def _coupon_and_flash_sale(org):
    hq, now = org.users["hq"], utcnow()
    coupon = make_campaign(hq, name="满100减10")
    flash = make_campaign(hq, kind="flash_sale", name="奶绿秒杀",
                          rules={"items": [{"sku": "MILK-1", "price_fen": 990, "quantity": 50}],
                                 "sale_starts": (now - timedelta(hours=1)).isoformat(),
                                 "sale_ends": (now + timedelta(days=1)).isoformat()})
    for c in (coupon, flash):
        push(hq, c, TargetSpec(store_codes=["SH001"]))
    return coupon, flash


def test_the_owners_page_shows_its_own_goods_prices_and_coupons(en, org, db):
    goods = _shop(org)
    coupon, _flash = _coupon_and_flash_sale(org)
    _page(org, [_grid("g1"), _strip("c1")])
    html = en("owner1").get("/my/page").get_data(as_text=True)
    grid = html[re.search(r'<section[^>]*data-block="g1"', html).start():]
    grid = grid[:grid.index("</section>")]
    assert "本店招牌柚子茶" in grid and "茉莉奶绿" in grid and "暴打柠檬茶" in grid
    assert "已下架奶茶" not in grid and "广州店自制凉茶" not in grid and "芝士蛋糕" not in grid
    # The store's own price (¥15.00 under the ¥16.00 list price), the running flash sale's price.
    lemon = grid[grid.index('data-sku="LEMON-1"'):]
    assert 'data-price="1500"' in lemon[:1500] and "¥16.00" in lemon[:1500]
    milk = grid[grid.index('data-sku="MILK-1"'):]
    assert "Flash sale" in milk[:1500] and 'data-price="990"' in milk[:1500] and 'data-was="1800"' in milk[:1500]
    assert re.search(r'<img class="mp-good-img" src="/media/goods/[0-9a-f]{32}-t\.png"', milk[:1500])
    # Only the cheapest SKU of a product: one card for 茉莉奶绿.
    assert grid.count("茉莉奶绿") == 1
    strip = html[html.index("data-real-coupons"):]
    assert f'data-coupon="{coupon.id}"' in strip and "¥10.00" in strip and re.search(r"Over \S*¥100\.00", strip)
    assert "data-sample-data" not in html
    assert goods["cake"].name not in grid


def test_hq_sees_the_store_page_with_the_same_real_data_and_empty_blocks_say_so(en, org, db):
    _shop(org)
    _page(org, [_grid("g1", category="咖啡"), _grid("g2", source="picked", goods="CAKE, lemon-1, NOPE"),
                _strip("c1")])
    html = en("hq").get(f"/stores/{org.stores['sh1'].id}/page").get_data(as_text=True)
    assert "This store has no goods on its shelf in “咖啡”." in html
    picked = html[re.search(r'<section[^>]*data-block="g2"', html).start():]
    picked = picked[:picked.index("</section>")]
    assert picked.index("芝士蛋糕") < picked.index("暴打柠檬茶") and "data-no-goods" not in picked
    assert "This store runs no coupon right now" in html
    # Another distributor's store page: not there at all.
    assert en("south_admin").get(f"/stores/{org.stores['sh1'].id}/page").status_code == 404


def test_the_editor_previews_with_a_sample_store_it_picks(en, org, db):
    _shop(org)
    template = _page(org, [_grid("g1"), _strip("c1")])
    client = en("hq")
    html = client.get(f"/templates/{template.id}").get_data(as_text=True)
    assert "data-sample-data" in html and "data-real-goods" not in html and "Item 1" in html
    found = client.get(f"/templates/{template.id}/sample-stores?q=上海", hx="sample-store-results")
    fragment = found.get_data(as_text=True)
    assert "<html" not in fragment and 'data-store="SH001"' in fragment and 'data-store="GD001"' not in fragment
    page = client.get(f"/templates/{template.id}/sample-stores?q=上海").get_data(as_text=True)
    assert "<html" in page and 'data-store="SH001"' in page          # without htmx: a page of its own
    r = client.post(f"/templates/{template.id}/sample-store", data={"store_id": str(org.stores["sh1"].id)},
                    hx="editor")
    fragment = r.get_data(as_text=True)
    assert r.status_code == 200 and "<html" not in fragment
    assert 'data-chosen-store="SH001"' in fragment and "data-real-goods" in fragment and "茉莉奶绿" in fragment
    # The choice holds for the next page and for the published versions.
    assert "茉莉奶绿" in client.get(f"/templates/{template.id}").get_data(as_text=True)
    assert "茉莉奶绿" in client.get(f"/templates/{template.id}/versions/1").get_data(as_text=True)
    # Back to sample data.
    r = client.post(f"/templates/{template.id}/sample-store", data={"store_id": ""})
    assert r.status_code == 302
    assert "data-real-goods" not in client.get(f"/templates/{template.id}").get_data(as_text=True)


def test_a_distributor_picks_only_its_own_stores(en, org, db):
    client = en("east_admin")
    r = client.post("/templates/new", data={"name": "华东首页"})
    tid = int(re.search(r"/templates/(\d+)", r.headers["Location"]).group(1))
    options = client.get(f"/templates/{tid}/sample-stores").get_data(as_text=True)
    assert 'data-store="SH001"' in options and 'data-store="JS001"' in options and "GD001" not in options
    assert "No store matches “广州”." in client.get(f"/templates/{tid}/sample-stores?q=广州").get_data(as_text=True)
    foreign = str(org.stores["gd1"].id)
    assert client.post(f"/templates/{tid}/sample-store", data={"store_id": foreign}).status_code == 404
    assert client.post(f"/templates/{tid}/sample-store", data={"store_id": "abc"}).status_code == 404
    html = client.get(f"/templates/{tid}").get_data(as_text=True)
    assert "data-chosen-store" not in html


def test_a_preview_takes_a_fixed_number_of_statements(en, org, db):
    _shop(org)
    _coupon_and_flash_sale(org)
    client = en("owner1")
    _page(org, [_grid("g1"), _strip("c1")])
    with sql_log() as few:
        client.get("/my/page")
    for i in range(5):
        make_product(org.stores["sh1"], f"MORE{i}", category=f"类目{i}", skus=3)
    _db.session.commit()
    _page(org, [_grid("g1"), _grid("g2", category="甜品"), _grid("g3", source="picked", goods="MILK, CAKE-1"),
                *[_grid(f"m{i}", category=f"类目{i}") for i in range(5)], _strip("c1"), _strip("c2")])
    with sql_log() as many:
        html = client.get("/my/page").get_data(as_text=True)
    assert html.count("data-real-goods") == 8 and html.count("data-real-coupons") == 2
    assert len(many) == len(few), "\n".join(many)
