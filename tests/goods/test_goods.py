"""HQ's goods library: products, SKU prices and bounds, pictures, CSV import, and price changes
flowing to the stores (clamped listings and notices)."""
from __future__ import annotations

import io
import os

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.goods import services
from portal.goods.models import Product, ProductImage, Sku
from portal.org.scope import scope_for
from portal.shelf.models import Listing, StoreNotice
from tests.factories import make_product, png_bytes, sql_log


@pytest.fixture(autouse=True)
def _english(client):
    """These tests read the English messages; tests/test_i18n.py checks the Chinese ones."""
    client.set_cookie("lang", "en")


def _form(code="CF-001", name="拿铁", category="咖啡", skus=(("CF-001-L", "规格:大杯;温度:冰", "18", "15", "25"),),
          direct=False, commission="", **extra):
    data = {"code": code, "name": name, "category": category, "description": "", "commission": commission,
            "action": "save"}
    if direct:
        data["direct_sale"] = "y"
    for i, row in enumerate(skus):
        for key, value in zip(("code", "spec", "list_price", "price_floor", "price_ceiling"), row, strict=True):
            data[f"skus-{i}-{key}"] = value
    data.update(extra)
    return data


def _product(code):
    return db.session.scalar(select(Product).where(Product.code == code))


# --------------------------------------------------------------------------- create / edit

def test_hq_creates_a_product_with_skus(login_as, org):
    client = login_as("hq")
    r = client.post("/goods/new", data=_form(direct=True, commission="12.5"))
    assert r.status_code == 302, r.get_data(as_text=True)[:2000]
    p = _product("CF-001")
    assert (p.name, p.category, p.direct_sale, p.commission_rate, p.path) == ("拿铁", "咖啡", True, 1250,
                                                                              org.nodes["hq"].path)
    sku = p.skus[0]
    assert (sku.code, sku.spec, sku.list_price, sku.price_floor, sku.price_ceiling) == (
        "CF-001-L", {"规格": "大杯", "温度": "冰"}, 1800, 1500, 2500)
    page = client.get("/goods").get_data(as_text=True)
    assert "拿铁" in page and "¥18.00" in page


@pytest.mark.parametrize("skus,extra,message", [
    ((("S1", "", "18", "19", "25"),), {}, "floor price may not be above"),
    ((("S1", "", "18", "15", "17"),), {}, "ceiling price may not be below"),
    ((("S1", "", "18.123", "", ""),), {}, "At most two decimals"),
    ((("S1", "", "abc", "", ""),), {}, "Not an amount of money"),
    ((("S1", "", "-1", "", ""),), {}, "Not an amount of money"),
    ((("S1", "", "", "", ""),), {}, "This field is required"),
    ((("S1", "大杯", "18", "", ""),), {}, "name:value"),
    ((("S 1", "", "18", "", ""),), {}, "Letters, digits"),
    ((("S1", "", "18", "", ""), ("s1", "", "20", "", "")), {}, "used twice"),
    ((("S1", "", "18", "", ""),), {"commission": "101", "direct_sale": "y"}, "between 0 and 100"),
    ((("S1", "", "18", "", ""),), {"commission": "-1", "direct_sale": "y"}, "between 0 and 100"),
    ((("S1", "", "18", "", ""),), {"commission": "1.234", "direct_sale": "y"}, "At most two decimals"),
    ((), {}, "at least one SKU"),
])
def test_product_form_rules(login_as, skus, extra, message):
    client = login_as("hq")
    r = client.post("/goods/new", data=_form(skus=skus, **extra))
    assert r.status_code == 422
    assert message in r.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Product.id))) == 0


def test_codes_are_unique_across_products(login_as, org):
    make_product(org.nodes["hq"], "CF-001")
    other = make_product(org.nodes["hq"], "TEA-1")
    db.session.commit()
    client = login_as("hq")
    r = client.post("/goods/new", data=_form(code="cf-001"))
    assert r.status_code == 422 and "already has the code" in r.get_data(as_text=True)
    r = client.post("/goods/new", data=_form(code="CF-002", skus=((other.skus[0].code, "", "18", "", ""),)))
    assert r.status_code == 422 and "belongs to another product" in r.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Product.id))) == 2


