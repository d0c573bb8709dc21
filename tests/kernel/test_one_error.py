"""One message per field (issue 9): a value that does not parse is told so once, not also
"this field is required" or "must be between …" beside it."""
from __future__ import annotations

import re

from tests.test_access import _COUPON


def _feedback(html: str, field: str) -> list[str]:
    return re.findall(rf'<div class="invalid-feedback[^"]*" data-field="{re.escape(field)}">([^<]*)</div>', html)


def test_a_date_that_does_not_parse_gets_one_message(login_as, org):
    client = login_as("hq")
    data = {**_COUPON, "starts_at": "2031-13-45T99:00", "rules-amount": "abc"}
    r = client.post("/campaigns/new/coupon", data=data)
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert _feedback(html, "starts_at") == ["不是有效的日期与时间值。"]
    assert len(_feedback(html, "rules-amount")) == 1
    assert "该字段是必填字段" not in html


def test_a_decimal_that_does_not_parse_gets_one_message(login_as, org):
    client = login_as("hq")
    data = {**{k: v for k, v in _COUPON.items() if not k.startswith("rules-")}, "name": "分佣",
            "rules-levels": "1", "rules-store_rate": "abc", "rules-guide_rate": "1", "rules-sharer_rate": "1",
            "rules-second_rate": "", "rules-freeze_days": "7"}
    html = client.post("/campaigns/new/distribution", data=data).get_data(as_text=True)
    assert _feedback(html, "rules-store_rate") == ["不是有效的小数。"]


def test_a_field_failing_two_checks_shows_the_first(login_as, org):
    """A store code both too long and of the wrong characters: one message, the first check's."""
    client = login_as("hq")
    form = {"code": "门" * 40, "name": "新店", "city": "上海", "address": "", "node_id": str(org.nodes["r_sh"].id),
            "status": "active", "tags": "", "appid": "", "owner_name": "", "owner_phone": ""}
    html = client.post("/stores/new", data=form).get_data(as_text=True)
    assert len(_feedback(html, "code")) == 1


def test_required_stops_after_a_parse_error(app):
    """At the validators, not only in the page: the field's errors hold one message."""
    from werkzeug.datastructures import MultiDict
    from wtforms import DateTimeLocalField, Form

    from portal.kernel.forms import Required

    class F(Form):
        when = DateTimeLocalField(format="%Y-%m-%dT%H:%M", validators=[Required()])

    with app.test_request_context():
        bad = F(MultiDict({"when": "tomorrow"}))
        assert not bad.validate() and len(bad.when.errors) == 1
        blank = F(MultiDict({"when": ""}))
        assert not blank.validate() and len(blank.when.errors) == 1
        good = F(MultiDict({"when": "2031-03-01T10:00"}))
        assert good.validate()
