"""Every page that lists rows runs the same number of SQL statements whatever its number of rows.

Each case renders its page with N rows, adds 2N more (3N in all) and renders it again: the
statement count (tests/factories.sql_log) must not move. A page that loads each row's node,
store or count one by one fails here (issue 8, point 4)."""
from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from portal.audit import services as audit
from portal.extensions import db
from portal.org import roles
from portal.org.scope import scope_for
from portal.targets.models import Target
from tests import factories
from tests.conftest import login

N = 3


@dataclass
class Case:
    role: str
    url: Callable                        # (org, state) -> url
    add: Callable                        # (org, state, n) -> a text the page then shows; state: a dict
                                         # of the test's own (ids the url needs)


def _hq(org):
    return org.users["hq"]


# --------------------------------------------------------------------------- what each page lists

def _users(org, st, n):
    for _ in range(n):
        i = next(factories._seq)
        store = factories.make_store(org.nodes["r_sh"])
        factories.make_user(f"owner_q{i}", roles.STORE_OWNER, store)
        factories.make_user(f"manager_q{i}", roles.REGIONAL_MANAGER, org.nodes["r_js"])
    return f"owner_q{i}"


def _stores(org, st, n):
    for _ in range(n):
        store = factories.make_store(org.nodes["r_sh"], tags=[f"标签{next(factories._seq)}"])
    return store.code


def _picked_stores(org, st, n):
    """A saved target whose picked stores (chips) and tree (regions with counts) grow."""
    from portal.targets import services as targets

    hq, scope = _hq(org), scope_for(_hq(org))
    picked = st.setdefault("picked", [])
    for _ in range(n):
        i = next(factories._seq)
        region = factories.make_node(org.nodes["east"], roles.REGION, f"R-P{i}", f"区域{i}")
        picked.append(factories.make_store(region, f"PK{i}", name=f"选中门店{i}").id)
    target = targets.save_target(scope, "选中的门店", targets.TargetSpec(store_ids=picked), actor=hq,
                                 target=db.session.get(Target, st["target"]) if "target" in st else None)
    st["target"] = target.id
    return f"选中门店{i}"


def _nodes(org, st, n):
    for _ in range(n):
        node = factories.make_node(org.nodes["east"], roles.REGION)
        factories.make_store(node)
        factories.make_user(f"m_q{node.id}", roles.REGIONAL_MANAGER, node)
    return node.name


def _targets(org, st, n):
    from portal.targets import services as targets

    hq, scope = _hq(org), scope_for(_hq(org))
    for _ in range(n):
        i = next(factories._seq)
        targets.save_target(scope, f"目标{i}", targets.TargetSpec(node_ids=[org.nodes["r_sh"].id], tags=["旗舰店"],
                                                                 store_codes=["GD001"], exclude_codes=["SH002"]),
                            actor=hq)
    return f"目标{i}"


def _version(org, st):
    if "version" not in st:
        st["template"], st["version"] = factories.make_template_version(_hq(org), "推送用模板")
    return st["version"]


def _pushes(org, st, n):
    from portal.pushes import services as pushes
    from portal.targets.services import TargetSpec

    version = _version(org, st)
    for _ in range(n):
        label = f"推送{next(factories._seq)}"
        pushes.create_push(scope_for(_hq(org)), "template", version.id, label, TargetSpec(everything=True),
                           actor=_hq(org))
        db.session.commit()
    return label


def _deliveries(org, st, n):
    """A new push to every store, after ``n`` more stores: its page lists one row per store."""
    for _ in range(n):
        store = factories.make_store(org.nodes["r_gd"], tags=["商场店"])
    _pushes(org, st, 1)
    from portal.pushes.models import Push
    st["push"] = db.session.scalar(db.select(Push.id).order_by(Push.id.desc()).limit(1))
    return store.code


def _delivered_in_region(org, st, n):
    """``_deliveries``, as the status card of the region's manager shows it: its stores' count."""
    from portal.org.models import Store
    from portal.pushes.models import Delivery

    _deliveries(org, st, n)
    delivered = db.session.scalar(
        db.select(db.func.count()).select_from(Delivery).join(Store, Store.id == Delivery.store_id)
        .where(Delivery.push_id == st["push"], Delivery.outcome == "delivered", Store.node_id == org.nodes["r_gd"].id))
    return f'data-count="delivered">{delivered}<'


