"""Factories that build real rows. Nothing here mocks the database or our own code."""
from __future__ import annotations

import itertools
from contextlib import contextmanager
from dataclasses import dataclass, field

from portal.extensions import db
from portal.org import roles
from portal.org.models import OrgNode, Store, User
from portal.org.services import hash_password, set_store_tags

PASSWORD = "correct-horse-9"
_seq = itertools.count(1)


def make_node(parent: OrgNode | None, kind: str, code: str | None = None, name: str | None = None) -> OrgNode:
    n = next(_seq)
    node = OrgNode(kind=kind, code=code or f"{kind[:1].upper()}{n:04d}", name=name or f"{kind} {n}",
                   parent_id=parent.id if parent else None, path="", depth=(parent.depth + 1) if parent else 0)
    db.session.add(node)
    db.session.flush()
    node.path = f"{parent.path if parent else '/'}{node.id}/"
    db.session.flush()
    return node


def make_store(node: OrgNode, code: str | None = None, tags: list[str] | None = None, **kw) -> Store:
    n = next(_seq)
    values = dict(name=f"测试门店{n}", city="上海", address=f"人民路{n}号", status=roles.STORE_ACTIVE,
                  appid="", owner_name="", owner_phone="")
    values.update(kw)
    store = Store(code=code or f"T{n:05d}", node_id=node.id, path=node.path, **values)
    db.session.add(store)
    db.session.flush()
    if tags:
        set_store_tags({store.id: tags})
    return store


def make_user(username: str, role: str, place: OrgNode | Store, password: str = PASSWORD, **kw) -> User:
    user = User(username=username, role=role, password_hash=hash_password(password),
                display_name=kw.pop("display_name", username), **kw)
    if isinstance(place, Store):
        user.store_id = place.id
    else:
        user.node_id = place.id
    db.session.add(user)
    db.session.flush()
    return user


@dataclass
class World:
    nodes: dict[str, OrgNode] = field(default_factory=dict)
    stores: dict[str, Store] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)


def make_world() -> World:
    """
    HQ
    ├── east (distributor)            users: east_admin
    │   ├── r_sh (region)             users: sh_manager     stores: sh1 (owner1), sh2
    │   └── r_js (region)                                   stores: js1
    └── south (distributor)           users: south_admin    stores: south_direct (hangs on the distributor)
        └── r_gd (region)             users: gd_manager     stores: gd1 (owner_gd)
    """
    w = World()
    hq = w.nodes["hq"] = make_node(None, roles.HQ, "HQ", "品牌总部")
    east = w.nodes["east"] = make_node(hq, roles.DISTRIBUTOR, "D-EAST", "华东经销商")
    south = w.nodes["south"] = make_node(hq, roles.DISTRIBUTOR, "D-SOUTH", "华南经销商")
    w.nodes["r_sh"] = make_node(east, roles.REGION, "R-SH", "上海区")
    w.nodes["r_js"] = make_node(east, roles.REGION, "R-JS", "江苏区")
    w.nodes["r_gd"] = make_node(south, roles.REGION, "R-GD", "广东区")
    w.stores["sh1"] = make_store(w.nodes["r_sh"], "SH001", name="上海南京路店", city="上海", tags=["旗舰店"])
    w.stores["sh2"] = make_store(w.nodes["r_sh"], "SH002", name="上海徐家汇店", city="上海")
    w.stores["js1"] = make_store(w.nodes["r_js"], "JS001", name="南京新街口店", city="南京")
    w.stores["gd1"] = make_store(w.nodes["r_gd"], "GD001", name="广州天河店", city="广州", tags=["商场店"])
    w.stores["south_direct"] = make_store(south, "SO001", name="深圳直属店", city="深圳")
    w.users["hq"] = make_user("hq", roles.HQ_ADMIN, hq)
    w.users["east_admin"] = make_user("east_admin", roles.DISTRIBUTOR_ADMIN, east)
    w.users["south_admin"] = make_user("south_admin", roles.DISTRIBUTOR_ADMIN, south)
    w.users["sh_manager"] = make_user("sh_manager", roles.REGIONAL_MANAGER, w.nodes["r_sh"])
    w.users["gd_manager"] = make_user("gd_manager", roles.REGIONAL_MANAGER, w.nodes["r_gd"])
    w.users["owner1"] = make_user("owner1", roles.STORE_OWNER, w.stores["sh1"])
    w.users["owner_gd"] = make_user("owner_gd", roles.STORE_OWNER, w.stores["gd1"])
    return w


def make_template_version(scope_user: User, name: str = "春季首页", blocks: list[dict] | None = None):
    """A template with one published version, built through the services."""
    from portal.decoration import services as deco
    from portal.org.scope import scope_for

    scope = scope_for(scope_user)
    template = deco.create_template(scope, name, actor=scope_user)
    if blocks is None:
        deco.add_block(scope, template, "banner", actor=scope_user)
        notice = deco.add_block(scope, template, "notice", actor=scope_user)
        deco.set_locked(scope, template, notice["key"], False, actor=scope_user)
    else:
        template.draft = blocks
    version = deco.publish(scope, template, "", actor=scope_user)
    db.session.flush()
    return template, version


def make_product(owner: OrgNode | Store, code: str | None = None, *, name: str | None = None,
                 category: str = "饮品", skus: int = 2, list_price: int = 1000, floor: int = 800,
                 ceiling: int = 1500, **kw):
    """A product with ``skus`` SKUs (prices in fen), owned by an org node (HQ's catalog) or by a
    store (the store's own local goods)."""
    from portal.goods.models import Product, Sku

    n = next(_seq)
    code = code or f"P{n:05d}"
    product = Product(code=code, name=name or f"商品{n}", category=category, path=owner.path,
                      store_id=owner.id if isinstance(owner, Store) else None, **kw)
    product.skus = [Sku(code=f"{code}-{i + 1}", spec={"规格": f"规格{i + 1}"}, list_price=list_price,
                        price_floor=floor, price_ceiling=ceiling) for i in range(skus)]
    db.session.add(product)
    db.session.flush()
    return product


