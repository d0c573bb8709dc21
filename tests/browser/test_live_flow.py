"""Issue 11 end to end, on a phone: the store owner schedules a live room and picks its goods;
the mini-program reports it live and simulated viewers arrive through the real signed API (over
HTTP, as a mini-program sends them); the share leaderboard moves without a reload; the owner
announces a lottery (its seed's hash shown), draws it (the seed revealed re-runs to the same
winners), and after the live sends a coupon to those who watched and did not buy."""
from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import re
import urllib.request
from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.campaigns.models import CouponClaim
from portal.extensions import db
from portal.live.models import ENDED, LIVE, LiveRoom, LiveRoomGoods
from portal.members.models import MemberIdentity
from portal.targets.services import TargetSpec
from tests import factories
from tests.api.signing import body_bytes, credential, signature_header
from tests.browser.test_flows import accept_confirm, log_in
from tests.campaigns.helpers import COUPON, make_campaign, push

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}
_ids = itertools.count(1)


class MiniProgram:
    """SH001's mini-program: signed batches of events to the portal's ingestion API over HTTP."""

    def __init__(self, url: str, store, cred):
        self.url, self.code, self.cred = url, store.code, cred

    def send(self, *events: dict) -> list[dict]:
        raw = body_bytes({"events": list(events)})
        request = urllib.request.Request(
            f"{self.url}/api/v1/stores/{self.code}/events", data=raw, method="POST",
            headers={"Content-Type": "application/json", "X-Portal-Key": self.cred.key_id,
                     "X-Portal-Signature": signature_header(self.cred.secret, raw)})
        with urllib.request.urlopen(request, timeout=30) as response:
            results = json.loads(response.read())["results"]
        assert [r["status"] for r in results] == ["applied"] * len(events), results
        return results


def _event(type_: str, **data) -> dict:
    return {"id": f"live-flow-{next(_ids)}", "type": type_, "occurred_at": datetime.now(UTC).isoformat(),
            "data": data}


