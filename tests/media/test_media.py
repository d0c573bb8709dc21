"""The image space: upload (re-encoded, upright, thumbnails), who sees and changes which
pictures, rename, delete refused while a page uses it, the public files, and the pickers."""
from __future__ import annotations

import io
import os

from PIL import Image
from sqlalchemy import func, select

from portal.audit.models import AuditEntry
from portal.goods.models import ProductImage
from portal.media.models import MediaImage
from portal.media.services import media_dir, upload_image
from portal.org.scope import Scope, scope_for
from tests.conftest import hx_headers
from tests.factories import make_product, make_template_version, png_bytes

JSON = {"Accept": "application/json"}


def _jpeg_turned_on_its_side(width=80, height=40) -> bytes:
    """A JPEG whose EXIF says "rotate 90°" (orientation 6) and which carries a GPS-ish comment."""
    out = io.BytesIO()
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x010E] = "秘密 GPS 31.2,121.4"
    Image.new("RGB", (width, height), (10, 200, 30)).save(out, format="JPEG", exif=exif.tobytes())
    return out.getvalue()


def _upload(client, raw, name="横幅.png", headers=JSON):
    return client.post("/media/upload", data={"files": (io.BytesIO(raw), name)}, headers=headers)


def _picture(org, node="hq", name="图.png"):
    picture = upload_image(Scope.of_path(org.nodes[node].path), png_bytes(60, 40), name, actor=org.users["hq"])
    from portal.extensions import db
    db.session.commit()
    return picture


def _files() -> set[str]:
    return set(os.listdir(media_dir()))


# --------------------------------------------------------------------------- upload

def test_an_upload_is_re_encoded_upright_without_its_exif_with_a_thumbnail(app, login_as, db):
    client = login_as("east_admin")
    r = _upload(client, _jpeg_turned_on_its_side(), "门头照.jpg")
    assert r.status_code == 200, r.get_data(as_text=True)
    made = r.get_json()["images"][0]
    picture = db.session.get(MediaImage, made["id"])
    assert picture.name == "门头照" and picture.path == "/1/2/"            # 华东's own space
    assert (picture.width, picture.height) == (40, 80)                     # turned upright
    with Image.open(os.path.join(media_dir(), picture.filename)) as kept:
        assert kept.size == (40, 80) and not kept.getexif()                 # nothing hidden survives
        assert b"GPS" not in open(os.path.join(media_dir(), picture.filename), "rb").read()
    with Image.open(os.path.join(media_dir(), picture.thumb)) as thumb:
        assert max(thumb.size) <= 400
    assert made["url"] == f"/media/i/{picture.filename}"
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "media.upload"))
    assert entry.object_label == "门头照" and entry.path == "/1/2/"


def test_a_large_picture_gets_a_400_px_thumbnail(app, login_as, db):
    client = login_as("hq")
    assert _upload(client, png_bytes(1600, 800)).status_code == 200
    picture = db.session.scalar(select(MediaImage))
    with Image.open(os.path.join(media_dir(), picture.thumb)) as thumb:
        assert thumb.size == (400, 200)


def test_what_is_not_a_picture_is_refused_naming_the_field_and_nothing_is_kept(app, login_as, db):
    client = login_as("hq")
    before = _files()
    for raw, name in ((b"MZ\x90\x00 not a picture", "a.png"), (png_bytes(fmt="GIF"), "a.gif"),
                      (b"", "empty.png"), (b"\x89PNG" + b"0" * (5 * 1024 * 1024 + 10), "big.png")):
        r = _upload(client, raw, name)
        assert r.status_code == 422, name
        error = r.get_json()["error"]
        assert error["field"] == "files" and error["message"]
    assert db.session.scalar(select(func.count()).select_from(MediaImage)) == 0
    assert _files() == before


