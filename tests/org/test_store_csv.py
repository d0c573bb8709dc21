"""Store CSV import and export, through the real endpoints and a real database.

The world (tests/factories.make_world): HQ → D-EAST (R-SH: SH001 tagged 旗舰店, SH002; R-JS: JS001)
and D-SOUTH (SO001 directly; R-GD: GD001 tagged 商场店). Tests that read messages switch the
signed-in user to English through the language switch, so they do not depend on the catalog.
"""
from __future__ import annotations

import csv
import io
import random
import re
import time
from html import unescape

import pytest
from sqlalchemy import func, select, update

from portal.audit.models import AuditEntry
from portal.org.models import OrgNode, Store, Tag, store_tags
from tests import factories

EN = "code,name,city,address,region_code,status,tags,appid,owner,owner_phone"
ZH = "门店编码,门店名称,城市,地址,区域编码,状态,标签,小程序AppID,店主,店主电话"
APPID = "wx0123456789abcdef"


def csv_bytes(header: str, *rows: str, encoding: str = "utf-8", bom: bool = False) -> bytes:
    data = "\r\n".join([header, *rows, ""]).encode(encoding)
    return b"\xef\xbb\xbf" + data if bom else data


def upload(client, content: bytes, filename: str = "stores.csv", hx: str | bool = False):
    return client.post("/stores/import", data={"file": (io.BytesIO(content), filename)},
                       content_type="multipart/form-data", hx=hx)


def problems(response) -> list[tuple[str, str, str]]:
    """The (line, column, problem) rows of the error table the page shows."""
    html = response.get_data(as_text=True)
    assert 'id="import-errors"' in html, html[:2000]
    table = html.split('id="import-errors"', 1)[1].split("</table>", 1)[0]
    cells = re.findall(r"<tr><td>(.*?)</td><td>(.*?)</td><td>(.*?)</td></tr>", table, re.S)
    return [tuple(unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in row) for row in cells]


def flashes(client) -> str:
    return client.get("/stores").get_data(as_text=True)


@pytest.fixture
def as_user(login_as, client):
    """Sign in as one of the world's users, with the UI switched to English."""

    def _as(name: str):
        login_as(name)
        r = client.post("/language", data={"lang": "en"})
        assert r.status_code == 302
        return client

    return _as


def store(db, code: str) -> dict | None:
    """What the store detail page would show for ``code``."""
    db.session.expire_all()
    row = db.session.execute(
        select(Store.id, Store.code, Store.name, Store.city, Store.address, OrgNode.code.label("region"),
               Store.status, Store.appid, Store.owner_name, Store.owner_phone)
        .join(OrgNode, Store.node_id == OrgNode.id).where(Store.code == code)).mappings().first()
    if row is None:
        return None
    data = dict(row)
    data["tags"] = sorted(db.session.scalars(
        select(Tag.name).join(store_tags, store_tags.c.tag_id == Tag.id).where(store_tags.c.store_id == row.id)))
    del data["id"]
    return data


def everything(db) -> tuple:
    """Every stored fact about every store, the tag table and the import audit entries."""
    db.session.expire_all()
    stores = db.session.execute(
        select(Store.id, Store.code, Store.name, Store.city, Store.address, Store.node_id, Store.path,
               Store.status, Store.appid, Store.owner_name, Store.owner_phone, Store.updated_at)
        .order_by(Store.id)).all()
    links = db.session.execute(select(store_tags.c.store_id, store_tags.c.tag_id)
                               .order_by(store_tags.c.store_id, store_tags.c.tag_id)).all()
    tags = db.session.execute(select(Tag.id, Tag.name).order_by(Tag.id)).all()
    imports = db.session.scalar(select(func.count()).select_from(AuditEntry)
                                .where(AuditEntry.action == "store.import"))
    return [tuple(r) for r in stores], [tuple(r) for r in links], [tuple(r) for r in tags], imports


def store_count(db) -> int:
    return db.session.scalar(select(func.count()).select_from(Store))


# --------------------------------------------------------------------------- encodings and headers

