"""Minimal version from the orders part; the identity part's replaces it.

Only what the order handlers need, by the contract of the identity part:

- ``resolve(store, [Person(openid, unionid, phone, nickname)], cause=..., at=...)`` →
  ``{openid: member_id}``: the members the store's mini-program knows by these openids; an
  unknown openid is matched by its unionid, else it creates a member bound to the store.
- ``guides_by_code(store, codes)`` → ``{code: guide_id}`` of the store's active guides.
- ``bind(store, [(member_id, guide_id, cause, at)])``: binds a member that is bound to no store
  (here: no merging, no binding rules).

Set-based: a few statements whatever the number of people.
"""
from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from sqlalchemy import insert, select, update

from portal.extensions import db
from portal.kernel import crypto
from portal.kernel.sql import next_ids
from portal.members.models import Guide, Member, MemberBinding, MemberIdentity, appid_of


class Person(NamedTuple):
    openid: str
    unionid: str | None = None
    phone: str | None = None
    nickname: str | None = None


def _mask(phone: str) -> str:
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 8 else "****"


def resolve(store, people: list[Person], *, cause: str = "order", at: datetime | None = None) -> dict[str, int]:
    appid = appid_of(store)
    wanted: dict[str, Person] = {}
    for p in people:
        if p.openid and p.openid not in wanted:
            wanted[p.openid] = p
    if not wanted:
        return {}
    found = dict(db.session.execute(
        select(MemberIdentity.openid, MemberIdentity.member_id)
        .where(MemberIdentity.appid == appid, MemberIdentity.openid.in_(list(wanted)))).all())
    missing = [p for o, p in wanted.items() if o not in found]
    if not missing:
        return found
    unionids = {p.unionid for p in missing if p.unionid}
    by_union = dict(db.session.execute(
        select(MemberIdentity.unionid, MemberIdentity.member_id)
        .where(MemberIdentity.unionid.in_(unionids))).all()) if unionids else {}
    new = [p for p in missing if not (p.unionid and p.unionid in by_union)]
    # Two new openids sharing one unionid are one new member.
    creators: dict[str, Person] = {}
    for p in new:
        creators.setdefault(p.unionid or f"openid:{p.openid}", p)
    if creators:
        ids = next_ids(db.session, Member.__table__, len(creators))
        rows = [{"id": mid, "nickname": (p.nickname or "")[:64], "store_id": store.id, "path": store.path,
                 "bound_at": at,
                 "phone_enc": crypto.encrypt(p.phone) if p.phone else None,
                 "phone_hash": crypto.keyed_hash(p.phone) if p.phone else None,
                 "phone_masked": _mask(p.phone) if p.phone else ""}
                for mid, p in zip(ids, creators.values(), strict=True)]
        db.session.execute(insert(Member), rows)
        made = dict(zip(creators, ids, strict=True))
        db.session.execute(insert(MemberBinding), [
            {"member_id": mid, "store_id": store.id, "cause": cause, "started_at": at} for mid in ids])
    else:
        made = {}
    identities = []
    for p in missing:
        mid = by_union.get(p.unionid) if p.unionid else None
        if mid is None:
            mid = made[p.unionid or f"openid:{p.openid}"]
        found[p.openid] = mid
        identities.append({"member_id": mid, "store_id": store.id, "appid": appid, "openid": p.openid,
                           "unionid": p.unionid})
    db.session.execute(insert(MemberIdentity), identities)
    return found


def guides_by_code(store, codes) -> dict[str, int]:
    codes = {c for c in codes if c}
    if not codes:
        return {}
    return dict(db.session.execute(select(Guide.code, Guide.id).where(
        Guide.store_id == store.id, Guide.code.in_(codes), Guide.active.is_(True))).all())


def bind(store, bindings: list[tuple[int, int | None, str, datetime]]) -> None:
    """Bind each member that no store serves yet to ``store`` (and the guide); give a guide to a
    member this store serves without one."""
    if not bindings:
        return
    first: dict[int, tuple] = {}
    for b in bindings:
        first.setdefault(b[0], b)
    current = {m: (s, g) for m, s, g in db.session.execute(
        select(Member.id, Member.store_id, Member.guide_id).where(Member.id.in_(list(first))))}
    rows = [first[m] for m, (s, g) in current.items()
            if s is None or (s == store.id and g is None and first[m][1] is not None)]
    if not rows:
        return
    db.session.execute(update(Member), [{"id": m, "store_id": store.id, "path": store.path, "guide_id": g,
                                         "bound_at": at} for m, g, _c, at in rows])
    db.session.execute(insert(MemberBinding), [{"member_id": m, "store_id": store.id, "guide_id": g, "cause": c,
                                                "started_at": at} for m, g, c, at in rows])


__all__ = ["Person", "bind", "guides_by_code", "resolve"]
