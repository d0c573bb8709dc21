"""Demo goods, an assortment pushed to every store and a demo campaign: used by `flask seed-demo`
and the screenshots (campaigns is the highest payload domain, so it may seed the others)."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from portal.extensions import db

MENU = {
    "招牌": ["杨枝甘露", "芝士葡萄", "满杯红柚", "多肉桃桃", "霸气芒果"],
    "果茶": ["柠檬绿茶", "百香果双响炮", "金桔柠檬", "西瓜啵啵", "草莓奶昔"],
    "轻食": ["牛角可颂", "芒果班戟", "榴莲千层", "抹茶蛋糕卷", "芝士贝果"],
}


def seed_goods_and_campaign(hq) -> None:
    """An HQ menu of 15 goods (大杯/中杯), an assortment pushed to every store, and a running
    opt-in coupon campaign pushed to 上海区 that the demo owner's store has joined."""
    from portal.assortments import services as assortments
    from portal.campaigns import services as campaigns
    from portal.campaigns.models import JOINED, CampaignStore
    from portal.goods import services as catalog
    from portal.kernel.time import utcnow
    from portal.org.models import OrgNode, User
    from portal.org.scope import scope_for
    from portal.pushes.services import create_push, run_push
    from portal.targets.services import TargetSpec

    scope = scope_for(hq)
    products = []
    n = 0
    for category, names in MENU.items():
        for name in names:
            n += 1
            base = 1500 + 100 * (n % 8)
            code = f"G{n:03d}"
            skus = [catalog.SkuData(code=f"{code}-L", spec={"规格": "大杯"}, list_price=base + 300,
                                    price_floor=base, price_ceiling=base + 800),
                    catalog.SkuData(code=f"{code}-M", spec={"规格": "中杯"}, list_price=base,
                                    price_floor=base - 300, price_ceiling=base + 500)]
            products.append(catalog.create_product(
                scope, {"code": code, "name": name, "category": category, "description": "",
                        "direct_sale": category == "轻食", "commission_rate": 800 if category == "轻食" else 0},
                skus, actor=hq))
    assortment = assortments.create_assortment(scope, "全国基础菜单", actor=hq)
    assortments.add_items(scope, assortment, product_ids=[p.id for p in products], actor=hq)
    push = create_push(scope, "goods", assortment.id, assortment.name, TargetSpec(everything=True),
                       actor=hq, target_label="全部门店")
    db.session.info.pop("after_commit_jobs", None)
    db.session.commit()
    run_push(push.id)

    now = utcnow()
    coupon = campaigns.create_campaign(
        scope,
        "coupon",
        "夏日满30减5",
        {
            "discount": "amount",
            "amount_fen": 500,
            "percent": None,
            "threshold_fen": 3000,
            "per_member": 2,
            "budget": 5000,
        },
        now - timedelta(days=1),
        now + timedelta(days=14),
        participation="opt_in",
        join_deadline=now + timedelta(days=7),
        actor=hq,
    )
    campaigns.publish_campaign(scope, coupon, actor=hq)
    sh = db.session.scalar(select(OrgNode).where(OrgNode.code == "R-SH"))
    push = create_push(scope, "campaign", coupon.id, coupon.name, TargetSpec(node_ids=[sh.id]), actor=hq,
                       target_label="上海区")
    db.session.info.pop("after_commit_jobs", None)
    db.session.commit()
    run_push(push.id)
    owner = db.session.scalar(select(User).where(User.username == "owner"))
    row = db.session.get(CampaignStore, (coupon.id, owner.store_id))
    if row is not None:
        row.status = JOINED
    db.session.commit()