def test_edit_page_shows_skus_and_saves(login_as, org):
    p = make_product(org.nodes["hq"], "CF-9", skus=2)
    db.session.commit()
    client = login_as("hq")
    page = client.get(f"/goods/{p.id}").get_data(as_text=True)
    assert 'value="CF-9-1"' in page and 'value="10.00"' in page and "规格:规格1" in page
    # Change the first SKU, remove the second, add a third.
    data = _form(code="CF-9", name="新名字", skus=(("CF-9-1", "", "12", "8", "15"), ("CF-9-2", "", "10", "8", "15"),
                                                ("CF-9-3", "颜色:红", "9.9", "", "")))
    data["skus-0-id"], data["skus-1-id"], data["skus-1-remove"] = str(p.skus[0].id), str(p.skus[1].id), "y"
    r = client.post(f"/goods/{p.id}", data=data)
    assert r.status_code == 303, r.get_data(as_text=True)[:3000]
    db.session.expire_all()
    p = _product("CF-9")
    assert p.name == "新名字"
    assert [(s.code, s.list_price, s.price_floor, s.price_ceiling) for s in p.skus] == [
        ("CF-9-1", 1200, 800, 1500), ("CF-9-3", 990, 990, 990)]


def test_add_row_button_offers_another_sku_row(login_as):
    client = login_as("hq")
    r = client.post("/goods/new", data=_form(action="add_row"))
    assert r.status_code == 200
    assert 'name="skus-1-code"' in r.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Product.id))) == 0


def test_archive_and_filter(login_as, org):
    p = make_product(org.nodes["hq"], "OLD-1", name="旧款")
    make_product(org.nodes["hq"], "NEW-1", name="新款", direct_sale=True, commission_rate=500)
    db.session.commit()
    client = login_as("hq")
    assert client.post(f"/goods/{p.id}/archive", data={"archived": "1"}).status_code == 303
    assert "旧款" not in client.get("/goods", hx="product-rows").get_data(as_text=True)
    assert "旧款" in client.get("/goods?archived=1", hx="product-rows").get_data(as_text=True)
    direct = client.get("/goods?direct=1").get_data(as_text=True)
    assert "新款" in direct and "5.00%" in direct
    assert "新款" not in client.get("/goods?direct=0").get_data(as_text=True)
    found = client.get("/goods?q=new", hx="product-rows").get_data(as_text=True)
    assert "新款" in found and "<html" not in found
    assert "新款" in client.get("/goods?category=饮品").get_data(as_text=True)
    assert "<html" in client.get("/goods?q=new").get_data(as_text=True)


# --------------------------------------------------------------------------- who may do what

def test_distributor_sees_hq_goods_read_only(login_as, org):
    hq_product = make_product(org.nodes["hq"], "HQ-1", name="总部商品")
    south = make_product(org.nodes["south"], "SO-1", name="华南商品")
    db.session.commit()
    client = login_as("east_admin")
    listing = client.get("/goods").get_data(as_text=True)
    assert "总部商品" in listing and "华南商品" not in listing
    view = client.get(f"/goods/{hq_product.id}")
    assert view.status_code == 200 and "only HQ can change it" in view.get_data(as_text=True)
    assert client.post(f"/goods/{hq_product.id}", data=_form(code="HQ-1", name="改名")).status_code == 403
    assert client.post(f"/goods/{hq_product.id}/archive", data={"archived": "1"}).status_code == 403
    assert client.post(f"/goods/{hq_product.id}/images", data={}).status_code == 403
    assert client.get(f"/goods/{south.id}").status_code == 404
    db.session.expire_all()
    assert _product("HQ-1").name == "总部商品" and not _product("HQ-1").archived


def test_distributor_owns_its_own_products(login_as, org):
    client = login_as("east_admin")
    assert client.post("/goods/new", data=_form(code="EA-1")).status_code == 302
    p = _product("EA-1")
    assert p.path == org.nodes["east"].path
    assert client.get(f"/goods/{p.id}").status_code == 200
    # South's admin does not see it; HQ sees it and may edit it (it is in HQ's subtree).
    login_as("south_admin")
    assert client.get(f"/goods/{p.id}").status_code == 404
    login_as("hq")
    assert 'name="code"' in client.get(f"/goods/{p.id}").get_data(as_text=True)


