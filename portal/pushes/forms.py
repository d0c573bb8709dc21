"""The push form, and the two steps every page that pushes something shares (decoration,
assortments, campaigns): build the form with its choices, and validate it into a push."""
from __future__ import annotations

from datetime import UTC, datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import DateTimeLocalField, SelectField
from wtforms.validators import Optional

from portal.extensions import db
from portal.kernel.errors import RuleError
from portal.kernel.forms import rule_error
from portal.kernel.ids import coerce_id
from portal.kernel.time import local_tz
from portal.org.scope import Scope
from portal.pushes import services
from portal.targets import services as target_services
from portal.targets.forms import TargetFields, fill_choices
from portal.targets.services import TargetSpec


class PushForm(TargetFields):
    """Send something to stores: a saved target or an ad-hoc selection, now or at a set time."""

    target_id = SelectField(_l("Target"), coerce=coerce_id, validate_choice=False)
    scheduled_for = DateTimeLocalField(_l("Send at (leave empty to send now)"), format="%Y-%m-%dT%H:%M",
                                       validators=[Optional()])

    def when(self) -> datetime | None:
        if not self.scheduled_for.data:
            return None
        return self.scheduled_for.data.replace(tzinfo=local_tz()).astimezone(UTC)

    def chosen_spec(self, saved: dict[int, dict]) -> tuple[TargetSpec, int | None]:
        if self.target_id.data and self.target_id.data in saved:
            return TargetSpec.from_dict(saved[self.target_id.data]), self.target_id.data
        return self.spec(), None


def prepare_push_form(scope: Scope) -> tuple[PushForm, dict[int, dict]]:
    """The push form with its choices: for any view that pushes something."""
    form = PushForm()
    fill_choices(form, scope)
    targets = db.session.scalars(target_services.scoped_targets(scope)).all()     # one query for both
    saved = {t.id: t.spec for t in targets}
    form.target_id.choices = [("", _("Choose stores below"))] + [(t.id, t.name) for t in targets]
    return form, saved


def start_push(scope: Scope, form: PushForm, saved: dict[int, dict], kind: str, payload_id: int,
               label: str):
    """Validate the push form and create the push; returns the push or None (errors on the form)."""
    if not form.validate_on_submit():
        return None
    spec, target_id = form.chosen_spec(saved)
    if not spec.is_empty and target_services.count(scope, spec) == 0:
        # Refused before anything is recorded: a push to no store would only look like work done.
        rule_error(form, RuleError(_("This target reaches no store (0 stores): nothing was pushed. "
                                     "Choose other regions, tags or stores.")),
                   at="target_id" if target_id else "everything")
        return None
    # A saved target is named by its name; an ad-hoc selection is described by create_push.
    target_label = dict(form.target_id.choices).get(target_id, "") if target_id else ""
    try:
        return services.create_push(scope, kind, payload_id, label, spec, actor=scope.user,
                                    target_id=target_id, target_label=str(target_label),
                                    scheduled_for=form.when())
    except RuleError as exc:
        rule_error(form, exc, at="scheduled_for" if exc.field == "scheduled_for" else "everything")
        return None
