from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, Field, SelectMultipleField, StringField, TextAreaField, widgets
from wtforms.validators import Length, Optional, ValidationError

from portal.kernel.forms import strip
from portal.org import roles
from portal.org import services as org_services
from portal.org.scope import Scope
from portal.targets.services import (
    MAX_FILTERS,
    TargetSpec,
    clean_filter,
    filter_label,
    known_nodes,
    parse_id,
    picked_stores,
    unknown_codes,
    unknown_message,
    unknown_nodes,
    unknown_store_ids,
    unknown_tags,
)


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


class FilterList(Field):
    """Store-list filters added by the store picker ("all N matching"), each posted as the query
    string the picker's search sent (``q=上海&status=active``); kept as ``clean_filter`` dicts."""

    def process_formdata(self, valuelist):
        self.data = [f for f in (clean_filter(dict(parse_qsl(str(v)[:400], keep_blank_values=True)))
                                 for v in valuelist) if f is not None]

    def process_data(self, value):
        self.data = list(value or [])

    @staticmethod
    def query(data: dict) -> str:
        return urlencode({k: v for k, v in data.items() if v})


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
    store_ids = IdCheckboxList(_l("Chosen stores"), coerce=int, validate_choice=False)
    filters = FilterList(_l("Stores matching a search"))

    scope = None
    _tree = None

    @property
    def tree(self):
        """The scope's org tree with store counts, for the picker (read only when a page shows it)."""
        if self._tree is None:
            self._tree = org_services.build_tree(self.scope) or False
        return self._tree or None

    CHIPS = 300

    def picked(self) -> tuple[list, list[int]]:
        """The chosen stores, for their chips (the first ``CHIPS`` in code order), and the ids of
        the others in the scope, kept as hidden values so that saving again loses none of them."""
        ids = list(dict.fromkeys(self.store_ids.ids))
        shown = picked_stores(self.scope, ids, limit=self.CHIPS)
        if len(shown) < self.CHIPS:
            return shown, []
        seen = {s.id for s in shown}
        return shown, [i for i in ids if i not in seen]

    def filter_chips(self) -> list[tuple[str, str]]:
        """(query, label) of each chosen filter."""
        nodes = known_nodes(self.scope, [f["node"] for f in self.filters.data or [] if f["node"]])
        return [(FilterList.query(f), filter_label(f, nodes)) for f in self.filters.data or []]

    def validate_store_ids(self, field):
        junk = [v for v in field.data or [] if not isinstance(v, int)]
        if junk or unknown_store_ids(self.scope, field.ids):
            raise ValidationError(unknown_message("store_ids", []))

    def validate_filters(self, field):
        if len(field.data or []) > MAX_FILTERS:
            raise ValidationError(_l("At most %(n)s searches can be added.", n=MAX_FILTERS))
        if unknown_nodes(self.scope, [f["node"] for f in field.data or [] if f["node"]]):
            raise ValidationError(unknown_message("filters", []))

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
        return [str(e) for f in (self.node_ids, self.tags, self.store_codes, self.exclude_codes, self.store_ids,
                                 self.filters) for e in f.errors]

    def spec(self) -> TargetSpec:
        return TargetSpec(
            everything=bool(self.everything.data),
            node_ids=self.node_ids.ids,
            tags=[str(t)[:32] for t in self.tags.data or []],
            store_codes=split_codes(self.store_codes.data),
            exclude_codes=split_codes(self.exclude_codes.data),
            active_only=bool(self.active_only.data),
            store_ids=list(dict.fromkeys(self.store_ids.ids)),
            filters=list(self.filters.data or [])[:MAX_FILTERS],
        )

    def fill(self, spec: TargetSpec) -> None:
        self.everything.data = spec.everything
        self.node_ids.data = spec.node_ids
        self.tags.data = spec.tags
        self.store_codes.data = ", ".join(spec.store_codes)
        self.exclude_codes.data = ", ".join(spec.exclude_codes)
        self.active_only.data = spec.active_only
        self.store_ids.data = spec.store_ids
        self.filters.data = spec.filters


class TargetForm(TargetFields):
    name = StringField(_l("Name"), filters=[strip], validators=[Length(min=1, max=100)])


def fill_choices(form: TargetFields, scope: Scope) -> None:
    """Offer the regions and tags of the scope, and check every named value in it."""
    form.scope = scope
    nodes = org_services.scoped_nodes(scope, roles.DISTRIBUTOR, roles.REGION)
    form.node_ids.choices = [(n.id, n.name) for n in nodes]
    form.tags.choices = [(t, t) for t in org_services.all_tags(scope)]
