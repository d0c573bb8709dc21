"""The aggregator of a room's counters: floods of events never become one row update per event.

The live event handlers (``portal.live.events``) do not write ``live_rooms``' counter columns
(likes, comments, shares, follows, watch_seconds, viewers, entered_sum, online, peak_online) nor the viewers' own
counts (comments, shares). They *stage* deltas on the session (``stage``); only when the
request's transaction commits are the staged deltas handed to the aggregator (SQLAlchemy's
``after_commit``), and a rollback, of the whole transaction or of the savepoint they were staged
in, discards them: a rejected or retried batch never counts twice.

The aggregator is Redis when ``REDIS_URL`` is set (``LIVE_COUNTERS = "redis"``: every worker adds
to the same hashes, with Lua scripts), else a buffer in the process (``"memory"``, the embedded
install). A *flush* takes what is pending and writes it in one transaction, one UPDATE per room
that moved (``flushes = flushes + 1``: the "writes of the room's counters" of the benchmark) and
one statement for the viewers; flushes run from a timer at most once per ``LIVE_FLUSH_SECONDS``
(default 0.25 s), one flusher at a time (a Redis lock that also spaces flushes across workers /
a thread lock), so the database sees a number of writes bounded by time, not by events.

Online and peak are exact: each committed batch's +1/−1 sequence (in the order the events
occurred) is applied atomically to the room's absolute ``online`` and ``peak`` (a Lua script in
Redis; under the lock in process), seeded from the database the first time the room is seen.

Reading is exact at any moment (``current``): the database row, plus what is pending, plus the
batches taken by a flush whose UPDATE the row read does not include yet. Each taken batch is
tagged per room with the ``flushes`` value its UPDATE produced (before the flush commits), and
is kept a few seconds after, so a reader that read the row before the commit and the aggregator
after it still counts the batch once: the row's ``flushes`` tells whether it is in.

``flush_all()`` writes everything pending now (tests, jobs, the lottery before it draws).

Events that only count (likes, comments, shares) need no row of their own: with Redis, their ids
are remembered here rather than in the ingestion inbox (``remembers_ids``; ``claim_add``). One Lua
script, per event, records its id and body hash among the room's seen events for its store (small
hashes by a CRC of the id, ``SEEN_BUCKETS``) and adds its deltas, or answers duplicate (same
hash) or conflict (another): an event is counted
exactly once, atomically with remembering it, so a like storm costs the database nothing but
the flushes. The seen ids expire ``INBOX_KEEP_DAYS`` (at least 7) after the room's last such
event. (In memory they would not survive a restart, so the embedded install keeps the inbox.)
"""
from __future__ import annotations

import json
import logging
import threading
import time
import zlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from flask import Flask, current_app, has_app_context
from sqlalchemy import event, text
from sqlalchemy.orm import Session

from portal.extensions import db
from portal.kernel.sql import pg_array

log = logging.getLogger(__name__)

ROOM_FIELDS = ("likes", "comments", "shares", "follows", "watch_seconds", "viewers", "entered_sum")
VIEWER_FIELDS = ("comments", "shares")
KEEP_TAKEN_SECONDS = 10.0          # a taken batch stays readable this long after its flush
_STAGED = "portal.live.staged"     # Session.info key: [([SessionTransaction …], Staged)]
_NOTES = "portal.live.notes"       # Session.info key: [([SessionTransaction …], key, value)]
_CLAIMED = "portal.live.claimed"   # Session.info key: [([SessionTransaction …], store id, items counted)]
_EXT = "portal.live.counters"


