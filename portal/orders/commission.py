"""Stub: the commission hooks the order handlers call (the commission part replaces this module).

- ``accrue(store, orders)``: after the orders and their lines are flushed, write the ledger
  entries of each paid line and set ``Order.plan_id``.
- ``reverse(store, refunds)``: after the refunds and refund lines are flushed (and the order and
  line refunded amounts updated), append the proportional reversing entries.
"""
from __future__ import annotations


def accrue(store, orders: list) -> None:
    return None


def reverse(store, refunds: list) -> None:
    return None


__all__ = ["accrue", "reverse"]
