"""A store's price of an HQ good: an empty price follows HQ's list price (saving the stock alone
never pins it), every change HQ makes to a price on a store's shelf reaches the owner as a notice
in the owner's own language, and HQ sees "this changes the price in N stores" before saving."""
from __future__ import annotations

import re

from sqlalchemy import func, select

from portal.assortments.models import Assortment, AssortmentItem
from portal.extensions import db
from portal.goods.models import Sku
from portal.org.models import User
from portal.org.scope import scope_for
from portal.pushes import services as pushes
from portal.shelf import services as shelf
from portal.shelf.models import Listing, StoreNotice
from portal.targets.services import TargetSpec
from tests.conftest import login
from tests.factories import make_product, sql_log


def _carried_by(org, product, codes):
    """HQ pushes an assortment with ``product`` to the stores with ``codes``."""
    a = Assortment(name="菜单", path=org.nodes["hq"].path)
    db.session.add(a)
    db.session.flush()
    db.session.add(AssortmentItem(assortment_id=a.id, product_id=product.id))
    db.session.commit()
    hq = org.users["hq"]
    pushes.create_push(scope_for(hq), "goods", a.id, a.name, TargetSpec(store_codes=codes), actor=hq)
    db.session.commit()
    db.session.expire_all()


def _product_form(product, prices):
    """The edit form of ``product`` as HQ posts it, with (list, floor, ceiling) yuan per SKU."""
    data = {"code": product.code, "name": product.name, "category": product.category, "description": "",
            "commission": "", "action": "save"}
    for i, (sku, (lp, lo, hi)) in enumerate(zip(product.skus, prices, strict=True)):
        data.update({f"skus-{i}-id": str(sku.id), f"skus-{i}-code": sku.code, f"skus-{i}-spec": "",
                     f"skus-{i}-list_price": lp, f"skus-{i}-price_floor": lo, f"skus-{i}-price_ceiling": hi})
    return data


def _price_box(html: str, sku_id: int) -> str:
    return re.search(rf'id="price-{sku_id}"[^>]*value="([^"]*)"', html, re.S).group(1)


def _speaking(client, lang):
    client.post("/language", data={"lang": lang})
    return client


# --------------------------------------------------------------------------- 15: empty = follow HQ

def test_saving_only_the_stock_keeps_following_hq_and_a_later_hq_change_reaches_the_store(client, org):
    p = make_product(org.nodes["hq"], "TEA", name="乌龙茶", skus=1, list_price=1000, floor=800, ceiling=1500)
    _carried_by(org, p, ["SH001"])
    sku, store = p.skus[0].id, org.stores["sh1"].id
    login(client, "owner1")
    page = client.get("/my/goods").get_data(as_text=True)
    assert "跟随总部价 ¥10.00" in page
    # The owner types a stock and saves the row as the page gives it: the price box is empty.
    price = _price_box(page, sku)
    assert price == ""
    r = client.post(f"/stores/{store}/goods/{sku}", data={"price": price, "stock": "5"}, hx=True)
    assert r.status_code == 200 and "跟随总部价 ¥10.00" in r.get_data(as_text=True)
    listing = db.session.scalar(select(Listing).where(Listing.sku_id == sku))
    assert listing.stock == 5 and listing.price is None
    # HQ raises the list price: the store's price moves with it, and the owner is told.
    client.post("/logout")
    hq = login(client, "hq") and client
    r = hq.post(f"/goods/{p.id}", data={**_product_form(p, [("11", "8", "15")]), "confirm_reach": "1"})
    assert r.status_code == 303
    assert shelf.good_or_none(store, sku).price == 1100
    client.post("/logout")
    login(client, "owner1")
    page = client.get("/my/goods").get_data(as_text=True)
    assert "跟随总部价 ¥11.00" in page
    notices = page[page.index('id="store-notices"'):]
    assert "乌龙茶" in notices and "¥10.00" in notices and "¥11.00" in notices and "跟随总部价" in notices
    assert db.session.scalar(select(StoreNotice.code)) == "price_followed"