@dataclass
class Staged:
    """What one handler call adds: room deltas, viewer deltas, and per room the seed (the
    database's online and peak as read) and the +1/−1 moves as (occurred_at, index, ±1)."""
    rooms: dict = field(default_factory=lambda: defaultdict(lambda: defaultdict(int)))
    viewers: dict = field(default_factory=lambda: defaultdict(lambda: defaultdict(int)))
    moves: dict = field(default_factory=lambda: defaultdict(list))
    seeds: dict = field(default_factory=dict)

    def add_room(self, room_id: int, name: str, n: int) -> None:
        if n:
            self.rooms[room_id][name] += n

    def add_viewer(self, room_id: int, member_id: int, name: str, n: int) -> None:
        if n:
            self.viewers[(room_id, member_id)][name] += n

    def move(self, room_id: int, at, index: int, step: int, seed: tuple[int, int]) -> None:
        self.moves[room_id].append((at, index, step))
        self.seeds.setdefault(room_id, seed)

    def merge(self, other: Staged) -> None:
        for r, d in other.rooms.items():
            for k, v in d.items():
                self.rooms[r][k] += v
        for key, d in other.viewers.items():
            for k, v in d.items():
                self.viewers[key][k] += v
        for r, moves in other.moves.items():
            self.moves[r].extend(moves)
            self.seeds.setdefault(r, other.seeds[r])


def _chain(session: Session) -> tuple[Session, list]:
    """The real session and the savepoints and transaction work done now lies in, innermost first."""
    if hasattr(session, "registry"):            # the scoped session: its session of this context
        session = session()
    tx = session.get_nested_transaction() or session.get_transaction()
    chain = []
    while tx is not None:
        chain.append(tx)
        tx = tx.parent
    return session, chain


def stage(session: Session, staged: Staged) -> None:
    """Hold ``staged`` until the session's transaction commits (discarded if the savepoint or the
    transaction it was staged in rolls back)."""
    session, chain = _chain(session)
    session.info.setdefault(_STAGED, []).append((chain, staged))


def note(session: Session, key: str, value) -> None:
    """Keep ``value`` under ``key`` for the rest of the transaction (what one handler of a batch
    tells a later one: the enters a leave must see); dropped like staged deltas on a rollback."""
    session, chain = _chain(session)
    session.info.setdefault(_NOTES, []).append((chain, key, value))


def notes(session: Session, key: str) -> list:
    """The values noted under ``key`` in this transaction, oldest first."""
    if hasattr(session, "registry"):
        session = session()
    return [value for _chain, k, value in session.info.get(_NOTES, ()) if k == key]


def claimed(session: Session, store_id: int, items: list) -> None:
    """``items`` were counted at once by ``claim_add`` inside the session's transaction: if that
    rolls back (the request failed after counting them), they are taken back (``unclaim``), so a
    batch that was not stored counts nothing, as staged deltas do."""
    if items:
        session, chain = _chain(session)
        session.info.setdefault(_CLAIMED, []).append((chain, store_id, items))


@event.listens_for(Session, "after_soft_rollback")
def _discard(session: Session, previous_transaction) -> None:
    counted = session.info.get(_CLAIMED)
    if counted:
        back = [(store_id, items) for chain, store_id, items in counted
                if any(tx is previous_transaction for tx in chain)]
        session.info[_CLAIMED] = [entry for entry in counted if not any(tx is previous_transaction for tx in entry[0])]
        if back and has_app_context():
            try:
                for store_id, items in back:
                    aggregator().unclaim(store_id, items)
            except Exception:       # Redis down: those events stay counted (a retry is a duplicate)
                log.exception("live counters: could not take back the counts of a rolled-back batch")
    entries = session.info.get(_STAGED)
    if entries:
        session.info[_STAGED] = [(chain, staged) for chain, staged in entries
                                 if not any(tx is previous_transaction for tx in chain)]
    kept = session.info.get(_NOTES)
    if kept:
        session.info[_NOTES] = [(chain, k, v) for chain, k, v in kept
                                if not any(tx is previous_transaction for tx in chain)]


@event.listens_for(Session, "after_commit")
def _hand_over(session: Session) -> None:
    if session.get_nested_transaction() is not None:
        return                   # a savepoint released (SQLAlchemy tells that too): not committed yet
    session.info.pop(_NOTES, None)
    session.info.pop(_CLAIMED, None)
    entries = session.info.pop(_STAGED, None)
    if not entries or not has_app_context():
        return
    total = Staged()
    for _chain, staged in entries:
        total.merge(staged)
    if not (total.rooms or total.viewers or total.moves):
        return
    try:
        aggregator().add(total)
    except Exception:            # the events are stored; only their counts are lost (Redis down)
        log.exception("live counters: could not hand over a committed batch's counts")


# --------------------------------------------------------------------------- the backends