ROWS = (
    f"BJ001,北京国贸店,北京,建国门外大街1号,R-SH,active,旗舰店,{APPID},张伟,13800138000",
    'GZ010,广州北京路店,广州,北京路88号,r-gd,已暂停,"商场店,社区店",,,',
    "SZ020,深圳南山店,深圳,,D-SOUTH,closed,,,,",
)


@pytest.mark.parametrize("header", [EN, ZH], ids=["english-headers", "chinese-headers"])
@pytest.mark.parametrize("encoding,bom", [("utf-8", False), ("utf-8", True), ("gbk", False)],
                         ids=["utf8", "utf8-bom", "gbk"])
def test_import_creates_stores_in_every_encoding(as_user, db, header, encoding, bom):
    c = as_user("hq")
    r = upload(c, csv_bytes(header, *ROWS, encoding=encoding, bom=bom))
    assert r.status_code == 303, r.get_data(as_text=True)[:3000]
    assert r.location.endswith("/stores")
    assert "Imported 3 rows: 3 created, 0 updated, 0 unchanged." in flashes(c)
    assert store(db, "BJ001") == {
        "code": "BJ001", "name": "北京国贸店", "city": "北京", "address": "建国门外大街1号", "region": "R-SH",
        "status": "active", "appid": APPID, "owner_name": "张伟", "owner_phone": "13800138000",
        "tags": ["旗舰店"]}
    gz = store(db, "GZ010")
    assert (gz["name"], gz["region"], gz["status"], gz["tags"]) == ("广州北京路店", "R-GD", "suspended",
                                                                    ["商场店", "社区店"])
    sz = store(db, "SZ020")
    assert (sz["region"], sz["status"], sz["address"], sz["tags"]) == ("D-SOUTH", "closed", "", [])
    assert store_count(db) == 5 + 3


def test_import_through_htmx_redirects_with_hx_redirect(as_user, db):
    c = as_user("east_admin")
    r = upload(c, csv_bytes(EN, "NJ100,南京河西店,南京,,R-JS,,,,,"), hx="import-result")
    assert r.status_code == 200
    assert r.headers["HX-Redirect"] == "/stores"
    assert store(db, "NJ100")["region"] == "R-JS"
    assert store(db, "NJ100")["status"] == "active"      # a blank status means active for a new store


def test_import_page_shows_the_form_and_the_columns(as_user):
    c = as_user("hq")
    r = c.get("/stores/import")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert 'type="file" name="file"' in html
    for zh_name in ("门店编码", "区域编码", "小程序AppID", "店主电话"):
        assert zh_name in html


def test_tab_separated_file_imports(as_user, db):
    """Excel's "Unicode text" is tab separated."""
    c = as_user("hq")
    content = "\t".join(["code", "name", "city", "region_code"]) + "\n" + "\t".join(
        ["TB001", "制表符店", "苏州", "R-JS"]) + "\n"
    r = upload(c, content.encode("utf-16"))
    assert r.status_code == 303
    assert store(db, "TB001")["name"] == "制表符店"


def test_headers_match_ignoring_case_spaces_and_a_stray_bom(as_user, db):
    c = as_user("hq")
    content = "\ufeff\ufeff Code , NAME,城市 ,Region_Code\nHB001,合肥店,合肥,R-JS\n".encode("utf-8")
    r = upload(c, content)
    assert r.status_code == 303, problems(r)
    assert store(db, "HB001")["city"] == "合肥"


# --------------------------------------------------------------------------- all or nothing

def test_one_bad_row_among_good_ones_writes_nothing(as_user, db):
    c = as_user("hq")
    before = everything(db)
    sh1_before = store(db, "SH001")
    content = csv_bytes(
        EN,
        "SH001,上海南京路旗舰店,上海,南京东路1号,R-SH,suspended,旗舰店,,,",     # an update of an existing store
        "NEW01,新店一,杭州,,R-SH,active,新店,,,",
        "NEW02,新店二,杭州,,R-SH,active,,wxNOTANAPPID,,",                    # line 4: bad AppID
        "NEW03,新店三,杭州,,R-SH,active,,,,",
    )
    r = upload(c, content)
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert "<html" in html and "1 problem found. Nothing was imported." in html
    assert problems(r) == [("4", "appid", "An AppID is 'wx' followed by 16 hex digits.")]
    assert 'type="file" name="file"' in html          # the user can try again on the same page
    assert everything(db) == before
    assert store(db, "SH001") == sh1_before
    assert store(db, "NEW01") is None
    assert store_count(db) == 5


