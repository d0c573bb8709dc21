"""Every table that carries a tree path, and what moving a node does to its rows.

The tree is the tenant: a row is visible to the subtree its ``path`` lies in. When a node moves
(``portal.org.services.move_node``), every table listed here with ``MOVES`` gets one UPDATE that
rewrites the paths lying under the moved node to its new place; a table marked ``STAYS`` is
left as it is, on purpose. A table with a path column that is not listed here is a bug, and
``tests/org/test_move_registry.py`` fails on it.

Tables are named, not imported: the org domain sits below the domains that own most of them.
The app imports every model (``portal/__init__.py``), so each name is in ``db.metadata``.

Only rows whose path lies *inside* the moved subtree are ever touched; a row recorded at a node
above it (the old distributor's own push, target or template) is that node's and stays with it.

A table whose rows belong to one store (``store_column``) also follows that store alone when it
is re-hung under another node (the store form, the CSV import): see
``portal.org.services.follow_stores``.
"""
from __future__ import annotations

from dataclasses import dataclass

MOVES, STAYS = "moves", "stays"


@dataclass(frozen=True)
class PathTable:
    table: str
    policy: str
    why: str
    column: str = "path"
    store_column: str | None = None      # rows owned by one store carry that store's path


PATH_TABLES: tuple[PathTable, ...] = (
    PathTable("org_nodes", MOVES, "the node and its descendants themselves (their depth moves too)"),
    PathTable("stores", MOVES, "a store carries its node's path; the stores under the node go with it"),
    PathTable("products", MOVES,
              "a store's local goods carry the store's path, goods of a node inside the subtree that "
              "node's: they belong to what moved, and the old distributor must no longer open them",
              store_column="store_id"),
    PathTable("assortments", MOVES, "owned by the node that made it; one inside the subtree goes with it"),
    PathTable("templates", MOVES, "owned by the node that made it; one inside the subtree goes with it"),
    PathTable("campaigns", MOVES, "owned by the node that made it; one inside the subtree goes with it"),
    PathTable("targets", MOVES, "saved by the node that made it; one inside the subtree goes with it"),
    PathTable("pushes", MOVES,
              "the pusher's subtree: a push lies under the moved node only when its actor was bound inside "
              "it, and that actor's history (and the scope a resumed push plans in) follows them. A push "
              "recorded at a node above — the old distributor's — is that actor's history and is not "
              "touched; the moved stores are then outside it, hidden from its page and skipped as "
              "out_of_scope if still pending"),
    PathTable("push_reaches", MOVES,
              "where a push's stores hang (a region, or a distributor for its own stores), with their "
              "counts: the pushes that reached the moved stores go with them, so their new distributor "
              "and manager read them and the old ones no longer do (a single store re-hung elsewhere "
              "keeps its old place here until the push's counts are next written)"),
    PathTable("media_images", MOVES,
              "a picture belongs to the node that uploaded it; one inside the subtree goes with it, and the "
              "old distributor's people no longer see it in their image space"),
    PathTable("member_groups", MOVES, "a member group belongs to the node that made it, like a target; one inside "
              "the subtree goes with it"),
    PathTable("members", MOVES,
              "a member carries the path of the store that serves them: the members of moved stores go with "
              "them, so the new distributor and manager see them and the old ones no longer do",
              store_column="store_id"),
    PathTable("orders", MOVES,
              "an order carries its store's path: a store's sales history goes with the store",
              store_column="store_id"),
    PathTable("commission_entries", MOVES,
              "a ledger entry carries the path of the order's store (which store's sale earned it); only the "
              "path column is rewritten, never an amount: the ledger stays append-only in what it says",
              store_column="store_id"),
    PathTable("commission_statements", MOVES,
              "a monthly statement carries the path of the store whose sales earned it, like the ledger it sums",
              store_column="store_id"),
    PathTable("live_rooms", MOVES,
              "a store's room carries the store's path, a broadcast its node's: a room inside the subtree goes "
              "with it, so the new distributor and manager run it and the old ones no longer see it",
              store_column="store_id"),
    PathTable("live_room_stores", MOVES,
              "a carrying store's entry carries that store's path: the figures of a broadcast by store follow "
              "the store to its new region", store_column="store_id"),
    PathTable("audit_entries", MOVES,
              "where a change happened: the history of a moved store or node goes with it, so the new "
              "owner reads it and the old one no longer sees the moved stores' names"),
)


def registered(policy: str | None = None) -> list[PathTable]:
    return [t for t in PATH_TABLES if policy is None or t.policy == policy]


__all__ = ["MOVES", "STAYS", "PathTable", "PATH_TABLES", "registered"]
