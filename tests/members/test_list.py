"""The member list: scope, search (nickname, last 4 digits, masked and full phone, id), each
filter, the htmx partial, bad input, the capped count."""
from __future__ import annotations

import pytest

from portal.extensions import db
from portal.kernel.crypto import keyed_hash
from portal.members.models import MemberTag, MemberTier, member_tag_links
from tests.factories import make_guide, make_member


def _phone(number: str) -> dict:
    return {"phone_hash": keyed_hash(number), "phone_masked": f"{number[:3]}****{number[-4:]}"}


@pytest.fixture
def people(org):
    sh1, sh2, gd1 = org.stores["sh1"], org.stores["sh2"], org.stores["gd1"]
    guide = make_guide(sh1, name="王导购")
    gold = MemberTier(name="金卡", rank=2, min_spent_fen=100_000)
    vip = MemberTag(name="高净值")
    db.session.add_all([gold, vip])
    db.session.flush()
    m = {
        "li": make_member(sh1, "李小龙", guide=guide, segment="important_value", tier_id=gold.id,
                          **_phone("13800001234")),
        "zhang": make_member(sh1, "张三丰", segment="new", **_phone("13900005678")),
        "wang": make_member(sh2, "王小二", segment="general_keep", **_phone("13700001234")),
        "gd": make_member(gd1, "广州陈生", segment="important_value", **_phone("13600009999")),
        "gone": make_member(sh1, "李已合并", status="merged"),
    }
    db.session.execute(member_tag_links.insert().values(member_id=m["zhang"].id, tag_id=vip.id))
    db.session.commit()
    return {**m, "guide": guide, "gold": gold, "vip": vip}


def _names(response) -> set[str]:
    html = response.get_data(as_text=True)
    return {n for n in ("李小龙", "张三丰", "王小二", "广州陈生", "李已合并") if n in html}


def test_owner_sees_only_own_stores_members(login_as, people):
    assert _names(login_as("owner1").get("/members")) == {"李小龙", "张三丰"}
    assert _names(login_as("owner_gd").get("/members")) == {"广州陈生"}


def test_region_distributor_and_hq_see_their_subtree(login_as, people):
    assert _names(login_as("sh_manager").get("/members")) == {"李小龙", "张三丰", "王小二"}
    assert _names(login_as("south_admin").get("/members")) == {"广州陈生"}
    assert _names(login_as("hq").get("/members")) == {"李小龙", "张三丰", "王小二", "广州陈生"}


@pytest.mark.parametrize("q,found", [
    ("李小龙", {"李小龙"}),
    ("小龙", set()),                          # one or two characters: the start of a nickname…
    ("李小", {"李小龙"}),
    ("小龙王", set()),
    ("三丰", set()),
    ("1234", {"李小龙", "王小二"}),            # the last four digits
    ("138****1234", {"李小龙"}),              # a masked number as shown
    ("13800001234", {"李小龙"}),              # a full number, by its keyed hash
    ("+86 138 0000 1234", {"李小龙"}),
    ("13800009999", set()),
    ("%", set()),                             # LIKE wildcards are text
])
def test_search(login_as, people, q, found):
    assert _names(login_as("hq").get("/members", query_string={"q": q})) == found


def test_owner_finds_any_part_of_a_short_nickname(login_as, people, org):
    """…but in one store's list any part matches (a store has a few hundred members)."""
    assert _names(login_as("owner1").get("/members", query_string={"q": "小龙"})) == {"李小龙"}
    assert _names(login_as("hq").get("/members", query_string={"q": "小龙", "store": org.stores["sh1"].id})) == \
        {"李小龙"}


def test_search_by_member_id(login_as, people):
    response = login_as("hq").get("/members", query_string={"q": str(people["wang"].id)})
    assert "王小二" in _names(response)


def test_search_never_reaches_outside_the_scope(login_as, people):
    assert _names(login_as("owner1").get("/members", query_string={"q": "13600009999"})) == set()
    assert _names(login_as("owner1").get("/members", query_string={"q": str(people["gd"].id)})) == set()


