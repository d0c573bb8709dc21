"""Assortments pushed to stores, a store's effective goods and its shelf, its own goods, and the
goods API — through the real app and a real database."""
from __future__ import annotations

from sqlalchemy import func, select

from portal.api.services import issue_key
from portal.assortments.models import Assortment, AssortmentItem, StoreAssortment
from portal.goods.models import Product, ProductImage, Sku
from portal.org.scope import scope_for
from portal.pushes import services as pushes
from portal.pushes.models import Push
from portal.shelf import services as shelf
from portal.shelf.models import Listing, StoreNotice
from portal.targets.services import TargetSpec
from tests import factories
from tests.conftest import login
from tests.factories import sql_log


def _assortment(db, org, products, name="春季新品", owner="hq") -> Assortment:
    return factories.make_assortment(org.nodes[owner], products, name)


def _push(db, user, assortment, spec: TargetSpec) -> Push:
    push = pushes.create_push(scope_for(user), "goods", assortment.id, assortment.name, spec, actor=user)
    db.session.commit()             # the push job runs at the commit (eagerly in tests)
    db.session.expire_all()
    return db.session.get(Push, push.id)


def _goods_of(client):
    html = client.get("/my/goods").get_data(as_text=True)
    return html


def _sku_ids(product):
    return [s.id for s in product.skus]


# --------------------------------------------------------------------------- assortments & pushes

def test_admin_builds_an_assortment_and_pushes_it(client, org, db):
    hq_products = [factories.make_product(org.nodes["hq"], f"P-{i}", name=f"拿铁{i}") for i in range(3)]
    db.session.commit()
    login(client, "east_admin")
    r = client.post("/assortments/new", data={"name": "华东春季"})
    assert r.status_code == 303
    a = db.session.scalar(select(Assortment).where(Assortment.name == "华东春季"))
    assert a.path == org.nodes["east"].path
    r = client.post(f"/assortments/{a.id}/items", data={"codes": "P-0, P-1\nNOPE"})
    assert r.status_code == 422 and "NOPE" in r.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(AssortmentItem)) == 0      # all or nothing
    r = client.post(f"/assortments/{a.id}/items", data={"codes": "P-0, P-1"})
    assert r.status_code == 303
    r = client.post(f"/assortments/{a.id}/items", data={"codes": "", "product_ids": [str(hq_products[2].id)]})
    assert r.status_code == 303
    page = client.get(f"/assortments/{a.id}").get_data(as_text=True)
    assert "3" in page and "拿铁2" in page
    search = client.get("/goods/picker?q=拿铁", headers={"HX-Request": "true", "HX-Target": "goods-picker-rows"})
    assert "<html" not in search.get_data(as_text=True) and 'data-code="P-1"' in search.get_data(as_text=True)
    # A product id the picker never offered (another part of the tree's, or none) is refused, all or nothing.
    foreign = factories.make_product(org.nodes["south"], "SOUTH-X")
    db.session.commit()
    r = client.post(f"/assortments/{a.id}/items", data={"codes": "", "product_ids": [str(hq_products[0].id),
                                                                                       str(foreign.id)]})
    assert r.status_code == 422 and f"#{foreign.id}" in r.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(AssortmentItem)) == 3
    assert client.post(f"/assortments/{a.id}/items/{hq_products[2].id}/delete").status_code == 303
    assert "拿铁2" not in client.get(f"/assortments/{a.id}").get_data(as_text=True)
    # The push form, then a push to Shanghai only.
    assert client.get(f"/assortments/{a.id}/push").status_code == 200
    r = client.post(f"/assortments/{a.id}/push", data={"store_codes": "SH001"})
    assert r.status_code == 302 and "/pushes/" in r.headers["Location"]
    push = db.session.scalar(select(Push).where(Push.kind == "goods"))
    assert push.label == "华东春季" and push.state == "done" and push.delivered == 1
    assert "华东春季" in client.get("/assortments").get_data(as_text=True)


