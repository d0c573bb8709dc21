"""The commission pages through the app: ledger, statements, payout once, downloads, scoping,
and "why this commission" on the order page."""
from __future__ import annotations

import io

from flask import render_template
from openpyxl import load_workbook
from sqlalchemy import func, select

from portal.orders.models import CommissionStatement
from tests.factories import make_guide, make_member
from tests.orders.ledger_helpers import closed_statements, last_month, make_plan, paid_order, refund


def test_ledger_lists_entries_in_scope_and_filters_with_htmx(login_as, org, db):
    sh_statement, gd_statement = closed_statements(org)
    client = login_as("owner1")
    page = client.get("/commissions")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "佣金明细" in html and "<html" in html
    assert "导购SH001" in html and "导购GD001" not in html          # the other store's guide is not there
    assert "¥10.00" in html and 'data-state="payable"' in html
    fragment = client.get("/commissions?kind=store", hx="entry-rows")
    text = fragment.get_data(as_text=True)
    assert "<html" not in text and "暂无佣金记录" in text            # no store commission: only the guide's
    assert "HX-Request" in fragment.headers["Vary"]
    hq = login_as("hq").get("/commissions?q=GD001").get_data(as_text=True)
    assert "导购GD001" in hq and "导购SH001" not in hq


def test_statements_page_shows_the_month_and_its_totals(login_as, org, db):
    closed_statements(org)
    month = last_month()
    html = login_as("east_admin").get(f"/commissions/statements?month={month}").get_data(as_text=True)
    assert "导购SH001" in html and "导购GD001" not in html
    assert 'data-total="guide"' in html and "¥10.00" in html and "待支付" in html
    fragment = login_as("hq").get(f"/commissions/statements?month={month}&kind=guide", hx="statement-rows")
    text = fragment.get_data(as_text=True)
    assert "<html" not in text and "导购SH001" in text and "导购GD001" in text


def test_owner_cannot_open_another_stores_statement(login_as, org, db):
    sh_statement, gd_statement = closed_statements(org)
    client = login_as("owner1")
    assert client.get(f"/commissions/statements/{sh_statement.id}").status_code == 200
    for url in (f"/commissions/statements/{gd_statement.id}", f"/commissions/statements/{gd_statement.id}.csv",
                f"/commissions/statements/{gd_statement.id}.xlsx"):
        assert client.get(url).status_code == 404
    assert "导购GD001" not in client.get(f"/commissions/statements.csv?month={last_month()}").get_data(as_text=True)


def test_payout_twice_pays_once_and_answers_409(login_as, org, db):
    [statement] = closed_statements(org, stores=("sh1",))
    client = login_as("east_admin")
    page = client.get(f"/commissions/statements/{statement.id}").get_data(as_text=True)
    assert "data-pay" in page and "data-confirm" in page
    first = client.post(f"/commissions/statements/{statement.id}/pay")
    assert first.status_code == 303
    second = client.post(f"/commissions/statements/{statement.id}/pay")
    assert second.status_code == 409
    assert "已支付" in second.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(CommissionStatement, statement.id).payout_fen == 1000
    after = client.get(f"/commissions/statements/{statement.id}").get_data(as_text=True)
    assert "data-pay" not in after and "data-paid" in after
    assert login_as("owner1").post(f"/commissions/statements/{statement.id}/pay").status_code == 403


def test_a_negative_balance_is_marked_on_the_page(login_as, org, db):
    from datetime import timedelta

    from portal.orders import statements
    from portal.org.scope import scope_for

    store = org.stores["sh1"]
    guide = make_guide(store, name="王芳")
    buyer = make_member(store, guide=guide)
    db.session.commit()
    make_plan(org, start=-100, end=30, store_rate="0", guide_rate="10.00", sharer_rate="0", freeze_days=0)
    m1 = statements.previous_month(last_month())
    order = paid_order(store, buyer, [("A", 1, 10000)], guide_id=guide.id,
                       paid_at=statements.month_bounds(m1)[0] + timedelta(days=2))
    hq = org.users["hq"]
    statements.close_month(scope_for(hq), m1, actor=hq)
    db.session.commit()
    s1 = db.session.scalar(select(CommissionStatement).where(CommissionStatement.month == m1))
    assert login_as("hq").post(f"/commissions/statements/{s1.id}/pay").status_code == 303
    refund(store, order, {1: 4000}, at=statements.month_bounds(last_month())[0] + timedelta(days=1))
    assert login_as("hq").post("/commissions/months", data={"month": last_month()}).status_code == 303
    s2 = db.session.scalar(select(CommissionStatement).where(CommissionStatement.month == last_month()))
    assert s2.closing_fen == -400
    html = login_as("owner1").get(f"/commissions/statements/{s2.id}").get_data(as_text=True)
    assert "data-negative-balance" in html and "余额为负" in html and "data-negative" in html