def _field(room_id: int, name: str) -> str:
    return f"{room_id}|{name}"


def _vfield(room_id: int, member_id: int, name: str) -> str:
    return f"{room_id}|{member_id}|{name}"


def field_key(room_id: int, name: str, member_id: int | None = None) -> str:
    """The aggregator's key of a room's counter ``name``, or of a viewer's (``member_id``)."""
    return _field(room_id, name) if member_id is None else _vfield(room_id, member_id, name)


def _sequences(staged: Staged) -> dict[int, tuple[tuple[int, int], list[int]]]:
    """Per room: the seed and the ±1 steps in the order they occurred."""
    return {r: (staged.seeds[r], [step for _at, _i, step in sorted(moves, key=lambda m: (m[0], m[1]))])
            for r, moves in staged.moves.items()}


def _flat(staged: Staged) -> dict[str, int]:
    out: dict[str, int] = {}
    for r, d in staged.rooms.items():
        for k, v in d.items():
            if v:
                out[_field(r, k)] = v
    for (r, m), d in staged.viewers.items():
        for k, v in d.items():
            if v:
                out[_vfield(r, m, k)] = v
    return out


@dataclass
class Batch:
    """What a flush took: flat deltas, the rooms to write, their online/peak then."""
    id: int
    deltas: dict[str, int]
    rooms: set[int]
    state: dict[int, tuple[int, int]]