def test_pushed_store_sees_the_goods_and_another_does_not(client, org, db):
    p = factories.make_product(org.nodes["hq"], "P-LATTE", name="拿铁")
    a = _assortment(db, org, [p])
    _push(db, org.users["hq"], a, TargetSpec(store_codes=["SH001"]))
    login(client, "owner1")
    assert "拿铁" in _goods_of(client)
    client.post("/logout")
    login(client, "owner_gd")
    assert "拿铁" not in _goods_of(client)
    assert shelf.goods_page(org.stores["gd1"].id).total == 0
    assert shelf.goods_page(org.stores["sh1"].id).total == 2


def test_archived_products_leave_every_shelf(client, org, db):
    p = factories.make_product(org.nodes["hq"], "P-OLD")
    a = _assortment(db, org, [p])
    _push(db, org.users["hq"], a, TargetSpec(store_codes=["SH001"]))
    p.archived = True
    db.session.commit()
    assert shelf.goods_page(org.stores["sh1"].id).total == 0


def test_push_cost_is_stores_plus_goods_and_rollback_removes_it(client, org, db):
    region = org.nodes["r_js"]
    for i in range(100):
        factories.make_store(region, f"B{i:04d}")
    products = [factories.make_product(org.nodes["hq"], skus=1) for _ in range(50)]
    a = _assortment(db, org, products)
    push = _push(db, org.users["hq"], a, TargetSpec(node_ids=[region.id]))
    assert push.delivered == 101        # js1 + 100 new stores
    assert db.session.scalar(select(func.count()).select_from(Listing)) == 0
    assert db.session.scalar(select(func.count()).select_from(StoreAssortment)) == 101
    some = db.session.scalar(select(factories.Store).where(factories.Store.code == "B0042"))
    assert shelf.goods_page(some.id).total == 50
    pushes.request_rollback(scope_for(org.users["hq"]), push, actor=org.users["hq"])
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Push, push.id).state == "rolled_back"
    assert db.session.scalar(select(func.count()).select_from(StoreAssortment)) == 0
    assert shelf.goods_page(some.id).total == 0


# --------------------------------------------------------------------------- the store's shelf

def _sh1_with_goods(db, org, **kw):
    p = factories.make_product(org.nodes["hq"], "P-TEA", name="乌龙茶", list_price=1000, floor=800, ceiling=1500, **kw)
    a = _assortment(db, org, [p])
    _push(db, org.users["hq"], a, TargetSpec(store_codes=["SH001"]))
    return p


def test_price_within_bounds_is_saved_outside_is_refused(client, org, db):
    p = _sh1_with_goods(db, org)
    sku = p.skus[0].id
    store = org.stores["sh1"].id
    login(client, "owner1")
    r = client.post(f"/stores/{store}/goods/{sku}", data={"price": "12.50", "stock": ""}, hx=True)
    assert r.status_code == 200 and "<html" not in r.get_data(as_text=True)
    assert 'value="12.50"' in r.get_data(as_text=True)
    listing = db.session.scalar(select(Listing).where(Listing.sku_id == sku))
    assert listing.price == 1250 and listing.stock is None and listing.on_shelf
    for bad in ("16.00", "7.99"):
        r = client.post(f"/stores/{store}/goods/{sku}", data={"price": bad, "stock": "3"}, hx=True)
        html = r.get_data(as_text=True)
        assert r.status_code == 422 and 'data-field="price"' in html and "¥8.00" in html and "¥15.00" in html
    db.session.expire_all()
    listing = db.session.scalar(select(Listing).where(Listing.sku_id == sku))
    assert listing.price == 1250 and listing.stock is None          # nothing saved
    # Without htmx: a redirect, and the error flashed.
    r = client.post(f"/stores/{store}/goods/{sku}", data={"price": "99", "stock": ""})
    assert r.status_code == 303
    assert "¥15.00" in client.get("/my/goods").get_data(as_text=True)
    # Empty price: back to HQ's list price.
    client.post(f"/stores/{store}/goods/{sku}", data={"price": "", "stock": ""}, hx=True)
    assert shelf.good_or_none(store, sku).price == 1000