def test_store_local_goods_are_visible_but_not_editable_for_hq(login_as, org):
    local = make_product(org.stores["sh1"], "SH-LOCAL", name="门店自有")
    db.session.commit()
    client = login_as("hq")
    assert "门店自有" in client.get("/goods").get_data(as_text=True)
    assert client.get(f"/goods/{local.id}").status_code == 200
    assert client.post(f"/goods/{local.id}", data=_form(code="SH-LOCAL")).status_code == 403


@pytest.mark.parametrize("who", ["sh_manager", "owner1"])
def test_managers_and_owners_are_refused(login_as, org, who):
    p = make_product(org.nodes["hq"], "HQ-2")
    db.session.commit()
    client = login_as(who)
    for url in ("/goods", "/goods/new", f"/goods/{p.id}", "/goods/import"):
        assert client.get(url).status_code == 403
    assert client.post("/goods/new", data=_form()).status_code == 403


# --------------------------------------------------------------------------- prices flow to stores

def _listing(store, sku, price=None, **kw):
    row = Listing(store_id=store.id, sku_id=sku.id, price=price, **kw)
    db.session.add(row)
    return row


def test_new_bounds_clamp_store_prices_and_tell_the_stores(login_as, org):
    p = make_product(org.nodes["hq"], "CF-1", name="美式", skus=1, list_price=1000, floor=800, ceiling=1500)
    sku = p.skus[0]
    _listing(org.stores["sh1"], sku, price=850)       # below the new floor
    _listing(org.stores["gd1"], sku, price=1450)     # above the new ceiling
    _listing(org.stores["js1"], sku, price=1100)   # still inside
    _listing(org.stores["sh2"], sku, price=None, stock=5)   # no own price: follows the list price
    db.session.commit()
    client = login_as("hq")
    data = _form(code="CF-1", name="美式", skus=((sku.code, "", "11", "9", "12"),))
    data["skus-0-id"] = str(sku.id)
    # The first save shows how many stores' prices change and saves nothing; the second confirms.
    r = client.post(f"/goods/{p.id}", data=data)
    assert r.status_code == 200 and 'data-reach="2"' in r.get_data(as_text=True)
    assert db.session.scalar(select(func.count(StoreNotice.id))) == 0
    r = client.post(f"/goods/{p.id}", data={**data, "confirm_reach": "2"})
    assert r.status_code == 303
    assert "2 store prices" in client.get(r.headers["Location"]).get_data(as_text=True)
    db.session.expire_all()
    prices = {row.store_id: row.price for row in db.session.scalars(select(Listing))}
    assert prices == {org.stores["sh1"].id: 900, org.stores["gd1"].id: 1200, org.stores["js1"].id: 1100,
                      org.stores["sh2"].id: None}
    notices = {n.store_id: n for n in db.session.scalars(select(StoreNotice))}
    assert set(notices) == {org.stores["sh1"].id, org.stores["gd1"].id}
    with client.application.test_request_context(headers={"Cookie": "lang=en"}):
        text = {store_id: n.text for store_id, n in notices.items()}
    assert "¥9.00" in text[org.stores["sh1"].id]
    assert "below" in text[org.stores["sh1"].id]
    assert "¥12.00" in text[org.stores["gd1"].id] and "美式" in text[org.stores["gd1"].id]
    assert notices[org.stores["gd1"].id].details["sku_code"] == sku.code
    assert notices[org.stores["gd1"].id].kind == "price_clamped"
    # sh2 has no price of its own: its effective price is simply the new list price.
    assert db.session.get(Sku, sku.id).list_price == 1100


def test_clamping_is_one_statement_per_sku_not_per_store(app, org):

    p = make_product(org.nodes["hq"], "CF-2", skus=1, list_price=1000, floor=500, ceiling=2000)
    sku = p.skus[0]
    for store in org.stores.values():
        _listing(store, sku, price=600)
    db.session.flush()
    with sql_log() as statements:
        with app.test_request_context():
            hq = org.users["hq"]
            counts = services.update_product(
                scope_for(hq), p, {"code": p.code, "name": p.name, "category": p.category, "description": "",
                                   "direct_sale": False, "commission_rate": 0},
                [services.SkuData(id=sku.id, code=sku.code, spec={}, list_price=1000, price_floor=900,
                                  price_ceiling=2000)], actor=hq)
    assert counts["clamped"] == len(org.stores)
    assert sum(s.lstrip().upper().startswith("UPDATE LISTINGS") for s in statements) == 1
    assert sum(s.lstrip().upper().startswith("INSERT INTO STORE_NOTICES") for s in statements) == 1
    assert db.session.scalar(select(func.count(StoreNotice.id))) == len(org.stores)