class Aggregator:
    """Common part: the timer, the flush, the read. Backends: ``MemoryAggregator``, ``RedisAggregator``."""

    def __init__(self, app: Flask):
        self.app = app
        self.interval = float(app.config.get("LIVE_FLUSH_SECONDS", 0.25))
        self._timer: threading.Timer | None = None
        self._timer_lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self.timer_enabled = bool(app.config.get("LIVE_FLUSH_TIMER", True))

    # -- the timer
    def _schedule(self, delay: float | None = None) -> None:
        if not self.timer_enabled:
            return
        with self._timer_lock:
            if self._timer is not None:
                return
            self._timer = threading.Timer(self.interval if delay is None else delay, self._tick)
            self._timer.daemon = True
            self._timer.name = "live-counters-flush"
            self._timer.start()

    def _tick(self) -> None:
        with self._timer_lock:
            self._timer = None
        try:
            with self.app.app_context():
                wait = self.flush()
        except Exception:                    # a flush that failed put its batch back
            log.exception("live counters: flush failed; retrying")
            wait = self.interval
        if wait is not None or self.has_pending():
            self._schedule(wait if wait is not None else self.interval)

    def cancel(self) -> None:
        with self._timer_lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None

    # -- the flush
    def flush(self, *, force: bool = False) -> float | None:
        """Write what is pending, unless another flusher holds the turn (then: seconds to wait)."""
        wait = self._acquire(force)
        if wait is not None:
            return wait
        try:
            with self._flush_lock:
                batch = self._take()
                if batch is None:
                    return None
                try:
                    self._write(batch)
                except Exception:
                    self._put_back(batch)
                    raise
                self._done(batch)
        finally:
            self._release()
        return None

    def _write(self, batch: Batch) -> None:
        rooms: dict[int, dict[str, int]] = defaultdict(dict)
        viewers: dict[tuple[int, int], dict[str, int]] = defaultdict(dict)
        for key, value in batch.deltas.items():
            parts = key.split("|")
            if len(parts) == 2:
                rooms[int(parts[0])][parts[1]] = value
            else:
                viewers[(int(parts[0]), int(parts[1]))][parts[2]] = value
        touched = set(rooms) | batch.rooms
        engine = db.engine
        tags: dict[int, int] = {}
        with engine.begin() as conn:
            for room_id in sorted(touched):
                d = rooms.get(room_id, {})
                online, peak = batch.state.get(room_id, (None, None))
                sets = [f"{name} = {name} + :{name}" for name in ROOM_FIELDS]
                params = {name: d.get(name, 0) for name in ROOM_FIELDS}
                if online is not None:
                    sets.append("online = :online")
                    sets.append("peak_online = CASE WHEN peak_online < :peak THEN :peak ELSE peak_online END")
                    params.update(online=online, peak=peak)
                params["id"] = room_id
                flushes = conn.execute(text(f"UPDATE live_rooms SET {', '.join(sets)}, flushes = flushes + 1 "
                                            "WHERE id = :id RETURNING flushes"), params).scalar()
                if flushes is not None:
                    tags[room_id] = flushes
            rows = [{"r": r, "m": m, "c": d.get("comments", 0), "s": d.get("shares", 0)}
                    for (r, m), d in viewers.items()]
            if rows and conn.dialect.name == "postgresql":
                conn.execute(text(
                    "UPDATE live_viewers AS v SET comments = v.comments + u.c, shares = v.shares + u.s "
                    "FROM unnest(CAST(:r AS integer[]), CAST(:m AS bigint[]), CAST(:c AS integer[]), "
                    "CAST(:s AS integer[])) AS u(r, m, c, s) WHERE v.room_id = u.r AND v.member_id = u.m"),
                    {k: pg_array([x[k] for x in rows]) for k in ("r", "m", "c", "s")})
            elif rows:
                conn.execute(text("UPDATE live_viewers SET comments = comments + :c, shares = shares + :s "
                                  "WHERE room_id = :r AND member_id = :m"), rows)
            self._tag(batch, tags)           # before the commit: a reader that sees it knows it is in

    def flush_all(self) -> None:
        """Write everything pending now (waits for a flush under way)."""
        for _ in range(100):
            self.flush(force=True)
            if not self.has_pending():
                return

    # -- reading
    def current(self, rows: list[dict]) -> list[dict]:
        """``rows`` (a room's id and counter columns with ``flushes``, as read from the database)
        with what the database does not hold yet added."""
        if not rows:
            return rows
        ids = [r["id"] for r in rows]
        pending, taken, state = self._snapshot(ids)
        out = []
        for row in rows:
            row = dict(row)
            rid = row["id"]
            for name in ROOM_FIELDS:
                row[name] = (row.get(name) or 0) + pending.get(_field(rid, name), 0)
            for tag, deltas in taken:
                at = tag.get(rid)
                if at is not None and at <= row.get("flushes", 0):
                    continue                   # that flush is in the row already
                for name in ROOM_FIELDS:
                    row[name] += deltas.get(_field(rid, name), 0)
            if rid in state:
                online, peak = state[rid]
                row["online"] = online
                row["peak_online"] = max(row.get("peak_online") or 0, peak)
            out.append(row)
        return out

    # -- events counted without an inbox row (module docstring)
    remembers_ids = False

    def claim_add(self, store_id: int, items: list[tuple[int, str, str, dict[str, int]]],
                  keep_seconds: int) -> list[int]:
        """For each (room id, event id, body hash, flat deltas): 0 counted now, 1 duplicate, 2 conflict."""
        raise NotImplementedError

    def unclaim(self, store_id: int, items: list[tuple[int, str, str, dict[str, int]]]) -> None:
        """Take back what ``claim_add`` counted for ``items`` (their transaction rolled back)."""
        raise NotImplementedError

    # -- backend hooks
    def add(self, staged: Staged) -> None: raise NotImplementedError
    def has_pending(self) -> bool: raise NotImplementedError
    def reset(self) -> None: raise NotImplementedError
    def _acquire(self, force: bool) -> float | None: raise NotImplementedError
    def _release(self) -> None: raise NotImplementedError
    def _take(self) -> Batch | None: raise NotImplementedError
    def _tag(self, batch: Batch, tags: dict[int, int]) -> None: raise NotImplementedError
    def _done(self, batch: Batch) -> None: raise NotImplementedError
    def _put_back(self, batch: Batch) -> None: raise NotImplementedError
    def _snapshot(self, ids: list[int]) -> tuple[dict, list, dict]: raise NotImplementedError


