"""The goods picker (/goods/picker): the goods an admin may use (HQ's catalog and its own
subtree's, never another distributor's nor a store's own, never archived), searched by name,
product code or SKU code, filtered by category and paged by the server; and the pages that take
what it picks refuse what it would never have offered (a forged id or code) beside the field."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from portal.campaigns.models import Campaign
from portal.extensions import db
from portal.goods.models import ProductImage
from portal.goods.services import PICKER_PER_PAGE
from tests.decoration.helpers import add_block, block, new_template
from tests.factories import make_product


@pytest.fixture
def catalog(org, db):
    """HQ's 乌龙茶 (two SKUs, a picture) and 拿铁 (咖啡); 华东's EAST; 华南's SOUTH; a store's own
    LOCAL; HQ's archived OLD."""
    oolong = make_product(org.nodes["hq"], "TEA", name="乌龙茶", category="茶饮", list_price=1800, floor=1000,
                          ceiling=3000)
    db.session.add(ProductImage(product_id=oolong.id, filename="a" * 32 + ".png", thumb="a" * 32 + "-t.png"))
    make_product(org.nodes["hq"], "LATTE", name="拿铁", category="咖啡", skus=1)
    make_product(org.nodes["east"], "EAST", name="华东特供", category="茶饮", skus=1)
    make_product(org.nodes["south"], "SOUTH", name="华南特供", category="茶饮", skus=1)
    make_product(org.stores["sh1"], "LOCAL", name="自制蛋挞", category="烘焙", skus=1)
    make_product(org.nodes["hq"], "OLD", name="停售", category="茶饮", skus=1, archived=True)
    db.session.commit()


def _codes(html: str) -> list[str]:
    return re.findall(r'data-code="([^"]+)"', html)


def _rows(client, **args):
    r = client.get("/goods/picker", query_string=args, hx="goods-picker-rows")
    assert r.status_code == 200
    return r.get_data(as_text=True)


def test_a_distributor_picks_hqs_goods_and_its_own_only(en, catalog):
    html = _rows(en("east_admin"))
    assert "<html" not in html and "<form" not in html           # the rows only, for the htmx swap
    assert _codes(html) == ["EAST", "LATTE", "TEA"]
    assert _codes(_rows(en("hq"))) == ["EAST", "LATTE", "SOUTH", "TEA"]
    assert _codes(_rows(en("south_admin"), q="华东")) == []


def test_skus_show_their_spec_and_list_price_and_the_first_picture(en, catalog):
    html = _rows(en("hq"), mode="skus", q="乌龙")
    assert _codes(html) == ["TEA-1", "TEA-2"]
    assert 'data-price="CN¥18.00"' in html and 'data-price-text="18.00"' in html and 'data-spec="规格1"' in html
    assert f'data-thumb="/media/goods/{"a" * 32}-t.png"' in html
    assert 'type="checkbox"' in html
    assert 'type="radio"' in _rows(en("hq"), mode="skus", single="1")


def test_search_by_name_product_code_or_sku_code_and_filter_by_category(en, catalog):
    client = en("hq")
    assert _codes(_rows(client, q="拿铁")) == ["LATTE"]
    assert _codes(_rows(client, q="latte")) == ["LATTE"]
    assert _codes(_rows(client, q="TEA-2", mode="skus")) == ["TEA-1", "TEA-2"]     # the product, with its SKUs
    assert _codes(_rows(client, category="咖啡")) == ["LATTE"]
    assert "No goods match" in _rows(client, q="没有这种商品")


def test_the_modal_body_has_the_search_and_the_categories_in_scope(en, catalog):
    client = en("east_admin")
    r = client.get("/goods/picker", hx=True)
    html = r.get_data(as_text=True)
    assert "<html" not in html and 'id="picker-q"' in html and 'id="goods-picker-rows"' in html
    assert re.findall(r'<option value="([^"]+)"', html) == ["咖啡", "茶饮"]            # not 烘焙 (a store's own)
    page = client.get("/goods/picker").get_data(as_text=True)                        # without htmx: a page
    assert "<html" in page and 'id="goods-picker-rows"' in page


def test_the_picker_pages_on_the_server(en, org, db):
    for i in range(PICKER_PER_PAGE + 3):
        make_product(org.nodes["hq"], f"G{i:03d}", skus=1)
    db.session.commit()
    client = en("hq")
    first, second = _rows(client), _rows(client, page="2")
    assert len(_codes(first)) == PICKER_PER_PAGE and _codes(second) == ["G010", "G011", "G012"]
    assert "13 products match" in first and 'hx-target="#goods-picker-rows"' in first
    assert _codes(_rows(client, page="99")) == _codes(second)                        # past the end: the last page


