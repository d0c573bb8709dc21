"""One ID, the service relationship, guides and personal data.

- **One ID** (``resolve``): the mini-programs report openids; a known (appid, openid) is found in
  one query; an unknown one is matched to an existing member by unionid, then by verified phone
  (its keyed hash), else a new member is made. When a match joins two existing members, they are
  merged by the rule that matched ('unionid' or 'phone'): the older member survives.
- **Merges** (``merge`` / ``unmerge``): every row of ``portal.members.refs`` pointing at the
  absorbed member is pointed at the survivor; the merge keeps the keys of what moved and the
  survivor's fields it changed, so an unmerge gives each side back exactly its own.
- **The service relationship** (``bind``): HQ's binding rule — the first binding stays, the
  latest wins, or a binding is protected for N days. The rule decides automatic changes (signup,
  share, order); a manual rebinding by HQ or a distributor always applies, as do the system's
  own causes (guide_left, merge, unmerge). A member bound to a store without a guide may get a
  guide of that same store under any rule: that completes the relationship, it changes no store.
  Every change closes the open binding and opens a new one with its cause.
- **Referrers** (``set_referrers``): who brought a member is set once (the first sharer stays,
  as 锁粉 works in Chinese distribution), never to the member themself, never closing a cycle.
- **Personal data**: phones encrypted (``portal.kernel.crypto``), matched by keyed hash, shown
  masked except to ``can_see_phone`` roles; ``export_member`` and ``erase_member``.

Services flush, never commit. Everything that grows with members is set-based.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import abort
from flask_babel import gettext as _
from sqlalchemy import String, bindparam, cast, func, insert, literal, null, or_, select, text, tuple_, update

from portal.audit import services as audit
from portal.extensions import db
from portal.kernel.crypto import decrypt, encrypt, keyed_hash
from portal.kernel.errors import RuleError
from portal.kernel.sql import among, insert_missing, pg_array
from portal.kernel.time import UTCDateTime, utcnow
from portal.members import refs
from portal.members.models import (
    ACTIVE,
    ERASED,
    FIRST_STAYS,
    LATEST_WINS,
    MERGED,
    PROTECTED,
    Guide,
    Member,
    MemberBinding,
    MemberIdentity,
    MemberMerge,
    MemberSettings,
    appid_of,
)
from portal.org import roles
from portal.org.models import Store
from portal.org.scope import Scope

PHONE_RE = re.compile(r"^1[3-9]\d{9}$")
ERASED_NICKNAME = "已注销会员"        # what an erased member is called (data, the same in every language)
# Causes a binding rule decides; the others (manual, guide_left, merge, unmerge) always apply.
RULED_CAUSES = ("signup", "share", "order")


@dataclass(frozen=True)
class Person:
    openid: str
    unionid: str | None = None
    phone: str | None = None          # 11-digit mainland mobile, verified by the mini-program
    nickname: str | None = None


# ---------------------------------------------------------------- personal data


def mask_phone(phone: str) -> str:
    """138****1234 (a number too short to mask keeps only its last two digits)."""
    phone = (phone or "").strip()
    if len(phone) >= 7:
        return f"{phone[:3]}****{phone[-4:]}"
    return "*" * max(len(phone) - 2, 0) + phone[-2:]


def can_see_phone(scope: Scope | None) -> bool:
    """Only HQ admins see a member's number in full. HQ is the personal-information handler of
    the brand (it answers the person's requests, runs customer service across stores); a
    distributor, a regional manager or a store owner works with members through the
    mini-program and their guides, and needs no more than the masked number to recognise one
    (minimum necessary, PIPL art. 6)."""
    return scope is not None and scope.user is not None and scope.user.role == roles.HQ_ADMIN


def can_manage_personal_data(scope: Scope | None) -> bool:
    """Export and erase on the person's request: the same roles that may read the number."""
    return can_see_phone(scope)


def phone_of(scope: Scope, member: Member) -> str:
    """The number as this viewer may see it: plain for ``can_see_phone`` roles, else masked."""
    if not member.phone_enc:
        return ""
    if can_see_phone(scope):
        try:
            return decrypt(member.phone_enc)
        except ValueError:
            return member.phone_masked
    return member.phone_masked


def _phone_values(phone: str | None, verified: bool = True) -> dict:
    if not phone:
        return {}
    return {"phone_enc": encrypt(phone), "phone_hash": keyed_hash(phone), "phone_masked": mask_phone(phone),
            "phone_verified": verified}


# ---------------------------------------------------------------- lookups


def visible(scope: Scope):
    """Members the scope may open: its store's (owner) or its subtree's."""
    return scope.store_rows(Member.store_id, Member.path)


def get_member_or_404(scope: Scope, member_id: int) -> Member:
    member = db.session.scalar(select(Member).where(Member.id == member_id, visible(scope)))
    if member is None:
        abort(404)
    return member


def survivor_of(member: Member) -> Member:
    """The active member a merged one now lives in (itself when not merged)."""
    seen = set()
    while member.status == MERGED and member.merged_into_id and member.id not in seen:
        seen.add(member.id)
        member = db.session.get(Member, member.merged_into_id)
    return member


def settings(*, for_writing: bool = False) -> MemberSettings:
    """HQ's rules: the one row (id 1). Until HQ saves them, reading gives the defaults without
    writing anything (a page or an event that only reads must not insert a row and hold its lock);
    ``for_writing`` makes the row first (INSERT … ON CONFLICT DO NOTHING) and returns it."""
    row = db.session.get(MemberSettings, 1)
    if row is None and for_writing:
        insert_missing(db.session, MemberSettings, id=1)
        row = db.session.get(MemberSettings, 1)
    if row is not None:
        return row
    defaults = {c.key: c.default.arg for c in MemberSettings.__table__.columns
                if c.default is not None and c.default.is_scalar}
    return MemberSettings(id=1, **defaults)


def label(member: Member) -> str:
    """How the audit log names a member: by number, never by personal data."""
    return f"#{member.id}"


# ---------------------------------------------------------------- One ID


def resolve(store: Store, people: list[Person], *, cause: str, at: datetime,
            causes: dict[str, str] | None = None, guides: dict[str, int] | None = None) -> dict[str, int]:
    """openid -> member id in the store's mini-program (``appid_of(store)``), set-based: known
    identities found in one query; unknown ones matched to an existing member by unionid, then by
    verified phone (keyed hash), else a new member is created (identity row, open binding to
    ``store`` with ``cause``). A match by unionid/phone that joins two existing members is a
    recorded merge (rule 'unionid'/'phone').

    ``causes`` / ``guides`` (openid -> cause / guide id) give a new member's first binding its own
    cause ("share") and guide; the handlers use them so a sign-up is bound once, not twice."""
    return _resolve(store, people, cause=cause, at=at, causes=causes or {}, guides=guides or {}, ats={})[0]


def _resolve(store: Store, people: list[Person], *, cause: str, at: datetime, causes: dict[str, str],
             guides: dict[str, int], ats: dict[str, datetime]) -> tuple[dict[str, int], set[int]]:
    """``resolve``, and the ids of the members it created (``ats``: openid -> when that person's
    event happened, their binding's start; ``at`` otherwise)."""
    appid = appid_of(store)
    by_openid: dict[str, Person] = {}
    for p in people:
        if p.openid and p.openid not in by_openid:
            by_openid[p.openid] = p
    if not by_openid:
        return {}, set()
    hashes = {o: keyed_hash(p.phone) for o, p in by_openid.items() if p.phone}

    # The known identities with their member's phone hash, in one query (a join on the key).
    known = {row.openid: row for row in db.session.execute(
        select(MemberIdentity.openid, MemberIdentity.member_id, MemberIdentity.unionid, Member.phone_hash)
        .join(Member, Member.id == MemberIdentity.member_id)
        .where(MemberIdentity.appid == appid, among(db.session, MemberIdentity.openid, by_openid)))}
    out = {o: row.member_id for o, row in known.items()}
    member_phone = {row.member_id: row.phone_hash for row in known.values()}

    # Who the unionids and verified phones of this batch already belong to (active members only).
    unionids = {p.unionid for p in by_openid.values() if p.unionid}
    by_unionid: dict[str, int] = {}
    if unionids:
        for u, mid in db.session.execute(
                select(MemberIdentity.unionid, func.min(MemberIdentity.member_id))
                .join(Member, Member.id == MemberIdentity.member_id)
                .where(MemberIdentity.unionid.in_(unionids), Member.status == ACTIVE)
                .group_by(MemberIdentity.unionid)):
            by_unionid[u] = mid
    by_phone: dict[str, int] = {}
    if hashes:
        for h, mid in db.session.execute(
                select(Member.phone_hash, func.min(Member.id))
                .where(among(db.session, Member.phone_hash, set(hashes.values())), Member.phone_verified.is_(True),
                       Member.status == ACTIVE)
                .group_by(Member.phone_hash)):
            by_phone[h] = mid

    merges: list[tuple[int, int, str]] = []          # (a, b, rule): join these two existing members
    identities: list[dict] = []                      # new identity rows (member id filled below)
    new_members: list[str] = []                      # openids that need a new member
    same_new: dict[str, str] = {}                    # openid -> an earlier openid of the same new person
    new_keys: dict[str, str] = {}                    # "u:<unionid>" / "p:<hash>" -> first new openid
    fill_unionid: list[dict] = []
    fill_phone: list[dict] = []

    for o, p in by_openid.items():
        h = hashes.get(o)
        if o in known:
            mid = out[o]
            row = known[o]
            if p.unionid and not row.unionid:
                fill_unionid.append({"b_appid": appid, "b_openid": o, "b_unionid": p.unionid})
                other = by_unionid.get(p.unionid)
                if other and other != mid:
                    merges.append((mid, other, "unionid"))
            if h:
                other = by_phone.get(h)
                if other and other != mid:
                    merges.append((mid, other, "phone"))
                elif not member_phone.get(mid):
                    fill_phone.append({"b_id": mid, **_phone_bind(p.phone)})
                    member_phone[mid] = h
            continue
        via_union = by_unionid.get(p.unionid) if p.unionid else None
        via_phone = by_phone.get(h) if h else None
        if via_union or via_phone:
            mid = via_union or via_phone
            out[o] = mid
            identities.append({"member_id": mid, "openid": o, "unionid": p.unionid})
            if via_union and via_phone and via_union != via_phone:
                merges.append((via_union, via_phone, "phone"))
            continue
        keys = [k for k in (f"u:{p.unionid}" if p.unionid else None, f"p:{h}" if h else None) if k]
        earlier = next((new_keys[k] for k in keys if k in new_keys), None)
        if earlier:
            same_new[o] = earlier
        else:
            new_members.append(o)
            for k in keys:
                new_keys[k] = o
        identities.append({"member_id": None, "openid": o, "unionid": p.unionid})

    created: set[int] = set()
    if new_members and db.session.get_bind().dialect.name == "postgresql":
        ids = _insert_people_pg(store, appid, at, [by_openid[o] for o in new_members], identities, new_members,
                                same_new, [causes.get(o, cause) for o in new_members],
                                [guides.get(o) for o in new_members], [ats.get(o, at) for o in new_members])
        for o, mid in zip(new_members, ids, strict=True):
            out[o] = mid
            created.add(mid)
        identities = []                # inserted with the members
    elif new_members:
        rows = []
        for o in new_members:
            p = by_openid[o]
            when = ats.get(o, at)
            rows.append({"nickname": (p.nickname or "")[:64], "store_id": store.id, "path": store.path,
                         "guide_id": guides.get(o), "bound_at": when, "status": ACTIVE, "created_at": when,
                         "updated_at": when, "phone_masked": "", "phone_verified": False, "phone_enc": None,
                         "phone_hash": None, **_phone_values(p.phone)})
        ids = _insert_members(rows)
        for o, mid in zip(new_members, ids, strict=True):
            out[o] = mid
            created.add(mid)
        db.session.execute(insert(MemberBinding.__table__), [
            {"member_id": out[o], "store_id": store.id, "guide_id": guides.get(o),
             "cause": causes.get(o, cause), "started_at": ats.get(o, at), "note": ""} for o in new_members])
    for o, earlier in same_new.items():
        out[o] = out[earlier]
    if identities:
        db.session.execute(insert(MemberIdentity.__table__), [
            {"member_id": i["member_id"] or out[i["openid"]], "store_id": store.id, "appid": appid,
             "openid": i["openid"], "unionid": i["unionid"], "created_at": at} for i in identities])
    if fill_unionid:
        t = MemberIdentity.__table__
        db.session.execute(update(t).where(t.c.appid == bindparam("b_appid"), t.c.openid == bindparam("b_openid"))
                           .values(unionid=bindparam("b_unionid")), fill_unionid)
    if fill_phone:
        t = Member.__table__
        db.session.execute(update(t).where(t.c.id == bindparam("b_id")).values(
            phone_enc=bindparam("b_enc"), phone_hash=bindparam("b_hash"), phone_masked=bindparam("b_masked"),
            phone_verified=True), fill_phone)

    # Joins of two existing members: rare, one merge each (the older member survives).
    done: dict[int, int] = {}
    for a, b, rule in merges:
        a, b = done.get(a, a), done.get(b, b)
        if a == b:
            continue
        survivor, absorbed = (a, b) if a < b else (b, a)
        s, x = db.session.get(Member, survivor), db.session.get(Member, absorbed)
        if s.status != ACTIVE or x.status != ACTIVE:
            continue
        merge(None, s, x, rule=rule, reason=appid, actor=None)
        done[absorbed] = survivor
    if done:
        out = {o: _follow(done, mid) for o, mid in out.items()}
    return out, created


_NEW_PEOPLE_PG = text(
    "WITH src AS MATERIALIZED ("
    "  SELECT nextval(pg_get_serial_sequence('members', 'id')) AS id, u.*"
    "  FROM unnest(CAST(:nick AS varchar[]), CAST(:enc AS text[]), CAST(:hash AS varchar[]),"
    "              CAST(:masked AS varchar[]), CAST(:verified AS boolean[]), CAST(:guide AS integer[]),"
    "              CAST(:at AS timestamptz[]), CAST(:cause AS varchar[]))"
    "       WITH ORDINALITY AS u(nick, enc, hash, masked, verified, guide, at, cause, ord)),"
    " m AS (INSERT INTO members (id, nickname, phone_enc, phone_hash, phone_masked, phone_verified, status,"
    "                            store_id, path, guide_id, bound_at, created_at, updated_at)"
    "       SELECT id, nick, enc, hash, masked, verified, :status, :store, :path, guide, at, at, at FROM src),"
    " b AS (INSERT INTO member_bindings (member_id, store_id, guide_id, cause, started_at, note)"
    "       SELECT id, :store, guide, cause, at, '' FROM src),"
    " i AS (INSERT INTO member_identities (member_id, store_id, appid, openid, unionid, created_at)"
    "       SELECT coalesce(v.mid, src.id), :store, :appid, v.openid, v.unionid, :now"
    "       FROM unnest(CAST(:i_mid AS bigint[]), CAST(:i_ord AS bigint[]), CAST(:i_openid AS varchar[]),"
    "                   CAST(:i_unionid AS varchar[])) AS v(mid, ord, openid, unionid)"
    "       LEFT JOIN src ON src.ord = v.ord)"
    " SELECT ord, id FROM src ORDER BY ord")


def _insert_people_pg(store: Store, appid: str, at: datetime, people: list[Person], identities: list[dict],
                      new_members: list[str], same_new: dict[str, str], causes: list[str],
                      guides: list[int | None], ats: list[datetime]) -> list[int]:
    """PostgreSQL: the new members, their first bindings and every identity of the batch (of new
    and of matched members) in one statement, the ids drawn from the members' sequence; the new
    members' ids in the order of ``people``. The same rows as ``_insert_members`` and the two
    inserts after it."""
    phones = [_phone_values(p.phone) for p in people]
    ord_of = {o: k for k, o in enumerate(new_members, 1)}
    arrays = {
        "nick": [(p.nickname or "")[:64] for p in people], "enc": [v.get("phone_enc") for v in phones],
        "hash": [v.get("phone_hash") for v in phones], "masked": [v.get("phone_masked", "") for v in phones],
        "verified": [v.get("phone_verified", False) for v in phones], "guide": guides, "at": ats, "cause": causes,
        "i_mid": [i["member_id"] for i in identities],
        "i_ord": [None if i["member_id"] else ord_of[same_new.get(i["openid"], i["openid"])] for i in identities],
        "i_openid": [i["openid"] for i in identities], "i_unionid": [i["unionid"] for i in identities]}
    return [mid for _ord, mid in db.session.execute(_NEW_PEOPLE_PG, {
        **{name: pg_array(values) for name, values in arrays.items()},
        "status": ACTIVE, "store": store.id, "path": store.path, "appid": appid, "now": at})]


def _insert_members(rows: list[dict]) -> list[int]:
    """SQLite (PostgreSQL: ``_insert_people_pg``): insert the new members' rows; their ids, in the
    order of ``rows``. An INSERT … RETURNING whose order must match the rows runs row by row here,
    so the ids are chosen first: SQLite's writer holds the database's one write lock for the whole
    transaction (the inbox rows were written first), so it counts on from the largest id and
    inserts in one statement with no RETURNING."""
    t = Member.__table__
    start = (db.session.scalar(select(func.max(Member.id))) or 0) + 1
    ids = list(range(start, start + len(rows)))
    db.session.execute(insert(t), [dict(row, id=mid) for row, mid in zip(rows, ids, strict=True)])
    return ids


def _follow(done: dict[int, int], mid: int) -> int:
    while mid in done:
        mid = done[mid]
    return mid


def _phone_bind(phone: str) -> dict:
    v = _phone_values(phone)
    return {"b_enc": v["phone_enc"], "b_hash": v["phone_hash"], "b_masked": v["phone_masked"]}


def update_profiles(rows: list[tuple[int, str | None, str | None, bool]]) -> list[tuple[int, int]]:
    """(member id, nickname or None, phone or None, phone verified) as reported by member.updated:
    written set-based. A newly verified phone that another active member already has joins the
    two (rule 'phone'); returns the (survivor, absorbed) pairs merged."""
    names = [{"b_id": mid, "b_nick": nick[:64]} for mid, nick, _p, _v in rows if nick is not None]
    phones = [{"b_id": mid, **_phone_bind(p), "b_verified": v} for mid, _n, p, v in rows if p]
    t = Member.__table__
    now = utcnow()
    if names:
        db.session.execute(update(t).where(t.c.id == bindparam("b_id"), t.c.status == ACTIVE)
                           .values(nickname=bindparam("b_nick"), updated_at=now), names)
    if phones:
        db.session.execute(update(t).where(t.c.id == bindparam("b_id"), t.c.status == ACTIVE).values(
            phone_enc=bindparam("b_enc"), phone_hash=bindparam("b_hash"), phone_masked=bindparam("b_masked"),
            phone_verified=bindparam("b_verified"), updated_at=now), phones)
    merged: list[tuple[int, int]] = []
    verified = {p["b_hash"]: p["b_id"] for p in phones if p["b_verified"]}
    if not verified:
        return merged
    twins = db.session.execute(
        select(Member.id, Member.phone_hash).where(Member.phone_hash.in_(list(verified)), Member.status == ACTIVE,
                                                   Member.phone_verified.is_(True))
        .order_by(Member.id)).all()
    first: dict[str, int] = {}
    for mid, h in twins:
        if h not in first:
            first[h] = mid
            continue
        s, x = db.session.get(Member, first[h]), db.session.get(Member, mid)
        if s.status == ACTIVE and x.status == ACTIVE:
            merge(None, s, x, rule="phone", reason="", actor=None)
            merged.append((s.id, x.id))
    return merged


# ---------------------------------------------------------------- merges


def _moved_key(table, column: str) -> list:
    return [c for c in table.primary_key.columns if c.name != column]


def merge(scope: Scope | None, survivor: Member, absorbed: Member, *, rule: str, reason: str,
          actor) -> MemberMerge:
    """Fold ``absorbed`` into ``survivor``: every row of ``refs.MEMBER_REFS`` that MOVES is
    pointed at the survivor, the keys of what moved are recorded, and the survivor takes what it
    lacked (phone, nickname, referrer). The service relationship: the binding rule picks between
    the two open bindings (latest wins: the more recent; otherwise the earlier one stays); the
    other is closed with end cause 'merge'. ``scope`` None: a rule of One ID merging (no audit
    entry; the MemberMerge row is the record)."""
    if survivor.id == absorbed.id:
        raise RuleError(_("A member cannot be merged with themselves."), "absorbed_id")
    db.session.flush()
    db.session.refresh(survivor)       # set-based writes (bind, set_referrers) bypass the loaded objects
    db.session.refresh(absorbed)
    if survivor.status != ACTIVE or absorbed.status != ACTIVE:
        raise RuleError(_("Only active members can be merged."), "absorbed_id")
    now = utcnow()
    moved: dict = {"rows": {}, "fields": {}, "closed_bindings": []}

    # The service relationship: which open binding stays.
    rule_now = settings().binding_rule
    absorbed_wins = survivor.store_id is None and absorbed.store_id is not None
    if survivor.store_id is not None and absorbed.store_id is not None and rule_now == LATEST_WINS:
        absorbed_wins = (absorbed.bound_at or now) > (survivor.bound_at or now)
    loser = survivor if absorbed_wins else absorbed
    open_rows = db.session.execute(select(MemberBinding.id).where(
        MemberBinding.member_id == loser.id, MemberBinding.ended_at.is_(None))).scalars().all()
    if open_rows:
        moved["closed_bindings"] = list(open_rows)
        db.session.execute(update(MemberBinding).where(MemberBinding.id.in_(open_rows))
                           .values(ended_at=now, end_cause="merge"))

    fields: dict = {}
    if absorbed_wins:
        for name in ("store_id", "path", "guide_id", "bound_at"):
            fields[name] = getattr(absorbed, name)
    if not survivor.phone_enc and absorbed.phone_enc:
        for name in ("phone_enc", "phone_hash", "phone_masked", "phone_verified"):
            fields[name] = getattr(absorbed, name)
    if not survivor.nickname and absorbed.nickname:
        fields["nickname"] = absorbed.nickname
    if survivor.referrer_id is None and absorbed.referrer_id not in (None, survivor.id):
        fields["referrer_id"] = absorbed.referrer_id
    elif survivor.referrer_id == absorbed.id:
        # The person brought themself under another identity: they take that one's referrer.
        fields["referrer_id"] = absorbed.referrer_id if absorbed.referrer_id != survivor.id else None
    moved["fields"] = {name: _jsonable(getattr(survivor, name)) for name in fields}

    db.session.flush()
    for ref in refs.registered(refs.MOVES):
        table = db.metadata.tables[ref.table]
        col = table.c[ref.column]
        keys = _moved_key(table, ref.column)
        cond = [col == absorbed.id]
        if ref.table == "members":
            cond.append(table.c.id != survivor.id)       # the survivor never refers to or merges into itself
        if ref.unique_with:
            twin = table.alias("twin")
            cond.append(~select(twin.c[ref.column]).where(
                twin.c[ref.column] == survivor.id,
                *[twin.c[u] == table.c[u] for u in ref.unique_with]).exists())
        found = db.session.execute(select(*keys).where(*cond)).all()
        if not found:
            continue
        moved["rows"][f"{ref.table}.{ref.column}"] = [list(r) if len(keys) > 1 else r[0] for r in found]
        db.session.execute(update(table).where(*cond).values({ref.column: survivor.id}))

    for name, value in fields.items():
        setattr(survivor, name, value)
    absorbed.status, absorbed.merged_into_id = MERGED, survivor.id
    db.session.flush()
    if survivor.referrer_id is not None and _in_own_chain(survivor.id):
        moved["fields"].setdefault("referrer_id", survivor.referrer_id)
        survivor.referrer_id = None           # the merge closed a circle: the survivor brought themself
    record = MemberMerge(survivor_id=survivor.id, absorbed_id=absorbed.id, rule=rule, reason=(reason or "")[:255],
                         actor_id=actor.id if actor else None, moved=moved, created_at=now)
    db.session.add(record)
    if actor is not None:
        audit.record(actor, "member.merge", "member", survivor.id, label(survivor), survivor.path,
                     {"absorbed": absorbed.id, "rule": rule})
    db.session.flush()
    return record


def _in_own_chain(member_id: int) -> bool:
    chain = _ancestors([member_id])
    seen, cur = set(), chain.get(member_id)
    while cur is not None and cur not in seen:
        if cur == member_id:
            return True
        seen.add(cur)
        cur = chain.get(cur)
    return False


def _jsonable(value):
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _parse_field(name: str, value):
    if name == "bound_at" and isinstance(value, str):
        return datetime.fromisoformat(value)
    return value


def unmerge(scope: Scope | None, merge: MemberMerge, *, actor) -> None:
    """The exact undo of ``merge``: every row that moved goes back to the absorbed member, the
    survivor gets its own fields back, the bindings the merge closed are open again."""
    if merge.undone_at is not None:
        raise RuleError(_("This merge was already undone."))
    db.session.flush()
    survivor = db.session.get(Member, merge.survivor_id, populate_existing=True)
    absorbed = db.session.get(Member, merge.absorbed_id, populate_existing=True)
    if survivor.status != ACTIVE:
        raise RuleError(_("The member this merge kept was merged again or erased since: undo that first."))
    if absorbed.status != MERGED or absorbed.merged_into_id != survivor.id:
        raise RuleError(_("The absorbed member has changed since this merge."))
    moved = merge.moved or {}
    for ref in refs.registered(refs.MOVES):
        keys_moved = moved.get("rows", {}).get(f"{ref.table}.{ref.column}")
        if not keys_moved:
            continue
        table = db.metadata.tables[ref.table]
        keys = _moved_key(table, ref.column)
        col = table.c[ref.column]
        for chunk in _chunks(keys_moved, 500):
            where = keys[0].in_(chunk) if len(keys) == 1 else tuple_(*keys).in_([tuple(k) for k in chunk])
            db.session.execute(update(table).where(where, col == survivor.id).values({ref.column: absorbed.id}))
    for name, value in moved.get("fields", {}).items():
        setattr(survivor, name, _parse_field(name, value))
    closed = moved.get("closed_bindings") or []
    if closed:
        db.session.execute(update(MemberBinding).where(MemberBinding.id.in_(closed), MemberBinding.end_cause == "merge")
                           .values(ended_at=None, end_cause=None))
    absorbed.status, absorbed.merged_into_id = ACTIVE, None
    merge.undone_at = utcnow()
    merge.undone_by_id = actor.id if actor else None
    if actor is not None:
        audit.record(actor, "member.unmerge", "member", survivor.id, label(survivor), survivor.path,
                     {"absorbed": absorbed.id, "rule": merge.rule})
    db.session.flush()


def _chunks(items: list, n: int):
    for i in range(0, len(items), n):
        yield items[i:i + n]


def merges_of(member: Member) -> list[MemberMerge]:
    """The merges this member took part in, newest first."""
    return list(db.session.scalars(select(MemberMerge).where(
        or_(MemberMerge.survivor_id == member.id, MemberMerge.absorbed_id == member.id))
        .order_by(MemberMerge.id.desc())))


def get_merge_or_404(scope: Scope, merge_id: int) -> MemberMerge:
    """A merge whose surviving member the scope may open."""
    row = db.session.scalar(select(MemberMerge).join(Member, Member.id == MemberMerge.survivor_id)
                            .where(MemberMerge.id == merge_id, visible(scope)))
    if row is None:
        abort(404)
    return row


def merge_candidates(scope: Scope, member: Member, q: str, limit: int = 20) -> list[Member]:
    """Active members in scope a person may merge into ``member``: found by nickname, masked
    phone or member number."""
    q = (q or "").strip()
    stmt = select(Member).where(visible(scope), Member.status == ACTIVE, Member.id != member.id)
    if q:
        like = f"%{q}%"
        conds = [Member.nickname.like(like), Member.phone_masked.like(like)]
        if q.lstrip("#").isdigit():
            conds.append(Member.id == int(q.lstrip("#")))
        if PHONE_RE.match(q):
            conds.append(Member.phone_hash == keyed_hash(q))
        stmt = stmt.where(or_(*conds))
    return list(db.session.scalars(stmt.order_by(Member.id).limit(limit)))


# ---------------------------------------------------------------- the service relationship


def bind(store: Store, changes: list[tuple[int, int | None, str, datetime]], *, actor=None) -> list[int]:
    """(member id, guide id or None, cause, at): apply HQ's binding rule set-based — 'first' (the
    first binding stays), 'latest' (the latest wins), 'protected' (a binding is protected for
    protect_days, then may change); every change closes the open MemberBinding and opens a new
    one with its cause, and updates Member.store_id/path/guide_id/bound_at.

    A guide of None with an automatic cause means "no guide named": a member already served by
    ``store`` keeps their guide. A manual change names exactly what it wants (None: the store
    alone). Returns the ids of the members whose relationship changed."""
    if not changes:
        return []
    # One query: the members' relationships, with HQ's rule and how many of the named guides are
    # active guides of this store beside each row (read apart only when no member row comes back).
    guide_ids = {g for _m, g, _c, _a in changes if g is not None}
    cols = [select(MemberSettings.binding_rule).where(MemberSettings.id == 1).scalar_subquery().label("rule"),
            select(MemberSettings.protect_days).where(MemberSettings.id == 1).scalar_subquery().label("days")]
    if guide_ids:
        cols.append(_active_guides(store, guide_ids).scalar_subquery().label("guides"))
    rows = db.session.execute(
        select(Member.id, Member.store_id, Member.guide_id, Member.bound_at, *cols)
        .where(Member.id.in_({m for m, *_ in changes}), Member.status == ACTIVE)).all()
    if guide_ids:
        ok = rows[0].guides if rows else db.session.scalar(_active_guides(store, guide_ids))
        if ok != len(guide_ids):
            raise RuleError(_("That guide is not an active guide of this store."), "guide_id")
    if not rows:
        return []
    rules = _Rules(rows[0].rule or FIRST_STAYS, 30 if rows[0].rule is None else rows[0].days)
    state = {row.id: [row.store_id, row.guide_id, row.bound_at] for row in rows}
    closes: dict[int, tuple[datetime, str]] = {}      # member -> when and why its open row ends
    opened: list[dict] = []                           # new rows, in order (a later one may end in the batch)
    for mid, guide, cause, at in sorted(changes, key=lambda c: c[3]):
        if mid not in state:
            continue
        cur_store, cur_guide, since = state[mid]
        same_store = cur_store == store.id
        if cause in RULED_CAUSES:
            if same_store and (guide is None or guide == cur_guide):
                continue
            completes = same_store and cur_guide is None
            if cur_store is not None and not completes and not _rule_allows(rules, since, at):
                continue
            new_guide = guide
        else:
            new_guide = guide
            if same_store and guide == cur_guide:
                continue
        ended = next((r for r in reversed(opened) if r["member_id"] == mid), None)
        if ended is not None:
            ended["ended_at"], ended["end_cause"] = at, cause
        elif cur_store is not None or cur_guide is not None:
            closes[mid] = (at, cause)
        opened.append({"member_id": mid, "store_id": store.id, "guide_id": new_guide, "cause": cause,
                       "started_at": at, "ended_at": None, "end_cause": None,
                       "actor_id": actor.id if actor else None, "note": ""})
        state[mid] = [store.id, new_guide, at]
    if not opened:
        return []
    if closes:
        t = MemberBinding.__table__
        db.session.execute(update(t).where(t.c.member_id == bindparam("b_mid"), t.c.ended_at.is_(None))
                           .values(ended_at=bindparam("b_at"), end_cause=bindparam("b_cause")),
                           [{"b_mid": m, "b_at": at, "b_cause": c} for m, (at, c) in closes.items()])
    db.session.execute(insert(MemberBinding.__table__), opened)
    changed = sorted({r["member_id"] for r in opened})
    t = Member.__table__
    db.session.execute(update(t).where(t.c.id == bindparam("b_id")).values(
        store_id=bindparam("b_store"), path=bindparam("b_path"), guide_id=bindparam("b_guide"),
        bound_at=bindparam("b_at"), updated_at=utcnow()),
        [{"b_id": m, "b_store": store.id, "b_path": store.path, "b_guide": state[m][1], "b_at": state[m][2]}
         for m in changed])
    return changed


@dataclass(frozen=True)
class _Rules:
    """HQ's binding rule as ``bind`` reads it (``settings()``'s two fields)."""
    binding_rule: str
    protect_days: int | None


def _active_guides(store: Store, guide_ids: set[int]):
    """How many of ``guide_ids`` are active guides of ``store``."""
    return select(func.count()).select_from(Guide).where(Guide.id.in_(guide_ids), Guide.store_id == store.id,
                                                          Guide.active.is_(True))


def _rule_allows(rules: MemberSettings | _Rules, since: datetime | None, at: datetime) -> bool:
    if rules.binding_rule == LATEST_WINS:
        return True
    if rules.binding_rule == PROTECTED:
        return since is None or at >= since + timedelta(days=rules.protect_days or 0)
    return False        # the first binding stays


def protected_until(member: Member) -> datetime | None:
    """When the member's binding may change under the 'protected' rule (None: not protected)."""
    rules = settings()
    if rules.binding_rule != PROTECTED or member.bound_at is None:
        return None
    until = member.bound_at + timedelta(days=rules.protect_days or 0)
    return until if until > utcnow() else None


def rebind(scope: Scope, member: Member, store: Store, guide: Guide | None, *, actor, note: str = "") -> bool:
    """A person binds ``member`` to ``store`` (and ``guide``) by hand: always applied (the rule
    decides automatic changes only). False when nothing changes."""
    if member.status != ACTIVE:
        raise RuleError(_("Only an active member can be rebound."))
    if guide is not None and guide.store_id != store.id:
        raise RuleError(_("That guide is not an active guide of this store."), "guide_id")
    old_store, old_guide = member.store_id, member.guide_id
    changed = bind(store, [(member.id, guide.id if guide else None, "manual", utcnow())], actor=actor)
    if not changed:
        return False
    if note:
        db.session.execute(update(MemberBinding).where(MemberBinding.member_id == member.id,
                                                       MemberBinding.ended_at.is_(None)).values(note=note[:255]))
    db.session.refresh(member)
    audit.record(actor, "member.rebind", "member", member.id, label(member), store.path,
                 {"from": old_store, "to": store.id, "guide": guide.id if guide else None,
                  "old_guide": old_guide})
    db.session.flush()
    return True


def bindings_of(member: Member) -> list[tuple[MemberBinding, str, str]]:
    """The member's binding history, newest first, with the store's and the guide's names."""
    rows = db.session.execute(
        select(MemberBinding, Store.name, Guide.name)
        .outerjoin(Store, Store.id == MemberBinding.store_id)
        .outerjoin(Guide, Guide.id == MemberBinding.guide_id)
        .where(MemberBinding.member_id == member.id)
        .order_by(MemberBinding.started_at.desc(), MemberBinding.id.desc())).all()
    return [(b, s or "", g or "") for b, s, g in rows]


def identities_of(member: Member) -> list[tuple[MemberIdentity, str]]:
    """How the mini-programs know the member, with the name of the store each was first seen in."""
    rows = db.session.execute(
        select(MemberIdentity, Store.name).outerjoin(Store, Store.id == MemberIdentity.store_id)
        .where(MemberIdentity.member_id == member.id).order_by(MemberIdentity.id)).all()
    return [(i, s or "") for i, s in rows]


def set_referrers(pairs: list[tuple[int, int]]) -> list[int]:
    """(member, sharer): the sharer brought the member. Refuses self and cycles (the sharer's
    referrer chain may not come back to the member); returns refused member ids. A member who
    already has a referrer keeps them (the first sharer stays): not a refusal."""
    if not pairs:
        return []
    refused: list[int] = []
    chain = _ancestors({s for _m, s in pairs} | {m for m, _s in pairs})
    writes: dict[int, int] = {}
    for mid, sharer in pairs:
        if mid == sharer:
            refused.append(mid)
            continue
        if chain.get(mid) is not None:
            continue
        seen, cur, cycle = set(), sharer, False
        while cur is not None and cur not in seen:
            if cur == mid:
                cycle = True
                break
            seen.add(cur)
            cur = chain.get(cur)
        if cycle:
            refused.append(mid)
            continue
        chain[mid] = sharer
        writes[mid] = sharer
    if writes:
        t = Member.__table__
        db.session.execute(update(t).where(t.c.id == bindparam("b_id"), t.c.referrer_id.is_(None))
                           .values(referrer_id=bindparam("b_ref")),
                           [{"b_id": m, "b_ref": s} for m, s in writes.items()])
    return refused


def _ancestors(ids: Iterable[int]) -> dict[int, int | None]:
    """member id -> referrer id for ``ids`` and everyone up their referrer chains: one recursive
    query (UNION stops at a cycle)."""
    ids = list(ids)
    if not ids:
        return {}
    m = Member.__table__
    base = select(m.c.id, m.c.referrer_id).where(m.c.id.in_(ids)).cte("chain", recursive=True)
    up = m.alias("up")
    chain = base.union(select(up.c.id, up.c.referrer_id).join(base, up.c.id == base.c.referrer_id))
    return dict(db.session.execute(select(chain.c.id, chain.c.referrer_id)).all())


# ---------------------------------------------------------------- guides


def guides_by_code(store: Store, codes: Iterable[str]) -> dict[str, int]:
    """code -> id of the store's active guides among ``codes``."""
    codes = {c for c in codes if c}
    if not codes:
        return {}
    return dict(db.session.execute(select(Guide.code, Guide.id).where(
        Guide.store_id == store.id, Guide.code.in_(codes), Guide.active.is_(True))).all())


def guides_of(store: Store) -> list[tuple[Guide, int]]:
    """The store's guides (active first) with how many active members each serves: one query."""
    counts = (select(Member.guide_id, func.count().label("n")).where(Member.store_id == store.id,
                                                                    Member.status == ACTIVE)
              .group_by(Member.guide_id).subquery())
    rows = db.session.execute(
        select(Guide, func.coalesce(counts.c.n, 0)).outerjoin(counts, counts.c.guide_id == Guide.id)
        .where(Guide.store_id == store.id).order_by(Guide.active.desc(), Guide.code)).all()
    return [(g, n) for g, n in rows]


def store_members_without_guide(store: Store) -> int:
    return db.session.scalar(select(func.count()).select_from(Member).where(
        Member.store_id == store.id, Member.status == ACTIVE, Member.guide_id.is_(None))) or 0


def active_guides(store: Store) -> list[Guide]:
    return list(db.session.scalars(select(Guide).where(Guide.store_id == store.id, Guide.active.is_(True))
                                   .order_by(Guide.name, Guide.code)))


def get_guide_or_404(scope: Scope, guide_id: int) -> Guide:
    guide = db.session.scalar(select(Guide).join(Store, Store.id == Guide.store_id)
                              .where(Guide.id == guide_id, scope.stores()))
    if guide is None:
        abort(404)
    return guide


def add_guide(scope: Scope, store: Store, *, code: str, name: str, phone: str = "", actor) -> Guide:
    code, name, phone = (code or "").strip(), (name or "").strip(), (phone or "").strip()
    if not name:
        raise RuleError(_("Enter the guide's name."), "name")
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,32}", code):
        raise RuleError(_("The code is 1 to 32 letters, digits, - or _ (what the mini-program reports)."), "code")
    if phone and not PHONE_RE.match(phone):
        raise RuleError(_("Enter an 11-digit mainland mobile number, or leave it empty."), "phone")
    if db.session.scalar(select(Guide.id).where(Guide.store_id == store.id, Guide.code == code)):
        raise RuleError(_("This store already has a guide with that code."), "code")
    guide = Guide(store_id=store.id, code=code, name=name[:50], phone_masked=mask_phone(phone) if phone else "",
                  active=True)
    db.session.add(guide)
    db.session.flush()
    audit.record(actor, "guide.create", "guide", guide.id, f"{guide.code}", store.path, {"store": store.code})
    return guide


