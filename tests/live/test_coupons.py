"""Post-live coupons: to everyone who watched or to those who watched and did not buy, from a
running coupon campaign the viewers' stores joined, within its budget, one per member."""
from __future__ import annotations

from sqlalchemy import select

from portal.campaigns.models import Campaign, CouponClaim
from portal.extensions import db
from portal.targets.services import TargetSpec
from tests.campaigns.helpers import COUPON, claim, key, make_campaign, push
from tests.factories import make_order
from tests.live.lottery_helpers import make_room, watch


def _coupon(org, budget=20, stores=("SH001",)):
    hq = org.users["hq"]
    campaign = make_campaign(hq, rules={**COUPON, "budget": budget})
    push(hq, campaign, TargetSpec(store_codes=list(stores)))
    return campaign


def _claims(campaign) -> dict[str, int]:
    return dict(db.session.execute(select(CouponClaim.member, CouponClaim.store_id)
                                   .where(CouponClaim.campaign_id == campaign.id)).all())


def _send(client, room, campaign, audience):
    return client.post(f"/live/{room.id}/coupons", data={"campaign_id": str(campaign.id), "audience": audience},
                       hx="#live-coupons")


def _room_with_a_buyer(org):
    sh1 = org.stores["sh1"]
    room = make_room(sh1)
    viewers = [watch(room, sh1, unionid=f"uWATCH{i}") for i in range(4)]
    make_order(sh1, viewers[0], live_room_id=room.id)
    db.session.commit()
    return room, viewers


def test_watched_and_did_not_buy(en, org):
    campaign = _coupon(org)
    room, viewers = _room_with_a_buyer(org)
    client = en("owner1")
    page = client.get(f"/live/{room.id}/engage").get_data(as_text=True)
    assert 'data-reach="watched" data-count="4"' in page
    assert 'data-reach="not_bought" data-count="3"' in page          # shown before sending

    response = _send(client, room, campaign, "not_bought")
    assert response.status_code == 200
    assert "3 coupons issued." in response.get_data(as_text=True)
    claims = _claims(campaign)
    assert set(claims) == {"uWATCH1", "uWATCH2", "uWATCH3"}          # the buyer gets none
    assert set(claims.values()) == {org.stores["sh1"].id}

    _send(client, room, campaign, "watched")                          # then everyone: the buyer's turn
    assert set(_claims(campaign)) == {f"uWATCH{i}" for i in range(4)}
    assert db.session.get(Campaign, campaign.id).issued == 4            # one per member, never two


def test_the_budget_holds_and_the_left_out_are_counted(en, org):
    campaign = _coupon(org, budget=3)
    sh1 = org.stores["sh1"]
    room = make_room(sh1)
    for i in range(5):
        watch(room, sh1, unionid=f"uB{i}")
    db.session.commit()
    client = en("owner1")
    html = _send(client, room, campaign, "watched").get_data(as_text=True)
    assert "3 coupons issued" in html and "2 members left out: the budget ran out" in html
    assert len(_claims(campaign)) == 3
    assert db.session.get(Campaign, campaign.id).issued == 3
    html = _send(client, room, campaign, "watched").get_data(as_text=True)
    assert "0 coupons issued" in html and "3 members had one already" in html
    assert len(_claims(campaign)) == 3


def test_a_member_who_claimed_in_the_mini_program_gets_no_second(login_as, client, org):
    campaign = _coupon(org)
    sh1 = org.stores["sh1"]
    room = make_room(sh1)
    watch(room, sh1, unionid="uSELF")
    watch(room, sh1, unionid="uOTHER")
    db.session.commit()
    assert claim(client, sh1, key(sh1), campaign.id, member="uSELF").status_code == 201
    _send(login_as("owner1"), room, campaign, "watched")
    members = list(db.session.scalars(select(CouponClaim.member).where(CouponClaim.campaign_id == campaign.id)))
    assert sorted(members) == ["uOTHER", "uSELF"]


