"""The compiled loader answers exactly what marshmallow answers: the same data for valid input,
the same errors (messages and field paths) for bad input."""
from __future__ import annotations

import marshmallow as ma
import pytest

from portal.ingest.fastload import loader


class Line(ma.Schema):
    sku = ma.fields.String(required=True, validate=ma.validate.Length(1, 8))
    quantity = ma.fields.Integer(required=True, validate=ma.validate.Range(min=1, max=999))
    gift = ma.fields.Boolean(load_default=False)


class Order(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE

    number = ma.fields.String(required=True, data_key="no", validate=ma.validate.Length(max=10))
    kind = ma.fields.String(load_default="shop", validate=ma.validate.OneOf(["shop", "live"]))
    sharer = ma.fields.String(allow_none=True, load_default=None)
    tags = ma.fields.List(ma.fields.String(), load_default=list)
    lines = ma.fields.List(ma.fields.Nested(Line), required=True, validate=ma.validate.Length(min=1))
    paid_at = ma.fields.AwareDateTime(required=True)
    amount = ma.fields.Integer(required=True, validate=lambda v: v % 2 == 0)
    ratio = ma.fields.Float(load_default=None, allow_none=True)


class Strict(ma.Schema):
    code = ma.fields.String(required=True)
    store = ma.fields.Nested(Line, allow_none=True)


class Hooked(ma.Schema):
    code = ma.fields.String(required=True)

    @ma.validates("code")
    def _no_x(self, value, **_kw):
        if "x" in value:
            raise ma.ValidationError("No x.")


class Item(ma.Schema):
    sku = ma.fields.String(load_default=None, allow_none=True)
    line_no = ma.fields.Integer(load_default=None, allow_none=True, strict=True)
    quantity = ma.fields.Integer(required=True, strict=True)

    @ma.validates_schema
    def _one_of(self, data, **_kw):
        if (data["sku"] is None) == (data["line_no"] is None):
            raise ma.ValidationError("Give either sku or line_no.", "sku")


class Checked(ma.Schema):
    class Meta:
        unknown = ma.INCLUDE

    total = ma.fields.Integer(required=True, strict=True)
    items = ma.fields.List(ma.fields.Nested(Item), required=True)

    @ma.validates_schema
    def _adds_up(self, data, **_kw):
        if data["total"] != sum(i["quantity"] for i in data["items"]):
            raise ma.ValidationError("total is not the sum of the quantities.", "total")

    @ma.validates_schema(pass_original=True)
    def _no_note(self, data, original, **_kw):
        if "note" in original and data.get("note") == "bad":
            raise ma.ValidationError("A bad note.")


class Many(ma.Schema):
    code = ma.fields.String(required=True)

    @ma.validates_schema(pass_collection=True)
    def _all(self, data, many, **_kw):
        if many and len(data) > 1:
            raise ma.ValidationError("One at a time.")


GOOD = {"no": "N1", "lines": [{"sku": "A", "quantity": 2}], "paid_at": "2026-03-02T10:15:00+08:00", "amount": 4}
CASES = [
    (Order, GOOD),
    (Order, {**GOOD, "kind": "live", "sharer": None, "tags": ["a", "b"], "extra": 1, "ratio": 1.5}),
    (Order, {**GOOD, "lines": [{"sku": "A", "quantity": 2, "gift": True}, {"sku": "BB", "quantity": 999}]}),
    (Order, {**GOOD, "no": "N" * 11}),
    (Order, {**GOOD, "kind": "tv"}),
    (Order, {**GOOD, "lines": []}),
    (Order, {**GOOD, "lines": [{"sku": "A", "quantity": 0}]}),
    (Order, {**GOOD, "lines": [{"sku": "A", "quantity": True}]}),
    (Order, {**GOOD, "lines": [{"sku": "A", "quantity": "2"}]}),      # marshmallow takes "2": so do we
    (Order, {**GOOD, "lines": [{"sku": "A", "quantity": 2.0}]}),
    (Order, {**GOOD, "lines": [{"sku": "A", "quantity": 2, "color": "red"}]}),   # Line raises on unknown
    (Order, {**GOOD, "lines": "A"}),
    (Order, {**GOOD, "paid_at": "2026-03-02T10:15:00"}),
    (Order, {**GOOD, "amount": 3}),
    (Order, {**GOOD, "sharer": 12}),
    (Order, {"lines": [{"sku": "A", "quantity": 2}]}),
    (Strict, {"code": "c", "store": None}),
    (Strict, {"code": "c", "store": {"sku": "A", "quantity": 1}}),
    (Strict, {"code": "c", "other": 1}),
    (Strict, {"code": None}),
    (Hooked, {"code": "abc"}),
    (Hooked, {"code": "xyz"}),
    (Checked, {"total": 3, "items": [{"sku": "A", "quantity": 1}, {"line_no": 2, "quantity": 2}]}),
    (Checked, {"total": 3, "items": [{"sku": "A", "quantity": 3}], "note": "fine"}),
    (Checked, {"total": 3, "items": [{"sku": "A", "quantity": 3}], "note": "bad"}),
    (Checked, {"total": 4, "items": [{"sku": "A", "quantity": 3}]}),
    (Checked, {"total": 3, "items": [{"sku": "A", "line_no": 1, "quantity": 3}]}),
    (Checked, {"total": 3, "items": [{"quantity": 3}]}),
    (Checked, {"total": "3", "items": [{"sku": "A", "quantity": 3}]}),
    (Many, {"code": "c"}),
]


def _outcome(load, data):
    try:
        return "ok", load(data)
    except ma.ValidationError as exc:
        return "error", exc.messages


@pytest.mark.parametrize("schema,data", CASES, ids=[str(n) for n in range(len(CASES))])
def test_the_compiled_loader_answers_what_marshmallow_answers(schema, data):
    assert _outcome(loader(schema), data) == _outcome(schema().load, data)
