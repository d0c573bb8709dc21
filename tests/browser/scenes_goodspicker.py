"""Screenshots of the goods picker: open on a flash sale's form, the flash-sale rules with list →
sale prices (and a row's error), a bargain's one SKU, the assortment editor and the goods grid."""
from __future__ import annotations

import io

COLOURS = [(246, 178, 60), (233, 99, 84), (120, 186, 92), (246, 214, 92), (196, 120, 200), (92, 170, 220)]


def _picture(colour) -> bytes:
    """A plain 'product photo': a cup on a coloured ground, drawn with Pillow."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (480, 480), colour)
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((150, 110, 330, 400), radius=30, fill=(255, 255, 255))
    draw.rectangle((140, 90, 340, 130), fill=(250, 250, 250))
    draw.ellipse((190, 220, 290, 320), fill=tuple(max(0, c - 60) for c in colour))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _add_pictures(page) -> None:
    """Give the first goods of the demo menu a picture, through their product pages."""
    for i, colour in enumerate(COLOURS, start=1):
        page.goto(f"/goods?q=G{i:03d}")
        page.click("#product-rows tbody tr:first-child a")
        page.wait_for_selector("#product-images")
        page.set_input_files("#image-file", files=[{"name": f"g{i}.png", "mimeType": "image/png",
                                                     "buffer": _picture(colour)}])
        page.click("#product-images form[enctype='multipart/form-data'] button[type=submit]")
        page.wait_for_selector("#product-images img")


def _pick(page, opener: str, codes: list[str], *, search: str | None = None) -> None:
    page.click(opener)
    page.wait_for_selector("#goods-picker #goods-picker-rows")
    if search:
        page.fill("#picker-q", search)
        page.wait_for_timeout(600)
    for code in codes:
        page.check(f"#goods-picker [data-picker-choice][value='{code}']")


def desktop(page, shot) -> None:
    _add_pictures(page)

    # The picker open on a flash sale: SKUs with spec and list price, three chosen.
    page.goto("/campaigns/new/flash_sale")
    page.fill("input[name=name]", "周末限时秒杀")
    _pick(page, "[data-picker-into='#sale-goods']", ["G001-L", "G001-M", "G002-L"])
    page.wait_for_timeout(400)
    shot(page, "goodspicker-picker")

    # The rules: each SKU's list price → its flash-sale price and quantity; one price too high.
    page.click("#goods-picker [data-picker-done]")
    page.wait_for_timeout(400)
    for code, price, qty in (("G001-L", "12.9", "200"), ("G001-M", "11.9", "200"), ("G002-L", "29", "100")):
        row = page.locator(f"#sale-goods tr[data-key='{code}']")
        row.locator("input[name$='-price']").fill(price)
        row.locator("input[name$='-quantity']").fill(qty)
    page.fill("input[name=starts_at]", "2031-06-01T10:00")
    page.fill("input[name=ends_at]", "2031-06-07T22:00")
    page.fill("input[name=rules-sale_starts]", "2031-06-06T20:00")
    page.fill("input[name=rules-sale_ends]", "2031-06-06T22:00")
    shot(page, "goodspicker-flash-sale-rules", full_page=True)
    page.click("form.campaign-form button[type=submit]")
    page.wait_for_selector("#sale-goods .invalid-feedback")
    page.locator("#sale-goods").scroll_into_view_if_needed()
    shot(page, "goodspicker-flash-sale-error", full_page=True)
    page.locator("#sale-goods tr[data-key='G002-L'] input[name$='-price']").fill("13.9")
    page.click("form.campaign-form button[type=submit]")
    page.wait_for_url("**/campaigns/*")
    shot(page, "goodspicker-flash-sale-saved", full_page=True)

    # A bargain: one SKU, picked with radio buttons, beside its floor price.
    page.goto("/campaigns/new/bargain")
    page.fill("input[name=name]", "杨枝甘露 砍价免费喝")
    _pick(page, "[data-picker-into='#one-goods']", ["G001-L"])
    page.click("#goods-picker [data-picker-done]")
    page.wait_for_timeout(400)
    page.fill("input[name=rules-floor_price]", "0.01")
    shot(page, "goodspicker-bargain", full_page=True)

    # The assortment editor, and the picker open on it (what it holds is marked 已添加).
    page.goto("/assortments")
    page.click("table a >> nth=0")
    page.wait_for_selector("#assortment-items")
    shot(page, "goodspicker-assortment")
    page.click("[data-picker-into='#assortment-add']")
    page.wait_for_selector("#goods-picker #goods-picker-rows")
    page.wait_for_timeout(400)
    shot(page, "goodspicker-assortment-picker")

    # The goods-grid block of the template editor, its goods chosen with the picker.
    page.goto("/templates")
    page.click("#template-rows a.fw-bold")
    page.wait_for_selector("#editor")
    page.click("#block-list .block-row[data-type=goods_grid] a.block-text")
    page.wait_for_selector("#block-panel")
    page.select_option("#block-panel select[name=source]", "picked")
    page.wait_for_timeout(300)
    page.click("#block-panel [data-bs-target='#goods-picker']")
    page.wait_for_selector("#goods-picker #goods-picker-rows")
    for code in ("G001", "G002", "G003"):
        page.check(f"#goods-picker [data-picker-choice][value='{code}']")
    page.click("#goods-picker [data-picker-done]")
    page.wait_for_timeout(400)
    page.click("#block-panel button[type=submit]")
    page.wait_for_timeout(600)
    page.click("#block-list .block-row[data-type=goods_grid] a.block-text")
    page.wait_for_selector("#block-panel .grid-goods-chosen")
    page.wait_for_timeout(300)
    shot(page, "goodspicker-goods-grid")
