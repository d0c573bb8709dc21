"""The goods library in Excel and CSV: the export follows the list's filters and imports back
unchanged in both formats, and the blank .xlsx template has Chinese headers and example rows."""
from __future__ import annotations

import io
import re

from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.extensions import db
from portal.goods.models import Product
from tests.factories import make_product
from tests.goods.test_goods import GOOD, _import
from tests.org.test_store_csv import problems

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ZH_HEADER = ["商品编码", "商品名称", "分类", "SKU编码", "规格", "建议零售价", "最低价", "最高价", "总部供货",
             "佣金比例"]


def catalog() -> list[tuple]:
    """Every stored fact of every product and SKU."""
    db.session.expire_all()
    out = []
    for p in db.session.scalars(select(Product).options(selectinload(Product.skus)).order_by(Product.code)):
        out.append((p.code, p.name, p.category, p.direct_sale, p.commission_rate, p.updated_at,
                    [(s.code, s.spec, s.list_price, s.price_floor, s.price_ceiling, s.updated_at) for s in p.skus]))
    return out


def _upload(client, raw: bytes, name: str):
    return client.post("/goods/import", data={"file": (io.BytesIO(raw), name)}, content_type="multipart/form-data")


def _sheet(raw: bytes) -> list[list]:
    ws = load_workbook(io.BytesIO(raw), read_only=True).worksheets[0]
    return [["" if v is None else v for v in row] for row in ws.iter_rows(values_only=True)]


def test_export_round_trips_unchanged_as_xlsx_and_csv(login_as, org):
    client = login_as("hq")
    assert _import(client, GOOD).status_code == 303
    make_product(org.nodes["hq"], "ZZ-1", name="=CMD()", category="@测试", skus=1)
    db.session.commit()
    before = catalog()

    r = client.get("/goods/export.xlsx")
    assert r.status_code == 200 and r.mimetype == XLSX and "goods.xlsx" in r.headers["Content-Disposition"]
    rows = _sheet(r.data)
    assert rows[0] == ZH_HEADER
    assert ["CF-1", "拿铁", "咖啡", "CF-1-M", "规格:中杯", "18.00", "15.00", "22.00", "是", "10"] in rows
    assert ["TEA-1", "柠檬茶", "茶饮", "TEA-1-S", "", "12.50", "10.00", "15.00", "否", ""] in rows
    r = _upload(client, r.data, "goods.xlsx")
    assert r.status_code == 303, problems(r)
    assert catalog() == before

    r = client.get("/goods/export.csv")
    assert r.status_code == 200 and r.mimetype == "text/csv" and r.data.startswith(b"\xef\xbb\xbf")
    assert "'=CMD()" in r.data.decode("utf-8-sig")            # a formula-looking cell stays text
    r = _upload(client, r.data, "goods.csv")
    assert r.status_code == 303, problems(r)
    assert catalog() == before


def test_export_honours_the_filter_and_the_scope(login_as, org):
    client = login_as("hq")
    assert _import(client, GOOD).status_code == 303
    make_product(org.nodes["south"], "SOUTH-1", category="咖啡", skus=1)
    db.session.commit()
    codes = lambda q: sorted({r[0] for r in _sheet(client.get("/goods/export.xlsx" + q).data)[1:]})  # noqa: E731
    assert codes("") == ["CF-1", "SOUTH-1", "TEA-1"]
    assert codes("?category=茶饮") == ["TEA-1"]
    assert codes("?direct=1") == ["CF-1"]
    assert codes("?q=柠檬") == ["TEA-1"]
    html = client.get("/goods?category=咖啡").get_data(as_text=True)
    assert re.search(r'href="/goods/export\.xlsx\?[^"]*category=%E5%92%96%E5%95%A1', html)
    assert re.search(r'href="/goods/export\.csv\?[^"]*category=%E5%92%96%E5%95%A1', html)
    # A distributor exports what it sees: HQ's catalog and its own, not another distributor's.
    client = login_as("east_admin")
    assert codes("") == ["CF-1", "TEA-1"]


def test_template_has_chinese_headers_examples_and_imports(login_as, org):
    client = login_as("hq")
    assert 'href="/goods/import/template.xlsx"' in client.get("/goods/import").get_data(as_text=True)
    r = client.get("/goods/import/template.xlsx")
    assert r.status_code == 200 and r.mimetype == XLSX
    book = load_workbook(io.BytesIO(r.data), read_only=True)
    assert [ws.title for ws in book.worksheets] == ["商品", "填写说明", "分类"]
    rows = _sheet(r.data)
    assert rows[0] == ZH_HEADER and len(rows) == 3
    assert _upload(client, r.data, "模板.xlsx").status_code == 303
    assert [s.code for s in db.session.scalars(select(Product).where(Product.code == "CF-001")).one().skus] == [
        "CF-001-M", "CF-001-L"]


def test_only_admins_export_goods(login_as, org):
    for who in ("sh_manager", "owner1"):
        client = login_as(who)
        for url in ("/goods/export.csv", "/goods/export.xlsx", "/goods/import/template.xlsx"):
            assert client.get(url).status_code == 403
