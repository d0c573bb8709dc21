"""The one ETag helper: a 304 is decided from a cheap version before any page is loaded, and every
change to what a read shows moves its ETag."""
from __future__ import annotations

import pytest

from portal.campaigns import services as campaigns
from portal.goods import services as catalog
from portal.goods.models import Product, ProductImage
from portal.org import services as org_services
from portal.org.models import Store
from portal.org.scope import scope_for
from portal.pushes import services as pushes
from portal.shelf import services as shelf
from portal.targets.services import TargetSpec
from tests import factories
from tests.campaigns.helpers import key, make_campaign, push
from tests.factories import sql_log

GOODS = "/api/v1/stores/SH001/goods"
CAMPAIGNS = "/api/v1/stores/SH001/campaigns"


def _get(client, url, k, etag=None, **query):
    headers = {"Authorization": f"Bearer {k}"}
    if etag:
        headers["If-None-Match"] = etag
    return client.get(url, headers=headers, query_string=query)


def _selects(statements):
    return [s for s in statements if s.lstrip().upper().startswith("SELECT")]


def _push_goods(db, org, products, name="春季新品"):
    hq = org.users["hq"]
    a = factories.make_assortment(org.nodes["hq"], products, name)
    pushes.create_push(scope_for(hq), "goods", a.id, a.name, TargetSpec(store_codes=["SH001"]), actor=hq)
    db.session.commit()
    db.session.expire_all()


@pytest.fixture
def goods(org, db):
    products = [factories.make_product(org.nodes["hq"], f"G{i:02d}", skus=2) for i in range(12)]
    db.session.commit()
    _push_goods(db, org, products)
    return products, key(org.stores["sh1"])


def test_a_goods_304_runs_no_page_query(client, org, db, goods):
    _products, k = goods
    with sql_log() as full:
        r = _get(client, GOODS, k)
    assert r.status_code == 200 and r.get_json()["total"] == 24
    with sql_log() as cached:
        again = _get(client, GOODS, k, r.headers["ETag"])
    assert again.status_code == 304 and again.data == b"" and again.headers["ETag"] == r.headers["ETag"]
    assert "no-cache" in again.headers["Cache-Control"] and "Authorization" in again.headers["Vary"]
    # The 200 ran the key, the version and the page; the 304 only the key and the version.
    assert len(_selects(cached)) == 2 < len(_selects(full)) == 3, (_selects(cached), _selects(full))
    assert any("OVER" in s.upper() for s in _selects(full))
    assert not any("OVER" in s.upper() or "ORDER BY" in s.upper() or "LIMIT" in s.upper()
                   for s in _selects(cached)), _selects(cached)
    # Another page, another tag; a tag of another store's key never matches this one.
    assert _get(client, GOODS, k, r.headers["ETag"], page=2).status_code == 200
    gd = key(org.stores["gd1"])
    assert _get(client, "/api/v1/stores/GD001/goods", gd).headers["ETag"] != r.headers["ETag"]


def _sku_data(product, **prices):
    return [catalog.SkuData(code=s.code, spec=s.spec, list_price=prices.get("list_price", s.list_price),
                            price_floor=s.price_floor, price_ceiling=prices.get("ceiling", s.price_ceiling), id=s.id)
            for s in product.skus]


def _fields(product, **changes):
    return {**{f: getattr(product, f) for f in catalog.PRODUCT_FIELDS}, **changes}


