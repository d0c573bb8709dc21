"""Odd input never answers 500: ids and page numbers beyond 64 bits, money that is not money,
stock beyond any count, JSON that does not parse, and identifiers with a trailing newline.

Each case asserts what the person (or mini-program) sees: a 404, the list's first page, the
error beside the field, a 400 naming the problem, and that nothing was written.
"""
from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from portal.campaigns.models import CouponClaim
from portal.goods.models import Product, Sku
from portal.org.models import Store
from portal.shelf.models import Listing
from portal.targets.services import TargetSpec
from tests import factories
from tests.campaigns.helpers import key, make_campaign, push
from tests.conftest import login
from tests.test_access import API_KEY, PUBLIC, SIGNED, TABLE, _ids

BAD_IDS = (str(2**63), str(10**30), "-1", "abc")
BAD_NUMBERS = (str(2**63), str(10**30), "-1", "abc", "²", "１２", "1e3", " ", "0")
BAD_MONEY = ("NaN", "Infinity", "-Infinity", "sNaN", "1e17", "99999999999999999999999", "-1", "1.234",
             "10000000.01", "1_000", "12.5.0", "+12", "0x10", "１２e3")
BAD_STOCK = ("99999999999999999999999", "-1", "1.5", "NaN", "1e3", "abc")


@pytest.fixture(autouse=True)
def _english(client):
    client.set_cookie("lang", "en")


# --------------------------------------------------------------------------- ids in URLs

ID_ROUTES = [e for e, row in TABLE.items() if "{id" in row[1]]


@pytest.mark.parametrize("endpoint", ID_ROUTES)
@pytest.mark.parametrize("bad", BAD_IDS)
def test_an_id_out_of_range_in_the_url_is_404(client, org, endpoint, bad):
    method, template, allowed, kind, data = TABLE[endpoint]
    login(client, "hq" if allowed not in (PUBLIC, API_KEY, SIGNED) and "hq" in allowed else "owner1")
    data = {} if callable(data) else data         # a form built from the real object: the id is bad here
    urls = [template.format(id=(bad, bad))] if "{id[" in template else [template.format(id=bad)]
    if "{id[" in template:       # the first id real, the second out of range
        own, _foreign = _ids(org, kind)
        urls.append(template.format(id=(own[0], bad)))
    for url in urls:
        r = client.get(url) if method == "GET" else client.post(url, data=data or {})
        assert r.status_code == 404, (url, r.status_code)


# --------------------------------------------------------------------------- numbers in query strings

QUERY_KEYS = ("page", "per_page", "node", "parent", "target_id", "ids", "store_ids", "product_ids", "node_ids")
GET_ROUTES = [e for e, row in TABLE.items() if row[0] == "GET" and row[2] not in (PUBLIC, API_KEY)]


def _allowed_user(allowed) -> str:
    return "hq" if "hq" in allowed else allowed[0]


@pytest.mark.parametrize("endpoint", GET_ROUTES)
def test_numbers_out_of_range_in_the_query_string_show_the_page(client, org, endpoint):
    """Every list and form page with ?page= (and every other number parameter) far beyond 64
    bits, negative or junk: the page as without it, never a 500."""
    method, template, allowed, kind, _data = TABLE[endpoint]
    login(client, _allowed_user(allowed))
    url = template.format(id=_ids(org, kind)[0]) if kind else template
    sep = "&" if "?" in url else "?"
    plain = client.get(url).status_code
    assert plain in (200, 303)
    for bad in BAD_NUMBERS:
        query = "&".join(f"{k}={bad}" for k in QUERY_KEYS)
        r = client.get(f"{url}{sep}{query}")
        assert r.status_code == plain, (url, bad, r.status_code)


def test_a_huge_page_number_shows_the_last_page_of_stores(client, org):
    login(client, "hq")
    html = client.get(f"/stores?page={2**63}").get_data(as_text=True)
    assert "SH001" in html and "GD001" in html


