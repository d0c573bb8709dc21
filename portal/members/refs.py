"""Every column that references ``members.id``, and what a merge does to its rows.

One ID merges two members into one (``portal.members.services.merge``): every row listed here
with ``MOVES`` that points at the absorbed member is pointed at the survivor, and the merge
records exactly which rows moved (their keys), so ``unmerge`` gives each side back its own. A
``STAYS`` column is left as it is, on purpose (the merge history names both sides forever).

Tables are named, not imported: the members domain sits below orders (and the ledger), which own
some of these tables. The app imports every model (``portal/__init__.py``), so each name is in
``db.metadata``. A foreign key to ``members.id`` that is not listed here is a bug, and
``tests/members/test_identity_refs.py`` fails on it.

``unique_with``: the columns that, with this one, must stay unique (a member's tag: member +
tag). A row whose twin the survivor already has does not move; it stays with the absorbed member
and is therefore still its own after an unmerge.
"""
from __future__ import annotations

from dataclasses import dataclass

MOVES, STAYS = "moves", "stays"


@dataclass(frozen=True)
class MemberRef:
    table: str
    column: str
    policy: str
    why: str
    unique_with: tuple[str, ...] = ()


MEMBER_REFS: tuple[MemberRef, ...] = (
    MemberRef("member_identities", "member_id", MOVES,
              "how each mini-program knows the person: the survivor is known by all of them"),
    MemberRef("member_bindings", "member_id", MOVES,
              "the history of the service relationship: the survivor's history includes the absorbed's "
              "(its open binding is closed with end cause 'merge' unless it wins)"),
    MemberRef("members", "referrer_id", MOVES,
              "members the absorbed one brought: the survivor brought them now (level 2 commissions)"),
    MemberRef("members", "merged_into_id", MOVES,
              "members merged into the absorbed one before: they point at the one person that is left"),
    MemberRef("orders", "member_id", MOVES, "the person's orders: the survivor's figures include them"),
    MemberRef("orders", "sharer_id", MOVES, "orders the person brought as a sharer"),
    MemberRef("commission_entries", "member_id", MOVES,
              "ledger entries the person earned as a sharer: only who is pointed at changes, never an amount"),
    MemberRef("member_tag_links", "member_id", MOVES, "the person's tags: the survivor carries both sides' tags",
              unique_with=("tag_id",)),
    MemberRef("member_group_members", "member_id", MOVES,
              "the fixed groups the person is in: the survivor is in both sides' groups", unique_with=("group_id",)),
    MemberRef("live_viewers", "member_id", MOVES, "the rooms the person watched: figures, lotteries, post-live coupons",
              unique_with=("room_id",)),
    MemberRef("live_viewers", "sharer_id", MOVES, "viewers the person brought to a room by sharing it"),
    MemberRef("live_sharers", "member_id", MOVES, "the person's place on a room's share leaderboard",
              unique_with=("room_id",)),
    MemberRef("live_subscriptions", "member_id", MOVES, "rooms the person asked to be reminded of",
              unique_with=("room_id",)),
    MemberRef("live_reminders", "member_id", STAYS, "the outbox records whom each message went to, as it was"),
    MemberRef("live_lottery_winners", "member_id", STAYS, "a drawn lottery's winners are fixed once drawn"),
    MemberRef("live_lottery_entrants", "member_id", STAYS, "a drawn lottery's entrants are fixed once drawn"),
    MemberRef("member_merges", "survivor_id", STAYS, "the merge history names the two sides as they were"),
    MemberRef("member_merges", "absorbed_id", STAYS, "the merge history names the two sides as they were"),
)


def registered(policy: str | None = None) -> list[MemberRef]:
    return [r for r in MEMBER_REFS if policy is None or r.policy == policy]


__all__ = ["MEMBER_REFS", "MOVES", "STAYS", "MemberRef", "registered"]
