"""WeChat's scheduling rules, each refused with its message beside its field."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from portal.kernel.errors import RuleError
from portal.live import rules
from portal.live.models import CHANNELS, MINIPROGRAM

NOW = datetime(2026, 3, 10, 8, 0, tzinfo=UTC)
OK = dict(title="春季新品直播", anchor="小美", provider=MINIPROGRAM, start=NOW + timedelta(hours=1),
          end=NOW + timedelta(hours=3), now=NOW)


def fields(**changes):
    return [f for f, _m in rules.problems(**{**OK, **changes})]


@pytest.mark.parametrize("text, n", [("春季", 2), ("ab", 1), ("abc", 2), ("春a", 2), ("直播间ABCD12", 6), ("", 0)])
def test_titles_are_counted_as_wechat_counts_them(text, n):
    assert rules.wechat_length(text) == n


def test_a_valid_room_passes(app):
    assert rules.problems(**OK) == []


@pytest.mark.parametrize("title, ok", [("新品", False), ("新品秀", True), ("abcd", False), ("abcde", True),
                                       ("一二三四五六七八九十一二三四五六七", True),
                                       ("一二三四五六七八九十一二三四五六七八", False),
                                       ("一二三四五六七八九十一二三四五六ab", True),
                                       ("一二三四五六七八九十一二三四五六abc", False)])
def test_mini_program_titles_are_3_to_17(app, title, ok):
    assert (fields(title=title) == []) is ok


def test_channels_titles_need_only_one_character(app):
    assert fields(title="新", provider=CHANNELS) == []
    assert fields(title="", provider=CHANNELS) == ["title"]
    assert fields(title="一二三四五六七八九十一二三四五六七八", provider=CHANNELS) == ["title"]


def test_the_title_message_says_how_wechat_counts(app):
    (field, message), = rules.problems(**{**OK, "title": "ab"})
    assert field == "title" and "3" in message and "17" in message and "1" in message


def test_start_at_least_ten_minutes_ahead(app):
    assert fields(start=NOW + timedelta(minutes=9), end=NOW + timedelta(hours=2)) == ["start"]
    assert fields(start=NOW + timedelta(minutes=10), end=NOW + timedelta(hours=2)) == []
    assert fields(start=NOW - timedelta(hours=1), end=NOW + timedelta(hours=1)) == ["start"]


def test_start_at_most_six_months_out(app):
    six = datetime(2026, 9, 10, 8, 0, tzinfo=UTC)
    assert fields(start=six, end=six + timedelta(hours=1)) == []
    late = six + timedelta(minutes=1)
    assert fields(start=late, end=late + timedelta(hours=1)) == ["start"]


def test_six_months_from_the_31st_is_the_months_last_day():
    assert rules.add_months(datetime(2026, 8, 31, tzinfo=UTC), 6) == datetime(2027, 2, 28, tzinfo=UTC)


@pytest.mark.parametrize("minutes, ok", [(29, False), (30, True), (12 * 60, True), (12 * 60 + 1, False),
                                         (24 * 60, False), (-60, False)])
def test_thirty_minutes_to_twelve_hours(app, minutes, ok):
    start = NOW + timedelta(hours=1)
    assert (fields(start=start, end=start + timedelta(minutes=minutes)) == []) is ok


def test_anchor_required(app):
    assert fields(anchor="  ") == ["anchor"]
    assert fields(anchor="一二三四五六七八九十一二三四五六") == ["anchor"]


def test_check_raises_the_first_rule_with_its_field(app):
    with pytest.raises(RuleError) as exc:
        rules.check(**{**OK, "anchor": ""})
    assert exc.value.field == "anchor"


def test_an_unchanged_start_is_not_checked_again(app):
    assert fields(start=NOW + timedelta(minutes=5), end=NOW + timedelta(hours=1), check_start=False) == []
