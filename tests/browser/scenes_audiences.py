"""Screenshots of the audiences part (issue 10): the member list (search, filters, bulk bar), a
member page with its tags, groups and segments with their reach, the group form's live count, HQ's
tags and tiers; on a phone, the owner's own members and one member's page. The members are staged
through the factories and services (the demo brand has none yet)."""
from __future__ import annotations

NAMES = ["王小明", "李娜", "张伟", "刘芳", "陈静", "杨洋", "黄磊", "赵敏", "周杰", "吴秀英", "徐丽", "孙强",
         "胡艳", "朱军", "高娟", "林涛", "何超", "郭霞", "马勇", "罗明"]
SEGMENTS = ["important_value", "important_keep", "important_develop", "important_retain", "general_value",
            "general_keep", "general_develop", "general_retain", "new"]


def _stage() -> None:
    from sqlalchemy import select

    from portal.extensions import db
    from portal.kernel.crypto import keyed_hash
    from portal.members import audiences
    from portal.members.models import MemberGroup, MemberTag, MemberTier, member_tag_links
    from portal.org.models import OrgNode, Store, User
    from portal.org.scope import scope_for
    from tests.browser import screenshots
    from tests.factories import make_guide, make_member

    with screenshots.APP.test_request_context():
        if db.session.scalar(select(MemberTag.id).limit(1)):
            return
        hq = db.session.scalar(select(User).where(User.username == "hq"))
        owner = db.session.scalar(select(User).where(User.username == "owner"))
        r_sh = db.session.scalar(select(OrgNode).where(OrgNode.code == "R-SH"))
        own = db.session.get(Store, owner.store_id)
        others = list(db.session.scalars(select(Store).where(Store.node_id == r_sh.id, Store.id != own.id).limit(4)))
        tiers = [MemberTier(name=n, rank=r, min_spent_fen=f) for n, r, f in
                 (("普通会员", 0, 0), ("银卡", 1, 50_000), ("金卡", 2, 200_000), ("黑金", 3, 1_000_000))]
        tags = [MemberTag(name=n) for n in ("复购", "高净值", "宝妈", "上班族", "直播常客")]
        db.session.add_all(tiers + tags)
        db.session.flush()
        guides = [make_guide(own, name="王导购"), make_guide(own, name="李导购")]
        made = []
        for i in range(60):
            store = own if i % 3 == 0 else others[i % len(others)]
            number = f"13{i % 10}{(i * 7) % 10}00{1000 + i * 37:04d}"[:11]
            m = make_member(store, NAMES[i % len(NAMES)] + ("" if i < 20 else str(i)),
                            guide=guides[i % 2] if store is own else None, segment=SEGMENTS[i % 9],
                            tier_id=tiers[i % 4].id, phone_hash=keyed_hash(number),
                            phone_masked=f"{number[:3]}****{number[-4:]}")
            made.append(m)
        db.session.execute(member_tag_links.insert(), [{"member_id": m.id, "tag_id": tags[i % 5].id}
                                                       for i, m in enumerate(made) if i % 2 == 0])
        scope = scope_for(hq)
        audiences.save_group(scope, "上海高价值会员", "filter",
                             audiences.MemberFilter(segment="important_value", node_id=r_sh.id), actor=hq)
        audiences.save_group(scope, "新品直播邀约名单", "fixed", None, actor=hq,
                             member_ids=[str(m.id) for m in made[:12]])
        db.session.add(MemberGroup(name="宝妈复购", kind="filter", path=scope.path,
                                   spec={"tag": str(tags[2].id), "segment": "important_keep"}))
        db.session.commit()
        db.session.remove()


def desktop(page, shot) -> None:
    _stage()
    page.goto("/members")
    shot(page, "members-list")
    page.locator("#member-q").press_sequentially("王", delay=40)
    page.wait_for_url("**q=*")
    page.select_option("#member-segment", "important_value")
    page.wait_for_url("**segment=*")
    page.wait_for_timeout(300)
    page.check("[data-member-all]")
    shot(page, "members-filtered")
    page.click("#member-rows tbody tr:first-child td:nth-child(2) a")
    page.wait_for_url("**/members/*")
    shot(page, "member-page", full_page=True)
    # Too many stores for one select: a region first, then its stores (swapped in out of band).
    page.goto("/members")
    region = page.locator("#member-node option", has_text="上海区").get_attribute("value")
    page.select_option("#member-node", region)
    page.wait_for_selector("#member-store:not([disabled])")
    store = page.locator("#member-store option", has_text="大悦城").first.get_attribute("value")
    page.select_option("#member-store", store)
    page.wait_for_url("**store=*")
    page.wait_for_selector("#member-guide")
    page.wait_for_timeout(300)
    shot(page, "members-store")
    page.goto("/members/groups")
    shot(page, "member-groups", full_page=True)
    page.goto("/members/groups/new")
    page.fill("input[name=name]", "重要挽留老客")
    page.select_option("select[name=segment]", "important_retain")
    page.wait_for_timeout(1500)
    page.wait_for_timeout(300)
    shot(page, "member-group-form")
    page.goto("/members/tags")
    shot(page, "member-tags")
    page.goto("/members/tiers")
    shot(page, "member-tiers")


def phone(page, shot) -> None:
    _stage()
    page.goto("/members")
    shot(page, "phone-owner-members", full_page=True)
    page.click("#member-rows tbody tr:first-child td:nth-child(2) a")
    page.wait_for_url("**/members/*")
    shot(page, "phone-owner-member", full_page=True)
