"""Stopping a campaign in stores chosen with the store picker (issue 9 point 4): the org tree,
the dialog's picked stores and searches, pasted codes; inside the actor's scope only."""
from __future__ import annotations

import re

from portal.campaigns.models import CampaignStore
from portal.targets.services import TargetSpec
from tests import factories
from tests.campaigns.helpers import make_campaign, push


def _status(db, campaign, store):
    db.session.expire_all()
    part = db.session.get(CampaignStore, (campaign.id, store.id))
    return part.status if part else None


def test_the_stop_page_shows_the_picker_and_names_the_reach(login_as, org, db):
    hq = org.users["hq"]
    c = make_campaign(hq, name="周末秒杀")
    push(hq, c, TargetSpec(everything=True))
    client = login_as("hq")
    assert f'href="/campaigns/{c.id}/stop-in-stores"' in client.get(f"/campaigns/{c.id}").get_data(as_text=True)
    html = client.get(f"/campaigns/{c.id}/stop-in-stores").get_data(as_text=True)
    assert 'data-picker-tree' in html and 'id="store-picker"' in html and 'name="picker" value="1"' in html
    assert 'name="active_only"' not in html          # a stop is for stores of any status
    assert re.search(r'data-confirm-reach="在所选门店停止“周末秒杀”（共 \{n\} 家门店）？', html)


def test_stop_in_a_region_plus_a_picked_store(login_as, org, db):
    hq = org.users["hq"]
    suspended = factories.make_store(org.nodes["r_sh"], "SH009", status="suspended")
    c = make_campaign(hq)
    push(hq, c, TargetSpec(everything=True, active_only=False))
    db.session.commit()
    client = login_as("hq")
    r = client.post(f"/campaigns/{c.id}/stop", data={
        "picker": "1", "node_ids": [str(org.nodes["r_sh"].id)], "store_ids": [str(org.stores["gd1"].id)]})
    assert r.status_code == 303
    for key in ("sh1", "sh2", "gd1"):
        assert _status(db, c, org.stores[key]) == "stopped", key
    assert _status(db, c, suspended) == "stopped"                   # whatever the store's status
    assert _status(db, c, org.stores["js1"]) == "joined" and _status(db, c, org.stores["south_direct"]) == "joined"
    assert "已在4家门店停止" in client.get(f"/campaigns/{c.id}").get_data(as_text=True).replace(" ", "")


def test_a_distributor_stops_through_the_picker_only_inside_its_scope(login_as, org, db):
    east = org.users["east_admin"]
    c = make_campaign(east)
    push(east, c, TargetSpec(everything=True))
    db.session.add(CampaignStore(campaign_id=c.id, store_id=org.stores["gd1"].id, status="joined"))
    db.session.commit()
    client = login_as("east_admin")
    # A forged foreign id or region is refused beside its field, and nothing stops.
    for data, field in (({"store_ids": [str(org.stores["gd1"].id)]}, "store_ids"),
                        ({"node_ids": [str(org.nodes["r_gd"].id)]}, "node_ids"),
                        ({"filters": [f"node={org.nodes['r_gd'].id}"]}, "filters"),
                        ({}, "everything")):
        r = client.post(f"/campaigns/{c.id}/stop", data={"picker": "1", **data})
        assert r.status_code == 422 and f'data-field="{field}"' in r.get_data(as_text=True), field
    assert {_status(db, c, org.stores[k]) for k in ("sh1", "sh2", "js1", "gd1")} == {"joined"}
    # A search chosen as "all matching": 上海 in east's scope.
    r = client.post(f"/campaigns/{c.id}/stop", data={"picker": "1", "filters": ["q=上海"]})
    assert r.status_code == 303
    assert _status(db, c, org.stores["sh1"]) == "stopped" and _status(db, c, org.stores["sh2"]) == "stopped"
    assert _status(db, c, org.stores["js1"]) == "joined" and _status(db, c, org.stores["gd1"]) == "joined"
