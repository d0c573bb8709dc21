"""HQ uploads pictures to the image space (several at once, each with its progress), picks one
for a banner in the template editor (uploading one more inside the picker), draws a hotspot by
dragging on the picture, picks its link in the link picker, and the percentages are saved.

Selectors lean on ids, names and data attributes, not on the (translated) visible text.
"""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.decoration.models import Template
from portal.extensions import db
from portal.media.models import MediaImage
from tests import factories
from tests.browser.test_csp import violations, watch
from tests.browser.test_flows import log_in

pytestmark = pytest.mark.browser


def _png(name: str, w: int = 750, h: int = 300) -> dict:
    return {"name": name, "mimeType": "image/png", "buffer": factories.png_bytes(w, h)}


def _new_template(page, name: str) -> str:
    page.goto("/templates/new")
    page.fill("input[name=name]", name)
    page.click(".page-body form button[type=submit]")
    page.wait_for_url(re.compile(r"/templates/\d+$"))
    return page.url


def _add_block(page, block_type: str) -> None:
    page.click(f".block-palette button[value={block_type}]")
    expect(page.locator("#block-panel")).to_be_visible()


def test_upload_to_the_image_space_and_use_a_picture_in_a_banner(page, world):
    console = watch(page)               # the Content-Security-Policy holds throughout
    log_in(page, "hq")
    page.click(".navbar a.nav-link[href='/media']")
    page.set_input_files("[data-media-files]", files=[_png("夏季横幅.png"), _png("门头.png", 400, 400),
                                                       {"name": "坏.png", "mimeType": "image/png", "buffer": b"junk"}])
    # The good ones land in the grid; the bad one stays listed with its reason.
    # Each upload is re-encoded with its thumbnail before the grid shows it: slow on a loaded machine.
    expect(page.locator("#media-grid [data-media-card]")).to_have_count(2, timeout=20_000)
    expect(page.locator("[data-media-progress] .is-failed")).to_have_count(1)
    expect(page.locator("[data-media-progress] .is-failed .media-progress-note")).not_to_be_empty()

    _new_template(page, "夏季首页")
    _add_block(page, "banner")
    page.click("#block-panel [data-pick-image='slides-0-image']")
    picker = page.locator("#media-picker")
    expect(picker).to_be_visible()
    expect(picker.locator("[data-pick-media]")).to_have_count(2)
    # One more, uploaded inside the picker, shows at once in its grid.
    page.set_input_files("#media-picker [data-media-files]", files=[_png("新品.png")])
    expect(picker.locator("[data-pick-media]")).to_have_count(3)
    picker.locator("[data-pick-media][data-media-name='夏季横幅']").click()
    expect(picker).to_be_hidden()
    picture = db.session.scalar(select(MediaImage).where(MediaImage.name == "夏季横幅"))
    expect(page.locator("#block-panel input[name='slides-0-image']")).to_have_value(picture.url)

    page.click("#block-panel [data-pick-link='slides-0-link']")
    links = page.locator("#link-picker")
    expect(links).to_be_visible()
    links.locator("[data-link-value='/pages/coupon/index']").click()
    expect(links).to_be_hidden()
    expect(page.locator("#block-panel input[name='slides-0-link']")).to_have_value("/pages/coupon/index")

    page.click("#block-panel button[type=submit]")
    expect(page.locator("#block-panel")).to_have_count(0)
    expect(page.locator(f".phone .mp-block[data-type=banner] img[src='{picture.url}']")).to_have_count(1)
    db.session.rollback()
    slide = db.session.scalar(select(Template)).draft[0]["data"]["slides"][0]
    assert (slide["image"], slide["link"]) == (picture.url, "/pages/coupon/index")
    assert violations(page) == [] and console == []


def _drag(page, box, start, end) -> None:
    page.mouse.move(box["x"] + box["width"] * start[0], box["y"] + box["height"] * start[1])
    page.mouse.down()
    for i in range(1, 6):
        f = i / 5
        page.mouse.move(box["x"] + box["width"] * (start[0] + (end[0] - start[0]) * f),
                        box["y"] + box["height"] * (start[1] + (end[1] - start[1]) * f))
    page.mouse.up()


def _near(page, name: str, value: int) -> None:
    """The field holds ``value`` ± 1 (a pixel of rounding), waiting for the drag's last update
    (read at once, a loaded machine read the value before the pointer's last move was applied)."""
    expect(page.locator(f"input[name='{name}']")).to_have_value(re.compile(rf"^({value - 1}|{value}|{value + 1})$"))


