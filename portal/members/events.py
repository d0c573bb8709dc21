"""The members' event types of the ingestion API: ``member.signup`` and ``member.updated``.

Both take the same data and apply a whole batch in a handful of statements (``resolve`` finds or
makes every member at once, ``bind`` applies the binding rule to the known ones, ``set_referrers``
the sharers). ``member.updated`` for an openid never seen makes the member: events arrive out of
order. Refused before anything is written (so each event is all-or-nothing): a guide code that is
not an active guide of the store (``data.guide_code``), a member sharing to themself
(``data.sharer_openid``). A sharer whose chain would come back to the member is not recorded as
the referrer (the sign-up itself is valid and applied).
"""
from __future__ import annotations

from marshmallow import fields, validate

from portal.ingest import registry
from portal.ingest.schemas import EventData, text_field
from portal.members import services
from portal.members.services import PHONE_RE, Person


class MemberData(EventData):
    openid = text_field(64, required=True)
    unionid = text_field(64)
    phone = fields.String(load_default=None, allow_none=True,
                          validate=validate.Regexp(PHONE_RE, error="phone must be an 11-digit mainland mobile "
                                                                   "number (1[3-9] and 9 digits)."))
    phone_verified = fields.Boolean(load_default=True)
    nickname = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=64))
    guide_code = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=32))
    sharer_openid = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=64))


def _apply(store, events: list[registry.Event], *, updated: bool) -> dict[int, registry.Outcome]:
    out: dict[int, registry.Outcome] = {}
    guides = services.guides_by_code(store, {e.data["guide_code"] for e in events if e.data.get("guide_code")})
    ok: list[registry.Event] = []
    for e in events:
        d = e.data
        if d.get("guide_code") and d["guide_code"] not in guides:
            out[e.index] = registry.Reject("unknown_guide", "No active guide of this store has this code.",
                                           "data.guide_code")
        elif d.get("sharer_openid") and d["sharer_openid"] == d["openid"]:
            out[e.index] = registry.Reject("self_referral", "A member cannot be their own sharer.",
                                           "data.sharer_openid")
        else:
            ok.append(e)
    if not ok:
        return out

    people, causes, guide_of, first_at = [], {}, {}, {}
    for e in ok:
        d = e.data
        verified = d["phone_verified"]
        people.append(Person(d["openid"], d.get("unionid"), d.get("phone") if verified else None,
                             d.get("nickname")))
        first_at.setdefault(d["openid"], e.occurred_at)
        if d.get("sharer_openid"):
            causes.setdefault(d["openid"], "share")
        if d.get("guide_code"):
            guide_of.setdefault(d["openid"], guides[d["guide_code"]])
    sharers = [Person(e.data["sharer_openid"]) for e in ok if e.data.get("sharer_openid")]
    at = min(e.occurred_at for e in ok)
    ids, created = services._resolve(store, people + sharers, cause="signup", at=at, causes=causes,
                                     guides=guide_of, ats=first_at)

    # Members known before: the binding rule decides whether this store (and guide) now serves them.
    changes = []
    for e in ok:
        d = e.data
        mid = ids[d["openid"]]
        if mid in created:
            continue
        cause = "share" if d.get("sharer_openid") else "signup"
        if updated and not d.get("guide_code"):
            continue          # a profile update names no new relationship
        changes.append((mid, guide_of.get(d["openid"]) if d.get("guide_code") else None, cause, e.occurred_at))
    services.bind(store, changes)

    pairs = [(ids[e.data["openid"]], ids[e.data["sharer_openid"]]) for e in ok if e.data.get("sharer_openid")]
    services.set_referrers(pairs)

    # What the reports say about the person now (an unverified phone is kept, never matched on).
    profile = {}
    for e in ok:
        d = e.data
        mid = ids[d["openid"]]
        if mid in created and d["phone_verified"]:
            continue          # made from this very data
        nick = d.get("nickname") if updated or mid not in created else None
        phone = d.get("phone") if (d.get("phone") and (updated or not d["phone_verified"])) else None
        if nick is not None or phone:
            profile[mid] = (mid, nick, phone, d["phone_verified"])
    services.update_profiles(list(profile.values()))
    return out


@registry.handler("member.signup", MemberData, phase=registry.MEMBERS)
def member_signup(store, events):
    """A person opened the store's mini-program and signed up (openid; unionid, phone, nickname,
    guide code and sharer when known): the member is found or made and bound to the store."""
    return _apply(store, events, updated=False)


@registry.handler("member.updated", MemberData, phase=registry.MEMBERS)
def member_updated(store, events):
    """A member's nickname or phone changed (an unknown openid makes the member)."""
    return _apply(store, events, updated=True)


__all__ = ["MemberData", "member_signup", "member_updated"]