def test_unchanged_prices_send_no_notice(login_as, org):
    p = make_product(org.nodes["hq"], "CF-3", skus=1)
    _listing(org.stores["sh1"], p.skus[0], price=1400)
    db.session.commit()
    client = login_as("hq")
    data = _form(code="CF-3", name="改名", skus=((p.skus[0].code, "", "10", "8", "15"),))
    data["skus-0-id"] = str(p.skus[0].id)
    assert client.post(f"/goods/{p.id}", data=data).status_code == 303
    assert db.session.scalar(select(func.count(StoreNotice.id))) == 0


# --------------------------------------------------------------------------- images

def _upload(client, product, raw, name="a.png"):
    return client.post(f"/goods/{product.id}/images", data={"image-csrf_token": client.csrf_token(),
                                                             "image": (io.BytesIO(raw), name)},
                       content_type="multipart/form-data", csrf=False)


def test_upload_makes_a_thumbnail_and_serves_it(app, login_as, org, client):
    p = make_product(org.nodes["hq"], "IMG-1")
    db.session.commit()
    login_as("hq")
    r = _upload(client, p, png_bytes(1200, 800))
    assert r.status_code == 303
    image = db.session.scalar(select(ProductImage))
    folder = app.config["GOODS_UPLOAD_DIR"]
    from PIL import Image
    with Image.open(os.path.join(folder, image.thumb)) as thumb:
        assert max(thumb.size) == 400
    with Image.open(os.path.join(folder, image.filename)) as full:
        assert full.size == (1200, 800)
    assert len(image.filename.split(".")[0]) == 32
    assert client.get(f"/goods/{p.id}/images/{image.id}").status_code == 200
    # The public thumbnail needs no login; the original is not public.
    client.post("/logout")
    assert client.get(f"/media/goods/{image.thumb}").status_code == 200
    assert client.get(f"/media/goods/{image.filename}").status_code == 404
    assert client.get("/media/goods/..%2Fportal.db").status_code == 404


def test_an_htmx_upload_shows_the_new_picture_at_once(login_as, org, client):
    p = make_product(org.nodes["hq"], "IMG-HX")
    db.session.commit()
    login_as("hq")
    r = client.post(f"/goods/{p.id}/images", data={"image-csrf_token": client.csrf_token(),
                                                   "image": (io.BytesIO(png_bytes()), "a.png")},
                    content_type="multipart/form-data", csrf=False, headers={"HX-Request": "true"})
    image = db.session.scalar(select(ProductImage))
    assert r.status_code == 200 and f"/goods/{p.id}/images/{image.id}?size=thumb" in r.get_data(as_text=True)


def test_webp_and_jpeg_are_accepted(login_as, org, client):
    p = make_product(org.nodes["hq"], "IMG-2")
    db.session.commit()
    login_as("hq")
    assert _upload(client, p, png_bytes(fmt="WEBP"), "a.webp").status_code == 303
    assert _upload(client, p, png_bytes(fmt="JPEG"), "a.jpg").status_code == 303
    assert sorted(i.filename.rsplit(".", 1)[1] for i in db.session.scalars(select(ProductImage))) == ["jpg", "webp"]


@pytest.mark.parametrize("raw,message", [
    (b"GIF89a" + b"\0" * 100, "JPEG, PNG or WebP"),
    (b"<svg xmlns='http://www.w3.org/2000/svg'></svg>", "JPEG, PNG or WebP"),
    (b"\x89PNG\r\n\x1a\n" + b"broken" * 10, "JPEG, PNG or WebP"),
    (None, "JPEG, PNG or WebP"),            # a real GIF
    (b"x" * (5 * 1024 * 1024 + 1), "larger than 5 MB"),
])
def test_bad_uploads_are_refused(login_as, org, client, raw, message):
    if raw is None:
        raw = png_bytes(fmt="GIF")
    p = make_product(org.nodes["hq"], "IMG-3")
    db.session.commit()
    login_as("hq")
    r = client.post(f"/goods/{p.id}/images", data={"image-csrf_token": client.csrf_token(),
                                                   "image": (io.BytesIO(raw), "a.png")},
                    content_type="multipart/form-data", csrf=False, headers={"HX-Request": "true"})
    assert r.status_code == 422
    assert message in r.get_data(as_text=True)
    assert db.session.scalar(select(func.count(ProductImage.id))) == 0


