"""The member page: header, scope (404 outside), a merged member redirects, tags edited in place."""
from __future__ import annotations

from sqlalchemy import select

from portal.extensions import db
from portal.members.models import MemberTag, MemberTier, member_tag_links
from tests.factories import make_guide, make_member


def _tags(member_id) -> set[int]:
    return set(db.session.scalars(select(member_tag_links.c.tag_id).where(member_tag_links.c.member_id == member_id)))


def test_header_shows_who_the_member_is(org, login_as):
    tier = MemberTier(name="金卡", rank=2, min_spent_fen=100_000)
    db.session.add(tier)
    db.session.flush()
    guide = make_guide(org.stores["sh1"], name="王导购")
    m = make_member(org.stores["sh1"], "李小龙", guide=guide, segment="important_keep", tier_id=tier.id,
                    phone_masked="138****1234")
    db.session.commit()
    html = login_as("owner1").get(f"/members/{m.id}").get_data(as_text=True)
    for text in ("李小龙", "138****1234", "金卡", "重要保持", "上海南京路店", "王导购", "服务开始于"):
        assert text in html, text


def test_outside_the_scope_is_404(org, login_as):
    gd = make_member(org.stores["gd1"], "广州陈生")
    sh = make_member(org.stores["sh1"], "上海李生")
    db.session.commit()
    assert login_as("owner1").get(f"/members/{gd.id}").status_code == 404
    assert login_as("east_admin").get(f"/members/{gd.id}").status_code == 404
    assert login_as("south_admin").get(f"/members/{sh.id}").status_code == 404
    assert login_as("owner_gd").get(f"/members/{sh.id}").status_code == 404
    assert login_as("hq").get(f"/members/{gd.id}").status_code == 200
    assert login_as("owner1").get("/members/99999999999").status_code == 404


def test_merged_member_redirects_to_the_survivor(org, login_as):
    survivor = make_member(org.stores["sh1"], "留下的")
    absorbed = make_member(org.stores["sh1"], "并入的", status="merged")
    absorbed.merged_into_id = survivor.id
    db.session.commit()
    r = login_as("owner1").get(f"/members/{absorbed.id}")
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/members/{survivor.id}")


def test_owner_applies_tags_in_place(org, login_as):
    m = make_member(org.stores["sh1"], "李小龙")
    a, b = MemberTag(name="复购"), MemberTag(name="高净值")
    db.session.add_all([a, b])
    db.session.commit()
    client = login_as("owner1")
    r = client.post(f"/members/{m.id}/tags", data={"tag_ids": [a.id, b.id, "junk"]}, headers={"HX-Request": "true"})
    body = r.get_data(as_text=True)
    assert r.status_code == 200 and "<html" not in body and "标签已保存" in body
    assert _tags(m.id) == {a.id, b.id}
    r = client.post(f"/members/{m.id}/tags", data={"tag_ids": [b.id]})
    assert r.status_code == 303
    assert _tags(m.id) == {b.id}
    assert "高净值" in client.get(f"/members/{m.id}").get_data(as_text=True)


def test_nobody_tags_another_stores_member(org, login_as):
    m = make_member(org.stores["gd1"], "广州陈生")
    tag = MemberTag(name="复购")
    db.session.add(tag)
    db.session.commit()
    assert login_as("owner1").post(f"/members/{m.id}/tags", data={"tag_ids": [tag.id]}).status_code == 404
    assert login_as("east_admin").post(f"/members/{m.id}/tags", data={"tag_ids": [tag.id]}).status_code == 404
    assert login_as("gd_manager").post(f"/members/{m.id}/tags", data={"tag_ids": [tag.id]}).status_code == 403
    assert _tags(m.id) == set()


def test_regional_manager_reads_tags_without_a_form(org, login_as):
    m = make_member(org.stores["sh1"], "李小龙")
    tag = MemberTag(name="复购")
    db.session.add(tag)
    db.session.flush()
    db.session.execute(member_tag_links.insert().values(member_id=m.id, tag_id=tag.id))
    db.session.commit()
    html = login_as("sh_manager").get(f"/members/{m.id}").get_data(as_text=True)
    assert "复购" in html and "/tags" not in html.split('id="member-tags"')[1].split("</div></div>")[0]


def test_hq_keeps_tags_and_tiers(org, login_as):
    client = login_as("hq")
    assert client.post("/members/tags", data={"name": "复购"}).status_code == 303
    r = client.post("/members/tags", data={"name": "复购"})
    assert r.status_code == 422 and "已存在" in r.get_data(as_text=True)
    r = client.post("/members/tags", data={"name": "复购"}, headers={"HX-Request": "true"})
    assert r.status_code == 422 and "<html" not in r.get_data(as_text=True)
    r = client.post("/members/tags", data={"name": "宝妈"}, headers={"HX-Request": "true"})
    assert r.status_code == 204 and r.headers["HX-Redirect"].endswith("/members/tags")
    assert client.post("/members/tiers", data={"name": "金卡", "rank": "2", "min_spent": "1000"}).status_code == 303
    r = client.post("/members/tiers", data={"name": "银卡", "rank": "x", "min_spent": "abc"})
    assert r.status_code == 422 and 'data-field="min_spent"' in r.get_data(as_text=True)
    tier = db.session.scalar(select(MemberTier))
    assert tier.min_spent_fen == 100_000
    assert "¥1,000.00" in client.get("/members/tiers").get_data(as_text=True)


def test_members_get_their_tier_when_hq_saves_the_tiers_and_each_night(org, login_as):
    """Saving or deleting a tier re-tiers the members from their net spend (a job after the
    commit); the nightly RFM recompute does it too, so a member who crosses a threshold moves up."""
    from portal.members.models import Member
    from portal.members.tasks import RfmRun, run_recompute
    from tests.factories import make_order

    big, small = make_member(org.stores["sh1"], "大客户"), make_member(org.stores["sh2"], "小客户")
    make_order(org.stores["sh1"], big, [("SKU1", 2, 90_000)])
    make_order(org.stores["sh2"], small, [("SKU1", 1, 30_000)])
    db.session.commit()
    client = login_as("hq")
    r = client.post("/members/tiers", data={"name": "金卡", "rank": "2", "min_spent": "1000"})
    assert r.status_code == 303

    def tiers():
        db.session.expire_all()
        people = db.session.scalars(select(Member).where(Member.id.in_([big.id, small.id])))
        return {m.nickname: m.tier_id for m in people}

    gold = db.session.scalar(select(MemberTier.id).where(MemberTier.name == "金卡"))
    assert tiers() == {"大客户": gold, "小客户": None}
    # The small customer spends more; the night's recompute moves them up.
    make_order(org.stores["sh2"], small, [("SKU1", 3, 30_000)])
    run = RfmRun(state="queued")
    db.session.add(run)
    db.session.commit()
    run_recompute(run.id)
    assert tiers() == {"大客户": gold, "小客户": gold}
    assert client.post(f"/members/tiers/{gold}/delete").status_code == 303
    assert tiers() == {"大客户": None, "小客户": None}
