"""RFM segmentation: recency, frequency and monetary value of every member, set-based in SQL.

Over the window HQ sets (``rfm_window_days``, orders paid in the last N days), per active member:
- R: days since the last order; F: orders; M: what was paid net of refunds (``paid_fen -
  refunded_fen``). A fully refunded order is no purchase at all (it counts nowhere, not even as
  the first or last order).
- Each dimension scores high (1) or low (0): against HQ's thresholds (R high = bought within
  ``rfm_recency_days``; F high = at least ``rfm_frequency`` orders; M high = at least
  ``rfm_monetary_fen``), or, in 'median' mode, against the median of the members who bought in
  the window: high = strictly better than the median (more recent, more orders, more money), so
  that the usual "most people bought once" does not make everyone F-high.
- The segment follows the three scores (R↑F↑M↑ 重要价值 … R↓F↓M↓ 一般挽留), except 新客 (new): a
  first order ever within ``rfm_new_days``, which wins over the score.

Decided: a member who bought only before the window is 一般挽留 (general_retain, scores 0/0/0):
the people a win-back campaign is for. A member who never bought (or whose every order was
refunded) has no segment (NULL).

``recompute()`` is a handful of statements whatever the number of members (the medians, at the
first run of a month the snapshot, one UPDATE … FROM of the members whose figures changed, one
clearing those who lost their orders, one rewriting the month's moves). ``live_counts()`` runs
the same scoring for values HQ is typing, without writing.

The orders table is named, not imported: ``portal.members`` sits below ``portal.orders``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, select, text
from sqlalchemy import func as F

from portal.extensions import db
from portal.kernel.time import UTCDateTime, local_tz, utcnow
from portal.members.audiences import SEGMENT_LABELS as _SEGMENT_NAMES
from portal.members.models import SEGMENTS, Member, MemberSettings, SegmentMonth

THRESHOLDS, MEDIAN = "thresholds", "median"
MODES = (THRESHOLDS, MEDIAN)
NEW = "new"
# (r, f, m) scores -> segment, encoded r*4 + f*2 + m
BY_SCORE = {7: "important_value", 3: "important_keep", 5: "important_develop", 1: "important_retain",
            6: "general_value", 2: "general_keep", 4: "general_develop", 0: "general_retain"}
# What people read (the member page, the settings page, the member list's filter).
# The segments' names are the member list's (one list of labels), plus the members without one.
SEGMENT_LABELS = {**_SEGMENT_NAMES, "": _l("No segment")}
# The scores each segment stands for, as arrows (R F M), for people who know the classic grid.
SEGMENT_SCORES = {name: (code >> 2 & 1, code >> 1 & 1, code & 1) for code, name in BY_SCORE.items()}
# Member-level snapshots kept: this month's (what moves are counted against) and two before it.
KEEP_MONTHS = 3


@dataclass(frozen=True)
class Rules:
    """The RFM values a recompute (or a live count) uses."""

    window_days: int = 365
    new_days: int = 30
    mode: str = THRESHOLDS
    recency_days: int = 90
    frequency: int = 3
    monetary_fen: int = 100_000

    @classmethod
    def of(cls, s: MemberSettings) -> Rules:
        return cls(window_days=s.rfm_window_days, new_days=s.rfm_new_days, mode=s.rfm_mode,
                   recency_days=s.rfm_recency_days, frequency=s.rfm_frequency, monetary_fen=s.rfm_monetary_fen)


@dataclass
class Medians:
    recency_days: float | None = None     # days since the last order, of the median member
    frequency: float | None = None
    monetary_fen: float | None = None


@dataclass
class RfmResult:
    computed_at: datetime
    members: int                      # active members with a segment
    changed: int                      # members whose figures were rewritten
    counts: dict[str, int] = field(default_factory=dict)
    medians: Medians | None = None
    snapshot_taken: bool = False


def get_settings(*, for_writing: bool = False) -> MemberSettings:
    """HQ's settings (``portal.members.services.settings``: read without writing, or the row made
    first ``for_writing``)."""
    from portal.members.services import settings

    return settings(for_writing=for_writing)


# --------------------------------------------------------------------------- SQL pieces

def _dialect() -> str:
    return db.session.get_bind().dialect.name


def _epoch(expr: str) -> str:
    """An instant as a number of days (comparable, subtractable) on either backend."""
    if _dialect() == "postgresql":
        return f"(extract(epoch from {expr}) / 86400.0)"
    return f"julianday({expr})"


def _stats_sql(*, active_only: bool = True) -> str:
    """Per member (active ones, unless the caller filters them itself) with at least one order that
    counts: first and last order ever, and F, M over the window. One pass over the orders."""
    join = " JOIN members mb ON mb.id = o.member_id AND mb.status = 'active'" if active_only else ""
    return (
        "SELECT o.member_id AS member_id, min(o.paid_at) AS first_at, max(o.paid_at) AS last_at,"
        " sum(CASE WHEN o.paid_at >= :start THEN 1 ELSE 0 END) AS f,"
        " sum(CASE WHEN o.paid_at >= :start THEN o.paid_fen - o.refunded_fen ELSE 0 END) AS m"
        f" FROM orders o{join}"
        " WHERE o.refunded_fen < o.paid_fen AND o.paid_at <= :now"
        " GROUP BY o.member_id")


def _scored_sql(mode: str, *, active_only: bool = True) -> str:
    """Every member of ``_stats_sql`` with its three scores (0/1) and its segment."""
    if mode == MEDIAN:
        r = f"CASE WHEN {_epoch('s.last_at')} > :med_t THEN 1 ELSE 0 END"
        fq = "CASE WHEN s.f > :med_f THEN 1 ELSE 0 END"
        m = "CASE WHEN s.m > :med_m THEN 1 ELSE 0 END"
    else:
        r = "CASE WHEN s.last_at >= :recent_since THEN 1 ELSE 0 END"
        fq = "CASE WHEN s.f >= :freq_min THEN 1 ELSE 0 END"
        m = "CASE WHEN s.m >= :money_min THEN 1 ELSE 0 END"
    # Bought only before the window: scores 0/0/0 whatever the thresholds say.
    scores = (f"SELECT s.member_id, s.first_at, s.last_at, s.f, s.m,"
              f" CASE WHEN s.f > 0 THEN {r} ELSE 0 END AS r_score,"
              f" CASE WHEN s.f > 0 THEN {fq} ELSE 0 END AS f_score,"
              f" CASE WHEN s.f > 0 THEN {m} ELSE 0 END AS m_score"
              f" FROM ({_stats_sql(active_only=active_only)}) s")
    by_score = " ".join(f"WHEN {code} THEN '{name}'" for code, name in BY_SCORE.items())
    return (f"SELECT x.*, CASE WHEN x.first_at >= :new_since THEN '{NEW}'"
            f" ELSE CASE x.r_score * 4 + x.f_score * 2 + x.m_score {by_score} END END AS segment"
            f" FROM ({scores}) x")


def _params(rules: Rules, now: datetime, medians: Medians | None) -> dict:
    params = dict(now=now, start=now - timedelta(days=rules.window_days),
                  new_since=now - timedelta(days=rules.new_days),
                  recent_since=now - timedelta(days=rules.recency_days),
                  freq_min=rules.frequency, money_min=rules.monetary_fen)
    if rules.mode == MEDIAN:
        med = medians or Medians()
        # No buyer in the window: nothing is above a median that does not exist.
        params.update(med_t=_BIG if med.recency_days is None else _now_days(now) - med.recency_days,
                      med_f=_BIG if med.frequency is None else med.frequency,
                      med_m=_BIG if med.monetary_fen is None else med.monetary_fen)
    return params


_BIG = 1e15
_TIMES = ("now", "start", "new_since", "recent_since")


def _text(sql: str):
    return text(sql).bindparams(*(bindparam(name, type_=UTCDateTime()) for name in _TIMES if f":{name}" in sql))


def _now_days(now: datetime) -> float:
    """``now`` on the scale of ``_epoch`` (days since the Unix epoch, or Julian days)."""
    days = now.timestamp() / 86400.0
    return days if _dialect() == "postgresql" else days + 2440587.5


def medians(rules: Rules, now: datetime) -> Medians:
    """The medians of R (days since the last order), F and M of the members who bought in the
    window: ``percentile_cont`` on PostgreSQL, the middle row(s) by ORDER BY/LIMIT/OFFSET on SQLite."""
    buyers = f"SELECT {_epoch('last_at')} AS t, f, m FROM ({_stats_sql()}) st WHERE st.f > 0"
    if _dialect() == "postgresql":
        sql = (f"SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY t), percentile_cont(0.5) WITHIN GROUP"
               f" (ORDER BY f), percentile_cont(0.5) WITHIN GROUP (ORDER BY m) FROM ({buyers}) b")
    else:
        def middle(col: str) -> str:
            return (f"(SELECT avg({col}) FROM (SELECT {col} FROM b ORDER BY {col}"
                    f" LIMIT 2 - (SELECT count(*) FROM b) % 2 OFFSET ((SELECT count(*) FROM b) - 1) / 2))")
        sql = f"WITH b AS ({buyers}) SELECT {middle('t')}, {middle('f')}, {middle('m')}"
    params = dict(now=now, start=now - timedelta(days=rules.window_days))
    t, f, m = db.session.execute(_text(sql), params).one()
    if t is None:
        return Medians()
    return Medians(recency_days=_now_days(now) - float(t), frequency=float(f), monetary_fen=float(m))


# --------------------------------------------------------------------------- reading

def live_counts(rules: Rules, now: datetime | None = None) -> dict[str, int]:
    """How many active members each segment would hold under ``rules``, without writing: one
    statement (two in median mode). The key None counts the active members with no segment."""
    now = now or utcnow()
    meds = medians(rules, now) if rules.mode == MEDIAN else None
    rows = db.session.execute(
        _text(f"SELECT segment, count(*) FROM ({_scored_sql(rules.mode)}) sc GROUP BY segment"),
        _params(rules, now, meds)).all()
    counts = {name: 0 for name in SEGMENTS}
    counts.update({seg: n for seg, n in rows})
    total = db.session.scalar(select(F.count()).select_from(Member).where(Member.status == "active"))
    counts[None] = total - sum(n for seg, n in rows)
    return counts


def current_counts(condition=None) -> dict[str, int]:
    """Active members per stored segment (None: no segment), within ``condition`` (a scope's)."""
    stmt = select(Member.segment, F.count()).where(Member.status == "active").group_by(Member.segment)
    if condition is not None:
        stmt = stmt.where(condition)
    counts = {name: 0 for name in SEGMENTS}
    counts[None] = 0
    counts.update(dict(db.session.execute(stmt).all()))
    return counts


def month_of(now: datetime) -> str:
    """The portal-local month an instant falls in: '2026-12'."""
    return now.astimezone(local_tz()).strftime("%Y-%m")


# --------------------------------------------------------------------------- writing

def recompute(now: datetime | None = None) -> RfmResult:
    """Score every active member and store its segment (flushes; the caller commits)."""
    now = now or utcnow()
    settings = get_settings(for_writing=True)
    if _dialect() == "postgresql":     # one recompute at a time: the second waits for the first
        db.session.execute(select(MemberSettings.id).where(MemberSettings.id == 1).with_for_update())
        # The aggregate over every order and its join with the members stay in memory (not in
        # batches spilled to disk), for this transaction only.
        db.session.execute(text("SET LOCAL work_mem = '256MB'"))
    rules = Rules.of(settings)
    month = month_of(now)
    snapshot = _snapshot_month(month, now)
    meds = medians(rules, now) if rules.mode == MEDIAN else None
    params = _params(rules, now, meds)
    scored = _scored_sql(rules.mode, active_only=False)      # the UPDATE keeps to active members itself
    sets = ("segment = sc.segment, r_score = sc.r_score, f_score = sc.f_score, m_score = sc.m_score,"
            " first_order_at = sc.first_at, last_order_at = sc.last_at, rfm_orders = sc.f, rfm_net_fen = sc.m,"
            " segment_since = CASE WHEN members.segment IS NULL OR members.segment <> sc.segment"
            " THEN :now ELSE members.segment_since END")
    changed_cols = ("segment", "r_score", "f_score", "m_score", "first_order_at", "last_order_at",
                    "rfm_orders", "rfm_net_fen")
    values = ("sc.segment", "sc.r_score", "sc.f_score", "sc.m_score", "sc.first_at", "sc.last_at", "sc.f", "sc.m")
    differs = " OR ".join(f"members.{col} IS DISTINCT FROM {v}" for col, v in zip(changed_cols, values, strict=True))
    changed = db.session.execute(_text(
        f"UPDATE members SET {sets} FROM ({scored}) sc"
        f" WHERE members.id = sc.member_id AND members.status = 'active' AND ({differs})"),
        params).rowcount
    # Those left without an order that counts (refunded, erased, merged away) lose their segment.
    changed += db.session.execute(_text(
        "UPDATE members SET segment = NULL, r_score = NULL, f_score = NULL, m_score = NULL,"
        " first_order_at = NULL, last_order_at = NULL, rfm_orders = NULL, rfm_net_fen = NULL, segment_since = NULL"
        " WHERE (segment IS NOT NULL OR first_order_at IS NOT NULL) AND (status <> 'active' OR NOT EXISTS"
        " (SELECT 1 FROM orders o WHERE o.member_id = members.id AND o.refunded_fen < o.paid_fen"
        " AND o.paid_at <= :now))"), dict(now=now)).rowcount
    _write_moves(month)
    settings.rfm_computed_at = now
    db.session.flush()
    counts = current_counts()
    return RfmResult(computed_at=now, members=sum(n for seg, n in counts.items() if seg), changed=changed,
                     counts=counts, medians=meds, snapshot_taken=snapshot)


def _snapshot_month(month: str, now: datetime) -> bool:
    """At the first recompute of a month: keep every member's segment as the month begins (one
    INSERT … SELECT), and forget member-level snapshots older than KEEP_MONTHS."""
    if db.session.get(SegmentMonth, month) is not None:
        return False
    months = db.session.scalars(select(SegmentMonth.month).order_by(SegmentMonth.month.desc())).all()
    taken = db.session.execute(text(
        "INSERT INTO member_segment_months (month, member_id, store_id, segment)"
        " SELECT :month, id, store_id, segment FROM members WHERE status = 'active' AND segment IS NOT NULL"),
        dict(month=month)).rowcount
    db.session.add(SegmentMonth(month=month, taken_at=now, members=taken))
    old = [m for m in months if m < month][KEEP_MONTHS - 1:]
    if old:
        db.session.execute(text("DELETE FROM member_segment_months WHERE month IN :old")
                           .bindparams(bindparam("old", expanding=True)), dict(old=old))
    db.session.flush()
    return True


def _write_moves(month: str) -> None:
    """Per store, members whose segment now differs from the month's snapshot, by (from, to)."""
    db.session.execute(text("DELETE FROM segment_moves WHERE month = :month"), dict(month=month))
    db.session.execute(text(
        "INSERT INTO segment_moves (month, store_id, from_segment, to_segment, members)"
        " SELECT :month, mb.store_id, coalesce(sm.segment, ''), coalesce(mb.segment, ''), count(*)"
        " FROM members mb LEFT JOIN member_segment_months sm ON sm.member_id = mb.id AND sm.month = :month"
        " WHERE mb.status = 'active' AND mb.store_id IS NOT NULL"
        " AND coalesce(sm.segment, '') <> coalesce(mb.segment, '')"
        " GROUP BY mb.store_id, coalesce(sm.segment, ''), coalesce(mb.segment, '')"), dict(month=month))


__all__ = ["MODES", "SEGMENT_LABELS", "SEGMENT_SCORES", "Medians", "RfmResult", "Rules", "current_counts",
           "get_settings", "live_counts", "medians", "month_of", "recompute"]
