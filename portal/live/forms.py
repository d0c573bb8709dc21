"""The room form: WeChat's rules (``portal.live.rules``) shown beside the fields they concern."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateTimeLocalField, SelectField, StringField, TextAreaField
from wtforms.validators import Length, Optional, ValidationError

from portal.campaigns.forms import DT_FORMAT, to_local, to_utc
from portal.kernel.forms import Required, options, strip
from portal.kernel.time import utcnow
from portal.live import rules
from portal.live.models import CHANNELS, MINIPROGRAM, OPTIONS

PROVIDER_LABELS = {CHANNELS: _l("Channels live (视频号直播)"), MINIPROGRAM: _l("Mini-program live (小程序直播)")}
OPTION_LABELS = {"comments": _l("Comments"), "likes": _l("Likes"), "shelf": _l("Goods shelf"),
                 "replay": _l("Replay"), "sharing": _l("Sharing")}


def cover_address(form, field):
    value = field.data or ""
    if value and not (value.startswith("/media/i/") or value.startswith("https://")):
        raise ValidationError(_l("Choose the cover from the image space (or give an https:// address)."))


class RoomForm(FlaskForm):
    title = StringField(_l("Title"), filters=[strip], validators=[Length(max=60)],
                        description=_l("Mini-program live: 3–17 characters, Channels live: up to 17 (a Chinese "
                                       "character counts 1, two letters or digits count 1)."))
    anchor = StringField(_l("Anchor"), filters=[strip], validators=[Length(max=40)])
    provider = SelectField(_l("Live on"), choices=options(PROVIDER_LABELS.items()), default=CHANNELS)
    start = DateTimeLocalField(_l("Starts at"), format=DT_FORMAT, validators=[Required()])
    end = DateTimeLocalField(_l("Ends at"), format=DT_FORMAT, validators=[Required()],
                             description=_l("30 minutes to 12 hours after the start."))
    cover_url = StringField(_l("Cover"), filters=[strip], validators=[Optional(), Length(max=255), cover_address])
    comments = BooleanField(OPTION_LABELS["comments"], default=True)
    likes = BooleanField(OPTION_LABELS["likes"], default=True)
    shelf = BooleanField(OPTION_LABELS["shelf"], default=True)
    replay = BooleanField(OPTION_LABELS["replay"], default=True)
    sharing = BooleanField(OPTION_LABELS["sharing"], default=True)
    # Broadcasts only (removed from a store's form)
    node_id = SelectField(_l("Broadcast of"), coerce=int, validate_choice=True)
    store_codes = TextAreaField(_l("Carried by"), filters=[strip], validators=[Optional(), Length(max=20000)],
                                description=_l("Store codes, one per line or separated by commas; blank: every "
                                               "active store under the broadcast's node."))

    def __init__(self, *args, broadcast: bool = False, room=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.room = room
        if not broadcast or room is not None:
            del self.node_id          # a broadcast's node is fixed once it is made
        if not broadcast:
            del self.store_codes
        if room is not None:
            del self.provider         # a room's provider is fixed once WeChat has it
            if broadcast:
                self.store_codes.description = _l("Store codes, one per line or separated by commas; blank: the "
                                                  "stores that carry it now stay.")

    def options_data(self) -> dict:
        return {name: bool(self[name].data) for name in OPTIONS}

    def window(self):
        return to_utc(self.start.data), to_utc(self.end.data)

    def provider_value(self) -> str:
        return self.room.provider if self.room is not None else self.provider.data

    def codes(self) -> list[str] | None:
        if "store_codes" not in self:
            return None
        text = (self.store_codes.data or "").replace("，", ",").replace(";", ",").replace("；", ",")
        codes = [c.strip() for part in text.splitlines() for c in part.split(",") if c.strip()]
        return codes or None

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        start = to_utc(self.start.data) if self.start.data and not self.start.errors else None
        end = to_utc(self.end.data) if self.end.data and not self.end.errors else None
        keep_start = self.room is not None and start == self.room.scheduled_start
        for name, message in rules.problems(title=self.title.data or "", anchor=self.anchor.data or "",
                                            provider=self.provider_value(), start=start, end=end, now=utcnow(),
                                            check_start=not keep_start):
            self[name].errors = list(self[name].errors) + [message]
            ok = False
        return ok

    @classmethod
    def for_room(cls, room, **kwargs) -> RoomForm:
        data = {"title": room.title, "anchor": room.anchor, "start": to_local(room.scheduled_start),
                "end": to_local(room.scheduled_end), "cover_url": room.cover_url, **(room.options or {})}
        return cls(data=data, room=room, **kwargs)


__all__ = ["RoomForm", "PROVIDER_LABELS", "OPTION_LABELS", "to_local"]
