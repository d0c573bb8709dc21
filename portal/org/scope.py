"""What an acting user may see. Every list and every lookup goes through this.

A ``Scope`` is either a subtree of the org tree (HQ, distributor and regional users) or exactly
one store (store owners). Its conditions are plain SQL expressions, so a scoped query is still
one indexed query: the subtree is the half-open range ``[path, path-with-'/'-bumped)`` over the
materialized path, which a B-tree index answers on SQLite and PostgreSQL alike.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import abort
from sqlalchemy import ColumnElement, and_, false, or_, select, true

from portal.extensions import db
from portal.org.models import OrgNode, Store, User


def path_range(column, path: str) -> ColumnElement[bool]:
    """``column`` lies in the subtree rooted at ``path`` (which ends with '/')."""
    # '/' is followed by '0' in ASCII, so every descendant sorts below path[:-1] + '0'.
    return and_(column >= path, column < path[:-1] + "0")


@dataclass(frozen=True)
class Scope:
    user: User | None
    path: str | None        # subtree root path for node-bound users
    store_id: int | None    # the one store for store owners

    @classmethod
    def of_path(cls, path: str) -> Scope:
        """The scope a job acts in: the subtree recorded when the person started it."""
        return cls(user=None, path=path, store_id=None)

    @property
    def role(self) -> str:
        return self.user.role

    def stores(self) -> ColumnElement[bool]:
        if self.store_id is not None:
            return Store.id == self.store_id
        return self._range(Store.path)

    def nodes(self) -> ColumnElement[bool]:
        """Org nodes visible to this user: its subtree, or none for a store owner."""
        if self.store_id is not None:
            return false()
        return self._range(OrgNode.path)

    def paths(self, column) -> ColumnElement[bool]:
        """Rows carrying a tree path (audit entries, pushes …) that lie in this scope."""
        if self.store_id is not None:
            return false()
        return self._range(column)

    def store_rows(self, store_column, path_column) -> ColumnElement[bool]:
        """Rows that belong to one store and carry its path (members, orders, ledger entries):
        the owner's own store's, or those of the stores in this subtree."""
        if self.store_id is not None:
            return store_column == self.store_id
        return self._range(path_column)

    def _range(self, column) -> ColumnElement[bool]:
        # The tree has one root (HQ): its subtree is everything, and saying so plainly lets the
        # database use the index of the sort column instead of a range that filters nothing.
        if self.is_everything():
            return true()
        return path_range(column, self.path)

    def users(self) -> ColumnElement[bool]:
        """Users bound inside this scope. Needs User outer-joined to OrgNode and Store."""
        if self.store_id is not None:
            return User.id == self.user.id
        return or_(path_range(OrgNode.path, self.path), path_range(Store.path, self.path))

    def covers_path(self, path: str) -> bool:
        return self.path is not None and path.startswith(self.path)

    def is_everything(self) -> bool:
        """The scope of the tree's root: HQ sees every store there is."""
        return self.path is not None and self.path.count("/") == 2


def scope_for(user: User) -> Scope:
    if user.store_id is not None:
        return Scope(user=user, path=None, store_id=user.store_id)
    return Scope(user=user, path=user.node.path, store_id=None)


def get_store_or_404(scope: Scope, store_id: int) -> Store:
    store = db.session.scalar(select(Store).where(Store.id == store_id, scope.stores()))
    if store is None:
        abort(404)
    return store


def get_node_or_404(scope: Scope, node_id: int) -> OrgNode:
    node = db.session.scalar(select(OrgNode).where(OrgNode.id == node_id, scope.nodes()))
    if node is None:
        abort(404)
    return node


def get_user_or_404(scope: Scope, user_id: int) -> User:
    user = db.session.scalar(
        select(User)
        .outerjoin(OrgNode, User.node_id == OrgNode.id)
        .outerjoin(Store, User.store_id == Store.id)
        .where(User.id == user_id, scope.users())
    )
    if user is None:
        abort(404)
    return user


__all__ = ["Scope", "scope_for", "path_range", "get_store_or_404", "get_node_or_404",
           "get_user_or_404"]
