"""The order list and page, scoped by the tree, in Chinese; the member page's orders section."""
from __future__ import annotations

import csv
import io

from flask import g, render_template
from sqlalchemy import select

from portal.extensions import db
from portal.members.models import Member
from portal.orders.models import Order
from portal.org.scope import scope_for
from tests.conftest import hx_headers
from tests.factories import make_guide
from tests.orders.helpers import paid, refund, send


def _orders(org):
    """Two orders at sh1 (one partly refunded, with a guide and a sharer), one at sh2, one at gd1."""
    sh1 = org.stores["sh1"]
    make_guide(sh1, "G1", "王芳")
    db.session.commit()
    send(sh1, paid("SH-1001", [("SKU-A", 2, 1990), ("SKU-B", 1, 500)], openid="o-li", nickname="李小姐",
                   guide_code="G1", sharer_openid="o-zhang", discount=100, freight=800,
                   paid_at="2026-03-02T10:00:00+08:00"),
         paid("SH-1002", openid="o-li", paid_at="2026-03-05T10:00:00+08:00"))
    send(sh1, refund("RF-1", "SH-1001", lines=[("SKU-B", 1)]))
    send(org.stores["sh2"], paid("SH2-2001", openid="o-wu", nickname="吴先生"))
    send(org.stores["gd1"], paid("GD-3001", openid="o-chen", nickname="陈女士"))
    return {o.number: o.id for o in db.session.scalars(select(Order))}


def test_owner_sees_only_their_store_orders(login_as, org):
    ids = _orders(org)
    client = login_as("owner1")
    html = client.get("/orders").get_data(as_text=True)
    assert "SH-1001" in html and "SH-1002" in html
    assert "SH2-2001" not in html and "GD-3001" not in html
    assert "共 2 笔订单" in html and "部分退款" in html
    assert client.get(f"/orders/{ids['SH-1001']}").status_code == 200
    assert client.get(f"/orders/{ids['SH2-2001']}").status_code == 404     # the other store of the region
    assert client.get(f"/orders/{ids['GD-3001']}").status_code == 404
    assert client.get("/orders/999999").status_code == 404


def test_staff_see_their_subtree(login_as, org):
    ids = _orders(org)
    html = login_as("sh_manager").get("/orders").get_data(as_text=True)
    assert all(n in html for n in ("SH-1001", "SH-1002", "SH2-2001")) and "GD-3001" not in html
    client = login_as("gd_manager")
    assert client.get(f"/orders/{ids['SH-1001']}").status_code == 404
    assert "GD-3001" in client.get("/orders").get_data(as_text=True)
    html = login_as("hq").get("/orders").get_data(as_text=True)
    assert "共 4 笔订单" in html


def test_search_and_filters_swap_the_rows(login_as, org):
    _orders(org)
    client = login_as("hq")
    rows = client.get("/orders?q=SH-100", headers=hx_headers("order-rows"))
    html = rows.get_data(as_text=True)
    assert rows.status_code == 200 and "<html" not in html
    assert "SH-1001" in html and "SH-1002" in html and "GD-3001" not in html
    full = client.get("/orders?q=SH-100").get_data(as_text=True)
    assert "<html" in full and 'hx-push-url="true"' in full and 'value="SH-100"' in full
    assert "SH2-2001" in client.get("/orders?q=吴", headers=hx_headers("order-rows")).get_data(as_text=True)
    by_status = client.get("/orders?status=partly_refunded", headers=hx_headers("order-rows")).get_data(as_text=True)
    assert "SH-1001" in by_status and "SH-1002" not in by_status
    by_store = client.get("/orders?store=GD001", headers=hx_headers("order-rows")).get_data(as_text=True)
    assert "GD-3001" in by_store and "SH-1001" not in by_store
    by_day = client.get("/orders?from=2026-03-04&to=2026-03-05", headers=hx_headers("order-rows"))
    by_day = by_day.get_data(as_text=True)
    assert "SH-1002" in by_day and "SH-1001" not in by_day
    junk = client.get("/orders?from=tomorrow&status=bogus&campaign=x&live_room=-1&page=zz")
    assert junk.status_code == 200 and "共 4 笔订单" in junk.get_data(as_text=True)


def test_owner_cannot_widen_the_list_by_store_code(login_as, org):
    _orders(org)
    html = login_as("owner1").get("/orders?store=GD001").get_data(as_text=True)
    assert "GD-3001" not in html


def test_csv_export_follows_the_filters_and_the_scope(login_as, org):
    _orders(org)
    response = login_as("sh_manager").get("/orders/export.csv?status=paid")
    assert response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][:4] == ["订单号", "支付时间", "门店编码", "门店"]
    numbers = sorted(r[0] for r in rows[1:])
    assert numbers == ["SH-1002", "SH2-2001"]
    sh = next(r for r in rows[1:] if r[0] == "SH-1002")
    assert "99.00" in sh and "已支付" in sh


def test_order_page_reads_well_for_the_owner(login_as, org):
    ids = _orders(org)
    html = login_as("owner1").get(f"/orders/{ids['SH-1001']}").get_data(as_text=True)
    # amounts: goods 44.80, discount 1.00, freight 8.00 → paid 51.80; the refund of SKU-B
    assert "¥51.80" in html and "¥44.80" in html and "−¥1.00" in html and "¥8.00" in html
    assert "部分退款" in html and "RF-1" in html
    assert "王芳" in html and "李小姐" in html                       # the guide and the member
    assert 'data-sharer' in html and "会员" in html
    assert "门店发货" in html and "商品明细（2 项）" in html
    # each line's base: 43.80 net of the discount, pro rata 3980 : 500 → 3891 and 489
    assert 'data-base="3891"' in html and 'data-base="489"' in html
    assert 'data-line-refunded="489"' in html
    assert "上海南京路店" in html


def test_member_orders_section(app, org):
    _orders(org)
    member = db.session.scalar(select(Member).where(Member.nickname == "李小姐"))
    with app.test_request_context():
        g.scope = scope_for(org.users["owner1"])
        html = render_template("orders/_member_orders.html", member=member)
        assert 'data-count="2"' in html and "SH-1001" in html and "SH-1002" in html
        # net of the refund: 51.80 + 99.00 − 4.89
        assert 'data-net="14591"' in html
        g.scope = scope_for(org.users["owner_gd"])
        html = render_template("orders/_member_orders.html", member=member)
        assert "SH-1001" not in html and "还没有订单" in html


def test_english_on_request(en, org):
    ids = _orders(org)
    html = en("owner1").get(f"/orders/{ids['SH-1001']}").get_data(as_text=True)
    assert "Partly refunded" in html and "Fulfilled by the store" in html and "2 lines" in html


def test_list_and_order_page_statements_do_not_grow_with_orders(login_as, org):
    from tests.factories import sql_log

    _orders(org)
    client = login_as("hq")
    order_id = db.session.scalar(select(Order.id).where(Order.number == "SH-1001"))

    def counted(url: str) -> int:
        with sql_log() as statements:
            assert client.get(url).status_code == 200
        return len(statements)

    before = counted("/orders"), counted(f"/orders/{order_id}")
    for i in range(6):
        send(org.stores["sh2"], paid(f"MORE-{i}", [("SKU-A", 1, 100), ("SKU-B", 2, 100)], openid=f"o-more{i}"))
    send(org.stores["sh1"], refund("RF-2", "SH-1001", amount=100), refund("RF-3", "SH-1001", amount=100))
    assert (counted("/orders"), counted(f"/orders/{order_id}")) == before
