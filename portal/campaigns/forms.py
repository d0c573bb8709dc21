"""Campaign forms. Each kind's rules have their own WTForms form, which is their schema (as the
decoration blocks do): the create and edit pages and the service validate with it."""
from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.i18n import translations as flask_wtf_translations
from werkzeug.datastructures import MultiDict
from wtforms import DateTimeLocalField, DecimalField, FieldList, Form, FormField, HiddenField, SelectField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, StopValidation, ValidationError

from portal.campaigns.labels import BEARER_LABELS, PARTICIPATION_LABELS
from portal.decoration.blocks import CODES, present
from portal.goods.services import pickable_skus
from portal.kernel.fields import MoneyField, QuantityField
from portal.kernel.forms import Required, options, strip
from portal.kernel.money import MAX_QUANTITY, format_yuan
from portal.kernel.time import local_tz
from portal.org.scope import Scope

DT_FORMAT = "%Y-%m-%dT%H:%M"


def to_utc(local: datetime | None) -> datetime | None:
    """A naive local time typed in a form, as a UTC instant."""
    if local is None:
        return None
    return local.replace(tzinfo=local_tz()).astimezone(UTC)


def to_local(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.astimezone(local_tz()).replace(tzinfo=None)


def blank_ok(form, field):
    """Like Optional(), but lets the chain go on to the field's validate_<name> method, which
    decides whether a blank is allowed (Optional() would stop the chain before it). Rules loaded
    from storage (no form data) are left as they are."""
    if getattr(field, "raw_data", None) is None:
        return
    if not field.raw_data or not str(field.raw_data[0]).strip():
        field.errors[:] = []
        field.data = None


class in_range(NumberRange):
    """NumberRange that leaves a blank (None) to the other validators."""

    def __call__(self, form, field):
        if field.data is not None:
            super().__call__(form, field)


class CampaignForm(FlaskForm):
    """What every campaign has, whatever its kind."""

    name = StringField(_l("Campaign name"), filters=[strip], validators=[DataRequired(), Length(max=100)])
    starts_at = DateTimeLocalField(_l("Starts at"), format=DT_FORMAT, validators=[Required()])
    ends_at = DateTimeLocalField(_l("Ends at"), format=DT_FORMAT, validators=[Required()])
    participation = SelectField(
        _l("Participation"),
        choices=options(PARTICIPATION_LABELS.items()),
        description=_l("Mandatory: every store reached runs it. Opt-in: stores join or decline."),
    )
    join_deadline = DateTimeLocalField(_l("Join deadline"), format=DT_FORMAT, validators=[blank_ok],
                                       description=_l("Opt-in only: stores decide before this time."))
    discount_bearer = SelectField(
        _l("Who bears the discount"),
        choices=options(BEARER_LABELS.items()),
        default="hq",
        description=_l("Store owners see it on the campaign before they join."),
    )

    def validate_ends_at(self, field):
        if self.starts_at.data and field.data and field.data <= self.starts_at.data:
            raise ValidationError(_l("The campaign must end after it starts."))

    def validate_join_deadline(self, field):
        if self.participation.data != "opt_in":
            return
        if not field.data:
            raise ValidationError(_l("Opt-in campaigns need a join deadline."))
        if self.ends_at.data and field.data >= self.ends_at.data:
            raise ValidationError(_l("The join deadline must be before the campaign ends."))

    def window(self) -> tuple[datetime, datetime]:
        return to_utc(self.starts_at.data), to_utc(self.ends_at.data)


# --------------------------------------------------------------------------- rules, one form per kind

def required(form, field):
    """Like ``present``, but a value that did not parse keeps only its own message."""
    if field.process_errors:
        raise StopValidation()
    present(form, field)


class RateField(DecimalField):
    """A percentage: a finite decimal (``NaN`` and ``Infinity`` are not numbers here)."""

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        if self.data is not None and not self.data.is_finite():
            self.data = None
            raise ValueError(self.gettext("Not a valid decimal value."))


class RulesForm(Form):
    """A kind's rules. ``window`` (UTC start, end) is the campaign's, for rules that must fit in it;
    ``scope`` is the acting one: every SKU the rules name must be in its catalog."""

    window: tuple[datetime, datetime] | None = None
    scope: Scope | None = None

    class Meta:
        def get_translations(self, form):
            return flask_wtf_translations

    def find_skus(self, field, names: list[str]) -> list[tuple[str, int]]:
        """(code, list price) of each SKU named, as the catalog spells it, or a field error that
        reads the same for a SKU that does not exist and one outside the actor's catalog."""
        found = pickable_skus(self.scope, names) if self.scope is not None else {}
        unknown = [n for n in names if n.lower() not in found]
        if unknown:
            raise ValidationError(_l("Unknown SKU %(code)s", code=", ".join(unknown[:10])))
        return list({found[n.lower()][0]: found[n.lower()] for n in names}.values())

    def below_list_price(self, field, goods: list[tuple[str, int]] | None, message) -> None:
        """The price in ``field`` must be below the list price of every SKU in ``goods``."""
        if field.data is None or field.errors or not goods:
            return
        code, list_price = min(goods, key=lambda g: g[1])
        if field.data >= list_price:
            raise ValidationError(str(message) % {"price": format_yuan(list_price), "sku": code})


def money(label, **kw):
    return MoneyField(label, validators=[required], min=1, **kw)


def count(label, lo: int, hi: int = MAX_QUANTITY, **kw):
    return QuantityField(label, validators=[required], min=lo, max=hi, **kw)


MAX_SALE_ITEMS = 50
PICK_ONE = _l("Pick the goods SKU.")


class CouponRules(RulesForm):
    discount = SelectField(_l("Discount"), choices=options([("amount", _l("Amount off (yuan)")),
                                                           ("percent", _l("Percent off"))]))
    amount = MoneyField(_l("Amount off (yuan)"), validators=[blank_ok], min=1)
    percent = QuantityField(_l("Percent off"), validators=[blank_ok], min=1, max=99,
                            description=_l("For example 15: the customer pays 85 percent of the price."))
    threshold = MoneyField(_l("Minimum spend (yuan)"), default=0, validators=[required],
                           description=_l("0 for no minimum."))
    per_member = count(_l("Per-member limit"), 1, 100, default=1)
    budget = count(_l("Total budget (coupons)"), 1, description=_l("No more coupons than this are ever issued."))

    def validate_amount(self, field):
        if self.discount.data == "amount":
            if field.data is None and not field.process_errors:
                raise ValidationError(_l("Enter the amount off."))
            if field.data is not None and self.threshold.data and field.data >= self.threshold.data:
                raise ValidationError(_l("The amount off must be less than the minimum spend."))

    def validate_percent(self, field):
        if self.discount.data == "percent" and field.data is None and not field.process_errors:
            raise ValidationError(_l("Enter the percent off."))


class SaleItem(Form):
    """One SKU of a flash sale: the SKU (picked with the goods picker, its code posted), its sale
    price and how many are on sale."""

    sku = HiddenField(_l("SKU"), filters=[strip], validators=[DataRequired(_l("Pick the SKU.")), CODES,
                                                              Length(max=50)])
    price = money(_l("Flash sale price (yuan)"))
    quantity = count(_l("Quantity on sale"), 1)
    list_price: int | None = None

    class Meta:
        def get_translations(self, form):
            return flask_wtf_translations


class FlashSaleRules(RulesForm):
    items = FieldList(FormField(SaleItem), label=_l("Goods on sale"), min_entries=0, max_entries=MAX_SALE_ITEMS + 1)
    sale_starts = DateTimeLocalField(_l("Sale starts at"), format=DT_FORMAT, validators=[Required()])
    sale_ends = DateTimeLocalField(_l("Sale ends at"), format=DT_FORMAT, validators=[Required()])

    def validate_items(self, field):
        if not field.entries:
            raise ValidationError(_l("Pick the goods on sale."))
        if len(field.entries) > MAX_SALE_ITEMS:
            raise ValidationError(_l("At most %(n)s goods.", n=MAX_SALE_ITEMS))

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        return self._check_items() and ok

    def _check_items(self) -> bool:
        """Each row's SKU must be in the actor's catalog (a forged or foreign code reads like an
        unknown one), named once, and its sale price below its own list price: errors beside the
        row's field."""
        rows = [e.form for e in self.items.entries]
        found = pickable_skus(self.scope, [r.sku.data for r in rows if r.sku.data]) if self.scope else {}
        seen, ok = set(), True
        for r in rows:
            if r.sku.errors or not r.sku.data:
                continue
            key = r.sku.data.lower()
            if key not in found:
                r.sku.errors.append(str(_l("Unknown SKU %(code)s", code=r.sku.data)))
            elif key in seen:
                r.sku.errors.append(str(_l("%(code)s is on sale twice.", code=found[key][0])))
            else:
                seen.add(key)
                r.sku.data, r.list_price = found[key]
                if r.price.data is not None and not r.price.errors and r.price.data >= r.list_price:
                    r.price.errors.append(str(_l("The flash-sale price must be below the list price %(price)s.",
                                                 price=format_yuan(r.list_price))))
            if r.sku.errors or r.price.errors:
                ok = False
        if not ok:
            for r in rows:
                r._errors = None
            self.items.errors = [e.errors for e in self.items.entries]
            self._errors = None
        return ok

    def goods_codes(self) -> list[str]:
        return [e.form.sku.data for e in self.items.entries if e.form.sku.data]

    def validate_sale_ends(self, field):
        if not (self.sale_starts.data and field.data):
            return
        if field.data <= self.sale_starts.data:
            raise ValidationError(_l("The sale must end after it starts."))
        if self.window and (to_utc(self.sale_starts.data) < self.window[0] or to_utc(field.data) > self.window[1]):
            raise ValidationError(_l("The sale must lie inside the campaign's dates."))


class OneSkuRules(RulesForm):
    """Rules about one SKU of the catalog (bargains, group buys), picked with the goods picker:
    ``price_field`` is the rule's price, shown beside the SKU's list price."""

    goods: list[tuple[str, int]] | None = None
    price_field = "price"

    def goods_codes(self) -> list[str]:
        return [self.sku.data] if self.sku.data else []

    def validate_sku(self, field):
        if field.data and not field.errors:
            self.goods = self.find_skus(field, [field.data])
            field.data = self.goods[0][0]


class BargainRules(OneSkuRules):
    sku = HiddenField(_l("Goods"), filters=[strip], validators=[DataRequired(PICK_ONE), CODES, Length(max=50)])
    price_field = "floor_price"
    floor_price = money(_l("Floor price (yuan)"), description=_l("The lowest price friends can bargain down to."))
    helpers = count(_l("Helpers needed"), 1, 100)
    hours = count(_l("Time limit (hours)"), 1, 168)

    def validate_floor_price(self, field):
        self.below_list_price(field, self.goods, _l("The bargain floor price must be below the list price "
                                                    "%(price)s of %(sku)s."))


class GroupBuyRules(OneSkuRules):
    sku = HiddenField(_l("Goods"), filters=[strip], validators=[DataRequired(PICK_ONE), CODES, Length(max=50)])
    group_size = count(_l("Group size"), 2, 100)
    price = money(_l("Group price (yuan)"))
    hours = count(_l("Hours to fill the group"), 1, 168)

    def validate_price(self, field):
        self.below_list_price(
            field, self.goods, _l("The group price must be below the list price %(price)s of %(sku)s.")
        )


def rate(label, **kw):
    return RateField(label, places=2, default=Decimal("0"),
                     validators=[required, NumberRange(min=Decimal("0"), max=Decimal("100"))], **kw)


class DistributionRules(RulesForm):
    levels = SelectField(_l("Levels"), coerce=int, choices=options([(1, _l("One level")), (2, _l("Two levels"))]))
    store_rate = rate(_l("Store commission %"))
    guide_rate = rate(_l("Guide commission %"))
    sharer_rate = rate(_l("Sharer commission %"))
    second_rate = RateField(_l("Second-level sharer commission %"), places=2,
                            validators=[blank_ok, in_range(min=Decimal("0"), max=Decimal("100"))],
                            description=_l("Two levels only: the sharer who brought the sharer."))
    freeze_days = count(_l("Freeze days before payout"), 0, 90, default=7)

    def validate_second_rate(self, field):
        if field.errors:
            return
        if self.levels.data == 2 and field.data is None:
            raise ValidationError(_l("Enter the second-level commission."))
        if self.levels.data == 1 and field.data:
            raise ValidationError(_l("One level has no second-level commission."))
        total = sum((f.data or Decimal("0")) for f in (self.store_rate, self.guide_rate, self.sharer_rate, field))
        if total > 100:
            raise ValidationError(_l("The commission rates add up to %(n)s%%: at most 100%%.", n=total))


RULE_FORMS: dict[str, type[RulesForm]] = {
    "coupon": CouponRules, "flash_sale": FlashSaleRules, "bargain": BargainRules,
    "group_buy": GroupBuyRules, "distribution": DistributionRules,
}


def rules_form(kind: str, *, scope: Scope | None, data: dict | None = None, formdata: MultiDict | None = None,
               window: tuple[datetime, datetime] | None = None) -> RulesForm:
    """The kind's rules form, from a posted form or from stored rules. ``scope`` is the acting
    one (SKUs are looked up in its catalog); None only to show stored rules, never to validate."""
    cls = RULE_FORMS[kind]
    if formdata is not None:
        form = cls(formdata=formdata, prefix="rules")
    else:
        form = cls(data=_load(cls, data or {}), prefix="rules")
    form.window, form.scope = window, scope
    return form


def _load(cls, data: dict) -> dict:
    """Stored rules (money as ``<name>_fen`` ints, times as UTC ISO strings) → form data."""
    out = {}
    for name, field in cls._unbound_fields or _fields_of(cls):
        kind = field.field_class
        value = data.get(f"{name}_fen") if issubclass(kind, MoneyField) else data.get(name)
        if value is None:
            continue
        if issubclass(kind, DecimalField):
            value = Decimal(str(value))
        elif kind is DateTimeLocalField:
            value = to_local(datetime.fromisoformat(value))
        elif kind is FieldList:      # flash-sale rows: [{"sku", "price_fen", "quantity"}]
            value = [{"sku": row.get("sku"), "price": row.get("price_fen"), "quantity": row.get("quantity")}
                     for row in value if isinstance(row, dict)]
        out[name] = value
    return out


def _fields_of(cls):
    cls()   # binds _unbound_fields
    return cls._unbound_fields


def rules_data(form: RulesForm) -> dict:
    """The rules to store as JSON: money as integer fen under ``<name>_fen`` (as the catalog keeps
    prices), rates as decimal strings, times as UTC ISO strings, SKU codes as the catalog spells
    them."""
    out = {}
    for name, field in form._fields.items():
        value = field.data
        if isinstance(field, MoneyField):
            out[f"{name}_fen"] = value
            continue
        if isinstance(field, FieldList):
            value = [{"sku": e.form.sku.data, "price_fen": e.form.price.data, "quantity": e.form.quantity.data}
                     for e in field.entries]
        elif isinstance(value, Decimal):
            value = f"{value:.2f}"
        elif isinstance(value, datetime):
            value = to_utc(value).isoformat()
        out[name] = value
    return out


def money_keys(kind: str) -> list[str]:
    """The names of the kind's money fields (stored as ``<name>_fen``)."""
    return [name for name, field in _fields_of(RULE_FORMS[kind]) if issubclass(field.field_class, MoneyField)]


def rule_errors(kind: str, rules: dict, window, *, scope: Scope) -> dict[str, list[str]]:
    """Errors of stored rules (as ``rules_data`` writes them) checked again in ``scope``."""
    form = rules_form(kind, scope=scope, data=rules, window=window)
    form.validate()
    return {k: _lines(form, k, v) for k, v in form.errors.items()}


def _lines(form: RulesForm, name: str, errors) -> list[str]:
    """A field's errors as lines; a flash sale's rows say which SKU each error is about."""
    field = form[name]
    if not isinstance(field, FieldList):
        return [str(e) for e in errors]
    lines = [str(e) for e in errors if isinstance(e, str)]
    for entry in field.entries:
        for sub in entry.form:
            lines += [f"{entry.form.sku.data or '—'}: {e}" for e in sub.errors if sub is not entry.form.sku]
        lines += [str(e) for e in entry.form.sku.errors]
    return lines