def _templates(org, st, n):
    for _ in range(n):
        name = f"模板{next(factories._seq)}"
        factories.make_template_version(_hq(org), name)
    return name


def _template_versions(org, st, n):
    """More published versions of one template: the editor lists them with their store counts."""
    from portal.decoration import services as deco

    hq, scope = _hq(org), scope_for(_hq(org))
    template = st.setdefault("template", factories.make_template_version(hq, "多版本模板")[0])
    for _ in range(n):
        note = f"版本{next(factories._seq)}"
        deco.add_block(scope, template, "notice", actor=hq)
        deco.publish(scope, template, note, actor=hq)
    return note


def _products(org, st, n):
    for _ in range(n):
        product = factories.make_product(org.nodes["hq"])
    return product.code


def _pictures(org, st, n):
    """Pictures of HQ's and of 华东's image space (east_admin and sh1's owner see both)."""
    from portal.media.services import upload_image
    from portal.org.scope import Scope

    for i in range(n):
        node = org.nodes["hq" if i % 2 else "east"]
        picture = upload_image(Scope.of_path(node.path), factories.png_bytes(20, 20), f"图{next(factories._seq)}.png",
                               actor=_hq(org))
    return picture.name


def _assortments(org, st, n):
    from portal.assortments import services as shelf

    hq, scope = _hq(org), scope_for(_hq(org))
    for _ in range(n):
        a = shelf.create_assortment(scope, f"组合{next(factories._seq)}", actor=hq)
        shelf.add_items(scope, a, product_ids=[factories.make_product(org.nodes["hq"]).id], actor=hq)
    return a.name


def _assortment_items(org, st, n):
    from portal.assortments import services as shelf

    hq, scope = _hq(org), scope_for(_hq(org))
    if "assortment" not in st:
        st["assortment"] = shelf.create_assortment(scope, "商品组合", actor=hq).id
    from portal.assortments.models import Assortment
    a = db.session.get(Assortment, st["assortment"])
    products = [factories.make_product(org.nodes["hq"]) for _ in range(n)]
    shelf.add_items(scope, a, product_ids=[p.id for p in products], actor=hq)
    return products[-1].code


def _shelf(org, st, n):
    for _ in range(n):
        product = factories.make_product(org.stores["sh1"], skus=2)
    return product.name


def _campaign(org, **kw):
    from tests.campaigns.helpers import make_campaign
    return make_campaign(_hq(org), name=f"活动{next(factories._seq)}", **kw)


def _campaigns(org, st, n):
    for _ in range(n):
        c = _campaign(org)
    return c.name


def _participants(org, st, n):
    from portal.targets.services import TargetSpec
    from tests.campaigns.helpers import push

    for _ in range(n):
        store = factories.make_store(org.nodes["r_gd"])
    c = _campaign(org, participation="opt_in", deadline=2)
    push(_hq(org), c, TargetSpec(everything=True))
    st["campaign"] = c.id
    return store.code


def _region_campaigns(org, st, n):
    """HQ's campaigns pushed into 上海区, as its manager reads them (read access, issue 9)."""
    from portal.targets.services import TargetSpec
    from tests.campaigns.helpers import push

    for _ in range(n):
        c = _campaign(org)
        push(_hq(org), c, TargetSpec(store_codes=["SH001"]))
    return c.name


def _region_participants(org, st, n):
    from portal.targets.services import TargetSpec
    from tests.campaigns.helpers import push

    for _ in range(n):
        store = factories.make_store(org.nodes["r_sh"])
    c = _campaign(org, participation="opt_in", deadline=2)
    push(_hq(org), c, TargetSpec(everything=True))
    st["campaign"] = c.id
    return store.code


def _offers(org, st, n):
    from portal.targets.services import TargetSpec
    from tests.campaigns.helpers import push

    for i in range(n):
        c = _campaign(org, participation="opt_in" if i % 2 else "mandatory", deadline=2 if i % 2 else None)
        push(_hq(org), c, TargetSpec(store_codes=["SH001"]))
    return c.name