def test_every_change_to_the_goods_shown_moves_the_goods_etag(client, org, db, goods):
    products, k = goods
    hq, owner = org.users["hq"], org.users["owner1"]
    sh1 = org.stores["sh1"]
    tags = [_get(client, GOODS, k).headers["ETag"]]

    def changed(what):
        r = _get(client, GOODS, k, tags[-1])
        assert r.status_code == 200, what
        assert r.headers["ETag"] not in tags, what
        tags.append(r.headers["ETag"])
        assert _get(client, GOODS, k, tags[-1]).status_code == 304, what
        return r.get_json()

    def good(sku_id):
        return shelf.good_or_none(sh1.id, sku_id)

    p0 = db.session.get(Product, products[0].id)
    sku = p0.skus[0]
    # The store sets its own price, then its stock.
    shelf.save_listing(scope_for(owner), sh1, good(sku.id), price=1200, stock=None, actor=owner)
    db.session.commit()
    assert next(g for g in changed("store price")["goods"] if g["sku"] == sku.code)["price_fen"] == 1200
    shelf.save_listing(scope_for(owner), sh1, good(sku.id), price=1200, stock=7, actor=owner)
    db.session.commit()
    changed("stock")
    # The store takes a SKU off the shelf.
    shelf.set_on_shelf(scope_for(owner), sh1, good(p0.skus[1].id), False, actor=owner)
    db.session.commit()
    assert p0.skus[1].code not in {g["sku"] for g in changed("off the shelf")["goods"]}
    # HQ changes the list price of a SKU the store sells at HQ's price: only the SKU row moves.
    p1 = db.session.get(Product, products[1].id)
    catalog.update_product(scope_for(hq), p1, _fields(p1), _sku_data(p1, list_price=1100), actor=hq)
    db.session.commit()
    assert next(g for g in changed("HQ list price")["goods"] if g["sku"] == p1.skus[0].code)["price_fen"] == 1100
    # HQ renames a product.
    catalog.update_product(scope_for(hq), p1, _fields(p1, name="新名字"), _sku_data(p1), actor=hq)
    db.session.commit()
    assert "新名字" in {g["name"] for g in changed("rename")["goods"]}
    # HQ archives one.
    catalog.set_archived(scope_for(hq), db.session.get(Product, products[2].id), True, actor=hq)
    db.session.commit()
    assert changed("archived")["total"] == 21
    # A picture is added to a product.
    db.session.add(ProductImage(product_id=products[3].id, filename="a.jpg", thumb="a-t.jpg", position=0))
    db.session.commit()
    assert any(g["thumbnail"] == "/media/goods/a-t.jpg" for g in changed("picture")["goods"])
    # A second assortment is pushed to the store.
    extra = factories.make_product(org.nodes["hq"], "NEW", skus=1)
    db.session.commit()
    _push_goods(db, org, [extra], name="夏季新品")
    assert changed("assortment push")["total"] == 22
    # The store is renamed: its name is in the JSON.
    store = db.session.get(Store, sh1.id)
    data = {f: getattr(store, f) for f in org_services.STORE_FIELDS}
    org_services.update_store(scope_for(hq), store, {**data, "name": "上海新名店"}, store.node, store.tag_names,
                              actor=hq)
    db.session.commit()
    assert changed("store renamed")["store"]["name"] == "上海新名店"


def test_campaigns_304_and_every_change_moves_the_campaigns_etag(client, org, db):
    hq = org.users["hq"]
    k = key(org.stores["sh1"])
    first = _get(client, CAMPAIGNS, k)
    assert first.status_code == 200 and first.get_json() == {"campaigns": []}
    with sql_log() as statements:
        assert _get(client, CAMPAIGNS, k, first.headers["ETag"]).status_code == 304
    assert not any("rules" in s for s in _selects(statements)), statements      # no campaign row loaded

    coupon = make_campaign(hq)
    push(hq, coupon, TargetSpec(store_codes=["SH001"]))
    r = _get(client, CAMPAIGNS, k, first.headers["ETag"])
    assert r.status_code == 200 and [c["id"] for c in r.get_json()["campaigns"]] == [coupon.id]
    pushed = r.headers["ETag"]
    assert _get(client, CAMPAIGNS, k, pushed).status_code == 304

    campaigns.stop_campaign(scope_for(hq), db.session.get(type(coupon), coupon.id), None, actor=hq)
    db.session.commit()
    r = _get(client, CAMPAIGNS, k, pushed)
    assert r.status_code == 200 and r.get_json() == {"campaigns": []} and r.headers["ETag"] != pushed