def test_several_at_once_from_the_plain_form_are_all_or_nothing(app, login_as, db):
    client = login_as("hq")
    before = _files()
    r = client.post("/media/upload", data={"files": [(io.BytesIO(png_bytes()), "一.png"),
                                                     (io.BytesIO(b"junk"), "二.png")]})
    assert r.status_code == 303
    page = client.get("/media").get_data(as_text=True)
    assert "二.png" in page                                               # the flash names the bad file
    assert db.session.scalar(select(func.count()).select_from(MediaImage)) == 0
    assert _files() == before
    r = client.post("/media/upload", data={"files": [(io.BytesIO(png_bytes()), "一.png"),
                                                     (io.BytesIO(png_bytes(fmt="WEBP")), "二.webp")]})
    assert r.status_code == 303
    assert sorted(db.session.scalars(select(MediaImage.name))) == ["一", "二"]


def test_a_store_owner_may_not_upload(app, login_as, db):
    client = login_as("owner1")
    assert _upload(client, png_bytes()).status_code == 403
    assert db.session.scalar(select(func.count()).select_from(MediaImage)) == 0


# --------------------------------------------------------------------------- who sees what

def test_each_sees_its_own_and_the_pictures_above_it(app, org, login_as):
    for node in ("hq", "east", "south", "r_sh"):
        _picture(org, node, f"{node}的图.png")
    seen = {}
    for role, url in (("hq", "/media"), ("east_admin", "/media"), ("south_admin", "/media"),
                      ("owner1", "/media/picker"), ("owner_gd", "/media/picker")):
        page = login_as(role).get(url).get_data(as_text=True)
        seen[role] = {n for n in ("hq", "east", "south", "r_sh") if f"{n}的图" in page}
    assert seen == {"hq": {"hq"}, "east_admin": {"hq", "east"}, "south_admin": {"hq", "south"},
                    "owner1": {"hq", "east", "r_sh"}, "owner_gd": {"hq", "south"}}


def test_search_and_mine_filter_in_the_database(app, org, login_as):
    _picture(org, "hq", "夏季横幅.png")
    _picture(org, "east", "夏季门头.png")
    _picture(org, "east", "冬季.png")
    client = login_as("east_admin")
    page = client.get("/media?q=夏季", hx="media-grid").get_data(as_text=True)
    assert "夏季横幅" in page and "夏季门头" in page and "冬季" not in page and "<html" not in page
    page = client.get("/media?q=夏季&owner=mine", hx="media-grid").get_data(as_text=True)
    assert "夏季门头" in page and "夏季横幅" not in page


def test_only_the_node_s_own_people_rename_or_delete(app, org, login_as, db):
    hq_picture = _picture(org, "hq")
    client = login_as("east_admin")
    assert client.post(f"/media/{hq_picture.id}/rename", data={"name": "改"}).status_code == 403
    assert client.post(f"/media/{hq_picture.id}/delete").status_code == 403
    south = _picture(org, "south")
    assert client.post(f"/media/{south.id}/delete").status_code == 404
    assert db.session.get(MediaImage, hq_picture.id).name == "图"
    page = client.get("/media").get_data(as_text=True)
    assert f'action="/media/{hq_picture.id}/delete"' not in page          # no button that would fail


# --------------------------------------------------------------------------- rename, delete

def test_rename_swaps_the_card_and_a_blank_name_is_refused_beside_the_field(app, org, login_as, db):
    picture = _picture(org, "hq")
    client = login_as("hq")
    r = client.post(f"/media/{picture.id}/rename", data={"name": "  "}, headers=hx_headers(f"media-{picture.id}"))
    assert r.status_code == 422
    body = r.get_data(as_text=True)
    assert 'data-field="name"' in body and "<html" not in body
    assert db.session.get(MediaImage, picture.id).name == "图"
    r = client.post(f"/media/{picture.id}/rename", data={"name": "春季 横幅"},
                    headers=hx_headers(f"media-{picture.id}"))
    assert r.status_code == 200 and "春季 横幅" in r.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(MediaImage, picture.id).name == "春季 横幅"


