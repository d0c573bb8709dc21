"""营销中心 (the marketing center) and the guards around risky campaign and push actions:
publishing and stopping ask first with what will happen, a stop-everywhere button shows only
when some store runs the campaign, and a push to no store is refused before it is recorded."""
from __future__ import annotations

import re

from sqlalchemy import func, select

from portal.campaigns.models import KINDS
from portal.pushes.models import Push
from portal.targets.models import Target
from portal.targets.services import TargetSpec
from tests import factories
from tests.campaigns.helpers import make_campaign, push


def _svg_of(html: str, kind: str) -> str:
    card = html[html.index(f'data-kind="{kind}"'):]
    return card[card.index("<svg"):card.index("</svg>")]


def test_marketing_center_has_a_card_per_kind_with_icon_line_and_create_link(login_as, org):
    make_campaign(org.users["hq"], kind="coupon", name="满100减10")
    make_campaign(org.users["hq"], kind="coupon", name="新客券", start=1, end=3)
    client = login_as("hq")
    r = client.get("/marketing")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert "营销中心" in html
    for kind in KINDS:
        assert f'href="/campaigns/new/{kind}"' in html
        assert "<path" in _svg_of(html, kind), f"{kind} has an empty icon"
    for label in ("优惠券", "秒杀", "砍价", "拼团", "分销"):
        assert label in html
    assert "立即创建" in html
    # Two coupons, one running; no flash sale yet.
    coupon = html[html.index('data-kind="coupon"'):html.index('data-kind="flash_sale"')]
    assert 'data-total="2"' in coupon and "1 个进行中" in coupon
    flash = html[html.index('data-kind="flash_sale"'):html.index('data-kind="bargain"')]
    assert 'data-total="0"' in flash
    # Every card's form still opens.
    for kind in KINDS:
        assert client.get(f"/campaigns/new/{kind}").status_code == 200


def test_marketing_center_counts_only_the_users_own_part(login_as, org):
    make_campaign(org.users["south_admin"], name="华南券")
    html = login_as("east_admin").get("/marketing").get_data(as_text=True)
    coupon = html[html.index('data-kind="coupon"'):html.index('data-kind="flash_sale"')]
    assert 'data-total="0"' in coupon
    html = login_as("south_admin").get("/marketing").get_data(as_text=True)
    coupon = html[html.index('data-kind="coupon"'):html.index('data-kind="flash_sale"')]
    assert 'data-total="1"' in coupon


def test_nav_entry_list_button_and_empty_state_lead_to_the_marketing_center(login_as, org):
    client = login_as("hq")
    html = client.get("/campaigns").get_data(as_text=True)
    assert re.search(r'<a class="nav-link" href="/marketing">', html)
    # The header button and the empty list's button both go to the marketing center, no dropdown.
    assert html.count('href="/marketing" data-new-campaign') == 2
    assert "dropdown-toggle" not in html
    make_campaign(org.users["hq"])
    html = client.get("/campaigns").get_data(as_text=True)
    assert html.count('href="/marketing" data-new-campaign') == 1
    # A regional manager creates no campaigns: no entry.
    assert 'href="/marketing"' not in login_as("sh_manager").get("/").get_data(as_text=True)


def test_publish_asks_first_naming_what_happens(login_as, org):
    c = make_campaign(org.users["hq"], name="周末秒杀券", publish=False)
    html = login_as("hq").get(f"/campaigns/{c.id}").get_data(as_text=True)
    button = re.search(r'<button class="btn btn-primary" type="submit"[^>]*>', html, re.S).group(0)
    assert "data-confirm=" in button and "周末秒杀券" in button and "推送" in button