def test_a_huge_node_filter_shows_no_error_and_ignores_it(client, org):
    login(client, "hq")
    r = client.get(f"/stores?node={10**30}")
    assert r.status_code == 200 and "GD001" in r.get_data(as_text=True)


def test_api_goods_with_huge_paging_answers_the_first_page(client, org, db):
    k = key(org.stores["sh1"])
    r = client.get(f"/api/v1/stores/SH001/goods?page={2**63}&per_page={10**30}",
                   headers={"Authorization": f"Bearer {k}"})
    assert r.status_code == 200
    body = r.get_json()
    assert body["per_page"] <= 200 and body["goods"] == []


# --------------------------------------------------------------------------- ids in forms

POST_ROUTES = [e for e, row in TABLE.items() if row[0] == "POST" and row[2] not in (PUBLIC, API_KEY, SIGNED)]


@pytest.mark.parametrize("endpoint", POST_ROUTES)
def test_ids_out_of_range_in_a_form_are_ignored(client, org, endpoint):
    method, template, allowed, kind, data = TABLE[endpoint]
    if endpoint == "auth.logout":
        return
    login(client, _allowed_user(allowed))
    own = _ids(org, kind)[0] if kind else None
    url = template.format(id=own) if kind else template
    if callable(data):
        data = data(org, _allowed_user(allowed), own)
    for bad in BAD_IDS:
        form = dict(data or {})
        form.update({k: [bad, bad] for k in ("ids", "store_ids", "product_ids", "node_ids")})
        form.update({k: bad for k in ("target_id", "node_id", "parent_id", "skus-0-id")})
        r = client.post(url, data=form)
        assert r.status_code < 500, (url, bad, r.status_code)


def test_bulk_action_with_ids_beyond_64_bits_changes_nothing(client, org, db):
    login(client, "hq")
    r = client.post("/stores/bulk", data={"action": "suspended", "ids": [str(2**63), str(10**30), "²"]})
    assert r.status_code == 303
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Store).where(Store.status == "suspended")) == 0


def test_stop_with_store_ids_beyond_64_bits_asks_for_stores(client, org, db):
    c = make_campaign(org.users["hq"])
    login(client, "hq")
    r = client.post(f"/campaigns/{c.id}/stop", data={"store_ids": [str(2**63), "-1"]})
    assert r.status_code in (302, 303)
    assert "Choose the stores to stop it in." in client.get(f"/campaigns/{c.id}").get_data(as_text=True)


def test_target_with_a_node_id_beyond_64_bits_is_an_error_beside_the_field(client, org, db):
    login(client, "hq")
    r = client.post("/targets/new", data={"name": "t", "node_ids": [str(2**63)]})
    assert r.status_code == 422


def test_assortment_with_product_ids_beyond_64_bits_adds_nothing(client, org, db):
    from portal.assortments.models import Assortment, AssortmentItem

    a = Assortment(name="a", path=org.nodes["hq"].path)
    db.session.add(a)
    db.session.commit()
    login(client, "hq")
    r = client.post(f"/assortments/{a.id}/items", data={"codes": "", "product_ids": [str(2**63)]})
    assert r.status_code == 422 and "Choose goods from the goods library" in r.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(AssortmentItem)) == 0


def test_product_form_with_a_sku_id_beyond_64_bits_is_a_new_sku(client, org, db):
    p = factories.make_product(org.nodes["hq"], "HQ-1", skus=1)
    db.session.commit()
    login(client, "hq")
    data = {"code": "HQ-1", "name": "n", "category": "c", "description": "", "commission": "", "action": "save",
            "skus-0-id": str(p.skus[0].id), "skus-0-code": p.skus[0].code, "skus-0-list_price": "10",
            "skus-1-id": str(2**63), "skus-1-code": "HQ-1-NEW", "skus-1-list_price": "12"}
    r = client.post(f"/goods/{p.id}", data=data)
    assert r.status_code == 303
    db.session.expire_all()
    assert sorted(s.code for s in db.session.get(Product, p.id).skus) == ["HQ-1-1", "HQ-1-NEW"]


