"""The clock drives a published campaign's state; HQ pushes, watches and stops; stores join or
decline; the mini-program API lists what a store runs and claims coupons whose budget holds."""
from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import func, select

from portal.campaigns import services
from portal.campaigns.models import Campaign, CampaignStore, CouponClaim
from portal.kernel.time import utcnow
from portal.targets.services import TargetSpec
from tests.campaigns.helpers import api_campaigns, claim, key, make_campaign, push
from tests.factories import make_product


def _status(db, campaign, store):
    db.session.expire_all()
    part = db.session.get(CampaignStore, (campaign.id, store.id))
    return part.status if part else None


def test_states_follow_the_clock_in_lists_and_api(en, org, db):
    hq = org.users["hq"]
    past = make_campaign(hq, name="已结束", start=-5, end=-1)
    now = make_campaign(hq, name="进行中", start=-1, end=1)
    future = make_campaign(hq, name="未开始", start=1, end=3)
    draft = make_campaign(hq, name="草稿", publish=False)
    for c in (past, now, future):
        push(hq, c, TargetSpec(store_codes=["SH001"]))
    client = en("hq")
    html = client.get("/campaigns").get_data(as_text=True)
    for c, state in ((past, "ended"), (now, "running"), (future, "scheduled"), (draft, "draft")):
        assert f'data-campaign="{c.id}" data-state="{state}"' in html
    running = client.get("/campaigns?state=running").get_data(as_text=True)
    assert "进行中" in running and "未开始" not in running and "已结束" not in running
    fragment = client.get("/campaigns?state=scheduled", hx="campaign-rows").get_data(as_text=True)
    assert "<html" not in fragment and "未开始" in fragment and "进行中" not in fragment
    k = key(org.stores["sh1"])
    names = [c["name"] for c in api_campaigns(client, org.stores["sh1"], k).get_json()["campaigns"]]
    assert names == ["进行中"]
    # The same campaign moves on by itself as the clock passes its end.
    later = utcnow() + timedelta(days=2)
    assert [c.name for c in services.running_in_store(org.stores["sh1"].id, later)] == ["未开始"]
    assert db.session.execute(select(services.state_expr(later)).where(Campaign.id == now.id)).scalar() == "ended"


def test_publish_cancel_and_push_only_when_published(en, org, db):
    client = en("east_admin")
    c = make_campaign(org.users["east_admin"], publish=False)
    r = client.get(f"/campaigns/{c.id}/push")
    assert r.status_code == 303
    assert client.post(f"/campaigns/{c.id}/publish").status_code == 303
    assert client.get(f"/campaigns/{c.id}/push").status_code == 200
    assert client.post(f"/campaigns/{c.id}/cancel").status_code == 303
    db.session.expire_all()
    assert db.session.get(Campaign, c.id).status == "cancelled"
    assert client.get(f"/campaigns/{c.id}/push").status_code == 303
    # Another distributor's campaign is not there at all.
    other = make_campaign(org.users["south_admin"])
    assert client.get(f"/campaigns/{other.id}").status_code == 404
    assert client.post(f"/campaigns/{other.id}/cancel").status_code == 404


def test_push_through_the_form_mandatory_enrols_every_store(en, org, db):
    client = en("hq")
    c = make_campaign(org.users["hq"])
    r = client.post(f"/campaigns/{c.id}/push", data={"node_ids": [str(org.nodes["r_sh"].id)]})
    assert r.status_code == 302 and "/pushes/" in r.headers["Location"]
    assert _status(db, c, org.stores["sh1"]) == "joined" and _status(db, c, org.stores["sh2"]) == "joined"
    assert _status(db, c, org.stores["gd1"]) is None
    page = client.get(f"/campaigns/{c.id}").get_data(as_text=True)
    assert 'data-count="joined">2<' in page
    owner = en("owner1")
    html = owner.get("/my/campaigns").get_data(as_text=True)
    assert "HQ requires this" in html and "满100减10" in html
    assert owner.post(f"/my/campaigns/{c.id}/decline").status_code == 303
    assert _status(db, c, org.stores["sh1"]) == "joined"
    assert "HQ requires this campaign" in owner.get("/my/campaigns").get_data(as_text=True)


def test_push_form_errors_show(en, org):
    client = en("hq")
    c = make_campaign(org.users["hq"])
    r = client.post(f"/campaigns/{c.id}/push", data={})
    assert r.status_code == 422


