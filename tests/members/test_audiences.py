"""Groups and segments as audiences: "reaches N members" for a saved filter, a fixed group and a
segment, through the scope; bulk tagging and grouping re-filtered through the scope."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.members import audiences
from portal.members.models import MemberGroup, MemberTag, member_group_members, member_tag_links
from portal.org.scope import scope_for
from tests.factories import make_member


@pytest.fixture
def crowd(org):
    sh1, sh2, js1, gd1 = (org.stores[k] for k in ("sh1", "sh2", "js1", "gd1"))
    rows = {
        "a": make_member(sh1, "甲", segment="important_value"),
        "b": make_member(sh1, "乙", segment="important_value"),
        "c": make_member(sh2, "丙", segment="new"),
        "d": make_member(js1, "丁", segment="important_value"),
        "e": make_member(gd1, "戊", segment="important_value"),
        "merged": make_member(sh1, "己", segment="important_value", status="merged"),
    }
    tag = MemberTag(name="复购")
    db.session.add(tag)
    db.session.commit()
    return {**rows, "tag": tag}


def _reach(user, spec) -> int:
    return audiences.reach(scope_for(user), spec)


def test_segment_audience_counts_active_members_in_scope(org, crowd):
    assert _reach(org.users["hq"], {"segment": "important_value"}) == 4
    assert _reach(org.users["east_admin"], {"segment": "important_value"}) == 3
    assert _reach(org.users["sh_manager"], {"segment": "important_value"}) == 2
    assert _reach(org.users["owner_gd"], {"segment": "important_value"}) == 1
    assert _reach(org.users["hq"], {"segment": "nonsense"}) == 0


def test_saved_filter_group_follows_its_conditions(org, crowd, login_as):
    client = login_as("east_admin")
    r = client.post("/members/groups/new", data={"name": "上海重要价值", "kind": "filter",
                                                  "segment": "important_value", "node": org.nodes["r_sh"].id})
    assert r.status_code == 303
    group = db.session.scalar(select(MemberGroup).where(MemberGroup.name == "上海重要价值"))
    assert group.path == org.nodes["east"].path
    assert _reach(org.users["east_admin"], {"group": group.id}) == 2
    make_member(org.stores["sh2"], "新来的", segment="important_value")
    db.session.commit()
    assert _reach(org.users["east_admin"], {"group": group.id}) == 3      # live, not a snapshot
    page = client.get("/members/groups").get_data(as_text=True)
    assert 'data-reach="3"' in page and "3 名会员" in page
    # Another distributor's admins do not see it, and its id reaches nobody for them.
    assert _reach(org.users["south_admin"], {"group": group.id}) == 0
    assert login_as("south_admin").get(f"/members/groups/{group.id}/edit").status_code == 404


def test_fixed_group_from_bulk_add_refiltered_through_scope(org, crowd, login_as):
    group = MemberGroup(name="直播邀约", kind="fixed", path=org.nodes["east"].path, spec={})
    db.session.add(group)
    db.session.commit()
    client = login_as("east_admin")
    ids = [str(crowd[k].id) for k in ("a", "c", "e", "merged")] + ["junk", "99999999999999"]
    r = client.post("/members/bulk", data={"action": "group", "group": group.id, "ids": ids, "filter": "q=x"})
    assert r.status_code == 303 and r.headers["Location"].endswith("/members?q=x")
    members = set(db.session.scalars(select(member_group_members.c.member_id)
                                     .where(member_group_members.c.group_id == group.id)))
    assert members == {crowd["a"].id, crowd["c"].id}         # not gd1's member, not the merged one
    assert _reach(org.users["east_admin"], {"group": group.id}) == 2
    assert _reach(org.users["sh_manager"], {"group": group.id}) == 0     # the group is east's, not the region's
    # Adding them again changes nothing; the list filtered by the group shows them.
    client.post("/members/bulk", data={"action": "group", "group": group.id, "ids": ids})
    assert db.session.scalar(select(func.count()).select_from(member_group_members)) == 2
    html = client.get(f"/members?group={group.id}").get_data(as_text=True)
    assert "甲" in html and "丙" in html and "丁" not in html
    client.post("/members/bulk", data={"action": "ungroup", "group": group.id, "ids": [str(crowd["a"].id)]})
    assert _reach(org.users["east_admin"], {"group": group.id}) == 1


def test_bulk_tag_refiltered_through_scope(org, crowd, login_as):
    client = login_as("owner1")
    ids = [str(crowd[k].id) for k in ("a", "b", "c", "e")]
    r = client.post("/members/bulk", data={"action": "tag", "tag": crowd["tag"].id, "ids": ids})
    assert r.status_code == 303
    tagged = set(db.session.scalars(select(member_tag_links.c.member_id)))
    assert tagged == {crowd["a"].id, crowd["b"].id}           # only sh1's own members
    page = client.get(f"/members?tag={crowd['tag'].id}").get_data(as_text=True)
    assert "甲" in page and "乙" in page
    client.post("/members/bulk", data={"action": "untag", "tag": crowd["tag"].id, "ids": ids[:1]})
    assert set(db.session.scalars(select(member_tag_links.c.member_id))) == {crowd["b"].id}


def test_owner_cannot_group_and_regional_manager_cannot_tag(org, crowd, login_as):
    group = MemberGroup(name="g", kind="fixed", path=org.nodes["east"].path, spec={})
    db.session.add(group)
    db.session.commit()
    login_as("owner1").post("/members/bulk", data={"action": "group", "group": group.id,
                                                    "ids": [str(crowd["a"].id)]})
    assert db.session.scalar(select(func.count()).select_from(member_group_members)) == 0
    r = login_as("sh_manager").post("/members/bulk", data={"action": "tag", "tag": crowd["tag"].id,
                                                           "ids": [str(crowd["a"].id)]})
    assert r.status_code == 403


def test_bulk_with_a_bad_tag_changes_nothing(org, crowd, login_as):
    client = login_as("hq")
    r = client.post("/members/bulk", data={"action": "tag", "tag": "nope", "ids": [str(crowd["a"].id)]},
                    follow_redirects=True)
    assert r.status_code == 200 and "请选择标签" in r.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(member_tag_links)) == 0


def test_group_form_bad_input_is_shown_beside_the_field(org, crowd, login_as):
    client = login_as("hq")
    r = client.post("/members/groups/new", data={"name": "", "kind": "filter", "segment": "important_value"})
    assert r.status_code == 422 and 'data-field="name"' in r.get_data(as_text=True)
    r = client.post("/members/groups/new", data={"name": "x", "kind": "filter", "tag": "abc"})
    assert r.status_code == 422 and 'data-field="tag"' in r.get_data(as_text=True)
    r = client.post("/members/groups/new", data={"name": "空条件", "kind": "filter"})
    assert r.status_code == 422 and 'data-field="segment"' in r.get_data(as_text=True)
    r = client.post("/members/groups/new", data={"name": "x", "kind": "weird"})
    assert r.status_code == 422
    assert db.session.scalar(select(func.count()).select_from(MemberGroup)) == 0


def test_group_preview_counts_as_the_filter_changes(org, crowd, login_as):
    client = login_as("east_admin")
    r = client.get("/members/groups/preview?kind=filter&segment=important_value", headers={"HX-Request": "true"})
    body = r.get_data(as_text=True)
    assert r.status_code == 200 and "<html" not in body and 'data-reach="3"' in body and "覆盖 3 名会员" in body
    r = client.get(f"/members/groups/preview?kind=filter&segment=important_value&node={org.nodes['r_js'].id}")
    assert 'data-reach="1"' in r.get_data(as_text=True)
    r = client.get("/members/groups/preview?kind=filter&tag=junk")
    assert r.status_code == 200 and 'data-reach=""' in r.get_data(as_text=True)


def test_save_the_lists_filter_as_a_group(org, crowd, login_as):
    client = login_as("hq")
    html = client.get("/members/groups/new?from=segment%3Dnew").get_data(as_text=True)
    assert re.search(r'<option selected value="new"|<option value="new" selected', html)
    assert 'data-reach="1"' in html


def test_segments_on_the_groups_page(org, crowd, login_as):
    html = login_as("east_admin").get("/members/groups").get_data(as_text=True)
    assert 'data-segment="important_value"' in html and "重要价值" in html
    assert html.count('data-reach="3"') == 1


def test_audience_members_is_a_select_for_other_domains(org, crowd):
    stmt = audiences.audience_members(scope_for(org.users["owner1"]), {"filter": {"segment": "important_value"}})
    assert set(db.session.scalars(stmt)) == {crowd["a"].id, crowd["b"].id}
    assert list(db.session.scalars(audiences.audience_members(scope_for(org.users["hq"]), {"group": "x"}))) == []


def test_group_form_as_a_browser_sends_it(org, crowd, login_as):
    """Every select sent, the blank ones as "" (what the page's "不限" options carry)."""
    client = login_as("hq")
    html = client.get("/members/groups/new").get_data(as_text=True)
    assert 'value="None"' not in html
    blank = {"q": "", "tag": "", "tier": "", "node": "", "store": ""}
    r = client.get("/members/groups/preview", query_string={**blank, "kind": "filter", "segment": "new"})
    assert 'data-reach="1"' in r.get_data(as_text=True)
    r = client.post("/members/groups/new", data={**blank, "name": "新客", "kind": "filter", "segment": "new"})
    assert r.status_code == 303
    assert db.session.scalar(select(MemberGroup.spec)) == {"segment": "new"}


def test_assign_tiers_from_net_spend(org, crowd):
    """The orders layer hands its net spend to assign_tiers: one UPDATE gives each member the best
    tier it reaches (refunds count against it), and none below the lowest threshold."""
    from portal.members.models import Member, MemberTier
    from tests.factories import make_order

    silver, gold = MemberTier(name="银卡", rank=1, min_spent_fen=50_000), MemberTier(name="金卡", rank=2,
                                                                                    min_spent_fen=200_000)
    db.session.add_all([silver, gold])
    make_order(org.stores["sh1"], crowd["a"], [("SKU1", 3, 100_000)])
    make_order(org.stores["sh1"], crowd["b"], [("SKU1", 1, 100_000)], refunded_fen=60_000, status="partly_refunded")
    make_order(org.stores["sh2"], crowd["c"], [("SKU1", 1, 60_000)])
    db.session.commit()
    assert audiences.assign_tiers() == 2
    db.session.expire_all()
    tiers = {k: db.session.get(Member, crowd[k].id).tier_id for k in ("a", "b", "c", "d")}
    assert tiers == {"a": gold.id, "b": None, "c": silver.id, "d": None}
    assert audiences.assign_tiers() == 0            # nothing moved
    # The tiers change: the thresholds are read again; a tier taken away is taken from its members.
    gold.min_spent_fen = 400_000
    db.session.commit()
    assert audiences.assign_tiers() == 1
    db.session.expire_all()
    assert db.session.get(Member, crowd["a"].id).tier_id == silver.id
    # A run for one store's scope moves its members only.
    gold.min_spent_fen = 55_000                      # a (300,000) and c (60,000) reach it
    db.session.commit()
    assert audiences.assign_tiers(scope=scope_for(org.users["owner1"])) == 1         # a, of sh1; not c
    db.session.expire_all()
    assert db.session.get(Member, crowd["a"].id).tier_id == gold.id
    assert db.session.get(Member, crowd["c"].id).tier_id == silver.id
