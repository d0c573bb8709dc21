"""Demo members, guides and orders, made the way production makes them: as the events a store's
mini-program reports, applied through ``portal.ingest.services.ingest`` (so bindings, sharer
chains, the commission ledger and RFM come out of the real handlers, not out of a second copy of
their rules). Used by ``flask seed-demo`` (after the goods and the coupon campaign), the
screenshots and, through ``EventMaker``, the traffic script and the ingestion benchmark.

What the demo brand gets (deterministic: one seeded RNG):

* a distribution plan (分销计划 "全员分销·导购与分享"), two levels, pushed as mandatory to 上海区 and
  to the sampled stores, running since before the 120 days of history;
* 2–4 guides (导购) per store that gets members;
* members over the last 120 days for ``MEMBER_STORES`` stores (``seed-demo --member-stores N``):
  active stores of 上海区 first (the demo owner's store, with more members than the others, is
  among them), then one active store in ``SAMPLE_EVERY`` elsewhere, a quarter of the places;
  most are bound to a guide, some came through a sharer (a few two-level chains: the sharer was
  brought by another sharer), some gave a verified phone;
* a few people known in two mini-programs (the owner's store and its neighbour in 上海区) under one
  unionid, which the identity rules unify into one member;
* orders through those days (1–3 lines of the demo menu, some with the coupon of 夏日满30减5,
  most under the distribution plan, attributed to the member's guide and sharer), and refunds of
  about one order in twenty: half of them full, half one cup of one line.

By default the demo is about a thousand events, one request's worth per store: applying a
batch costs the handlers about 0.1 s on SQLite whatever its size, so the number of stores, not of
events, is what ``seed-demo`` pays for (docs/performance.md has the figures). ``--member-stores
200`` gives every store of 上海区 members at a 3,000-store brand, in about 20 s more.
"""
from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select

from portal.extensions import db

SEED = 2026_10
DAYS = 120
MEMBER_STORES = 30            # stores that get members by default (seed-demo --member-stores)
SAMPLE_EVERY = 60
OWNER_MEMBERS = 60
BATCH = 500
TZ = ZoneInfo("Asia/Shanghai")
PLAN_NAME = "全员分销·导购与分享"
PLAN_RULES = {"levels": 2, "store_rate": "6.00", "guide_rate": "3.00", "sharer_rate": "5.00",
              "second_rate": "2.00", "freeze_days": 7}

NICK_PARTS = ["小", "阿", "大", "老", ""]
NICK_WORDS = ["橙子", "柚子", "芒果", "桃桃", "葡萄", "草莓", "西瓜", "椰子", "奶茶", "可颂", "雪梨", "荔枝",
              "蓝莓", "柠檬", "榴莲", "团子", "布丁", "果冻", "糖糖", "乐乐", "晴天", "月亮", "星星", "阳光"]


def nickname(rng: random.Random) -> str:
    """A mini-program nickname: 小橙子, 阿芒果88, 晴天 …"""
    base = rng.choice(NICK_PARTS) + rng.choice(NICK_WORDS)
    return base + (str(rng.randint(1, 99)) if rng.random() < 0.3 else "")


def phone_number(rng: random.Random) -> str:
    return f"1{rng.choice('3456789')}{rng.randint(0, 999_999_999):09d}"


def iso(at: datetime) -> str:
    """ISO 8601 with the shop's offset, as a mini-program sends it."""
    return at.astimezone(TZ).isoformat(timespec="seconds")


@dataclass
class Person:
    openid: str
    unionid: str | None = None
    guide_code: str | None = None
    sharer_openid: str | None = None
    nickname: str = ""


@dataclass
class PaidOrder:
    number: str
    lines: list[dict]
    paid_fen: int
    paid_at: datetime