def set_guide_active(scope: Scope, guide: Guide, active: bool, *, actor) -> int:
    """Deactivate (members handed back to the store, set-based) or reactivate a guide; returns how
    many members were handed back."""
    if guide.active == active:
        return 0
    store = db.session.get(Store, guide.store_id)
    now = utcnow()
    handed = 0
    if not active:
        handed = hand_back_members(guide, at=now, actor=actor)
    guide.active = active
    guide.deactivated_at = None if active else now
    audit.record(actor, "guide.reactivate" if active else "guide.deactivate", "guide", guide.id, guide.code,
                 store.path, {"store": store.code, "count": handed} if not active else {"store": store.code})
    db.session.flush()
    return handed


def hand_back_members(guide: Guide, *, at: datetime, actor=None) -> int:
    """Every member the guide serves goes back to the store (guide_id NULL), each with a binding
    row of cause guide_left: three statements whatever the number of members."""
    members = select(Member.id).where(Member.guide_id == guide.id, Member.status == ACTIVE)
    n = db.session.scalar(select(func.count()).select_from(members.subquery())) or 0
    if not n:
        return 0
    b = MemberBinding.__table__
    db.session.execute(update(b).where(b.c.member_id.in_(members), b.c.ended_at.is_(None))
                       .values(ended_at=at, end_cause="guide_left"))
    m = Member.__table__
    db.session.execute(b.insert().from_select(
        ["member_id", "store_id", "guide_id", "cause", "started_at", "actor_id", "note"],
        select(m.c.id, m.c.store_id, null(), literal("guide_left"), literal(at, UTCDateTime()),
               literal(actor.id) if actor else null(), literal(""))
        .where(m.c.guide_id == guide.id, m.c.status == ACTIVE)))
    db.session.execute(update(m).where(m.c.guide_id == guide.id, m.c.status == ACTIVE)
                       .values(guide_id=None, bound_at=at, updated_at=at))
    return n


