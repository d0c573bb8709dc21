"""Campaign rows built through the services, and the API calls a mini-program makes."""
from __future__ import annotations

from datetime import timedelta

from portal.api.services import issue_key
from portal.campaigns import services
from portal.extensions import db
from portal.kernel.time import utcnow
from portal.org.scope import scope_for
from portal.pushes import services as pushes
from portal.targets.services import TargetSpec

COUPON = {"discount": "amount", "amount_fen": 1000, "percent": None, "threshold_fen": 10000, "per_member": 1,
          "budget": 20}


def make_campaign(user, *, kind="coupon", name="满100减10", rules=None, start=-1, end=5, participation="mandatory",
                  deadline: float | None = None, publish=True):
    """A campaign whose window runs from ``start`` to ``end`` days from now."""
    now = utcnow()
    scope = scope_for(user)
    rules = dict(COUPON if rules is None else rules)
    c = services.create_campaign(
        scope, kind, name, rules, now + timedelta(days=start), now + timedelta(days=end),
        participation=participation,
        join_deadline=now + timedelta(days=deadline) if deadline is not None else None, actor=user)
    if publish:
        services.publish_campaign(scope, c, actor=user)
    db.session.commit()
    return c


def push(user, campaign, spec: TargetSpec):
    p = pushes.create_push(scope_for(user), "campaign", campaign.id, campaign.name, spec, actor=user)
    db.session.commit()            # the push job runs at the commit (eagerly in tests)
    db.session.expire_all()
    return p


def key(store) -> str:
    _row, plain = issue_key(store, actor=None)
    db.session.commit()
    return plain


def api_campaigns(client, store, k):
    return client.get(f"/api/v1/stores/{store.code}/campaigns", headers={"Authorization": f"Bearer {k}"})


def claim(client, store, k, campaign_id, member="oUNION1"):
    return client.post(f"/api/v1/stores/{store.code}/coupons/{campaign_id}/claim", json={"member": member},
                       headers={"Authorization": f"Bearer {k}"})
