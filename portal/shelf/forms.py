"""Forms of the store's shelf: its prices and stock, its own local goods."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import FieldList, Form, FormField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from portal.kernel.fields import MoneyField, QuantityField


class ListingForm(FlaskForm):
    """The store's price (typed in yuan, ``data`` in fen; empty = HQ's list price) and stock
    (empty = not tracked)."""

    price = MoneyField(_l("Price (¥)"))
    stock = QuantityField(_l("Stock"))


class SkuRow(Form):
    spec = StringField(_l("Specification"), validators=[Optional(), Length(max=40)])
    price = MoneyField(_l("Price (¥)"))

    def is_blank(self) -> bool:
        return not (self.spec.data or "").strip() and not self.price.typed


class LocalProductForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])
    category = StringField(_l("Category"), validators=[DataRequired(), Length(max=50)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=2000)])
    skus = FieldList(FormField(SkuRow), min_entries=1, max_entries=10)

    def validate_skus(self, field):
        rows = [row.form for row in field.entries if not row.form.is_blank()]
        if not rows:
            raise ValidationError(_l("Add at least one specification with a price."))
        for row in rows:
            if row.price.data is None:
                row.price.errors = list(row.price.errors) + [_l("Enter a price.")]
                raise ValidationError(_l("Every specification needs a price."))
