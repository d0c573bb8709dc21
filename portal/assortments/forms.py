"""Forms of assortments."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional


class AssortmentForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])


class AddItemsForm(FlaskForm):
    codes = TextAreaField(_l("Product codes"), validators=[Optional(), Length(max=20000)],
                          description=_l("Separate codes with spaces, commas or new lines."))