@dataclass
class EventMaker:
    """Builds one store's events exactly as the ingestion contract spells them
    (docs/api.md): ``member.signup``, ``order.paid`` and ``order.refunded`` envelopes with
    ``id``, ``type``, ``occurred_at`` (ISO 8601 with +08:00) and ``data``.

    ``menu`` is [(sku code, name, unit fen)]. Ids and numbers carry ``tag`` (the store code, and a
    run tag for the benchmarks) so two stores or two runs never collide."""

    rng: random.Random
    tag: str
    menu: list[tuple[str, str, int]]
    guides: list[str] = field(default_factory=list)
    plan_id: int | None = None
    coupon_campaign_id: int | None = None
    coupon_since: datetime | None = None      # the coupon campaign's start: orders before it have none
    n: int = 0
    people: list[Person] = field(default_factory=list)
    sharers: list[Person] = field(default_factory=list)

    def _next(self) -> int:
        self.n += 1
        return self.n

    def signup(self, at: datetime, *, unionid: str | None = None, openid: str | None = None) -> dict:
        rng, n = self.rng, self._next()
        p = Person(openid=openid or f"o-{self.tag}-{n}", unionid=unionid, nickname=nickname(rng))
        data: dict = {"openid": p.openid, "nickname": p.nickname}
        if unionid:
            data["unionid"] = unionid
        if rng.random() < 0.45:
            data["phone"] = phone_number(rng)
            data["phone_verified"] = rng.random() < 0.8
        if self.guides and rng.random() < 0.7:
            p.guide_code = data["guide_code"] = rng.choice(self.guides)
        if self.sharers and rng.random() < 0.2:
            p.sharer_openid = data["sharer_openid"] = rng.choice(self.sharers).openid
        self.people.append(p)
        # About one member in six shares (a sharer brought by a sharer makes a two-level chain)
        if rng.random() < 0.17:
            self.sharers.append(p)
        return {"id": f"{self.tag}-m{n}", "type": "member.signup", "occurred_at": iso(at), "data": data}

    def order(self, person: Person, at: datetime) -> tuple[dict, PaidOrder]:
        rng, n = self.rng, self._next()
        lines = []
        for sku, name, unit in rng.sample(self.menu, rng.choice((1, 1, 1, 2, 2, 3))):
            lines.append({"sku": sku, "name": name, "quantity": rng.choice((1, 1, 1, 2, 3)), "unit_fen": unit})
        goods = sum(line["quantity"] * line["unit_fen"] for line in lines)
        coupon_on = self.coupon_campaign_id and (self.coupon_since is None or at >= self.coupon_since)
        coupon = 500 if coupon_on and goods >= 3000 and rng.random() < 0.2 else 0
        discount = 200 if not coupon and goods >= 5000 and rng.random() < 0.1 else 0
        freight = 0 if goods >= 2000 or rng.random() < 0.6 else 300
        paid = goods - discount - coupon + freight
        number = f"{self.tag}-{at.astimezone(TZ):%y%m%d}-{n:05d}"
        data: dict = {"number": number, "openid": person.openid, "nickname": person.nickname, "lines": lines,
                      "goods_fen": goods, "discount_fen": discount, "coupon_fen": coupon, "freight_fen": freight,
                      "paid_fen": paid, "paid_at": iso(at)}
        if person.unionid:
            data["unionid"] = person.unionid
        if coupon:
            data["campaign_id"] = self.coupon_campaign_id
        elif self.plan_id and rng.random() < 0.85:
            data["campaign_id"] = self.plan_id
        if person.guide_code:
            data["guide_code"] = person.guide_code
        if person.sharer_openid and rng.random() < 0.6:
            data["sharer_openid"] = person.sharer_openid
        elif self.sharers and rng.random() < 0.08:
            sharer = rng.choice(self.sharers)
            if sharer.openid != person.openid:
                data["sharer_openid"] = sharer.openid
        return ({"id": f"{self.tag}-o{n}", "type": "order.paid", "occurred_at": iso(at), "data": data},
                PaidOrder(number, lines, paid, at))

    def refund(self, order: PaidOrder, at: datetime, *, full: bool) -> dict:
        n = self._next()
        data: dict = {"number": f"{self.tag}-r{n}", "order_number": order.number}
        if full:
            data["amount_fen"] = order.paid_fen
        else:
            data["lines"] = [{"line_no": 1, "quantity": 1}]
        return {"id": f"{self.tag}-r{n}", "type": "order.refunded", "occurred_at": iso(at), "data": data}


