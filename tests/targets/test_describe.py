"""A target described as people name it, for a push's history (targets.services.describe)."""
from flask_babel import force_locale

from portal.org.scope import scope_for
from portal.targets.services import TargetSpec, describe


def _describe(org, spec, locale="zh_Hans_CN", user="hq"):
    with force_locale(locale):
        return describe(scope_for(org.users[user]), spec)


def test_names_regions_tags_and_codes(app, org):
    n = org.nodes
    assert _describe(org, TargetSpec(everything=True)) == "全部门店"
    assert _describe(org, TargetSpec(node_ids=[n["r_sh"].id, n["r_js"].id])) == "上海区、江苏区"
    assert _describe(org, TargetSpec(node_ids=[n["r_sh"].id, n["r_js"].id, n["r_gd"].id, n["south"].id])) \
        == "3 个区域 · 1 个经销商"
    assert _describe(org, TargetSpec(node_ids=[n["r_sh"].id], tags=["旗舰店"])) == "上海区 · 标签 旗舰店"
    assert _describe(org, TargetSpec(everything=True, exclude_codes=["SH002"])) == "全部门店，排除 1 家门店"


def test_speaks_english_with_plurals(app, org):
    n = org.nodes
    spec = TargetSpec(node_ids=[n["r_sh"].id, n["r_js"].id, n["r_gd"].id], exclude_codes=["SH002"])
    assert _describe(org, spec, "en") == "3 regions, excluding 1 store"
    assert _describe(org, TargetSpec(store_codes=[f"X{i}" for i in range(12000)]), "en") == "12,000 stores"


def test_a_region_outside_the_scope_is_not_named(app, org):
    # east's admin naming 广东区 (south's): it reaches nothing, and its name is not shown.
    assert _describe(org, TargetSpec(node_ids=[org.nodes["r_gd"].id]), user="east_admin") == "无区域"
