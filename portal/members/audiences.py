"""Members as audiences: the scoped member list (search, filters, sort, paging), tags, tiers and
groups, and ``audience_members(scope, spec)``, the one way other domains (campaigns, live
invitations) turn a saved filter, a group or a segment into member ids.

Every query starts from ``scoped_members(scope)``: the active members of the scope's stores
(``Scope.store_rows``), so an id from a form or a URL outside it simply matches nothing. Writes
flush; the request commits.

Counts at scale: the list counts at most ``COUNT_CAP`` + 1 matching ids and shows "10,000+"
beyond (a million members are never counted per keystroke); an audience's "reaches N members"
is an exact count, asked when a filter changes, not per keystroke.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, Select, and_, delete, exists, false, func, insert, literal, or_, select

from portal.audit.services import record
from portal.extensions import db
from portal.kernel.crypto import keyed_hash
from portal.kernel.errors import RuleError
from portal.kernel.ids import parse_id, parse_ids, parse_page
from portal.kernel.paging import page_count
from portal.members.models import (
    ACTIVE,
    FILTER,
    FIXED,
    SEGMENTS,
    Guide,
    Member,
    MemberGroup,
    MemberTag,
    MemberTier,
    member_group_members,
    member_tag_links,
)
from portal.org.models import OrgNode, Store
from portal.org.scope import Scope, path_range

SEGMENT_LABELS = {
    "important_value": _l("Important value"),
    "important_keep": _l("Important to keep"),
    "important_develop": _l("Important to develop"),
    "important_retain": _l("Important to win back"),
    "general_value": _l("General value"),
    "general_keep": _l("General to keep"),
    "general_develop": _l("General to develop"),
    "general_retain": _l("General to win back"),
    "new": _l("New customer"),
}
assert tuple(SEGMENT_LABELS) == SEGMENTS

# The list's sorts (an allow-list: never a column named by the request).
SORTS = {"newest": (Member.id.desc(),), "oldest": (Member.id.asc(),)}
SORT_LABELS = {"newest": _l("Newest first"), "oldest": _l("Oldest first")}
COUNT_CAP = 10_000
PER_PAGE = 50
# A scope with at most this many stores gets a store select; larger ones choose a region first.
STORE_SELECT_MAX = 500


# --------------------------------------------------------------------------- the filter

@dataclass(frozen=True)
class MemberFilter:
    """The member list's search and filters; what a saved-filter group keeps (``spec``)."""

    q: str = ""
    segment: str = ""
    tag_id: int | None = None
    tier_id: int | None = None
    node_id: int | None = None
    store_id: int | None = None
    guide_id: int | None = None
    group_id: int | None = None
    sort: str = "newest"
    page: int = 1

    KEYS = {"q": "q", "segment": "segment", "tag_id": "tag", "tier_id": "tier", "node_id": "node",
            "store_id": "store", "guide_id": "guide", "group_id": "group"}

    @classmethod
    def from_args(cls, args) -> MemberFilter:
        """From a query string (or a saved spec): anything unknown or malformed is ignored."""
        def text(name, n):
            value = args.get(name, "")
            return value.strip()[:n] if isinstance(value, str) else ""

        segment, sort = text("segment", 20), text("sort", 10)
        return cls(q=text("q", 64), segment=segment if segment in SEGMENTS else "",
                   tag_id=parse_id(args.get("tag")), tier_id=parse_id(args.get("tier")),
                   node_id=parse_id(args.get("node")), store_id=parse_id(args.get("store")),
                   guide_id=parse_id(args.get("guide")), group_id=parse_id(args.get("group")),
                   sort=sort if sort in SORTS else "newest", page=parse_page(args.get("page")))

    def args(self, **changes) -> dict:
        """Query arguments of a link to this filter with ``changes`` applied (defaults left out)."""
        values = {arg: getattr(self, attr) for attr, arg in self.KEYS.items()}
        values.update(sort=self.sort, page=self.page)
        values.update(changes)
        return {k: v for k, v in values.items()
                if v not in ("", None) and not (k == "page" and v == 1) and not (k == "sort" and v == "newest")}

    def spec(self) -> dict:
        """What a saved-filter group keeps: the conditions, no sort, page or group."""
        return {k: v for k, v in self.args(sort="newest", page=1, group=None).items()}

    @property
    def empty(self) -> bool:
        return not self.spec() and not self.group_id