def store_history(maker: EventMaker, now: datetime, n_members: int, *, days: int = DAYS,
                  twins: list[tuple[str, str]] = ()) -> list[dict]:
    """One store's events over ``days``: sign-ups spread over the period (each member's first
    order soon after), repeat orders Poisson-ish, a refund for about one order in twenty. Sorted
    by time. ``twins`` are (openid, unionid) of people who sign up here with a known unionid."""
    rng = maker.rng
    start = now - timedelta(days=days)
    out: list[tuple[datetime, dict]] = []
    joins = sorted(start + timedelta(seconds=rng.uniform(0, days * 86400 - 3600)) for _ in range(n_members))
    for k, joined in enumerate(joins):
        unionid = openid = None
        if twins and k >= len(joins) - len(twins):
            openid, unionid = twins[k - (len(joins) - len(twins))]
        out.append((joined, maker.signup(joined, unionid=unionid, openid=openid)))
        person = maker.people[-1]
        # Orders: about one in six members never buys; the others 1 + Poisson(≈1.6)
        if rng.random() < 0.16:
            continue
        count = 1 + _poisson(rng, 1.6)
        times = sorted(joined + timedelta(seconds=rng.uniform(60, max(120.0, (now - joined).total_seconds() - 60)))
                       for _ in range(count))
        for at in times:
            at = _shop_hours(at, rng)
            if at <= joined:             # the shop's hours moved it before the sign-up
                at = joined + timedelta(minutes=rng.randint(5, 90))
            if at >= now:
                continue
            event, order = maker.order(person, at)
            out.append((at, event))
            if rng.random() < 0.05:
                back = at + timedelta(hours=rng.uniform(1, 72))
                if back < now:
                    out.append((back, maker.refund(order, back, full=rng.random() < 0.5)))
    out.sort(key=lambda pair: pair[0])
    return [event for _t, event in out]


def _poisson(rng: random.Random, lam: float) -> int:
    """Knuth's method: a small mean, a handful of draws."""
    import math

    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def _shop_hours(at: datetime, rng: random.Random) -> datetime:
    """Move a time into the shop's day (09:00–22:00 Beijing time), most orders around noon and evening."""
    local = at.astimezone(TZ)
    hour = rng.choice((10, 11, 12, 12, 13, 14, 15, 16, 17, 18, 18, 19, 19, 20, 21))
    return local.replace(hour=hour, minute=rng.randint(0, 59), second=rng.randint(0, 59))


# --------------------------------------------------------------------------- seeding


def demo_menu() -> list[tuple[str, str, int]]:
    """The demo menu's SKUs (portal.campaigns.demo) as (code, name, list price in fen)."""
    from portal.goods.models import Product, Sku

    rows = db.session.execute(select(Sku.code, Product.name, Sku.spec, Sku.list_price)
                              .join(Product, Product.id == Sku.product_id).order_by(Sku.code)).all()
    return [(code, f"{name}（{(spec or {}).get('规格', '')}）" if spec else name, price)
            for code, name, spec, price in rows]