def test_opt_in_join_decline_and_deadline(en, org, db):
    hq = org.users["hq"]
    make_product(org.nodes["hq"], "SKU", skus=1, list_price=1990, floor=1000, ceiling=3000)
    c = make_campaign(
        hq,
        kind="flash_sale",
        name="周末秒杀",
        participation="opt_in",
        deadline=2,
        rules={
            "items": [{"sku": "SKU-1", "price_fen": 990, "quantity": 10}],
            "sale_starts": utcnow().isoformat(),
            "sale_ends": (utcnow() + timedelta(days=1)).isoformat(),
        },
    )
    late = make_campaign(hq, name="已截止", participation="opt_in", deadline=-0.5)
    for x in (c, late):
        push(hq, x, TargetSpec(node_ids=[org.nodes["r_sh"].id, org.nodes["r_gd"].id]))
    assert _status(db, c, org.stores["sh1"]) == "invited"
    owner = en("owner1")
    html = owner.get("/my/campaigns").get_data(as_text=True)
    assert f'action="/my/campaigns/{c.id}/join"' in html
    assert owner.post(f"/my/campaigns/{c.id}/join").status_code == 303
    assert _status(db, c, org.stores["sh1"]) == "joined"
    assert "You joined" in owner.get("/my/campaigns").get_data(as_text=True)
    # After the deadline: a clear message, nothing changes.
    assert f'action="/my/campaigns/{late.id}/join"' not in html
    owner.post(f"/my/campaigns/{late.id}/join")
    assert "join deadline has passed" in owner.get("/my/campaigns").get_data(as_text=True)
    assert _status(db, late, org.stores["sh1"]) == "invited"
    # Another store's campaign, or one never offered to this store: 404.
    other = make_campaign(hq, name="别家", participation="opt_in", deadline=1)
    push(hq, other, TargetSpec(store_codes=["GD001"]))
    assert owner.post(f"/my/campaigns/{other.id}/join").status_code == 404
    gd = en("owner_gd")
    assert gd.post(f"/my/campaigns/{c.id}/decline").status_code == 303
    assert _status(db, c, org.stores["gd1"]) == "declined"
    # HQ sees it per store, filterable.
    client = en("hq")
    page = client.get(f"/campaigns/{c.id}").get_data(as_text=True)
    assert 'data-count="joined">1<' in page and 'data-count="declined">1<' in page and 'data-count="invited">1<' in page
    rows = client.get(f"/campaigns/{c.id}?status=declined", hx="participant-rows").get_data(as_text=True)
    assert "<html" not in rows and 'data-store="GD001"' in rows and 'data-store="SH001"' not in rows
    # The API: in the joined store, not in the declining one.
    def names(store):
        return [x["name"] for x in api_campaigns(client, store, key(store)).get_json()["campaigns"]]

    assert names(org.stores["sh1"]) == ["周末秒杀"]
    assert names(org.stores["gd1"]) == []


def test_stop_for_some_stores_then_all(en, org, db):
    hq = org.users["hq"]
    c = make_campaign(hq)
    push(hq, c, TargetSpec(everything=True))
    client = en("east_admin")
    ids = [str(org.stores["sh1"].id), str(org.stores["gd1"].id)]        # gd1 is outside east's scope
    # HQ's campaign, which east reads (it reaches east's stores) but may not stop.
    assert client.post(f"/campaigns/{c.id}/stop", data={"store_ids": ids}).status_code == 403
    client = en("hq")
    assert client.post(f"/campaigns/{c.id}/stop", data={"store_ids": [str(org.stores["sh1"].id)]}).status_code == 303
    assert _status(db, c, org.stores["sh1"]) == "stopped" and _status(db, c, org.stores["sh2"]) == "joined"
    assert "Stopped in 1 store." in client.get(f"/campaigns/{c.id}").get_data(as_text=True)
    k = key(org.stores["sh1"])
    assert api_campaigns(client, org.stores["sh1"], k).get_json()["campaigns"] == []
    client.post(f"/campaigns/{c.id}/stop", data={"all": "1"})
    assert {_status(db, c, s) for s in org.stores.values()} == {"stopped"}


def test_a_distributor_stops_only_inside_its_scope(en, org, db):
    east = org.users["east_admin"]
    c = make_campaign(east)
    # HQ-level rows in a foreign store (as if pushed earlier), which east must not touch.
    push(east, c, TargetSpec(everything=True))
    db.session.add(CampaignStore(campaign_id=c.id, store_id=org.stores["gd1"].id, status="joined"))
    db.session.commit()
    client = en("east_admin")
    client.post(f"/campaigns/{c.id}/stop", data={"store_ids": [str(org.stores["sh1"].id), str(org.stores["gd1"].id)]})
    assert _status(db, c, org.stores["sh1"]) == "stopped" and _status(db, c, org.stores["gd1"]) == "joined"
    client.post(f"/campaigns/{c.id}/stop", data={"all": "1"})
    assert _status(db, c, org.stores["js1"]) == "stopped" and _status(db, c, org.stores["gd1"]) == "joined"


def test_stopping_a_campaign_that_is_not_running_is_refused(en, org, db):
    c = make_campaign(org.users["hq"], start=-5, end=-1)
    client = en("hq")
    client.post(f"/campaigns/{c.id}/stop", data={"all": "1"})
    assert "Only a scheduled or running campaign" in client.get(f"/campaigns/{c.id}").get_data(as_text=True)


# --------------------------------------------------------------------------- claims