def test_an_own_price_stays_the_stores_until_it_clears_it(client, org):
    p = make_product(org.nodes["hq"], "TEA", name="乌龙茶", skus=1, list_price=1000, floor=800, ceiling=1500)
    _carried_by(org, p, ["SH001"])
    sku, store = p.skus[0].id, org.stores["sh1"].id
    login(client, "owner1")
    client.post(f"/stores/{store}/goods/{sku}", data={"price": "12.50", "stock": ""}, hx=True)
    html = client.get("/my/goods").get_data(as_text=True)
    assert _price_box(html, sku) == "12.50" and "data-follows-hq" not in html
    # Saving the stock with the price as shown keeps the own price …
    client.post(f"/stores/{store}/goods/{sku}", data={"price": _price_box(html, sku), "stock": "3"}, hx=True)
    assert db.session.scalar(select(Listing.price)) == 1250
    # … an HQ list price change inside the bounds leaves it alone and sends no notice …
    client.post("/logout")
    login(client, "hq")
    assert client.post(f"/goods/{p.id}", data=_product_form(p, [("11", "8", "15")])).status_code == 303
    assert shelf.good_or_none(store, sku).price == 1250
    assert db.session.scalar(select(func.count(StoreNotice.id))) == 0
    # … and clearing the box goes back to following HQ.
    client.post("/logout")
    login(client, "owner1")
    client.post(f"/stores/{store}/goods/{sku}", data={"price": "", "stock": "3"}, hx=True)
    assert shelf.good_or_none(store, sku).price == 1100 and shelf.good_or_none(store, sku).follows_hq


# --------------------------------------------------------------------------- 15: N stores, before saving

def test_hq_sees_how_many_stores_change_and_exactly_those_are_told(client, org):
    p = make_product(org.nodes["hq"], "CF", name="美式", skus=2, list_price=1000, floor=800, ceiling=1500)
    _carried_by(org, p, ["SH001", "SH002", "JS001", "GD001"])
    first, second = p.skus
    st = org.stores
    db.session.add_all([
        Listing(store_id=st["sh2"].id, sku_id=first.id, price=None, stock=4),      # follows HQ (stock only)
        Listing(store_id=st["js1"].id, sku_id=first.id, price=1100),                 # own price, still inside
        Listing(store_id=st["gd1"].id, sku_id=first.id, price=1450),                 # own price, above the new ceiling
        Listing(store_id=st["js1"].id, sku_id=second.id, price=1000),                # own price, still inside
        Listing(store_id=st["gd1"].id, sku_id=second.id, price=1000),
        Listing(store_id=st["south_direct"].id, sku_id=first.id, price=900),         # inside; not carried anyway
    ])
    db.session.commit()
    login(client, "hq")
    _speaking(client, "en")
    # Both SKUs get a new list price and the first a lower ceiling: sh1 and sh2 follow (each counted
    # once for two SKUs), gd1 is clamped; js1 and south_direct keep their own prices.
    data = _product_form(p, [("11", "8", "12"), ("10.50", "8", "15")])
    r = client.post(f"/goods/{p.id}", data=data)
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and 'data-reach="3"' in html and "This changes the price in 3 stores" in html
    db.session.expire_all()
    assert db.session.get(Sku, first.id).list_price == 1000                         # nothing saved yet
    assert db.session.scalar(select(func.count(StoreNotice.id))) == 0
    # A stale confirmation (another count) asks again; the right one saves.
    assert 'data-reach="3"' in client.post(f"/goods/{p.id}", data={**data, "confirm_reach": "7"}).get_data(as_text=True)
    r = client.post(f"/goods/{p.id}", data={**data, "confirm_reach": "3"})
    assert r.status_code == 303
    told = {n.store_id for n in db.session.scalars(select(StoreNotice))}
    changed = {s for s in told}
    assert told == {st["sh1"].id, st["sh2"].id, st["gd1"].id} == changed
    for store in ("sh1", "sh2"):
        assert shelf.good_or_none(st[store].id, first.id).price == 1100
        assert shelf.good_or_none(st[store].id, second.id).price == 1050
    assert shelf.good_or_none(st["gd1"].id, first.id).price == 1200
    assert shelf.good_or_none(st["js1"].id, first.id).price == 1100
    # A save that moves no store's price needs no confirmation.
    p = db.session.get(type(p), p.id)
    assert client.post(f"/goods/{p.id}", data=_product_form(p, [("11", "8", "12"), ("10.50", "8", "15")])
                       ).status_code == 303