def test_stock_validation(client, org, db):
    p = _sh1_with_goods(db, org)
    sku, store = p.skus[0].id, org.stores["sh1"].id
    login(client, "owner1")
    r = client.post(f"/stores/{store}/goods/{sku}", data={"price": "", "stock": "-1"}, hx=True)
    assert r.status_code == 422 and 'data-field="stock"' in r.get_data(as_text=True)
    r = client.post(f"/stores/{store}/goods/{sku}", data={"price": "", "stock": "abc"}, hx=True)
    assert r.status_code == 422
    assert db.session.scalar(select(func.count()).select_from(Listing)) == 0
    r = client.post(f"/stores/{store}/goods/{sku}", data={"price": "", "stock": "7"}, hx=True)
    assert r.status_code == 200
    assert shelf.good_or_none(store, sku).stock == 7


def test_shelf_toggle_and_filters(client, org, db):
    p = _sh1_with_goods(db, org)
    sku, store = p.skus[0].id, org.stores["sh1"].id
    login(client, "owner1")
    r = client.post(f"/stores/{store}/goods/{sku}/shelf", data={"on_shelf": "0"}, hx=True)
    assert r.status_code == 200 and "<html" not in r.get_data(as_text=True)
    assert "Put on the shelf" in r.get_data(as_text=True) or "上架" in r.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Listing)) == 1        # only the changed SKU
    off = client.get("/my/goods?shelf=off", headers={"HX-Request": "true", "HX-Target": "goods-rows"})
    html = off.get_data(as_text=True)
    assert "<html" not in html and "P-TEA-1" in html and "P-TEA-2" not in html
    on = client.get("/my/goods?shelf=on").get_data(as_text=True)
    assert "<html" in on and "P-TEA-2" in on and 'data-sku="P-TEA-1"' not in on
    r = client.post(f"/stores/{store}/goods/{sku}/shelf", data={"on_shelf": "1"})
    assert r.status_code == 303
    assert shelf.good_or_none(store, sku).on_shelf


def test_search_category_and_paging(client, org, db):
    products = [factories.make_product(org.nodes["hq"], f"Q{i:03d}", name=f"蛋糕{i}", category="烘焙", skus=1)
                for i in range(35)]
    products.append(factories.make_product(org.nodes["hq"], "TEA1", name="红茶", category="茶饮", skus=1))
    _push(db, org.users["hq"], _assortment(db, org, products), TargetSpec(store_codes=["SH001"]))
    store = org.stores["sh1"].id
    assert shelf.goods_page(store, per_page=30).pages == 2
    assert len(shelf.goods_page(store, page=2, per_page=30).goods) == 6
    assert shelf.goods_page(store, category="茶饮").total == 1
    assert shelf.goods_page(store, q="Q01").total == 10
    assert shelf.categories(store) == ["烘焙", "茶饮"]
    login(client, "owner1")
    html = client.get("/my/goods?category=茶饮").get_data(as_text=True)
    assert "红茶" in html and "蛋糕1" not in html
    assert "蛋糕" in client.get("/my/goods?page=2").get_data(as_text=True)


def test_one_query_per_page(client, org, db):
    products = [factories.make_product(org.nodes["hq"], skus=2) for _ in range(20)]
    _push(db, org.users["hq"], _assortment(db, org, products), TargetSpec(store_codes=["SH001"]))
    store_id = org.stores["sh1"].id
    with sql_log() as statements:
        page = shelf.goods_page(store_id, per_page=25, with_thumbs=True)
    assert page.total == 40 and len(page.goods) == 25
    assert len(statements) == 1