def scoped_members(scope: Scope) -> Select:
    """Ids of the active members the scope sees: its store's (owners) or its subtree's."""
    return select(Member.id).where(scope.store_rows(Member.store_id, Member.path), Member.status == ACTIVE)


TRIGRAM = 3
PHONE_MASKED = re.compile(r"(\d{3})\*{4}(\d{4})")


def normalise_phone(text: str) -> str:
    """A mainland mobile number as the keyed hash is taken of: 11 digits, no +86, no spaces."""
    digits = re.sub(r"[\s\-()]", "", text or "")
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    return digits


def search_condition(q: str, *, one_store: bool = False) -> ColumnElement[bool]:
    """What the search box finds: a nickname (any part of it from three characters on, its start
    for one or two), a masked phone (138****1234), the
    last four digits of the phone, a full number (by its keyed hash, never decrypted), a member id."""
    number = normalise_phone(q)
    if m := PHONE_MASKED.fullmatch(number):
        return and_(Member.phone_tail == m[2], Member.phone_masked == number)
    if number.isascii() and number.isdigit():
        conds = []
        if len(number) == 4:
            conds.append(Member.phone_tail == number)
        if len(number) == 11:
            conds.append(Member.phone_hash == keyed_hash(number))
        if (member_id := parse_id(number)) is not None:
            conds.append(Member.id == member_id)
        return or_(*conds) if conds else false()
    text = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    if len(q) < TRIGRAM and not one_store:
        # One or two characters make no trigram: across many stores they find nicknames that
        # start with them (a surname, 王 → 王小明) through the prefix index, instead of reading
        # every member. One store's few hundred members are read whole: any part matches.
        return Member.nickname.like(text + "%", escape="\\")
    return Member.nickname.ilike("%" + text + "%", escape="\\")


def filter_conditions(scope: Scope, flt: MemberFilter, *, nested: bool = True) -> list[ColumnElement[bool]]:
    """The conditions on Member that ``flt`` names. Named objects are looked up in the scope
    (a region or group outside it matches nothing); stores, guides, tags and tiers need no
    look-up: the scope's own condition already keeps other stores' members out."""
    conds: list[ColumnElement[bool]] = []
    if flt.q:
        conds.append(search_condition(flt.q, one_store=scope.store_id is not None or flt.store_id is not None))
    if flt.segment:
        conds.append(Member.segment == flt.segment)
    if flt.tag_id:
        conds.append(exists().where(member_tag_links.c.member_id == Member.id, member_tag_links.c.tag_id == flt.tag_id))
    if flt.tier_id:
        conds.append(Member.tier_id == flt.tier_id)
    if flt.store_id:
        conds.append(Member.store_id == flt.store_id)
    if flt.guide_id:
        conds.append(Member.guide_id == flt.guide_id)
    if flt.node_id:
        path = db.session.scalar(select(OrgNode.path).where(OrgNode.id == flt.node_id, scope.nodes()))
        conds.append(path_range(Member.path, path) if path else false())
    if flt.group_id and nested:
        group = db.session.scalar(select(MemberGroup).where(MemberGroup.id == flt.group_id,
                                                            scope.paths(MemberGroup.path)))
        conds.extend(group_conditions(scope, group) if group else [false()])
    return conds


def group_conditions(scope: Scope, group: MemberGroup) -> list[ColumnElement[bool]]:
    if group.kind == FIXED:
        return [Member.id.in_(select(member_group_members.c.member_id)
                              .where(member_group_members.c.group_id == group.id))]
    return filter_conditions(scope, MemberFilter.from_args(group.spec or {}), nested=False)


