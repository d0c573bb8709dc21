"""Each block type carries its own behaviour (issue 8, point 3): its form, its starting data and
the one line that sums a block up in the editor's list. The editor only dispatches to it."""
from __future__ import annotations

from portal.decoration.blocks import BLOCK_TYPES
from tests.decoration.helpers import add_block, new_template

# What the editor's list says of each type's starting block, in Chinese (the default locale).
SUMMARIES = {
    "banner": "1 张轮播图 · 每张 4 秒",
    "notice": "欢迎光临，会员下单享积分",
    "goods_grid": "人气推荐",
    "live_entry": "直播间",
    "coupon_strip": "领券中心",
    "store_card": "09:00-22:00",
    "rich_text": "品牌故事",
    "image_hotspot": "1 个热区",
}


def test_every_block_type_sums_itself_up_in_the_editor_list(login_as):
    assert set(SUMMARIES) == set(BLOCK_TYPES)
    client = login_as("hq")
    tid = new_template(client)
    for block_type in BLOCK_TYPES:
        add_block(client, tid, block_type)
    page = client.get(f"/templates/{tid}").get_data(as_text=True)
    for block_type, text in SUMMARIES.items():
        assert f'<span class="block-summary">{text}' in page, block_type


def test_a_block_type_knows_its_form_its_start_and_its_summary(app):
    for name, block_type in BLOCK_TYPES.items():
        form = block_type.form(data=block_type.default())
        assert form.validate(), (name, form.errors)            # its starting data passes its own form
        with app.test_request_context():
            assert block_type.summary(block_type.default())     # and it can say what it holds