def test_stop_everywhere_shows_only_when_a_store_runs_it_and_names_the_count(login_as, org, db):
    hq = org.users["hq"]
    c = make_campaign(hq, name="满100减10")
    client = login_as("hq")
    html = client.get(f"/campaigns/{c.id}").get_data(as_text=True)
    assert "data-stop-all" not in html and "在所有门店停止" not in html
    push(hq, c, TargetSpec(store_codes=["SH001", "SH002", "JS001"]))
    html = client.get(f"/campaigns/{c.id}").get_data(as_text=True)
    stop_all = re.search(r"<button[^>]*data-stop-all[^>]*>", html, re.S).group(0)
    assert "3 家门店" in stop_all and "data-confirm-title" in stop_all
    cancel = re.search(r"<button[^>]*>取消活动</button>", html, re.S).group(0)
    assert "3 家门店" in cancel
    assert client.post(f"/campaigns/{c.id}/stop", data={"all": "1"}).status_code == 303
    html = client.get(f"/campaigns/{c.id}").get_data(as_text=True)
    assert "data-stop-all" not in html


def _push_count(db) -> int:
    return db.session.scalar(select(func.count()).select_from(Push))


def test_a_push_to_no_store_is_refused_next_to_the_target(login_as, org, db):
    factories.make_store(org.nodes["r_sh"], "SH009", status="suspended")
    db.session.commit()
    c = make_campaign(org.users["hq"])
    client = login_as("hq")
    before = _push_count(db)
    # Only a suspended store, with "open stores only": the reach is 0.
    r = client.post(f"/campaigns/{c.id}/push", data={"store_codes": "SH009", "active_only": "y"})
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert re.search(r'<div class="invalid-feedback[^"]*" data-field="everything">[^<]*0 家门店', html)
    assert re.search(r"<button[^>]*data-push-submit[^>]*disabled", html, re.S)
    assert _push_count(db) == before
    # A saved target that reaches no store: the message sits beside the target's select.
    target = Target(name="空目标", spec=TargetSpec(store_codes=["SH009"]).to_dict(), path=org.nodes["hq"].path)
    db.session.add(target)
    db.session.commit()
    r = client.post(f"/campaigns/{c.id}/push", data={"target_id": str(target.id)})
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert re.search(r'<div class="invalid-feedback[^"]*" data-field="target_id">[^<]*0 家门店', html)
    assert _push_count(db) == before
    # With a store that is open it goes out.
    r = client.post(f"/campaigns/{c.id}/push", data={"store_codes": "SH001", "active_only": "y"})
    assert r.status_code == 302 and _push_count(db) == before + 1


def test_push_button_names_the_reach_and_is_disabled_with_none(login_as, org):
    c = make_campaign(org.users["hq"])
    client = login_as("hq")
    html = client.get(f"/campaigns/{c.id}/push").get_data(as_text=True)
    assert re.search(r"<button[^>]*data-push-submit[^>]*disabled", html, re.S)      # nothing chosen yet
    reach = client.get("/targets/preview?store_codes=SH001+SH002&active_only=y").get_data(as_text=True)
    assert 'data-reach="2"' in reach and "推送到 2 家门店" in reach
    assert "data-reach-none" not in reach
    none = client.get("/targets/preview?store_codes=NOPE&active_only=y").get_data(as_text=True)
    assert 'data-reach="0"' in none and "没有门店符合这些条件" in none


def test_confirmations_count_in_english_too(en, org):
    client = en("hq")
    one = client.get("/targets/preview?store_codes=SH001&active_only=y").get_data(as_text=True)
    assert "Push to 1 store? If it already has it, it is skipped." in one
    two = client.get("/targets/preview?store_codes=SH001+SH002&active_only=y").get_data(as_text=True)
    assert "Push to 2 stores? Stores that already have it are skipped." in two


def test_favicon_on_signed_in_and_bare_pages(client, login_as, org):
    link = '<link rel="icon" type="image/svg+xml" href="/static/img/favicon.svg">'
    assert link in client.get("/login").get_data(as_text=True)            # bare.html
    assert link in login_as("hq").get("/marketing").get_data(as_text=True)  # base.html
    r = client.get("/static/img/favicon.svg")
    assert r.status_code == 200 and r.mimetype == "image/svg+xml" and b"<svg" in r.data
