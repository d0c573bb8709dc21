"""Assortments: named sets of goods-library products an admin builds and pushes to stores (the
"goods" push kind, see ``push_kind``); a store carries an assortment once pushed to it."""
from __future__ import annotations

import re

from sqlalchemy import delete, func, or_, select

from portal.assortments.models import Assortment, AssortmentItem, StoreAssortment
from portal.audit import services as audit
from portal.extensions import db
from portal.goods.models import Product, Sku
from portal.goods.services import pickable_products
from portal.kernel.time import utcnow
from portal.org.models import Store, User
from portal.org.scope import Scope


def scoped_assortments(scope: Scope):
    return select(Assortment).where(scope.paths(Assortment.path)).order_by(Assortment.updated_at.desc(),
                                                                            Assortment.id.desc())


def create_assortment(scope: Scope, name: str, *, actor: User) -> Assortment:
    assortment = Assortment(name=name, path=scope.path)
    db.session.add(assortment)
    db.session.flush()
    audit.record(actor, "assortment.save", "assortment", assortment.id, name, scope.path, {})
    return assortment


def rename_assortment(scope: Scope, assortment: Assortment, name: str, *, actor: User) -> None:
    assortment.name = name
    db.session.flush()
    audit.record(actor, "assortment.save", "assortment", assortment.id, name, assortment.path, {})


def split_codes(text: str) -> list[str]:
    return [c for c in re.split(r"[\s,，;；]+", text or "") if c]


def add_items(scope: Scope, assortment: Assortment, *, codes: list[str] = (), product_ids: list[int] = (),
              actor: User) -> tuple[int, list[str]]:
    """Add products by code and/or id (the goods picker posts ids). Returns (added, what was not
    found: codes, and "#<id>" for an id outside the scope's goods)."""
    found = db.session.execute(select(Product.id, Product.code).where(
        pickable_products(scope), or_(Product.code.in_(list(codes)), Product.id.in_(list(product_ids))))).all()
    unknown = sorted(set(codes) - {r.code for r in found})
    unknown += [f"#{i}" for i in sorted(set(product_ids) - {r.id for r in found})]
    have = set(db.session.scalars(select(AssortmentItem.product_id)
                                  .where(AssortmentItem.assortment_id == assortment.id)))
    new = [r.id for r in found if r.id not in have]
    if new:
        db.session.execute(AssortmentItem.__table__.insert(),
                           [{"assortment_id": assortment.id, "product_id": pid} for pid in new])
        assortment.updated_at = utcnow()
        db.session.flush()
        audit.record(actor, "assortment.save", "assortment", assortment.id, assortment.name, assortment.path,
                     {"added": len(new)})
    return len(new), unknown


def remove_item(scope: Scope, assortment: Assortment, product_id: int, *, actor: User) -> bool:
    result = db.session.execute(delete(AssortmentItem).where(AssortmentItem.assortment_id == assortment.id,
                                                             AssortmentItem.product_id == product_id))
    if result.rowcount:
        assortment.updated_at = utcnow()
        db.session.flush()
        audit.record(actor, "assortment.save", "assortment", assortment.id, assortment.name, assortment.path,
                     {"removed": 1})
    return bool(result.rowcount)


def item_counts(ids: list[int]) -> dict[int, int]:
    if not ids:
        return {}
    return dict(db.session.execute(select(AssortmentItem.assortment_id, func.count())
                                   .where(AssortmentItem.assortment_id.in_(ids))
                                   .group_by(AssortmentItem.assortment_id)).all())


def store_counts(scope: Scope, ids: list[int]) -> dict[int, int]:
    if not ids:
        return {}
    return dict(db.session.execute(select(StoreAssortment.assortment_id, func.count())
                                   .join(Store, Store.id == StoreAssortment.store_id)
                                   .where(StoreAssortment.assortment_id.in_(ids), scope.stores())
                                   .group_by(StoreAssortment.assortment_id)).all())


def assortment_products(assortment: Assortment) -> list[tuple[Product, int]]:
    """The assortment's products with their number of SKUs."""
    skus = select(func.count()).where(Sku.product_id == Product.id).scalar_subquery()
    return list(db.session.execute(
        select(Product, skus).join(AssortmentItem, AssortmentItem.product_id == Product.id)
        .where(AssortmentItem.assortment_id == assortment.id).order_by(Product.category, Product.code)).all())

