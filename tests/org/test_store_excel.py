"""Stores in Excel: the .xlsx export (with the list's filters) imports back unchanged, the blank
template has Chinese headers, an example row and the valid regions and statuses, and the region
column takes a region's name as well as its code (an ambiguous name is a row error)."""
from __future__ import annotations

import io
import re

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import update

from portal.org.models import Store
from tests import factories
from tests.org.test_store_csv import ZH, everything, exported, problems, store, upload

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def as_user(login_as, client):
    """Sign in as one of the world's users, with the UI in English (messages read in English)."""
    def _as(name: str):
        login_as(name)
        assert client.post("/language", data={"lang": "en"}).status_code == 302
        return client
    return _as


def exported_xlsx(client, query: str = ""):
    r = client.get("/stores/export.xlsx" + query)
    assert r.status_code == 200 and r.mimetype == XLSX
    assert "stores.xlsx" in r.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(r.data), read_only=True).worksheets[0]
    return r.data, [["" if v is None else v for v in row] for row in sheet.iter_rows(values_only=True)]


def workbook(*rows) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_xlsx_export_round_trips_unchanged_in_both_languages(as_user, db, org):
    factories.make_store(org.nodes["r_js"], "FX001", name="=HYPERLINK(\"http://evil\")", city="苏州",
                         owner_name="@张", address="-1 号", tags=["社区店", "旗舰店"], owner_phone="13700137000",
                         appid="wx0123456789abcdef", status="suspended")
    db.session.commit()
    c = as_user("hq")
    data, rows = exported_xlsx(c)
    assert rows[0][:5] == ["code", "name", "city", "address", "region_code"]
    fx = rows[1]
    # Text stays text: the formula-looking name, the phone number.
    assert fx[0] == "FX001" and fx[1] == "=HYPERLINK(\"http://evil\")" and fx[9] == "13700137000"
    assert fx[5] == "suspended" and fx[6] == "旗舰店,社区店" and fx[10] == "江苏区"
    before = everything(db)
    r = upload(c, data, "stores.xlsx")
    assert r.status_code == 303, problems(r)
    assert everything(db)[:3] == before[:3]
    assert store(db, "FX001")["name"] == "=HYPERLINK(\"http://evil\")"

    c.post("/language", data={"lang": "zh_Hans_CN"})           # Chinese: headers and status words
    data, rows = exported_xlsx(c)
    assert rows[0] == ZH.split(",") + ["区域名称"]
    assert {r[0]: r[5] for r in rows[1:]}["FX001"] == "已暂停"
    r = upload(c, data, "门店.xlsx")
    assert r.status_code == 303
    assert everything(db)[:3] == before[:3]


def test_csv_export_round_trips_unchanged(as_user, db):
    c = as_user("hq")
    data, _rows = exported(c)
    before = everything(db)
    assert upload(c, data).status_code == 303
    assert everything(db)[:3] == before[:3]


def test_xlsx_export_honours_the_filter_and_the_scope(as_user, db, org):
    db.session.execute(update(Store).where(Store.code == "SH002").values(status="suspended"))
    db.session.commit()
    c = as_user("hq")
    codes = lambda q: [r[0] for r in exported_xlsx(c, q)[1][1:]]          # noqa: E731
    assert codes("?status=suspended") == ["SH002"]
    assert codes("?q=南京") == ["JS001", "SH001"]
    assert codes(f"?node={org.nodes['south'].id}") == ["GD001", "SO001"]
    c = as_user("east_admin")
    assert codes("") == ["JS001", "SH001", "SH002"]
    assert codes(f"?node={org.nodes['r_gd'].id}") == []


def test_the_store_list_links_both_exports_with_its_filter(login_as):
    html = login_as("hq").get("/stores?status=suspended").get_data(as_text=True)
    assert re.search(r'href="/stores/export\.xlsx\?[^"]*status=suspended', html)
    assert re.search(r'href="/stores/export\.csv\?[^"]*status=suspended', html)


