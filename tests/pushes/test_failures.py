"""One store whose delivery fails is marked failed with its error; the rest of its batch is
delivered, and the failed stores can be retried from the push page."""
import math

import pytest
from sqlalchemy import select

from portal.decoration.models import StorePage
from portal.decoration.services import TemplatePush
from portal.extensions import db as _db
from portal.org.models import Store
from portal.org.scope import scope_for
from portal.pushes import services as pushes
from portal.pushes.models import Delivery, Push
from portal.targets.services import TargetSpec
from tests import factories
from tests.conftest import login
from tests.factories import sql_log


class PickyTemplate(TemplatePush):
    """Delivers like the template kind, but refuses the chosen stores, as a broken store would."""

    name = "test_picky"

    def __init__(self):
        self.refuse: set[int] = set()
        self.calls: list[int] = []          # how many stores each apply was given

    def apply(self, push, rows) -> None:
        ids = set(_db.session.scalars(select(Delivery.store_id).where(rows)))
        self.calls.append(len(ids))
        if bad := ids & self.refuse:
            raise RuntimeError(f"store {min(bad)} refused the payload")
        super().apply(push, rows)


@pytest.fixture
def picky():
    kind = pushes.register_kind(PickyTemplate())
    yield kind
    pushes.KINDS.pop(kind.name)


def _stores(db, org, n):
    for i in range(n - len(org.stores)):
        factories.make_store(org.nodes["r_js"], f"JSF{i:03d}")
    db.session.commit()
    return list(db.session.scalars(select(Store.id).order_by(Store.id)))


def _push(db, user, version):
    push = pushes.create_push(scope_for(user), "test_picky", version.id, "挑剔的模板", TargetSpec(everything=True),
                              actor=user)
    db.session.commit()
    db.session.expire_all()
    return db.session.get(Push, push.id)


def _rows(db, push, outcome):
    return dict(db.session.execute(select(Delivery.store_id, Delivery.error).where(
        Delivery.push_id == push.id, Delivery.outcome == outcome)).all())


def _statements(db, fn):
    with sql_log() as seen:
        result = fn()
    return result, len(seen)


def test_a_clean_push_is_one_apply_per_batch(app, db, org, picky):
    """The common path: one apply for the whole batch, and as many statements for 64 stores as
    for 2 (the cost does not grow with the number of stores)."""
    from portal.decoration import services as deco

    _stores(db, org, 64)
    hq = org.users["hq"]
    tpl, v1 = factories.make_template_version(hq)
    v2 = deco.publish(scope_for(hq), tpl, "v2", actor=hq)
    db.session.commit()
    counts = []
    for version, spec in ((v1, TargetSpec(everything=True)), (v2, TargetSpec(store_codes=["SH001", "SH002"]))):
        push = pushes.create_push(scope_for(hq), "test_picky", version.id, "挑剔的模板", spec, actor=hq)
        _none, n = _statements(db, db.session.commit)          # the job runs at the commit
        counts.append(n)
        db.session.expire_all()
        assert db.session.get(Push, push.id).failed == 0
    assert picky.calls == [64, 2]
    assert counts[0] == counts[1]


def test_failing_stores_are_isolated_and_retried_from_the_page(app, db, org, picky, client):
    ids = _stores(db, org, 64)
    bad = {ids[10], ids[41]}
    picky.refuse = set(bad)
    hq = org.users["hq"]
    _t, v1 = factories.make_template_version(hq)
    db.session.commit()
    push = _push(db, hq, v1)

    # The push finishes: 62 stores have the page, the 2 refusing stores are failed with their error.
    assert push.state == "done" and push.delivered == 62 and push.failed == 2 and push.total == 64
    failed = _rows(db, push, "failed")
    assert set(failed) == bad
    assert {sid for sid in ids if (p := db.session.get(StorePage, sid)) and p.version_id == v1.id} == set(ids) - bad
    # Splitting found them in a logarithmic number of tries, not one per store.
    assert len(picky.calls) <= 2 * len(bad) * math.ceil(math.log2(64)) + 1

    login(client, "hq")
    page = client.get(f"/pushes/{push.id}?outcome=failed").get_data(as_text=True)
    codes = dict(db.session.execute(select(Store.id, Store.code).where(Store.id.in_(bad))).all())
    assert all(code in page for code in codes.values())
    assert f"下发失败：RuntimeError: store {min(bad)} refused the payload" in page
    assert "重试失败门店" in page                 # the retry button: the push is done and has failed stores

    # The stores are fixed; retrying delivers exactly them.
    picky.refuse, picky.calls = set(), []
    assert client.post(f"/pushes/{push.id}/retry").status_code == 302
    push = db.session.get(Push, push.id)
    assert push.state == "done" and push.delivered == 64 and push.failed == 0
    assert picky.calls == [2]
    assert all(db.session.get(StorePage, sid).version_id == v1.id for sid in bad)
    assert "重试失败门店" not in client.get(f"/pushes/{push.id}").get_data(as_text=True)
    # Nothing left to retry: refused with a message, nothing changes.
    r = client.post(f"/pushes/{push.id}/retry", follow_redirects=True)
    assert "只有已结束且有失败门店的推送才能重试。" in r.get_data(as_text=True)
    assert db.session.get(Push, push.id).state == "done"
