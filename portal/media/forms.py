from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from portal.kernel.forms import strip


class UploadForm(FlaskForm):
    """The CSRF token of an upload; the files come as ``files`` (one or several)."""


class RenameForm(FlaskForm):
    name = StringField(_l("Name"), filters=[strip], validators=[DataRequired(), Length(max=100)])
