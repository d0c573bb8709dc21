"""The shared app of tests/conftest.py: one app per test process, yet every test starts as if it
had the app to itself: no rows, ids from 1, the configured settings, no login counters."""
from __future__ import annotations

import pytest

from portal.org.models import OrgNode, Store
from tests import factories
from tests.conftest import PASSWORD


# Two tests that do the same: whichever runs second sees what the first one left, if anything.
@pytest.mark.parametrize("turn", [1, 2])
def test_every_test_starts_with_no_rows_and_ids_from_one(app, db, org, turn):
    assert org.nodes["hq"].id == 1 and org.stores["sh1"].id == 1
    assert db.session.query(Store).count() == 5
    app.config["STORES_PER_PAGE"] = 3              # changed here, restored for the next test
    app.config["LANGUAGES"]["xx"] = "test"        # even inside a setting
    node = factories.make_node(org.nodes["hq"], "distributor", "D-TURN")
    db.session.commit()
    assert node.id == 7 and db.session.query(OrgNode).count() == 7


@pytest.mark.parametrize("turn", [1, 2])
def test_every_test_gets_the_configured_settings(app, turn):
    assert app.config["STORES_PER_PAGE"] == 50
    assert "xx" not in app.config["LANGUAGES"]
    app.config["STORES_PER_PAGE"] = 3


@pytest.mark.parametrize("turn", [1, 2])
def test_login_counters_start_at_zero_in_every_test(app, client, org, turn):
    app.config["LOGIN_LIMIT_ACCOUNT_IP"] = "1 per 1 hour"
    first = client.post("/login", data={"username": "hq", "password": "wrong-wrong"})
    assert first.status_code == 422                # counted, not refused: the window is new
    again = client.post("/login", data={"username": "hq", "password": PASSWORD})
    assert again.status_code == 429


def test_an_app_configured_otherwise_is_its_own(app, make_app, org):
    other = make_app(STORES_PER_PAGE=2)
    assert other is not app and other.config["STORES_PER_PAGE"] == 2
    assert app.config["STORES_PER_PAGE"] == 50
    client = other.test_client()
    client.post("/login", data={"username": "hq", "password": PASSWORD})
    assert client.get("/stores").status_code == 200     # same database, same rows
