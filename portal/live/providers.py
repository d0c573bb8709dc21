"""Whose live a room is: one interface for WeChat's two kinds of live, chosen by settings.

``LIVE_PROVIDER = "fake"`` (the default: demo and tests) gives ``FakeProvider``, which records
every call and answers from what a test or the demo scripted; ``"wechat"`` gives the adapters
below, written against WeChat's documented server calls, with the credentials of the settings
(``WECHAT_APP_ID`` / ``WECHAT_APP_SECRET`` for mini-program live, ``WECHAT_CHANNELS_APP_ID`` /
``WECHAT_CHANNELS_APP_SECRET`` for the 视频号助手). No test reaches them.

The interface, per room:
- ``create_room(room, goods)`` → the provider's id of the room (mini-program live: the room id
  ``wxaapi/broadcast/room/create`` answers; Channels live: the id of the anchor's live notice
  (预约) for that start, since the 视频号 app, not the server, creates notices) or None;
- ``sync_status(rooms)`` → ``[(room_id, code, at)]`` in WeChat's codes (``portal.live.status``);
- ``fetch_replay(room)`` → the replay's address, or None while there is none;
- ``import_goods(room, goods)`` → puts the goods on the room's shelf (``goods``: dicts with code,
  name, price in fen, cover).
"""
from __future__ import annotations

import json
import logging
import time
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from flask import current_app

from portal.live.models import CHANNELS, LIVE, MINIPROGRAM, LiveRoom
from portal.live.status import channels_code

log = logging.getLogger(__name__)


class Provider(Protocol):
    def create_room(self, room: LiveRoom, goods: list[dict]) -> str | None: ...
    def edit_room(self, room: LiveRoom) -> str | None: ...
    def sync_status(self, rooms: list[LiveRoom]) -> list[tuple[int, int, datetime]]: ...
    def fetch_replay(self, room: LiveRoom) -> str | None: ...
    def import_goods(self, room: LiveRoom, goods: list[dict]) -> None: ...


@dataclass
class Call:
    name: str
    room_id: int | None
    args: dict


@dataclass
class FakeProvider:
    """Records every call (``calls``); answers with what was scripted: ``statuses`` (the
    provider's room id → a WeChat code), ``replays`` (provider room id → address)."""

    calls: list[Call] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)
    replays: dict[str, str] = field(default_factory=dict)

    def create_room(self, room: LiveRoom, goods: list[dict]) -> str | None:
        self.calls.append(Call("create_room", room.id, {"title": room.title, "provider": room.provider,
                                                        "start": room.scheduled_start, "end": room.scheduled_end,
                                                        "anchor": room.anchor, "goods": [g["code"] for g in goods],
                                                        "covers": [g["cover"] for g in goods]}))
        return f"fake-{room.provider}-{room.id}"

    def edit_room(self, room: LiveRoom) -> str | None:
        self.calls.append(Call("edit_room", room.id, {"title": room.title, "start": room.scheduled_start,
                                                      "end": room.scheduled_end, "anchor": room.anchor}))
        return room.provider_room_id

    def sync_status(self, rooms: list[LiveRoom]) -> list[tuple[int, int, datetime]]:
        self.calls.append(Call("sync_status", None, {"rooms": [r.id for r in rooms]}))
        now = datetime.now(UTC)
        return [(r.id, self.statuses[r.provider_room_id], now) for r in rooms if r.provider_room_id in self.statuses]

    def fetch_replay(self, room: LiveRoom) -> str | None:
        self.calls.append(Call("fetch_replay", room.id, {}))
        return self.replays.get(room.provider_room_id or "")

    def import_goods(self, room: LiveRoom, goods: list[dict]) -> None:
        self.calls.append(Call("import_goods", room.id, {"goods": [g["code"] for g in goods]}))

    def names(self) -> list[str]:
        return [c.name for c in self.calls]


class WeChatError(RuntimeError):
    def __init__(self, path: str, errcode, errmsg):
        super().__init__(f"{path}: {errcode} {errmsg}")
        self.errcode = errcode