def pick_stores(limit: int = MEMBER_STORES) -> list:
    """Up to ``limit`` stores that get members: 上海区's active stores first (three quarters of
    the places, by code: the demo owner's store is the first), then one active store in
    ``SAMPLE_EVERY`` elsewhere."""
    from portal.org import roles
    from portal.org.models import OrgNode, Store

    sh = db.session.scalar(select(OrgNode).where(OrgNode.code == "R-SH"))
    active = db.session.scalars(select(Store).where(Store.status == roles.STORE_ACTIVE).order_by(Store.code)).all()
    others = [s for s in active if sh is None or s.node_id != sh.id][::SAMPLE_EVERY]
    mine = [s for s in active if sh is not None and s.node_id == sh.id][:max(1, limit - min(len(others), limit // 4))]
    return mine + others[:max(0, limit - len(mine))]


def seed_guides(stores: list, rng: random.Random) -> dict[int, list[str]]:
    """2–4 guides per store, one multi-row INSERT. Returns guide codes by store id."""
    from portal.members.models import Guide
    from portal.org.demo import _person

    rows, codes = [], {}
    for store in stores:
        codes[store.id] = [f"DG{k:02d}" for k in range(1, rng.randint(2, 4) + 1)]
        for code in codes[store.id]:
            rows.append({"store_id": store.id, "code": code, "name": _person(rng),
                         "phone_masked": f"1{rng.choice('3589')}{rng.randint(0, 9)}****{rng.randint(0, 9999):04d}"})
    if rows:
        db.session.execute(insert(Guide), rows)
    return codes


def seed_plan(hq, stores: list, now: datetime):
    """The demo's distribution plan, published and pushed (mandatory) to ``stores``."""
    from portal.campaigns import services as campaigns
    from portal.campaigns.models import Campaign
    from portal.org.scope import scope_for
    from portal.pushes.services import create_push, run_push
    from portal.targets.services import TargetSpec

    existing = db.session.scalar(select(Campaign).where(Campaign.kind == "distribution"))
    if existing is not None:
        return existing
    scope = scope_for(hq)
    plan = campaigns.create_campaign(scope, "distribution", PLAN_NAME, dict(PLAN_RULES),
                                     now - timedelta(days=DAYS + 10), now + timedelta(days=245), actor=hq)
    campaigns.publish_campaign(scope, plan, actor=hq)
    push = create_push(scope, "campaign", plan.id, plan.name, TargetSpec(store_ids=[s.id for s in stores]),
                       actor=hq, target_label="上海区及抽样门店")
    db.session.info.pop("after_commit_jobs", None)
    db.session.commit()
    run_push(push.id)
    return db.session.get(Campaign, plan.id)


class DemoRejected(RuntimeError):
    """The real handlers refused demo events: the demo and the handlers disagree on the contract."""


def seed_members_and_orders(hq, *, stores: int = MEMBER_STORES, now: datetime | None = None,
                            seed: int = SEED) -> dict:
    """Guides, members, orders and refunds for the demo brand through the real ingestion path,
    then RFM. Flushes; the caller commits. Returns what was applied, for printing."""
    from portal.campaigns.models import JOINED, PUBLISHED, Campaign, CampaignStore
    from portal.ingest.services import ingest
    from portal.kernel.time import utcnow
    from portal.org.models import Store, User

    now = now or utcnow()
    rng = random.Random(seed)
    stores = pick_stores(stores)
    if not stores:
        return {"stores": 0}
    owner = db.session.scalar(select(User).where(User.username == "owner"))
    owner_store = db.session.get(Store, owner.store_id) if owner and owner.store_id else None
    plan = seed_plan(hq, stores, now)
    # The demo's coupon campaign, where a store joined it (the owner's): its orders since it began
    # may carry it (the order handler refuses a campaign not running in the store at payment).
    coupon = db.session.execute(
        select(Campaign.id, Campaign.starts_at).join(CampaignStore, CampaignStore.campaign_id == Campaign.id)
        .where(Campaign.kind == "coupon", Campaign.status == PUBLISHED, CampaignStore.status == JOINED)
        .order_by(Campaign.id).limit(1)).first()
    coupon_stores = set(db.session.scalars(select(CampaignStore.store_id).where(
        CampaignStore.campaign_id == coupon.id, CampaignStore.status == JOINED))) if coupon else set()
    guides = seed_guides(stores, rng)
    menu = demo_menu()
    if not menu:
        raise RuntimeError("the demo menu is missing: seed the goods first")
    # People known in two mini-programs: they sign up in the owner's store and in its neighbour
    # (the next 上海区 store), under one unionid.
    twin_store = next((s for s in stores if owner_store and s.id != owner_store.id
                       and s.node_id == owner_store.node_id), None)
    twins = [(f"o-{owner_store.code if owner_store else 'x'}-u{k}", f"un-demo-{k}") for k in range(1, 6)]

    statuses: Counter = Counter()
    errors: list = []
    for store in stores:
        mine = owner_store is not None and store.id == owner_store.id
        joined = coupon is not None and store.id in coupon_stores
        maker = EventMaker(random.Random(rng.random()), store.code, menu, guides[store.id], plan.id,
                           coupon.id if joined else None, coupon.starts_at if joined else None)
        members = OWNER_MEMBERS if mine else rng.randint(4, 12)
        here = twins if mine else ([(f"o-{store.code}-u{k}", u) for k, (_o, u) in enumerate(twins, 1)]
                                   if twin_store is not None and store.id == twin_store.id else [])
        events = store_history(maker, now, members, twins=here)
        for start in range(0, len(events), BATCH):
            for result in ingest(store, events[start:start + BATCH]):
                statuses[result["status"]] += 1
                if result["status"] == "rejected" and len(errors) < 5:
                    errors.append((store.code, result))
    if errors:
        raise DemoRejected(f"{statuses['rejected']} demo events were rejected, e.g. {errors}")
    db.session.flush()
    rfm = _recompute_rfm()
    tiers = seed_tiers()
    return {"stores": len(stores), "plan_id": plan.id, "events": sum(statuses.values()), **statuses, "rfm": rfm,
            "tiered": tiers}


DEMO_TIERS = (("银卡会员", 1, 20_000), ("金卡会员", 2, 60_000), ("钻石会员", 3, 150_000))


def seed_tiers() -> int:
    """The brand's member tiers (by net spend: ¥200, ¥600, ¥1,500), if it has none, and every
    member's tier from their orders, as the nightly recompute gives them. How many got one."""
    from portal.members.audiences import assign_tiers
    from portal.members.models import MemberTier

    if db.session.scalar(select(MemberTier.id).limit(1)) is None:
        db.session.add_all([MemberTier(name=n, rank=r, min_spent_fen=f) for n, r, f in DEMO_TIERS])
        db.session.flush()
    return assign_tiers()


def _recompute_rfm():
    import importlib.util

    if importlib.util.find_spec("portal.members.rfm") is None:
        return None
    from portal.members import rfm

    return rfm.recompute()


DOMAINS = ("portal.members", "portal.orders", "portal.ingest")


def wipe() -> None:
    """Delete every row of the members, orders and ingest domains (``seed-demo --reset``): the
    tables of their models and every table that points at one of them (tags, groups, statements,
    RFM runs …, whichever part of the issue made them), children first, self-references cut."""
    from sqlalchemy import delete, update

    tables = {m.local_table for m in db.Model.registry.mappers if m.class_.__module__.startswith(DOMAINS)}
    grew = True
    while grew:
        extra = {t for t in db.metadata.sorted_tables if t not in tables
                 and any(fk.column.table in tables for fk in t.foreign_keys)}
        tables |= extra
        grew = bool(extra)
    for table in tables:
        selfref = {fk.parent.name: None for fk in table.foreign_keys if fk.column.table is table}
        if selfref:
            db.session.execute(update(table).values(**selfref))
    for table in reversed(db.metadata.sorted_tables):
        if table in tables:
            db.session.execute(delete(table))


__all__ = ["EventMaker", "seed_members_and_orders", "store_history", "wipe"]
