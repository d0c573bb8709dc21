"""Forms of the HQ catalog. The SKU row rules (prices in yuan, bounds, spec text) serve both the
product form and every row of a catalog CSV import."""
from __future__ import annotations

from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, FieldList, Form, FormField, HiddenField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, Regexp, ValidationError

from portal.goods import services
from portal.kernel.fields import MoneyField
from portal.kernel.forms import strip
from portal.kernel.ids import parse_id
from portal.kernel.text import whole

CODE_RE = whole(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
CODE_MESSAGE = _l("Letters, digits, '-', '_' and '.' only.")


class SkuRowForm(Form):
    """One SKU. A row left entirely blank is ignored (the form always offers an empty one)."""

    id = HiddenField()
    code = StringField(_l("SKU code"), filters=[strip], validators=[
        Optional(), Length(max=40), Regexp(CODE_RE, message=CODE_MESSAGE)])
    spec = StringField(_l("Spec"), filters=[strip], validators=[Optional(), Length(max=300)],
                       description=_l("e.g. 规格:大杯;温度:冰"))
    list_price = MoneyField(_l("List price"))
    price_floor = MoneyField(_l("Floor price"))
    price_ceiling = MoneyField(_l("Ceiling price"))
    remove = BooleanField(_l("Remove"))

    def is_blank(self) -> bool:
        return not any((self.code.data, self.spec.data, self.list_price.typed, self.price_floor.typed,
                        self.price_ceiling.typed)) and not self.id.data

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if self.is_blank() or self.remove.data:
            for f in self:
                f.errors = []
            return True
        if not self.code.data and not self.code.errors:
            self.code.errors.append(_l("This field is required."))
            ok = False
        if self.list_price.data is None and not self.list_price.errors:
            self.list_price.errors.append(_l("This field is required."))
            ok = False
        if self.spec.data and not self.spec.errors:
            try:
                self.spec_dict = services.parse_spec(self.spec.data)
            except ValueError as exc:
                self.spec.errors.append(str(exc))
                ok = False
        if ok:
            lp = self.list_price.data
            floor = self.price_floor.data if self.price_floor.data is not None else lp
            ceiling = self.price_ceiling.data if self.price_ceiling.data is not None else lp
            if floor > lp:
                self.price_floor.errors.append(_l("The floor price may not be above the list price."))
                ok = False
            if lp > ceiling:
                self.price_ceiling.errors.append(_l("The ceiling price may not be below the list price."))
                ok = False
        return ok

    def sku_data(self) -> services.SkuData:
        lp = self.list_price.data
        return services.SkuData(
            id=parse_id(self.id.data),
            code=self.code.data, spec=services.parse_spec(self.spec.data or ""), list_price=lp,
            price_floor=self.price_floor.data if self.price_floor.data is not None else lp,
            price_ceiling=self.price_ceiling.data if self.price_ceiling.data is not None else lp)


def commission_pct(form, field):
    text = (field.data or "").strip()
    if not text:
        return
    try:
        value = Decimal(text.rstrip("%").strip())
    except ArithmeticError:
        raise ValidationError(_l("Enter a percentage between 0 and 100.")) from None
    if not value.is_finite() or not 0 <= value <= 100:
        raise ValidationError(_l("Enter a percentage between 0 and 100."))
    if value != value.quantize(Decimal("0.01")):
        raise ValidationError(_l("At most two decimals."))


def commission_bp(text: str | None) -> int:
    """"12.5" (percent) → 1250 basis points; blank → 0."""
    text = (text or "").strip().rstrip("%").strip()
    return int(Decimal(text) * 100) if text else 0


def commission_text(bp: int) -> str:
    return f"{Decimal(bp) / 100:.2f}".rstrip("0").rstrip(".")


class ProductForm(FlaskForm):
    code = StringField(_l("Product code"), filters=[strip], validators=[
        DataRequired(), Length(max=32), Regexp(CODE_RE, message=CODE_MESSAGE)])
    name = StringField(_l("Product name"), filters=[strip], validators=[DataRequired(), Length(max=100)])
    category = StringField(_l("Category"), filters=[strip], validators=[DataRequired(), Length(max=50)])
    description = TextAreaField(_l("Description"), filters=[strip], validators=[Optional(), Length(max=2000)])
    direct_sale = BooleanField(_l("Direct-sale goods (HQ ships, the store earns a commission)"))
    commission = StringField(_l("Commission %"), filters=[strip], validators=[commission_pct],
                             description=_l("Share of the sale the store earns, 0–100."))
    skus = FieldList(FormField(SkuRowForm), min_entries=1)

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        rows = self.sku_rows()
        if not rows:
            self.form_errors.append(_l("A product needs at least one SKU."))
            ok = False
        seen: dict[str, int] = {}
        for entry in rows:
            code = (entry.form.code.data or "").lower()
            if code and code in seen:
                entry.form.code.errors = list(entry.form.code.errors) + [_l("This SKU code is used twice.")]
                ok = False
            seen[code] = 1
        return ok

    def sku_rows(self):
        return [e for e in self.skus if not e.form.is_blank() and not e.form.remove.data]

    def product_data(self) -> dict:
        direct = bool(self.direct_sale.data)
        return {"code": self.code.data, "name": self.name.data, "category": self.category.data,
                "description": self.description.data or "", "direct_sale": direct,
                "commission_rate": commission_bp(self.commission.data) if direct else 0}


class ImageForm(FlaskForm):
    pass  # the file is read from request.files so a missing file gets our own message


class ImportForm(FlaskForm):
    pass