# --------------------------------------------------------------------------- money and quantities

def _shelf_good(db, org, *, local=False):
    from portal.assortments.models import Assortment, AssortmentItem
    from portal.org.scope import scope_for
    from portal.pushes import services as pushes

    if local:
        product = factories.make_product(org.stores["sh1"], skus=1, list_price=500, floor=0, ceiling=500)
        db.session.commit()
        return product
    product = factories.make_product(org.nodes["hq"], "P-TEA", skus=1, list_price=1000, floor=800, ceiling=1500)
    a = Assortment(name="a", path=org.nodes["hq"].path)
    db.session.add(a)
    db.session.flush()
    db.session.add(AssortmentItem(assortment_id=a.id, product_id=product.id))
    db.session.commit()
    pushes.create_push(scope_for(org.users["hq"]), "goods", a.id, "a", TargetSpec(store_codes=["SH001"]),
                       actor=org.users["hq"])
    db.session.commit()
    return product


@pytest.mark.parametrize("local", [False, True], ids=["hq_good", "local_good"])
@pytest.mark.parametrize("bad", BAD_MONEY)
def test_shelf_price_that_is_not_money_is_an_error_beside_the_field(client, org, db, bad, local):
    product = _shelf_good(db, org, local=local)
    sku = product.skus[0]
    login(client, "owner1")
    r = client.post(f"/stores/{org.stores['sh1'].id}/goods/{sku.id}", data={"price": bad, "stock": ""}, hx=True)
    assert r.status_code == 422 and 'data-field="price"' in r.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Listing)) == 0
    assert db.session.get(Sku, sku.id).list_price == sku.list_price


@pytest.mark.parametrize("bad", BAD_STOCK)
def test_stock_that_is_not_a_count_is_an_error_beside_the_field(client, org, db, bad):
    sku = _shelf_good(db, org).skus[0]
    login(client, "owner1")
    r = client.post(f"/stores/{org.stores['sh1'].id}/goods/{sku.id}", data={"price": "", "stock": bad}, hx=True)
    assert r.status_code == 422 and 'data-field="stock"' in r.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Listing)) == 0


def test_stock_up_to_the_ceiling_is_saved(client, org, db):
    sku = _shelf_good(db, org).skus[0]
    login(client, "owner1")
    r = client.post(f"/stores/{org.stores['sh1'].id}/goods/{sku.id}", data={"price": "", "stock": "100000000"},
                    hx=True)
    assert r.status_code == 200
    assert db.session.scalar(select(Listing.stock)) == 100_000_000


def _local_form(price):
    return {"name": "自制蛋挞", "category": "烘焙", "description": "", "skus-0-spec": "单个", "skus-0-price": price}


@pytest.mark.parametrize("bad", BAD_MONEY)
def test_local_product_price_that_is_not_money_is_refused(client, org, db, bad):
    login(client, "owner1")
    r = client.post("/my/goods/new", data=_local_form(bad))
    assert r.status_code == 422
    assert db.session.scalar(select(func.count()).select_from(Product)) == 0


def test_local_product_and_shelf_share_one_ceiling(client, org, db):
    """¥10,000,000 is the ceiling everywhere: the local product form took at most ¥1,000,000,
    the shelf took ¥10^16."""
    login(client, "owner1")
    assert client.post("/my/goods/new", data=_local_form("2000000")).status_code == 303
    product = db.session.scalar(select(Product).where(Product.name == "自制蛋挞"))
    assert product.skus[0].list_price == 200_000_000
    store = org.stores["sh1"].id
    r = client.post(f"/stores/{store}/goods/{product.skus[0].id}", data={"price": "10000000", "stock": ""}, hx=True)
    assert r.status_code == 200
    r = client.post(f"/stores/{store}/goods/{product.skus[0].id}", data={"price": "10000000.01", "stock": ""},
                    hx=True)
    assert r.status_code == 422 and "At most ¥10,000,000." in r.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Sku, product.skus[0].id).list_price == 1_000_000_000


