"""Screenshots of issue 9's preview part (tests/browser/screenshots.py runs them).

desktop (hq, 1366×768): pictures for the 招牌 goods, a mandatory flash sale and an opt-in group buy
pushed to 上海区 (through the pages, as HQ would), then the template editor previewing with a
sample store picked from the search box, and the same editor at 390 px wide.
phone (the owner, 390×844): the campaign cards, a campaign's own page, the owner's page preview
with the store's real goods, prices, campaign prices and coupons.
"""
from __future__ import annotations

import io
from datetime import timedelta

COLOURS = [((255, 196, 92), (255, 140, 66)), ((186, 104, 200), (123, 31, 162)), ((239, 83, 80), (183, 28, 28)),
           ((255, 167, 196), (236, 64, 122)), ((255, 213, 79), (255, 160, 0))]


def _picture(i: int) -> bytes:
    """A drink on a coloured background, drawn with Pillow (no files, no network)."""
    from PIL import Image, ImageDraw

    top, bottom = COLOURS[i % len(COLOURS)]
    img = Image.new("RGB", (600, 600), top)
    draw = ImageDraw.Draw(img)
    for y in range(600):
        t = y / 599
        draw.line([(0, y), (600, y)], fill=tuple(int(a + (b - a) * t) for a, b in zip(top, bottom, strict=True)))
    draw.polygon([(190, 170), (410, 170), (380, 500), (220, 500)], fill=(255, 255, 255))
    draw.polygon([(205, 250), (395, 250), (373, 480), (227, 480)], fill=bottom)
    draw.rectangle([(175, 140), (425, 175)], fill=(250, 250, 250))
    draw.line([(330, 60), (300, 240)], fill=(60, 60, 60), width=14)
    for x, y in ((260, 420), (300, 440), (340, 415), (280, 380), (320, 390)):
        draw.ellipse([(x - 14, y - 14), (x + 14, y + 14)], fill=(60, 40, 30))
    out = io.BytesIO()
    img.save(out, "PNG")
    return out.getvalue()


def _upload_pictures(page) -> None:
    for i, name in enumerate(["杨枝甘露", "芝士葡萄", "满杯红柚", "多肉桃桃"]):
        page.goto("/goods")
        page.click(f"a:text-is('{name}')")
        page.wait_for_url("**/goods/*")
        page.set_input_files("input[type=file][name=image]",
                             files=[{"name": f"{name}.png", "mimeType": "image/png", "buffer": _picture(i)}])
        page.click("#product-images button[type=submit]")
        page.wait_for_selector("#product-images img")


def _stage_campaigns() -> None:
    """A mandatory flash sale and an opt-in group buy borne by the store, pushed to 上海区, made
    through the services (the campaign forms have their own scenes in scenes_goodspicker)."""
    from sqlalchemy import select

    from portal.extensions import db
    from portal.kernel.time import utcnow
    from portal.org.models import OrgNode, User
    from portal.targets.services import TargetSpec
    from tests.browser import screenshots
    from tests.campaigns.helpers import make_campaign, push

    with screenshots.APP.test_request_context():
        hq = db.session.scalar(select(User).where(User.username == "hq"))
        r_sh = db.session.scalar(select(OrgNode).where(OrgNode.code == "R-SH"))
        now = utcnow()
        flash = make_campaign(hq, kind="flash_sale", name="夏日招牌秒杀", rules={
            "items": [{"sku": "G001-M", "price_fen": 990, "quantity": 200},
                      {"sku": "G002-M", "price_fen": 990, "quantity": 200}],
            "sale_starts": (now - timedelta(hours=1)).isoformat(),
            "sale_ends": (now + timedelta(hours=48)).isoformat()})
        group = make_campaign(hq, kind="group_buy", name="满杯红柚 3 人团", participation="opt_in", deadline=3,
                              rules={"sku": "G003-L", "group_size": 3, "price_fen": 1290, "hours": 24})
        group.discount_bearer = "store"
        db.session.commit()
        for c in (flash, group):
            push(hq, c, TargetSpec(node_ids=[r_sh.id]))
        db.session.remove()


def desktop(page, shot) -> None:
    _upload_pictures(page)
    _stage_campaigns()
    page.goto("/campaigns/new/group_buy")
    page.fill("input[name=name]", "满杯红柚 3 人团")
    page.select_option("select[name=discount_bearer]", "store")
    shot(page, "preview-campaign-form-bearer")

    page.goto("/templates")
    page.click("#template-rows a.fw-bold")
    page.wait_for_selector("#editor")
    shot(page, "preview-editor-sample-data")
    search = page.locator("#sample-store input[name=q]")
    search.click()
    search.press_sequentially("上海", delay=40)
    page.wait_for_selector("#sample-store-results [data-store]")
    page.wait_for_timeout(400)
    shot(page, "preview-editor-pick-store")
    page.locator("#sample-store-results [data-store]").first.click()
    page.wait_for_selector("#sample-store [data-chosen-store]")
    page.locator(".mp-block.mp-goods_grid").scroll_into_view_if_needed()
    page.wait_for_timeout(300)
    shot(page, "preview-editor-sample-store")

    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    page.wait_for_selector("#block-list")
    shot(page, "preview-editor-phone", full_page=True)
    page.set_viewport_size({"width": 1366, "height": 768})


def phone(page, shot) -> None:
    page.goto("/my/campaigns")
    shot(page, "preview-phone-campaigns", full_page=True)
    page.locator(".offer-card", has_text="满杯红柚 3 人团").locator("[data-detail]").click()
    page.wait_for_selector(".offer-detail")
    shot(page, "preview-phone-campaign-detail", full_page=True)
    page.goto("/my/page")
    page.wait_for_selector("[data-real-goods]")
    shot(page, "preview-phone-my-page", full_page=True)
