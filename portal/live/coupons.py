"""Post-live coupons: a coupon of the campaign engine to everyone who watched a room, or to those
who watched and did not buy (no order naming the room).

The audience is the room's viewer rows (``live_viewers``) in the acting scope's stores. The coupon
comes from a running coupon campaign that the viewer's store has joined: a store's room uses its
own store's part, a broadcast each carrying store's, and each coupon is claimed at the store that
brought the viewer. Viewers of a store that has not joined the campaign are left out and counted.

The campaign's budget holds under concurrency as ``campaigns.services.claim_coupon`` holds it: the
campaign row is locked by an UPDATE before its count is read, then ``issued`` grows by
min(audience, remaining) in a conditional UPDATE, in the same transaction as the claims (one bulk
insert). One claim per member per campaign: members who hold one already are skipped.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import and_, exists, func, literal, select, update

from portal.audit import services as audit
from portal.campaigns.models import JOINED, PUBLISHED, Campaign, CampaignStore, CouponClaim
from portal.extensions import db
from portal.kernel.errors import Conflict, RuleError
from portal.kernel.sql import bulk_insert
from portal.kernel.time import UTCDateTime, utcnow
from portal.live.models import LiveRoom, LiveRoomStore, LiveViewer
from portal.members.models import ACTIVE, Member, MemberIdentity
from portal.orders.models import Order
from portal.org.models import Store
from portal.org.scope import Scope

WATCHED, NOT_BOUGHT = "watched", "not_bought"
AUDIENCES = (WATCHED, NOT_BOUGHT)


@dataclass(frozen=True)
class CouponOutcome:
    issued: int          # claims written
    left_out: int        # eligible, but the budget ran out
    held: int            # had a coupon of this campaign already
    not_joined: int      # their store does not run the campaign


def audience(scope: Scope, room: LiveRoom, kind: str):
    """A SELECT of (member id, store id) of the room's viewers in the scope: all of them
    (``watched``) or those with no order naming the room (``not_bought``)."""
    stmt = (select(LiveViewer.member_id, LiveViewer.store_id)
            .join(Store, Store.id == LiveViewer.store_id)
            .join(Member, Member.id == LiveViewer.member_id)
            .where(LiveViewer.room_id == room.id, Member.status == ACTIVE,
                   scope.store_rows(LiveViewer.store_id, Store.path)))
    if kind == NOT_BOUGHT:
        stmt = stmt.where(~_bought(room))
    return stmt


def _bought(room: LiveRoom):
    return exists().where(Order.member_id == LiveViewer.member_id, Order.live_room_id == room.id)


def audience_sizes(scope: Scope, room: LiveRoom) -> dict[str, int]:
    """"Reaches N members" for each audience: one pass over the room's viewers, the second count
    filtered (``count(*) FILTER (WHERE NOT EXISTS …)``) rather than a second scan."""
    watched, not_bought = db.session.execute(audience(scope, room, WATCHED).with_only_columns(
        func.count(), func.count().filter(~_bought(room)))).one()
    return {WATCHED: watched, NOT_BOUGHT: not_bought}


def _running():
    t = literal(utcnow(), UTCDateTime())
    return and_(Campaign.kind == "coupon", Campaign.status == PUBLISHED, Campaign.starts_at <= t, Campaign.ends_at > t)


def coupon_campaigns(room: LiveRoom) -> list[Campaign]:
    """Running coupon campaigns at least one store carrying the room has joined."""
    joined = exists().where(CampaignStore.campaign_id == Campaign.id, CampaignStore.status == JOINED,
                            CampaignStore.store_id == LiveRoomStore.store_id, LiveRoomStore.room_id == room.id)
    return list(db.session.scalars(select(Campaign).where(_running(), joined).order_by(Campaign.ends_at, Campaign.id)))


def send_coupons(scope: Scope, room: LiveRoom, campaign_id: int | None, kind: str, *, actor) -> CouponOutcome:
    """Issue the campaign's coupons to the audience, within its budget; say how many went out."""
    if kind not in AUDIENCES:
        raise RuleError(_("Choose who gets the coupon."), "audience")
    campaign = next((c for c in coupon_campaigns(room) if c.id == campaign_id), None)
    if campaign is None:
        raise RuleError(_("Choose a running coupon campaign that this room's stores have joined."), "campaign_id")
    people = audience(scope, room, kind).subquery()
    rows = db.session.execute(
        select(people.c.member_id, people.c.store_id, CampaignStore.store_id.is_not(None))
        .outerjoin(CampaignStore, and_(CampaignStore.campaign_id == campaign.id, CampaignStore.status == JOINED,
                                       CampaignStore.store_id == people.c.store_id))
        .order_by(people.c.member_id)).all()
    joined = [(m, s) for m, s, ok in rows if ok]
    not_joined = len(rows) - len(joined)
    # What the coupon names the member by: the union id when known, else an open id (as the
    # mini-program claims them).
    keys = dict(db.session.execute(
        select(MemberIdentity.member_id,
               func.coalesce(func.max(MemberIdentity.unionid), func.min(MemberIdentity.openid)))
        .where(MemberIdentity.member_id.in_(select(people.c.member_id)))
        .group_by(MemberIdentity.member_id)).all())
    # Lock the campaign row first (the claims of the mini-program wait behind it), then read.
    db.session.execute(update(Campaign).where(Campaign.id == campaign.id).values(issued=Campaign.issued)
                       .execution_options(synchronize_session=False))
    held_keys = set(db.session.scalars(select(CouponClaim.member).where(CouponClaim.campaign_id == campaign.id)))
    candidates = [(m, s, keys[m]) for m, s in joined if m in keys and keys[m] not in held_keys]
    held = len(joined) - len(candidates)
    issued, budget = db.session.execute(select(Campaign.issued, Campaign.budget)
                                        .where(Campaign.id == campaign.id)).one()
    remaining = max(0, (budget or 0) - issued)
    take = min(len(candidates), remaining)
    if take:
        moved = db.session.execute(
            update(Campaign).where(Campaign.id == campaign.id, Campaign.issued == issued)
            .values(issued=Campaign.issued + take).execution_options(synchronize_session=False))
        if moved.rowcount != 1:
            raise Conflict(_("Coupons of this campaign were issued meanwhile. Nothing was sent; try again."))
        now = utcnow()
        bulk_insert(db.session, CouponClaim.__table__,
                    [{"campaign_id": campaign.id, "store_id": s, "member": key,
                      "code": "CP" + secrets.token_hex(8).upper(), "created_at": now}
                     for m, s, key in candidates[:take]])
    outcome = CouponOutcome(issued=take, left_out=len(candidates) - take, held=held, not_joined=not_joined)
    audit.record(actor, "live.coupons", "live_room", room.id, f"{room.title} · {campaign.name}", room.path,
                 {"campaign_id": campaign.id, "audience": kind, "issued": outcome.issued,
                  "left_out": outcome.left_out, "held": outcome.held, "not_joined": outcome.not_joined})
    db.session.flush()
    db.session.expire(campaign)
    return outcome


__all__ = ["AUDIENCES", "NOT_BOUGHT", "WATCHED", "CouponOutcome", "audience", "audience_sizes", "coupon_campaigns",
           "send_coupons"]