def test_a_picture_a_template_uses_is_not_deleted(app, org, login_as, db):
    picture = _picture(org, "hq")
    blocks = [{"key": "b1", "type": "banner", "locked": True,
               "data": {"slides": [{"image": picture.url, "title": "", "link": ""}], "interval": 4}}]
    make_template_version(org.users["hq"], "夏季首页", blocks)
    db.session.commit()
    client = login_as("hq")
    r = client.post(f"/media/{picture.id}/delete")
    assert r.status_code == 303
    page = client.get("/media").get_data(as_text=True)
    assert "夏季首页" in page                                             # the flash says where it is used
    assert db.session.get(MediaImage, picture.id) is not None
    assert picture.filename in _files()


def test_an_unused_picture_is_deleted_with_its_files(app, org, login_as, db):
    picture = _picture(org, "hq")
    name, thumb, pid = picture.filename, picture.thumb, picture.id
    client = login_as("hq")
    assert client.post(f"/media/{pid}/delete").status_code == 303
    db.session.expire_all()
    assert db.session.get(MediaImage, pid) is None
    assert name not in _files() and thumb not in _files()
    assert client.get(f"/media/i/{thumb}").status_code == 404


# --------------------------------------------------------------------------- files, use

def test_files_are_public_and_cached_for_a_year(app, org, client):
    picture = _picture(org, "hq")
    for name in (picture.filename, picture.thumb):
        r = client.get(f"/media/i/{name}")
        assert r.status_code == 200 and r.mimetype == "image/png"
        assert r.cache_control.max_age == 31536000
    for name in ("0" * 32 + ".png", "../secret_key", "x.png"):
        assert client.get(f"/media/i/{name}").status_code == 404


def test_a_banner_takes_a_picture_of_the_image_space_and_the_api_serves_its_address(app, org, login_as, db):
    from portal.api.services import issue_key
    from portal.decoration import services as deco
    from portal.pushes.services import create_push
    from portal.targets.services import TargetSpec

    picture = _picture(org, "hq")
    hq = org.users["hq"]
    with app.test_request_context():
        template, _v = make_template_version(hq, "首页", [
            {"key": "n1", "type": "notice", "locked": True, "data": {"text": "欢迎", "link": ""}}])
        deco.add_block(scope_for(hq), template, "banner", actor=hq)
    db.session.commit()
    key = template.draft[1]["key"]
    client = login_as("hq")
    r = client.post(f"/templates/{template.id}/blocks/{key}", data={
        "revision": str(template.revision), "slides-0-image": picture.url, "slides-0-title": "夏季",
        "slides-0-link": "/pages/goods/detail?product=CF-1", "interval": "4"})
    assert r.status_code in (200, 302), r.get_data(as_text=True)[:2000]
    db.session.expire_all()
    r = client.post(f"/templates/{template.id}/publish", data={"revision": str(template.revision), "note": ""})
    assert r.status_code in (200, 302)
    db.session.expire_all()
    version = template.versions[0]
    create_push(scope_for(hq), "template", version.id, "v", TargetSpec(store_codes=["SH001"]), actor=hq)
    _row, secret = issue_key(org.stores["sh1"], actor=None)
    db.session.commit()
    page = client.get("/api/v1/stores/SH001/page", headers={"Authorization": f"Bearer {secret}"}).get_json()
    slide = page["blocks"][1]["data"]["slides"][0]
    assert slide["image"] == picture.url and client.get(slide["image"]).status_code == 200


def test_a_typed_image_address_that_is_not_a_picture_address_is_refused(app, org, login_as, db):
    from portal.decoration.blocks import validate_block_data

    data = {"slides": [{"image": "/media/i/../../secret", "title": "", "link": ""}], "interval": 4}
    with app.test_request_context():
        assert validate_block_data("banner", data)
        data["slides"][0]["image"] = "/media/i/" + "a" * 32 + ".webp"
        assert validate_block_data("banner", data) == []


