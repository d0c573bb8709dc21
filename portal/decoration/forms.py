"""Forms of the decoration pages. Each block type's own form lives in blocks.py (it is the schema)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from portal.decoration.blocks import BLOCK_TYPES
from portal.kernel.forms import options, strip


class TemplateForm(FlaskForm):
    name = StringField(_l("Template name"), filters=[strip], validators=[DataRequired(), Length(max=100)],
                       description=_l("For example “Spring home page”. Stores never see this name."))


class AddBlockForm(FlaskForm):
    type = SelectField(_l("Block type"), choices=options((name, b.label) for name, b in BLOCK_TYPES.items()))


class PublishForm(FlaskForm):
    note = StringField(_l("What changed (optional)"), filters=[strip], validators=[Optional(), Length(max=200)])