def test_filters(login_as, people, org):
    client = login_as("hq")
    assert _names(client.get("/members?segment=important_value")) == {"李小龙", "广州陈生"}
    assert _names(client.get(f"/members?tag={people['vip'].id}")) == {"张三丰"}
    assert _names(client.get(f"/members?tier={people['gold'].id}")) == {"李小龙"}
    assert _names(client.get(f"/members?store={org.stores['sh2'].id}")) == {"王小二"}
    assert _names(client.get(f"/members?guide={people['guide'].id}")) == {"李小龙"}
    assert _names(client.get(f"/members?node={org.nodes['r_gd'].id}")) == {"广州陈生"}
    assert _names(client.get(f"/members?node={org.nodes['r_sh'].id}&segment=new")) == {"张三丰"}


def test_filters_name_nothing_outside_the_scope(login_as, people, org):
    client = login_as("east_admin")
    assert _names(client.get(f"/members?node={org.nodes['r_gd'].id}")) == set()
    assert _names(client.get(f"/members?store={org.stores['gd1'].id}")) == set()


@pytest.mark.parametrize("args", [
    "segment=bogus", "tag=abc", "tier=-1", "store=99999999999999999999", "guide=%00", "page=999999",
    "sort=password", "node=1e9", "q=" + "长" * 500, "group=x", "page=-3",
])
def test_bad_filter_input_never_500(login_as, people, args):
    response = login_as("hq").get("/members?" + args)
    assert response.status_code == 200


def test_htmx_partial_and_full_page(login_as, people):
    client = login_as("hq")
    partial = client.get("/members?q=李小龙", headers={"HX-Request": "true", "HX-Target": "member-rows"})
    body = partial.get_data(as_text=True)
    assert partial.status_code == 200 and "<html" not in body and "李小龙" in body
    assert "HX-Request" in partial.headers["Vary"]
    full = client.get("/members?q=李小龙")
    assert "<html" in full.get_data(as_text=True) and "李小龙" in full.get_data(as_text=True)


def test_page_reads_chinese(login_as, people):
    html = login_as("hq").get("/members").get_data(as_text=True)
    assert "会员" in html and "重要价值" in html and "新客" in html


def test_capped_count(login_as, people, app, monkeypatch):
    from portal.members import audiences

    monkeypatch.setattr(audiences, "COUNT_CAP", 2)
    html = login_as("hq").get("/members").get_data(as_text=True)
    assert 'data-capped="1"' in html


def test_sort_oldest(login_as, people):
    html = login_as("owner1").get("/members?sort=oldest").get_data(as_text=True)
    assert html.index("李小龙") < html.index("张三丰")
    html = login_as("owner1").get("/members").get_data(as_text=True)
    assert html.index("张三丰") < html.index("李小龙")


def test_store_select_follows_the_region(login_as, people, org, monkeypatch):
    """Too many stores for one select: choose a region first; the rows' swap brings the region's
    stores out of band."""
    from portal.members import audiences

    monkeypatch.setattr(audiences, "STORE_SELECT_MAX", 2)
    client = login_as("hq")
    html = client.get("/members").get_data(as_text=True)
    assert 'id="member-store" name="store" class="form-select" disabled' in html
    r = client.get(f"/members?node={org.nodes['r_sh'].id}", headers={"HX-Request": "true", "HX-Target": "member-rows"})
    body = r.get_data(as_text=True)
    assert 'id="member-store-filter" hx-swap-oob="true"' in body
    oob = body.split("member-store-filter")[1]
    assert "上海南京路店" in oob and "上海徐家汇店" in oob and "disabled" not in oob[:400]


def test_save_as_group_link_carries_the_filter(login_as, people):
    client = login_as("east_admin")
    assert 'id="save-as-group"' not in client.get("/members").get_data(as_text=True)
    body = client.get("/members?segment=new", headers={"HX-Request": "true", "HX-Target": "member-rows"}).get_data(
        as_text=True)
    assert 'id="save-as-group" href="/members/groups/new?from=segment%3Dnew"' in body
    assert 'id="save-as-group"' not in login_as("owner1").get("/members?segment=new").get_data(as_text=True)


def test_page_reads_english_too(en, people):
    html = en("hq").get("/members").get_data(as_text=True)
    assert "Important value" in html and "members match" in html and "重要价值" not in html


def test_nav_has_members_for_every_role(login_as, people):
    for who in ("hq", "sh_manager", "owner1"):
        html = login_as(who).get("/").get_data(as_text=True)
        assert 'href="/members"' in html, who
    owner = login_as("owner1").get("/").get_data(as_text=True)
    assert 'href="/members/groups"' not in owner and 'href="/members/tags"' not in owner
