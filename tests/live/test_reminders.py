"""Reminders when a room starts (at most 2,000 recipients per call, one push per room per day)
and invitations of a member group or an RFM segment, through the outbox and its sender."""
from __future__ import annotations

import logging
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from portal.extensions import db
from portal.kernel.errors import RuleError
from portal.kernel.sql import bulk_insert, next_ids
from portal.kernel.time import utcnow
from portal.live import reminders
from portal.live.models import (
    ABNORMAL,
    BANNED,
    ENDED,
    EXPIRED,
    LIVE,
    NOT_STARTED,
    LiveReminder,
    LiveRoom,
    LiveSubscription,
)
from portal.live.tasks import remind_and_send
from portal.members.audiences import save_group
from portal.members.models import FIXED, Member
from portal.org.scope import scope_for
from tests.api.signing import credential, signed_post
from tests.factories import make_member
from tests.live.figures_helpers import ev
from tests.live.figures_helpers import make_room as make_live_room
from tests.live.lottery_helpers import make_room, subscribe

CALL = re.compile(r"live (reminder|invitation): room (\d+) \(.*\), (\d+) recipients")


@pytest.fixture
def sent(caplog):
    """The sender's calls as the default log sender reports them: [(kind, room id, recipients)]."""
    caplog.set_level(logging.INFO, logger="portal.live.outbox")

    def _calls():
        return [(m[1], int(m[2]), int(m[3])) for r in caplog.records if (m := CALL.search(r.getMessage()))]
    return _calls


def _subscribers(room, store, n: int) -> list[int]:
    """``n`` members of ``store`` subscribed to ``room``, as two bulk inserts."""
    ids = next_ids(db.session, Member.__table__, n)
    bulk_insert(db.session, Member.__table__, [{"id": i, "nickname": f"会员{i}", "store_id": store.id,
                                                "path": store.path} for i in ids])
    bulk_insert(db.session, LiveSubscription.__table__, [{"room_id": room.id, "member_id": i, "store_id": store.id}
                                                         for i in ids])
    return ids


def _outbox(room, kind="reminder", status=None) -> int:
    stmt = select(func.count()).select_from(LiveReminder).where(LiveReminder.room_id == room.id,
                                                                LiveReminder.kind == kind)
    if status:
        stmt = stmt.where(LiveReminder.status == status)
    return db.session.scalar(stmt)


def test_a_room_that_starts_reminds_its_subscribers_2000_per_call(org, sent):
    room = make_room(org.stores["sh1"], status=LIVE)
    _subscribers(room, org.stores["sh1"], 4500)
    db.session.commit()
    assert reminders.remind_started([room.id]) == 4500
    db.session.commit()                               # the drain runs after the commit
    assert sent() == [("reminder", room.id, 2000), ("reminder", room.id, 2000), ("reminder", room.id, 500)]
    assert _outbox(room, status="sent") == 4500


def test_one_push_per_room_per_day(org, sent):
    sh1 = org.stores["sh1"]
    room = make_room(sh1, status=LIVE)
    subscribe(room, sh1, make_member(sh1))
    db.session.commit()
    assert reminders.remind_started([room.id]) == 1
    db.session.commit()
    # The room goes live again the same day (paused, then live): no second push.
    assert reminders.remind_started([room.id]) == 0
    db.session.commit()
    assert len(sent()) == 1 and _outbox(room) == 1
    # The next day it may remind again (here: today's push moved to yesterday).
    yesterday = reminders.today() - timedelta(days=1)
    db.session.execute(update(LiveRoom).where(LiveRoom.id == room.id).values(reminded_on=yesterday))
    db.session.execute(update(LiveReminder).where(LiveReminder.room_id == room.id).values(on_day=yesterday))
    db.session.commit()
    assert reminders.remind_started([room.id]) == 1
    db.session.commit()
    assert len(sent()) == 2


def test_a_room_not_live_reminds_nobody(org, sent):
    sh1 = org.stores["sh1"]
    room = make_room(sh1)                              # not started
    subscribe(room, sh1, make_member(sh1))
    db.session.commit()
    assert reminders.remind_started([room.id]) == 0
    db.session.commit()
    assert sent() == [] and db.session.get(LiveRoom, room.id).reminded_on is None


