from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectMultipleField, StringField, TextAreaField, widgets
from wtforms.validators import Length, Optional, ValidationError

from portal.kernel.ids import coerce_id
from portal.org.forms import strip
from portal.targets.services import TargetSpec, unknown_codes


class CheckboxList(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


def split_codes(text: str) -> list[str]:
    return [c.strip().upper() for c in (text or "").replace("，", ",").replace("\n", ",").replace(" ", ",").split(",")
            if c.strip()]


class TargetFields(FlaskForm):
    """Which stores: the whole subtree, regions, tags, codes, minus exclusions."""

    everything = BooleanField(_l("Every store in my part of the organization"))
    node_ids = CheckboxList(_l("Regions and distributors"), coerce=coerce_id, validate_choice=False)
    tags = CheckboxList(_l("Stores with any of these tags"), validate_choice=False)
    store_codes = TextAreaField(_l("These stores (codes)"), filters=[strip], validators=[Optional(), Length(max=200000)],
                                description=_l("Separate codes with commas, spaces or new lines."))
    exclude_codes = TextAreaField(_l("Except these stores (codes)"), filters=[strip],
                                  validators=[Optional(), Length(max=200000)])
    active_only = BooleanField(_l("Only stores that are open (skip suspended ones)"), default=True)

    def validate_store_codes(self, field):
        self._check_codes(field)

    def validate_exclude_codes(self, field):
        self._check_codes(field)

    def _check_codes(self, field):
        unknown = unknown_codes(TargetSpec(store_codes=split_codes(field.data)))
        if unknown:
            shown = "、".join(unknown[:10]) + ("…" if len(unknown) > 10 else "")
            raise ValidationError(_l("Unknown store codes: %(codes)s", codes=shown))

    def spec(self) -> TargetSpec:
        return TargetSpec(
            everything=bool(self.everything.data),
            node_ids=[i for i in self.node_ids.data or [] if i is not None],
            tags=list(self.tags.data or []),
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
