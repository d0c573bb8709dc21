"""Every kind's rules are validated by its own form: field errors, 422, nothing saved."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal.campaigns.models import Campaign
from tests.factories import make_product

BASE = {"name": "春季活动", "starts_at": "2031-03-01T10:00", "ends_at": "2031-03-31T22:00",
        "participation": "mandatory", "join_deadline": ""}
GOOD = {
    "coupon": {"discount": "amount", "amount": "10", "threshold": "100", "per_member": "1", "budget": "500"},
    "flash_sale": {"items-0-sku": "SKU-1", "items-0-price": "9.9", "items-0-quantity": "100",
                   "items-1-sku": "SKU-2", "items-1-price": "19.9", "items-1-quantity": "50",
                   "sale_starts": "2031-03-05T10:00", "sale_ends": "2031-03-05T12:00"},
    "bargain": {"sku": "SKU-1", "floor_price": "1", "helpers": "5", "hours": "24"},
    "group_buy": {"sku": "SKU-1", "group_size": "3", "price": "19.9", "hours": "24"},
    "distribution": {"levels": "2", "store_rate": "10", "guide_rate": "5", "sharer_rate": "3", "second_rate": "1",
                     "freeze_days": "7"},
}

# (kind, changed fields, field whose error shows, text in the error)
BAD = [
    ("coupon", {"amount": ""}, "amount", "amount off"),
    ("coupon", {"amount": "0"}, "amount", ""),
    ("coupon", {"amount": "100"}, "amount", "less than the minimum spend"),
    ("coupon", {"discount": "percent", "percent": ""}, "percent", "percent off"),
    ("coupon", {"discount": "percent", "percent": "100"}, "percent", ""),
    ("coupon", {"threshold": "-1"}, "threshold", ""),
    ("coupon", {"per_member": "0"}, "per_member", ""),
    ("coupon", {"budget": ""}, "budget", "required"),
    ("coupon", {"budget": "0"}, "budget", ""),
    ("flash_sale", {"items-0-sku": "", "items-1-sku": ""}, "items-0-sku", "Pick the SKU"),
    ("flash_sale", {"items-1-sku": "a;b"}, "items-1-sku", "Codes separated by commas"),
    ("flash_sale", {"items-1-sku": "SKU-1"}, "items-1-sku", "SKU-1 is on sale twice"),
    ("flash_sale", {"items-0-price": "0"}, "items-0-price", ""),
    ("flash_sale", {"items-1-price": ""}, "items-1-price", "required"),
    ("flash_sale", {"items-1-quantity": "0"}, "items-1-quantity", ""),
    ("flash_sale", {"sale_ends": "2031-03-05T09:00"}, "sale_ends", "end after it starts"),
    ("flash_sale", {"sale_ends": "2031-04-02T12:00"}, "sale_ends", "inside the campaign"),
    ("flash_sale", {"sale_starts": "2031-02-20T10:00"}, "sale_ends", "inside the campaign"),
    ("bargain", {"sku": ""}, "sku", "Pick the goods SKU"),
    ("bargain", {"floor_price": ""}, "floor_price", "required"),
    ("bargain", {"helpers": "0"}, "helpers", ""),
    ("bargain", {"hours": "500"}, "hours", ""),
    ("group_buy", {"group_size": "1"}, "group_size", ""),
    ("group_buy", {"price": "0"}, "price", ""),
    ("group_buy", {"hours": "0"}, "hours", ""),
    ("distribution", {"store_rate": "60", "guide_rate": "30", "sharer_rate": "10", "second_rate": "5"},
     "second_rate", "at most 100"),
    ("distribution", {"second_rate": ""}, "second_rate", "second-level"),
    ("distribution", {"levels": "1"}, "second_rate", "One level"),
    ("distribution", {"guide_rate": "101"}, "guide_rate", ""),
    ("distribution", {"freeze_days": "91"}, "freeze_days", ""),
]


@pytest.fixture(autouse=True)
def _catalog(org, db):
    """HQ's SKU-1 and SKU-2 at ¥29.90, which every rule above names."""
    make_product(org.nodes["hq"], "SKU", skus=2, list_price=2990, floor=1000, ceiling=5000)
    db.session.commit()


@pytest.fixture
def login_as(login_as):
    """Sign in, in English: the assertions read the English messages."""
    def _login(name):
        client = login_as(name)
        client.post("/language", data={"lang": "en"})
        return client
    return _login


def _post(client, kind, rules=None, **base):
    data = {**BASE, **base, **{f"rules-{k}": v for k, v in (rules or GOOD[kind]).items()}}
    return client.post(f"/campaigns/new/{kind}", data=data)


