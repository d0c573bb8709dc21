"""The scheduling rules of a live room, as WeChat applies them.

- Titles are counted as WeChat counts them: a Chinese (any non-ASCII) character counts 1, two
  Latin letters, digits or ASCII signs count 1 (rounded up). Mini-program live: 3 to 17; Channels
  live: 1 to 17 (a live notice's description has no documented minimum).
- The start is at least 10 minutes ahead and at most 6 months out (calendar months).
- A room lasts 30 minutes to 12 hours (WeChat documents 24 h but refuses more than 12).
- The anchor name is required, at most 15 (counted the same way).

``problems(...)`` gives every broken rule as (field, message) so a form shows each beside its
field; ``check(...)`` raises the first as a ``RuleError`` (services call it).
"""
from __future__ import annotations

import calendar
import math
from datetime import datetime, timedelta

from flask_babel import gettext as _

from portal.kernel.errors import RuleError
from portal.live.models import MINIPROGRAM

TITLE_MAX = 17
TITLE_MIN = {MINIPROGRAM: 3}        # Channels live: 1
ANCHOR_MAX = 15
LEAD = timedelta(minutes=10)
AHEAD_MONTHS = 6
SHORTEST = timedelta(minutes=30)
LONGEST = timedelta(hours=12)


def wechat_length(text: str) -> int:
    """The length WeChat counts: a Chinese character 1, two Latin letters or digits 1."""
    halves = sum(1 if ord(ch) < 128 else 2 for ch in text)
    return math.ceil(halves / 2)


def add_months(moment: datetime, months: int) -> datetime:
    """``moment`` ``months`` calendar months later (the 31st becomes the month's last day)."""
    month0 = moment.month - 1 + months
    year, month = moment.year + month0 // 12, month0 % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def title_problem(title: str, provider: str) -> str | None:
    size = wechat_length(title or "")
    low = TITLE_MIN.get(provider, 1)
    if size < low or size > TITLE_MAX:
        if low > 1:
            return _("The title must be %(low)s to %(high)s characters as WeChat counts them (a Chinese "
                     "character counts 1, two letters or digits count 1); this one counts %(n)s.",
                     low=low, high=TITLE_MAX, n=size)
        return _("The title must be 1 to %(high)s characters as WeChat counts them (a Chinese character "
                 "counts 1, two letters or digits count 1); this one counts %(n)s.", high=TITLE_MAX, n=size)
    return None


def anchor_problem(anchor: str) -> str | None:
    if not (anchor or "").strip():
        return _("Name the anchor (the person who presents the live).")
    if wechat_length(anchor.strip()) > ANCHOR_MAX:
        return _("The anchor name must be at most %(n)s characters (a Chinese character counts 1, two letters "
                 "or digits count 1).", n=ANCHOR_MAX)
    return None


def start_problem(start: datetime, now: datetime) -> str | None:
    if start < now + LEAD:
        return _("The start must be at least 10 minutes from now.")
    if start > add_months(now, AHEAD_MONTHS):
        return _("The start must be at most 6 months from now.")
    return None


def end_problem(start: datetime, end: datetime) -> str | None:
    length = end - start
    if length < SHORTEST:
        return _("A live lasts at least 30 minutes: the end must be 30 minutes or more after the start.")
    if length > LONGEST:
        return _("A live lasts at most 12 hours (WeChat refuses longer rooms): the end must be within 12 hours "
                 "of the start.")
    return None


def problems(*, title: str, anchor: str, provider: str, start: datetime | None, end: datetime | None,
             now: datetime, check_start: bool = True) -> list[tuple[str, str]]:
    """Every broken rule as (field, message). ``check_start=False`` when the start is not being
    changed (an edit of a room whose start has come close keeps it)."""
    found = []
    for field, problem in (("title", title_problem(title, provider)), ("anchor", anchor_problem(anchor))):
        if problem:
            found.append((field, problem))
    if start is not None and check_start and (problem := start_problem(start, now)):
        found.append(("start", problem))
    if start is not None and end is not None and (problem := end_problem(start, end)):
        found.append(("end", problem))
    return found


def check(**kwargs) -> None:
    """Raise the first broken rule (see ``problems``) as a RuleError naming its field."""
    found = problems(**kwargs)
    if found:
        field, message = found[0]
        raise RuleError(message, field)