def test_bad_rows_through_htmx_return_the_partial(as_user, db):
    c = as_user("hq")
    before = everything(db)
    content = csv_bytes(EN, "NEW01,新店一,杭州,,R-SH,,,,,12345", "NEW02,,杭州,,R-SH,,,,,",
                        "NEW03,新店三,杭州,,R-XX,,,,,")
    r = upload(c, content, hx="import-result")
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert "<html" not in html
    assert "3 problems found. Nothing was imported." in html
    assert [(line, col) for line, col, _msg in problems(r)] == [("2", "owner_phone"), ("3", "name"),
                                                                ("4", "region_code")]
    assert r.headers.get("Vary") and "HX-Request" in r.headers["Vary"]
    assert everything(db) == before


def _long(n: int) -> str:
    return "长" * n


# (who, file content, expected (line, column, part of the message))
REJECTED = {
    "duplicate code": ("hq", csv_bytes(EN, "NEW01,新店一,杭州,,R-SH,,,,,", "NEW02,新店二,杭州,,R-SH,,,,,",
                                       "new01,新店三,杭州,,R-SH,,,,,"),
                       ("4", "code", "Store code repeats row 2.")),
    "code of a store outside the actor's subtree": (
        "east_admin", csv_bytes(EN, "GD001,广州天河店改名,广州,,R-SH,,,,,"),
        ("2", "code", "This code is already in use.")),       # taken, never where (the issue changed this)
    "unknown region": ("hq", csv_bytes(EN, "NEW01,新店一,杭州,,R-XX,,,,,"),
                       ("2", "region_code", "No region or distributor “R-XX” in your part of the organization.")),
    "region outside the actor's scope": (
        "east_admin", csv_bytes(EN, "NEW01,新店一,广州,,R-GD,,,,,"),
        ("2", "region_code", "No region or distributor “R-GD” in your part of the organization.")),
    "a store cannot hang on HQ": ("hq", csv_bytes(EN, "NEW01,新店一,杭州,,HQ,,,,,"),
                                  ("2", "region_code", "No region or distributor “HQ”")),
    "name over 100 characters": ("hq", csv_bytes(EN, f"NEW01,{_long(101)},杭州,,R-SH,,,,,"),
                                 ("2", "name", "longer than 100 characters")),
    "code over 32 characters": ("hq", csv_bytes(EN, f"{'C' * 33},新店,杭州,,R-SH,,,,,"),
                                ("2", "code", "longer than 32 characters")),
    "address over 255 characters": ("hq", csv_bytes(EN, f"NEW01,新店,杭州,{_long(256)},R-SH,,,,,"),
                                    ("2", "address", "longer than 255 characters")),
    "code with a space": ("hq", csv_bytes(EN, "NEW 01,新店,杭州,,R-SH,,,,,"),
                          ("2", "code", "Letters, digits, '-' and '_' only.")),
    "bad AppID": ("hq", csv_bytes(EN, "NEW01,新店,杭州,,R-SH,,,wx123,,"),
                  ("2", "appid", "An AppID is 'wx' followed by 16 hex digits.")),
    "bad phone": ("hq", csv_bytes(EN, "NEW01,新店,杭州,,R-SH,,,,李四,0571-8888888"),
                  ("2", "owner_phone", "11 digits")),
    "unknown status": ("hq", csv_bytes(EN, "NEW01,新店,杭州,,R-SH,open,,,,"),
                       ("2", "status", "Unknown status “open”.")),
    "too many tags": ("hq", csv_bytes(EN, 'NEW01,新店,杭州,,R-SH,,"a,b,c,d,e,f,g,h,i,j,k",,,'),
                      ("2", "tags", "At most 10 tags.")),
    "a required value left blank": ("hq", csv_bytes(ZH, "NEW01,新店,  ,,R-SH,,,,,"),
                                    ("2", "城市", "This field is required.")),
    "unknown column": ("hq", csv_bytes("code,name,city,region_code,email", "NEW01,新店,杭州,R-SH,a@b.cn"),
                       ("1", "email", "Unknown column “email”.")),
    "the same column twice": ("hq", csv_bytes("code,name,city,region_code,门店编码", "NEW01,新店,杭州,R-SH,X"),
                              ("1", "门店编码", "Column “门店编码” appears twice.")),
    "missing required column": ("hq", csv_bytes("code,name,region_code", "NEW01,新店,R-SH"),
                                ("1", "—", "Missing columns: 城市 (city).")),
    "more values than header columns": ("hq", csv_bytes("code,name,city,region_code", "NEW01,新店,杭州,R-SH,多余"),
                                        ("2", "—", "This row has more values than the header has columns.")),
    "Latin-1 text": ("hq", "code,name,city,region_code\r\nNEW01,Café Zürich,Genève,R-SH\r\n".encode("latin-1"),
                     ("—", "—", "The file is neither UTF-8 nor GBK text.")),
    "Latin-1 that GB18030 would turn into Chinese": (
        "hq", "code,name,city,region_code\r\nNEW01,Müller,Zürich,R-SH\r\n".encode("latin-1"),
        ("—", "—", "The file is neither UTF-8 nor GBK text.")),
    "random binary": ("hq", random.Random(7).randbytes(4096),
                      ("—", "—", "The file is neither UTF-8 nor GBK text.")),
    "control characters": ("hq", b"code,name,city,region_code\r\nNEW01,\x00\x01\x02,x,R-SH\r\n",
                           ("—", "—", "The file is neither UTF-8 nor GBK text.")),
    "broken UTF-16": ("hq", b"\xff\xfec\x00o\x00d", ("—", "—", "The file is neither UTF-8 nor GBK text.")),
    "an Excel workbook": ("hq", b"PK\x03\x04\x14\x00\x06\x00" + random.Random(8).randbytes(2000),
                          ("—", "—", "Excel workbook")),
    "empty file": ("hq", b"", ("—", "—", "The file is empty.")),
    "only a BOM and blank lines": ("hq", b"\xef\xbb\xbf\r\n\r\n", ("—", "—", "The file is empty.")),
    "header only": ("hq", csv_bytes(EN), ("—", "—", "The file has no store rows.")),
    "unclosed quote swallowing the next rows": (
        "hq", csv_bytes("code,name,city,region_code,tags", 'NEW01,新店一,杭州,R-SH,"促销', "NEW02,新店二,杭州,R-SH,",
                        "NEW03,新店三,杭州,R-SH,"),
        ("2", "tags", "runs over several lines")),
    "a field larger than the csv module allows": (
        "hq", csv_bytes("code,name,city,region_code", 'NEW01,"' + "x" * 140_000),
        ("2", "—", "could not be read as CSV")),
}