# ---------------------------------------------------------------- export and erase


def _row_dict(row) -> dict:
    out = {}
    for k, v in row._mapping.items():
        if k in ("phone_enc", "phone_hash"):
            continue
        out[k] = v.isoformat() if isinstance(v, datetime) else v
    return out


def export_member(scope: Scope, member: Member) -> dict:
    """Everything stored about the person: the member row (with the phone decrypted), and every
    row of every table of ``refs.MEMBER_REFS`` pointing at them (identities, bindings, orders,
    ledger entries, merges, members they brought …). Read-only."""
    m = Member.__table__
    row = db.session.execute(select(m).where(m.c.id == member.id)).one()
    data = _row_dict(row)
    phone = ""
    if member.phone_enc:
        try:
            phone = decrypt(member.phone_enc)
        except ValueError:
            phone = member.phone_masked
    data["phone"] = phone
    related: dict[str, list] = {}
    for ref in refs.MEMBER_REFS:
        table = db.metadata.tables[ref.table]
        rows = db.session.execute(select(table).where(table.c[ref.column] == member.id)).all()
        if ref.table == "members":
            rows = [{"id": r.id, "nickname": r.nickname} for r in rows]
        else:
            rows = [_row_dict(r) for r in rows]
        related[f"{ref.table}.{ref.column}"] = rows
    # The lines of the person's orders (their own rows name the order, not the member).
    order_ids = [o["id"] for o in related.get("orders.member_id", [])]
    if order_ids and "order_lines" in db.metadata.tables:
        lines = db.metadata.tables["order_lines"]
        related["order_lines"] = [_row_dict(r) for r in db.session.execute(
            select(lines).where(lines.c.order_id.in_(order_ids)).order_by(lines.c.order_id, lines.c.line_no))]
    if scope is not None and scope.user is not None:
        audit.record(scope.user, "member.export", "member", member.id, label(member), member.path, {})
    return {"member": data, "related": related, "exported_at": utcnow().isoformat()}


