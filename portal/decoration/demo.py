"""Demo content for decoration: used by `flask seed-demo` and the screenshots."""
from __future__ import annotations


def seed_decoration(hq) -> None:
    """A home page template, published and pushed to 上海区; the demo owner customizes its notice."""
    from sqlalchemy import select

    from portal.decoration import services as deco
    from portal.extensions import db
    from portal.org.models import OrgNode, User
    from portal.org.scope import scope_for
    from portal.pushes.services import create_push, run_push
    from portal.targets.services import TargetSpec

    scope = scope_for(hq)
    template = deco.create_template(scope, "夏季首页", actor=hq)
    content = {
        "banner": {
            "slides": [
                {"image": "/static/img/sample-banner.svg", "title": "夏日新品", "link": "/pages/goods/index"},
                {"image": "/static/img/sample-banner.svg", "title": "", "link": ""},
            ],
            "interval": 4,
        },
        "notice": {"text": "会员日每周三：全场饮品第二杯半价，积分翻倍", "link": "/pages/member/index"},
        "live_entry": {"title": "店长直播 · 夏日新品试饮", "show": "always", "style": "card"},
        "coupon_strip": {"title": "领券中心", "source": "auto", "coupons": "", "limit": 3},
        "goods_grid": {
            "title": "人气推荐",
            "source": "category",
            "category": "招牌",
            "goods": "",
            "columns": 2,
            "limit": 4,
        },
        "image_hotspot": {
            "image": "/static/img/sample-hotspot.svg",
            "hotspots": [
                {"x": 0, "y": 0, "w": 50, "h": 100, "link": "/pages/goods/index?cat=tea"},
                {"x": 50, "y": 0, "w": 50, "h": 100, "link": "/pages/goods/index?cat=food"},
            ],
        },
        "store_card": {"show_address": True, "show_map": True, "show_phone": True, "hours": "09:00-22:00"},
        "rich_text": {"title": "品牌故事", "body": "每一杯都用当季鲜果现做。\n从产地到门店，冷链直送，不隔夜。"},
    }
    keys = {}
    for block_type, data in content.items():
        block = deco.add_block(scope, template, block_type, actor=hq)
        keys[block_type] = block["key"]
        editable = block_type in ("notice", "store_card", "rich_text", "coupon_strip")
        deco.update_block(scope, template, block["key"], data, not editable, actor=hq)
    version = deco.publish(scope, template, "夏季上新", actor=hq)
    sh = db.session.scalar(select(OrgNode).where(OrgNode.code == "R-SH"))
    push = create_push(scope, "template", version.id, f"{template.name} v{version.number}",
                TargetSpec(node_ids=[sh.id]), actor=hq, target_label="上海区")
    # Run it here, whatever the job backend: a command-line seed must not leave it to a thread.
    db.session.info.pop("after_commit_jobs", None)
    db.session.commit()
    run_push(push.id)
    owner = db.session.scalar(select(User).where(User.username == "owner"))
    deco.save_override(scope_for(owner), owner.store, keys["notice"],
                       {"text": "本店周三会员日：满 50 减 10，到店自取再送小料", "link": ""}, actor=owner)
