"""Campaigns ride the push engine: the push invites each store (opt-in) or enrols it (mandatory)."""
from __future__ import annotations

from sqlalchemy import and_, delete, exists, insert, literal, select

from portal.campaigns.models import INVITED, JOINED, MANDATORY, Campaign, CampaignStore
from portal.extensions import db
from portal.kernel.time import UTCDateTime, utcnow
from portal.org.models import Store
from portal.pushes.models import Delivery, Push
from portal.pushes.services import register_kind


class CampaignPush:
    name = "campaign"

    def has_it(self, push: Push):
        return exists().where(CampaignStore.store_id == Store.id, CampaignStore.campaign_id == push.payload_id)

    def previous(self, push: Push) -> dict:
        return {}

    def apply(self, push: Push, rows) -> None:
        campaign = db.session.get(Campaign, push.payload_id)
        status = JOINED if campaign.participation == MANDATORY else INVITED
        db.session.execute(insert(CampaignStore).from_select(
            ["campaign_id", "store_id", "status", "push_id", "updated_at"],
            select(literal(push.payload_id), Delivery.store_id, literal(status), literal(push.id),
                   literal(utcnow(), UTCDateTime()))
            .where(rows, ~exists().where(CampaignStore.store_id == Delivery.store_id,
                                         CampaignStore.campaign_id == push.payload_id))))

    def still_has(self, push: Push):
        return exists().where(CampaignStore.store_id == Delivery.store_id,
                              CampaignStore.campaign_id == push.payload_id, CampaignStore.push_id == push.id)

    def revert(self, push: Push, rows) -> None:
        db.session.execute(delete(CampaignStore).where(
            CampaignStore.campaign_id == push.payload_id, CampaignStore.push_id == push.id,
            exists().where(and_(rows, Delivery.store_id == CampaignStore.store_id))))


register_kind(CampaignPush())