def erase_member(scope: Scope, member: Member, *, actor) -> None:
    """Anonymise the person on their request: nickname 已注销会员, phone and unionids removed,
    openids replaced (so the mini-program's next report of that openid is a new person), the open
    binding closed (cause 'erased'), the referrer forgotten. The orders and their amounts stay
    (the store's figures), pointing at the anonymous member. The audit entry names the member by
    number only."""
    if member.status != ACTIVE:
        raise RuleError(_("Only an active member can be erased (a merged one lives in the member it was merged into)."))
    now = utcnow()
    ident = MemberIdentity.__table__
    db.session.execute(update(ident).where(ident.c.member_id == member.id).values(
        openid=literal("erased:", String) + cast(ident.c.id, String), unionid=None))
    db.session.execute(update(MemberBinding).where(MemberBinding.member_id == member.id,
                                                   MemberBinding.ended_at.is_(None))
                       .values(ended_at=now, end_cause="erased"))
    db.session.execute(update(MemberBinding).where(MemberBinding.member_id == member.id).values(note=""))
    member.nickname = ERASED_NICKNAME
    member.phone_enc = member.phone_hash = None
    member.phone_masked = ""
    member.phone_verified = False
    member.referrer_id = None
    member.guide_id = None
    member.status = ERASED
    member.erased_at = now
    audit.record(actor, "member.erase", "member", member.id, label(member), member.path, {})
    db.session.flush()


__all__ = ["ERASED_NICKNAME", "Person", "active_guides", "add_guide", "bind", "bindings_of", "can_see_phone",
           "erase_member", "export_member", "get_guide_or_404", "get_member_or_404", "get_merge_or_404",
           "guides_by_code", "guides_of", "hand_back_members", "identities_of", "mask_phone", "merge",
           "merge_candidates", "merges_of", "phone_of", "rebind", "resolve", "set_referrers", "settings",
           "survivor_of", "unmerge", "update_profiles"]
