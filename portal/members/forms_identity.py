"""Forms of the identity pages: a guide, a manual rebinding, a manual merge."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, Regexp

from portal.kernel.forms import strip


class GuideForm(FlaskForm):
    name = StringField(_l("Full name"), filters=[strip], validators=[DataRequired(), Length(max=50)])
    code = StringField(_l("Guide code"), filters=[strip],
                       validators=[DataRequired(), Length(max=32),
                                   Regexp(r"^[A-Za-z0-9_-]+$", message=_l("Letters, digits, - or _ only."))],
                       description=_l("What the mini-program reports when this guide brings a member (e.g. G01)."))
    phone = StringField(_l("Mobile (optional)"), filters=[strip],
                        validators=[Optional(), Regexp(r"^1[3-9]\d{9}$",
                                                       message=_l("Enter an 11-digit mainland mobile number."))],
                        description=_l("Kept masked: only the last four digits are stored."))


class RebindForm(FlaskForm):
    store_code = StringField(_l("Store"), filters=[strip], validators=[DataRequired(), Length(max=32)])
    guide_id = SelectField(_l("Guide"), choices=[], validate_choice=False)
    note = StringField(_l("Why (kept in the history)"), filters=[strip], validators=[Optional(), Length(max=200)])


class MergeForm(FlaskForm):
    absorbed_id = IntegerField(_l("Member to merge into this one"), validators=[InputRequired()])
    reason = StringField(_l("Why"), filters=[strip], validators=[DataRequired(), Length(max=200)])
