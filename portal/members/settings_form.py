"""HQ's member settings form: the binding rule and the RFM window, mode and thresholds."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectField
from wtforms.validators import InputRequired, ValidationError

from portal.kernel.fields import MoneyField, QuantityField
from portal.kernel.forms import Required, options
from portal.members.models import FIRST_STAYS, LATEST_WINS, PROTECTED
from portal.members.rfm import MEDIAN, THRESHOLDS

BINDING_LABELS = {FIRST_STAYS: _l("The first binding stays"), LATEST_WINS: _l("The latest binding wins"),
                  PROTECTED: _l("Protected for N days, then the latest wins")}
MODE_LABELS = {THRESHOLDS: _l("HQ's thresholds"), MEDIAN: _l("Split at the median")}
# Whatever is typed, these keep a recompute meaningful (and its SQL's dates in range).
MAX_WINDOW = 1095


class SettingsForm(FlaskForm):
    binding_rule = RadioField(_l("Binding rule"), choices=options(BINDING_LABELS.items()), validators=[InputRequired()])
    protect_days = QuantityField(_l("Protected days"), min=1, max=365,
                                 description=_l("A binding cannot change for this many days (1–365)."))
    rfm_window_days = QuantityField(_l("Window (days)"), [Required()], min=7, max=MAX_WINDOW,
                                    description=_l("Orders paid in the last N days count (7–1,095)."))
    rfm_new_days = QuantityField(_l("New customer (days)"), [Required()], min=1, max=MAX_WINDOW,
                                 description=_l("A first order within N days makes a new customer."))
    rfm_mode = SelectField(_l("How R, F and M are split"), choices=options(MODE_LABELS.items()),
                           validators=[InputRequired()])
    rfm_recency_days = QuantityField(_l("R: bought within (days)"), [Required()], min=1, max=MAX_WINDOW)
    rfm_frequency = QuantityField(_l("F: at least (orders)"), [Required()], min=1, max=10_000)
    rfm_monetary = MoneyField(_l("M: spent at least"), [Required()], min=1, max=2_000_000_000)

    def validate_protect_days(self, field):
        if self.binding_rule.data == PROTECTED and field.data is None:
            raise ValidationError(_l("Enter how many days a binding is protected (1–365)."))

    def validate_rfm_new_days(self, field):
        if field.data and self.rfm_window_days.data and field.data > self.rfm_window_days.data:
            raise ValidationError(_l("At most the window (%(n)s days).", n=self.rfm_window_days.data))

    def validate_rfm_recency_days(self, field):
        if field.data and self.rfm_window_days.data and field.data > self.rfm_window_days.data:
            raise ValidationError(_l("At most the window (%(n)s days).", n=self.rfm_window_days.data))

    def fill(self, s) -> None:
        """Show the stored settings (a GET)."""
        self.binding_rule.data = s.binding_rule
        self.protect_days.data = s.protect_days
        self.rfm_window_days.data = s.rfm_window_days
        self.rfm_new_days.data = s.rfm_new_days
        self.rfm_mode.data = s.rfm_mode
        self.rfm_recency_days.data = s.rfm_recency_days
        self.rfm_frequency.data = s.rfm_frequency
        self.rfm_monetary.data = s.rfm_monetary_fen

    def values(self) -> dict:
        """The validated values, as MemberSettings columns."""
        return dict(binding_rule=self.binding_rule.data,
                    protect_days=self.protect_days.data if self.protect_days.data is not None else 30,
                    rfm_window_days=self.rfm_window_days.data, rfm_new_days=self.rfm_new_days.data,
                    rfm_mode=self.rfm_mode.data, rfm_recency_days=self.rfm_recency_days.data,
                    rfm_frequency=self.rfm_frequency.data, rfm_monetary_fen=self.rfm_monetary.data)