def filtered_members(scope: Scope, flt: MemberFilter) -> Select:
    return scoped_members(scope).where(*filter_conditions(scope, flt))


# --------------------------------------------------------------------------- audiences

def audience_members(scope: Scope, spec: dict) -> Select:
    """A SELECT of the ids of the members an audience reaches in ``scope``, for campaigns and
    live invitations to target. ``spec`` is one of ``{"group": id}`` (a group visible in the
    scope: its fixed list, or its saved filter resolved now), ``{"segment": "important_value"}``
    (an RFM segment) or ``{"filter": {...}}`` (the member list's query arguments, as
    ``MemberFilter.spec()``). Always re-filtered through the scope: active members only."""
    spec = spec or {}
    if "group" in spec:
        flt = MemberFilter(group_id=parse_id(spec["group"]) or -1)
        if flt.group_id == -1:
            return scoped_members(scope).where(false())
    elif "segment" in spec:
        if spec["segment"] not in SEGMENTS:
            return scoped_members(scope).where(false())
        flt = MemberFilter(segment=spec["segment"])
    else:
        flt = MemberFilter.from_args(spec.get("filter") or {})
    return filtered_members(scope, flt)


def reach(scope: Scope, spec: dict) -> int:
    """How many members the audience reaches now (exact)."""
    return db.session.scalar(select(func.count()).select_from(audience_members(scope, spec).subquery()))


def group_counts(scope: Scope, groups: list[MemberGroup]) -> dict[int, int]:
    """The reach of many groups in one statement (one scalar subquery per group)."""
    if not groups:
        return {}
    cols = [select(func.count()).select_from(filtered_members(scope, MemberFilter(group_id=g.id)).subquery())
            .scalar_subquery() for g in groups]
    return dict(zip([g.id for g in groups], db.session.execute(select(*cols)).one(), strict=True))


def segment_counts(scope: Scope) -> dict[str, int]:
    """Members per RFM segment in the scope, in one GROUP BY."""
    rows = db.session.execute(select(Member.segment, func.count()).where(
        scope.store_rows(Member.store_id, Member.path), Member.status == ACTIVE, Member.segment.is_not(None))
        .group_by(Member.segment)).all()
    found = dict(rows)
    return {s: found.get(s, 0) for s in SEGMENTS}


# --------------------------------------------------------------------------- the list

@dataclass(frozen=True, slots=True)
class MemberRow:
    id: int
    nickname: str
    phone_masked: str
    segment: str | None
    store: str | None
    guide: str | None
    tier: str | None
    created_at: object
    last_order_at: object
    tags: tuple[str, ...] = ()


@dataclass
class MemberPage:
    items: list[MemberRow]
    total: int              # at most COUNT_CAP + 1
    page: int
    per_page: int
    capped: bool = False
    pages: int = 1
    first: int = field(default=0)


def list_members(scope: Scope, flt: MemberFilter, per_page: int = PER_PAGE) -> MemberPage:
    """A page of the members matching ``flt`` in three statements: a capped count, the page's
    rows (with store, guide and tier), their tags."""
    ids = filtered_members(scope, flt)
    total = db.session.scalar(select(func.count()).select_from(ids.limit(COUNT_CAP + 1).subquery()))
    capped = total > COUNT_CAP
    pages = page_count(min(total, COUNT_CAP), per_page)
    page = min(flt.page, pages)
    order = SORTS[flt.sort]
    page_ids = ids.order_by(*order).limit(per_page).offset((page - 1) * per_page).subquery()
    rows = db.session.execute(
        select(Member.id, Member.nickname, Member.phone_masked, Member.segment, Store.name, Guide.name,
               MemberTier.name, Member.created_at, Member.last_order_at)
        .outerjoin(Store, Store.id == Member.store_id).outerjoin(Guide, Guide.id == Member.guide_id)
        .outerjoin(MemberTier, MemberTier.id == Member.tier_id)
        .where(Member.id.in_(select(page_ids.c.id))).order_by(*order)).all()
    tags = tags_of([r[0] for r in rows])
    items = [MemberRow(*r, tags=tuple(tags.get(r[0], ()))) for r in rows]
    return MemberPage(items=items, total=total, page=page, per_page=per_page, capped=capped, pages=pages,
                      first=(page - 1) * per_page + 1 if items else 0)