def test_draw_a_hotspot_by_dragging_and_its_percentages_are_saved(page, world):
    console = watch(page)
    log_in(page, "hq")
    _new_template(page, "热区首页")
    _add_block(page, "image_hotspot")
    image = page.locator("#block-panel [data-hotspot-image]")
    expect(image).to_be_visible()
    page.wait_for_function("() => document.querySelector('[data-hotspot-image]').naturalWidth > 0")
    expect(page.locator("#block-panel .hotspot-rect")).to_have_count(1)        # the sample's left half
    image.scroll_into_view_if_needed()
    box = image.bounding_box()
    _drag(page, box, (0.6, 0.2), (0.9, 0.8))
    expect(page.locator("#block-panel .hotspot-rect")).to_have_count(2)
    row = page.locator("#block-panel [data-row='1']")
    expect(row).to_be_visible()
    for k, value in zip("xywh", (60, 20, 30, 60), strict=True):
        _near(page, f"hotspots-1-{k}", value)
    # Move the first area right by dragging it, then resize it from its corner.
    first = page.locator("#block-panel .hotspot-rect[data-hotspot='0']")
    fbox = first.bounding_box()
    _drag(page, box, ((fbox["x"] - box["x"] + 20) / box["width"], 0.5),
          ((fbox["x"] - box["x"] + 20) / box["width"] + 0.05, 0.5))
    _near(page, "hotspots-0-x", 5)
    first.locator(".hs-handle").scroll_into_view_if_needed()
    box = image.bounding_box()
    handle = first.locator(".hs-handle").bounding_box()
    page.mouse.move(handle["x"] + 4, handle["y"] + 4)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.45, box["y"] + box["height"] * 0.5, steps=5)
    page.mouse.up()
    _near(page, "hotspots-0-h", 50)

    page.click("#block-panel [data-pick-link='hotspots-1-link']")
    expect(page.locator("#link-picker")).to_be_visible()
    # The dialog's list arrives by htmx: click once it has settled (a click on the list being
    # swapped in landed on the old element on a loaded machine and the dialog stayed open).
    expect(page.locator("#link-picker [data-link-value='/pages/member/index']")).to_be_visible()
    page.wait_for_load_state("networkidle")
    page.click("#link-picker [data-link-value='/pages/member/index']")
    expect(page.locator("#link-picker")).to_be_hidden()
    page.click("#block-panel button[type=submit]")
    expect(page.locator("#block-panel")).to_have_count(0)
    db.session.rollback()
    spots = db.session.scalar(select(Template)).draft[0]["data"]["hotspots"]
    assert len(spots) == 2
    assert [abs(a - b) <= 1 for a, b in zip((spots[1]["x"], spots[1]["y"], spots[1]["w"], spots[1]["h"]),
                                            (60, 20, 30, 60), strict=True)] == [True] * 4
    assert spots[1]["link"] == "/pages/member/index" and spots[0]["h"] in (49, 50, 51)
    # The phone preview shows both areas where they were drawn.
    expect(page.locator(".phone .mp-block[data-type=image_hotspot] .pct-l-60, "
                        ".phone .mp-block[data-type=image_hotspot] .pct-l-59, "
                        ".phone .mp-block[data-type=image_hotspot] .pct-l-61")).to_have_count(1)
    assert violations(page) == [] and console == []


def test_a_product_takes_a_picture_from_the_image_space(page, world):
    from portal.goods.models import ProductImage
    from portal.media.services import upload_image
    from portal.org.scope import Scope

    product = factories.make_product(world.nodes["hq"], "CF-PICK", name="冷萃咖啡")
    upload_image(Scope.of_path(world.nodes["hq"].path), factories.png_bytes(600, 600), "冷萃.png",
                 actor=world.users["hq"])
    db.session.commit()
    log_in(page, "hq")
    page.goto(f"/goods/{product.id}")
    expect(page.locator("#product-images img")).to_have_count(0)
    page.click("#product-images [data-pick-image-id]")
    expect(page.locator("#media-picker")).to_be_visible()
    page.click("#media-picker [data-pick-media][data-media-name='冷萃']")
    expect(page.locator("#media-picker")).to_be_hidden()
    expect(page.locator("#product-images img")).to_have_count(1)
    db.session.rollback()
    assert db.session.scalar(select(ProductImage).where(ProductImage.product_id == product.id)) is not None


def test_pictures_chosen_before_the_page_script_loads_are_still_uploaded(page, world):
    """On a slow connection the file dialog can be answered before static/js/pickers.js has
    run: the change event fires with no one listening. Hold the script back until the files
    are chosen, as such a connection would, and the pictures must still reach the grid."""
    held = []
    page.route("**/static/js/pickers.js*", lambda route: held.append(route))
    log_in(page, "hq")
    page.goto("/media", wait_until="commit")
    page.set_input_files("[data-media-files]", files=[_png("慢网.png")])
    while not held:                     # let the route handler see the request
        page.wait_for_timeout(50)
    held[0].continue_()
    expect(page.locator("#media-grid [data-media-card]")).to_have_count(1, timeout=20_000)
    expect(page.locator("#media-grid [data-media-card] img[alt='慢网']")).to_have_count(1)
