"""The WeChat adapters against a recording stand-in for WeChat's HTTP API (the network is the
boundary: no test reaches WeChat): the calls they make and what they take from the answers."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from portal.live.models import CHANNELS, MINIPROGRAM, LiveRoom
from portal.live.providers import ChannelsLive, MiniProgramLive

START = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)


class WeChat:
    """Answers each path with what the test scripted, and keeps every call."""

    def __init__(self, answers: dict[str, dict]):
        self.answers, self.calls = answers, []

    def post(self, path: str, payload: dict) -> dict:
        self.calls.append((path, payload))
        return self.answers.get(path, {})


def _room(provider: str, **kw) -> LiveRoom:
    return LiveRoom(id=7, title=kw.get("title", "春季新品直播"), anchor="小王", provider=provider,
                    scheduled_start=kw.get("start", START), scheduled_end=kw.get("start", START) + timedelta(hours=2),
                    options={"likes": False}, provider_room_id=kw.get("provider_room_id"))


def test_a_mini_program_room_is_created_and_edited_with_the_same_fields():
    wechat = WeChat({"wxaapi/broadcast/room/create": {"roomId": 4321}})
    live = MiniProgramLive(wechat, anchor_wechat="anchor-wx", cover_media_id="media-1")
    room = _room(MINIPROGRAM)
    assert live.create_room(room, []) == "4321"
    (path, created), = wechat.calls
    assert path == "wxaapi/broadcast/room/create"
    assert created["name"] == "春季新品直播" and created["startTime"] == int(START.timestamp())
    assert created["closeLike"] == 1 and created["closeComment"] == 0 and created["anchorWechat"] == "anchor-wx"
    room.provider_room_id, room.title = "4321", "周末茶会直播"
    assert live.edit_room(room) == "4321"
    path, edited = wechat.calls[-1]
    assert path == "wxaapi/broadcast/room/editroom"
    assert edited == {**created, "id": 4321, "name": "周末茶会直播"}


def test_a_channels_room_whose_start_moved_is_matched_to_the_anchors_new_notice():
    moved = START + timedelta(days=1)
    wechat = WeChat({"channels/ec/finderlive/getfinderlivenoticerecordlist": {"live_notice_list": [
        {"notice_id": "n-old", "start_time": int(START.timestamp()), "status": 0},
        {"notice_id": "n-new", "start_time": int(moved.timestamp()), "status": 0}]}})
    live = ChannelsLive(wechat)
    assert live.edit_room(_room(CHANNELS, start=moved, provider_room_id="n-old")) == "n-new"
    # No notice yet for the new start: the room keeps the one it had.
    assert live.edit_room(_room(CHANNELS, start=moved + timedelta(days=3), provider_room_id="n-old")) == "n-old"
