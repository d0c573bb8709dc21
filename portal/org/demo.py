"""A realistic demo brand: HQ, distributors, regions, thousands of stores with Chinese names.

Set-based: a brand of 10,000 stores is a handful of multi-row INSERTs. Also used by the
benchmarks to build data at full scale.
"""
from __future__ import annotations

import random

from sqlalchemy import insert, select

from portal.extensions import db
from portal.org import roles
from portal.org.models import OrgNode, Store, Tag, User, store_tags
from portal.org.services import hash_password

BRAND = "鲜果时光"
DEMO_PASSWORD = "demo-2026"

# distributor code, name, [(region code, region name, [cities])]
DISTRIBUTORS = [
    ("D-EAST", "华东经销商·沪杭贸易", [
        ("R-SH", "上海区", ["上海"]),
        ("R-JS", "江苏区", ["南京", "苏州", "无锡", "常州", "南通", "扬州"]),
        ("R-ZJ", "浙江区", ["杭州", "宁波", "温州", "绍兴", "嘉兴", "金华"]),
        ("R-AH", "安徽区", ["合肥", "芜湖", "蚌埠", "安庆"]),
    ]),
    ("D-SOUTH", "华南经销商·粤海商贸", [
        ("R-GD", "广东区", ["广州", "深圳", "佛山", "东莞", "珠海", "中山"]),
        ("R-FJ", "福建区", ["福州", "厦门", "泉州", "漳州"]),
        ("R-GX", "广西区", ["南宁", "柳州", "桂林"]),
        ("R-HN", "海南区", ["海口", "三亚"]),
    ]),
    ("D-NORTH", "华北经销商·京津供应链", [
        ("R-BJ", "北京区", ["北京"]),
        ("R-TJ", "天津区", ["天津"]),
        ("R-HB", "河北区", ["石家庄", "唐山", "保定", "廊坊"]),
        ("R-SD", "山东区", ["济南", "青岛", "烟台", "潍坊", "临沂"]),
    ]),
]
STREETS = ["人民路", "解放路", "中山路", "建设路", "南京路", "和平路", "新华路", "文化路", "胜利路",
           "长江路", "黄河路", "青年路", "学府路", "滨江大道", "世纪大道", "花园路", "朝阳路", "光明街",
           "东风路", "湖滨路", "科技路", "金融街", "商业街", "步行街"]