def tags_of(member_ids: list[int]) -> dict[int, list[str]]:
    if not member_ids:
        return {}
    out: dict[int, list[str]] = {}
    for member_id, name in db.session.execute(
            select(member_tag_links.c.member_id, MemberTag.name)
            .join(MemberTag, MemberTag.id == member_tag_links.c.tag_id)
            .where(member_tag_links.c.member_id.in_(member_ids)).order_by(MemberTag.name)):
        out.setdefault(member_id, []).append(name)
    return out


@dataclass
class FilterMenus:
    """What the list's filter selects offer in a scope."""

    tags: list = field(default_factory=list)
    tiers: list = field(default_factory=list)
    nodes: list = field(default_factory=list)         # regions and distributors (empty for owners)
    stores: list | None = None                        # None: too many, choose a region first
    guides: list = field(default_factory=list)        # of the chosen (or the owner's) store
    groups: list = field(default_factory=list)


def filter_menus(scope: Scope, flt: MemberFilter) -> FilterMenus:
    menus = FilterMenus(tags=all_tags(), tiers=all_tiers())
    menus.groups = list(db.session.execute(select(MemberGroup.id, MemberGroup.name).where(
        scope.paths(MemberGroup.path)).order_by(MemberGroup.name)).all())
    if scope.store_id is None:
        menus.nodes = list(db.session.execute(select(OrgNode.id, OrgNode.name, OrgNode.depth).where(
            scope.nodes(), OrgNode.kind.in_(("distributor", "region"))).order_by(OrgNode.path)).all())
        stores = select(Store.id, Store.code, Store.name).where(scope.stores())
        if flt.node_id:
            path = db.session.scalar(select(OrgNode.path).where(OrgNode.id == flt.node_id, scope.nodes()))
            stores = stores.where(path_range(Store.path, path)) if path else stores.where(false())
        found = db.session.execute(stores.order_by(Store.code).limit(STORE_SELECT_MAX + 1)).all()
        menus.stores = list(found) if len(found) <= STORE_SELECT_MAX else None
        if menus.stores is None and flt.store_id:
            menus.stores = list(db.session.execute(select(Store.id, Store.code, Store.name).where(
                scope.stores(), Store.id == flt.store_id)).all()) or None
    store_id = scope.store_id or flt.store_id
    if store_id:
        menus.guides = list(db.session.execute(select(Guide.id, Guide.name).join(Store, Store.id == Guide.store_id)
                                               .where(Guide.store_id == store_id, scope.stores())
                                               .order_by(Guide.name)).all())
    return menus


# --------------------------------------------------------------------------- one member

def get_member(scope: Scope, member_id: int) -> Member | None:
    """The member of that id in the scope, whatever its status (a merged one redirects)."""
    return db.session.scalar(select(Member).where(Member.id == member_id,
                                                  scope.store_rows(Member.store_id, Member.path)))


def survivor_of(member: Member) -> int | None:
    """The id a merged member now lives on (following a chain of merges)."""
    seen, current = set(), member
    while current is not None and current.merged_into_id and current.id not in seen:
        seen.add(current.id)
        current = db.session.get(Member, current.merged_into_id)
    return current.id if current is not None and current.id != member.id else None


def member_tag_ids(member: Member) -> list[int]:
    return list(db.session.scalars(select(member_tag_links.c.tag_id).where(member_tag_links.c.member_id == member.id)))