@pytest.mark.parametrize("who,content,expected", REJECTED.values(), ids=REJECTED.keys())
def test_rejected_file_says_why_and_writes_nothing(as_user, db, who, content, expected):
    c = as_user(who)
    before = everything(db)
    r = upload(c, content)
    assert r.status_code == 422
    found = problems(r)
    line, column, message = expected
    assert any(f[0] == line and f[1] == column and message in f[2] for f in found), found
    assert everything(db) == before


def test_line_numbers_count_lines_of_the_file_not_records(as_user, db):
    """A quoted value over two lines is reported on its first line; later rows keep their line."""
    c = as_user("hq")
    content = csv_bytes(EN, 'NEW01,新店一,杭州,"西湖区\n文三路1号",R-SH,,,,,', "NEW02,新店二,杭州,,R-SH,,,,,12")
    r = upload(c, content)
    assert r.status_code == 422
    assert [(line, col) for line, col, _m in problems(r)] == [("2", "address"), ("4", "owner_phone")]


def test_too_many_rows_are_refused(as_user, app, db):
    app.config["IMPORT_MAX_ROWS"] = 2
    c = as_user("hq")
    r = upload(c, csv_bytes(EN, *ROWS))
    assert r.status_code == 422
    assert problems(r) == [("—", "—", "At most 2 rows per file.")]
    assert store_count(db) == 5


