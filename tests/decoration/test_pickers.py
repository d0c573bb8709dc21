"""The link picker (a page, a product, a category, a campaign, as the paths the mini-program
reads) and the block forms that carry the pickers and the hotspot drawing."""
from __future__ import annotations

from urllib.parse import quote

from portal.extensions import db
from portal.org.scope import scope_for
from portal.targets.services import TargetSpec
from tests.campaigns.helpers import make_campaign, push
from tests.factories import make_product, make_template_version

HOTSPOT = {"key": "h1", "type": "image_hotspot", "locked": False,
           "data": {"image": "/static/img/sample-hotspot.svg",
                    "hotspots": [{"x": 10, "y": 20, "w": 30, "h": 40, "link": "/pages/goods/index"}]}}


def _links(client, tab, q="", page=1):
    return client.get(f"/links/picker?tab={tab}&q={quote(q)}&page={page}").get_data(as_text=True)


def test_pages_goods_and_categories_become_the_paths_the_mini_program_reads(app, org, login_as):
    make_product(org.nodes["hq"], "CF-LATTE", name="冰拿铁", category="咖啡")
    make_product(org.nodes["hq"], "TEA-1", name="柠檬茶", category="茶饮")
    make_product(org.nodes["south"], "SO-ONLY", name="华南专供", category="华南")
    db.session.commit()
    client = login_as("east_admin")
    assert 'data-link-value="/pages/member/index"' in _links(client, "pages")
    goods = _links(client, "goods", "拿铁")
    assert 'data-link-value="/pages/goods/detail?product=CF-LATTE"' in goods and "柠檬茶" not in goods
    assert "华南专供" not in _links(client, "goods")                  # another distributor's goods
    categories = _links(client, "categories")
    assert f'data-link-value="/pages/goods/index?category={quote("咖啡")}"' in categories
    assert "华南" not in categories


def test_goods_are_searched_and_paged_in_the_database(app, org, login_as):
    for i in range(15):
        make_product(org.nodes["hq"], f"P-{i:02d}", name=f"蛋糕{i:02d}")
    db.session.commit()
    client = login_as("hq")
    first, second = _links(client, "goods", "蛋糕"), _links(client, "goods", "蛋糕", page=2)
    assert first.count("data-link-value=") == 12 and second.count("data-link-value=") == 3
    assert "15" in first


def test_campaigns_offered_are_published_ones_and_an_owner_s_are_those_its_store_runs(app, org, login_as):
    hq = org.users["hq"]
    running = make_campaign(hq, name="夏日满减")
    make_campaign(hq, name="草稿活动", publish=False)
    other = make_campaign(hq, name="别店的活动")
    push(hq, running, TargetSpec(store_codes=["SH001"]))
    push(hq, other, TargetSpec(store_codes=["GD001"]))
    page = _links(login_as("hq"), "campaigns")
    assert f'data-link-value="/pages/campaign/detail?id={running.id}"' in page and "草稿活动" not in page
    page = _links(login_as("owner1"), "campaigns")
    assert "夏日满减" in page and "别店的活动" not in page


def test_an_owner_and_a_manager(app, org, login_as):
    assert login_as("owner1").get("/links/picker").status_code == 200
    assert login_as("sh_manager").get("/links/picker").status_code == 403


def test_the_hotspot_form_draws_on_its_picture_with_a_row_for_every_area_it_may_hold(app, org, login_as):
    hq = org.users["hq"]
    with app.test_request_context():
        template, _v = make_template_version(hq, "首页", [HOTSPOT])
    db.session.commit()
    page = login_as("hq").get(f"/templates/{template.id}/blocks/h1").get_data(as_text=True)
    assert 'data-hotspot-editor data-image-input="image"' in page
    assert 'src="/static/img/sample-hotspot.svg"' in page
    assert page.count('data-row="') == 10                              # the block's maximum
    assert page.count("is-spare") == 8                                  # one used, one blank shown
    assert 'data-pick-image="image"' in page and 'data-pick-link="hotspots-0-link"' in page
    assert 'id="media-picker"' in page and 'id="link-picker"' in page


def test_drawn_areas_are_saved_as_percentages_and_blank_rows_are_dropped(app, org, login_as):
    hq = org.users["hq"]
    with app.test_request_context():
        template, _v = make_template_version(hq, "首页", [HOTSPOT])
    db.session.commit()
    data = {"revision": str(template.revision), "image": "/static/img/sample-hotspot.svg"}
    for i in range(10):
        data.update({f"hotspots-{i}-{k}": "" for k in ("x", "y", "w", "h", "link")})
    data.update({"hotspots-0-x": "5", "hotspots-0-y": "5", "hotspots-0-w": "40", "hotspots-0-h": "50",
                 "hotspots-0-link": "/pages/goods/index", "hotspots-3-x": "60", "hotspots-3-y": "10",
                 "hotspots-3-w": "30", "hotspots-3-h": "80", "hotspots-3-link": "/pages/goods/detail?product=CF-1"})
    r = login_as("hq").post(f"/templates/{template.id}/blocks/h1", data=data)
    assert r.status_code in (200, 302)
    db.session.expire_all()
    spots = template.draft[0]["data"]["hotspots"]
    assert [(s["x"], s["y"], s["w"], s["h"]) for s in spots] == [(5, 5, 40, 50), (60, 10, 30, 80)]
    # An area running off the picture is refused beside its field, nothing saved.
    data["hotspots-3-w"], data["revision"] = "50", str(template.revision)
    r = login_as("hq").post(f"/templates/{template.id}/blocks/h1", data=data)
    assert r.status_code == 422 and 'data-field="hotspots-3-w"' in r.get_data(as_text=True)
    db.session.expire_all()
    assert template.draft[0]["data"]["hotspots"][1]["w"] == 30


def test_a_store_owner_s_editable_block_has_the_pickers_too(app, org, login_as):
    from portal.pushes.services import create_push

    hq = org.users["hq"]
    with app.test_request_context():
        template, version = make_template_version(hq, "首页", [HOTSPOT])
    create_push(scope_for(hq), "template", version.id, "v1", TargetSpec(store_codes=["SH001"]), actor=hq)
    db.session.commit()
    page = login_as("owner1").get(f"/stores/{org.stores['sh1'].id}/page/blocks/h1").get_data(as_text=True)
    assert "data-hotspot-editor" in page and 'id="media-picker"' in page
