"""Uploads read as CSV (UTF-8, GBK) or .xlsx through both imports; downloads written as CSV or .xlsx."""
import io

import pytest
from flask_babel import force_locale
from openpyxl import Workbook, load_workbook
from sqlalchemy import select

from portal.goods.models import Product
from portal.kernel.tabular import TableError, csv_chunks, read_table, xlsx_bytes
from portal.org.models import Store
from tests.org.test_store_csv import as_user, problems  # noqa: F401  (fixture)

COLUMNS = (("code", "code", "门店编码"), ("name", "name", "门店名称"), ("price", "price", "价格"))


def workbook(*rows) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _post(client, url, raw, filename):
    return client.post(url, data={"file": (io.BytesIO(raw), filename)}, content_type="multipart/form-data")


def test_store_import_reads_an_xlsx_workbook(as_user, db):  # noqa: F811
    c = as_user("hq")
    raw = workbook(("门店编码", "门店名称", "城市", "区域编码", "店主电话"),
                   ("BJ001", "北京国贸店", "北京", "R-SH", 13800138000),
                   (None, None, None, None, None),
                   ("BJ002", "北京三里屯店", "北京", "r-gd", None))
    r = _post(c, "/stores/import", raw, "stores.xlsx")
    assert r.status_code == 303, r.get_data(as_text=True)[:2000]
    bj = db.session.scalar(select(Store).where(Store.code == "BJ001"))
    assert (bj.name, bj.node.code, bj.owner_phone) == ("北京国贸店", "R-SH", "13800138000")
    assert db.session.scalar(select(Store).where(Store.code == "BJ002")).node.code == "R-GD"


def test_xlsx_row_errors_name_the_sheet_row_and_column(as_user, db):  # noqa: F811
    c = as_user("hq")
    raw = workbook(("code", "name", "city", "region_code"), ("BJ001", "北京国贸店", "北京", "R-SH"),
                   ("BJ002", "北京三里屯店", "北京", "NOPE"))
    r = _post(c, "/stores/import", raw, "stores.xlsx")
    assert r.status_code == 422
    assert ("3", "region_code", "No region or distributor “NOPE” in your part of the organization.") in problems(r)
    assert db.session.scalar(select(Store).where(Store.code == "BJ001")) is None


def test_goods_import_reads_an_xlsx_workbook_with_numeric_prices(login_as, org, db):
    c = login_as("hq")
    raw = workbook(("商品编码", "商品名称", "分类", "SKU编码", "建议零售价", "最低价", "直营商品"),
                   ("TEA-1", "柠檬茶", "茶饮", "TEA-1-S", 12.5, 10, "否"),
                   ("TEA-1", "柠檬茶", "茶饮", "TEA-1-L", 15, None, "否"))
    r = c.post("/goods/import", data={"csrf_token": c.csrf_token(), "file": (io.BytesIO(raw), "goods.xlsx")},
               content_type="multipart/form-data", csrf=False)
    assert r.status_code == 303, r.get_data(as_text=True)[:2000]
    tea = db.session.scalar(select(Product).where(Product.code == "TEA-1"))
    assert [(s.code, s.list_price, s.price_floor) for s in tea.skus] == [("TEA-1-S", 1250, 1000),
                                                                          ("TEA-1-L", 1500, 1500)]


def test_gbk_and_utf8_csv_read_alike(app):
    text = "门店编码,门店名称,价格\r\nSH001,上海南京路店,12.50\r\n\r\nSH002,“徐家汇”,\r\n"
    with app.test_request_context():
        read = [read_table(raw, COLUMNS, ("code",)) for raw in
                (text.encode("gbk"), text.encode("gb18030"), text.encode("utf-8"), b"\xef\xbb\xbf" + text.encode())]
    labels, rows, errors = read[0]
    assert errors == [] and labels == {"code": "门店编码", "name": "门店名称", "price": "价格"}
    assert [(r["_line"], r["code"], r["name"], r["price"]) for r in rows] == [
        (2, "SH001", "上海南京路店", "12.50"), (4, "SH002", "“徐家汇”", "")]
    assert all(other == read[0] for other in read)


def test_bounds(app):
    with app.test_request_context(), force_locale("en"):
        _labels, rows, errors = read_table(("code\n" + "A\n" * 12).encode(), COLUMNS, ("code",), max_rows=10)
        assert len(rows) == 10 and [(e.line, e.message) for e in errors] == [(0, "At most 10 rows per file.")]
        with pytest.raises(TableError, match="could not be read"):
            read_table(b"PK\x03\x04 not a zip at all", COLUMNS, ())
        with pytest.raises(TableError, match=r"\.xls"):
            read_table(b"\xd0\xcf\x11\xe0" + bytes(100), COLUMNS, ())


def test_writers_keep_formulas_as_text_and_read_back(app):
    header, rows = ["code", "name"], [["=1+1", "@SUM(A1)"], ["SH001", "上海店"]]
    csv_text = "".join(csv_chunks(header, rows))
    assert csv_text.startswith("\ufeffcode,name\r\n'=1+1,'@SUM(A1)\r\n")
    raw = xlsx_bytes(header, rows, title="门店")
    cell = load_workbook(io.BytesIO(raw))["门店"]["A2"]
    assert (cell.value, cell.data_type) == ("=1+1", "s")
    with app.test_request_context():
        for data in (csv_text.encode("utf-8"), raw):
            _labels, back, errors = read_table(data, COLUMNS, ("code",))
            assert errors == [] and [(r["code"], r["name"]) for r in back] == [
                ("=1+1", "@SUM(A1)"),
                ("SH001", "上海店"),
            ]


def test_workbooks_keep_the_header_in_view_and_columns_wide_enough(app):
    note = ("门店编码", "必填。已有此编码的门店会被更新；新编码会新建门店。")
    raw = xlsx_bytes(["门店编码", "门店名称"], iter([["SH001", "上海店"]]), title="门店",
                     more=[("说明", ["列", "填写内容"], [note])])
    book = load_workbook(io.BytesIO(raw))
    assert book.sheetnames == ["门店", "说明"]
    stores, notes = book["门店"], book["说明"]
    assert stores.freeze_panes == "A2" and notes.freeze_panes == "A2"
    assert stores.column_dimensions["A"].width == 12 and notes.column_dimensions["B"].width > 40
    with app.test_request_context():
        _labels, rows, errors = read_table(raw, COLUMNS, ("code",))      # an import reads the first sheet
    assert errors == [] and (rows[0]["code"], rows[0]["name"]) == ("SH001", "上海店")
