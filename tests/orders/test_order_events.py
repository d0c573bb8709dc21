"""order.paid through the ingestion service: lines, allocated bases, members, guides, refusals."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from portal.assortments.models import Assortment, AssortmentItem, StoreAssortment
from portal.campaigns.models import Campaign, CampaignStore, CouponClaim
from portal.extensions import db
from portal.kernel.time import utcnow
from portal.members.models import Member, MemberIdentity, appid_of
from portal.orders.models import Order, OrderLine
from tests.factories import make_guide, make_member, make_product
from tests.orders.helpers import event, paid, send


def _order(number: str) -> Order:
    return db.session.scalar(select(Order).where(Order.number == number))


def _lines(order: Order) -> list[OrderLine]:
    return list(db.session.scalars(select(OrderLine).where(OrderLine.order_id == order.id)
                                   .order_by(OrderLine.line_no)))


def test_paid_order_creates_lines_with_allocated_bases(org):
    store = org.stores["sh1"]
    # 3 × 10.00 + 1 × 20.01 = 50.01 goods, 5.00 discount, 3.00 coupon, 8.00 freight → 50.01 paid
    results = send(store, paid("NO1", [("SKU-A", 3, 1000), ("SKU-B", 1, 2001)], discount=500, coupon=300,
                               freight=800))
    assert results[0]["status"] == "applied", results
    order = _order("NO1")
    assert (order.goods_fen, order.paid_fen, order.status, order.store_id) == (5001, 5001, "paid", store.id)
    lines = _lines(order)
    net = 5001 - 800
    # pro rata to 3000 : 2001, rounded down, the remainder on the last line; freight on no line
    assert [ln.paid_fen for ln in lines] == [net * 3000 // 5001, net - net * 3000 // 5001]
    assert sum(ln.paid_fen for ln in lines) == net
    assert [(ln.line_no, ln.sku_code, ln.quantity, ln.unit_fen) for ln in lines] == [
        (1, "SKU-A", 3, 1000), (2, "SKU-B", 1, 2001)]


def test_amounts_that_do_not_add_up_are_rejected_naming_the_field(org):
    store = org.stores["sh1"]
    bad_goods = paid("NO2")
    bad_goods["data"]["goods_fen"] = 100
    bad_paid = paid("NO3", discount=100)
    bad_paid["data"]["paid_fen"] = 9900
    too_much_off = paid("NO4", [("SKU-A", 1, 100)], coupon=200, freight=100)
    bad_qty = paid("NO5", [("SKU-A", 0, 100)])
    results = send(store, bad_goods, bad_paid, too_much_off, bad_qty, paid("NO6"))
    assert [r["status"] for r in results] == ["rejected"] * 4 + ["applied"]
    assert [r["error"]["field"] for r in results[:4]] == ["data.goods_fen", "data.paid_fen", "data.coupon_fen",
                                                         "data.lines.0.quantity"]
    assert "9900" in results[1]["error"]["message"] and "9800" in results[1]["error"]["message"]
    assert db.session.scalar(select(func.count()).select_from(Order)) == 1       # nothing half-written


def test_duplicate_order_number_is_refused(org):
    store = org.stores["sh1"]
    assert send(store, paid("NO7"))[0]["status"] == "applied"
    again = send(store, paid("NO7"))[0]
    results = send(store, paid("NO9"), paid("NO9"))
    assert again["status"] == "rejected" and again["error"] == {
        "code": "duplicate_order", "field": "data.number", "message": again["error"]["message"]}
    assert [r["status"] for r in results] == ["applied", "rejected"]
    assert results[1]["error"]["code"] == "duplicate_order"
    # The same number in another store is another order.
    assert send(org.stores["sh2"], paid("NO7"))[0]["status"] == "applied"


def test_unknown_openid_creates_the_member_bound_to_the_store(org):
    store = org.stores["sh1"]
    guide = make_guide(store, "G7", "王芳")
    db.session.commit()
    results = send(store, paid("NO10", openid="o-new", nickname="小李", guide_code="G7"))
    assert results[0]["status"] == "applied"
    ident = db.session.scalar(select(MemberIdentity).where(MemberIdentity.openid == "o-new"))
    assert ident.appid == appid_of(store)
    member = db.session.get(Member, ident.member_id)
    assert (member.nickname, member.store_id, member.guide_id) == ("小李", store.id, guide.id)
    order = _order("NO10")
    assert (order.member_id, order.guide_id) == (member.id, guide.id)


def test_known_member_keeps_its_guide_and_the_sharer_is_recorded(org):
    store = org.stores["sh1"]
    guide = make_guide(store)
    buyer = make_member(store, openid="o-known", guide=guide)
    sharer = make_member(store, openid="o-sharer")
    other = make_guide(store, "G-OTHER")
    db.session.commit()
    send(store, paid("NO11", openid="o-known", sharer_openid="o-sharer", guide_code=other.code),
         paid("NO12", openid="o-known", sharer_openid="o-known"))
    order = _order("NO11")
    assert (order.member_id, order.guide_id, order.sharer_id) == (buyer.id, guide.id, sharer.id)
    assert _order("NO12").sharer_id is None          # nobody brings themself
    # A brand-new sharer is a member too.
    send(store, paid("NO13", openid="o-known", sharer_openid="o-fresh-sharer"))
    fresh = db.session.scalar(select(MemberIdentity.member_id).where(MemberIdentity.openid == "o-fresh-sharer"))
    assert _order("NO13").sharer_id == fresh


def test_buyer_served_by_another_store_gives_no_guide(org):
    guide = make_guide(org.stores["sh2"])
    member = make_member(org.stores["sh2"], guide=guide)
    identity = db.session.scalar(select(MemberIdentity).where(MemberIdentity.member_id == member.id))
    # The same person in sh1's mini-program (shared unionid)
    identity.unionid = "u-shared"
    db.session.commit()
    send(org.stores["sh1"], paid("NO14", openid="o-sh1", unionid="u-shared"))
    order = _order("NO14")
    assert order.member_id == member.id and order.guide_id is None


def test_skus_of_hq_direct_sale_goods_are_fulfilled_by_hq(org):
    store = org.stores["sh1"]
    direct = make_product(org.nodes["hq"], "P-DIRECT", direct_sale=True, skus=1)
    plain = make_product(org.nodes["hq"], "P-PLAIN", skus=1)
    not_carried = make_product(org.nodes["hq"], "P-ELSEWHERE", direct_sale=True, skus=1)
    own = make_product(store, "P-OWN", skus=1)
    assortment = Assortment(name="a", path=org.nodes["hq"].path)
    db.session.add(assortment)
    db.session.flush()
    db.session.add_all([AssortmentItem(assortment_id=assortment.id, product_id=direct.id),
                        AssortmentItem(assortment_id=assortment.id, product_id=plain.id),
                        StoreAssortment(store_id=store.id, assortment_id=assortment.id)])
    db.session.commit()
    send(store, paid("NO15", [("P-DIRECT-1", 1, 100), ("P-PLAIN-1", 1, 100), ("P-ELSEWHERE-1", 1, 100),
                              ("P-OWN-1", 1, 100), ("UNKNOWN-9", 2, 50)]))
    lines = _lines(_order("NO15"))
    assert [(ln.sku_code, ln.fulfilled_by, ln.sku_id is not None) for ln in lines] == [
        ("P-DIRECT-1", "hq", True), ("P-PLAIN-1", "store", True), ("P-ELSEWHERE-1", "store", False),
        ("P-OWN-1", "store", True), ("UNKNOWN-9", "store", False)]
    del not_carried, own


def test_campaign_must_be_running_in_the_store(org):
    now = utcnow()
    running = Campaign(kind="coupon", name="满100减10", rules={}, starts_at=now - timedelta(days=1),
                       ends_at=now + timedelta(days=1), status="published", path=org.nodes["hq"].path)
    db.session.add(running)
    db.session.flush()
    db.session.add(CampaignStore(campaign_id=running.id, store_id=org.stores["sh1"].id, status="joined"))
    db.session.commit()
    at = now.isoformat()
    results = send(org.stores["sh1"], paid("NO16", campaign_id=running.id, paid_at=at),
                   paid("NO17", campaign_id=running.id, paid_at=(now - timedelta(days=3)).isoformat()),
                   paid("NO18", campaign_id=999_999))
    assert [r["status"] for r in results] == ["applied", "rejected", "rejected"]
    assert results[1]["error"]["field"] == "data.campaign_id"
    assert send(org.stores["sh2"], paid("NO19", campaign_id=running.id, paid_at=at))[0]["status"] == "rejected"
    assert _order("NO16").campaign_id == running.id


def test_coupon_redeemed_marks_the_claim(org):
    store = org.stores["sh1"]
    now = utcnow()
    campaign = Campaign(kind="coupon", name="券", rules={}, starts_at=now - timedelta(days=1),
                        ends_at=now + timedelta(days=1), status="published", path=org.nodes["hq"].path)
    db.session.add(campaign)
    db.session.flush()
    claims = [CouponClaim(campaign_id=campaign.id, store_id=store.id, member="u1", code=f"CP{i}") for i in range(3)]
    db.session.add_all(claims)
    db.session.commit()
    results = send(store, paid("NO20"), event("coupon.redeemed", {"code": "CP0", "openid": "o1",
                                                                  "order_number": "NO20"}),
                   event("coupon.redeemed", {"code": "CP1", "openid": "o1"}),
                   event("coupon.redeemed", {"code": "CP1", "openid": "o1"}),
                   event("coupon.redeemed", {"code": "NOPE", "openid": "o1"}),
                   event("coupon.redeemed", {"code": "CP2", "openid": "o1", "order_number": "LATER"}))
    assert [r["status"] for r in results] == ["applied", "applied", "applied", "rejected", "rejected", "held"]
    assert results[3]["error"]["code"] == "already_redeemed"
    assert results[4]["error"] == {"code": "unknown_coupon", "field": "data.code",
                                   "message": results[4]["error"]["message"]}
    db.session.expire_all()
    assert claims[0].order_id == _order("NO20").id and claims[0].redeemed_at is not None
    assert claims[1].redeemed_at is not None and claims[1].order_id is None
    # The held redemption is applied when its order arrives.
    send(store, paid("LATER"))
    db.session.expire_all()
    assert claims[2].order_id == _order("LATER").id
    # Another store's coupon is unknown here.
    other = send(org.stores["sh2"], event("coupon.redeemed", {"code": "CP0", "openid": "o1"}))
    assert other[0]["error"]["code"] == "unknown_coupon"


def test_bad_lines_are_rejected_naming_the_line_and_field(org):
    def with_lines(lines):
        e = paid("NO30")
        e["data"]["lines"] = lines
        return e

    good = {"sku": "A", "quantity": 1, "unit_fen": 1}
    results = send(org.stores["sh1"], with_lines([]), with_lines("SKU-A"),
                   with_lines([good, {**good, "quantity": "2"}]), with_lines([{"sku": "A", "quantity": 1}]),
                   with_lines([{**good, "sku": "A" * 65}]), with_lines([7]), with_lines([{**good, "unit_fen": -1}]))
    assert [r["status"] for r in results] == ["rejected"] * 7
    assert [r["error"]["field"] for r in results] == [
        "data.lines", "data.lines", "data.lines.1.quantity", "data.lines.0.unit_fen", "data.lines.0.sku",
        "data.lines.0", "data.lines.0.unit_fen"]
    assert db.session.scalar(select(func.count()).select_from(Order)) == 0