PLACES = ["万达广场", "万象城", "大悦城", "吾悦广场", "银泰城", "龙湖天街", "印象城", "凯德广场",
          "宝龙广场", "苏宁广场", "高铁站", "大学城", "体育中心", "中心医院", "步行街", "社区中心"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余于杜叶程魏苏吕丁任沈"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建文辉红玉兰飞鹏晨阳宇婷雪琳浩然思雨子涵欣怡佳慧"
TAGS = ["旗舰店", "社区店", "商场店", "交通枢纽", "校园店", "直营", "加盟", "新店", "24小时", "外卖重点"]


def _person(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def build_tree() -> dict[str, OrgNode]:
    """HQ, 3 distributors and 12 regions. Returns nodes by code."""
    hq = OrgNode(kind=roles.HQ, code="HQ", name=f"{BRAND}品牌总部", path="", depth=0)
    db.session.add(hq)
    db.session.flush()
    hq.path = f"/{hq.id}/"
    nodes = {"HQ": hq}
    for dcode, dname, regions in DISTRIBUTORS:
        d = OrgNode(kind=roles.DISTRIBUTOR, code=dcode, name=dname, parent_id=hq.id, path="", depth=1)
        db.session.add(d)
        db.session.flush()
        d.path = f"{hq.path}{d.id}/"
        nodes[dcode] = d
        for rcode, rname, _cities in regions:
            r = OrgNode(kind=roles.REGION, code=rcode, name=rname, parent_id=d.id, path="", depth=2)
            db.session.add(r)
            db.session.flush()
            r.path = f"{d.path}{r.id}/"
            nodes[rcode] = r
    db.session.flush()
    return nodes


def store_rows(n: int, nodes: dict[str, OrgNode], seed: int = 2026) -> tuple[list[dict], list[list[str]]]:
    rng = random.Random(seed)
    regions = [(nodes[rcode], cities) for _d, _n, regs in DISTRIBUTORS for rcode, _rn, cities in regs]
    weights = [len(c) + 2 for _r, c in regions]
    rows, tags = [], []
    used_names: set[str] = set()
    for i in range(1, n + 1):
        region, cities = rng.choices(regions, weights)[0]
        city = rng.choice(cities)
        place = rng.choice(PLACES + STREETS)
        name = f"{BRAND}·{city}{place}店"
        k = 2
        while name in used_names:
            name = f"{BRAND}·{city}{place}{k}号店"
            k += 1
        used_names.add(name)
        status = rng.choices(roles.STORE_STATUSES, (92, 5, 3))[0]
        rows.append({
            "code": f"S{i:06d}",
            "name": name,
            "city": city,
            "address": f"{city}市{rng.choice(STREETS)}{rng.randint(1, 999)}号{rng.choice(PLACES)}{rng.randint(1, 3)}层",
            "node_id": region.id,
            "path": region.path,
            "status": status,
            "appid": "wx" + "".join(rng.choice("0123456789abcdef") for _ in range(16)),
            "owner_name": _person(rng),
            "owner_phone": f"1{rng.choice('3456789')}{rng.randint(0, 999999999):09d}",
        })
        tags.append(rng.sample(TAGS, rng.choice((0, 1, 1, 2, 2, 3))))
    return rows, tags


def insert_stores(rows: list[dict], tags: list[list[str]]) -> None:
    db.session.execute(insert(Store), rows)
    tag_ids = {}
    for name in TAGS:
        tag_ids[name] = db.session.scalar(select(Tag.id).where(Tag.name == name)) or \
            db.session.execute(insert(Tag).values(name=name)).inserted_primary_key[0]
    ids = (
        dict(db.session.execute(select(Store.code, Store.id).where(Store.code.in_([r["code"] for r in rows]))).all())
        if len(rows) < 30000
        else dict(db.session.execute(select(Store.code, Store.id)).all())
    )
    links = [{"store_id": ids[r["code"]], "tag_id": tag_ids[t]} for r, ts in zip(rows, tags, strict=True) for t in ts]
    if links:
        db.session.execute(insert(store_tags), links)


def demo_users(nodes: dict[str, OrgNode]) -> list[tuple[str, str, str]]:
    """One user per role. Returns (username, role, where) for printing."""
    owner_store = db.session.scalar(
        select(Store).where(Store.node_id == nodes["R-SH"].id, Store.status == roles.STORE_ACTIVE).order_by(Store.code))
    pw = hash_password(DEMO_PASSWORD)
    specs = [
        ("hq", "总部管理员 陈静", roles.HQ_ADMIN, nodes["HQ"], None),
        ("east", "华东经销商 王伟", roles.DISTRIBUTOR_ADMIN, nodes["D-EAST"], None),
        ("shanghai", "上海区域经理 李娜", roles.REGIONAL_MANAGER, nodes["R-SH"], None),
        ("owner", f"店主 {owner_store.owner_name}", roles.STORE_OWNER, None, owner_store),
    ]
    out = []
    for username, display, role, node, store in specs:
        db.session.add(User(username=username, display_name=display, role=role, password_hash=pw,
                            node_id=node.id if node else None, store_id=store.id if store else None))
        out.append((username, role, (node or store).name))
    return out


def seed_demo(n_stores: int) -> list[tuple[str, str, str]]:
    """The tree, the stores and one user per role (``flask seed-demo`` adds the other domains'
    demo data on top: see ``portal.cli``)."""
    nodes = build_tree()
    rows, tags = store_rows(n_stores, nodes)
    insert_stores(rows, tags)
    return demo_users(nodes)


def is_empty() -> bool:
    return db.session.scalar(select(OrgNode.id).limit(1)) is None