def test_a_product_takes_a_copy_of_a_picture_of_the_image_space(app, org, login_as, db):
    picture = _picture(org, "hq")
    product = make_product(org.nodes["east"])
    db.session.commit()
    client = login_as("east_admin")
    r = client.post(f"/goods/{product.id}/images/from-media", data={"image-csrf_token": client.csrf_token(),
                                                                   "media_id": str(picture.id)},
                    headers=hx_headers("product-images"))
    assert r.status_code == 200, r.get_data(as_text=True)[:1000]
    image = db.session.scalar(select(ProductImage).where(ProductImage.product_id == product.id))
    assert image is not None and image.filename != picture.filename
    assert f"/goods/{product.id}/images/{image.id}" in r.get_data(as_text=True)     # the swap shows it
    # A picture the user may not see is not found, and nothing is added.
    south = _picture(org, "south")
    r = client.post(f"/goods/{product.id}/images/from-media", data={"image-csrf_token": client.csrf_token(),
                                                                   "media_id": str(south.id)},
                    headers=hx_headers("product-images"))
    assert r.status_code == 422 and 'data-field="image"' in r.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(ProductImage)) == 1
    # Deleting the image-space picture leaves the product its own copy.
    login_as("hq").post(f"/media/{picture.id}/delete")
    assert login_as("east_admin").get(f"/goods/{product.id}/images/{image.id}").status_code == 200


def test_the_picker_offers_pick_buttons_and_upload_only_to_those_who_may(app, org, login_as):
    picture = _picture(org, "hq")
    page = login_as("east_admin").get("/media/picker").get_data(as_text=True)
    assert f'data-media-url="{picture.url}"' in page and "data-media-upload" in page and "<html" not in page
    page = login_as("owner1").get("/media/picker").get_data(as_text=True)
    assert f'data-media-url="{picture.url}"' in page and "data-media-upload" not in page


def test_a_picture_a_store_s_own_page_uses_is_not_deleted_either(app, org, login_as, db):
    from portal.decoration.models import BlockOverride, StorePage

    picture = _picture(org, "hq")
    with app.test_request_context():
        template, version = make_template_version(org.users["hq"], "首页", [
            {"key": "b1", "type": "banner", "locked": False,
             "data": {"slides": [{"image": "/static/img/sample-banner.svg", "title": "", "link": ""}],
                      "interval": 4}}])
    db.session.add(StorePage(store_id=org.stores["sh1"].id, version_id=version.id))
    db.session.add(BlockOverride(store_id=org.stores["sh1"].id, template_id=template.id, block_key="b1",
                                 data={"slides": [{"image": picture.url, "title": "", "link": ""}], "interval": 4}))
    db.session.commit()
    client = login_as("hq")
    client.post(f"/media/{picture.id}/delete")
    assert "1 家门店的页面" in client.get("/media").get_data(as_text=True)
    assert db.session.get(MediaImage, picture.id) is not None


def test_counts_read_right_in_english_and_chinese(app, org, en):
    client = en("hq")
    client.post("/media/upload", data={"files": (io.BytesIO(png_bytes()), "a.png")})
    page = client.get("/media").get_data(as_text=True)
    assert "1 picture uploaded." in page and "1 picture<" in page.replace("</span>", "<")
    client.post("/language", data={"lang": "zh_Hans_CN"})
    client.post("/media/upload", data={"files": [(io.BytesIO(png_bytes()), "b.png"),
                                                 (io.BytesIO(png_bytes()), "c.png")]})
    page = client.get("/media").get_data(as_text=True)
    assert "已上传 2 张图片。" in page and "共 3 张图片" in page


def test_the_audit_log_names_an_uploads_details(app, login_as, db):
    client = login_as("hq")
    assert _upload(client, png_bytes(750, 320)).status_code == 200
    row = client.get("/audit?action=media.upload").get_data(as_text=True)
    assert "图片尺寸" in row and "750×320" in row and "size:" not in row
