"""A store owner's double click on a SKU the store never changed: both clicks create its listing
row at once. One inserts, the other writes over it: never a 500 from the unique constraint."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal.shelf import services as shelf
from portal.shelf.models import Listing
from tests import factories
from tests.conftest import login
from tests.shelf.test_shelf import _sh1_with_goods


@pytest.mark.parametrize("second", [{"on_shelf": "0"}, {"price": "12.00", "stock": "5"}], ids=["shelf", "price"])
def test_a_double_click_creates_one_listing(app, client, org, db, second):
    p = _sh1_with_goods(db, org)
    sku, store = p.skus[0].id, org.stores["sh1"].id
    other = app.test_client()
    login(other, "owner1")
    login(client, "owner1")

    def first_click():
        assert other.post(f"/stores/{store}/goods/{sku}/shelf", data={"on_shelf": "0"}).status_code == 303

    url = f"/stores/{store}/goods/{sku}" + ("/shelf" if "on_shelf" in second else "")
    with factories.just_before("INSERT INTO listings", first_click):
        r = client.post(url, data=second)
    assert r.status_code == 303
    assert db.session.scalar(select(func.count()).select_from(Listing)) == 1
    good = shelf.good_or_none(store, sku)
    assert not good.on_shelf
    if "price" in second:
        assert good.price == 1200 and good.stock == 5
