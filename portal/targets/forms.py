from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectMultipleField, StringField, TextAreaField, widgets
from wtforms.validators import Length, Optional, ValidationError

from portal.kernel.forms import strip
from portal.org import roles
from portal.org import services as org_services
from portal.org.scope import Scope
from portal.targets.services import TargetSpec, parse_id, unknown_codes, unknown_message, unknown_nodes, unknown_tags


class CheckboxList(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class IdCheckboxList(CheckboxList):
    """Checkboxes of row ids. Whatever is posted is kept (ids as ints, anything else as the
    text sent) so the form can name it as unknown instead of failing."""

    def process_formdata(self, valuelist):
        self.data = [parse_id(v) if parse_id(v) is not None else str(v)[:40] for v in valuelist]

    @property
    def ids(self) -> list[int]:
        return [v for v in self.data or [] if isinstance(v, int)]


def split_codes(text: str) -> list[str]:
    return [c.strip().upper() for c in (text or "").replace("，", ",").replace("\n", ",").replace(" ", ",").split(",")
            if c.strip()]


class TargetFields(FlaskForm):
    """Which stores: the whole subtree, regions, tags, codes, minus exclusions. ``scope`` (set
    by ``fill_choices``) is what every named value is checked in."""

    everything = BooleanField(_l("Every store in my part of the organization"))
    node_ids = IdCheckboxList(_l("Regions and distributors"), coerce=int, validate_choice=False)
    tags = CheckboxList(_l("Stores with any of these tags"), validate_choice=False)
    store_codes = TextAreaField(
        _l("These stores (codes)"),
        filters=[strip],
        validators=[Optional(), Length(max=200000)],
        description=_l("Separate codes with commas, spaces or new lines."),
    )
    exclude_codes = TextAreaField(_l("Except these stores (codes)"), filters=[strip],
                                  validators=[Optional(), Length(max=200000)])
    active_only = BooleanField(_l("Only stores that are open (skip suspended ones)"), default=True)

    scope = None

    def validate_node_ids(self, field):
        junk = [v for v in field.data or [] if not isinstance(v, int)]
        bad = junk + unknown_nodes(self.scope, field.ids)
        if bad:
            raise ValidationError(unknown_message("node_ids", bad))

    def validate_tags(self, field):
        if bad := unknown_tags(self.scope, list(field.data or [])):
            raise ValidationError(unknown_message("tags", bad))

    def validate_store_codes(self, field):
        self._check_codes(field)

    def validate_exclude_codes(self, field):
        self._check_codes(field)

    def _check_codes(self, field):
        if bad := unknown_codes(self.scope, split_codes(field.data)):
            raise ValidationError(unknown_message(field.name, bad))

    def target_errors(self) -> list[str]:
        return [str(e) for f in (self.node_ids, self.tags, self.store_codes, self.exclude_codes) for e in f.errors]

    def spec(self) -> TargetSpec:
        return TargetSpec(
            everything=bool(self.everything.data),
            node_ids=self.node_ids.ids,
            tags=[str(t)[:32] for t in self.tags.data or []],
            store_codes=split_codes(self.store_codes.data),
            exclude_codes=split_codes(self.exclude_codes.data),
            active_only=bool(self.active_only.data),
        )

    def fill(self, spec: TargetSpec) -> None:
        self.everything.data = spec.everything
        self.node_ids.data = spec.node_ids
        self.tags.data = spec.tags
        self.store_codes.data = ", ".join(spec.store_codes)
        self.exclude_codes.data = ", ".join(spec.exclude_codes)
        self.active_only.data = spec.active_only


class TargetForm(TargetFields):
    name = StringField(_l("Name"), filters=[strip], validators=[Length(min=1, max=100)])


def fill_choices(form: TargetFields, scope: Scope) -> None:
    """Offer the regions and tags of the scope, and check every named value in it."""
    form.scope = scope
    nodes = org_services.scoped_nodes(scope, roles.DISTRIBUTOR, roles.REGION)
    form.node_ids.choices = [(n.id, n.name) for n in nodes]
    form.tags.choices = [(t, t) for t in org_services.all_tags(scope)]