def test_prices_are_clamped_on_read_and_stores_are_told(client, org, db):
    p = _sh1_with_goods(db, org)
    sku, store = p.skus[0], org.stores["sh1"]
    login(client, "owner1")
    client.post(f"/stores/{store.id}/goods/{sku.id}", data={"price": "14.00", "stock": ""}, hx=True)
    # HQ lowers the ceiling: the store's price is clamped at once, on read …
    db.session.get(Sku, sku.id).price_ceiling = 1200
    db.session.commit()
    assert shelf.good_or_none(store.id, sku.id).price == 1200
    # … and in the stored listing, with a notice to the store.
    from portal.shelf.prices import clamp_listings
    sku = db.session.get(Sku, sku.id)
    with client.application.test_request_context():      # HQ's request, as from the edit page
        assert clamp_listings(sku.product, sku) == 1
    db.session.commit()
    assert db.session.scalar(select(Listing.price).where(Listing.sku_id == sku.id)) == 1200
    html = client.get("/my/goods").get_data(as_text=True)
    assert "¥12.00" in html and 'id="store-notices"' in html
    assert client.post(f"/stores/{store.id}/notices/read", data={}).status_code == 303
    assert 'id="store-notices"' not in client.get("/my/goods").get_data(as_text=True)
    assert db.session.scalar(select(StoreNotice.read_at)) is not None


def test_store_owner_cannot_touch_another_store_or_hq_products(client, org, db):
    p = _sh1_with_goods(db, org)
    gd_local = factories.make_product(org.stores["gd1"], "L-GD", name="广州自营")
    db.session.commit()
    sh1, gd1 = org.stores["sh1"].id, org.stores["gd1"].id
    login(client, "owner1")
    # Another store's shelf and its goods: 404.
    assert client.post(f"/stores/{gd1}/goods/{p.skus[0].id}", data={"price": "9"}).status_code == 404
    assert client.post(f"/stores/{sh1}/goods/{gd_local.skus[0].id}", data={"price": "9"}).status_code == 404
    assert client.post(f"/stores/{gd1}/goods/{gd_local.skus[0].id}/shelf", data={"on_shelf": "0"}).status_code == 404
    assert client.get(f"/stores/{gd1}/products/{gd_local.id}/edit").status_code == 404
    # HQ's product is not the store's to edit: 404, and its fields are untouched.
    assert (
        client.post(
            f"/stores/{sh1}/products/{p.id}/edit",
            data={"name": "改名", "category": "x", "skus-0-spec": "a", "skus-0-price": "1"},
        ).status_code
        == 404
    )
    db.session.expire_all()
    assert db.session.get(Product, p.id).name == "乌龙茶"
    assert db.session.get(Sku, p.skus[0].id).list_price == 1000
    assert db.session.scalar(select(func.count()).select_from(Listing)) == 0
    # Staff read another part of the tree: 404 too; their own part read-only.
    client.post("/logout")
    login(client, "east_admin")
    assert client.get(f"/stores/{gd1}/goods").status_code == 404
    html = client.get(f"/stores/{sh1}/goods").get_data(as_text=True)
    assert "乌龙茶" in html and "save_listing" not in html and "/shelf" not in html


def test_store_adds_and_edits_its_own_goods(client, org, db):
    login(client, "owner1")
    assert client.get("/my/goods/new").status_code == 200
    r = client.post("/my/goods/new", data={"name": "自制蛋挞", "category": "烘焙", "description": "",
                                           "skus-0-spec": "", "skus-0-price": ""})
    assert r.status_code == 422
    r = client.post("/my/goods/new", data={"name": "自制蛋挞", "category": "烘焙", "description": "",
                                           "skus-0-spec": "单个", "skus-0-price": "6.5",
                                           "skus-1-spec": "六个装", "skus-1-price": "35"})
    assert r.status_code == 303
    product = db.session.scalar(select(Product).where(Product.name == "自制蛋挞"))
    assert product.store_id == org.stores["sh1"].id and product.path == org.stores["sh1"].path
    assert [s.list_price for s in product.skus] == [650, 3500]
    html = client.get("/my/goods").get_data(as_text=True)
    assert "自制蛋挞" in html and "六个装" in html
    # Its price is its own: any price is accepted and written on the SKU.
    sku = product.skus[0].id
    r = client.post(f"/stores/{org.stores['sh1'].id}/goods/{sku}", data={"price": "8.80", "stock": "12"}, hx=True)
    assert r.status_code == 200
    db.session.expire_all()
    assert db.session.get(Sku, sku).list_price == 880
    r = client.post(f"/stores/{org.stores['sh1'].id}/products/{product.id}/edit",
                    data={"name": "招牌蛋挞", "category": "烘焙", "skus-0-spec": "单个", "skus-0-price": "7"})
    assert r.status_code == 303
    db.session.expire_all()
    assert db.session.get(Product, product.id).name == "招牌蛋挞" and len(db.session.get(Product, product.id).skus) == 1
    # HQ and the region see it, read-only; another store does not.
    client.post("/logout")
    login(client, "sh_manager")
    assert "招牌蛋挞" in client.get(f"/stores/{org.stores['sh1'].id}/goods").get_data(as_text=True)
    assert shelf.goods_page(org.stores["sh2"].id).total == 0


