from __future__ import annotations

from datetime import datetime, timezone

from flask_babel import lazy_gettext as _l
from wtforms import DateTimeLocalField, SelectField
from wtforms.validators import Optional

from portal.kernel.ids import coerce_id
from portal.targets.forms import TargetFields
from portal.targets.services import TargetSpec
from portal.kernel.time import local_tz


class PushForm(TargetFields):
    """Send something to stores: a saved target or an ad-hoc selection, now or at a set time."""

    target_id = SelectField(_l("Target"), coerce=coerce_id, validate_choice=False)
    scheduled_for = DateTimeLocalField(_l("Send at (leave empty to send now)"), format="%Y-%m-%dT%H:%M",
                                       validators=[Optional()])

    def when(self) -> datetime | None:
        if not self.scheduled_for.data:
            return None
        return self.scheduled_for.data.replace(tzinfo=local_tz()).astimezone(timezone.utc)

    def chosen_spec(self, saved: dict[int, dict]) -> tuple[TargetSpec, int | None]:
        if self.target_id.data and self.target_id.data in saved:
            return TargetSpec.from_dict(saved[self.target_id.data]), self.target_id.data
        return self.spec(), None