def test_store_owners_and_managers_have_no_picker(login_as, catalog):
    for name in ("owner1", "sh_manager"):
        assert login_as(name).get("/goods/picker").status_code == 403


# --------------------------------------------------------------------------- what the pages take from it

BASE = {"name": "秒杀", "starts_at": "2031-03-01T10:00", "ends_at": "2031-03-31T22:00", "participation": "mandatory",
        "join_deadline": "", "rules-sale_starts": "2031-03-05T10:00", "rules-sale_ends": "2031-03-05T12:00"}


def _feedback(html: str, field: str) -> str:
    return " ".join(re.findall(rf'data-field="{field}">(.*?)</div>', html, re.S))


def test_a_flash_sale_shows_each_picked_sku_with_its_list_price_beside_the_sale_price(en, catalog):
    client = en("east_admin")
    r = client.post("/campaigns/new/flash_sale", data={
        **BASE, "rules-items-0-sku": "TEA-1", "rules-items-0-price": "20", "rules-items-0-quantity": "10",
        "rules-items-3-sku": "SOUTH-1", "rules-items-3-price": "5", "rules-items-3-quantity": "10"})
    html = r.get_data(as_text=True)
    assert r.status_code == 422
    # A SKU of another distributor, forged into the form, is refused on its own row (the rows come
    # back numbered 0, 1, … whatever gaps removed rows left).
    assert _feedback(html, "rules-items-1-sku") == "Unknown SKU SOUTH-1"
    assert _feedback(html, "rules-items-0-sku") == ""
    assert _feedback(html, "rules-items-0-price") == "The flash-sale price must be below the list price CN¥18.00."
    row = re.search(r'<tr data-key="TEA-1">(.*?)</tr>', html, re.S).group(1)
    assert "乌龙茶" in row and "CN¥18.00" in row and 'value="20"' in row
    assert db.session.scalar(select(func.count()).select_from(Campaign)) == 0
    r = client.post("/campaigns/new/flash_sale", data={
        **BASE, "rules-items-0-sku": "tea-1", "rules-items-0-price": "9.9", "rules-items-0-quantity": "10",
        "rules-items-3-sku": "EAST-1", "rules-items-3-price": "5", "rules-items-3-quantity": "20"})
    assert r.status_code == 302
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert re.search(r'data-goods="TEA-1">.*?乌龙茶.*?<s>CN¥18.00</s>.*?CN¥9.90', page, re.S)


@pytest.mark.parametrize("kind,price", [("bargain", "floor_price"), ("group_buy", "price")])
def test_one_sku_kinds_show_the_picked_sku_beside_their_price(en, catalog, kind, price):
    client = en("hq")
    data = {**BASE, "rules-sku": "TEA-2", f"rules-{price}": "30", "rules-helpers": "3", "rules-hours": "24",
            "rules-group_size": "3"}
    html = client.post(f"/campaigns/new/{kind}", data=data).get_data(as_text=True)
    assert "乌龙茶" in html and "CN¥18.00" in html and 'name="rules-sku" type="hidden" value="TEA-2"' in html
    assert "must be below the list price CN¥18.00 of TEA-2" in _feedback(html, f"rules-{price}")
    forged = client.post(f"/campaigns/new/{kind}", data={**data, "rules-sku": "LOCAL-1"}).get_data(as_text=True)
    assert _feedback(forged, "rules-sku") == "Unknown SKU LOCAL-1"
    assert db.session.scalar(select(func.count()).select_from(Campaign)) == 0


def test_the_goods_grid_takes_only_goods_the_editor_may_use(en, catalog):
    client = en("east_admin")
    tid = new_template(client)
    key = add_block(client, tid, "goods_grid")
    editor = client.get(f"/templates/{tid}").get_data(as_text=True)
    assert 'id="goods-picker"' in editor                                      # the picker, once, on the page
    form = {"title": "推荐", "source": "picked", "columns": "2", "limit": "6"}
    r = client.post(f"/templates/{tid}/blocks/{key}", data={**form, "goods": "tea, SOUTH"})
    assert r.status_code == 422
    assert _feedback(r.get_data(as_text=True), "goods") == "Not in your goods library: SOUTH"
    assert block(tid, key)["data"]["goods"] == ""
    r = client.post(f"/templates/{tid}/blocks/{key}", data={**form, "goods": "tea, EAST, LATTE"})
    assert r.status_code == 302
    assert block(tid, key)["data"]["goods"] == "TEA, EAST, LATTE"              # as the library spells them
    panel = client.get(f"/templates/{tid}/blocks/{key}", hx="editor").get_data(as_text=True)
    assert re.findall(r'data-goods="([^"]+)"', panel) == ["TEA", "EAST", "LATTE"] and "华东特供" in panel
