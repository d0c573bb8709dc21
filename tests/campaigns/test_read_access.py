"""Read access to campaigns from above (issue 9, point 10): a distributor reads HQ's campaigns that
reach its stores, a regional manager those that reach its region; both see only their own stores
in the participants and counts, and neither may change what they only read."""
from __future__ import annotations

import re

import pytest

from portal.campaigns.models import Campaign, CampaignStore
from portal.targets.services import TargetSpec
from tests.campaigns.helpers import make_campaign, push


@pytest.fixture
def hq_campaign(org, db):
    """HQ's running opt-in coupon pushed to SH001, SH002 (上海区), JS001 (江苏区) and GD001 (广东区)."""
    hq = org.users["hq"]
    c = make_campaign(hq, name="总部满减", participation="opt_in", deadline=2)
    push(hq, c, TargetSpec(store_codes=["SH001", "SH002", "JS001", "GD001"]))
    return c


def _stores(html: str) -> list[str]:
    return sorted(re.findall(r'<tr data-store="([^"]+)"', html))


def _counts(html: str) -> dict[str, str]:
    return dict(re.findall(r'data-count="(\w+)">([^<]*)<', html))


def test_distributor_reads_hq_campaign_in_its_stores_only(login_as, org, hq_campaign):
    client = login_as("east_admin")
    listing = client.get("/campaigns").get_data(as_text=True)
    assert f'data-campaign="{hq_campaign.id}"' in listing
    assert "data-read-only" in listing
    r = client.get(f"/campaigns/{hq_campaign.id}")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert _stores(html) == ["JS001", "SH001", "SH002"]          # not GD001 (华南)
    assert _counts(html)["invited"] == "3"
    # Nothing to act with: no edit, publish, push, cancel or stop, no checkboxes.
    for action in ("/edit", "/publish", "/push", "/cancel", "/stop"):
        assert f'/campaigns/{hq_campaign.id}{action}"' not in html, action
    assert 'name="store_ids"' not in html
    assert "data-read-only" in html


def test_distributor_cannot_change_hq_campaign(login_as, org, db, hq_campaign):
    client = login_as("east_admin")
    cid = hq_campaign.id
    for method, url, data in (("GET", f"/campaigns/{cid}/edit", None), ("POST", f"/campaigns/{cid}/edit", {}),
                              ("POST", f"/campaigns/{cid}/publish", {}), ("POST", f"/campaigns/{cid}/cancel", {}),
                              ("GET", f"/campaigns/{cid}/push", None),
                              ("POST", f"/campaigns/{cid}/push", {"store_codes": "SH001"}),
                              ("POST", f"/campaigns/{cid}/stop", {"all": "1"}),
                              ("POST", f"/campaigns/{cid}/stop", {"store_ids": [str(org.stores["sh1"].id)]})):
        r = client.get(url) if method == "GET" else client.post(url, data=data)
        assert r.status_code == 403, (method, url, r.status_code)
    db.session.expire_all()
    assert db.session.get(Campaign, cid).status == "published"
    assert {p.status for p in db.session.query(CampaignStore).filter_by(campaign_id=cid)} == {"invited"}


def test_regional_manager_reads_campaigns_reaching_its_region(login_as, org, db, hq_campaign):
    east_only = make_campaign(org.users["east_admin"], name="华东秒杀券")
    push(org.users["east_admin"], east_only, TargetSpec(store_codes=["JS001"]))   # 江苏区 only
    client = login_as("sh_manager")
    listing = client.get("/campaigns").get_data(as_text=True)
    assert f'data-campaign="{hq_campaign.id}"' in listing
    assert f'data-campaign="{east_only.id}"' not in listing
    assert 'href="/campaigns/new/' not in listing                 # no "new campaign" for a manager
    html = client.get(f"/campaigns/{hq_campaign.id}").get_data(as_text=True)
    assert _stores(html) == ["SH001", "SH002"]
    assert _counts(html) == {"invited": "2", "joined": "0", "declined": "0", "stopped": "0"}
    assert 'name="store_ids"' not in html and f'/campaigns/{hq_campaign.id}/stop"' not in html
    # Which of its stores joined: the status filter, restricted to the region.
    owner = login_as("owner1")
    assert owner.post(f"/my/campaigns/{hq_campaign.id}/join").status_code == 303
    client = login_as("sh_manager")
    joined = client.get(f"/campaigns/{hq_campaign.id}?status=joined", hx="participant-rows").get_data(as_text=True)
    assert "<html" not in joined and _stores(joined) == ["SH001"]
    assert client.get(f"/campaigns/{east_only.id}").status_code == 404
    assert client.post(f"/campaigns/{hq_campaign.id}/stop", data={"all": "1"}).status_code == 403


def test_campaign_reaching_none_of_their_stores_is_404(login_as, org, db):
    hq = org.users["hq"]
    south_only = make_campaign(hq, name="华南专享")
    push(hq, south_only, TargetSpec(store_codes=["GD001"]))
    unpushed = make_campaign(hq, name="总部未推送")
    for user in ("east_admin", "sh_manager"):
        client = login_as(user)
        for c in (south_only, unpushed):
            assert client.get(f"/campaigns/{c.id}").status_code == 404, (user, c.name)
            assert client.post(f"/campaigns/{c.id}/cancel").status_code in (403, 404)
        assert "华南专享" not in client.get("/campaigns").get_data(as_text=True)
    # The south side reads it; HQ still manages it.
    assert login_as("gd_manager").get(f"/campaigns/{south_only.id}").status_code == 200
    assert login_as("south_admin").get(f"/campaigns/{south_only.id}").status_code == 200
    hq_page = login_as("hq").get(f"/campaigns/{south_only.id}").get_data(as_text=True)
    assert f'/campaigns/{south_only.id}/cancel"' in hq_page and "data-read-only" not in hq_page


def test_distributor_still_manages_its_own_campaigns(login_as, org, db):
    own = make_campaign(org.users["east_admin"], name="华东自有", publish=False)
    client = login_as("east_admin")
    html = client.get(f"/campaigns/{own.id}").get_data(as_text=True)
    assert f'/campaigns/{own.id}/publish"' in html and "data-read-only" not in html
    assert client.post(f"/campaigns/{own.id}/publish").status_code == 303
    db.session.expire_all()
    assert db.session.get(Campaign, own.id).status == "published"


def test_store_owner_has_no_campaign_admin_pages(login_as, org, hq_campaign):
    client = login_as("owner1")
    assert client.get("/campaigns").status_code == 403
    assert client.get(f"/campaigns/{hq_campaign.id}").status_code == 403


def test_a_reader_from_below_sees_the_coupons_issued_in_its_own_stores(client, login_as, org, db, hq_campaign):
    """HQ's page counts every claim; east's counts the claims in east's stores only."""
    from tests.campaigns.helpers import claim, key

    for code in ("sh1", "gd1"):
        owner = {"sh1": "owner1", "gd1": "owner_gd"}[code]
        assert login_as(owner).post(f"/my/campaigns/{hq_campaign.id}/join").status_code == 303
        store = org.stores[code]
        assert claim(client, store, key(store), hq_campaign.id, member=f"o{code}").status_code == 201
    hq = login_as("hq").get(f"/campaigns/{hq_campaign.id}").get_data(as_text=True)
    assert 'data-issued="2">2 / 20<' in hq
    east = login_as("east_admin").get(f"/campaigns/{hq_campaign.id}").get_data(as_text=True)
    assert 'data-issued="1">1<' in east and "2 / 20" not in east