def test_claim_reasons(client, org, db):
    hq = org.users["hq"]
    coupon = make_campaign(
        hq, rules={"discount": "percent", "percent": 20, "threshold_fen": 0, "per_member": 2, "budget": 3}
    )
    make_product(org.nodes["hq"], "A", skus=1)
    flash = make_campaign(hq, kind="bargain", name="砍价", rules={"sku": "A-1", "floor_price_fen": 100, "helpers": 3,
                                                                "hours": 24})
    future = make_campaign(hq, name="未开始", start=1, end=2)
    for c in (coupon, flash, future):
        push(hq, c, TargetSpec(store_codes=["SH001"]))
    sh1, gd1 = org.stores["sh1"], org.stores["gd1"]
    k = key(sh1)
    r = claim(client, sh1, k, coupon.id, "m1")
    assert r.status_code == 201 and r.get_json()["code"].startswith("CP")
    assert claim(client, sh1, k, coupon.id, "m1").status_code == 201
    r = claim(client, sh1, k, coupon.id, "m1")
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "member_limit"
    assert claim(client, sh1, k, coupon.id, "m2").status_code == 201
    r = claim(client, sh1, k, coupon.id, "m3")
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "budget_exhausted"
    assert claim(client, sh1, k, flash.id).get_json()["error"]["code"] == "not_a_coupon"
    assert claim(client, sh1, k, future.id).get_json()["error"]["code"] == "not_running_here"
    assert claim(client, sh1, k, 999999).get_json()["error"]["code"] == "not_running_here"
    kg = key(gd1)
    assert claim(client, gd1, kg, coupon.id).get_json()["error"]["code"] == "not_running_here"
    # Bad input: 422 with the field; another store's code: 404; no key: 401.
    r = client.post(f"/api/v1/stores/SH001/coupons/{coupon.id}/claim", json={"member": ""},
                    headers={"Authorization": f"Bearer {k}"})
    assert r.status_code == 422 and r.get_json()["error"]["field"] == "member"
    r = client.post(f"/api/v1/stores/SH001/coupons/{coupon.id}/claim", data="nope",
                    headers={"Authorization": f"Bearer {k}", "Content-Type": "application/json"})
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "invalid_json"
    assert claim(client, gd1, k, coupon.id).status_code == 404
    assert client.post(f"/api/v1/stores/SH001/coupons/{coupon.id}/claim", json={"member": "x"}).status_code == 401
    db.session.expire_all()
    assert db.session.get(Campaign, coupon.id).issued == 3
    assert db.session.scalar(select(func.count()).select_from(CouponClaim)) == 3


def _claim(client, k, cid, member):
    return client.post(f"/api/v1/stores/SH001/coupons/{cid}/claim", json={"member": member},
                       headers={"Authorization": f"Bearer {k}"})


def test_budget_holds_under_concurrent_claims(app, org, db):
    """Budget 20, 40 claims at once through the real app: exactly 20 coupons, issued == 20."""
    from sqlalchemy.exc import OperationalError

    hq = org.users["hq"]
    c = make_campaign(
        hq, rules={"discount": "amount", "amount_fen": 500, "threshold_fen": 0, "per_member": 1, "budget": 20}
    )
    push(hq, c, TargetSpec(store_codes=["SH001"]))
    k = key(org.stores["sh1"])
    cid = c.id                     # threads read plain values, not ORM rows
    start = threading.Barrier(40)
    results: list[int] = []
    lock = threading.Lock()

    def one(i: int):
        client = app.test_client()
        start.wait()
        for _attempt in range(50):
            try:
                r = _claim(client, k, cid, f"member{i}")
            except OperationalError:        # SQLite: "database is locked" under contention; try again
                continue
            with lock:
                results.append(r.status_code)
            return

    threads = [threading.Thread(target=one, args=(i,)) for i in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    db.session.expire_all()
    assert sorted(results) == [201] * 20 + [409] * 20
    assert db.session.get(Campaign, c.id).issued == 20
    assert db.session.scalar(select(func.count()).select_from(CouponClaim).where(CouponClaim.campaign_id == c.id)) == 20


def test_member_limit_holds_under_concurrent_claims(app, org, db):
    from sqlalchemy.exc import OperationalError

    hq = org.users["hq"]
    c = make_campaign(
        hq, rules={"discount": "amount", "amount_fen": 500, "threshold_fen": 0, "per_member": 2, "budget": 100}
    )
    push(hq, c, TargetSpec(store_codes=["SH001"]))
    k = key(org.stores["sh1"])
    cid = c.id
    start = threading.Barrier(10)
    codes: list[int] = []

    def one():
        client = app.test_client()
        start.wait()
        for _attempt in range(50):
            try:
                codes.append(_claim(client, k, cid, "same-member").status_code)
                return
            except OperationalError:
                continue

    threads = [threading.Thread(target=one) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    db.session.expire_all()
    assert sorted(codes) == [201] * 2 + [409] * 8
    assert db.session.get(Campaign, c.id).issued == 2