def test_posting_without_a_file_asks_for_one(as_user, db):
    c = as_user("hq")
    r = c.post("/stores/import", data={}, content_type="multipart/form-data")
    assert r.status_code == 422
    assert "Choose a CSV file." in r.get_data(as_text=True)


def test_trailing_empty_columns_from_excel_are_ignored(as_user, db):
    c = as_user("hq")
    r = upload(c, csv_bytes("code,name,city,region_code,,", "NEW01,新店一,杭州,R-SH,,", "NEW02,新店二,杭州,R-SH,,,,"))
    assert r.status_code == 303, problems(r)
    assert store(db, "NEW02")["city"] == "杭州"


# --------------------------------------------------------------------------- re-import

def test_reimporting_the_same_file_changes_nothing_and_updates_by_code(as_user, db):
    c = as_user("hq")
    content = csv_bytes(EN, *ROWS)
    assert upload(c, content).status_code == 303
    after_first = everything(db)

    r = upload(c, content)
    assert r.status_code == 303
    assert "Imported 3 rows: 0 created, 0 updated, 3 unchanged." in flashes(c)
    stores, links, tags, imports = everything(db)
    assert (stores, links, tags) == after_first[:3]         # not even updated_at moved
    assert imports == after_first[3] + 1
    assert store_count(db) == 8
    assert db.session.scalar(select(func.count()).select_from(Store).where(Store.code == "BJ001")) == 1

    last_changed = dict(db.session.execute(select(Store.code, Store.updated_at)).all())
    changed = csv_bytes(EN, ROWS[0].replace(",北京,", ",北京市,"), ROWS[1].replace('"商场店,社区店"', "社区店"),
                        ROWS[2])
    time.sleep(0.01)
    r = upload(c, changed)
    assert r.status_code == 303
    assert "Imported 3 rows: 0 created, 2 updated, 1 unchanged." in flashes(c)
    assert store(db, "BJ001")["city"] == "北京市"
    assert store(db, "GZ010")["tags"] == ["社区店"]
    assert store_count(db) == 8
    # the store page's "last changed" moves for the store whose fields changed, and only for it
    now_changed = dict(db.session.execute(select(Store.code, Store.updated_at)).all())
    assert now_changed["BJ001"] > last_changed["BJ001"]
    assert {k: v for k, v in now_changed.items() if k != "BJ001"} == \
        {k: v for k, v in last_changed.items() if k != "BJ001"}


def test_reimport_moves_an_existing_store_and_matches_codes_ignoring_case(as_user, db):
    c = as_user("east_admin")
    r = upload(c, csv_bytes(EN, "sh002,上海徐家汇店,上海,,R-JS,,,,,"))
    assert r.status_code == 303, problems(r)
    assert store_count(db) == 5
    moved = store(db, "sh002")
    assert moved["region"] == "R-JS"
    # the store list of the region it moved to shows it
    r_js = db.session.scalar(select(OrgNode.id).where(OrgNode.code == "R-JS"))
    assert "上海徐家汇店" in c.get(f"/stores?node={r_js}").get_data(as_text=True)


def test_columns_left_out_of_the_file_keep_their_values(as_user, db, org):
    """A file with only the required columns renames stores; it must not wipe tags, AppIDs,
    owners or reopen a closed store."""
    db.session.execute(update(Store).where(Store.code == "SH001")
                       .values(status="closed", appid=APPID, owner_name="王芳", owner_phone="13900139000"))
    db.session.commit()
    c = as_user("hq")
    r = upload(c, csv_bytes("code,name,city,region_code", "SH001,上海南京路旗舰店,上海,R-SH"))
    assert r.status_code == 303, problems(r)
    assert "0 created, 1 updated, 0 unchanged" in flashes(c)
    assert store(db, "SH001") == {
        "code": "SH001", "name": "上海南京路旗舰店", "city": "上海", "address": org.stores["sh1"].address,
        "region": "R-SH", "status": "closed", "appid": APPID, "owner_name": "王芳",
        "owner_phone": "13900139000", "tags": ["旗舰店"]}