def test_images_are_served_only_to_those_who_see_the_product(app, login_as, org, client):
    south = make_product(org.nodes["south"], "SO-IMG")
    hq_product = make_product(org.nodes["hq"], "HQ-IMG")
    south_img = services.add_image(
        scope_for(org.users["south_admin"]), south, png_bytes(), actor=org.users["south_admin"]
    )
    hq_img = services.add_image(scope_for(org.users["hq"]), hq_product, png_bytes(), actor=org.users["hq"])
    db.session.commit()
    for who in ("east_admin", "sh_manager", "owner1"):
        login_as(who)
        assert client.get(f"/goods/{south.id}/images/{south_img.id}").status_code == 404, who
        assert client.get(f"/goods/{hq_product.id}/images/{hq_img.id}").status_code == 200, who
    login_as("south_admin")
    assert client.get(f"/goods/{south.id}/images/{south_img.id}").status_code == 200


def test_delete_image_removes_the_files(app, login_as, org, client):
    p = make_product(org.nodes["hq"], "IMG-4")
    img = services.add_image(scope_for(org.users["hq"]), p, png_bytes(), actor=org.users["hq"])
    db.session.commit()
    folder = app.config["GOODS_UPLOAD_DIR"]
    names = (img.filename, img.thumb)
    login_as("hq")
    r = client.post(f"/goods/{p.id}/images/{img.id}/delete", hx=True)
    assert r.status_code == 200 and "<html" not in r.get_data(as_text=True)
    assert db.session.scalar(select(func.count(ProductImage.id))) == 0
    assert not any(os.path.exists(os.path.join(folder, n)) for n in names)
    assert client.get(f"/media/goods/{names[1]}").status_code == 404


# --------------------------------------------------------------------------- CSV import

HEADER_ZH = "商品编码,商品名称,分类,SKU编码,规格,建议零售价,最低价,最高价,总部供货,佣金比例\n"
# The header of files written before the column was renamed (issue 9: 直营 is a store's tag).
HEADER_ZH_OLD = HEADER_ZH.replace("总部供货", "直营商品")
HEADER_EN = (
    "product_code,product_name,category,sku_code,spec,list_price,price_floor,price_ceiling,direct_sale,commission\n"
)


def _import(client, text: str, encoding="utf-8", hx=False):
    raw = text.encode(encoding) if isinstance(text, str) else text
    return client.post(
        "/goods/import",
        data={"csrf_token": client.csrf_token(), "file": (io.BytesIO(raw), "goods.csv")},
        content_type="multipart/form-data",
        csrf=False,
        headers={"HX-Request": "true"} if hx else {},
    )


GOOD = HEADER_ZH + ("CF-1,拿铁,咖啡,CF-1-M,规格:中杯,18,15,22,是,10\n"
                    "CF-1,拿铁,咖啡,CF-1-L,规格:大杯,21,,,是,10\n"
                    "TEA-1,柠檬茶,茶饮,TEA-1-S,,12.5,10,15,否,\n")


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_import_creates_products_in_any_encoding(login_as, org, encoding):
    client = login_as("hq")
    r = _import(client, GOOD, encoding)
    assert r.status_code == 303, r.get_data(as_text=True)[:3000]
    cf = _product("CF-1")
    assert (cf.name, cf.direct_sale, cf.commission_rate) == ("拿铁", True, 1000)
    assert [(s.code, s.spec, s.list_price, s.price_floor, s.price_ceiling) for s in cf.skus] == [
        ("CF-1-M", {"规格": "中杯"}, 1800, 1500, 2200), ("CF-1-L", {"规格": "大杯"}, 2100, 2100, 2100)]
    assert _product("TEA-1").skus[0].list_price == 1250


def test_a_file_with_the_old_direct_sale_header_still_imports(login_as, org):
    client = login_as("hq")
    r = _import(client, HEADER_ZH_OLD + GOOD.split("\n", 1)[1])
    assert r.status_code == 303, r.get_data(as_text=True)[:3000]
    assert _product("CF-1").direct_sale is True and _product("TEA-1").direct_sale is False