class _WeChatClient:
    """The access token (``cgi-bin/token``, kept until shortly before it expires) and JSON POSTs
    to ``https://api.weixin.qq.com``."""

    BASE = "https://api.weixin.qq.com/"

    def __init__(self, app_id: str, secret: str, timeout: float = 10):
        self.app_id, self.secret, self.timeout = app_id, secret, timeout
        self._token, self._until = "", 0.0

    def token(self) -> str:
        if time.time() >= self._until:
            url = (f"{self.BASE}cgi-bin/token?grant_type=client_credential&appid={self.app_id}"
                   f"&secret={self.secret}")
            with urllib.request.urlopen(url, timeout=self.timeout) as resp:       # noqa: S310 (fixed host)
                body = json.load(resp)
            if "access_token" not in body:
                raise WeChatError("cgi-bin/token", body.get("errcode"), body.get("errmsg"))
            self._token, self._until = body["access_token"], time.time() + int(body.get("expires_in", 7200)) - 300
        return self._token

    def post(self, path: str, payload: dict) -> dict:
        req = urllib.request.Request(f"{self.BASE}{path}?access_token={self.token()}",
                                     data=json.dumps(payload, ensure_ascii=False).encode(),
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=self.timeout) as resp:             # noqa: S310 (fixed host)
            body = json.load(resp)
        if body.get("errcode", 0) not in (0, "0"):
            raise WeChatError(path, body.get("errcode"), body.get("errmsg"))
        return body


def _ts(moment: datetime) -> int:
    return int(moment.timestamp())


class MiniProgramLive:
    """Mini-program live (小程序直播), ``wxaapi/broadcast`` and ``wxa/business/getliveinfo``."""

    def __init__(self, client: _WeChatClient, *, anchor_wechat: str = "", cover_media_id: str = ""):
        self.client, self.anchor_wechat, self.cover_media_id = client, anchor_wechat, cover_media_id

    def _room(self, room: LiveRoom) -> dict:
        opts = room.options or {}
        return {
            "name": room.title, "coverImg": self.cover_media_id, "shareImg": self.cover_media_id,
            "feedsImg": self.cover_media_id, "startTime": _ts(room.scheduled_start), "endTime": _ts(room.scheduled_end),
            "anchorName": room.anchor, "anchorWechat": self.anchor_wechat, "type": 0, "screenType": 0,
            "closeLike": 0 if opts.get("likes", True) else 1, "closeGoods": 0 if opts.get("shelf", True) else 1,
            "closeComment": 0 if opts.get("comments", True) else 1, "closeReplay": 0 if opts.get("replay", True) else 1,
            "closeShare": 0 if opts.get("sharing", True) else 1, "isFeedsPublic": 1}

    def create_room(self, room: LiveRoom, goods: list[dict]) -> str | None:
        body = self.client.post("wxaapi/broadcast/room/create", self._room(room))
        room_id = str(body["roomId"])
        if goods:
            self.import_goods_to(room_id, goods)
        return room_id

    def edit_room(self, room: LiveRoom) -> str | None:
        """``room/editroom``: the create call's fields with the room's id (a room that has not started)."""
        self.client.post("wxaapi/broadcast/room/editroom", {"id": int(room.provider_room_id), **self._room(room)})
        return room.provider_room_id

    def sync_status(self, rooms: list[LiveRoom]) -> list[tuple[int, int, datetime]]:
        wanted = {r.provider_room_id: r.id for r in rooms if r.provider_room_id}
        out, start, now = [], 0, datetime.now(UTC)
        while wanted and start < 1000:
            body = self.client.post("wxa/business/getliveinfo", {"start": start, "limit": 100})
            infos = body.get("room_info", [])
            for info in infos:
                key = str(info.get("roomid"))
                if key in wanted:
                    out.append((wanted.pop(key), int(info["live_status"]), now))
            if len(infos) < 100:
                break
            start += 100
        return out

    def fetch_replay(self, room: LiveRoom) -> str | None:
        body = self.client.post("wxa/business/getliveinfo", {
            "action": "get_replay", "room_id": int(room.provider_room_id), "start": 0, "limit": 10})
        replays = body.get("live_replay") or []
        return replays[0].get("media_url") if replays else None

    def import_goods(self, room: LiveRoom, goods: list[dict]) -> None:
        self.import_goods_to(room.provider_room_id, goods)

    def import_goods_to(self, room_id: str, goods: list[dict]) -> None:
        ids = []
        for g in goods:          # into the mini-program's goods library first, then onto the room
            body = self.client.post("wxaapi/broadcast/goods/add", {"goodsInfo": {
                "coverImgUrl": g.get("cover", ""), "name": g["name"][:14], "priceType": 1,
                "price": round(g["price"] / 100, 2), "url": f"pages/goods/detail?product={g['code']}"}})
            ids.append(body["goodsId"])
        if ids:
            self.client.post("wxaapi/broadcast/room/addgoods", {"ids": ids, "roomId": int(room_id)})