def _audit(org, st, n):
    for _ in range(n):
        store = factories.make_store(org.nodes["r_js"])
        audit.record(org.users["east_admin"], "store.create", "store", store.id, store.name, store.path)
    return store.name


def _store_page(org, st, n):
    """The store page lists the store's owners, its API keys and its history."""
    from portal.api.services import issue_key

    store = org.stores["sh1"]
    for _ in range(n):
        factories.make_user(f"owner_k{next(factories._seq)}", roles.STORE_OWNER, store)
        issue_key(store, actor=_hq(org))
        audit.record(_hq(org), "store.update", "store", store.id, store.name, store.path, {"changes": {}})
    return "owner_k"


def _push_form_targets(org, st, n):
    _version(org, st)
    return _targets(org, st, n)


def _campaign_push_targets(org, st, n):
    st.setdefault("campaign", _campaign(org).id)
    return _targets(org, st, n)


def _assortment_push_targets(org, st, n):
    if "assortment" not in st:
        _assortment_items(org, st, 1)
    return _targets(org, st, n)


def _my_page(org, st, n):
    """The store's page: more blocks in the version pushed to it, and more of its own edits."""
    from portal.decoration import services as deco
    from portal.pushes import services as pushes
    from portal.targets.services import TargetSpec

    hq, scope = _hq(org), scope_for(_hq(org))
    template = st.setdefault("template", factories.make_template_version(hq, "门店页")[0])
    for _ in range(n):
        block = deco.add_block(scope, template, "rich_text", actor=hq)
        deco.update_block(scope, template, block["key"], {"title": "标题", "body": "正文"}, False, actor=hq)
    version = deco.publish(scope, template, "", actor=hq)
    pushes.create_push(scope, "template", version.id, "门店页", TargetSpec(store_codes=["SH001"]), actor=hq)
    db.session.commit()
    return "正文"


def _my_page_goods(org, st, n):
    """The store's page with real data: more goods grids (each a category of the store's own goods),
    more goods in each, more coupons running in the store (issue 9, point 7)."""
    from portal.decoration import services as deco
    from portal.pushes import services as pushes
    from portal.targets.services import TargetSpec
    from tests.campaigns.helpers import push

    hq, scope = _hq(org), scope_for(_hq(org))
    template = st.setdefault("template", factories.make_template_version(hq, "实数据页")[0])
    for _ in range(n):
        i = next(factories._seq)
        for _k in range(2):
            factories.make_product(org.stores["sh1"], name=f"实物{i}", category=f"类{i}", skus=2)
        block = deco.add_block(scope, template, "goods_grid", actor=hq)
        deco.update_block(scope, template, block["key"], {"title": "", "source": "category", "category": f"类{i}",
                                                           "goods": "", "columns": 2, "limit": 4}, True, actor=hq)
        deco.add_block(scope, template, "coupon_strip", actor=hq)
        push(hq, _campaign(org), TargetSpec(store_codes=["SH001"]))
    version = deco.publish(scope, template, "", actor=hq)
    pushes.create_push(scope, "template", version.id, "实数据页", TargetSpec(store_codes=["SH001"]), actor=hq)
    db.session.commit()
    return f"实物{i}"


def _offer_goods(org, st, n):
    """The owner's campaign cards, each with its goods (pictures, list prices) read for all at once."""
    from portal.targets.services import TargetSpec
    from tests.campaigns.helpers import push

    for _ in range(n):
        product = factories.make_product(org.nodes["hq"], name=f"团品{next(factories._seq)}", skus=1,
                                         list_price=3000, floor=1000, ceiling=4000)
        c = _campaign(org, kind="group_buy", rules={"sku": product.skus[0].code, "group_size": 3, "price_fen": 1990,
                                                    "hours": 24})
        push(_hq(org), c, TargetSpec(store_codes=["SH001"]))
    return product.name


def _distributors(org, st, n):
    for _ in range(n):
        node = factories.make_node(org.nodes["hq"], roles.DISTRIBUTOR)
        factories.make_store(factories.make_node(node, roles.REGION))
        audit.record(_hq(org), "node.create", "node", node.id, node.name, node.path)
    return node.name