def set_member_tags(scope: Scope, member: Member, tag_ids: list[int], *, actor) -> None:
    """Make the member's tags exactly ``tag_ids`` (unknown tags ignored): two statements."""
    known = select(MemberTag.id).where(MemberTag.id.in_(tag_ids))
    db.session.execute(delete(member_tag_links).where(member_tag_links.c.member_id == member.id,
                                                      member_tag_links.c.tag_id.not_in(known)))
    db.session.execute(insert(member_tag_links).from_select(
        ["member_id", "tag_id"],
        select(literal(member.id), MemberTag.id).where(MemberTag.id.in_(tag_ids), ~exists().where(
            member_tag_links.c.member_id == member.id, member_tag_links.c.tag_id == MemberTag.id))))
    record(actor, "member.tag", "member", member.id, member.nickname or f"#{member.id}", member.path,
           {"tags": sorted(tag_ids)})
    db.session.flush()


# --------------------------------------------------------------------------- bulk actions

def selected_members(scope: Scope, raw_ids) -> Select:
    """The posted ids (``request.form.getlist``) re-filtered through the scope: one subquery."""
    return scoped_members(scope).where(Member.id.in_(parse_ids(raw_ids)[:PER_PAGE * 20]))


def bulk_tag(scope: Scope, raw_ids, tag_id, *, actor, remove: bool = False) -> int:
    """Add (or remove) a tag on the chosen members of the scope, in one statement."""
    tag = db.session.get(MemberTag, parse_id(tag_id) or 0) if parse_id(tag_id) else None
    if tag is None:
        raise RuleError(str(_l("Choose a tag.")), "tag")
    chosen = selected_members(scope, raw_ids)
    if remove:
        n = db.session.execute(delete(member_tag_links).where(
            member_tag_links.c.tag_id == tag.id, member_tag_links.c.member_id.in_(chosen))).rowcount
    else:
        n = db.session.execute(insert(member_tag_links).from_select(
            ["member_id", "tag_id"],
            chosen.add_columns(literal(tag.id)).where(~exists().where(
                member_tag_links.c.member_id == Member.id, member_tag_links.c.tag_id == tag.id)))).rowcount
    record(actor, "member.bulk_tag", "member_tag", tag.id, tag.name, scope.path or "",
           {"members": n, "removed": remove})
    db.session.flush()
    return n


def bulk_add_to_group(scope: Scope, raw_ids, group_id, *, actor) -> tuple[MemberGroup, int]:
    """Add the chosen members of the scope to a fixed group of the scope, in one statement."""
    group = get_group(scope, parse_id(group_id) or 0) if parse_id(group_id) else None
    if group is None or group.kind != FIXED:
        raise RuleError(str(_l("Choose a fixed group: a saved filter's members follow its conditions.")), "group")
    chosen = selected_members(scope, raw_ids)
    n = db.session.execute(insert(member_group_members).from_select(
        ["group_id", "member_id"],
        select(literal(group.id), Member.id).where(Member.id.in_(chosen), ~exists().where(
            member_group_members.c.group_id == group.id, member_group_members.c.member_id == Member.id)))).rowcount
    record(actor, "member_group.add", "member_group", group.id, group.name, group.path, {"members": n})
    db.session.flush()
    return group, n


def bulk_remove_from_group(scope: Scope, raw_ids, group_id, *, actor) -> tuple[MemberGroup, int]:
    group = get_group(scope, parse_id(group_id) or 0) if parse_id(group_id) else None
    if group is None or group.kind != FIXED:
        raise RuleError(str(_l("Choose a fixed group: a saved filter's members follow its conditions.")), "group")
    n = db.session.execute(delete(member_group_members).where(
        member_group_members.c.group_id == group.id,
        member_group_members.c.member_id.in_(selected_members(scope, raw_ids)))).rowcount
    record(actor, "member_group.remove", "member_group", group.id, group.name, group.path, {"members": n})
    db.session.flush()
    return group, n


# --------------------------------------------------------------------------- tags and tiers (HQ)

def all_tags() -> list[MemberTag]:
    return list(db.session.scalars(select(MemberTag).order_by(MemberTag.name)))