class ChannelsLive:
    """Channels live (视频号直播) through the 视频号助手 API: the server cannot create a live notice
    (the anchor makes it in the 视频号 app), so "create" finds the anchor's notice for the room's
    start among ``channels/ec/finderlive/getfinderlivenoticerecordlist``; statuses come from
    ``channels/ec/finderlive/getfinderliverecordlist``; goods go into the window
    (``channels/ec/window/product/add``)."""

    def __init__(self, client: _WeChatClient):
        self.client = client

    def create_room(self, room: LiveRoom, goods: list[dict]) -> str | None:
        body = self.client.post("channels/ec/finderlive/getfinderlivenoticerecordlist", {})
        start = _ts(room.scheduled_start)
        for notice in body.get("live_notice_list", []):
            if abs(int(notice.get("start_time") or 0) - start) <= 600 and int(notice.get("status", 0)) == 0:
                if goods:
                    self.import_goods(room, goods)
                return str(notice["notice_id"])
        return None

    def edit_room(self, room: LiveRoom) -> str | None:
        """The notice is the anchor's own (made and changed in the 视频号 app): a room whose start
        moved is matched again to the notice for its new start, if the anchor has made one."""
        return self.create_room(room, []) or room.provider_room_id

    def sync_status(self, rooms: list[LiveRoom]) -> list[tuple[int, int, datetime]]:
        body = self.client.post("channels/ec/finderlive/getfinderliverecordlist", {})
        records = body.get("live_record_list", [])
        now, out = datetime.now(UTC), []
        for room in rooms:       # a room's live is the record that started nearest its start
            near = [r for r in records if abs(int(r.get("start_time") or 0) - _ts(room.scheduled_start)) <= 3 * 3600]
            if near:
                state = int(near[0].get("status", 1))
                out.append((room.id, channels_code(state) if state in (1, 2, 3, 4) else LIVE, now))
        return out

    def fetch_replay(self, room: LiveRoom) -> str | None:
        return None                # Channels replays play inside the 视频号 app; no address is given

    def import_goods(self, room: LiveRoom, goods: list[dict]) -> None:
        for g in goods:
            self.client.post("channels/ec/window/product/add", {"out_product_id": g["code"]})


class WeChatProvider:
    """The two adapters behind one provider: each room goes to its own kind of live."""

    def __init__(self, config):
        self.kinds = {
            MINIPROGRAM: MiniProgramLive(_WeChatClient(config.get("WECHAT_APP_ID", ""),
                                                       config.get("WECHAT_APP_SECRET", "")),
                                         anchor_wechat=config.get("WECHAT_LIVE_ANCHOR_WECHAT", ""),
                                         cover_media_id=config.get("WECHAT_LIVE_COVER_MEDIA_ID", "")),
            CHANNELS: ChannelsLive(_WeChatClient(config.get("WECHAT_CHANNELS_APP_ID", ""),
                                                 config.get("WECHAT_CHANNELS_APP_SECRET", ""))),
        }

    def create_room(self, room, goods):
        return self.kinds[room.provider].create_room(room, goods)

    def edit_room(self, room):
        return self.kinds[room.provider].edit_room(room)

    def sync_status(self, rooms):
        out = []
        for kind, adapter in self.kinds.items():
            mine = [r for r in rooms if r.provider == kind]
            if mine:
                out += adapter.sync_status(mine)
        return out

    def fetch_replay(self, room):
        return self.kinds[room.provider].fetch_replay(room)

    def import_goods(self, room, goods):
        return self.kinds[room.provider].import_goods(room, goods)


def get_provider() -> Provider:
    """The app's provider (one per app, made on first use from ``LIVE_PROVIDER``)."""
    app = current_app._get_current_object()
    provider = app.extensions.get("live_provider")
    if provider is None:
        kind = app.config.get("LIVE_PROVIDER", "fake")
        if kind == "wechat":
            provider = WeChatProvider(app.config)
        elif kind == "fake":
            provider = FakeProvider()
        else:
            raise ValueError(f"LIVE_PROVIDER must be 'fake' or 'wechat', not {kind!r}")
        app.extensions["live_provider"] = provider
    return provider


__all__ = ["Provider", "FakeProvider", "WeChatProvider", "MiniProgramLive", "ChannelsLive", "get_provider"]