def test_a_blank_cell_clears_the_value_but_a_blank_status_keeps_it(as_user, db):
    db.session.execute(update(Store).where(Store.code == "SH002").values(status="suspended", appid=APPID))
    db.session.commit()
    c = as_user("hq")
    r = upload(c, csv_bytes(EN, "SH002,上海徐家汇店,上海,,R-SH,,,,,"))
    assert r.status_code == 303, problems(r)
    sh2 = store(db, "SH002")
    assert (sh2["status"], sh2["appid"], sh2["address"]) == ("suspended", "", "")


# --------------------------------------------------------------------------- export

def exported(client, query: str = "") -> tuple[bytes, list[list[str]]]:
    r = client.get("/stores/export.csv" + query)
    assert r.status_code == 200
    assert r.mimetype == "text/csv"
    assert "attachment" in r.headers["Content-Disposition"]
    assert r.data.startswith(b"\xef\xbb\xbf")                  # Excel opens UTF-8 right only with a BOM
    rows = list(csv.reader(io.StringIO(r.data.decode("utf-8-sig"))))
    return r.data, rows


def test_export_then_import_round_trip_changes_nothing(as_user, db, org):
    factories.make_store(org.nodes["r_js"], "FX001", name="=HYPERLINK(\"http://evil\")", city="苏州",
                         owner_name="@张", address="-1 号", tags=["社区店", "旗舰店"], appid=APPID,
                         owner_phone="13700137000", status="suspended")
    db.session.commit()
    c = as_user("hq")
    data, rows = exported(c)
    assert rows[0] == EN.split(",") + ["region_name"]
    assert [r[0] for r in rows[1:]] == ["FX001", "GD001", "JS001", "SH001", "SH002", "SO001"]
    fx = rows[1]
    # a cell Excel would run as a formula is written as text
    assert fx[1] == "'=HYPERLINK(\"http://evil\")" and fx[8] == "'@张" and fx[3] == "'-1 号"
    assert fx[6] == "旗舰店,社区店" and fx[5] == "suspended" and fx[4] == "R-JS" and fx[10] == "江苏区"

    before = everything(db)
    r = upload(c, data)
    assert r.status_code == 303, problems(r)
    assert "Imported 6 rows: 0 created, 0 updated, 6 unchanged." in flashes(c)
    assert everything(db)[:3] == before[:3]
    assert store(db, "FX001")["name"] == "=HYPERLINK(\"http://evil\")"


def test_export_in_chinese_round_trips(login_as, db):
    c = login_as("hq")                                   # the default UI language is Chinese
    db.session.execute(update(Store).where(Store.code == "SH002").values(status="closed"))
    db.session.commit()
    data, rows = exported(c)
    assert rows[0] == ZH.split(",") + ["区域名称"]
    statuses = {r[0]: r[5] for r in rows[1:]}
    assert statuses["SH002"] == "已关闭" and statuses["SH001"] == "营业中"
    before = everything(db)
    r = upload(c, data)
    assert r.status_code == 303
    assert everything(db)[:3] == before[:3]


def test_gbk_resave_of_an_export_round_trips(as_user, db):
    """What Excel does when a user opens the export and saves it as "CSV (comma delimited)"."""
    c = as_user("hq")
    data, _rows = exported(c)
    gbk = data.decode("utf-8-sig").encode("gbk")
    before = everything(db)
    r = upload(c, gbk)
    assert r.status_code == 303, problems(r)
    assert everything(db)[:3] == before[:3]


def test_export_respects_the_scope(as_user, db):
    c = as_user("east_admin")
    _data, rows = exported(c)
    assert [r[0] for r in rows[1:]] == ["JS001", "SH001", "SH002"]
    c = as_user("sh_manager")                          # regional managers may export their region
    _data, rows = exported(c)
    assert [r[0] for r in rows[1:]] == ["SH001", "SH002"]


def test_export_respects_the_filters(as_user, db, org):
    db.session.execute(update(Store).where(Store.code == "SH002").values(status="suspended"))
    db.session.commit()
    c = as_user("hq")
    codes = lambda q: [r[0] for r in exported(c, q)[1][1:]]          # noqa: E731
    assert codes("?status=suspended") == ["SH002"]
    assert codes("?tag=旗舰店") == ["SH001"]
    assert codes("?q=南京") == ["JS001", "SH001"]
    assert codes(f"?node={org.nodes['r_js'].id}") == ["JS001"]
    assert codes(f"?node={org.nodes['south'].id}") == ["GD001", "SO001"]
    assert codes(f"?node={org.nodes['east'].id}&status=active") == ["JS001", "SH001"]
    c = as_user("east_admin")
    assert codes(f"?node={org.nodes['r_gd'].id}") == []          # a node outside the scope gives nothing


