"""The demo's members, guides and orders (``portal.orders.demo``) and the 1M generator's rows
(``benchmarks/gen_members.py``) at a small size, on the test database (SQLite: executemany;
PostgreSQL: COPY)."""
from __future__ import annotations

import random
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from portal.orders import demo as members_demo

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

NOW = datetime(2026, 6, 1, 4, 0, tzinfo=UTC)
MENU = [("G001-L", "杨枝甘露（大杯）", 1900), ("G002-M", "芝士葡萄（中杯）", 1700), ("G011-L", "牛角可颂", 2100)]


def _history(seed: int = 7) -> list[dict]:
    maker = members_demo.EventMaker(random.Random(seed), "SH001", MENU, ["DG01", "DG02"], plan_id=9,
                                    coupon_campaign_id=3)
    return members_demo.store_history(maker, NOW, 40, twins=[("o-x-u1", "un-1")])


def test_demo_events_follow_the_ingestion_contract():
    events = _history()
    kinds = Counter(e["type"] for e in events)
    assert kinds["member.signup"] == 40 and kinds["order.paid"] > 40 and kinds["order.refunded"] >= 1
    assert _history() == events, "the same seed gives the same events"
    members, orders = set(), {}
    for e in events:
        assert set(e) == {"id", "type", "occurred_at", "data"} and len(e["id"]) <= 64
        at = datetime.fromisoformat(e["occurred_at"])
        assert at.utcoffset() == timedelta(hours=8) and at <= NOW and at >= NOW - timedelta(days=members_demo.DAYS + 1)
        d = e["data"]
        if e["type"] == "member.signup":
            assert d.get("sharer_openid") in members | {None}, "a sharer signed up before the member they bring"
            assert "phone" not in d or (len(d["phone"]) == 11 and d["phone"].isdigit())
            members.add(d["openid"])
        elif e["type"] == "order.paid":
            goods = sum(line["quantity"] * line["unit_fen"] for line in d["lines"])
            assert d["goods_fen"] == goods
            assert d["paid_fen"] == goods - d["discount_fen"] - d["coupon_fen"] + d["freight_fen"]
            assert {line["sku"] for line in d["lines"]} <= {m[0] for m in MENU}
            assert d["openid"] in members and d.get("campaign_id") in (None, 3, 9)
            orders[d["number"]] = d
        else:
            order = orders[d["order_number"]]            # refunds come after their order
            assert ("amount_fen" in d and d["amount_fen"] == order["paid_fen"]) or d["lines"] == [
                {"line_no": 1, "quantity": 1}]
    signup = next(e["data"] for e in events if e["data"].get("openid") == "o-x-u1")
    assert signup["unionid"] == "un-1"


def _brand(n_stores: int = 30):
    from portal.campaigns.demo import seed_goods_and_campaign
    from portal.extensions import db
    from portal.org import demo
    from portal.org.models import User

    demo.seed_demo(n_stores)
    db.session.flush()
    hq = db.session.scalar(select(User).where(User.username == "hq"))
    seed_goods_and_campaign(hq)
    return hq


def test_demo_gives_a_distribution_plan_the_owners_store_joined_and_guides(app, db):
    from portal.campaigns.models import JOINED, Campaign, CampaignStore
    from portal.members.models import Guide
    from portal.org.models import User

    hq = _brand()
    out = members_demo.seed_members_and_orders(hq, now=NOW)
    db.session.commit()
    plan = db.session.scalar(select(Campaign).where(Campaign.kind == "distribution"))
    assert plan.name == members_demo.PLAN_NAME and plan.status == "published"
    owner = db.session.scalar(select(User).where(User.username == "owner"))
    assert db.session.get(CampaignStore, (plan.id, owner.store_id)).status == JOINED
    per_store = Counter(db.session.scalars(select(Guide.store_id)))
    assert out["stores"] == len(per_store) and owner.store_id in per_store
    assert set(per_store.values()) <= {2, 3, 4}