class MemoryAggregator(Aggregator):
    """The process's own buffer (the embedded install): a dict under a lock."""

    def __init__(self, app: Flask):
        super().__init__(app)
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        self.cancel()
        with self._flush_lock, self._lock:          # a flush under way finishes first
            self._pending: dict[str, int] = defaultdict(int)
            self._moved: set[int] = set()
            self._state: dict[int, list[int]] = {}
            self._taken: dict[int, tuple[float | None, dict[int, int], Batch]] = {}
            self._seq = 0
            self._last = 0.0

    def add(self, staged: Staged) -> None:
        with self._lock:
            for key, value in _flat(staged).items():
                self._pending[key] += value
            for room_id, ((online, peak), steps) in _sequences(staged).items():
                state = self._state.setdefault(room_id, [online, peak])
                for step in steps:
                    state[0] += step
                    if state[0] > state[1]:
                        state[1] = state[0]
                self._moved.add(room_id)
        self._schedule(max(0.0, self._last + self.interval - time.monotonic()))

    def has_pending(self) -> bool:
        with self._lock:
            return bool(self._pending or self._moved)

    def _acquire(self, force: bool) -> float | None:
        now = time.monotonic()
        if not force:
            wait = self._last + self.interval - now
            if wait > 0:
                return wait
        # The turn is taken when the flush starts: deltas added while it writes wait a whole
        # interval for the next one, instead of scheduling a second flush right behind it.
        self._last = now
        return None

    def _release(self) -> None:
        self._last = time.monotonic()

    def _take(self) -> Batch | None:
        with self._lock:
            if not self._pending and not self._moved:
                return None
            self._seq += 1
            batch = Batch(self._seq, dict(self._pending), set(self._moved),
                          {r: tuple(self._state[r]) for r in self._moved if r in self._state})
            self._pending = defaultdict(int)
            self._moved = set()
            self._taken[batch.id] = (None, {}, batch)
            return batch

    def _tag(self, batch: Batch, tags: dict[int, int]) -> None:
        with self._lock:
            self._taken[batch.id] = (None, dict(tags), batch)

    def _done(self, batch: Batch) -> None:
        now = time.monotonic()
        with self._lock:
            _t, tags, _b = self._taken[batch.id]
            self._taken[batch.id] = (now, tags, batch)
            for bid, (at, _tags, _batch) in list(self._taken.items()):
                if at is not None and at < now - KEEP_TAKEN_SECONDS:
                    del self._taken[bid]

    def _put_back(self, batch: Batch) -> None:
        with self._lock:
            self._taken.pop(batch.id, None)
            for key, value in batch.deltas.items():
                self._pending[key] += value
            self._moved |= batch.rooms

    def _snapshot(self, ids: list[int]) -> tuple[dict, list, dict]:
        wanted = set(ids)
        with self._lock:
            pending = {k: v for k, v in self._pending.items() if int(k.split("|", 1)[0]) in wanted}
            taken = [(tags, batch.deltas) for _at, tags, batch in self._taken.values()]
            state = {r: tuple(self._state[r]) for r in wanted if r in self._state}
        return pending, taken, state


# Redis: KEYS[1] pending hash, KEYS[2] state hash, KEYS[3] moved set. ARGV[1] the batch as one
# JSON document (redis-py packs one argument, not one per delta and step: packing thousands of
# arguments cost more than the script): {"d": [[field, delta] …], "r": [[room, seed online,
# seed peak, [±1 …]] …]}.
_ADD = """
local batch = cjson.decode(ARGV[1])
for _, fd in ipairs(batch['d']) do
  redis.call('HINCRBY', KEYS[1], fd[1], fd[2])
end
for _, r in ipairs(batch['r']) do
  local room = tostring(r[1])
  local online = tonumber(redis.call('HGET', KEYS[2], room .. '|online') or r[2])
  local peak = tonumber(redis.call('HGET', KEYS[2], room .. '|peak') or r[3])
  for _, step in ipairs(r[4]) do
    online = online + step
    if online > peak then peak = online end
  end
  redis.call('HSET', KEYS[2], room .. '|online', online, room .. '|peak', peak)
  redis.call('SADD', KEYS[3], room)
end
return 1
"""