@pytest.mark.parametrize("kind", list(GOOD))
def test_each_kind_saves_a_draft(login_as, db, kind):
    client = login_as("hq")
    r = _post(client, kind)
    assert r.status_code == 302, r.get_data(as_text=True)[:2000]
    c = db.session.scalar(select(Campaign))
    assert (c.kind, c.status, c.name) == (kind, "draft", "春季活动")
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "春季活动" in page and 'data-state="draft"' in page
    if kind == "coupon":
        assert c.budget == 500 and c.rules["amount_fen"] == 1000 and c.rules["threshold_fen"] == 10000
        assert "amount" not in c.rules                                     # money is stored in fen only
    if kind == "flash_sale":
        assert c.rules["items"] == [{"sku": "SKU-1", "price_fen": 990, "quantity": 100},
                                    {"sku": "SKU-2", "price_fen": 1990, "quantity": 50}]
        assert c.rules["sale_starts"].startswith("2031-03-05T02:00")       # Asia/Shanghai → UTC


@pytest.mark.parametrize("kind,change,field,text", BAD, ids=[f"{b[0]}-{b[2]}-{i}" for i, b in enumerate(BAD)])
def test_bad_rules_are_refused_with_the_field_error(login_as, db, kind, change, field, text):
    client = login_as("hq")
    r = _post(client, kind, {**GOOD[kind], **change})
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert f'data-field="rules-{field}"' in html, html[:3000]
    if text:
        assert text in html
    assert db.session.scalar(select(func.count()).select_from(Campaign)) == 0


def test_a_flash_sale_without_goods_says_to_pick_them(login_as, db):
    rules = {k: v for k, v in GOOD["flash_sale"].items() if not k.startswith("items-")}
    r = _post(login_as("hq"), "flash_sale", rules)
    assert r.status_code == 422
    assert 'data-field="rules-items">Pick the goods on sale.' in r.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Campaign)) == 0


def test_a_flash_sale_holds_at_most_50_goods(login_as, org, db):
    make_product(org.nodes["hq"], "MANY", skus=51, list_price=2990, floor=1000, ceiling=5000)
    db.session.commit()
    rules = {k: v for k, v in GOOD["flash_sale"].items() if not k.startswith("items-")}
    for i in range(51):
        rules.update({f"items-{i}-sku": f"MANY-{i + 1}", f"items-{i}-price": "9.9", f"items-{i}-quantity": "1"})
    r = _post(login_as("hq"), "flash_sale", rules)
    assert r.status_code == 422 and "At most 50 goods." in r.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Campaign)) == 0


@pytest.mark.parametrize("change,field", [
    ({"name": ""}, "name"),
    ({"ends_at": "2031-02-01T10:00"}, "ends_at"),
    ({"participation": "opt_in", "join_deadline": ""}, "join_deadline"),
    ({"participation": "opt_in", "join_deadline": "2031-04-01T10:00"}, "join_deadline"),
])
def test_bad_campaign_fields_are_refused(login_as, db, change, field):
    client = login_as("hq")
    r = _post(client, "bargain", **change)
    assert r.status_code == 422
    assert f'data-field="{field}"' in r.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Campaign)) == 0


def test_unknown_kind_is_404(login_as):
    assert login_as("hq").get("/campaigns/new/lottery").status_code == 404


def test_editing_only_while_draft(login_as, db):
    client = login_as("east_admin")
    r = _post(client, "group_buy")
    cid = int(r.headers["Location"].rsplit("/", 1)[1])
    page = client.get(f"/campaigns/{cid}/edit").get_data(as_text=True)
    assert 'value="19.90"' in page and 'value="SKU-1"' in page
    data = {
        **BASE,
        "name": "三人团",
        **{f"rules-{k}": v for k, v in GOOD["group_buy"].items()},
        "rules-group_size": "5",
    }
    assert client.post(f"/campaigns/{cid}/edit", data=data).status_code == 302
    db.session.expire_all()
    c = db.session.get(Campaign, cid)
    assert c.name == "三人团" and c.rules["group_size"] == 5
    assert client.post(f"/campaigns/{cid}/edit", data={**data, "rules-group_size": "1"}).status_code == 422
    client.post(f"/campaigns/{cid}/publish")
    r = client.post(f"/campaigns/{cid}/edit", data={**data, "name": "改名"})
    assert r.status_code == 302
    db.session.expire_all()
    assert db.session.get(Campaign, cid).name == "三人团"
    assert "Only a draft can be edited" in client.get(r.headers["Location"]).get_data(as_text=True)