# --------------------------------------------------------------------------- roles

@pytest.mark.parametrize("who", ["sh_manager", "gd_manager", "owner1", "owner_gd"])
def test_managers_and_owners_may_not_import(login_as, db, who):
    c = login_as(who)
    before = everything(db)
    assert c.get("/stores/import").status_code == 403
    assert upload(c, csv_bytes(EN, "NEW01,新店,杭州,,R-SH,,,,,")).status_code == 403
    assert everything(db) == before


@pytest.mark.parametrize("who", ["owner1", "owner_gd"])
def test_store_owners_may_not_export(login_as, who):
    c = login_as(who)
    r = c.get("/stores/export.csv")
    assert r.status_code == 403
    assert b"SH001" not in r.data and b"GD001" not in r.data


def test_signed_out_visitors_are_sent_to_login(client, org):
    assert client.get("/stores/export.csv").status_code == 302
    r = client.post("/stores/import", data={"file": (io.BytesIO(csv_bytes(EN, ROWS[0])), "s.csv")},
                    content_type="multipart/form-data")
    assert r.status_code in (302, 401)


# --------------------------------------------------------------------------- scale and audit

def test_ten_thousand_rows_import_in_one_go(as_user, db):
    c = as_user("hq")
    regions = ["R-SH", "R-JS", "R-GD", "D-SOUTH"]
    tags = ["", "旗舰店", '"商场店,社区店"', "新店"]
    rows = [f"K{i:05d},测试门店{i},城市{i % 300},人民路{i}号,{regions[i % 4]},{('active', '已暂停', 'closed')[i % 3]},"
            f"{tags[i % 4]},wx{i:016x},店主{i},1{3 + i % 7}{i:09d}" for i in range(10_000)]
    content = csv_bytes(ZH, *rows, encoding="gbk")
    started = time.perf_counter()
    r = upload(c, content)
    elapsed = time.perf_counter() - started
    print(f"\n10,000-row import on {db.engine.dialect.name}: {elapsed:.2f} s")
    assert r.status_code == 303, problems(r)[:5]
    assert db.session.scalar(select(func.count()).select_from(Store).where(Store.code.like("K%"))) == 10_000
    assert "Imported 10,000 rows: 10,000 created, 0 updated, 0 unchanged." in flashes(c)
    assert store(db, "K09999") == {
        "code": "K09999", "name": "测试门店9999", "city": "城市99", "address": "人民路9999号", "region": "D-SOUTH",
        "status": "active", "appid": f"wx{9999:016x}", "owner_name": "店主9999", "owner_phone": "16000009999",
        "tags": ["新店"]}
    tagged = db.session.scalar(select(func.count()).select_from(store_tags).join(Tag).where(Tag.name == "社区店"))
    assert tagged == 2_500
    assert elapsed < 30


def test_import_is_recorded_in_the_audit_log(as_user, db):
    c = as_user("hq")
    r = upload(c, csv_bytes(EN, "SH001,上海南京路旗舰店,上海,,R-SH,,旗舰店,,,", ROWS[0], ROWS[1]),
               filename="三月门店.csv")
    assert r.status_code == 303
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "store.import")).all()
    assert len(entries) == 1
    entry = entries[0]
    assert entry.actor_name == "hq"
    assert entry.object_label == "三月门店.csv"
    assert entry.details == {"rows": 3, "created": 2, "updated": 1, "unchanged": 0}
    assert "三月门店.csv" in c.get("/audit?action=store.import").get_data(as_text=True)


def test_a_failed_import_leaves_no_audit_entry(as_user, db):
    c = as_user("east_admin")
    assert upload(c, csv_bytes(EN, "NEW01,新店,广州,,R-GD,,,,,")).status_code == 422
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)
                             .where(AuditEntry.action == "store.import")) == 0