def test_the_periodic_task_reminds_rooms_the_clock_made_live(org, sent):
    sh1 = org.stores["sh1"]
    room = make_room(sh1, status=LIVE)                 # moved by the clock: nobody called remind_started
    subscribe(room, sh1, make_member(sh1))
    db.session.commit()
    remind_and_send()
    assert _outbox(room, status="sent") == 1
    remind_and_send()
    assert _outbox(room) == 1 and len(sent()) == 1


def test_a_segment_and_a_group_are_invited(en, org, sent):
    sh1 = org.stores["sh1"]
    room = make_room(sh1)
    loyal = [make_member(sh1, segment="important_value") for _ in range(3)]
    make_member(sh1, segment="new")
    db.session.commit()
    client = en("owner1")
    page = client.get(f"/live/{room.id}/engage").get_data(as_text=True)
    assert "segment:important_value" in page and "(3 members)" in page
    response = client.post(f"/live/{room.id}/invite", data={"audience": "segment:important_value"},
                           hx="#live-reminders")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<html" not in html and "3 invitations queued" in html
    assert sent() == [("invitation", room.id, 3)]
    invited = set(db.session.scalars(select(LiveReminder.member_id).where(LiveReminder.room_id == room.id)))
    assert invited == {m.id for m in loyal}
    # The same audience again the same day: nobody is invited twice.
    again = client.post(f"/live/{room.id}/invite", data={"audience": "segment:important_value"},
                        hx="#live-reminders")
    assert "0 invitations queued" in again.get_data(as_text=True)

    # A group of the distributor's: only its members of the store that shows the room are invited.
    east = org.users["east_admin"]
    fresh, elsewhere = make_member(sh1), make_member(org.stores["sh2"])
    group = save_group(scope_for(east), "老客", FIXED, None, actor=east,
                       member_ids=[str(loyal[0].id), str(fresh.id), str(elsewhere.id)])
    db.session.commit()
    html = en("east_admin").post(f"/live/{room.id}/invite", data={"audience": f"group:{group.id}"},
                                 hx="#live-reminders").get_data(as_text=True)
    assert "1 invitation queued" in html
    assert set(db.session.scalars(select(LiveReminder.member_id).where(LiveReminder.room_id == room.id))) \
        == {m.id for m in loyal} | {fresh.id}


def test_inviting_nobody_is_refused_beside_the_field(login_as, org):
    room = make_room(org.stores["sh1"])
    db.session.commit()
    response = login_as("owner1").post(f"/live/{room.id}/invite", data={"audience": ""}, hx="#live-reminders")
    assert response.status_code == 422
    assert 'data-field="audience"' in response.get_data(as_text=True)
    assert _outbox(room, "invitation") == 0


@pytest.mark.parametrize("status", [ENDED, BANNED, ABNORMAL, EXPIRED])
def test_a_room_that_is_over_invites_nobody(login_as, org, status):
    room = make_room(org.stores["sh1"])
    make_member(org.stores["sh1"], segment="new")
    room.status = status
    db.session.commit()
    client = login_as("owner1")
    panel = client.get(f"/live/{room.id}/panels/reminders", hx=True).get_data(as_text=True)
    assert "data-invite-closed" in panel and "data-invite-form" not in panel
    response = client.post(f"/live/{room.id}/invite", data={"audience": "segment:new"}, hx="#live-reminders")
    # A form sent from a page opened before the room ended: refused, the panel says why.
    assert response.status_code == 422 and "data-invite-closed" in response.get_data(as_text=True)
    assert _outbox(room, "invitation") == 0
    with pytest.raises(RuleError) as refused:
        reminders.invite(scope_for(org.users["owner1"]), room, {"segment": "new"}, actor=org.users["owner1"])
    assert refused.value.field == "audience" and _outbox(room, "invitation") == 0