def tag_counts(scope: Scope) -> dict[int, int]:
    rows = db.session.execute(select(member_tag_links.c.tag_id, func.count()).join(
        Member, Member.id == member_tag_links.c.member_id).where(
        scope.store_rows(Member.store_id, Member.path), Member.status == ACTIVE).group_by(member_tag_links.c.tag_id))
    return dict(rows.all())


def create_tag(scope: Scope, name: str, *, actor) -> MemberTag:
    name = (name or "").strip()
    if not name or len(name) > 32:
        raise RuleError(str(_l("A tag has 1 to 32 characters.")), "name")
    if db.session.scalar(select(MemberTag.id).where(MemberTag.name == name)):
        raise RuleError(str(_l("The tag “%(name)s” exists already.", name=name)), "name")
    tag = MemberTag(name=name)
    db.session.add(tag)
    db.session.flush()
    record(actor, "member_tag.save", "member_tag", tag.id, tag.name, scope.path or "")
    return tag


def delete_tag(scope: Scope, tag: MemberTag, *, actor) -> None:
    db.session.execute(delete(member_tag_links).where(member_tag_links.c.tag_id == tag.id))
    record(actor, "member_tag.delete", "member_tag", tag.id, tag.name, scope.path or "")
    db.session.delete(tag)
    db.session.flush()


def all_tiers() -> list[MemberTier]:
    return list(db.session.scalars(select(MemberTier).order_by(MemberTier.rank, MemberTier.min_spent_fen)))


def save_tier(scope: Scope, name: str, rank: int, min_spent_fen: int, *, actor, tier: MemberTier | None = None
              ) -> MemberTier:
    clash = select(MemberTier.id).where(MemberTier.name == name)
    if tier is not None:
        clash = clash.where(MemberTier.id != tier.id)
    if db.session.scalar(clash):
        raise RuleError(str(_l("The tier “%(name)s” exists already.", name=name)), "name")
    tier = tier or MemberTier()
    tier.name, tier.rank, tier.min_spent_fen = name, rank, min_spent_fen
    db.session.add(tier)
    db.session.flush()
    record(actor, "member_tier.save", "member_tier", tier.id, tier.name, scope.path or "",
           {"rank": rank, "min_spent_fen": min_spent_fen})
    return tier


def delete_tier(scope: Scope, tier: MemberTier, *, actor) -> None:
    db.session.execute(Member.__table__.update().where(Member.tier_id == tier.id).values(tier_id=None))
    record(actor, "member_tier.delete", "member_tier", tier.id, tier.name, scope.path or "")
    db.session.delete(tier)
    db.session.flush()


def net_spend():
    """Each member's net spend (fen): their orders' paid − refunded, as a subquery (member_id,
    net). The orders sit above the members, so their table is read by name from the metadata, as
    ``members.refs`` reads the tables that point at members."""
    orders = db.metadata.tables["orders"]
    return (select(orders.c.member_id, func.sum(orders.c.paid_fen - orders.c.refunded_fen).label("net"))
            .group_by(orders.c.member_id).subquery("spend"))


def assign_tiers(spend=None, *, scope: Scope | None = None) -> int:
    """Give every active member (of ``scope``, or all) the best tier its net spend reaches (the
    highest threshold at or under it, the higher rank on a tie; none under the lowest), in one
    UPDATE … FROM the spend aggregated once (``spend``: a subquery (member_id, net), by default
    ``net_spend()``), writing only the members whose tier moves. With no tier defined it only
    takes the tiers members still hold. Returns how many members' tier changed. Run by the
    nightly RFM recompute and after HQ changes the tiers (``members.tasks.reassign_tiers``)."""
    conds = [Member.status == ACTIVE]
    if scope is not None:
        conds.append(scope.store_rows(Member.store_id, Member.path))
    members = Member.__table__
    if db.session.scalar(select(MemberTier.id).limit(1)) is None:
        n = db.session.execute(members.update().where(*conds, Member.tier_id.is_not(None))
                               .values(tier_id=None)).rowcount
        db.session.flush()
        return n
    spend = net_spend() if spend is None else spend
    best = (select(MemberTier.id).where(MemberTier.min_spent_fen <= func.coalesce(spend.c.net, 0))
            .order_by(MemberTier.min_spent_fen.desc(), MemberTier.rank.desc()).limit(1).scalar_subquery())
    target = (select(Member.id.label("member_id"), best.label("best")).select_from(Member)
              .outerjoin(spend, spend.c.member_id == Member.id).where(*conds).subquery("target"))
    n = db.session.execute(members.update().where(members.c.id == target.c.member_id,
                                                   members.c.tier_id.is_distinct_from(target.c.best))
                           .values(tier_id=target.c.best)).rowcount
    db.session.flush()
    return n