def _cities(org, st, n):
    for _ in range(n):
        city = f"城市{next(factories._seq)}"
        factories.make_store(org.nodes["r_sh"], city=city)
    return city


def _api(org, st):
    from portal.api.services import issue_key

    if "key" not in st:
        st["key"] = issue_key(org.stores["sh1"], actor=None)[1]
    return {"Authorization": f"Bearer {st['key']}"}


def _api_goods(org, st, n):
    _api(org, st)
    return _shelf(org, st, n)


def _api_campaigns(org, st, n):
    _api(org, st)
    from portal.targets.services import TargetSpec
    from tests.campaigns.helpers import push

    for _ in range(n):
        c = _campaign(org)
        push(_hq(org), c, TargetSpec(store_codes=["SH001"]))
    return c.name


def _api_page(org, st, n):
    _api(org, st)
    return _my_page(org, st, n)


def _version_blocks(org, st, n):
    from portal.decoration import services as deco

    hq, scope = _hq(org), scope_for(_hq(org))
    template = st.setdefault("template", factories.make_template_version(hq, "多块模板")[0])
    for _ in range(n):
        deco.add_block(scope, template, "store_card", actor=hq)
    st["version"] = deco.publish(scope, template, "", actor=hq)
    return "门店"


def _skus(org, st, n):
    from portal.goods.models import Product

    product = factories.make_product(org.nodes["hq"], skus=st.get("skus", 0) + n)
    st["skus"] = st.get("skus", 0) + n
    st["product"] = product.id
    assert db.session.get(Product, product.id)
    return f"{product.code}-{st['skus']}"


def _pictured_products(org, st, n):
    from portal.goods.models import ProductImage

    for _ in range(n):
        product = factories.make_product(org.nodes["hq"], category=f"品类{next(factories._seq)}")
        db.session.add(ProductImage(product_id=product.id, filename=f"{product.code}.png",
                                    thumb=f"{product.code}-t.png", position=0))
    db.session.flush()
    return product.skus[-1].code


def _sale_goods(org, st, n):
    """A flash sale of one more SKU each time: its draft's form and its page list every row."""
    from datetime import timedelta

    from portal.campaigns import services
    from portal.kernel.time import utcnow

    st["skus"] = st.get("skus", []) + [factories.make_product(org.nodes["hq"], skus=1).skus[0].code
                                       for _ in range(n)]
    now = utcnow()
    rules = {"items": [{"sku": c, "price_fen": 100, "quantity": 5} for c in st["skus"]],
             "sale_starts": now.isoformat(), "sale_ends": (now + timedelta(hours=2)).isoformat()}
    c = services.create_campaign(scope_for(_hq(org)), "flash_sale", "秒杀", rules, now, now + timedelta(days=1),
                                 actor=_hq(org))
    st["campaign"] = c.id
    return st["skus"][-1]


def _live_rooms(org, st, n):
    """More rooms of sh1 and broadcasts of 上海区 on the upcoming tab."""
    from tests.live.helpers import make_room

    for _ in range(n):
        i = next(factories._seq)
        make_room(org.users["owner1"], store=org.stores["sh1"], title=f"店播{i}")
        room = make_room(org.users["sh_manager"], node=org.nodes["r_sh"], title=f"区播{i}")
    return room.title


def _live_room_goods(org, st, n):
    """One room of sh1 showing more of the store's goods (with pictures), carried by more stores."""
    from portal.live import services
    from portal.live.models import LiveRoom
    from portal.org.models import Store
    from tests.live.helpers import make_room

    if "room" not in st:
        st["room"] = make_room(org.users["sh_manager"], node=org.nodes["r_sh"], title="区域联播").id
        st["products"] = []
    for _ in range(n):
        st["products"].append(factories.make_product(org.nodes["hq"]).id)
        factories.make_store(org.nodes["r_sh"])
    db.session.commit()
    room = db.session.get(LiveRoom, st["room"])
    codes = [s.code for s in db.session.query(Store).filter(Store.path.startswith(org.nodes["r_sh"].path))]
    services.update_room(scope_for(org.users["sh_manager"]), room, title=room.title, anchor=room.anchor,
                         start=room.scheduled_start, end=room.scheduled_end, product_ids=st["products"],
                         store_codes=codes, actor=org.users["sh_manager"])
    db.session.commit()
    return _product_name(st["products"][-1])