def test_a_broadcast_gives_each_viewer_the_coupon_of_the_store_that_brought_them(en, org):
    campaign = _coupon(org, stores=("SH001",))                         # gd1 has not joined
    sh1, gd1 = org.stores["sh1"], org.stores["gd1"]
    room = make_room(node=org.nodes["hq"], carried_by=[sh1, gd1], title="总部直播")
    watch(room, sh1, unionid="uSH")
    watch(room, gd1, unionid="uGD")
    db.session.commit()
    html = _send(en("hq"), room, campaign, "watched").get_data(as_text=True)
    assert _claims(campaign) == {"uSH": sh1.id}
    assert "1 viewer left out: their store does not run this campaign" in html


def test_a_campaign_the_store_has_not_joined_is_refused_beside_the_field(login_as, org):
    elsewhere = _coupon(org, stores=("GD001",))
    room, _viewers = _room_with_a_buyer(org)
    client = login_as("owner1")
    response = _send(client, room, elsewhere, "watched")
    assert response.status_code == 422
    assert "data-no-campaign" in response.get_data(as_text=True)      # nothing this room may send
    _coupon(org, stores=("SH001",))
    response = _send(client, room, elsewhere, "watched")
    assert response.status_code == 422
    assert 'data-field="campaign_id"' in response.get_data(as_text=True)
    assert _claims(elsewhere) == {}


def test_only_the_rooms_managers_send(login_as, org):
    campaign = _coupon(org)
    room, _viewers = _room_with_a_buyer(org)
    assert _send(login_as("owner_gd"), room, campaign, "watched").status_code == 404
    assert _claims(campaign) == {}


def test_a_claim_landing_during_the_send_keeps_the_budget(app, login_as, client, org):
    """The mini-program claims the last-but-two coupon just before the send takes the campaign row:
    the send sees it, issues what is left, and the budget is never exceeded."""
    from tests.factories import just_before

    campaign = _coupon(org, budget=3)
    sh1 = org.stores["sh1"]
    room = make_room(sh1)
    for i in range(3):
        watch(room, sh1, unionid=f"uR{i}")
    db.session.commit()
    k = key(sh1)
    api = app.test_client()
    owner = login_as("owner1")
    with just_before("UPDATE campaigns", lambda: claim(api, sh1, k, campaign.id, member="uAPP").status_code):
        html = _send(owner, room, campaign, "watched").get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Campaign, campaign.id).issued == 3
    assert len(_claims(campaign)) == 3 and "uAPP" in _claims(campaign)
    assert "2 coupons issued" in html or "已发放 2 张优惠券" in html


def test_without_htmx_the_send_redirects_and_the_page_says_what_went_out(en, org):
    campaign = _coupon(org)
    room, _viewers = _room_with_a_buyer(org)
    client = en("owner1")
    response = client.post(f"/live/{room.id}/coupons", data={"campaign_id": str(campaign.id),
                                                                    "audience": "not_bought"})
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "<html" in page and "3 coupons issued." in page


def test_the_room_page_loads_its_panels_after_it_shows(login_as, org):
    """The room page and its leaderboard do not wait for the panels' counts over the viewers: each
    panel is its own request (htmx, on load), answering its partial; an unknown panel is 404."""
    _coupon(org)
    room, _viewers = _room_with_a_buyer(org)
    client = login_as("owner1")
    page = client.get(f"/live/{room.id}").get_data(as_text=True)
    assert 'data-lazy-panel="coupons"' in page and "data-live-coupons" not in page
    part = client.get(f"/live/{room.id}/panels/coupons", hx="#live-coupons")
    assert part.status_code == 200
    html = part.get_data(as_text=True)
    assert html.lstrip().startswith('<div id="live-coupons"') and 'data-reach="not_bought" data-count="3"' in html
    assert client.get(f"/live/{room.id}/panels/nothing", hx="#x").status_code == 404
    assert login_as("owner_gd").get(f"/live/{room.id}/panels/coupons").status_code == 404