def test_one_notice_insert_for_followers_and_clamps_together(app, org):

    from portal.goods import services

    p = make_product(org.nodes["hq"], "CF", skus=1, list_price=1000, floor=500, ceiling=2000)
    _carried_by(org, p, ["SH001", "SH002", "JS001", "GD001", "SO001"])
    sku = p.skus[0]
    db.session.add_all([Listing(store_id=org.stores["gd1"].id, sku_id=sku.id, price=1900)])
    db.session.commit()
    with sql_log() as statements:
        with app.test_request_context():
            hq = org.users["hq"]
            services.update_product(
                scope_for(hq), p, {"code": p.code, "name": p.name, "category": p.category, "description": "",
                                   "direct_sale": False, "commission_rate": 0},
                [services.SkuData(id=sku.id, code=sku.code, spec={}, list_price=1200, price_floor=500,
                                  price_ceiling=1500)], actor=hq)
    assert sum(s.lstrip().upper().startswith("INSERT INTO STORE_NOTICES") for s in statements) == 1
    codes = dict(db.session.execute(select(StoreNotice.store_id, StoreNotice.code)).all())
    assert codes == {org.stores[s].id: "price_followed" for s in ("sh1", "sh2", "js1", "south_direct")} | {
        org.stores["gd1"].id: "price_lowered"}


# --------------------------------------------------------------------------- 16: notices in the reader's language

def test_a_notice_reads_in_the_owners_language_not_hqs(client, org):
    p = make_product(org.nodes["hq"], "TEA", name="乌龙茶", skus=1, list_price=1000, floor=800, ceiling=1500)
    _carried_by(org, p, ["SH001", "GD001"])
    db.session.add(Listing(store_id=org.stores["gd1"].id, sku_id=p.skus[0].id, price=1400))
    db.session.commit()
    hq = client.application.test_client()          # HQ's own browser
    login(hq, "hq")
    _speaking(hq, "en")
    assert db.session.scalar(select(User.locale).where(User.username == "hq")) == "en"
    data = {**_product_form(p, [("12", "8", "13")]), "confirm_reach": "2"}
    assert hq.post(f"/goods/{p.id}", data=data).status_code == 303
    assert db.session.scalar(select(func.count(StoreNotice.id))) == 2
    # owner1 reads Chinese …
    login(client, "owner1")
    _speaking(client, "zh_Hans_CN")
    html = client.get("/my/goods").get_data(as_text=True)
    notices = html[html.index('id="store-notices"'):html.index("</ul>", html.index('id="store-notices"'))]
    assert "总部已将 乌龙茶 的价格从 ¥10.00 调整为 ¥12.00" in notices and "HQ changed" not in notices
    client.post("/logout")
    # … and the same kind of notice, to an owner who reads English, is English.
    login(client, "owner_gd")
    _speaking(client, "en")
    html = client.get("/my/goods").get_data(as_text=True)
    notices = html[html.index('id="store-notices"'):html.index("</ul>", html.index('id="store-notices"'))]
    assert "HQ changed the price range of 乌龙茶 to CN¥8.00–CN¥13.00" in notices and "now CN¥13.00" in notices
    assert "总部" not in notices
    # The very notice owner1 read in Chinese reads in English for an English reader.
    sh1_notice = db.session.scalar(select(StoreNotice).where(StoreNotice.store_id == org.stores["sh1"].id))
    with client.application.test_request_context(headers={"Cookie": "lang=en"}):
        assert sh1_notice.text.startswith("HQ changed the price of 乌龙茶 from CN¥10.00 to CN¥12.00")
    assert sh1_notice.message is None and sh1_notice.params["price_fen"] == 1200


def test_a_notice_written_before_codes_shows_its_stored_text(client, org):
    db.session.add(StoreNotice(store_id=org.stores["sh1"].id, kind="price_clamped", message="总部调整了旧商品的价格。",
                               details={}))
    db.session.commit()
    login(client, "owner1")
    _speaking(client, "en")
    assert "总部调整了旧商品的价格。" in client.get("/my/goods").get_data(as_text=True)
