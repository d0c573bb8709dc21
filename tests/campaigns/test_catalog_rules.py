"""Campaign rules are checked against the catalog the actor may use, and their money is fen:
unknown SKUs (and another distributor's, which read exactly the same) and sale prices at or above
the list price are refused beside their field; nothing that is not an amount reaches the rules."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select

from portal.campaigns.models import Campaign
from portal.goods.models import Sku
from portal.kernel.time import utcnow
from portal.shelf.models import StoreNotice
from portal.targets.services import TargetSpec
from tests.campaigns.helpers import api_campaigns, claim, key, make_campaign, push
from tests.campaigns.test_rules import BASE, GOOD
from tests.factories import make_product


@pytest.fixture(autouse=True)
def _catalog(org, db):
    """HQ's SKU-1, SKU-2 at ¥29.90; 华东's EAST-1 and 华南's SOUTH-1 at ¥20.00; a store's own good."""
    make_product(org.nodes["hq"], "SKU", skus=2, list_price=2990, floor=1000, ceiling=5000)
    make_product(org.nodes["east"], "EAST", skus=1, list_price=2000, floor=1000, ceiling=3000)
    make_product(org.nodes["south"], "SOUTH", skus=1, list_price=2000, floor=1000, ceiling=3000)
    make_product(org.stores["sh1"], "LOCAL", skus=1, list_price=2000, floor=0, ceiling=3000)
    db.session.commit()



def _post(client, kind, **rules):
    data = {**BASE, **{f"rules-{k}": v for k, v in {**GOOD[kind], **rules}.items()}}
    return client.post(f"/campaigns/new/{kind}", data=data)


def _error(html: str, field: str) -> str:
    return " ".join(re.findall(rf'<div class="invalid-feedback" data-field="rules-{field}">(.*?)</div>', html, re.S))


def _count(db) -> int:
    return db.session.scalar(select(func.count()).select_from(Campaign))


# --------------------------------------------------------------------------- SKUs in the actor's catalog

def test_a_flash_sale_on_an_unknown_sku_is_refused_beside_the_field(en, db):
    r = _post(en("hq"), "flash_sale", **{"items-1-sku": "XYZ-999"})
    assert r.status_code == 422
    assert _error(r.get_data(as_text=True), "items-1-sku") == "Unknown SKU XYZ-999"
    assert _error(r.get_data(as_text=True), "items-0-sku") == ""          # the good row has no error
    assert _count(db) == 0


@pytest.mark.parametrize("kind", ["bargain", "group_buy"])
def test_another_distributors_sku_reads_exactly_like_an_unknown_one(en, db, kind):
    client = en("east_admin")
    foreign = _error(_post(client, kind, sku="SOUTH-1").get_data(as_text=True), "sku")
    unknown = _error(_post(client, kind, sku="NOPE-1").get_data(as_text=True), "sku")
    assert foreign == "Unknown SKU SOUTH-1" and foreign.replace("SOUTH-1", "NOPE-1") == unknown
    store_own = _error(_post(client, kind, sku="LOCAL-1").get_data(as_text=True), "sku")
    assert store_own == "Unknown SKU LOCAL-1"                    # a store's own goods are not campaign goods
    assert _count(db) == 0
    # HQ's catalog and 华东's own goods are 华东's to use, in any case of the code.
    assert _post(client, kind, sku="east-1", price="9.9", floor_price="1").status_code == 302
    assert _post(client, kind, sku="SKU-2").status_code == 302
    assert [c.rules["sku"] for c in db.session.scalars(select(Campaign).order_by(Campaign.id))] == ["EAST-1", "SKU-2"]
    # HQ sees the whole brand.
    assert _post(en("hq"), kind, sku="SOUTH-1", price="9.9", floor_price="1").status_code == 302


# --------------------------------------------------------------------------- prices against the list price

PRICE_FIELDS = [("flash_sale", "items-0-price", "The flash-sale price"),
                ("bargain", "floor_price", "The bargain floor price"), ("group_buy", "price", "The group price")]


@pytest.mark.parametrize("kind,field,what", PRICE_FIELDS)
@pytest.mark.parametrize("price", ["29.90", "149.50", "5000"])
def test_a_sale_price_must_be_below_the_list_price(en, db, kind, field, what, price):
    r = _post(en("hq"), kind, **{field: price})
    assert r.status_code == 422
    of = "" if kind == "flash_sale" else " of SKU-1"            # a flash sale's row is the SKU's own
    assert _error(r.get_data(as_text=True), field) == f"{what} must be below the list price CN¥29.90{of}."
    assert _count(db) == 0


def test_each_flash_sale_row_is_held_to_its_own_list_price(en, db):
    rows = {"items-0-sku": "SKU-1", "items-0-price": "25", "items-1-sku": "EAST-1", "items-1-price": "25"}
    r = _post(en("east_admin"), "flash_sale", **rows)
    html = r.get_data(as_text=True)
    assert _error(html, "items-1-price") == "The flash-sale price must be below the list price CN¥20.00."
    assert _error(html, "items-0-price") == ""                     # ¥25 is below SKU-1's ¥29.90
    assert _post(en("east_admin"), "flash_sale", **{**rows, "items-1-price": "19.99"}).status_code == 302
    assert [(i["sku"], i["price_fen"]) for i in db.session.scalar(select(Campaign)).rules["items"]] == [
        ("SKU-1", 2500), ("EAST-1", 1999)]


@pytest.mark.parametrize("kind,field,what", PRICE_FIELDS)
def test_a_sale_price_must_be_above_zero(en, db, kind, field, what):
    r = _post(en("hq"), kind, **{field: "0"})
    assert r.status_code == 422 and _error(r.get_data(as_text=True), field) == "Enter an amount above zero."
    assert _count(db) == 0


# --------------------------------------------------------------------------- what is not an amount

MONEY = [("coupon", "amount"), ("coupon", "threshold"), ("flash_sale", "items-0-price"), ("bargain", "floor_price"),
         ("group_buy", "price")]
NOT_AMOUNTS = ["NaN", "nan", "Infinity", "-Infinity", "sNaN", "1e17", "10.001", "-5", "12元"]


@pytest.mark.parametrize("kind,field", MONEY)
@pytest.mark.parametrize("text", NOT_AMOUNTS)
def test_not_an_amount_in_any_money_field_is_a_field_error(en, db, kind, field, text):
    r = _post(en("hq"), kind, **{field: text})
    assert r.status_code == 422, r.status_code
    assert _error(r.get_data(as_text=True), field), r.get_data(as_text=True)[:2000]
    assert _count(db) == 0


@pytest.mark.parametrize("field", ["store_rate", "guide_rate", "sharer_rate", "second_rate"])
@pytest.mark.parametrize("text", ["NaN", "Infinity", "-Infinity", "1e17"])
def test_not_a_number_in_a_commission_rate_is_a_field_error(en, db, field, text):
    r = _post(en("hq"), "distribution", **{field: text})
    assert r.status_code == 422 and _error(r.get_data(as_text=True), field)
    assert _count(db) == 0


QUANTITIES = [("flash_sale", "items-0-quantity"), ("coupon", "budget"), ("coupon", "per_member"),
              ("bargain", "helpers"), ("group_buy", "group_size"), ("distribution", "freeze_days")]


@pytest.mark.parametrize("kind,field", QUANTITIES)
@pytest.mark.parametrize("text", ["-1", "1.5", "1e17", "NaN", "100000001", "99999999999999999999999"])
def test_quantities_are_whole_and_bounded(en, db, kind, field, text):
    r = _post(en("hq"), kind, **{field: text})
    assert r.status_code == 422 and _error(r.get_data(as_text=True), field)
    assert _count(db) == 0


def test_a_quantity_of_zero_is_refused_where_it_must_be_positive(en, db):
    for kind, field in QUANTITIES[:-1]:
        r = _post(en("hq"), kind, **{field: "0"})
        assert r.status_code == 422 and _error(r.get_data(as_text=True), field), (kind, field)
    assert _count(db) == 0


# --------------------------------------------------------------------------- fen, everywhere

def test_money_is_stored_in_fen_and_shown_as_yuan(en, db):
    client = en("hq")
    r = _post(client, "flash_sale", **{"items-0-price": "9.9"})
    c = db.session.scalar(select(Campaign))
    item = c.rules["items"][0]
    assert item["price_fen"] == 990 and isinstance(item["price_fen"], int) and "price" not in item
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert re.search(r'data-rule="price">\s*CN¥9.90', page)
    assert 'value="9.90"' in client.get(f"/campaigns/{c.id}/edit").get_data(as_text=True)
    _post(client, "bargain", floor_price="1.5")
    _post(client, "coupon", amount="10", threshold="100.5")
    rules = {c.kind: c.rules for c in db.session.scalars(select(Campaign))}
    assert rules["bargain"]["floor_price_fen"] == 150
    assert (rules["coupon"]["amount_fen"], rules["coupon"]["threshold_fen"]) == (1000, 10050)


def test_the_campaigns_api_and_the_claim_give_yuan_text_and_fen(client, org, db):
    hq = org.users["hq"]
    now = utcnow()
    sale = make_campaign(hq, kind="flash_sale", name="秒杀", rules={
        "items": [{"sku": "SKU-1", "price_fen": 990, "quantity": 10}], "sale_starts": now.isoformat(),
        "sale_ends": (now + timedelta(days=1)).isoformat()})
    coupon = make_campaign(hq, rules={"discount": "amount", "amount_fen": 1000, "percent": None,
                                      "threshold_fen": 10050, "per_member": 1, "budget": 5})
    for c in (sale, coupon):
        push(hq, c, TargetSpec(store_codes=["SH001"]))
    k = key(org.stores["sh1"])
    rules = {c["kind"]: c["rules"] for c in api_campaigns(client, org.stores["sh1"], k).get_json()["campaigns"]}
    assert rules["flash_sale"]["items"] == [{"sku": "SKU-1", "price": "9.90", "price_fen": 990, "quantity": 10}]
    assert (rules["coupon"]["amount"], rules["coupon"]["amount_fen"]) == ("10.00", 1000)
    assert (rules["coupon"]["threshold"], rules["coupon"]["threshold_fen"]) == ("100.50", 10050)
    r = claim(client, org.stores["sh1"], k, coupon.id)
    assert r.status_code == 201
    assert r.get_json()["coupon"] == {"discount": "amount", "amount": "10.00", "amount_fen": 1000, "percent": None,
                                      "threshold": "100.50", "threshold_fen": 10050}


# --------------------------------------------------------------------------- publishing re-checks

def test_publishing_rechecks_the_rules_against_the_catalog(en, org, db):
    client = en("hq")
    assert _post(client, "flash_sale", **{"items-0-price": "19.90"}).status_code == 302
    c = db.session.scalar(select(Campaign))
    db.session.execute(sa.update(Sku).where(Sku.code == "SKU-1").values(list_price=1500, price_floor=1000))
    db.session.commit()
    client.post(f"/campaigns/{c.id}/publish")
    page = client.get(f"/campaigns/{c.id}").get_data(as_text=True)
    assert "SKU-1: The flash-sale price must be below the list price CN¥15.00." in page
    db.session.expire_all()
    assert db.session.get(Campaign, c.id).status == "draft"


def test_a_draft_written_around_the_form_cannot_publish(en, org, db):
    """The hostile review's case: a flash sale on XYZ-999 at five times the list price."""
    hq = org.users["hq"]
    now = utcnow()
    c = make_campaign(hq, kind="flash_sale", publish=False, rules={
        "items": [{"sku": "XYZ-999", "price_fen": 14950, "quantity": 10}], "sale_starts": now.isoformat(),
        "sale_ends": (now + timedelta(days=1)).isoformat()})
    client = en("hq")
    client.post(f"/campaigns/{c.id}/publish")
    assert "Unknown SKU XYZ-999" in client.get(f"/campaigns/{c.id}").get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Campaign, c.id).status == "draft"
    assert client.get(f"/campaigns/{c.id}/push").status_code == 303         # nothing to push: back to the page


