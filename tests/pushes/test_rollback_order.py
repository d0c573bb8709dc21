"""Rolling back any set of overlapping pushes, in any order, leaves every store on what it had
before them — for every kind of payload the engine carries."""
import itertools

import pytest
from sqlalchemy import select

from portal.assortments.models import Assortment, StoreAssortment
from portal.campaigns.models import CampaignStore
from portal.decoration import services as deco
from portal.decoration.models import StorePage
from portal.org.models import Store
from portal.org.scope import scope_for
from portal.pushes import services as pushes
from portal.pushes.models import Delivery, Push
from portal.targets.services import TargetSpec
from tests import factories
from tests.campaigns.helpers import make_campaign

ORDERS = list(itertools.permutations(range(3)))


def _push(db, user, kind, payload_id, spec):
    push = pushes.create_push(scope_for(user), kind, payload_id, f"{kind} {payload_id}", spec, actor=user)
    db.session.commit()
    db.session.expire_all()
    push = db.session.get(Push, push.id)
    assert push.state == "done"
    return push


def _reached(db, push) -> set[int]:
    return set(db.session.scalars(select(Delivery.store_id).where(Delivery.push_id == push.id,
                                                                  Delivery.outcome == "delivered")))


def _roll_back(db, user, push):
    pushes.request_rollback(scope_for(user), push, actor=user)
    db.session.commit()
    db.session.expire_all()
    push = db.session.get(Push, push.id)
    assert push.state == "rolled_back" and push.reverted == push.delivered
    return push


@pytest.mark.parametrize("order", ORDERS, ids=lambda o: "".join("ABC"[i] for i in o))
def test_template_pushes_rolled_back_in_any_order(app, db, org, order):
    """Every store starts on v0 (the base push). A gives v1 to 上海+广东, B v2 to everyone, C v3
    to 上海. After each rollback every store shows the newest push still standing that reached
    it; after all three, v0 again, from the base push."""
    hq = org.users["hq"]
    tpl, v0 = factories.make_template_version(hq)
    versions = [v0] + [deco.publish(scope_for(hq), tpl, f"v{i}", actor=hq) for i in (1, 2, 3)]
    db.session.commit()
    r = org.nodes
    base = _push(db, hq, "template", v0.id, TargetSpec(everything=True))
    specs = [TargetSpec(node_ids=[r["r_sh"].id, r["r_gd"].id]), TargetSpec(everything=True),
             TargetSpec(node_ids=[r["r_sh"].id])]
    made = [_push(db, hq, "template", versions[i + 1].id, spec) for i, spec in enumerate(specs)]
    reached = {p.id: _reached(db, p) for p in [base, *made]}
    stores = list(db.session.scalars(select(Store.id)))
    standing = [base, *made]
    for i in order:
        _roll_back(db, hq, made[i])
        standing.remove(made[i])
        for sid in stores:
            giver = [p for p in standing if sid in reached[p.id]][-1]
            page = db.session.get(StorePage, sid)
            assert (page.version_id, page.push_id) == (giver.payload_id, giver.id), (sid, order)
    assert {db.session.get(StorePage, sid).version_id for sid in stores} == {v0.id}


def _assortment(db, org, name):
    a = Assortment(name=name, path=org.nodes["hq"].path)
    db.session.add(a)
    db.session.commit()
    return a.id


def _held(db, model, payload_col) -> set[tuple[int, int, int]]:
    return set(db.session.execute(select(model.store_id, payload_col, model.push_id)).all())


@pytest.mark.parametrize("kind", ["goods", "campaign"])
@pytest.mark.parametrize("order", ORDERS, ids=lambda o: "".join("ABC"[i] for i in o))
def test_goods_and_campaign_pushes_rolled_back_in_any_order(app, db, org, kind, order):
    """A gives payload 1 to 上海, B payload 1 to everyone (上海 already has it), C payload 2 to
    上海+江苏. After each rollback a store holds exactly what the pushes still standing gave it."""
    hq = org.users["hq"]
    if kind == "goods":
        first, second = _assortment(db, org, "春季"), _assortment(db, org, "夏季")
        model, col = StoreAssortment, StoreAssortment.assortment_id
    else:
        first = make_campaign(hq, name="满100减10").id
        second = make_campaign(hq, name="满200减30").id
        model, col = CampaignStore, CampaignStore.campaign_id
    r = org.nodes
    made = [_push(db, hq, kind, first, TargetSpec(node_ids=[r["r_sh"].id])),
            _push(db, hq, kind, first, TargetSpec(everything=True)),
            _push(db, hq, kind, second, TargetSpec(node_ids=[r["r_sh"].id, r["r_js"].id]))]
    reached = {p.id: _reached(db, p) for p in made}
    assert reached[made[1].id].isdisjoint(reached[made[0].id])       # B found 上海 already had it
    standing = list(made)
    for i in order:
        _roll_back(db, hq, made[i])
        standing.remove(made[i])
        expected = {(sid, p.payload_id, p.id) for p in standing for sid in reached[p.id]}
        assert _held(db, model, col) == expected, order
    assert _held(db, model, col) == set()
