"""Targets: which stores an action reaches. One SQL query resolves any target."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

from flask_babel import gettext as _
from sqlalchemy import ColumnElement, Select, and_, false, func, not_, or_, select

from portal.extensions import db
from portal.org import roles
from portal.org.models import OrgNode, Store, Tag, store_tags
from portal.org.scope import Scope, path_range
from portal.org.services import RuleError
from portal.targets.models import Target


@dataclass
class TargetSpec:
    everything: bool = False                 # the actor's whole subtree
    node_ids: list[int] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    store_codes: list[str] = field(default_factory=list)
    exclude_codes: list[str] = field(default_factory=list)
    active_only: bool = True

    @classmethod
    def from_dict(cls, data: dict) -> "TargetSpec":
        return cls(
            everything=bool(data.get("everything")),
            node_ids=[int(i) for i in data.get("node_ids", []) if str(i).isdigit()],
            tags=[str(t)[:32] for t in data.get("tags", []) if str(t).strip()],
            store_codes=[str(c).strip().upper() for c in data.get("store_codes", []) if str(c).strip()],
            exclude_codes=[str(c).strip().upper() for c in data.get("exclude_codes", []) if str(c).strip()],
            active_only=bool(data.get("active_only", True)),
        )

    def to_dict(self) -> dict:
        return asdict(self)

    @property
    def is_empty(self) -> bool:
        return not (self.everything or self.node_ids or self.tags or self.store_codes)


def _node_paths(node_ids: list[int]) -> list[str]:
    if not node_ids:
        return []
    return list(db.session.scalars(select(OrgNode.path).where(OrgNode.id.in_(node_ids))))


def selection(spec: TargetSpec, scope: Scope, *, with_status: bool = True) -> ColumnElement[bool]:
    """The SQL condition on Store for what ``spec`` names, before the actor's scope is applied.

    "Everything" means the actor's subtree; named nodes, tags and codes may point anywhere —
    the caller decides whether stores outside the scope are dropped (previews) or recorded as
    skipped (pushes). ``with_status=False`` leaves the status to the caller too (a push records
    closed stores as skipped rather than leaving them out)."""
    parts: list[ColumnElement[bool]] = []
    if spec.everything:
        parts.append(scope.stores())
    parts += [path_range(Store.path, p) for p in _node_paths(spec.node_ids)]
    if spec.tags:
        parts.append(Store.id.in_(
            select(store_tags.c.store_id).join(Tag, Tag.id == store_tags.c.tag_id).where(Tag.name.in_(spec.tags))))
    if spec.store_codes:
        parts.append(func.upper(Store.code).in_([c.upper() for c in spec.store_codes]))
    cond = or_(*parts) if parts else false()
    if spec.exclude_codes:
        cond = and_(cond, not_(func.upper(Store.code).in_([c.upper() for c in spec.exclude_codes])))
    if with_status and spec.active_only:
        cond = and_(cond, Store.status == roles.STORE_ACTIVE)
    return cond


def resolve(scope: Scope, spec: TargetSpec) -> Select:
    """SELECT of the ids of the stores ``spec`` reaches inside the actor's scope."""
    return select(Store.id).where(selection(spec, scope), scope.stores())


def count(scope: Scope, spec: TargetSpec) -> int:
    return db.session.scalar(select(func.count()).select_from(resolve(scope, spec).subquery()))


def sample(scope: Scope, spec: TargetSpec, n: int = 8) -> list[Store]:
    return list(db.session.scalars(
        select(Store).where(selection(spec, scope), scope.stores()).order_by(Store.code).limit(n)))


def outside_scope(scope: Scope, spec: TargetSpec) -> int:
    """How many stores the spec names that the actor may not reach (they will be skipped)."""
    return db.session.scalar(select(func.count()).where(selection(spec, scope), not_(scope.stores())))


def unknown_codes(spec: TargetSpec) -> list[str]:
    codes = set(spec.store_codes) | set(spec.exclude_codes)
    if not codes:
        return []
    found = set(db.session.scalars(select(func.upper(Store.code)).where(func.upper(Store.code).in_(codes))))
    return sorted(codes - found)


def scoped_targets(scope: Scope) -> Select:
    return select(Target).where(scope.paths(Target.path)).order_by(Target.name)


def save_target(scope: Scope, name: str, spec: TargetSpec, *, actor, target: Target | None = None) -> Target:
    if spec.is_empty:
        raise RuleError(_("Choose at least one region, tag or store."), "everything")
    if target is None:
        target = Target(path=scope.path, created_by_id=actor.id, name=name, spec=spec.to_dict())
        db.session.add(target)
    else:
        target.name, target.spec = name, spec.to_dict()
    db.session.flush()
    return target


__all__ = ["TargetSpec", "selection", "resolve", "count", "sample", "outside_scope", "unknown_codes",
           "scoped_targets", "save_target"]