@pytest.mark.parametrize("column", ["list_price", "price_floor", "price_ceiling"])
@pytest.mark.parametrize("bad", BAD_MONEY)
def test_catalog_sku_price_that_is_not_money_is_refused(client, org, db, bad, column):
    login(client, "hq")
    data = {"code": "CF-001", "name": "拿铁", "category": "咖啡", "description": "", "commission": "",
            "action": "save", "skus-0-code": "CF-001-L", "skus-0-list_price": "18"}
    data[f"skus-0-{column}"] = bad
    r = client.post("/goods/new", data=data)
    assert r.status_code == 422, r.status_code
    assert db.session.scalar(select(func.count()).select_from(Product)) == 0


@pytest.mark.parametrize("bad", BAD_MONEY)
def test_catalog_csv_price_that_is_not_money_is_a_row_error(client, org, db, bad):
    login(client, "hq")
    text = ("product_code,product_name,category,sku_code,spec,list_price,price_floor,price_ceiling,direct_sale,"
            f"commission\nCF-1,拿铁,咖啡,CF-1-M,规格:中杯,{bad},,,否,\n")
    r = client.post("/goods/import", data={"csrf_token": client.csrf_token(),
                                           "file": (io.BytesIO(text.encode()), "goods.csv")},
                    content_type="multipart/form-data", csrf=False)
    html = r.get_data(as_text=True)
    assert r.status_code == 422 and "Nothing was imported." in html
    assert "list_price" in html.split("Nothing was imported.", 1)[1].split("Columns", 1)[0]
    assert db.session.scalar(select(func.count()).select_from(Product)) == 0


# --------------------------------------------------------------------------- JSON bodies

@pytest.fixture
def coupon(org, db):
    hq = org.users["hq"]
    c = make_campaign(hq, rules={"discount": "percent", "percent": 20, "threshold": "0", "per_member": 1,
                                 "budget": 10})
    push(hq, c, TargetSpec(store_codes=["SH001"]))
    return c, key(org.stores["sh1"])


def _claim_raw(client, cid, k, body: str | bytes, content_type="application/json"):
    return client.post(f"/api/v1/stores/SH001/coupons/{cid}/claim", data=body,
                       headers={"Authorization": f"Bearer {k}", "Content-Type": content_type})


@pytest.mark.parametrize("body", ["[" * 100000, "{" * 50000, "nope", '{"member": "a"', "", '{"member": NaN}',
                                  '{"member": Infinity}', "[]", '"alice"', "1e999", "\xff\xfe"])
def test_a_body_that_is_not_a_json_object_is_400_naming_the_problem(client, org, db, coupon, body):
    c, k = coupon
    r = _claim_raw(client, c.id, k, body.encode("latin-1") if body == "\xff\xfe" else body)
    assert r.status_code == 400, r.status_code
    error = r.get_json()["error"]
    assert error["code"] == "invalid_json" and error["field"] is None and error["message"]
    assert db.session.scalar(select(func.count()).select_from(CouponClaim)) == 0


def test_deep_but_sane_json_still_claims(client, org, db, coupon):
    c, k = coupon
    r = _claim_raw(client, c.id, k, '{"member": "alice", "extra": [[[1]]]}')
    assert r.status_code == 201


# --------------------------------------------------------------------------- strings matched whole

@pytest.mark.parametrize("variant", ["alice\n", "alice\r", " alice", "alice\x00", "alice\t", "\u200balice",
                                     "alice\u2028", "ａlice"])
