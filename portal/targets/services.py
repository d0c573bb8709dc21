"""Targets: which stores an action reaches. One SQL query resolves any target.

A target is resolved inside the actor's scope only: a region, tag or store code outside it is
treated exactly like one that does not exist, so nothing built from a target (a preview, a
push's delivery rows) ever names a store the actor cannot see. Conditions of different kinds
combine with AND (a region and a tag reach the stores of that region with that tag); several
values of one kind with OR. Stores picked one by one (``store_ids``) and store-list filters
(``filters``, "all N matching" of the store picker) are added on top: a target reaches what
its kinds name OR a picked store OR a store a filter matches, minus the exclusions.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

from flask_babel import gettext as _
from sqlalchemy import ColumnElement, Select, and_, case, false, func, not_, or_, select, true

from portal.audit import services as audit
from portal.extensions import db
from portal.i18n import ngettext
from portal.kernel.errors import RuleError
from portal.kernel.ids import MAX_ID, parse_id
from portal.org import roles
from portal.org.models import OrgNode, Store, Tag, store_tags
from portal.org.scope import Scope, path_range
from portal.org.services import StoreFilter, filter_conditions
from portal.targets.models import Target

CODE_MAX, TAG_MAX = 32, 32  # the widths of stores.code and tags.name
FILTER_KEYS = ("q", "node", "status", "tag")   # what a saved store-list filter keeps (no sort, no page)
MAX_FILTERS = 20


def _list(value) -> list:
    return list(value) if isinstance(value, (list, tuple)) else []


def _texts(value, width: int, upper: bool = False) -> list[str]:
    out = []
    for v in _list(value):
        if isinstance(v, (str, int)) and not isinstance(v, bool):
            text = str(v).strip()
            if text:
                out.append((text.upper() if upper else text)[:width])
    return out


def clean_filter(value) -> dict | None:
    """A store-list filter as a target keeps it: ``{"q", "node", "status", "tag"}`` read by the
    store list's own rules (``StoreFilter.from_args``), or None when it names nothing (a filter
    of every store is the "everything" box, not a filter)."""
    if not isinstance(value, dict):
        return None
    flt = StoreFilter.from_args({k: str(value.get(k) or "") for k in FILTER_KEYS})
    out = {"q": flt.q, "node": flt.node_id, "status": flt.status, "tag": flt.tag}
    return out if any(out.values()) else None


def store_filter(data: dict) -> StoreFilter:
    return StoreFilter(q=data["q"], node_id=data["node"], status=data["status"], tag=data["tag"])


@dataclass
class TargetSpec:
    everything: bool = False                 # the actor's whole subtree
    node_ids: list[int] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    store_codes: list[str] = field(default_factory=list)
    exclude_codes: list[str] = field(default_factory=list)
    active_only: bool = True
    store_ids: list[int] = field(default_factory=list)      # picked one by one: added on top
    filters: list[dict] = field(default_factory=list)       # store-list filters: added on top

    @classmethod
    def from_dict(cls, data) -> TargetSpec:
        """Read a stored spec. Whatever an old row holds, this never fails: values that cannot
        be ids, tags or codes are dropped (so they reach nothing, like an unknown one)."""
        data = data if isinstance(data, dict) else {}
        return cls(
            everything=data.get("everything") is True,
            node_ids=[i for i in (parse_id(v) for v in _list(data.get("node_ids"))) if i is not None],
            tags=_texts(data.get("tags"), TAG_MAX),
            store_codes=_texts(data.get("store_codes"), CODE_MAX, upper=True),
            exclude_codes=_texts(data.get("exclude_codes"), CODE_MAX, upper=True),
            active_only=data.get("active_only", True) is not False,
            store_ids=list(dict.fromkeys(i for i in (parse_id(v) for v in _list(data.get("store_ids")))
                                         if i is not None)),
            filters=_filters(data.get("filters")),
        )

    def to_dict(self) -> dict:
        return asdict(self)

    @property
    def names_kinds(self) -> bool:
        """Whether the AND-ed kinds (everything, regions, tags, codes) name anything."""
        return bool(self.everything or self.node_ids or self.tags or self.store_codes)

    @property
    def is_empty(self) -> bool:
        return not (self.names_kinds or self.store_ids or self.filters)

    @property
    def filter_node_ids(self) -> list[int]:
        return [f["node"] for f in self.filters if f["node"]]


def _filters(value) -> list[dict]:
    out: list[dict] = []
    for v in _list(value):
        f = clean_filter(v)
        if f is not None and f not in out:
            out.append(f)
    return out[:MAX_FILTERS]


# --------------------------------------------------------------------------- what may be named

def known_nodes(scope: Scope, node_ids: list[int]) -> dict[int, OrgNode]:
    """The regions and distributors among ``node_ids`` that lie inside the scope."""
    ids = [i for i in node_ids if parse_id(i) is not None]
    if not ids:
        return {}
    return {n.id: n for n in db.session.scalars(
        select(OrgNode).where(OrgNode.id.in_(ids), OrgNode.kind.in_((roles.DISTRIBUTOR, roles.REGION)),
                              scope.nodes()))}


def unknown_nodes(scope: Scope, node_ids: list[int]) -> list[int]:
    known = known_nodes(scope, node_ids)
    return [i for i in node_ids if i not in known]


def unknown_tags(scope: Scope, tags: list[str]) -> list[str]:
    """Tags no store in the scope carries (a tag only other stores have is as unknown as one
    nobody has)."""
    if not tags:
        return []
    carried = (select(store_tags.c.store_id).join(Store, Store.id == store_tags.c.store_id)
               .where(store_tags.c.tag_id == Tag.id, scope.stores()))
    found = set(db.session.scalars(select(Tag.name).where(Tag.name.in_(tags), carried.exists())))
    return [t for t in dict.fromkeys(tags) if t not in found]


def unknown_codes(scope: Scope, codes: list[str]) -> list[str]:
    """Codes of no store in the scope: a code of another part of the tree is as unknown as a
    code nobody uses, and the answer is the same for both."""
    codes = sorted({c.upper() for c in codes})
    if not codes:
        return []
    found = set(db.session.scalars(
        select(func.upper(Store.code)).where(func.upper(Store.code).in_(codes), scope.stores())))
    return [c for c in codes if c not in found]


def unknown_store_ids(scope: Scope, ids: list[int]) -> list[int]:
    """Ids of no store in the scope (another part of the tree's stores included)."""
    ids = [i for i in dict.fromkeys(ids) if parse_id(i) is not None]
    if not ids:
        return []
    found = set(db.session.scalars(select(Store.id).where(Store.id.in_(ids), scope.stores())))
    return [i for i in ids if i not in found]


def picked_stores(scope: Scope, ids: list[int], limit: int = 500) -> list[Store]:
    """The picked stores the scope holds, for their chips (in code order)."""
    if not ids:
        return []
    return list(db.session.scalars(
        select(Store).where(Store.id.in_(ids), scope.stores()).order_by(Store.code).limit(limit)))


def check_spec(scope: Scope, spec: TargetSpec) -> None:
    """Refuse a spec naming anything the scope does not hold; ``RuleError.field`` is the form
    field at fault."""
    if spec.is_empty:
        raise RuleError(_("Choose at least one region, tag or store."), "everything")
    if bad := unknown_nodes(scope, spec.node_ids):
        raise RuleError(unknown_message("node_ids", bad), "node_ids")
    if bad := unknown_tags(scope, spec.tags):
        raise RuleError(unknown_message("tags", bad), "tags")
    for name in ("store_codes", "exclude_codes"):
        if bad := unknown_codes(scope, getattr(spec, name)):
            raise RuleError(unknown_message(name, bad), name)
    if unknown_store_ids(scope, spec.store_ids):
        raise RuleError(unknown_message("store_ids", []), "store_ids")
    if unknown_nodes(scope, spec.filter_node_ids):
        raise RuleError(unknown_message("filters", []), "filters")


def unknown_message(field_name: str, values: list) -> str:
    shown = "、".join(str(v) for v in values[:10]) + ("…" if len(values) > 10 else "")
    if field_name == "node_ids":
        return _("Unknown region or distributor: %(ids)s", ids=shown)
    if field_name == "tags":
        return _("Unknown tags: %(tags)s", tags=shown)
    if field_name == "store_ids":
        return _("Some of the chosen stores are not in your part of the organization. Remove them and choose again.")
    if field_name == "filters":
        return _("A chosen filter names a region outside your part of the organization.")
    return _("Unknown store codes: %(codes)s", codes=shown)


# --------------------------------------------------------------------------- resolving

def _code_in(codes: list[str]) -> ColumnElement[bool]:
    return func.upper(Store.code).in_([c.upper() for c in codes])


def conditions(spec: TargetSpec, scope: Scope,
               nodes: dict[int, OrgNode] | None = None) -> dict[str, ColumnElement[bool]]:
    """One condition on Store per kind the spec names (values of one kind OR-ed). A value
    outside the scope matches nothing, exactly like one that does not exist. ``nodes``: the
    scope's known nodes already loaded (``known_nodes``) for many specs at once."""
    parts: dict[str, ColumnElement[bool]] = {}
    if spec.node_ids:
        if nodes is None:
            nodes = known_nodes(scope, spec.node_ids)
        paths = [nodes[i].path for i in spec.node_ids if i in nodes]
        parts["node_ids"] = or_(*[path_range(Store.path, p) for p in paths]) if paths else false()
    if spec.tags:
        parts["tags"] = Store.id.in_(
            select(store_tags.c.store_id).join(Tag, Tag.id == store_tags.c.tag_id).where(Tag.name.in_(spec.tags)))
    if spec.store_codes:
        parts["store_codes"] = _code_in(spec.store_codes)
    return parts


def additions(spec: TargetSpec, scope: Scope,
              nodes: dict[int, OrgNode] | None = None) -> dict[str, ColumnElement[bool]]:
    """The conditions added on top of the kinds: the picked stores, and each filter (its region
    looked up in the scope: one outside it matches nothing)."""
    parts: dict[str, ColumnElement[bool]] = {}
    if spec.store_ids:
        parts["store_ids"] = Store.id.in_(spec.store_ids)
    if spec.filters:
        if nodes is None:
            nodes = known_nodes(scope, spec.filter_node_ids)
        parts["filters"] = or_(*[
            and_(true(), *filter_conditions(store_filter(f), nodes[f["node"]].path if f["node"] in nodes else None))
            for f in spec.filters])
    return parts


def named(spec: TargetSpec, scope: Scope, nodes: dict[int, OrgNode] | None = None,
          parts: dict[str, ColumnElement[bool]] | None = None) -> ColumnElement[bool]:
    """What the spec names inside the scope, before exclusions and status: the AND of its kinds,
    OR any store added on top."""
    parts = conditions(spec, scope, nodes) if parts is None else parts
    base = and_(true(), *parts.values()) if spec.names_kinds else false()
    added = additions(spec, scope, nodes)
    return and_(scope.stores(), or_(base, *added.values()) if added else base)


def status_condition(spec: TargetSpec) -> ColumnElement[bool]:
    """Stores a push will deliver to: never closed ones; open ones only when asked."""
    if spec.active_only:
        return Store.status == roles.STORE_ACTIVE
    return Store.status != roles.STORE_CLOSED


def selection(spec: TargetSpec, scope: Scope, *, with_status: bool = True,
              nodes: dict[int, OrgNode] | None = None) -> ColumnElement[bool]:
    """The SQL condition on Store for the stores ``spec`` reaches inside ``scope``: the scope
    AND every kind named AND NOT the exclusions. ``with_status=False`` leaves the status to the
    caller (a push records closed and suspended stores as skipped rather than leaving them out)."""
    if spec.is_empty:
        return false()
    cond = named(spec, scope, nodes)
    if spec.exclude_codes:
        cond = and_(cond, not_(_code_in(spec.exclude_codes)))
    if with_status:
        cond = and_(cond, status_condition(spec))
    return cond


def resolve(scope: Scope, spec: TargetSpec) -> Select:
    """SELECT of the ids of the stores ``spec`` reaches inside the actor's scope."""
    return select(Store.id).where(selection(spec, scope))


def _count(cond: ColumnElement[bool]) -> int:
    return db.session.scalar(select(func.count()).select_from(Store).where(cond))


def count(scope: Scope, spec: TargetSpec) -> int:
    """What a push with this target will deliver to (closed stores are never counted)."""
    return _count(selection(spec, scope))


def counts(scope: Scope, specs: dict[int, TargetSpec]) -> dict[int, int]:
    """``count`` of many specs (the saved targets list) in two statements, whatever their number:
    the nodes they name, then one pass over the scope's stores counting each spec's selection."""
    if not specs:
        return {}
    nodes = known_nodes(scope, [i for spec in specs.values() for i in spec.node_ids + spec.filter_node_ids])
    keys = list(specs)
    row = db.session.execute(
        select(*[func.count(case((selection(specs[k], scope, nodes=nodes), 1))) for k in keys])
        .select_from(Store).where(scope.stores())).one()
    return dict(zip(keys, row, strict=True))


def sample(scope: Scope, spec: TargetSpec, n: int = 8) -> list[Store]:
    return list(db.session.scalars(select(Store).where(selection(spec, scope)).order_by(Store.code).limit(n)))


@dataclass
class Part:
    """One kind of condition of a target, with what it alone reaches."""

    field: str
    values: list[str]
    count: int


@dataclass
class Reach:
    count: int = 0
    sample: list[Store] = field(default_factory=list)
    parts: list[Part] = field(default_factory=list)
    excluded: int = 0        # stores the kinds name that the exclusions take out
    closed: int = 0          # named stores that are closed: a push skips them
    suspended: int = 0       # named suspended stores, skipped when only open stores are asked for
    empty: bool = True


def reach(scope: Scope, spec: TargetSpec) -> Reach:
    """The preview of a target: the total, and how each kind of condition contributes."""
    if spec.is_empty:
        return Reach()
    status = status_condition(spec)
    nodes = known_nodes(scope, spec.node_ids + spec.filter_node_ids)
    parts = conditions(spec, scope, nodes)
    values = {"node_ids": [nodes[i].name for i in spec.node_ids if i in nodes],
              "tags": spec.tags, "store_codes": spec.store_codes,
              "store_ids": [], "filters": [filter_label(f, nodes) for f in spec.filters]}
    breakdown = [Part(name, values[name], _count(and_(scope.stores(), cond, status)))
                 for name, cond in (parts | additions(spec, scope, nodes)).items()]
    everything = named(spec, scope, nodes, parts)
    kept = and_(everything, not_(_code_in(spec.exclude_codes))) if spec.exclude_codes else everything
    by_status = dict(db.session.execute(
        select(Store.status, func.count()).where(kept).group_by(Store.status)).all())
    excluded = _count(and_(everything, status, _code_in(spec.exclude_codes))) if spec.exclude_codes else 0
    # What the push delivers (``count``), read off the same per-status counts: open stores, and
    # suspended ones unless only open stores are asked for.
    delivered = by_status.get(roles.STORE_ACTIVE, 0) + (
        0 if spec.active_only else by_status.get(roles.STORE_SUSPENDED, 0))
    return Reach(count=delivered, sample=sample(scope, spec), parts=breakdown, excluded=excluded,
                 closed=by_status.get(roles.STORE_CLOSED, 0),
                 suspended=by_status.get(roles.STORE_SUSPENDED, 0) if spec.active_only else 0, empty=False)


# --------------------------------------------------------------------------- describing

def describe(scope: Scope, spec: TargetSpec) -> str:
    """The target as people name it, in the reader's language (see ``description`` and
    ``render_description``)."""
    return render_description(description(scope, spec))


def description(scope: Scope, spec: TargetSpec) -> dict:
    """What a push's history keeps of its target, in no language: the names of the regions and
    distributors it names (up to two; else how many of each), its tags and store codes (up to
    two; else how many), how many codes it excludes. ``render_description`` turns it into
    "全部门店", "上海区、江苏区", "3 个区域", "上海区 · 标签 旗舰店", "12 家门店" for the reader. One
    statement (the names of the nodes it names), none when it names no node."""
    out: dict = {}
    if spec.everything:
        out["everything"] = True
    named_ids = spec.node_ids + [f["node"] for f in spec.filters if f["node"]]
    nodes = known_nodes(scope, named_ids) if named_ids else {}
    if spec.node_ids:
        named = [nodes[i] for i in dict.fromkeys(spec.node_ids) if i in nodes]
        if len(named) <= 2:
            out["nodes"] = [n.name for n in named]
        else:
            out["regions"] = sum(1 for n in named if n.kind == roles.REGION)
            out["distributors"] = len(named) - out["regions"]
    for name in ("tags", "store_codes"):
        values = list(dict.fromkeys(getattr(spec, name)))
        if values:
            out[name] = values if len(values) <= 2 else len(values)
    # Stores picked one by one and saved store-list searches come on top of the rest.
    if spec.filters:
        out["filters"] = [{"q": f["q"], "status": f["status"], "tag": f["tag"],
                           "node": nodes[f["node"]].name if f["node"] in nodes else None}
                          for f in spec.filters]
    if spec.store_ids:
        out["picked"] = len(spec.store_ids)
    if spec.exclude_codes:
        out["excluded"] = len(set(spec.exclude_codes))
    return out


def _count_of(value) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def render_description(parts) -> str:
    """A stored ``description`` in the reader's language; kinds joined by " · " (they narrow each
    other: a region and a tag reach that region's stores with the tag), exclusions last. Never
    fails on an odd stored value: what it cannot read it leaves out."""
    parts = parts if isinstance(parts, dict) else {}
    texts: list[str] = []
    if parts.get("everything") is True:
        texts.append(_("All stores"))
    if "nodes" in parts:
        names = [str(v) for v in parts["nodes"]] if isinstance(parts["nodes"], list) else []
        texts.append("、".join(names) or _("no region"))
    if n := _count_of(parts.get("regions")):
        texts.append(ngettext("%(num)s region", "%(num)s regions", n))
    if n := _count_of(parts.get("distributors")):
        texts.append(ngettext("%(num)s distributor", "%(num)s distributors", n))
    tags, codes = parts.get("tags"), parts.get("store_codes")
    if isinstance(tags, list):
        texts.append(_("tag %(tags)s", tags="、".join(str(t) for t in tags)))
    elif n := _count_of(tags):
        texts.append(ngettext("%(num)s tag", "%(num)s tags", n))
    if isinstance(codes, list):
        texts.append("、".join(str(c) for c in codes))
    elif n := _count_of(codes):
        texts.append(ngettext("%(num)s store", "%(num)s stores", n))
    text = " · ".join(texts)
    extra = [_filter_text(f) for f in parts.get("filters") or [] if isinstance(f, dict)]
    if n := _count_of(parts.get("picked")):
        extra.append(ngettext("%(num)s picked store", "%(num)s picked stores", n))
    if extra:
        text = " + ".join(([text] if text else []) + extra)
    if n := _count_of(parts.get("excluded")):
        text = _("%(target)s, excluding %(stores)s", target=text,
                 stores=ngettext("%(num)s store", "%(num)s stores", n))
    return text


def _filter_text(data: dict) -> str:
    statuses = {roles.STORE_ACTIVE: _("Active"), roles.STORE_SUSPENDED: _("Suspended"), roles.STORE_CLOSED: _("Closed")}
    bits = [f"“{data['q']}”" if data.get("q") else "", str(data.get("node") or ""),
            statuses.get(data.get("status"), ""), str(data.get("tag") or "")]
    return " · ".join(b for b in bits if b)


def filter_label(data: dict, nodes: dict[int, OrgNode]) -> str:
    """A saved filter as people read it: "“上海” · 华东一区 · 营业中 · 旗舰店"."""
    node = (nodes[data["node"]].name if data["node"] in nodes else _("an unknown region")) if data["node"] else None
    return _filter_text({**data, "node": node})


# --------------------------------------------------------------------------- saved targets

def scoped_targets(scope: Scope) -> Select:
    return select(Target).where(scope.paths(Target.path)).order_by(Target.name)


def save_target(scope: Scope, name: str, spec: TargetSpec, *, actor, target: Target | None = None) -> Target:
    check_spec(scope, spec)
    if target is None:
        target = Target(path=scope.path, created_by_id=actor.id, name=name, spec=spec.to_dict())
        db.session.add(target)
    else:
        target.name, target.spec = name, spec.to_dict()
    db.session.flush()
    audit.record(actor, "target.save", "target", target.id, target.name, scope.path, target.spec)
    return target


def delete_target(scope: Scope, target: Target, *, actor) -> None:
    audit.record(actor, "target.delete", "target", target.id, target.name, scope.path)
    db.session.delete(target)
    db.session.flush()


__all__ = ["TargetSpec", "MAX_ID", "parse_id", "selection", "resolve", "count", "counts", "sample", "reach", "Reach",
           "describe", "description", "render_description", "known_nodes", "unknown_nodes", "unknown_store_ids",
           "picked_stores", "clean_filter", "filter_label", "unknown_tags", "unknown_codes", "check_spec",
           "unknown_message",
           "scoped_targets", "save_target", "delete_target"]
