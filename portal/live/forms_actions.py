"""Forms of a room's lottery, invitations and post-live coupons (Flask-WTF, CSRF on)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, RadioField, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

from portal.kernel.forms import options, strip
from portal.live.lottery import MAX_WINNERS

POOL_LABELS = {"viewers": _l("Viewers"), "commenters": _l("Commenters"), "sharers": _l("Sharers")}
AUDIENCE_LABELS = {"watched": _l("Everyone who watched"), "not_bought": _l("Watched and did not buy")}


class LotteryForm(FlaskForm):
    title = StringField(_l("Prize"), filters=[strip], validators=[DataRequired(), Length(max=60)])
    pool = SelectField(_l("Who takes part"), choices=options(POOL_LABELS.items()), default="viewers")
    min_shares = IntegerField(_l("At least N shares"), default=0,
                              validators=[InputRequired(), NumberRange(min=0, max=10_000)])
    exclude_staff = BooleanField(_l("Staff excluded"), default=True)
    winners = IntegerField(_l("Winners"), default=1, validators=[InputRequired(), NumberRange(min=1, max=MAX_WINNERS)])


class InviteForm(FlaskForm):
    audience = SelectField(_l("Invite"), validators=[DataRequired(_l("Choose a group or a segment to invite."))])

    def spec(self) -> dict:
        kind, _sep, value = (self.audience.data or "").partition(":")
        return {kind: value} if kind in ("group", "segment") and value else {}


class CouponForm(FlaskForm):
    campaign_id = SelectField(_l("Coupon campaign"), coerce=str,
                              validators=[DataRequired(_l("Choose a running coupon campaign."))])
    audience = RadioField(_l("Send to"), choices=options(AUDIENCE_LABELS.items()), default="not_bought",
                          validators=[DataRequired()])
