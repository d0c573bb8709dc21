"""An auditable lottery in a live room: commit before, reveal after.

When a lottery is announced a secret seed is drawn (``secrets.token_hex(32)``: 64 hex characters)
and only its SHA-256 is shown. The draw ranks every eligible entrant by
``HMAC-SHA256(key=seed, message=str(member_id))`` (hex, ascending; the member id breaks a tie)
and the lowest K win. Afterwards the seed is shown and the entrant list can be downloaded, so
anyone can check that the seed matches the hash shown before and re-run the draw:

    import csv, hashlib, hmac
    seed = "…the revealed seed…"
    assert hashlib.sha256(seed.encode()).hexdigest() == "…the hash shown before the draw…"
    ids = [int(row["member_id"]) for row in csv.DictReader(open("entrants.csv", encoding="utf-8-sig"))]
    score = lambda i: hmac.new(seed.encode(), str(i).encode(), hashlib.sha256).hexdigest()
    print(sorted(ids, key=lambda i: (score(i), i))[:K])

or, in a shell, ``printf %s "$SEED" | sha256sum`` and ``printf %s 42 | openssl dgst -sha256 -hmac "$SEED"``.
``verify(seed, entrants, k)`` is that re-run.

Who may enter is decided when the draw happens, from the room's viewer rows: viewers (everyone
who entered), commenters (at least one comment) or sharers (at least max(1, N) shares); at least N
shares in any pool when N > 0; staff left out when asked. The entrants are stored with their
scores (``LiveLotteryEntrant``), so the list stays what the draw saw. Winners are fixed once drawn:
the draw is one conditional ``UPDATE … WHERE status = 'announced'``, and a second draw is refused
(409) instead of giving a second set of winners.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable

from flask_babel import gettext as _
from sqlalchemy import func, select, update

from portal.audit import services as audit
from portal.extensions import db
from portal.kernel.errors import Conflict, RuleError
from portal.kernel.sql import bulk_insert
from portal.kernel.time import utcnow
from portal.live import counters
from portal.live.models import (
    ANNOUNCED,
    DRAWN,
    POOLS,
    LiveLottery,
    LiveLotteryEntrant,
    LiveLotteryWinner,
    LiveRoom,
    LiveViewer,
)
from portal.members.models import ACTIVE, Member
from portal.org.scope import Scope

MAX_WINNERS = 1000


def seed_hash(seed: str) -> str:
    """The commitment shown from the announcement: SHA-256 of the seed's text."""
    return hashlib.sha256(seed.encode()).hexdigest()


def score(seed: str, member_id: int) -> str:
    """An entrant's score: HMAC-SHA256 keyed by the seed's text over the member id's decimal text."""
    return hmac.new(seed.encode(), str(member_id).encode(), hashlib.sha256).hexdigest()


def ranked(seed: str, entrants: Iterable[int]) -> list[tuple[int, str]]:
    """(member id, score) of every entrant, lowest score first (the id breaks a tie)."""
    scored = [(int(m), score(seed, int(m))) for m in set(entrants)]
    scored.sort(key=lambda pair: (pair[1], pair[0]))
    return scored


def verify(seed: str, entrants: Iterable[int], k: int) -> list[int]:
    """The winners a draw with ``seed`` over ``entrants`` (member ids) gives for ``k`` winners, in
    rank order: a pure function anyone can re-run from the revealed seed and the entrant list."""
    return [member_id for member_id, _score in ranked(seed, entrants)[:k]]


def mask(nickname: str | None) -> str:
    """What the entrant list shows of a person: the nickname's first character, the rest hidden."""
    name = (nickname or "").strip()
    return f"{name[0]}**" if name else "**"


# --------------------------------------------------------------------------- announce and draw

def announce_lottery(scope: Scope, room: LiveRoom, *, title: str, pool: str, min_shares: int, exclude_staff: bool,
                     winners: int, actor) -> LiveLottery:
    """Announce a lottery on ``room``: its seed drawn now, only the seed's hash shown until the draw."""
    if pool not in POOLS:
        raise RuleError(_("Choose who takes part."), "pool")
    if not 1 <= winners <= MAX_WINNERS:
        raise RuleError(_("Between 1 and %(max)s winners.", max=MAX_WINNERS), "winners")
    if min_shares < 0:
        raise RuleError(_("At least 0 shares."), "min_shares")
    seed = secrets.token_hex(32)
    lottery = LiveLottery(room_id=room.id, title=title, pool=pool, min_shares=min_shares, exclude_staff=exclude_staff,
                          winners_wanted=winners, seed=seed, seed_hash=seed_hash(seed), status=ANNOUNCED,
                          created_by_id=actor.id if actor else None)
    db.session.add(lottery)
    db.session.flush()
    audit.record(actor, "live_lottery.announce", "live_lottery", lottery.id, f"{room.title} · {title}", room.path,
                 {"room_id": room.id, "pool": pool, "min_shares": min_shares, "exclude_staff": exclude_staff,
                  "winners": winners, "seed_hash": lottery.seed_hash})
    return lottery


