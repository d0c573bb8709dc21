"""The owner joins with eyes open: a campaign offered to the store shows its goods with the
campaign price against the list price, its limits, its window and who bears the discount, on the
card and on the campaign's own page; joining and withdrawing ask first; HQ says who bears it."""
from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from portal.campaigns.models import Campaign, CampaignStore
from portal.extensions import db as _db
from portal.kernel.time import utcnow
from portal.targets.services import TargetSpec
from tests.campaigns.helpers import make_campaign, push
from tests.campaigns.test_rules import BASE, GOOD
from tests.factories import make_product, sql_log


def _flash(org, *, bearer="hq", name="周末秒杀"):
    hq = org.users["hq"]
    make_product(org.nodes["hq"], "TEA", name="茉莉奶绿", skus=1, list_price=1800, floor=1000, ceiling=2500)
    now = utcnow()
    rules = {"items": [{"sku": "TEA-1", "price_fen": 990, "quantity": 100}],
             "sale_starts": (now + timedelta(hours=1)).isoformat(), "sale_ends": (now + timedelta(days=1)).isoformat()}
    c = make_campaign(hq, kind="flash_sale", name=name, rules=rules, start=-1, end=5, participation="opt_in",
                      deadline=3)
    if bearer != "hq":
        _db.session.execute(Campaign.__table__.update().where(Campaign.id == c.id).values(discount_bearer=bearer))
        _db.session.commit()
    push(hq, c, TargetSpec(store_codes=["SH001"]))
    return c


def _status(campaign, store) -> str:
    _db.session.expire_all()
    return _db.session.get(CampaignStore, (campaign.id, store.id)).status


def test_the_card_shows_goods_both_prices_limits_window_and_who_bears_it(en, org, db):
    c = _flash(org)
    html = en("owner1").get("/my/campaigns").get_data(as_text=True)
    card = html[html.index(f'data-campaign="{c.id}"'):]
    assert 'data-sku="TEA-1"' in card and "茉莉奶绿" in card
    assert 'data-price="990"' in card and "¥9.90" in card
    assert '<del class="offer-list-price" data-list-price="1800"' in card and "¥18.00" in card
    assert "Limited to 100 items" in card
    assert 'data-bearer="hq"' in card and "Borne by HQ" in card
    assert f'href="/my/campaigns/{c.id}"' in card
    # Joining asks first, naming the campaign, its window and who pays.
    join = re.search(r'<button[^>]*data-join[^>]*data-confirm="([^"]+)"', card).group(1)
    assert "周末秒杀" in join and "HQ bears the discount." in join


def test_the_card_speaks_chinese(login_as, org, db):
    c = _flash(org, bearer="store")
    html = login_as("owner1").get("/my/campaigns").get_data(as_text=True)
    assert "门店承担" in html and "限量 100 件" in html
    join = re.search(r'data-join[^>]*data-confirm="([^"]+)"', html).group(1)
    assert "参加「周末秒杀」" in join and "优惠由本店承担" in join
    db.session.expire_all()
    assert db.session.get(Campaign, c.id).discount_bearer == "store"


def test_the_campaign_page_has_the_full_rules_and_joins(en, org, db):
    c = _flash(org, bearer="distributor")
    client = en("owner1")
    html = client.get(f"/my/campaigns/{c.id}").get_data(as_text=True)
    assert "茉莉奶绿" in html and "¥9.90" in html and "¥18.00" in html
    assert "The distributor bears the discount." in html and "data-sale" in html and "data-window" in html
    assert "T" not in re.search(r"<dd data-window>(.*?)</dd>", html).group(1)     # local time, no ISO
    r = client.post(f"/my/campaigns/{c.id}/join", data={"back": "offer"})
    assert r.status_code == 303 and r.headers["Location"].endswith(f"/my/campaigns/{c.id}")
    assert _status(c, org.stores["sh1"]) == "joined"
    html = client.get(f"/my/campaigns/{c.id}").get_data(as_text=True)
    withdraw = re.search(r'data-withdraw[^>]*data-confirm="([^"]+)"', html).group(1)
    assert "Withdraw from “周末秒杀”?" in withdraw and "data-join" not in html
    client.post(f"/my/campaigns/{c.id}/decline")
    assert _status(c, org.stores["sh1"]) == "declined"


def test_another_stores_campaign_page_is_404(en, org, db):
    c = _flash(org)
    assert en("owner_gd").get(f"/my/campaigns/{c.id}").status_code == 404
    draft = make_campaign(org.users["hq"], publish=False)
    assert en("owner1").get(f"/my/campaigns/{draft.id}").status_code == 404


def test_coupon_terms_and_percent_reads_as_zhe(login_as, org, db):
    rules = {"discount": "percent", "amount_fen": None, "percent": 15, "threshold_fen": 5000, "per_member": 2,
             "budget": 300}
    c = make_campaign(org.users["hq"], name="八五折券", rules=rules)
    push(org.users["hq"], c, TargetSpec(store_codes=["SH001"]))
    html = login_as("owner1").get(f"/my/campaigns/{c.id}").get_data(as_text=True)
    assert "打 8.5 折" in html and "满 ¥50.00 可用" in html and "每位会员限领 2 张" in html and "共 300 张" in html
    assert "总部承担" in html


def test_the_list_reads_goods_in_one_statement_whatever_the_number_of_cards(en, org, db):
    client = en("owner1")
    _flash(org, name="第一场")
    with sql_log() as few:
        client.get("/my/campaigns")
    for i in range(3):
        hq = org.users["hq"]
        make_product(org.nodes["hq"], f"GB{i}", skus=1, list_price=3000, floor=1000, ceiling=4000)
        g = make_campaign(hq, kind="group_buy", name=f"拼团{i}",
                          rules={"sku": f"GB{i}-1", "group_size": 3, "price_fen": 1990, "hours": 24})
        push(hq, g, TargetSpec(store_codes=["SH001"]))
    with sql_log() as many:
        html = client.get("/my/campaigns").get_data(as_text=True)
    assert html.count("offer-card") == 4 and "Groups of 3" in html
    assert len(many) == len(few)


def test_hq_says_who_bears_the_discount_in_the_form(login_as, db, org):
    client = login_as("hq")
    form = client.get("/campaigns/new/coupon").get_data(as_text=True)
    assert 'name="discount_bearer"' in form and "总部承担" in form
    data = {**BASE, "discount_bearer": "store", **{f"rules-{k}": v for k, v in GOOD["coupon"].items()}}
    r = client.post("/campaigns/new/coupon", data=data)
    assert r.status_code == 302
    c = db.session.scalar(select(Campaign))
    assert c.discount_bearer == "store"
    assert 'data-bearer="store">门店承担' in client.get(f"/campaigns/{c.id}").get_data(as_text=True)
    edit = client.get(f"/campaigns/{c.id}/edit").get_data(as_text=True)
    assert re.search(r'<option[^>]*selected[^>]*value="store"|<option[^>]*value="store"[^>]*selected', edit)
    r = client.post("/campaigns/new/coupon", data={**data, "discount_bearer": "everyone"})
    assert r.status_code == 422 and 'data-field="discount_bearer"' in r.get_data(as_text=True)
    assert db.session.scalar(select(Campaign).where(Campaign.discount_bearer == "everyone")) is None


def test_a_campaign_without_a_bearer_is_borne_by_hq(org, db):
    c = make_campaign(org.users["hq"])
    assert c.discount_bearer == "hq"