def test_the_owner_runs_a_live_room_from_a_phone(live_server, browser, world):
    sh1 = world.stores["sh1"]
    goods = [factories.make_product(sh1, code, name=name) for code, name in
             (("LV01", "杨枝甘露"), ("LV02", "芝士葡萄"), ("LV03", "满杯红柚"))]
    campaign = make_campaign(world.users["hq"], rules={**COUPON, "budget": 50})
    push(world.users["hq"], campaign, TargetSpec(store_codes=[sh1.code]))
    app_ = MiniProgram(live_server.url, sh1, credential(sh1))
    db.session.commit()

    context = browser.new_context(base_url=live_server.url, locale="zh-CN", viewport=PHONE, is_mobile=True,
                                  has_touch=True)
    page = context.new_page()
    log_in(page, "owner1")

    # Schedule: one tap to the form (its defaults are valid), a title, two goods, one tap to save.
    page.goto("/live")
    page.locator("a[href='/live/new']").first.click()
    page.fill("input[name=title]", "周末甜品专场")
    page.check(f"input[name=product_ids][data-code={goods[0].code}]")
    page.fill("[data-filter-list]", "红柚")              # find the next one by name: the ticked one stays
    assert not page.locator(f"input[data-code={goods[1].code}]").is_visible()
    assert page.locator(f"input[data-code={goods[0].code}]").is_visible()
    page.check(f"input[name=product_ids][data-code={goods[2].code}]")
    assert page.locator("[data-filter-count]").inner_text() == "2"
    page.click("[data-save-room]")
    page.wait_for_url(re.compile(r"/live/\d+$"))
    room_id = int(page.url.rsplit("/", 1)[1])
    db.session.expire_all()
    room = db.session.get(LiveRoom, room_id)
    assert (room.title, room.store_id, room.provider) == ("周末甜品专场", sh1.id, "channels")
    assert set(db.session.scalars(select(LiveRoomGoods.product_id).where(LiveRoomGoods.room_id == room_id))) == \
        {goods[0].id, goods[2].id}

    # The anchor goes live in Channels; the mini-program reports it, and the room page follows.
    app_.send(_event("live.status", room_id=room_id, status=LIVE))
    page.reload()
    board = page.locator(f"#live-leaderboard-{room_id}")
    expect(board).to_be_visible()
    expect(board.locator("tbody tr[data-rank]")).to_have_count(0)

    # Viewers arrive: two sharers, the friends they bring, likes, comments, a purchase.
    app_.send(*[_event("live.enter", room_id=room_id, openid=o, nickname=n) for o, n in
                (("oA", "阿珍"), ("oB", "小贝"))],
              *[_event("live.share", room_id=room_id, openid=o) for o in ("oA", "oA", "oB")])
    app_.send(*[_event("live.enter", room_id=room_id, openid=f"oFA{i}", sharer_openid="oA") for i in range(3)],
              _event("live.enter", room_id=room_id, openid="oFB0", sharer_openid="oB"),
              _event("live.like", room_id=room_id, openid="oFA0", count=300),
              _event("live.comment", room_id=room_id, openid="oFA1"))
    # Without a reload, the leaderboard ranks 阿珍 (3 viewers brought) above 小贝 (1).
    first = board.locator("tbody tr[data-rank='1']")
    expect(first.locator("td[data-viewers]")).to_have_attribute("data-viewers", "3", timeout=15_000)
    expect(first).to_contain_text("阿珍")
    expect(board.locator("tbody tr[data-rank='2'] td[data-viewers]")).to_have_attribute("data-viewers", "1")

    lines = [{"sku": goods[0].code, "quantity": 1, "unit_fen": 1800}]
    app_.send(_event("order.paid", number="LIVE-0001", openid="oFA0", lines=lines, goods_fen=1800, paid_fen=1800,
                     live_room_id=room_id, sharer_openid="oA"))

    # A lottery among the viewers: the seed's hash is shown from the announcement.
    lottery = page.locator("#live-lottery")
    lottery.locator("input[name=title]").fill("直播间抽奖·送甜品")
    lottery.locator("select[name=pool]").select_option("viewers")
    lottery.locator("input[name=winners]").fill("2")
    lottery.locator("[data-lottery-form] button[type=submit]").click()
    announced = lottery.locator("[data-lottery][data-status=announced]")
    expect(announced).to_have_count(1)
    seed_hash = announced.locator("[data-seed-hash]").inner_text().strip()
    assert re.fullmatch(r"[0-9a-f]{64}", seed_hash)
    expect(announced.locator("[data-seed]")).to_have_count(0)          # the seed stays secret until the draw

    announced.locator("[data-draw]").click()
    accept_confirm(page)
    drawn = lottery.locator("[data-lottery][data-status=drawn]")
    expect(drawn.locator("[data-winners] li")).to_have_count(2)
    seed = drawn.locator("[data-seed]").inner_text().strip()
    assert hashlib.sha256(seed.encode()).hexdigest() == seed_hash
    # Anyone can re-run the draw from the revealed seed: the six viewers, ranked by HMAC(seed, id).
    db.session.expire_all()
    viewers = [db.session.scalar(select(MemberIdentity.member_id).where(MemberIdentity.openid == o))
               for o in ("oA", "oB", "oFA0", "oFA1", "oFA2", "oFB0")]
    rerun = sorted(viewers, key=lambda m: hmac.new(seed.encode(), str(m).encode(), hashlib.sha256).hexdigest())[:2]
    shown = [int(li.get_attribute("data-winner")) for li in drawn.locator("[data-winners] li").all()]
    assert shown == rerun

    # The live ends; a coupon goes to everyone who watched and did not buy (five of six).
    app_.send(_event("live.status", room_id=room_id, status=ENDED))
    page.reload()
    coupons = page.locator("#live-coupons")
    expect(coupons.locator("[data-reach=not_bought]")).to_have_attribute("data-count", "5")
    coupons.locator("select[name=campaign_id]").select_option(str(campaign.id))
    coupons.locator("input[name=audience][value=not_bought]").check()
    coupons.locator("[data-send-coupons]").click()
    accept_confirm(page)
    expect(page.locator("#live-coupons .alert-success, #live-coupons [role=alert]").first).to_be_visible()
    db.session.expire_all()
    holders = set(db.session.scalars(select(CouponClaim.member).where(CouponClaim.campaign_id == campaign.id)))
    assert len(holders) == 5
    buyer = db.session.scalar(select(MemberIdentity).where(MemberIdentity.openid == "oFA0"))
    assert (buyer.unionid or buyer.openid) not in holders
    context.close()