def eligible(lottery: LiveLottery):
    """A SELECT of (member id, nickname) of those who may enter, by the lottery's rules, now."""
    stmt = (select(LiveViewer.member_id, Member.nickname).join(Member, Member.id == LiveViewer.member_id)
            .where(LiveViewer.room_id == lottery.room_id, Member.status == ACTIVE))
    if lottery.pool == "commenters":
        stmt = stmt.where(LiveViewer.comments >= 1)
    least = max(1, lottery.min_shares) if lottery.pool == "sharers" else lottery.min_shares
    if least > 0:
        stmt = stmt.where(LiveViewer.shares >= least)
    if lottery.exclude_staff:
        stmt = stmt.where(LiveViewer.staff.is_(False))
    return stmt


def draw_lottery(scope: Scope, lottery: LiveLottery, *, actor) -> list[LiveLotteryWinner]:
    """Draw the winners, once: entrants computed now, ranked by their scores, the lowest K win.

    Raises ``Conflict`` when the lottery was drawn already (its winners stay), ``RuleError`` when
    no one is eligible yet (nothing is written: the lottery stays announced)."""
    if lottery.status != ANNOUNCED:
        raise Conflict(_("This lottery has been drawn already: its winners stay as they were drawn."))
    counters.flush_all()         # per-viewer counts still held by the aggregator reach the rows first
    rows = db.session.execute(eligible(lottery)).all()
    if not rows:
        raise RuleError(_("No one may enter this lottery yet: nobody in the room meets its rules."))
    now = utcnow()
    took = db.session.execute(
        update(LiveLottery).where(LiveLottery.id == lottery.id, LiveLottery.status == ANNOUNCED)
        .values(status=DRAWN, drawn_at=now, drawn_by_id=actor.id if actor else None, entrants=len(rows))
        .execution_options(synchronize_session=False))
    if took.rowcount != 1:
        raise Conflict(_("This lottery has been drawn already: its winners stay as they were drawn."))
    labels = {member_id: mask(nickname) for member_id, nickname in rows}
    order = ranked(lottery.seed, labels)
    bulk_insert(db.session, LiveLotteryEntrant.__table__,
                [{"lottery_id": lottery.id, "member_id": m, "label": labels[m], "score": s} for m, s in order])
    won = order[:lottery.winners_wanted]
    bulk_insert(db.session, LiveLotteryWinner.__table__,
                [{"lottery_id": lottery.id, "rank": n, "member_id": m, "score": s} for n, (m, s) in enumerate(won, 1)])
    db.session.refresh(lottery)
    room = db.session.get(LiveRoom, lottery.room_id)
    audit.record(actor, "live_lottery.draw", "live_lottery", lottery.id, f"{room.title} · {lottery.title}", room.path,
                 {"room_id": room.id, "seed": lottery.seed, "seed_hash": lottery.seed_hash, "pool": lottery.pool,
                  "min_shares": lottery.min_shares, "exclude_staff": lottery.exclude_staff, "entrants": len(rows),
                  "winners": [{"rank": n, "member_id": m, "score": s} for n, (m, s) in enumerate(won, 1)]})
    db.session.flush()
    return winners_of(lottery)


# --------------------------------------------------------------------------- reading

def lotteries_of(room: LiveRoom) -> list[LiveLottery]:
    return list(db.session.scalars(select(LiveLottery).where(LiveLottery.room_id == room.id)
                                   .order_by(LiveLottery.id.desc())))


def winners_of(lottery: LiveLottery) -> list[LiveLotteryWinner]:
    return list(db.session.scalars(select(LiveLotteryWinner).where(LiveLotteryWinner.lottery_id == lottery.id)
                                   .order_by(LiveLotteryWinner.rank)))


def winner_rows(lotteries: list[LiveLottery]) -> dict[int, list[tuple[LiveLotteryWinner, str]]]:
    """The winners of many lotteries with their masked labels, in one statement."""
    ids = [lot.id for lot in lotteries if lot.status == DRAWN]
    out: dict[int, list] = {i: [] for i in ids}
    if not ids:
        return out
    rows = db.session.execute(
        select(LiveLotteryWinner, LiveLotteryEntrant.label)
        .join(LiveLotteryEntrant, (LiveLotteryEntrant.lottery_id == LiveLotteryWinner.lottery_id)
              & (LiveLotteryEntrant.member_id == LiveLotteryWinner.member_id))
        .where(LiveLotteryWinner.lottery_id.in_(ids)).order_by(LiveLotteryWinner.lottery_id, LiveLotteryWinner.rank))
    for winner, label in rows:
        out[winner.lottery_id].append((winner, label))
    return out


def entrants_of(lottery: LiveLottery):
    """(member id, masked label, score) of a drawn lottery's entrants, lowest score first."""
    return db.session.execute(
        select(LiveLotteryEntrant.member_id, LiveLotteryEntrant.label, LiveLotteryEntrant.score)
        .where(LiveLotteryEntrant.lottery_id == lottery.id)
        .order_by(LiveLotteryEntrant.score, LiveLotteryEntrant.member_id)).all()


def eligible_count(lottery: LiveLottery) -> int:
    """How many may enter now (an announced lottery's page shows it)."""
    return db.session.scalar(select(func.count()).select_from(eligible(lottery).subquery()))


__all__ = ["announce_lottery", "draw_lottery", "eligible", "eligible_count", "entrants_of", "lotteries_of", "mask",
           "ranked", "score", "seed_hash", "verify", "winner_rows", "winners_of"]