def test_reimport_updates_by_code_without_duplicates(login_as, org):
    client = login_as("hq")
    assert _import(client, GOOD).status_code == 303
    p = _product("CF-1")
    _listing(org.stores["sh1"], p.skus[0], price=1600)
    db.session.commit()
    changed = GOOD.replace("CF-1-M,规格:中杯,18,15,22", "CF-1-M,规格:中杯,19,17,22")
    r = _import(client, HEADER_EN + changed.split("\n", 1)[1])
    assert r.status_code == 303
    assert "1 updated, 1 unchanged" in client.get("/goods").get_data(as_text=True)
    assert db.session.scalar(select(func.count(Product.id))) == 2
    assert db.session.scalar(select(func.count(Sku.id))) == 3
    db.session.expire_all()
    assert db.session.scalar(select(Listing.price)) == 1700          # clamped to the new floor
    assert db.session.scalar(select(func.count(StoreNotice.id))) == 1


@pytest.mark.parametrize("rows,line,column,message", [
    ("CF-1,拿铁,咖啡,CF-1-M,,18,19,22,是,10\n", 2, "SKU编码" and "最低价", "floor price"),
    ("CF-1,拿铁,咖啡,CF-1-M,,18,15,17,否,\n", 2, "最高价", "ceiling price"),
    ("CF-1,拿铁,咖啡,CF-1-M,,abc,,,否,\n", 2, "建议零售价", "Not an amount"),
    ("CF-1,,咖啡,CF-1-M,,18,,,否,\n", 2, "商品名称", "required"),
    ("CF-1,拿铁,咖啡,CF-1-M,,18,,,也许,\n", 2, "总部供货", "是 or 否"),
    ("CF-1,拿铁,咖啡,CF-1-M,,18,,,是,120\n", 2, "佣金比例", "between 0 and 100"),
    ("CF-1,拿铁,咖啡,CF-1-M,大杯,18,,,否,\n", 2, "规格", "name:value"),
    ("CF-1,拿铁,咖啡,CF-1-M,,18,,,否,\nCF-1,拿铁,咖啡,CF-1-M,,18,,,否,\n", 3, "SKU编码", "repeats row 3"),
    ("CF-1,拿铁,咖啡,CF-1-M,,18,,,否,\nCF-1,摩卡,咖啡,CF-1-L,,18,,,否,\n", 3, "商品名称", "Differs from line 3"),
])
def test_import_rejects_bad_rows_and_writes_nothing(login_as, org, rows, line, column, message):
    client = login_as("hq")
    r = _import(client, HEADER_ZH + "OK-1,好的,咖啡,OK-1-1,,10,,,否,\n" + rows, hx=True)
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert "Nothing was imported" in html and message in html
    assert f"<td>{line + 1}</td><td>{column}</td>" in html
    assert db.session.scalar(select(func.count(Product.id))) == 0


def test_import_refuses_goods_of_others_and_bad_headers(login_as, org):
    make_product(org.nodes["hq"], "HQ-1")
    db.session.commit()
    client = login_as("east_admin")
    r = _import(client, HEADER_ZH + "HQ-1,改名,咖啡,HQ-1-X,,10,,,否,\n", hx=True)
    assert r.status_code == 422 and "may not change" in r.get_data(as_text=True)
    r = _import(client, "商品编码,名字\nX,Y\n", hx=True)
    assert r.status_code == 422 and "Missing columns" in r.get_data(as_text=True)
    r = _import(client, b"PK\x03\x04binary", hx=True)
    assert r.status_code == 422 and "Excel workbook" in r.get_data(as_text=True)
    assert _product("HQ-1").name != "改名"


def test_an_upload_by_htmx_shows_the_new_picture_at_once(login_as, org, client):
    p = make_product(org.nodes["hq"], "IMG-HX")
    db.session.commit()
    login_as("hq")
    r = client.post(f"/goods/{p.id}/images", data={"image": (io.BytesIO(png_bytes()), "a.png")},
                    content_type="multipart/form-data", hx=True)
    assert r.status_code == 200 and "<html" not in r.get_data(as_text=True)
    (img,) = db.session.scalars(select(ProductImage).where(ProductImage.product_id == p.id))
    assert f"/goods/{p.id}/images/{img.id}?size=thumb" in r.get_data(as_text=True)
