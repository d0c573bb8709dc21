"""Campaign forms. Each kind's rules have their own WTForms form, which is their schema (as the
decoration blocks do): the create and edit pages and the service validate with it."""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.i18n import translations as flask_wtf_translations
from werkzeug.datastructures import MultiDict
from wtforms import DateTimeLocalField, DecimalField, Form, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, ValidationError

from portal.campaigns.labels import PARTICIPATION_LABELS
from portal.decoration.blocks import CODES, codes, present
from portal.org.forms import options, strip
from portal.util import as_utc, local_tz

DT_FORMAT = "%Y-%m-%dT%H:%M"
MONEY = dict(places=2, rounding=None)


def to_utc(local: datetime | None) -> datetime | None:
    """A naive local time typed in a form, as a UTC instant."""
    if local is None:
        return None
    return local.replace(tzinfo=local_tz()).astimezone(timezone.utc)


def to_local(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return as_utc(value).astimezone(local_tz()).replace(tzinfo=None)


def blank_ok(form, field):
    """Like Optional(), but lets the chain go on to the field's validate_<name> method, which
    decides whether a blank is allowed (Optional() would stop the chain before it)."""
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
    starts_at = DateTimeLocalField(_l("Starts at"), format=DT_FORMAT, validators=[DataRequired()])
    ends_at = DateTimeLocalField(_l("Ends at"), format=DT_FORMAT, validators=[DataRequired()])
    participation = SelectField(_l("Participation"), choices=options(PARTICIPATION_LABELS.items()),
                                description=_l("Mandatory: every store reached runs it. Opt-in: stores join or decline."))
    join_deadline = DateTimeLocalField(_l("Join deadline"), format=DT_FORMAT, validators=[blank_ok],
                                       description=_l("Opt-in only: stores decide before this time."))

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

class RulesForm(Form):
    """A kind's rules. ``window`` (UTC start, end) is the campaign's, for rules that must fit in it."""

    window: tuple[datetime, datetime] | None = None

    class Meta:
        def get_translations(self, form):
            return flask_wtf_translations


def money(label, **kw):
    return DecimalField(label, places=2, validators=[present, NumberRange(min=Decimal("0.01"), max=Decimal("1000000"))], **kw)


class CouponRules(RulesForm):
    discount = SelectField(_l("Discount"), choices=options([("amount", _l("Amount off (yuan)")),
                                                           ("percent", _l("Percent off"))]))
    amount = DecimalField(_l("Amount off (yuan)"), places=2, validators=[blank_ok, in_range(min=Decimal("0.01"), max=Decimal("100000"))])
    percent = IntegerField(_l("Percent off"), validators=[blank_ok, in_range(1, 99)])
    threshold = DecimalField(_l("Minimum spend (yuan)"), places=2, default=Decimal("0"),
                             validators=[present, NumberRange(min=Decimal("0"), max=Decimal("1000000"))],
                             description=_l("0 for no minimum."))
    per_member = IntegerField(_l("Per-member limit"), default=1, validators=[present, NumberRange(1, 100)])
    budget = IntegerField(_l("Total budget (coupons)"), validators=[present, NumberRange(1, 10_000_000)],
                          description=_l("No more coupons than this are ever issued."))

    def validate_amount(self, field):
        if self.discount.data == "amount":
            if field.data is None:
                raise ValidationError(_l("Enter the amount off."))
            if self.threshold.data and field.data >= self.threshold.data:
                raise ValidationError(_l("The amount off must be less than the minimum spend."))

    def validate_percent(self, field):
        if self.discount.data == "percent" and field.data is None:
            raise ValidationError(_l("Enter the percent off."))


class FlashSaleRules(RulesForm):
    skus = TextAreaField(_l("Goods SKU codes"), filters=[strip], validators=[CODES, Length(max=2000)])
    price = money(_l("Flash sale price (yuan)"))
    quantity = IntegerField(_l("Quantity"), validators=[present, NumberRange(1, 1_000_000)])
    sale_starts = DateTimeLocalField(_l("Sale starts at"), format=DT_FORMAT, validators=[DataRequired()])
    sale_ends = DateTimeLocalField(_l("Sale ends at"), format=DT_FORMAT, validators=[DataRequired()])

    def validate_skus(self, field):
        if not codes(field.data):
            raise ValidationError(_l("List the SKU codes on sale."))
        if len(codes(field.data)) > 50:
            raise ValidationError(_l("At most 50 goods."))

    def validate_sale_ends(self, field):
        if not (self.sale_starts.data and field.data):
            return
        if field.data <= self.sale_starts.data:
            raise ValidationError(_l("The sale must end after it starts."))
        if self.window and (to_utc(self.sale_starts.data) < self.window[0] or to_utc(field.data) > self.window[1]):
            raise ValidationError(_l("The sale must lie inside the campaign's dates."))


class BargainRules(RulesForm):
    sku = StringField(_l("Goods SKU code"), filters=[strip], validators=[DataRequired(), CODES, Length(max=50)])
    floor_price = money(_l("Floor price (yuan)"), description=_l("The lowest price friends can bargain down to."))
    helpers = IntegerField(_l("Helpers needed"), validators=[present, NumberRange(1, 100)])
    hours = IntegerField(_l("Time limit (hours)"), validators=[present, NumberRange(1, 168)])


class GroupBuyRules(RulesForm):
    sku = StringField(_l("Goods SKU code"), filters=[strip], validators=[DataRequired(), CODES, Length(max=50)])
    group_size = IntegerField(_l("Group size"), validators=[present, NumberRange(2, 100)])
    price = money(_l("Group price (yuan)"))
    hours = IntegerField(_l("Hours to fill the group"), validators=[present, NumberRange(1, 168)])


def rate(label, **kw):
    return DecimalField(label, places=2, default=Decimal("0"),
                        validators=[present, NumberRange(min=Decimal("0"), max=Decimal("100"))], **kw)


class DistributionRules(RulesForm):
    levels = SelectField(_l("Levels"), coerce=int, choices=options([(1, _l("One level")), (2, _l("Two levels"))]))
    store_rate = rate(_l("Store commission %"))
    guide_rate = rate(_l("Guide commission %"))
    sharer_rate = rate(_l("Sharer commission %"))
    second_rate = DecimalField(_l("Second-level sharer commission %"), places=2,
                               validators=[blank_ok, in_range(min=Decimal("0"), max=Decimal("100"))],
                               description=_l("Two levels only: the sharer who brought the sharer."))
    freeze_days = IntegerField(_l("Freeze days before payout"), default=7, validators=[present, NumberRange(0, 90)])

    def validate_second_rate(self, field):
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


def rules_form(kind: str, *, data: dict | None = None, formdata: MultiDict | None = None,
               window: tuple[datetime, datetime] | None = None) -> RulesForm:
    """The kind's rules form, from a posted form or from stored rules."""
    cls = RULE_FORMS[kind]
    if formdata is not None:
        form = cls(formdata=formdata, prefix="rules")
    else:
        form = cls(data=_load(cls, data or {}), prefix="rules")
    form.window = window
    return form


def _load(cls, data: dict) -> dict:
    out = {}
    for name, field in cls._unbound_fields or _fields_of(cls):
        value = data.get(name)
        if value is None:
            continue
        kind = field.field_class
        if kind is DecimalField:
            value = Decimal(str(value))
        elif kind is DateTimeLocalField:
            value = to_local(datetime.fromisoformat(value))
        elif isinstance(value, list):
            value = ", ".join(value)
        out[name] = value
    return out


def _fields_of(cls):
    cls()   # binds _unbound_fields
    return cls._unbound_fields


def rules_data(form: RulesForm) -> dict:
    """The rules to store as JSON: decimals as strings, times as UTC ISO strings."""
    out = {}
    for name, value in form.data.items():
        if isinstance(value, Decimal):
            value = f"{value:.2f}"
        elif isinstance(value, datetime):
            value = to_utc(value).isoformat()
        out[name] = value
    if "skus" in out:
        out["skus"] = [c.strip() for c in codes(out["skus"])]
    return out


def rule_errors(kind: str, rules: dict, window) -> dict[str, list[str]]:
    """Errors of rules given as JSON-like data (the API or a service caller)."""
    form = rules_form(kind, data=rules, window=window)
    form.validate()
    return {k: [str(e) for e in v] for k, v in form.errors.items()}