def test_a_member_id_with_extra_characters_is_never_a_second_member(client, org, db, coupon, variant):
    """Per-member limit 1: alice claims, then a variant of "alice" is refused (422 naming the
    member field) or counted as alice (409 member_limit) — never a second coupon."""
    c, k = coupon
    assert _claim_raw(client, c.id, k, '{"member": "alice"}').status_code == 201
    import json

    r = _claim_raw(client, c.id, k, json.dumps({"member": variant}))
    assert r.status_code in (409, 422), r.status_code
    if r.status_code == 422:
        assert r.get_json()["error"]["field"] == "member"
    else:
        assert r.get_json()["error"]["code"] == "member_limit"
    assert db.session.scalars(select(CouponClaim.member)).all() == ["alice"]


def test_store_form_code_with_a_newline_inside_is_refused(client, org, db):
    login(client, "hq")
    r = client.post("/stores/new", data={"code": "NEW1\nX", "name": "新店", "city": "上海",
                                         "node_id": org.nodes["r_sh"].id, "status": "active"})
    assert r.status_code == 422 and "Letters, digits" in r.get_data(as_text=True)
    assert db.session.scalar(select(Store).where(Store.code.like("NEW1%"))) is None


def test_store_form_code_with_a_trailing_newline_never_stores_it(client, org, db):
    login(client, "hq")
    client.post("/stores/new", data={"code": "NEW1\n", "name": "新店", "city": "上海",
                                     "node_id": org.nodes["r_sh"].id, "status": "active"})
    codes = db.session.scalars(select(Store.code).where(Store.code.like("NEW1%"))).all()
    assert all(code == "NEW1" for code in codes)


@pytest.mark.parametrize("pattern", ["CODE_RE"])
def test_every_pattern_refuses_a_trailing_newline(pattern):
    """The mechanism: patterns are matched whole, so "x\\n" is not "x"."""
    from portal.goods import forms as catalog_forms
    from portal.goods import services as catalog_services
    from portal.kernel.text import whole
    from portal.org import forms as org_forms

    for regex in (org_forms.CODE_RE, catalog_forms.CODE_RE, catalog_services.CODE_RE):
        compiled = whole(regex) if isinstance(regex, str) else regex
        assert compiled.match("AB1")
        assert not compiled.match("AB1\n")


def test_store_csv_code_with_a_newline_inside_is_a_row_error(client, org, db):
    login(client, "hq")
    raw = ('code,name,city,address,region_code,status\r\n"NEW1\nX",新店,上海,,R-SH,active\r\n').encode()
    r = client.post("/stores/import", data={"file": (io.BytesIO(raw), "stores.csv")},
                    content_type="multipart/form-data")
    assert r.status_code == 422
    assert db.session.scalar(select(Store).where(Store.code.like("NEW1%"))) is None


def test_catalog_csv_code_with_a_trailing_newline_never_stores_it(client, org, db):
    login(client, "hq")
    text = ('product_code,product_name,category,sku_code,spec,list_price,price_floor,price_ceiling,direct_sale,'
            'commission\n"CF-1\nX",拿铁,咖啡,"CF-1-M\n",规格:中杯,18,,,否,\n')
    r = client.post("/goods/import", data={"csrf_token": client.csrf_token(),
                                           "file": (io.BytesIO(text.encode()), "goods.csv")},
                    content_type="multipart/form-data", csrf=False)
    assert r.status_code == 422
    assert db.session.scalar(select(func.count()).select_from(Product)) == 0


def test_store_edit_posted_without_its_fields_is_an_error_not_a_500(client, org, db):
    """Found by tests/test_fuzz.py: a post without the tags field read the store's Tag rows."""
    login(client, "hq")
    store = org.stores["sh1"]
    r = client.post(f"/stores/{store.id}/edit", data={"page": str(2**63)})
    assert r.status_code == 422 and "This field is required." in r.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Store, store.id).tag_names == ["旗舰店"]
