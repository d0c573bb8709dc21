"""Screenshots of the image space (issue 9, point 6): the image space page, the image picker
open in the banner editor, a hotspot drawn on the picture, and the link picker.

    .venv/bin/python tests/browser/screenshots.py --only images-space images-picker images-hotspot images-link-picker \
        images-phone-link-field images-phone-link-picker
"""
from __future__ import annotations

import io

PICTURES = (
    ("夏季新品横幅", (750, 320), ((255, 183, 77), (244, 81, 30))),
    ("会员日横幅", (750, 320), ((129, 199, 132), (27, 94, 32))),
    ("门头照", (600, 600), ((144, 202, 249), (21, 101, 192))),
    ("热区：双拼套餐", (750, 400), ((206, 147, 216), (106, 27, 154))),
    ("鲜榨橙汁", (500, 500), ((255, 224, 130), (255, 143, 0))),
    ("芒果冰沙", (500, 500), ((255, 204, 128), (230, 81, 0))),
    ("秋季上新", (750, 320), ((188, 170, 164), (78, 52, 46))),
    ("直播预告封面", (600, 800), ((240, 98, 146), (136, 14, 79))),
)


def _picture(size, colours) -> bytes:
    """A gradient with a few shapes: enough to tell pictures apart in the grid."""
    from PIL import Image, ImageDraw

    w, h = size
    (r1, g1, b1), (r2, g2, b2) = colours
    image = Image.new("RGB", size)
    draw = ImageDraw.Draw(image)
    for x in range(w):
        t = x / (w - 1)
        draw.line([(x, 0), (x, h)], fill=(round(r1 + (r2 - r1) * t), round(g1 + (g2 - g1) * t),
                                          round(b1 + (b2 - b1) * t)))
    draw.ellipse([w * 0.62, h * 0.18, w * 0.9, h * 0.18 + w * 0.28], fill=(255, 255, 255))
    draw.rounded_rectangle([w * 0.08, h * 0.62, w * 0.5, h * 0.8], radius=h * 0.06, fill=(255, 255, 255))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def desktop(page, shot) -> None:
    page.goto("/media")
    page.set_input_files("[data-media-files]", files=[
        {"name": f"{name}.png", "mimeType": "image/png", "buffer": _picture(size, colours)}
        for name, size, colours in PICTURES])
    page.locator("#media-grid [data-media-card]").nth(len(PICTURES) - 1).wait_for()
    page.wait_for_timeout(300)
    shot(page, "images-space")

    page.goto("/templates")
    page.click("#template-rows a.fw-bold")
    page.wait_for_selector("#editor")
    page.click("#block-list .block-row[data-type=banner] a.block-text")
    page.wait_for_selector("#block-panel")
    page.click("#block-panel [data-pick-image='slides-0-image']")
    page.wait_for_selector("#media-picker [data-pick-media]")
    page.wait_for_timeout(500)
    shot(page, "images-picker")
    page.click("#media-picker [data-pick-media] >> nth=0")
    page.wait_for_selector("#media-picker", state="hidden")

    page.click("#block-list .block-row[data-type=image_hotspot] a.block-text")
    page.wait_for_selector("#block-panel [data-hotspot-image]")
    page.wait_for_function("() => document.querySelector('[data-hotspot-image]').naturalWidth > 0")
    # The demo's two halves, the second made narrower by its numbers, and a third area drawn by
    # dragging on the picture.
    page.click("#block-panel [data-row='1'] details summary")
    page.fill("#block-panel input[name='hotspots-1-w']", "25")
    page.dispatch_event("#block-panel input[name='hotspots-1-w']", "input")
    page.evaluate("() => { document.querySelector('.block-panel legend').scrollIntoView({block: 'start'});"
                  " window.scrollBy(0, -520); }")
    page.wait_for_timeout(200)
    box = page.locator("#block-panel [data-hotspot-image]").bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.78, box["y"] + box["height"] * 0.15)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.97, box["y"] + box["height"] * 0.85, steps=8)
    page.mouse.up()
    page.wait_for_timeout(300)
    shot(page, "images-hotspot")

    page.click("#block-panel [data-pick-link='hotspots-2-link']")
    page.wait_for_selector("#link-picker [data-link-value]")
    page.click("#link-picker [data-link-tab=goods]")
    page.wait_for_selector("#link-picker [data-link-value*='/pages/goods/detail']")
    page.wait_for_timeout(300)
    shot(page, "images-link-picker")


def phone(page, shot) -> None:
    """The store owner edits the notice's link on the phone: the link picker, phone-sized."""
    page.goto("/my/page")
    page.click("#page-blocks .block-row[data-type=notice] [data-edit]")
    page.wait_for_selector("#block-panel [data-pick-link]")
    page.locator("#block-panel").scroll_into_view_if_needed()
    shot(page, "images-phone-link-field")
    page.click("#block-panel [data-pick-link]")
    page.wait_for_selector("#link-picker [data-link-value]")
    page.wait_for_timeout(400)
    shot(page, "images-phone-link-picker")