# --------------------------------------------------------------------------- the migration

def test_migration_moves_string_money_to_fen_and_back(app, org, db):
    from flask_migrate import downgrade, upgrade

    campaigns = sa.table("campaigns", sa.column("id", sa.Integer), sa.column("kind", sa.String),
                         sa.column("name", sa.String), sa.column("rules", sa.JSON),
                         sa.column("starts_at", sa.DateTime(timezone=True)),
                         sa.column("ends_at", sa.DateTime(timezone=True)), sa.column("status", sa.String),
                         sa.column("participation", sa.String), sa.column("issued", sa.Integer),
                         sa.column("budget", sa.Integer), sa.column("path", sa.String),
                         sa.column("created_at", sa.DateTime(timezone=True)),
                         sa.column("updated_at", sa.DateTime(timezone=True)))
    notices = sa.table("store_notices", sa.column("id", sa.Integer), sa.column("store_id", sa.Integer),
                       sa.column("kind", sa.String), sa.column("message", sa.String), sa.column("code", sa.String),
                       sa.column("params", sa.JSON), sa.column("details", sa.JSON),
                       sa.column("created_at", sa.DateTime(timezone=True)))
    now = utcnow()
    old_rules = {
        "coupon": {"discount": "amount", "amount": "10.00", "percent": None, "threshold": "100.50", "per_member": 1,
                   "budget": 5},
        "flash_sale": {"skus": ["SKU-1"], "price": "9.90", "quantity": 10, "sale_starts": now.isoformat(),
                       "sale_ends": now.isoformat()},
        "bargain": {"sku": "SKU-1", "floor_price": "1.00", "helpers": 3, "hours": 24},
        "group_buy": {"sku": "SKU-1", "group_size": 3, "price": "19.90", "hours": 24},
        "distribution": {"levels": 1, "store_rate": "10.00", "guide_rate": "0.00", "sharer_rate": "0.00",
                         "second_rate": None, "freeze_days": 7},
    }
    store_id = org.stores["sh1"].id
    db.session.commit()
    db.session.remove()
    try:
        downgrade(revision="0004_security")
        with db.engine.begin() as conn:
            for kind, rules in old_rules.items():
                conn.execute(campaigns.insert().values(
                    kind=kind, name=kind, rules=rules, starts_at=now, ends_at=now + timedelta(days=1),
                    status="draft", participation="mandatory", issued=0, budget=5, path="/1/", created_at=now,
                    updated_at=now))
            conn.execute(notices.insert().values(store_id=store_id, kind="price_clamped", message="旧的通知",
                                                 details={}, created_at=now))
        upgrade(revision="0005_prices")
        with db.engine.connect() as conn:
            stored = {r.kind: r.rules for r in conn.execute(sa.select(campaigns.c.kind, campaigns.c.rules))}
        assert stored["coupon"] == {"discount": "amount", "amount_fen": 1000, "percent": None,
                                    "threshold_fen": 10050, "per_member": 1, "budget": 5}
        assert stored["flash_sale"]["price_fen"] == 990 and "price" not in stored["flash_sale"]
        assert stored["bargain"]["floor_price_fen"] == 100 and stored["group_buy"]["price_fen"] == 1990
        assert stored["distribution"] == old_rules["distribution"]
        old = db.session.scalar(select(StoreNotice))
        assert (old.code, old.text) == (None, "旧的通知")
        # A notice written by the new code, then the way back down.
        with db.engine.begin() as conn:
            conn.execute(notices.insert().values(
                store_id=store_id, kind="price_changed", code="price_followed", details={}, created_at=now,
                params={"product": "乌龙茶", "old_price_fen": 1000, "price_fen": 1200, "floor_fen": 800,
                        "ceiling_fen": 1500}))
        db.session.remove()
        downgrade(revision="0004_security")
        with db.engine.connect() as conn:
            back = {r.kind: r.rules for r in conn.execute(sa.select(campaigns.c.kind, campaigns.c.rules))}
            texts = [r.message for r in conn.execute(sa.select(notices.c.message).order_by(notices.c.id))]
        assert back == old_rules
        assert texts == [
            "旧的通知",
            "总部已将 乌龙茶 的价格从 ¥10.00 调整为 ¥12.00：您的门店跟随总部价，现按 ¥12.00 销售。",
        ]
    finally:
        db.session.remove()
        upgrade()