def test_closing_a_month_is_hqs(login_as, org, db):
    closed_statements(org)
    month = last_month()
    again = login_as("hq").post("/commissions/months", data={"month": month})
    assert again.status_code == 409
    assert login_as("east_admin").post("/commissions/months", data={"month": month}).status_code == 403
    assert db.session.scalar(select(func.count()).select_from(CommissionStatement)) == 2


def test_statement_csv_and_excel_contain_the_figures(login_as, org, db):
    sh_statement, _gd = closed_statements(org)
    client = login_as("owner1")
    csv = client.get(f"/commissions/statements/{sh_statement.id}.csv")
    text = csv.get_data(as_text=True)
    assert csv.mimetype == "text/csv" and "期末余额" in text and "10.00" in text and "导购SH001" in text
    xlsx = client.get(f"/commissions/statements/{sh_statement.id}.xlsx")
    sheet = load_workbook(io.BytesIO(xlsx.data)).active
    cells = [str(c.value) for row in sheet.iter_rows() for c in row if c.value is not None]
    assert "期初余额" in cells and "期末余额" in cells and "10.00" in cells
    month = login_as("hq").get(f"/commissions/statements.xlsx?month={last_month()}")
    sheet = load_workbook(io.BytesIO(month.data)).active
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert len(rows) == 3 and {r[1] for r in rows[1:]} == {"SH001", "GD001"} and rows[1][9] == "10.00"
    month_csv = login_as("hq").get(f"/commissions/statements.csv?month={last_month()}").get_data(as_text=True)
    assert "GD001" in month_csv and "SH001" in month_csv


def test_why_this_commission_on_the_order_page(app, org, db):
    store = org.stores["sh1"]
    guide = make_guide(store, name="王芳")
    top = make_member(store, "张伟")
    sharer = make_member(store, "李雷", referrer_id=top.id)
    buyer = make_member(store, "韩梅梅", guide=guide)
    db.session.commit()
    make_plan(org, levels=2, store_rate="10.00", guide_rate="5.00", sharer_rate="3.00", second_rate="1.00")
    order = paid_order(store, buyer, [("HQ-1", 1, 10000)], hq_lines=(1,), guide_id=guide.id, sharer_id=sharer.id)
    refund(store, order, {1: 5000})
    with app.test_request_context():
        html = render_template("orders/_commission_trace.html", order=order)
    since = buyer.bound_at.astimezone(__import__("zoneinfo").ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d")
    assert f"导购 王芳，{since} 起服务该会员" in html
    assert "分享人 李雷（一级）" in html and "分享人 张伟（二级），推荐了 李雷" in html
    assert "门店 上海南京路店" in html and "方案「春季分销」" in html
    assert html.count("data-reversal=") == 4 and "冻结至" in html
    assert "-¥5.00" in html or "-¥5.00" in html.replace("−", "-")
    plain = make_order_without_plan(org, db)
    with app.test_request_context():
        assert "data-no-commission" in render_template("orders/_commission_trace.html", order=plain)


def make_order_without_plan(org, db):
    store = org.stores["gd1"]
    buyer = make_member(store)
    db.session.commit()
    return paid_order(store, buyer, [("A", 1, 100)])


def test_two_admins_paying_at_once_pay_once(app, login_as, org, db):
    from tests.conftest import login
    from tests.factories import just_before

    [statement] = closed_statements(org, stores=("sh1",))
    other = app.test_client()
    login(other, org.users["hq"].username)
    client = login_as("east_admin")
    url = f"/commissions/statements/{statement.id}/pay"
    with just_before("SELECT commission_months.month", lambda: other.post(url)) as ran:
        response = client.post(url)
    assert ran[0].status_code == 303
    assert response.status_code == 409
    db.session.expire_all()
    assert db.session.get(CommissionStatement, statement.id).payout_by_id == org.users["hq"].id
