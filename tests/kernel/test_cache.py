"""Cached derived data (portal.kernel.cache) is dropped by any committed write to its tables,
whoever makes it: a page, a service's Core statement, a bare engine connection, another worker."""
from __future__ import annotations

import re

from sqlalchemy import insert, select, update

from portal.extensions import db
from portal.kernel import cache
from portal.org import services
from portal.org.models import OrgNode, Store, Tag, store_tags
from portal.org.scope import scope_for
from tests.conftest import login
from tests.factories import make_world, sql_log


def _filter_menu(client) -> tuple[list[str], list[str]]:
    html = client.get("/stores").get_data(as_text=True)
    node_menu = re.search(r'<select[^>]*name="node".*?</select>', html, re.S).group(0)
    tag_menu = re.search(r'<select[^>]*name="tag".*?</select>', html, re.S).group(0)
    return re.findall(r">([^<]+)</option>", node_menu), re.findall(r">([^<]+)</option>", tag_menu)


def test_the_store_list_menus_follow_the_org_tree_and_tags_at_once(client, org):
    login(client, "hq")
    nodes, tags = _filter_menu(client)
    assert not any("苏州区" in n for n in nodes) and "试点" not in tags
    with sql_log() as statements:
        client.get("/stores")
    assert not any("FROM tags" in s for s in statements), "the second page read the menus again"

    r = client.post("/org/nodes/new", data={"parent_id": org.nodes["east"].id, "kind": "region",
                                            "code": "R-SZ", "name": "苏州区"})
    assert r.status_code == 302
    assert any("苏州区" in n for n in _filter_menu(client)[0])

    client.post("/stores/bulk", data={"action": "tag", "tag": "试点", "ids": [str(org.stores["sh1"].id)]})
    assert "试点" in _filter_menu(client)[1]

    client.post(f"/org/nodes/{org.nodes['r_sh'].id}/edit", data={"action": "rename", "rename-name": "上海大区"})
    assert any("上海大区" in n for n in _filter_menu(client)[0])


def test_core_statements_and_bare_connections_drop_the_entry(app, org):
    scope = scope_for(org.users["hq"])
    assert "夜宵" not in services.store_filter_menus(scope)[1]

    tag_id = db.session.execute(insert(Tag).values(name="夜宵").returning(Tag.id)).scalar_one()
    db.session.execute(insert(store_tags).values(store_id=org.stores["sh1"].id, tag_id=tag_id))
    db.session.commit()
    assert "夜宵" in services.store_filter_menus(scope)[1]

    with db.engine.begin() as conn:          # outside the ORM session altogether
        conn.execute(update(OrgNode).where(OrgNode.id == org.nodes["r_gd"].id).values(name="广东大区"))
    assert any(n.name == "广东大区" for n in services.store_filter_menus(scope)[0])


def test_a_rolled_back_write_keeps_the_entry_and_reads_stay_cached(app, org):
    scope = scope_for(org.users["hq"])
    first = services.store_filter_menus(scope)
    version = cache._version(services.FILTER_MENUS)
    db.session.execute(update(Store).where(Store.id == org.stores["sh1"].id).values(city="苏州"))
    db.session.rollback()
    db.session.scalars(select(Store.id)).all()
    db.session.commit()                       # a commit with no write on the topic's tables
    assert cache._version(services.FILTER_MENUS) == version
    with sql_log() as statements:
        assert services.store_filter_menus(scope) == first
    assert statements == []


def test_scopes_are_cached_apart(app, org):
    hq, south = scope_for(org.users["hq"]), scope_for(org.users["south_admin"])
    everywhere = services.store_filter_menus(hq)[0]
    in_south = services.store_filter_menus(south)[0]
    assert {n.id for n in in_south} < {n.id for n in everywhere}
    assert org.nodes["r_sh"].id not in {n.id for n in in_south}


def test_on_redis_a_write_in_one_worker_drops_the_entry_in_another(app, make_app, redis_url):
    """Two apps on one Redis stand for two gunicorn workers: the second sees the first's change."""
    settings = dict(CACHE_TYPE="RedisCache", CACHE_REDIS_URL=redis_url,
                    CACHE_KEY_PREFIX=f"portal:test-cache:{id(make_app)}:")
    one, two = make_app(**settings), make_app(**settings)
    with one.app_context():
        db.session.remove()
        world = make_world()
        db.session.commit()
        hq_id, gd_id = world.users["hq"].id, world.nodes["r_gd"].id
    try:
        def names(app):
            with app.app_context():
                from portal.org.models import User

                scope = scope_for(db.session.get(User, hq_id))
                menus = [n.name for n in services.store_filter_menus(scope)[0]]
                db.session.remove()
                return menus

        before = names(two)                    # two reads and caches the menus
        assert "华南大区" not in before
        with two.app_context(), sql_log() as statements:
            from portal.org.models import User

            services.store_filter_menus(scope_for(db.session.get(User, hq_id)))
            db.session.remove()
        assert not any("UNION ALL" in s for s in statements), "two did not cache the menus"
        with one.app_context():
            db.session.execute(update(OrgNode).where(OrgNode.id == gd_id).values(name="华南大区"))
            db.session.commit()
        after = names(two)
        assert "华南大区" in after and after != before
    finally:
        with one.app_context():
            from portal.extensions import cache as flask_cache

            flask_cache.clear()