# --------------------------------------------------------------------------- the API

def _api(client, code, key, **params):
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return client.get(f"/api/v1/stores/{code}/goods", query_string=params, headers=headers)


def test_goods_api(client, org, db):
    products = [factories.make_product(org.nodes["hq"], f"A{i:03d}", category="烘焙", skus=1, list_price=1990,
                                       floor=1000, ceiling=3000) for i in range(60)]
    tea = factories.make_product(org.nodes["hq"], "TEA", name="红茶", category="茶饮", skus=2)
    db.session.add(ProductImage(product_id=tea.id, filename="tea.jpg", thumb="tea-thumb.jpg", position=0))
    _push(db, org.users["hq"], _assortment(db, org, products + [tea]), TargetSpec(store_codes=["SH001", "GD001"]))
    sh1 = org.stores["sh1"]
    db.session.add_all([Listing(store_id=sh1.id, sku_id=products[0].skus[0].id, price=2500, on_shelf=True),
                        Listing(store_id=sh1.id, sku_id=products[1].skus[0].id, on_shelf=False)])
    _row, key = issue_key(sh1, actor=None)
    _row, gd_key = issue_key(org.stores["gd1"], actor=None)
    db.session.commit()

    assert _api(client, "SH001", None).status_code == 401
    assert _api(client, "SH001", "fp_0000000000_nope").status_code == 401
    assert _api(client, "SH001", gd_key).status_code == 404          # another store's key
    r = _api(client, "SH001", key)
    data = r.get_json()
    assert r.status_code == 200 and data["total"] == 61 and data["per_page"] == 50 and len(data["goods"]) == 50
    first = next(g for g in data["goods"] if g["sku"] == "A000-1")
    assert first["price"] == "25.00" and first["price_fen"] == 2500 and first["list_price"] == "19.90"
    assert "A001-1" not in {g["sku"] for g in data["goods"]}           # off the shelf
    page2 = _api(client, "SH001", key, page=2).get_json()
    assert len(page2["goods"]) == 11 and page2["pages"] == 2
    assert len(_api(client, "SH001", key, per_page=500).get_json()["goods"]) == 61     # capped at 200
    assert _api(client, "SH001", key, per_page=500).get_json()["per_page"] == 200
    teas = _api(client, "SH001", key, category="茶饮").get_json()
    assert [g["sku"] for g in teas["goods"]] == ["TEA-1", "TEA-2"]
    assert teas["goods"][0]["thumbnail"] == "/media/goods/tea-thumb.jpg" and teas["goods"][0]["price"] == "10.00"
    # ETag: the same answer gives 304; a change gives a new body.
    etag = r.headers["ETag"]
    assert _api(client, "SH001", key).headers["ETag"] == etag
    assert client.get("/api/v1/stores/SH001/goods", headers={"Authorization": f"Bearer {key}",
                                                             "If-None-Match": etag}).status_code == 304
    db.session.add(Listing(store_id=sh1.id, sku_id=products[2].skus[0].id, price=2000))
    db.session.commit()
    changed = client.get(
        "/api/v1/stores/SH001/goods", headers={"Authorization": f"Bearer {key}", "If-None-Match": etag}
    )
    assert changed.status_code == 200
    assert _api(client, "GD001", gd_key).get_json()["total"] == 62       # gd1 changed nothing
