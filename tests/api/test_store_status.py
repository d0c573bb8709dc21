"""A store's status decides what its API key may still do: a closed store's key is refused on
every call, a suspended store's key reads but cannot write or claim."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal.campaigns.models import Campaign, CouponClaim
from portal.targets.services import TargetSpec
from tests.campaigns.helpers import claim, key, make_campaign, push


@pytest.fixture
def running_coupon(org, db):
    """A coupon campaign pushed to SH001 while it was open, and SH001's key."""
    hq = org.users["hq"]
    coupon = make_campaign(hq)
    push(hq, coupon, TargetSpec(store_codes=["SH001"]))
    return coupon, key(org.stores["sh1"])


def _set_status(login_as, store, status: str) -> None:
    admin = login_as("hq")
    assert admin.post(f"/stores/{store.id}/status", data={"status": status}).status_code in (302, 303)
    admin.post("/logout")


def _reads(client, code: str, k: str) -> dict[str, object]:
    headers = {"Authorization": f"Bearer {k}"}
    return {path: client.get(f"/api/v1/stores/{code}/{path}", headers=headers)
            for path in ("page", "goods", "campaigns")}


def _claims(db) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(CouponClaim))


def test_an_open_store_reads_and_claims(client, org, db, running_coupon):
    coupon, k = running_coupon
    assert {p: r.status_code for p, r in _reads(client, "SH001", k).items()} == \
        {"page": 200, "goods": 200, "campaigns": 200}
    assert claim(client, org.stores["sh1"], k, coupon.id, "m1").status_code == 201
    assert _claims(db) == 1


def test_a_closed_stores_key_is_refused_everywhere_claims_included(client, login_as, org, db, running_coupon):
    coupon, k = running_coupon
    sh1 = org.stores["sh1"]
    _set_status(login_as, sh1, "closed")

    for path, r in _reads(client, "SH001", k).items():
        assert r.status_code == 403, path
        assert r.get_json()["error"]["code"] == "store_closed", path
    r = claim(client, sh1, k, coupon.id, "m1")
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "store_closed"
    assert _claims(db) == 0
    assert db.session.get(Campaign, coupon.id).issued == 0

    # Reopened, the same key works again: the key was never revoked, the store was closed.
    _set_status(login_as, sh1, "active")
    assert claim(client, sh1, k, coupon.id, "m1").status_code == 201


def test_a_suspended_store_reads_but_cannot_claim(client, login_as, org, db, running_coupon):
    coupon, k = running_coupon
    sh1 = org.stores["sh1"]
    _set_status(login_as, sh1, "suspended")

    reads = _reads(client, "SH001", k)
    assert {p: r.status_code for p, r in reads.items()} == {"page": 200, "goods": 200, "campaigns": 200}
    r = claim(client, sh1, k, coupon.id, "m1")
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "store_suspended"
    assert _claims(db) == 0
    assert db.session.get(Campaign, coupon.id).issued == 0


def test_a_closed_store_is_refused_before_its_code_is_compared(client, login_as, org, running_coupon):
    """The key is what is refused: even naming another store's code answers store_closed."""
    _coupon, k = running_coupon
    _set_status(login_as, org.stores["sh1"], "closed")
    r = client.get("/api/v1/stores/GD001/page", headers={"Authorization": f"Bearer {k}"})
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "store_closed"