# KEYS[1] pending, KEYS[2] moved, KEYS[3] state, KEYS[4] taken zset, KEYS[5] batch hash, KEYS[6] batch rooms
# ARGV[1] batch id. Returns {deltas flat, rooms, state flat} or false.
_TAKE = """
local has_p = redis.call('EXISTS', KEYS[1]) == 1
local has_m = redis.call('EXISTS', KEYS[2]) == 1
if not has_p and not has_m then return false end
local deltas = {}
if has_p then
  redis.call('RENAME', KEYS[1], KEYS[5])
  deltas = redis.call('HGETALL', KEYS[5])
else
  redis.call('HSET', KEYS[5], '_', 0)
end
local rooms = {}
local state = {}
if has_m then
  redis.call('RENAME', KEYS[2], KEYS[6])
  rooms = redis.call('SMEMBERS', KEYS[6])
  for _, r in ipairs(rooms) do
    table.insert(state, r)
    table.insert(state, redis.call('HGET', KEYS[3], r .. '|online') or '0')
    table.insert(state, redis.call('HGET', KEYS[3], r .. '|peak') or '0')
  end
end
redis.call('ZADD', KEYS[4], 0, ARGV[1])
return {deltas, rooms, state}
"""

# KEYS[1] pending, KEYS[2] taken zset, KEYS[3] state; ARGV: prefix, then room ids.
# Returns {pending flat (room fields only), {batch id, tags flat, deltas flat}..., state flat}.
_READ = """
local fields = {'likes', 'comments', 'shares', 'follows', 'watch_seconds', 'viewers', 'entered_sum'}
local function pick(key, rooms)
  local out = {}
  for _, r in ipairs(rooms) do
    for _, f in ipairs(fields) do
      local v = redis.call('HGET', key, r .. '|' .. f)
      if v then table.insert(out, r .. '|' .. f); table.insert(out, v) end
    end
  end
  return out
end
local rooms = {}
for i = 2, #ARGV do table.insert(rooms, ARGV[i]) end
local pending = pick(KEYS[1], rooms)
local taken = {}
for _, bid in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
  table.insert(taken, {bid, redis.call('HGETALL', ARGV[1] .. 'tag:' .. bid), pick(ARGV[1] .. 'batch:' .. bid, rooms)})
end
local state = {}
for _, r in ipairs(rooms) do
  local o = redis.call('HGET', KEYS[3], r .. '|online')
  if o then
    table.insert(state, r); table.insert(state, o); table.insert(state, redis.call('HGET', KEYS[3], r .. '|peak'))
  end
end
return {pending, taken, state}
"""


# KEYS[1] pending; ARGV[1] seconds to keep, ARGV[2] the seen hashes' key prefix, ARGV[3] the
# events as one JSON document: [[seen key suffix, event id, hash, [[field, delta] …]] …].
# Returns one character per event, 0 (counted now), 1 (duplicate) or 2 (conflict): a string, not
# an array (redis-py reads an array element by element, a line each).
_CLAIM_ADD = """
local keep = tonumber(ARGV[1])
local out = {}
local touched = {}
for _, it in ipairs(cjson.decode(ARGV[3])) do
  local key = ARGV[2] .. it[1]
  local old = redis.call('HGET', key, it[2])
  if not old then
    redis.call('HSET', key, it[2], it[3])
    for _, fd in ipairs(it[4]) do
      redis.call('HINCRBY', KEYS[1], fd[1], fd[2])
    end
    out[#out + 1] = 0
  elseif old == it[3] then
    out[#out + 1] = 1
  else
    out[#out + 1] = 2
  end
  touched[key] = true
end
for key, _ in pairs(touched) do redis.call('EXPIRE', key, keep) end
return table.concat(out)
"""

# The same arguments as _CLAIM_ADD, for events it counted: forget each id (if it is still this
# body's) and subtract its deltas.
_UNCLAIM = """
for _, it in ipairs(cjson.decode(ARGV[3])) do
  local key = ARGV[2] .. it[1]
  if redis.call('HGET', key, it[2]) == it[3] then
    redis.call('HDEL', key, it[2])
    for _, fd in ipairs(it[4]) do
      redis.call('HINCRBY', KEYS[1], fd[1], -fd[2])
    end
  end
end
return 1
"""

# The seen ids of a room and store are spread over this many small hashes: Redis keeps a hash of
# up to 128 short entries as one packed list (about 30 bytes an id here) but a larger one as a
# hash table (about 90): a 100,000-viewer room's 375,000 counted events weigh about 11 MB kept
# for INBOX_KEEP_DAYS, not 34.
SEEN_BUCKETS = 1024
DIGEST_CHARS = 12      # 48 bits of the body's SHA-256: tells a resend from another body under its id