def _product_name(product_id: int) -> str:
    from portal.goods.models import Product

    return db.session.get(Product, product_id).name


CASES = {
    "overview (HQ, by distributor)": Case("hq", lambda org, st: "/", _distributors),
    "overview (region, by city)": Case("sh_manager", lambda org, st: "/", _cities),
    "users": Case("hq", lambda org, st: "/users", _users),
    "stores": Case("hq", lambda org, st: "/stores", _stores),
    "stores (htmx rows)": Case("hq", lambda org, st: ("/stores", "store-rows"), _stores),
    "org tree": Case("hq", lambda org, st: "/org", _nodes),
    "targets": Case("hq", lambda org, st: "/targets", _targets),
    "store picker dialog (htmx rows)": Case(
        "hq", lambda org, st: ("/targets/stores?pick_q=T&pick_dir=desc", "pick-rows"), _stores),
    "target form (org tree, picked stores)": Case("hq", lambda org, st: f"/targets/{st['target']}/edit",
                                                  _picked_stores),
    "pushes": Case("hq", lambda org, st: "/pushes", _pushes),
    "pushes (HQ's, read by a distributor)": Case("east_admin", lambda org, st: "/pushes", _pushes),
    "pushes (HQ's, read by a regional manager)": Case("sh_manager", lambda org, st: "/pushes", _pushes),
    "push deliveries": Case("hq", lambda org, st: f"/pushes/{st['push']}", _deliveries),
    "push deliveries (HQ's, read by a regional manager)": Case("gd_manager", lambda org, st: f"/pushes/{st['push']}",
                                                              _deliveries),
    "push progress poll (HQ's, read by a regional manager)": Case(
        "gd_manager", lambda org, st: (f"/pushes/{st['push']}/progress", "push-progress"), _delivered_in_region),
    "templates": Case("hq", lambda org, st: "/templates", _templates),
    "template editor versions": Case("hq", lambda org, st: f"/templates/{st['template'].id}", _template_versions),
    "goods library": Case("hq", lambda org, st: "/goods", _products),
    "goods picker (htmx rows, SKUs)": Case("hq", lambda org, st: ("/goods/picker?mode=skus", "goods-picker-rows"),
                                           _pictured_products),
    "goods picker (modal body)": Case("east_admin", lambda org, st: ("/goods/picker?mode=skus", True),
                                      _pictured_products),
    "flash sale form (SKU rows)": Case("hq", lambda org, st: f"/campaigns/{st['campaign']}/edit", _sale_goods),
    "flash sale page (SKU rows)": Case("hq", lambda org, st: f"/campaigns/{st['campaign']}", _sale_goods),
    "assortments": Case("hq", lambda org, st: "/assortments", _assortments),
    "assortment items": Case("hq", lambda org, st: f"/assortments/{st['assortment']}", _assortment_items),
    "store shelf (HQ)": Case("hq", lambda org, st: f"/stores/{org.stores['sh1'].id}/goods", _shelf),
    "store shelf (owner)": Case("owner1", lambda org, st: "/my/goods", _shelf),
    "campaigns": Case("hq", lambda org, st: "/campaigns", _campaigns),
    "campaign participants": Case("hq", lambda org, st: f"/campaigns/{st['campaign']}", _participants),
    "campaigns (regional manager, read-only)": Case("sh_manager", lambda org, st: "/campaigns", _region_campaigns),
    "campaign participants (regional manager)": Case("sh_manager", lambda org, st: f"/campaigns/{st['campaign']}",
                                                     _region_participants),
    "store owner's campaigns": Case("owner1", lambda org, st: "/my/campaigns", _offers),
    "store owner's page": Case("owner1", lambda org, st: "/my/page", _my_page),
    "store owner's page (real goods and coupons)": Case("owner1", lambda org, st: "/my/page", _my_page_goods),
    "store owner's campaigns (their goods)": Case("owner1", lambda org, st: "/my/campaigns", _offer_goods),
    "audit log": Case("hq", lambda org, st: "/audit", _audit),
    "store page (owners, API keys, history)": Case("hq", lambda org, st: f"/stores/{org.stores['sh1'].id}",
                                                   _store_page),
    "a store's page (HQ's view)": Case("hq", lambda org, st: f"/stores/{org.stores['sh1'].id}/page", _my_page),
    "template version": Case("hq", lambda org, st: f"/templates/{st['template'].id}/versions/{st['version'].number}",
                             _version_blocks),
    "product form (SKUs)": Case("hq", lambda org, st: f"/goods/{st['product']}", _skus),
    "API: store goods": Case("hq", lambda org, st: ("/api/v1/stores/SH001/goods", "api"), _api_goods),
    "API: store campaigns": Case("hq", lambda org, st: ("/api/v1/stores/SH001/campaigns", "api"), _api_campaigns),
    "API: store page": Case("hq", lambda org, st: ("/api/v1/stores/SH001/page", "api"), _api_page),
    "template push form (saved targets)": Case(
        "hq", lambda org, st: f"/templates/{st['template'].id}/versions/{st['version'].number}/push",
        _push_form_targets),
    "campaign push form (saved targets)": Case("hq", lambda org, st: f"/campaigns/{st['campaign']}/push",
                                               _campaign_push_targets),
    "assortment push form (saved targets)": Case("hq", lambda org, st: f"/assortments/{st['assortment']}/push",
                                                 _assortment_push_targets),
    "image space": Case("east_admin", lambda org, st: "/media", _pictures),
    "image picker (owner)": Case("owner1", lambda org, st: "/media/picker", _pictures),
    "link picker: goods": Case("hq", lambda org, st: "/links/picker?tab=goods", _products),
    "live rooms (owner)": Case("owner1", lambda org, st: "/live", _live_rooms),
    "live rooms (regional manager)": Case("sh_manager", lambda org, st: "/live", _live_rooms),
    "live rooms (htmx rows)": Case("east_admin", lambda org, st: ("/live", "room-rows"), _live_rooms),
    "live room page (goods, carrying stores)": Case("sh_manager", lambda org, st: f"/live/{st['room']}",
                                                    _live_room_goods),
    "live room form (goods)": Case("sh_manager", lambda org, st: f"/live/{st['room']}/edit", _live_room_goods),
}


