"""Rules and queries of the org domain. Every function takes the acting scope first."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import NamedTuple

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import (
    ColumnElement,
    Select,
    case,
    delete,
    func,
    insert,
    literal,
    null,
    or_,
    select,
    text,
    union_all,
    update,
)
from sqlalchemy.orm import contains_eager
from werkzeug.security import generate_password_hash

from portal.audit import services as audit
from portal.extensions import db
from portal.kernel import cache
from portal.kernel.errors import Conflict, RuleError
from portal.kernel.ids import parse_id, parse_ids, parse_page
from portal.kernel.paging import Page, paginate  # noqa: F401  (Page: what list_stores returns)
from portal.kernel.time import utcnow
from portal.org import paths, roles
from portal.org.models import OrgNode, Store, Tag, User, store_tags
from portal.org.scope import Scope, path_range

# --------------------------------------------------------------------------- the tree

def scoped_nodes(scope: Scope, *kinds: str) -> list[OrgNode]:
    stmt = select(OrgNode).where(scope.nodes()).order_by(OrgNode.path)
    if kinds:
        stmt = stmt.where(OrgNode.kind.in_(kinds))
    return list(db.session.scalars(stmt))


def _parent_choices(scope: Scope) -> Select:
    return (select(OrgNode.id, OrgNode.kind, OrgNode.code, OrgNode.name, OrgNode.depth)
            .where(scope.nodes(), or_(OrgNode.kind == roles.DISTRIBUTOR, OrgNode.kind == roles.REGION)))


def store_parent_choices(scope: Scope) -> list:
    """Nodes a store may hang under: regions, or a distributor directly, as rows of what a
    choice shows (id, kind, code, name, depth)."""
    return list(db.session.execute(_parent_choices(scope).order_by(OrgNode.path)))


class MenuNode(NamedTuple):
    id: int
    kind: str
    code: str
    name: str
    depth: int


# The store list's filter menus change only with the org tree and the stores' tags; every store
# list page shows them, so they are cached per scope until one of these tables is written.
FILTER_MENUS = cache.topic("store-filter-menus", "org_nodes", "stores", "tags", "store_tags")


def store_filter_menus(scope: Scope) -> tuple[list[MenuNode], list[str]]:
    """The store list's two filter menus, the nodes a store may hang under (as
    ``store_parent_choices``) and the tags in use (as ``all_tags``): read in ONE statement (a
    second round trip cost more than either), and cached until the org tree or a tag changes."""
    return cache.remember(FILTER_MENUS, f"{scope.path}|{scope.store_id}", lambda: _read_filter_menus(scope))


def _read_filter_menus(scope: Scope) -> tuple[list[MenuNode], list[str]]:
    nodes = _parent_choices(scope).add_columns(literal(0).label("section"), OrgNode.path.label("sort"))
    tags = select(null(), literal("tag"), null(), Tag.name, null(), literal(1), Tag.name).where(_tag_used(scope))
    rows = db.session.execute(union_all(nodes, tags).order_by(text("section"), text("sort"))).all()
    return ([MenuNode(r.id, r.kind, r.code, r.name, r.depth) for r in rows if r.section == 0],
            [r.name for r in rows if r.section == 1])


def _by_status() -> dict[str, int]:
    return {s: 0 for s in roles.STORE_STATUSES}


@dataclass
class TreeNode:
    node: OrgNode
    children: list[TreeNode] = field(default_factory=list)
    direct: dict[str, int] = field(default_factory=_by_status)    # stores hanging right here
    by_status: dict[str, int] = field(default_factory=_by_status)  # the whole subtree

    @property
    def total_stores(self) -> int:
        return sum(self.by_status.values())


def build_tree(scope: Scope) -> TreeNode | None:
    """The visible subtree with store counts per status, in two queries."""
    nodes = scoped_nodes(scope)
    if not nodes:
        return None
    by_id = {n.id: TreeNode(n) for n in nodes}
    for node_id, status, n in db.session.execute(
        select(Store.node_id, Store.status, func.count()).where(scope.stores()).group_by(Store.node_id, Store.status)
    ):
        if node_id in by_id:
            by_id[node_id].direct[status] = n
    root = by_id[nodes[0].id]
    for n in nodes[1:]:
        parent = by_id.get(n.parent_id)
        if parent is not None:
            parent.children.append(by_id[n.id])
    for tn in sorted(by_id.values(), key=lambda t: -t.node.depth):
        for s in roles.STORE_STATUSES:
            tn.by_status[s] = tn.direct[s] + sum(c.by_status[s] for c in tn.children)
        tn.children.sort(key=lambda c: c.node.code)
    return root


def status_by_city(scope: Scope, limit: int = 10) -> list[tuple[str, dict[str, int]]]:
    """Store counts per status for the biggest cities in scope."""
    cities: dict[str, dict[str, int]] = {}
    for city, status, n in db.session.execute(
        select(Store.city, Store.status, func.count()).where(scope.stores()).group_by(Store.city, Store.status)
    ):
        cities.setdefault(city, _by_status())[status] = n
    return sorted(cities.items(), key=lambda kv: -sum(kv[1].values()))[:limit]


def _check_code(code: str, model, field_name: str = "code", exclude_id: int | None = None) -> None:
    stmt = select(model.id).where(func.lower(model.code) == code.lower())
    if exclude_id is not None:
        stmt = stmt.where(model.id != exclude_id)
    if db.session.scalar(stmt) is not None:
        raise RuleError(_("This code is already in use."), field_name)


def create_node(scope: Scope, parent: OrgNode, kind: str, code: str, name: str, *,
                actor: User) -> OrgNode:
    if roles.PARENT_KIND.get(kind) != parent.kind:
        raise RuleError(_("A %(kind)s cannot be placed under this node.", kind=kind_label(kind)),
                        "parent_id")
    if not scope.covers_path(parent.path):
        raise RuleError(_("You can only add nodes inside your own part of the organization."),
                        "parent_id")
    _check_code(code, OrgNode)
    node = OrgNode(parent_id=parent.id, kind=kind, code=code, name=name, path="", depth=parent.depth + 1)
    db.session.add(node)
    db.session.flush()
    node.path = f"{parent.path}{node.id}/"
    audit.record(actor, "node.create", "node", node.id, f"{name} ({code})", node.path,
                 {"kind": kind, "parent": parent.code})
    return node


def rename_node(scope: Scope, node: OrgNode, name: str, *, actor: User) -> None:
    old = node.name
    if old == name:
        return
    node.name = name
    db.session.flush()
    audit.record(actor, "node.rename", "node", node.id, f"{name} ({node.code})", node.path,
                 {"name": [old, name]})


def move_node(scope: Scope, node: OrgNode, new_parent: OrgNode, *, actor: User) -> int:
    """Re-hang ``node`` (and everything under it) below ``new_parent``. Returns stores moved."""
    if node.path == scope.path:
        raise RuleError(_("You cannot move the node you are bound to."), "parent_id")
    if not scope.covers_path(new_parent.path):
        raise RuleError(_("The new parent is outside your part of the organization."), "parent_id")
    if new_parent.path.startswith(node.path):
        raise RuleError(_("A node cannot be moved under itself."), "parent_id")
    if roles.PARENT_KIND.get(node.kind) != new_parent.kind:
        raise RuleError(_("A %(kind)s cannot be placed under this node.", kind=kind_label(node.kind)),
                        "parent_id")
    if node.parent_id == new_parent.id:
        return 0
    old_path, new_path = node.path, f"{new_parent.path}{node.id}/"
    depth_shift = new_parent.depth + 1 - node.depth
    cut = len(old_path) + 1
    # One set-based statement per table of the registry: every path under the old prefix gets
    # the new one (see portal/org/paths.py for which tables, and why each moves).
    for entry in paths.registered(paths.MOVES):
        table = db.metadata.tables[entry.table]
        col = table.c[entry.column]
        extra = {"depth": table.c.depth + depth_shift} if table.name == OrgNode.__tablename__ else {}
        db.session.execute(
            update(table)
            .where(path_range(col, old_path))
            .values({col: literal(new_path) + func.substr(col, cut), **extra})
        )
    old_parent = db.session.get(OrgNode, node.parent_id)
    db.session.execute(update(OrgNode).where(OrgNode.id == node.id).values(parent_id=new_parent.id))
    db.session.expire_all()
    moved = db.session.scalar(select(func.count()).where(path_range(Store.path, new_path)))
    node = db.session.get(OrgNode, node.id)
    audit.record(actor, "node.move", "node", node.id, f"{node.name} ({node.code})", node.path,
                 {"from": old_parent.code if old_parent else None, "to": new_parent.code,
                  "stores": moved})
    return moved


def follow_stores(store_ids) -> None:
    """Rows owned by one store (a store's local goods …) take the store's current path: call it
    after re-hanging stores under another node. ``store_ids`` is a list or a SELECT of ids; one
    UPDATE per registered table, whatever the number of stores."""
    for entry in paths.registered(paths.MOVES):
        if entry.store_column is None:
            continue
        table = db.metadata.tables[entry.table]
        owner = table.c[entry.store_column]
        db.session.execute(
            update(table)
            .where(owner.in_(store_ids))
            .values({table.c[entry.column]: select(Store.path).where(Store.id == owner).scalar_subquery()})
        )


def kind_label(kind: str) -> str:
    return {roles.HQ: _("HQ"), roles.DISTRIBUTOR: _("distributor"), roles.REGION: _("region")}[kind]


# --------------------------------------------------------------------------- stores

SORTS = {
    "code": Store.code,
    "name": Store.name,
    "city": Store.city,
    "status": Store.status,
    "region": OrgNode.name,
    "created": Store.created_at,
}


@dataclass
class StoreFilter:
    q: str = ""
    node_id: int | None = None
    status: str = ""
    tag: str = ""
    sort: str = "code"
    desc: bool = False
    page: int = 1

    @classmethod
    def from_args(cls, args) -> StoreFilter:
        sort = args.get("sort", "code")
        status = args.get("status", "")
        page = parse_page(args.get("page"))
        node_id = parse_id(args.get("node"))
        return cls(
            q=args.get("q", "").strip()[:100],
            node_id=node_id,
            status=status if status in roles.STORE_STATUSES else "",
            tag=args.get("tag", "").strip()[:32],
            sort=sort if sort in SORTS else "code",
            desc=args.get("dir") == "desc",
            page=page,
        )

    def args(self, **changes) -> dict:
        """Query arguments for a link to this filter with ``changes`` applied."""
        values = {"q": self.q, "node": self.node_id or "", "status": self.status, "tag": self.tag,
                  "sort": self.sort, "dir": "desc" if self.desc else "", "page": self.page}
        values.update(changes)
        return {k: v for k, v in values.items() if v not in ("", None) and not (k == "page" and v == 1)}


def filtered_stores(scope: Scope, flt: StoreFilter) -> Select:
    """Stores in scope matching ``flt``: a SELECT of Store rows with no join, so that counting
    and listing ids is answered from the stores table and its indexes alone."""
    node = None
    if flt.node_id:
        node = db.session.scalar(select(OrgNode).where(OrgNode.id == flt.node_id, scope.nodes()))
    return select(Store).where(scope.stores(), *filter_conditions(flt, node.path if node else None))


def filter_conditions(flt: StoreFilter, node_path: str | None) -> list[ColumnElement[bool]]:
    """The conditions on Store that ``flt`` names (its sort and page aside). ``node_path``: the
    path of ``flt.node_id`` looked up in the scope, None when it names no node there (then
    nothing matches). A saved target's filter (``portal.targets``) is resolved by the same rules."""
    conds: list[ColumnElement[bool]] = []
    if flt.q:
        like = f"%{flt.q}%"
        conds.append(or_(Store.name.like(like), Store.code.ilike(like), Store.city.like(like)))
    if flt.node_id:
        conds.append(path_range(Store.path, node_path) if node_path else Store.id.is_(None))
    if flt.status:
        conds.append(Store.status == flt.status)
    if flt.tag:
        conds.append(Store.id.in_(
            select(store_tags.c.store_id).join(Tag, Tag.id == store_tags.c.tag_id).where(Tag.name == flt.tag)
        ))
    return conds


@dataclass(frozen=True, slots=True)
class StoreRow:
    """A store as the list shows it: plain values, not an ORM object (building 50 ORM stores
    with their node and tags cost more than counting and paging 10,000 rows)."""
    id: int
    code: str
    name: str
    city: str
    status: str
    region: str                 # the name of the node the store hangs under
    tags: tuple[str, ...]       # by name


def list_stores(scope: Scope, flt: StoreFilter, per_page: int | None = None) -> Page:
    """A page of the stores matching ``flt``, in two statements: the count, then the page."""
    per_page = per_page or current_app.config["STORES_PER_PAGE"]
    ids = filtered_stores(scope, flt).with_only_columns(Store.id)
    col = SORTS[flt.sort]
    order = (col.desc() if flt.desc else col.asc(), Store.id)
    if flt.sort == "region":
        ids = ids.join(OrgNode, Store.node_id == OrgNode.id)
    # Sort and skip over ids only (ordering 10,000 ids costs a fraction of ordering 10,000 whole
    # stores joined to their node), and read the page's 50 stores with their region and tags
    # around that, in the same statement: a store with several tags comes once per tag.
    def load(page_ids) -> list[StoreRow]:
        found: dict[int, tuple] = {}
        tags: dict[int, list[str]] = {}
        for store_id, code, name, city, status, region, tag in db.session.execute(
                select(Store.id, Store.code, Store.name, Store.city, Store.status, OrgNode.name, Tag.name)
                .join(OrgNode, Store.node_id == OrgNode.id)
                .outerjoin(store_tags, store_tags.c.store_id == Store.id)
                .outerjoin(Tag, Tag.id == store_tags.c.tag_id)
                .where(Store.id.in_(page_ids.correlate(None))).order_by(*order, Tag.name)):
            found.setdefault(store_id, (store_id, code, name, city, status, region))
            names = tags.setdefault(store_id, [])
            if tag is not None:
                names.append(tag)
        return [StoreRow(*values, tuple(tags[store_id])) for store_id, values in found.items()]

    return paginate(ids.order_by(*order), flt.page, per_page, clamp=True, load=load)


TAG_SPLIT = re.compile(r"[,，;；、\s]+")


def parse_tags(text: str) -> list[str]:
    seen: dict[str, None] = {}
    for part in TAG_SPLIT.split(text or ""):
        if part:
            seen.setdefault(part, None)
    return list(seen)


def ensure_tags(names: set[str]) -> dict[str, int]:
    """Tag ids by name, creating the missing ones in one statement."""
    if not names:
        return {}
    existing = dict(db.session.execute(select(Tag.name, Tag.id).where(Tag.name.in_(names))).all())
    missing = [{"name": n} for n in names if n not in existing]
    if missing:
        db.session.execute(insert(Tag), missing)
        existing = dict(db.session.execute(select(Tag.name, Tag.id).where(Tag.name.in_(names))).all())
    return existing


def set_store_tags(store_tag_names: dict[int, list[str]]) -> None:
    """Replace the tags of the given stores, set-based."""
    if not store_tag_names:
        return
    ids = ensure_tags({n for names in store_tag_names.values() for n in names})
    db.session.execute(delete(store_tags).where(store_tags.c.store_id.in_(list(store_tag_names))))
    rows = [{"store_id": sid, "tag_id": ids[n]} for sid, names in store_tag_names.items() for n in names]
    if rows:
        db.session.execute(insert(store_tags), rows)


STORE_FIELDS = ("code", "name", "city", "address", "status", "appid", "owner_name", "owner_phone")


def _check_store_parent(scope: Scope, node: OrgNode) -> None:
    if node.kind not in (roles.DISTRIBUTOR, roles.REGION) or not scope.covers_path(node.path):
        raise RuleError(_("Choose a region or distributor within your part of the organization."),
                        "node_id")


def create_store(scope: Scope, data: dict, node: OrgNode, tags: list[str], *, actor: User) -> Store:
    _check_store_parent(scope, node)
    _check_code(data["code"], Store)
    store = Store(**{k: data[k] for k in STORE_FIELDS}, node_id=node.id, path=node.path)
    db.session.add(store)
    db.session.flush()
    set_store_tags({store.id: tags})
    audit.record(actor, "store.create", "store", store.id, f"{store.name} ({store.code})", store.path,
                 {"node": node.code})
    return store


def update_store(scope: Scope, store: Store, data: dict, node: OrgNode, tags: list[str], *,
                 actor: User) -> dict:
    _check_store_parent(scope, node)
    _check_code(data["code"], Store, exclude_id=store.id)
    changes = {k: [getattr(store, k), data[k]] for k in STORE_FIELDS if getattr(store, k) != data[k]}
    if store.node_id != node.id:
        changes["node"] = [store.node.code, node.code]
        store.node_id, store.path = node.id, node.path
        store.node = node
        db.session.flush()
        follow_stores([store.id])
    old_tags = store.tag_names
    if sorted(old_tags) != sorted(tags):
        changes["tags"] = [old_tags, tags]
    for k in STORE_FIELDS:
        setattr(store, k, data[k])
    db.session.flush()
    if "tags" in changes:
        set_store_tags({store.id: tags})
        db.session.expire(store, ["tags"])
        store.updated_at = utcnow()
    if changes:
        audit.record(actor, "store.update", "store", store.id, f"{store.name} ({store.code})",
                     store.path, {"changes": changes})
    return changes


def set_store_status(scope: Scope, store: Store, status: str, *, actor: User) -> None:
    if status not in roles.STORE_STATUSES:
        raise RuleError(_("Unknown status."), "status")
    if store.status == status:
        return
    old = store.status
    # Written over the status the page showed, or not at all: of two admins changing it at once
    # the second is told (409) instead of recording a change from a status that was gone.
    changed = db.session.execute(
        update(Store).where(Store.id == store.id, Store.status == old)
        .values(status=status, updated_at=utcnow()).execution_options(synchronize_session=False)).rowcount
    if not changed:
        raise Conflict(_("Someone else changed the status of this store just now: nothing was changed."))
    db.session.expire(store, ["status", "updated_at"])
    audit.record(actor, "store.status", "store", store.id, f"{store.name} ({store.code})", store.path,
                 {"status": [old, status]})


def selected_store_ids(scope: Scope, ids: list[str] | None, flt: StoreFilter | None) -> Select:
    """The ids a bulk action applies to, re-filtered through the scope in one statement."""
    if flt is not None:
        return filtered_stores(scope, flt).with_only_columns(Store.id)
    clean = parse_ids(ids or [])
    return select(Store.id).where(Store.id.in_(clean), scope.stores())


def bulk_set_status(scope: Scope, selection: Select, status: str, *, actor: User) -> int:
    if status not in roles.STORE_STATUSES:
        raise RuleError(_("Unknown status."), "status")
    ids = list(db.session.scalars(selection))
    if not ids:
        return 0
    result = db.session.execute(
        update(Store).where(Store.id.in_(ids), Store.status != status)
        .values(status=status, updated_at=func.now()).execution_options(synchronize_session=False)
    )
    audit.record(actor, "store.bulk_status", "store", None, "", scope.path or actor.place_path,
                 {"status": status, "count": result.rowcount, "store_ids": ids[:2000]})
    return result.rowcount


def bulk_add_tag(scope: Scope, selection: Select, tag: str, *, actor: User) -> int:
    tag = tag.strip()
    if not tag or len(tag) > 32:
        raise RuleError(_("A tag is 1 to 32 characters."), "tag")
    if parse_tags(tag) != [tag]:
        raise RuleError(_("A tag cannot contain commas, spaces or other separators."), "tag")
    tag_id = ensure_tags({tag})[tag]
    ids = set(db.session.scalars(selection))
    have = set(db.session.scalars(select(store_tags.c.store_id).where(store_tags.c.tag_id == tag_id)))
    new = sorted(ids - have)
    if new:
        db.session.execute(insert(store_tags), [{"store_id": i, "tag_id": tag_id} for i in new])
    audit.record(actor, "store.bulk_tag", "store", None, "", scope.path or actor.place_path,
                 {"tag": tag, "count": len(new)})
    return len(new)


def all_tags(scope: Scope) -> list[str]:
    """Tags carried by at least one store in scope: one indexed EXISTS probe per tag, instead
    of joining every store in scope to its tags and grouping."""
    return list(db.session.scalars(select(Tag.name).where(_tag_used(scope)).order_by(Tag.name)))


def _tag_used(scope: Scope):
    return (select(store_tags.c.store_id).join(Store, Store.id == store_tags.c.store_id)
            .where(store_tags.c.tag_id == Tag.id, scope.stores())).exists()


# --------------------------------------------------------------------------- users

def scoped_users(scope: Scope, q: str = "") -> Select:
    stmt = (select(User).outerjoin(OrgNode, User.node_id == OrgNode.id)
            .outerjoin(Store, User.store_id == Store.id).where(scope.users()))
    if q:
        like = f"%{q.strip()}%"
        stmt = stmt.where(or_(User.username.like(like), User.display_name.like(like)))
    rank = case({role: i for i, role in enumerate(roles.ROLES)}, value=User.role)
    # Each user's node or store comes from the joins above, not from one query per row.
    return stmt.options(contains_eager(User.node), contains_eager(User.store)).order_by(rank, User.username)


def assignable_roles(scope: Scope) -> list[str]:
    return [r for r in roles.ROLES if roles.RANK[r] >= roles.RANK[scope.role]]


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


def resolve_place(scope: Scope, role: str, node_id: int | None, store_code: str) -> tuple[OrgNode | None, Store | None]:
    """The node or store a user of ``role`` is bound to, checked against the actor's scope."""
    if role not in assignable_roles(scope):
        raise RuleError(_("You cannot give a role above your own."), "role")
    if role == roles.STORE_OWNER:
        store = db.session.scalar(select(Store).where(func.lower(Store.code) == (store_code or "").strip().lower(),
                                                      scope.stores()))
        if store is None:
            raise RuleError(_("No store with this code in your part of the organization."), "store_code")
        return None, store
    node = db.session.scalar(select(OrgNode).where(OrgNode.id == node_id, scope.nodes())) if node_id else None
    if node is None:
        raise RuleError(_("Choose a place within your part of the organization."), "node_id")
    if node.kind != roles.ROLE_NODE_KIND[role]:
        raise RuleError(_("This role must be bound to a %(kind)s.", kind=kind_label(roles.ROLE_NODE_KIND[role])),
                        "node_id")
    return node, None


def create_user(scope: Scope, *, username: str, display_name: str, role: str, node_id: int | None,
                store_code: str, password: str, actor: User) -> User:
    node, store = resolve_place(scope, role, node_id, store_code)
    username = username.strip().lower()
    if db.session.scalar(select(User.id).where(User.username == username)) is not None:
        raise RuleError(_("This username is taken."), "username")
    user = User(username=username, display_name=display_name, role=role,
                node_id=node.id if node else None, store_id=store.id if store else None,
                password_hash=hash_password(password))
    db.session.add(user)
    db.session.flush()
    audit.record(actor, "user.create", "user", user.id, username, (node or store).path,
                 {"role": role, "place": (node or store).code})
    return user


def update_user(scope: Scope, user: User, *, display_name: str, role: str, node_id: int | None,
                store_code: str, actor: User) -> None:
    if user.id == actor.id and role != user.role:
        raise RuleError(_("You cannot change your own role."), "role")
    if roles.RANK[user.role] < roles.RANK[scope.role]:
        raise RuleError(_("You cannot change a user above your own role."), "role")
    node, store = resolve_place(scope, role, node_id, store_code)
    if user.id == actor.id and (node and node.id) != user.node_id:
        raise RuleError(_("You cannot move yourself."), "node_id")
    changes = {}
    if user.display_name != display_name:
        changes["display_name"] = [user.display_name, display_name]
    if user.role != role:
        changes["role"] = [user.role, role]
    new_place = (node.id if node else None, store.id if store else None)
    if (user.node_id, user.store_id) != new_place:
        changes["place"] = [user.place_name, (node or store).name]
        # Moving a user elsewhere in the tree ends their current sessions.
        user.session_version += 1
    user.display_name, user.role = display_name, role
    user.node_id, user.store_id = new_place
    db.session.flush()
    db.session.expire(user, ["node", "store"])
    if changes:
        audit.record(actor, "user.update", "user", user.id, user.username, user.place_path,
                     {"changes": changes})


def set_user_active(scope: Scope, user: User, active: bool, *, actor: User) -> None:
    if user.id == actor.id:
        raise RuleError(_("You cannot disable yourself."))
    if roles.RANK[user.role] < roles.RANK[scope.role]:
        raise RuleError(_("You cannot change a user above your own role."))
    if user.active == active:
        return
    # Over the state the page showed, or not at all (two admins at once: the second is told).
    # Disabling bumps the session version in SQL, which ends every session the user has open.
    changed = db.session.execute(
        update(User).where(User.id == user.id, User.active == (not active))
        .values(active=active, session_version=User.session_version + (0 if active else 1))
        .execution_options(synchronize_session=False)).rowcount
    if not changed:
        raise Conflict(_("Someone else enabled or disabled this user just now: nothing was changed."))
    db.session.expire(user, ["active", "session_version"])
    audit.record(actor, "user.enable" if active else "user.disable", "user", user.id, user.username,
                 user.place_path)


def reset_password(scope: Scope, user: User, password: str, *, actor: User) -> None:
    if user.id == actor.id:
        raise RuleError(_("Change your own password from your account menu."))
    if roles.RANK[user.role] < roles.RANK[scope.role]:
        raise RuleError(_("You cannot change a user above your own role."))
    user.password_hash = hash_password(password)
    user.session_version = User.session_version + 1     # in SQL: two resets at once bump it twice
    db.session.flush()
    audit.record(actor, "user.password_reset", "user", user.id, user.username, user.place_path)