_json = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def _pairs(flat) -> dict[str, int]:
    return {_s(flat[i]): int(flat[i + 1]) for i in range(0, len(flat), 2)}


def _s(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class RedisAggregator(Aggregator):
    """Redis (production): hashes every worker adds to; a lock (one flusher at a time) and a
    spacing key (one flush per interval) shared by every worker."""

    def __init__(self, app: Flask, client=None, prefix: str | None = None):
        super().__init__(app)
        import redis

        self.redis = client or redis.Redis.from_url(app.config["REDIS_URL"])
        self.prefix = prefix if prefix is not None else app.config.get("LIVE_REDIS_PREFIX", "portal:live:")
        p = self.prefix
        self.k_pending, self.k_state, self.k_moved = p + "pending", p + "state", p + "moved"
        self.k_taken, self.k_lock, self.k_seq, self.k_next = p + "taken", p + "lock", p + "seq", p + "next"
        self._add = self.redis.register_script(_ADD)
        self._take_script = self.redis.register_script(_TAKE)
        self._read = self.redis.register_script(_READ)
        self._claim_add = self.redis.register_script(_CLAIM_ADD)
        self._unclaim = self.redis.register_script(_UNCLAIM)
        self._unlock = self.redis.register_script(
            "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0")
        self._token = None

    def reset(self) -> None:
        self.cancel()
        with self._flush_lock:                      # a flush under way finishes first
            pass
        keys = list(self.redis.scan_iter(match=self.prefix + "*", count=1000))
        if keys:
            self.redis.delete(*keys)

    def add(self, staged: Staged) -> None:
        deltas = list(_flat(staged).items())
        rooms = [[room_id, online, peak, steps] for room_id, ((online, peak), steps) in _sequences(staged).items()]
        if deltas or rooms:
            self._add(keys=[self.k_pending, self.k_state, self.k_moved], args=[_json({"d": deltas, "r": rooms})])
            self._schedule(self.interval)

    remembers_ids = True

    def claim_add(self, store_id: int, items: list[tuple[int, str, str, dict[str, int]]],
                  keep_seconds: int) -> list[int]:
        if not items:
            return []
        answer = self._claim_add(keys=[self.k_pending], args=self._claim_args(keep_seconds, store_id, items))
        got = [int(x) for x in _s(answer)]
        if 0 in got:
            self._schedule(self.interval)
        return got

    def unclaim(self, store_id: int, items: list[tuple[int, str, str, dict[str, int]]]) -> None:
        if items:
            self._unclaim(keys=[self.k_pending], args=self._claim_args(0, store_id, items))
            self._schedule(self.interval)

    def _claim_args(self, keep_seconds: int, store_id: int, items) -> list:
        return [keep_seconds, self.prefix + "seen:",
                _json([[f"{room_id}:{store_id}:{zlib.crc32(event_id.encode()) % SEEN_BUCKETS}", event_id,
                        digest[:DIGEST_CHARS], list(deltas.items())]
                       for room_id, event_id, digest, deltas in items])]

    def has_pending(self) -> bool:
        return bool(self.redis.exists(self.k_pending, self.k_moved))

    def _acquire(self, force: bool) -> float | None:
        """The flusher's turn: the lock (one flusher at a time, every worker) and, unless forced,
        the spacing (no flush within ``interval`` of the last one, whichever worker made it)."""
        import secrets

        if not force:
            ttl = self.redis.pttl(self.k_next)
            if ttl and ttl > 0:
                return ttl / 1000
        token = secrets.token_hex(8)
        for _ in range(500 if force else 1):
            if self.redis.set(self.k_lock, token, nx=True, px=10_000):
                self._token = token
                return None
            if not force:
                break
            time.sleep(0.01)
        # Another worker is flushing: look again in an interval. (Not the lock's expiry, which
        # only bounds a flusher that died: waiting for it left what this worker added last
        # unwritten for up to 10 s after the flood stopped.)
        return self.interval

    def _release(self) -> None:
        if self._token is None:
            return
        self.redis.set(self.k_next, 1, px=max(1, int(self.interval * 1000)))
        self._unlock(keys=[self.k_lock], args=[self._token])
        self._token = None

    def _take(self) -> Batch | None:
        bid = int(self.redis.incr(self.k_seq))
        got = self._take_script(keys=[self.k_pending, self.k_moved, self.k_state, self.k_taken,
                                      f"{self.prefix}batch:{bid}", f"{self.prefix}rooms:{bid}"], args=[bid])
        if not got:
            return None
        deltas, rooms, state = got
        d = _pairs(deltas)
        d.pop("_", None)
        st = {int(_s(state[i])): (int(state[i + 1]), int(state[i + 2])) for i in range(0, len(state), 3)}
        return Batch(bid, d, {int(_s(r)) for r in rooms}, st)

    def _tag(self, batch: Batch, tags: dict[int, int]) -> None:
        if tags:
            self.redis.hset(f"{self.prefix}tag:{batch.id}", mapping={str(k): v for k, v in tags.items()})

    def _done(self, batch: Batch) -> None:
        now = time.time()
        pipe = self.redis.pipeline()
        pipe.zadd(self.k_taken, {str(batch.id): now})
        pipe.delete(f"{self.prefix}rooms:{batch.id}")
        pipe.execute()
        old = [_s(b) for b in self.redis.zrangebyscore(self.k_taken, 1, now - KEEP_TAKEN_SECONDS)]
        if old:
            pipe = self.redis.pipeline()
            for bid in old:
                pipe.delete(f"{self.prefix}batch:{bid}", f"{self.prefix}tag:{bid}")
            pipe.zrem(self.k_taken, *old)
            pipe.execute()

    def _put_back(self, batch: Batch) -> None:
        pipe = self.redis.pipeline()
        for key, value in batch.deltas.items():
            pipe.hincrby(self.k_pending, key, value)
        if batch.rooms:
            pipe.sadd(self.k_moved, *batch.rooms)
        pipe.delete(f"{self.prefix}batch:{batch.id}", f"{self.prefix}tag:{batch.id}",
                    f"{self.prefix}rooms:{batch.id}")
        pipe.zrem(self.k_taken, str(batch.id))
        pipe.execute()

    def _snapshot(self, ids: list[int]) -> tuple[dict, list, dict]:
        pending, taken, state = self._read(keys=[self.k_pending, self.k_taken, self.k_state],
                                           args=[self.prefix, *ids])
        batches = [({int(k): v for k, v in _pairs(tags).items()}, _pairs(deltas)) for _bid, tags, deltas in taken]
        st = {int(_s(state[i])): (int(state[i + 1]), int(state[i + 2])) for i in range(0, len(state), 3)}
        return _pairs(pending), batches, st


# --------------------------------------------------------------------------- the app's aggregator

def make_aggregator(app: Flask) -> Aggregator:
    kind = app.config.get("LIVE_COUNTERS") or ("redis" if app.config.get("REDIS_URL") else "memory")
    return RedisAggregator(app) if kind == "redis" else MemoryAggregator(app)


def aggregator(app: Flask | None = None) -> Aggregator:
    """The app's aggregator (made on first use from its config)."""
    app = app or current_app._get_current_object()
    found = app.extensions.get(_EXT)
    if found is None:
        found = app.extensions[_EXT] = make_aggregator(app)
    return found


def use(app: Flask, agg: Aggregator) -> Aggregator:
    """Make ``agg`` the app's aggregator (tests: a Redis one with a prefix of their own)."""
    old = app.extensions.get(_EXT)
    if old is not None and old is not agg:
        old.cancel()
    app.extensions[_EXT] = agg
    return agg


def flush_all() -> None:
    aggregator().flush_all()


def current(rows: Iterable[dict]) -> list[dict]:
    return aggregator().current(list(rows))


def reset() -> None:
    """Forget everything pending (tests, after their data is wiped)."""
    found = current_app.extensions.get(_EXT)
    if found is not None:
        found.reset()


__all__ = ["ROOM_FIELDS", "VIEWER_FIELDS", "Aggregator", "MemoryAggregator", "RedisAggregator", "Staged", "aggregator",
           "claimed", "current", "field_key", "flush_all", "make_aggregator", "note", "notes", "reset", "stage", "use"]
