"""Forms of the audiences pages: tags and tiers (HQ), groups (fixed lists and saved filters)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, RadioField, SelectField, StringField
from wtforms.validators import InputRequired, Length, NumberRange

from portal.kernel.fields import MoneyField
from portal.kernel.forms import Required, options, strip
from portal.kernel.ids import coerce_id
from portal.members.audiences import SEGMENT_LABELS, FilterMenus, MemberFilter
from portal.members.models import FILTER, FIXED


class TagForm(FlaskForm):
    name = StringField(_l("Tag name"), filters=[strip], validators=[InputRequired(), Length(min=1, max=32)])


class TierForm(FlaskForm):
    name = StringField(_l("Tier name"), filters=[strip], validators=[InputRequired(), Length(min=1, max=32)])
    rank = IntegerField(_l("Rank"), default=1, validators=[InputRequired(), NumberRange(min=0, max=99)],
                        description=_l("Higher ranks are better tiers."))
    min_spent = MoneyField(_l("Spend to reach the tier (yuan)"), validators=[Required()],
                           description=_l("Net spend a member needs to reach this tier."))


class GroupForm(FlaskForm):
    """A group: a fixed list (members are added from the member list) or a saved filter, with
    the same conditions as the member list's filters."""

    name = StringField(_l("Group name"), filters=[strip], validators=[InputRequired(), Length(min=1, max=100)])
    kind = RadioField(_l("What the group is"), default=FILTER, choices=options([
        (FILTER, _l("A saved filter: its members follow the conditions")),
        (FIXED, _l("A fixed list: members added by hand from the member list"))]))
    q = StringField(_l("Search"), filters=[strip], validators=[Length(max=64)])
    segment = SelectField(_l("Segment"), choices=[])
    tag = SelectField(_l("Tag"), choices=[], coerce=coerce_id, validate_choice=True)
    tier = SelectField(_l("Tier"), choices=[], coerce=coerce_id, validate_choice=True)
    node = SelectField(_l("Region"), choices=[], coerce=coerce_id, validate_choice=True)
    store = SelectField(_l("Store"), choices=[], coerce=coerce_id, validate_choice=True)

    def fill_choices(self, menus: FilterMenus) -> None:
        self.segment.choices = options([("", _l("Any"))] + list(SEGMENT_LABELS.items()))
        self.tag.choices = options([("", _l("Any"))] + [(t.id, t.name) for t in menus.tags])
        self.tier.choices = options([("", _l("Any"))] + [(t.id, t.name) for t in menus.tiers])
        self.node.choices = options([("", _l("Any"))] + [(n.id, "　" * max(0, n.depth - 1) + n.name)
                                                            for n in menus.nodes])
        self.store.choices = options([("", _l("Any"))] + [(s.id, f"{s.code} {s.name}") for s in menus.stores or []])

    def member_filter(self) -> MemberFilter:
        return MemberFilter.from_args({"q": self.q.data or "", "segment": self.segment.data or "",
                                       "tag": self.tag.data, "tier": self.tier.data, "node": self.node.data,
                                       "store": self.store.data})

    def fill(self, spec: dict) -> None:
        flt = MemberFilter.from_args(spec or {})
        self.q.data, self.segment.data = flt.q, flt.segment
        self.tag.data, self.tier.data, self.node.data, self.store.data = flt.tag_id, flt.tier_id, flt.node_id, \
            flt.store_id
