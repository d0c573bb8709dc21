"""FRAMEWORK TEST HANDLERS: two event types registered for the tests of the ingestion framework
(idempotency, holding and release, per-event isolation), not product types. The real types
(member.*, order.*, coupon.*) are the members and orders domains'.

- ``test.guide`` {code, name}: adds a guide to the store (one executemany for the batch; a code the
  store already has breaks the unique key, so the framework isolates that event); ``name == "no"``
  is refused by the handler with field ``data.name``. It releases ``guide:<code>``.
- ``test.rename`` {code, name}: renames the store's guide; held (``guide:<code>``) while the store
  has no such guide; ``name == "no"`` is refused once the guide exists (so a held one fails when
  it is released)."""
from __future__ import annotations

import marshmallow as ma
from sqlalchemy import bindparam, select, update

from portal.extensions import db
from portal.ingest import registry, services
from portal.ingest.registry import Held, Reject
from portal.members.models import Guide


class GuideData(ma.Schema):
    code = ma.fields.String(required=True, validate=ma.validate.Length(1, 32))
    name = ma.fields.String(required=True, validate=ma.validate.Length(1, 50))


def _refused(events):
    return {e.index: Reject("test_refused", "This name is refused.", "data.name") for e in events
            if e.data["name"] == "no"}


@registry.handler("test.guide", GuideData, phase=registry.MEMBERS)
def add_guides(store, events):
    """A guide of the store (framework test type)."""
    out = _refused(events)
    ok = [e for e in events if e.index not in out]
    if ok:
        db.session.execute(Guide.__table__.insert(),
                           [{"store_id": store.id, "code": e.data["code"], "name": e.data["name"], "active": True,
                             "phone_masked": ""} for e in ok])
        services.release(store, [f"guide:{e.data['code']}" for e in ok])
    return out


@registry.handler("test.rename", GuideData, phase=registry.ORDERS)
def rename_guides(store, events):
    """A guide renamed (framework test type); held until the guide exists."""
    have = set(db.session.scalars(select(Guide.code).where(
        Guide.store_id == store.id, Guide.code.in_([e.data["code"] for e in events]))))
    out = {e.index: Held(f"guide:{e.data['code']}") for e in events if e.data["code"] not in have}
    out.update({i: r for i, r in _refused(events).items() if i not in out})
    ok = [{"c": e.data["code"], "n": e.data["name"]} for e in events if e.index not in out]
    if ok:
        db.session.execute(update(Guide.__table__).where(Guide.store_id == store.id, Guide.code == bindparam("c"))
                           .values(name=bindparam("n")), ok)
    return out