def test_demo_orders_go_through_the_real_ingest_path(app, db):
    from portal.members.models import Member, MemberIdentity
    from portal.orders.models import CommissionEntry, Order, Refund
    from portal.org.models import User

    hq = _brand()
    out = members_demo.seed_members_and_orders(hq)
    db.session.commit()
    assert out.get("rejected", 0) == 0 and out["applied"] > 100
    owner = db.session.scalar(select(User).where(User.username == "owner"))
    assert db.session.scalar(select(func.count()).select_from(Order).where(Order.store_id == owner.store_id)) > 30
    assert db.session.scalar(select(func.count()).select_from(Refund)) > 0
    # The owner sees orders with a guide's commission
    assert db.session.scalar(select(func.count()).select_from(CommissionEntry).where(
        CommissionEntry.store_id == owner.store_id, CommissionEntry.beneficiary == "guide")) > 0
    # People known in two mini-programs are one member with two identities
    twin = db.session.scalar(select(MemberIdentity.member_id).where(MemberIdentity.unionid == "un-demo-1").limit(1))
    assert twin is not None
    assert db.session.scalar(select(func.count()).select_from(MemberIdentity)
                             .where(MemberIdentity.member_id == twin)) == 2
    assert db.session.get(Member, twin).status == "active"
    # The brand's tiers, and each member the one their net spend reaches.
    from portal.members.models import MemberTier

    tiers = {t.id: t.min_spent_fen for t in db.session.scalars(select(MemberTier))}
    assert len(tiers) == 3 and out["tiered"] > 0
    spend = dict(db.session.execute(select(Order.member_id, func.sum(Order.paid_fen - Order.refunded_fen))
                                    .group_by(Order.member_id)).all())
    for member_id, tier_id in db.session.execute(select(Member.id, Member.tier_id).where(Member.status == "active")):
        reached = [f for f in tiers.values() if f <= spend.get(member_id, 0)]
        assert (tiers[tier_id] if tier_id else None) == (max(reached) if reached else None)


def test_generator_rows_read_back_through_the_models(app, db, org):
    """The 1M generator's rows at a tiny size: what the app reads (members with their phone, guide
    and identity; orders whose lines add up; refunds; the sequences go on after them)."""
    import gen_members

    from portal.kernel import crypto
    from portal.members.models import Member, MemberIdentity
    from portal.orders.models import CommissionEntry, Order, OrderLine
    from tests.factories import make_member, make_order

    stores = gen_members.brand_stores(db.session)
    out = gen_members.generate(db.session, stores, 60, 90, ledger=True, seed=3)
    db.session.commit()
    expected = "COPY" if db.engine.dialect.name == "postgresql" else "executemany"
    assert out["writer"] == expected and out["rows"]["members"] == 60 and out["rows"]["orders"] == 90
    assert db.session.scalar(select(func.count()).select_from(Order)) == 90
    with_phone = db.session.scalars(select(Member).where(Member.phone_enc.is_not(None))).all()
    assert with_phone and all(crypto.keyed_hash(crypto.decrypt(m.phone_enc)) == m.phone_hash
                              and m.phone_masked[-4:] == crypto.decrypt(m.phone_enc)[-4:] for m in with_phone)
    assert all(m.store_id in {s[0] for s in stores} for m in db.session.scalars(select(Member)))
    assert db.session.scalar(select(func.count()).select_from(MemberIdentity)) == 60
    for order in db.session.scalars(select(Order)):
        lines = db.session.scalars(select(OrderLine).where(OrderLine.order_id == order.id)).all()
        assert sum(line.quantity * line.unit_fen for line in lines) == order.goods_fen
        assert sum(line.paid_fen for line in lines) == order.paid_fen
        assert order.refunded_fen in (0, order.paid_fen)
    if out["rows"].get("commission_entries"):
        entry = db.session.scalars(select(CommissionEntry)).first()
        assert entry.amount_fen == entry.base_fen * entry.rate_bp // 10000
    # New rows after COPY get fresh ids (the sequences were set)
    member = make_member(org.stores["sh1"])
    order = make_order(org.stores["sh1"], member)
    assert member.id > 60 and order.id > 90


def test_seed_demo_reset_replaces_members_guides_and_orders(app, db):
    """``seed-demo --reset`` twice: the second run wipes the first's members, guides, orders and
    inbox (and whatever points at them) before loading the same demo again."""
    from portal.members.models import Guide

    runner = app.test_cli_runner()
    first = runner.invoke(args=["seed-demo", "--stores", "30", "--member-stores", "3"])
    assert first.exit_code == 0, first.output
    guides = db.session.scalar(select(func.count()).select_from(Guide))
    assert guides >= 6
    again = runner.invoke(args=["seed-demo", "--stores", "30", "--member-stores", "3", "--reset"])
    assert again.exit_code == 0, again.output
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Guide)) == guides
    none = runner.invoke(args=["seed-demo", "--stores", "30", "--member-stores", "0", "--reset"])
    assert none.exit_code == 0, none.output
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Guide)) == 0
