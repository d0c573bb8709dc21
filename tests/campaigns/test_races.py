"""A store answering a campaign HQ stops or cancels at the same moment, and two admins
publishing one draft: the later write is refused with 409 and a message, and writes nothing."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal.audit.models import AuditEntry
from portal.campaigns.models import Campaign, CampaignStore
from portal.targets.services import TargetSpec
from tests import factories
from tests.campaigns.helpers import make_campaign, push
from tests.conftest import login


def _client(app, org, name):
    c = app.test_client()
    login(c, org.users[name].username)
    return c


def _status(db, campaign, store):
    db.session.expire_all()
    return db.session.get(CampaignStore, (campaign.id, store.id)).status


@pytest.fixture
def opt_in(org, db):
    hq = org.users["hq"]
    c = make_campaign(hq, name="会员日", participation="opt_in", deadline=2)
    push(hq, c, TargetSpec(node_ids=[org.nodes["r_sh"].id]))
    return c


@pytest.mark.parametrize("hq_action", ["stop", "cancel"])
def test_a_join_never_revives_what_hq_stopped_a_moment_before(app, org, db, opt_in, hq_action):
    owner, hq = _client(app, org, "owner1"), _client(app, org, "hq")
    sh1 = org.stores["sh1"]
    assert _status(db, opt_in, sh1) == "invited"

    def hq_stops():
        data = {"store_ids": [str(sh1.id)]} if hq_action == "stop" else {}
        assert hq.post(f"/campaigns/{opt_in.id}/{hq_action}", data=data).status_code == 303

    # The owner's page offered "join"; HQ's stop lands between the join's checks and its write.
    with factories.just_before("UPDATE campaign_stores", hq_stops):
        r = owner.post(f"/my/campaigns/{opt_in.id}/join")
    assert r.status_code == 409
    assert "总部刚刚停止或取消了此活动" in r.get_data(as_text=True)
    assert _status(db, opt_in, sh1) == ("stopped" if hq_action == "stop" else "invited")
    assert db.session.get(Campaign, opt_in.id).status == ("published" if hq_action == "stop" else "cancelled")
    assert not db.session.scalar(select(func.count()).select_from(AuditEntry)
                                 .where(AuditEntry.action == "campaign.join"))


def test_two_publishes_of_one_draft_publish_once(app, org, db):
    draft = make_campaign(org.users["hq"], publish=False)
    first, second = _client(app, org, "hq"), _client(app, org, "hq")

    def first_publishes():
        assert first.post(f"/campaigns/{draft.id}/publish").status_code == 303

    with factories.just_before("UPDATE campaigns", first_publishes):
        r = second.post(f"/campaigns/{draft.id}/publish")
    assert r.status_code == 409 and "刚才已有其他人发布或取消了此活动" in r.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)
                             .where(AuditEntry.action == "campaign.publish")) == 1


def test_a_cancel_that_loses_to_another_cancel_says_so(app, org, db):
    c = make_campaign(org.users["hq"])
    first, second = _client(app, org, "hq"), _client(app, org, "hq")

    with factories.just_before("UPDATE campaigns", lambda: first.post(f"/campaigns/{c.id}/cancel")):
        r = second.post(f"/campaigns/{c.id}/cancel")
    assert r.status_code == 409
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)
                             .where(AuditEntry.action == "campaign.cancel")) == 1
