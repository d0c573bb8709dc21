"""Forms of the org domain. The store field rules are written once (StoreFields) and serve
both the store form and every row of a CSV import."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.i18n import translations as flask_wtf_translations
from wtforms import Form, HiddenField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional, Regexp, ValidationError

from portal.kernel.forms import options, strip
from portal.kernel.ids import coerce_id
from portal.kernel.text import whole
from portal.org import roles
from portal.org.services import parse_tags

# A user's password: the user forms here and the sign-in pages' change of password (auth) share it.
PASSWORD_RULES = [DataRequired(), Length(min=8, max=128, message=_l("At least 8 characters."))]

CODE_RE = whole(r"[A-Za-z0-9][A-Za-z0-9_-]*")
CODE_MESSAGE = _l("Letters, digits, '-' and '_' only.")

STATUS_LABELS = {
    roles.STORE_ACTIVE: _l("Active"),
    roles.STORE_SUSPENDED: _l("Suspended"),
    roles.STORE_CLOSED: _l("Closed"),
}
ROLE_LABELS = {
    roles.HQ_ADMIN: _l("HQ admin"),
    roles.DISTRIBUTOR_ADMIN: _l("Distributor admin"),
    roles.REGIONAL_MANAGER: _l("Regional manager"),
    roles.STORE_OWNER: _l("Store owner"),
}
KIND_LABELS = {roles.HQ: _l("HQ"), roles.DISTRIBUTOR: _l("Distributor"), roles.REGION: _l("Region")}


def validate_tags(form, field):
    tags = parse_tags(field.data)
    if len(tags) > 10:
        raise ValidationError(_l("At most 10 tags."))
    if any(len(t) > 32 for t in tags):
        raise ValidationError(_l("A tag is at most 32 characters."))


class StoreFields(Form):
    code = StringField(_l("Store code"), filters=[strip], validators=[
        DataRequired(), Length(max=32), Regexp(CODE_RE, message=CODE_MESSAGE)])
    name = StringField(_l("Store name"), filters=[strip], validators=[DataRequired(), Length(max=100)])
    city = StringField(_l("City"), filters=[strip], validators=[DataRequired(), Length(max=50)])
    address = StringField(_l("Address"), filters=[strip], validators=[Optional(), Length(max=255)])
    status = SelectField(_l("Status"), choices=options(STATUS_LABELS.items()), default=roles.STORE_ACTIVE)
    tags = StringField(_l("Tags"), filters=[strip], validators=[Optional(), validate_tags],
                       description=_l("Separate tags with commas."))
    appid = StringField(_l("Mini-program AppID"), filters=[strip], validators=[
        Optional(), Regexp(whole(r"wx[0-9a-f]{16}"), message=_l("An AppID is 'wx' followed by 16 hex digits."))])
    owner_name = StringField(_l("Owner"), filters=[strip], validators=[Optional(), Length(max=50)])
    owner_phone = StringField(
        _l("Owner phone"),
        filters=[strip],
        validators=[
            Optional(),
            Regexp(whole(r"1[3-9]\d{9}"), message=_l("A mainland mobile number: 11 digits starting with 13 to 19.")),
        ],
    )

    def store_data(self) -> dict:
        return {k: (getattr(self, k).data or "") for k in (
            "code", "name", "city", "address", "status", "appid", "owner_name", "owner_phone")}


class StoreForm(FlaskForm, StoreFields):
    node_id = SelectField(_l("Region"), coerce=int, validators=[DataRequired()])


class StoreRowForm(StoreFields):
    """One row of a CSV import: the region is named by its code."""

    class Meta:
        def get_translations(self, form):
            # A plain Form, but WTForms' own messages ("This field is required.") should speak
            # the UI language as they do in every FlaskForm.
            return flask_wtf_translations

    region = StringField(_l("Region code"), filters=[strip], validators=[DataRequired(), Length(max=32)])
    status = StringField(_l("Status"), filters=[strip])


class NodeForm(FlaskForm):
    parent_id = SelectField(_l("Parent"), coerce=int, validators=[DataRequired()])
    kind = SelectField(
        _l("Kind"), choices=options([(roles.DISTRIBUTOR, _l("Distributor")), (roles.REGION, _l("Region"))])
    )
    code = StringField(_l("Code"), filters=[strip], validators=[
        DataRequired(), Length(max=32), Regexp(CODE_RE, message=CODE_MESSAGE)])
    name = StringField(_l("Name"), filters=[strip], validators=[DataRequired(), Length(max=100)])


class RenameNodeForm(FlaskForm):
    name = StringField(_l("Name"), filters=[strip], validators=[DataRequired(), Length(max=100)])


class MoveNodeForm(FlaskForm):
    parent_id = SelectField(_l("New parent"), coerce=int, validators=[DataRequired()])


class UserForm(FlaskForm):
    username = StringField(_l("Username"), filters=[strip], validators=[
        DataRequired(), Length(min=3, max=64),
        Regexp(whole(r"[A-Za-z0-9_.-]+"), message=_l("Letters, digits, '.', '-' and '_' only."))])
    display_name = StringField(_l("Full name"), filters=[strip], validators=[Optional(), Length(max=64)])
    role = SelectField(_l("Role"))
    node_id = SelectField(_l("Organization node"), coerce=coerce_id, validate_choice=False)
    store_code = StringField(_l("Store code"), filters=[strip], validators=[Optional(), Length(max=32)],
                             description=_l("For store owners: the code of their store."))
    password = PasswordField(_l("Initial password"), validators=PASSWORD_RULES)


class EditUserForm(UserForm):
    username = HiddenField()
    password = None


class ResetPasswordForm(FlaskForm):
    password = PasswordField(_l("New password"), validators=PASSWORD_RULES)


class ImportForm(FlaskForm):
    pass  # the file is read from request.files so a missing file gets our own message


def tag_text(tags: list[str]) -> str:
    return ", ".join(tags)


__all__ = ["StoreForm", "StoreRowForm", "NodeForm", "RenameNodeForm", "MoveNodeForm", "UserForm",
           "EditUserForm", "ResetPasswordForm", "ImportForm", "STATUS_LABELS", "ROLE_LABELS",
           "KIND_LABELS", "tag_text"]