def _statements(client, url, state) -> tuple[int, str]:
    url, target = url if isinstance(url, tuple) else (url, False)
    headers = {}
    if target == "api":
        target, headers = False, {"Authorization": f"Bearer {state['key']}"}
    with factories.sql_log() as statements:
        r = client.get(url, hx=target, headers=headers)
    assert r.status_code == 200, (url, r.status_code)
    body = json.dumps(r.get_json(), ensure_ascii=False) if r.is_json else r.get_data(as_text=True)
    return len(statements), body


@pytest.mark.parametrize("name", CASES)
def test_a_list_page_runs_as_many_statements_for_3n_rows_as_for_n(name, client, org):
    case, state = CASES[name], {}
    shown = case.add(org, state, N)
    db.session.commit()
    login(client, org.users[case.role].username)
    url = case.url(org, state)
    _statements(client, url, state)                          # anything cached per process is cached
    few, html = _statements(client, url, state)
    assert shown in html
    shown = case.add(org, state, 2 * N)
    db.session.commit()
    url = case.url(org, state)
    _, html = _statements(client, url, state)                # the new rows dropped what was cached
    assert shown in html                                        # the new rows are on the page
    many, html = _statements(client, url, state)
    assert many == few, f"{name}: {few} statements with {N} rows, {many} with {3 * N}"


@pytest.mark.parametrize("name", [n for n in CASES if "push form" in n])
def test_a_push_form_reads_the_saved_targets_once(name, client, org):
    case, state = CASES[name], {}
    case.add(org, state, N)
    db.session.commit()
    login(client, org.users[case.role].username)
    url = case.url(org, state)
    with factories.sql_log() as statements:
        assert client.get(url).status_code == 200
    assert len([s for s in statements if "FROM targets" in s]) == 1