# --------------------------------------------------------------------------- groups

def scoped_groups(scope: Scope) -> list[MemberGroup]:
    return list(db.session.scalars(select(MemberGroup).where(scope.paths(MemberGroup.path))
                                   .order_by(MemberGroup.name, MemberGroup.id)))


def get_group(scope: Scope, group_id: int) -> MemberGroup | None:
    return db.session.scalar(select(MemberGroup).where(MemberGroup.id == group_id, scope.paths(MemberGroup.path)))


def save_group(scope: Scope, name: str, kind: str, flt: MemberFilter | None, *, actor,
               group: MemberGroup | None = None, member_ids=()) -> MemberGroup:
    """Create or edit a group owned by the scope's node. A saved filter keeps ``flt.spec()``; a
    fixed group may start with ``member_ids`` (re-filtered through the scope)."""
    if kind not in (FIXED, FILTER):
        raise RuleError(str(_l("Choose what the group is.")), "kind")
    if group is not None and group.kind != kind:
        raise RuleError(str(_l("A group stays what it was made as.")), "kind")
    spec = flt.spec() if (kind == FILTER and flt is not None) else {}
    if kind == FILTER and not spec:
        raise RuleError(str(_l("Choose at least one condition: a saved filter of everyone is every member.")),
                        "segment")
    group = group or MemberGroup(path=scope.path, created_by_id=actor.id if actor else None)
    group.name, group.kind, group.spec = name, kind, spec
    db.session.add(group)
    db.session.flush()
    if kind == FIXED and member_ids:
        bulk_add_to_group(scope, member_ids, group.id, actor=actor)
    record(actor, "member_group.save", "member_group", group.id, group.name, group.path, {"kind": kind, **spec})
    return group


def delete_group(scope: Scope, group: MemberGroup, *, actor) -> None:
    db.session.execute(delete(member_group_members).where(member_group_members.c.group_id == group.id))
    record(actor, "member_group.delete", "member_group", group.id, group.name, group.path)
    db.session.delete(group)
    db.session.flush()


def describe(flt: MemberFilter, menus: FilterMenus | None = None) -> list[str]:
    """The conditions of a filter in words, for a group's card (names looked up in one go each)."""
    parts = []
    if flt.q:
        parts.append(str(_l("“%(q)s”", q=flt.q)))
    if flt.segment:
        parts.append(str(SEGMENT_LABELS[flt.segment]))
    if flt.tag_id and (tag := db.session.get(MemberTag, flt.tag_id)):
        parts.append(str(_l("tag %(name)s", name=tag.name)))
    if flt.tier_id and (tier := db.session.get(MemberTier, flt.tier_id)):
        parts.append(str(_l("tier %(name)s", name=tier.name)))
    if flt.node_id and (node := db.session.get(OrgNode, flt.node_id)):
        parts.append(node.name)
    if flt.store_id and (store := db.session.get(Store, flt.store_id)):
        parts.append(store.name)
    if flt.guide_id and (guide := db.session.get(Guide, flt.guide_id)):
        parts.append(str(_l("guide %(name)s", name=guide.name)))
    return parts


__all__ = ["MemberFilter", "audience_members", "reach", "list_members", "filtered_members", "scoped_members",
           "assign_tiers", "net_spend", "SEGMENT_LABELS"]