def png_bytes(width: int = 800, height: int = 600, fmt: str = "PNG") -> bytes:
    """A real picture, made with Pillow, for upload tests."""
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), (230, 120, 40)).save(out, format=fmt)
    return out.getvalue()


def age_heartbeat(push_id: int, seconds: int = 300) -> None:
    """Make a push's runner look dead: its last heartbeat was ``seconds`` ago (as after a crash)."""
    from datetime import timedelta

    from portal.kernel.time import utcnow
    from portal.pushes.models import Push

    db.session.execute(Push.__table__.update().where(Push.id == push_id)
                       .values(heartbeat_at=utcnow() - timedelta(seconds=seconds)))
    db.session.commit()


@contextmanager
def sql_log():
    """``with sql_log() as statements:`` — the SQL text of every statement run inside the block."""
    from sqlalchemy import event

    statements: list[str] = []

    def _seen(_conn, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", _seen)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", _seen)


@contextmanager
def just_before(sql_start: str, other):
    """``with just_before("UPDATE templates", lambda: other_client.post(...)):`` — ``other()`` (a
    second request, a job) runs once, to its commit, just before the first statement whose SQL
    starts with ``sql_start``: between the block's read and its write, as a second editor or a
    double click lands. It runs on connections of its own (a request gets its own app context,
    and so its own session). Yields what ``other()`` returned, once it ran."""
    from flask import current_app
    from sqlalchemy import event

    ran: list = []

    def _seen(_conn, _cursor, statement, *_args):
        if not ran and statement.lstrip().upper().startswith(sql_start.upper()):
            ran.append(None)
            with current_app.app_context():     # the other work's session is not the interrupted one
                ran[0] = other()

    event.listen(db.engine, "before_cursor_execute", _seen)
    try:
        yield ran
    finally:
        event.remove(db.engine, "before_cursor_execute", _seen)
    assert ran, f"no statement started with {sql_start!r}"


@contextmanager
def jobs_dropped():
    """``with jobs_dropped(): create_push(...)`` — what the block enqueues never runs, as if the
    process died before its job started; the block's writes are committed."""
    yield
    db.session.info.pop("after_commit_jobs", None)
    db.session.commit()


def make_assortment(owner: OrgNode, products, name: str = "春季新品"):
    """An assortment of ``products`` owned by ``owner``'s subtree, committed."""
    from portal.assortments.models import Assortment, AssortmentItem

    a = Assortment(name=name, path=owner.path)
    db.session.add(a)
    db.session.flush()
    db.session.add_all([AssortmentItem(assortment_id=a.id, product_id=p.id) for p in products])
    db.session.commit()
    return a


def make_guide(store: Store, code: str | None = None, name: str | None = None, **kw):
    """A guide (导购) of ``store``, as a row (the owner's page creates them through the service)."""
    from portal.members.models import Guide

    n = next(_seq)
    guide = Guide(store_id=store.id, code=code or f"G{n:04d}", name=name or f"导购{n}", **kw)
    db.session.add(guide)
    db.session.flush()
    return guide


def make_member(store: Store | None, nickname: str | None = None, *, openid: str | None = None,
                unionid: str | None = None, guide=None, **kw):
    """A member served by ``store`` (and ``guide``) with one identity in the store's mini-program,
    as rows, with the open binding the service relationship needs. No phone unless the caller
    gives ``phone_enc``/``phone_hash`` (the members services set them from a number)."""
    from portal.kernel.time import utcnow
    from portal.members.models import Member, MemberBinding, MemberIdentity, appid_of

    n = next(_seq)
    now = utcnow()
    member = Member(nickname=nickname or f"会员{n}", store_id=store.id if store else None,
                    path=store.path if store else "", guide_id=guide.id if guide else None,
                    bound_at=kw.pop("bound_at", now) if store else None, **kw)
    db.session.add(member)
    db.session.flush()
    db.session.add(MemberIdentity(member_id=member.id, store_id=store.id if store else None,
                                  appid=appid_of(store) if store else "store:none",
                                  openid=openid or f"o{n:08d}", unionid=unionid))
    if store:
        db.session.add(MemberBinding(member_id=member.id, store_id=store.id, guide_id=member.guide_id,
                                     cause="signup", started_at=member.bound_at))
    db.session.flush()
    return member


def make_order(store: Store, member, lines: list[tuple[str, int, int]] | None = None, *, number: str | None = None,
               **kw):
    """A paid order of ``member`` at ``store`` as rows, lines given as (sku code, quantity, unit fen).
    No ledger entries: orders reported through the ingestion API get those from the services."""
    from portal.kernel.time import utcnow
    from portal.orders.models import Order, OrderLine

    n = next(_seq)
    lines = lines or [("SKU1", 1, 9900)]
    goods = sum(q * u for _sku, q, u in lines)
    values = dict(goods_fen=goods, paid_fen=goods, paid_at=utcnow())
    values.update(kw)
    order = Order(store_id=store.id, path=store.path, number=number or f"NO{n:08d}", member_id=member.id, **values)
    db.session.add(order)
    db.session.flush()
    for no, (sku, q, u) in enumerate(lines, 1):
        db.session.add(OrderLine(order_id=order.id, line_no=no, sku_code=sku, quantity=q, unit_fen=u,
                                 paid_fen=q * u))
    db.session.flush()
    return order
