"""Goods ride the push engine as assortments: one row per store, whatever the number of goods."""
from __future__ import annotations

from sqlalchemy import and_, delete, exists, insert, literal, select

from portal.assortments.models import StoreAssortment
from portal.extensions import db
from portal.kernel.time import UTCDateTime, utcnow
from portal.org.models import Store
from portal.pushes.models import Delivery, Push
from portal.pushes.services import register_kind


class AssortmentPush:
    name = "goods"

    def has_it(self, push: Push):
        return exists().where(StoreAssortment.store_id == Store.id, StoreAssortment.assortment_id == push.payload_id)

    def previous(self, push: Push) -> dict:
        return {}          # a store either carried the assortment (skipped: already) or not

    def apply(self, push: Push, rows) -> None:
        db.session.execute(insert(StoreAssortment).from_select(
            ["store_id", "assortment_id", "push_id", "created_at"],
            select(Delivery.store_id, literal(push.payload_id), literal(push.id),
                   literal(utcnow(), UTCDateTime()))
            .where(rows, ~exists().where(StoreAssortment.store_id == Delivery.store_id,
                                         StoreAssortment.assortment_id == push.payload_id))))

    def still_has(self, push: Push):
        return exists().where(StoreAssortment.store_id == Delivery.store_id,
                              StoreAssortment.assortment_id == push.payload_id, StoreAssortment.push_id == push.id)

    def revert(self, push: Push, rows) -> None:
        db.session.execute(delete(StoreAssortment).where(
            StoreAssortment.assortment_id == push.payload_id, StoreAssortment.push_id == push.id,
            exists().where(and_(rows, Delivery.store_id == StoreAssortment.store_id))))


register_kind(AssortmentPush())