def test_migration_gives_each_flash_sale_sku_a_row_and_back(app, org, db):
    """0010: one price and quantity for a list of SKUs → a row per SKU; down: the lowest price
    (below every list price still) and the summed quantity."""
    from flask_migrate import downgrade, upgrade

    campaigns = sa.table("campaigns", sa.column("id", sa.Integer), sa.column("kind", sa.String),
                         sa.column("name", sa.String), sa.column("rules", sa.JSON),
                         sa.column("starts_at", sa.DateTime(timezone=True)),
                         sa.column("ends_at", sa.DateTime(timezone=True)), sa.column("status", sa.String),
                         sa.column("participation", sa.String), sa.column("issued", sa.Integer),
                         sa.column("path", sa.String), sa.column("created_at", sa.DateTime(timezone=True)),
                         sa.column("updated_at", sa.DateTime(timezone=True)))
    now = utcnow()
    old = {"skus": ["SKU-1", "SKU-2"], "price_fen": 990, "quantity": 10, "sale_starts": now.isoformat(),
           "sale_ends": now.isoformat()}
    bargain = {"sku": "SKU-1", "floor_price_fen": 100, "helpers": 3, "hours": 24}
    db.session.commit()
    db.session.remove()
    try:
        downgrade(revision="0012_preview")
        with db.engine.begin() as conn:
            for kind, rules in (("flash_sale", old), ("bargain", bargain)):
                conn.execute(campaigns.insert().values(
                    kind=kind, name=kind, rules=rules, starts_at=now, ends_at=now + timedelta(days=1),
                    status="draft", participation="mandatory", issued=0, path="/1/", created_at=now, updated_at=now))
        upgrade(revision="0013_goodspicker")
        with db.engine.connect() as conn:
            stored = {r.kind: r.rules for r in conn.execute(sa.select(campaigns.c.kind, campaigns.c.rules))}
        assert stored["flash_sale"] == {"items": [{"sku": "SKU-1", "price_fen": 990, "quantity": 10},
                                                  {"sku": "SKU-2", "price_fen": 990, "quantity": 10}],
                                        "sale_starts": old["sale_starts"], "sale_ends": old["sale_ends"]}
        assert stored["bargain"] == bargain
        with db.engine.begin() as conn:
            conn.execute(campaigns.update().where(campaigns.c.kind == "flash_sale").values(rules={
                **stored["flash_sale"], "items": [{"sku": "SKU-1", "price_fen": 990, "quantity": 10},
                                                  {"sku": "SKU-2", "price_fen": 1290, "quantity": 5}]}))
        downgrade(revision="0012_preview")
        with db.engine.connect() as conn:
            back = {r.kind: r.rules for r in conn.execute(sa.select(campaigns.c.kind, campaigns.c.rules))}
        assert back["flash_sale"] == {**old, "quantity": 15} and back["bargain"] == bargain
    finally:
        db.session.remove()
        upgrade()