def test_template_has_chinese_headers_an_example_and_the_valid_values(login_as, db, org):
    c = login_as("east_admin")
    page = c.get("/stores/import").get_data(as_text=True)
    assert 'href="/stores/import/template.xlsx"' in page
    r = c.get("/stores/import/template.xlsx")
    assert r.status_code == 200 and r.mimetype == XLSX
    book = load_workbook(io.BytesIO(r.data), read_only=True)
    sheets = {ws.title: [list(row) for row in ws.iter_rows(values_only=True)] for ws in book.worksheets}
    first = book.worksheets[0].title
    assert sheets[first][0] == ["门店编码", "门店名称", "城市", "地址", "区域", "状态", "标签", "小程序AppID", "店主",
                                "店主电话"]
    assert len(sheets[first]) == 2 and sheets[first][1][4] == "江苏区" and sheets[first][1][5] == "营业中"
    regions = sheets["区域"]
    assert regions[0] == ["名称", "编码", "类型"]
    assert [r[1] for r in regions[1:]] == ["D-EAST", "R-SH", "R-JS"]        # only the user's part
    assert [r[0] for r in sheets["状态"][1:]] == ["营业中", "已暂停", "已关闭"]
    # The template, filled in, imports: its example row creates a store in 江苏区 by name.
    assert upload(c, r.data, "模板.xlsx").status_code == 303
    assert store(db, "S000001")["region"] == "R-JS"


def test_region_by_name_or_code_and_an_ambiguous_name(as_user, db, org):
    c = as_user("hq")
    r = upload(c, workbook(("门店编码", "门店名称", "城市", "区域"),
                           ("NM001", "名字店", "上海", "上海区"),
                           ("NM002", "编码店", "上海", "r-js"),
                           ("NM003", "经销商店", "深圳", "华南经销商")), "stores.xlsx")
    assert r.status_code == 303, problems(r)
    assert [store(db, code)["region"] for code in ("NM001", "NM002", "NM003")] == ["R-SH", "R-JS", "D-SOUTH"]
    # The CSV's 区域编码 column takes a name too.
    r = upload(c, "门店编码,门店名称,城市,区域编码\r\nNM004,又一家,南京,江苏区\r\n".encode())
    assert r.status_code == 303 and store(db, "NM004")["region"] == "R-JS"

    # Two regions named alike: the row is refused naming both codes, nothing is written.
    factories.make_node(org.nodes["south"], "region", "R-SH2", "上海区")
    db.session.commit()
    before = everything(db)
    r = upload(c, workbook(("code", "name", "city", "region"),
                           ("NM010", "新店", "上海", "上海区"),
                           ("NM011", "新店二", "上海", "R-SH"),
                           ("NM012", "新店三", "上海", "无此区")), "stores.xlsx")
    assert r.status_code == 422
    assert problems(r) == [
        ("2", "region", "“上海区” is the name of 2 parts of the organization (R-SH、R-SH2): "
                        "write the code of the one you mean."),
        ("4", "region", "No region or distributor “无此区” in your part of the organization."),
    ]
    assert everything(db) == before


def test_a_region_name_outside_the_scope_is_unknown(as_user, db):
    c = as_user("east_admin")
    r = upload(c, workbook(("code", "name", "city", "region"), ("NM020", "新店", "广州", "广东区")), "s.xlsx")
    assert r.status_code == 422
    assert problems(r) == [("2", "region", "No region or distributor “广东区” in your part of the organization.")]
    r = upload(c, workbook(("code", "name", "city", "region"), ("NM020", "新店", "广州", "品牌总部")), "s.xlsx")
    assert problems(r) == [("2", "region", "No region or distributor “品牌总部” in your part of the organization.")]


def test_managers_and_owners_get_no_template_and_owners_no_export(login_as, org):
    for who in ("sh_manager", "owner1"):
        assert login_as(who).get("/stores/import/template.xlsx").status_code == 403
    assert login_as("owner1").get("/stores/export.xlsx").status_code == 403
    _data, rows = exported_xlsx(login_as("sh_manager"))
    assert [r[0] for r in rows[1:]] == ["SH001", "SH002"]