def test_the_sender_is_chosen_by_config(app):
    with app.app_context():
        assert isinstance(reminders.sender_from_config(), reminders.LogSender)
        app.config.update(LIVE_REMINDER_SENDER="wechat", LIVE_WECHAT_APPID="wx1", LIVE_WECHAT_SECRET="s",
                          LIVE_WECHAT_TEMPLATE_ID="t")
        assert isinstance(reminders.sender_from_config(), reminders.WeChatSubscribeSender)
        app.config.update(LIVE_REMINDER_SENDER="sms", LIVE_SMS_URL="https://sms.example/send")
        assert isinstance(reminders.sender_from_config(), reminders.SmsSender)
        app.config.update(LIVE_REMINDER_SENDER="log")


class Refusing:
    """A gateway that refuses one recipient and takes the rest (a plug-in of the Sender interface)."""

    def __init__(self, refuse: int):
        self.refuse, self.calls = refuse, []

    def send(self, message, recipients):
        self.calls.append(len(recipients))
        return {self.refuse: "43101 user refuse to accept the msg"}


def test_a_refused_recipient_is_marked_failed_and_shown(en, org):
    sh1 = org.stores["sh1"]
    room = make_room(sh1, status=LIVE)
    members = [make_member(sh1) for _ in range(3)]
    for m in members:
        subscribe(room, sh1, m)
    db.session.commit()
    from tests.factories import jobs_dropped
    with jobs_dropped():
        reminders.remind_started([room.id])
    gateway = Refusing(members[1].id)
    assert reminders.drain_outbox(gateway) == 3
    assert gateway.calls == [3]
    failed = db.session.scalar(select(LiveReminder).where(LiveReminder.status == "failed"))
    assert failed.member_id == members[1].id and failed.error.startswith("43101")
    assert _outbox(room, status="sent") == 2
    page = en("owner1").get(f"/live/{room.id}/engage").get_data(as_text=True)
    assert "1 failed" in page and 'data-reminders-sent="2"' in page


def test_a_broadcast_invites_the_members_of_its_carrying_stores(en, org, sent):
    sh1, js1 = org.stores["sh1"], org.stores["js1"]
    room = make_room(node=org.nodes["hq"], carried_by=[sh1], title="总部直播")
    carried = make_member(sh1, segment="new")
    make_member(js1, segment="new")                    # js1 does not show the broadcast
    db.session.commit()
    response = en("hq").post(f"/live/{room.id}/invite", data={"audience": "segment:new"})
    assert response.status_code == 303                 # without htmx: back to the room's actions page
    assert set(db.session.scalars(select(LiveReminder.member_id).where(LiveReminder.room_id == room.id))) \
        == {carried.id}
    assert sent() == [("invitation", room.id, 1)]


def test_a_room_reported_live_through_the_api_reminds_its_subscribers_at_once(client, org, sent):
    """live.subscribe events, then the mini-program reports the room live (live.status 101): the
    reminders go into the outbox in that request and the sender gets them after its commit."""
    sh1 = org.stores["sh1"]
    room = make_live_room(sh1, status=NOT_STARTED, scheduled_start=utcnow() + timedelta(minutes=5),
                          scheduled_end=utcnow() + timedelta(hours=2))
    cred = credential(sh1)
    subs = [ev("live.subscribe", {"room_id": room.id, "openid": f"oSUB{i}"}) for i in range(3)]
    r = signed_post(client, sh1.code, cred.key_id, cred.secret, {"events": subs})
    assert [x["status"] for x in r.get_json()["results"]] == ["applied"] * 3
    assert sent() == []
    report = {"id": "st1", "type": "live.status", "occurred_at": utcnow().isoformat(),
              "data": {"room_id": room.id, "status": LIVE}}
    r = signed_post(client, sh1.code, cred.key_id, cred.secret, {"events": [report]})
    assert r.get_json()["results"][0]["status"] == "applied"
    db.session.expire_all()
    assert db.session.get(LiveRoom, room.id).status == LIVE
    assert db.session.scalar(select(func.count()).select_from(LiveReminder)
                             .where(LiveReminder.room_id == room.id, LiveReminder.status == "sent")) == 3
    assert sent() == [("reminder", room.id, 3)]
