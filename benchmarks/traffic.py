"""A day of one store's mini-program traffic through the real signed ingestion API.

What the day holds (seeded, so the same --seed replays the same events and ids):

* the morning (08:00–11:00 Beijing time): new members sign up (most with a guide's code, some
  through a sharer, some with a verified phone);
* the day (10:00–21:30): orders of 1–3 cups of the demo menu, from today's members and from
  shoppers the portal has not seen yet (an order from an unknown openid creates the member), most
  under the demo's distribution plan when ``--plan`` is given, attributed to the guide and sharer;
* a few refunds: one cup of one line, or the whole order; one refund is sent *before* its order
  (answered ``held``, applied when the order arrives);
* retries: some batches are sent again unchanged, as a mini-program does after a timeout
  (answered ``duplicate``: applied once); a whole run again with the same ``--seed`` and ``--at``
  (printed at the end) is all ``duplicate``.

``--plan`` is the distribution plan's campaign id (the demo's 全员分销·导购与分享): the order
handler refuses a campaign that is not running in the store, so give the id the store joined.

Events go in small batches (``--batch``, as a mini-program flushes its queue), each request
signed right before it is sent: ``X-Portal-Key: <key id>`` and
``X-Portal-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>``. Times are
today's, never in the future (the day so far is compressed into the hours before now when the
script runs in the morning).

Usage (the portal running on 127.0.0.1:5000, e.g. ``bash .ci/demo``):

    flask --app wsgi issue-api-key S000001 --json > /tmp/key.json
    .venv/bin/python benchmarks/traffic.py --url http://127.0.0.1:5000 --credentials /tmp/key.json
    .venv/bin/python benchmarks/traffic.py --url http://127.0.0.1:5000 --store S000001 --key-id … --secret …

It prints the count of each HTTP status and of each event status, and exits 1 if any request
failed or any event was rejected (0 otherwise).
"""
from __future__ import annotations

import argparse
import hashlib
import hmac
import http.client
import json
import random
import sys
import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from portal.orders.demo import TZ, EventMaker, PaidOrder, Person, nickname  # noqa: E402

# --------------------------------------------------------------------------- the signed client

def sign(secret: str, body: bytes, t: int | None = None) -> str:
    """The ``X-Portal-Signature`` value for ``body``: ``t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>``."""
    t = int(time.time()) if t is None else t
    mac = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def signed_headers(key_id: str, secret: str, body: bytes, t: int | None = None) -> dict[str, str]:
    return {"Content-Type": "application/json", "X-Portal-Key": key_id,
            "X-Portal-Signature": sign(secret, body, t)}


def encode(events: list[dict]) -> bytes:
    return json.dumps({"events": events}, ensure_ascii=False, separators=(",", ":")).encode()


class Client:
    """One persistent HTTP/1.1 connection to the portal, posting signed event batches."""

    def __init__(self, url: str, store: str, key_id: str, secret: str, timeout: float = 30):
        parts = urlsplit(url)
        if parts.scheme != "http" or not parts.hostname:
            raise SystemExit(f"--url must be http://host:port, not {url!r}")
        self.host, self.port = parts.hostname, parts.port or 80
        self.path = f"{parts.path.rstrip('/')}/api/v1/stores/{store}/events"
        self.key_id, self.secret, self.timeout = key_id, secret, timeout
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)

    def post(self, body: bytes, headers: dict[str, str] | None = None) -> tuple[int, dict]:
        headers = headers or signed_headers(self.key_id, self.secret, body)
        for attempt in (1, 2):
            try:
                self.conn.request("POST", self.path, body=body, headers=headers)
                r = self.conn.getresponse()
                raw = r.read()
                break
            except (ConnectionError, http.client.HTTPException):
                self.conn.close()
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
                if attempt == 2:
                    raise
        try:
            answer = json.loads(raw or b"{}")
        except ValueError:
            answer = {"error": {"code": "not_json", "message": raw[:200].decode(errors="replace")}}
        return r.status, answer

    def close(self) -> None:
        self.conn.close()


# --------------------------------------------------------------------------- the day

def demo_menu() -> list[tuple[str, str, int]]:
    """The demo brand's menu (portal.campaigns.demo: G001…G015, 大杯 L and 中杯 M) with its list
    prices, without a database: the script only talks HTTP."""
    from portal.campaigns.demo import MENU

    out, n = [], 0
    for names in MENU.values():
        for name in names:
            n += 1
            base = 1500 + 100 * (n % 8)
            out += [(f"G{n:03d}-L", f"{name}（大杯）", base + 300), (f"G{n:03d}-M", f"{name}（中杯）", base)]
    return out


def day_events(store: str, *, seed: int, signups: int, orders: int, refunds: int, guides: list[str],
               plan_id: int | None, now: datetime | None = None, tag: str | None = None,
               batch: int = 10) -> list[dict]:
    """Today's events of ``store`` in time order, the early refund placed ``batch`` events before
    its order (so it arrives in an earlier request than its order, and is held)."""
    now = (now or datetime.now(TZ)).astimezone(TZ)
    rng = random.Random(seed)
    day = now.replace(hour=8, minute=0, second=0, microsecond=0)
    # Compress the day into what has passed of it (at least the last hour) so nothing is in the future.
    span = max(3600.0, (now - day).total_seconds() - 60) if now > day + timedelta(hours=1) else 3600.0
    start = now - timedelta(seconds=span) if now < day + timedelta(hours=14) else day

    def at(frac_from: float, frac_to: float) -> datetime:
        return start + timedelta(seconds=span * rng.uniform(frac_from, frac_to))

    maker = EventMaker(rng, tag or f"{store}-{now:%y%m%d}-{seed}", demo_menu(), guides, plan_id)
    timed: list[tuple[datetime, dict]] = []
    for t in sorted(at(0.0, 0.25) for _ in range(signups)):
        timed.append((t, maker.signup(t)))
    today = list(maker.people)
    walk_ins = []
    paid: list[tuple[datetime, PaidOrder]] = []
    for t in sorted(at(0.15, 0.97) for _ in range(orders)):
        if today and rng.random() < 0.7:
            person = rng.choice(today)
        else:           # a shopper not seen yet: the order creates the member
            person = Person(openid=f"o-{maker.tag}-w{len(walk_ins) + 1}", nickname=nickname(rng))
            walk_ins.append(person)
        event, order = maker.order(person, t)
        timed.append((t, event))
        paid.append((t, order))
    timed.sort(key=lambda pair: pair[0])
    events = [e for _t, e in timed]
    picked = rng.sample(paid, min(refunds, len(paid)))
    for k, (t, order) in enumerate(picked):
        back = min(now - timedelta(seconds=1), t + timedelta(minutes=rng.randint(10, 120)))
        back = max(back, t + timedelta(seconds=1))
        refund = maker.refund(order, back, full=k % 2 == 1)
        if k == 0:
            # Sent before its order: held, then applied when the order arrives.
            place = next(i for i, e in enumerate(events) if e["type"] == "order.paid"
                         and e["data"]["number"] == order.number)
            events.insert(max(0, place - batch), refund)
        else:
            events.append(refund)
    return events


def play(client: Client, events: list[dict], *, batch: int, retry_every: int, rng: random.Random,
         report=print) -> dict:
    """Send ``events`` in batches (a batch in every ``retry_every`` sent twice); count the answers."""
    http_status: Counter = Counter()
    event_status: Counter = Counter()
    rejected: list[dict] = []
    batches = [events[i:i + batch] for i in range(0, len(events), batch)]
    started = time.perf_counter()
    for n, chunk in enumerate(batches, 1):
        body = encode(chunk)
        sends = 2 if retry_every and n % retry_every == 0 else 1
        for _ in range(sends):
            status, answer = client.post(body)
            http_status[status] += 1
            if status != 200:
                rejected.append({"http": status, **answer})
                continue
            for result in answer.get("results", []):
                event_status[result.get("status")] += 1
                if result.get("status") == "rejected":
                    rejected.append(result)
    elapsed = time.perf_counter() - started
    return {"events": len(events), "batches": len(batches), "seconds": round(elapsed, 2),
            "http": dict(http_status), "results": dict(event_status), "rejected": rejected[:20]}


def load_credentials(args) -> tuple[str, str, str]:
    if args.credentials:
        raw = sys.stdin.read() if args.credentials == "-" else Path(args.credentials).read_text()
        cred = json.loads(raw)
        return args.store or cred["store"], cred["key_id"], cred["secret"]
    if not (args.store and args.key_id and args.secret):
        raise SystemExit("give --credentials FILE (flask issue-api-key CODE --json), "
                         "or --store, --key-id and --secret")
    return args.store, args.key_id, args.secret


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog=__doc__.split("\n\n", 1)[1])
    parser.add_argument("--url", default="http://127.0.0.1:5000", help="the portal (default %(default)s)")
    parser.add_argument("--credentials", help="the JSON of `flask issue-api-key CODE --json` (a file, or - for stdin)")
    parser.add_argument("--store", help="the store code (default: the credentials' store)")
    parser.add_argument("--key-id")
    parser.add_argument("--secret")
    parser.add_argument("--seed", type=int, default=1, help="same seed and --at, same events and ids")
    parser.add_argument("--signups", type=int, default=12)
    parser.add_argument("--orders", type=int, default=60)
    parser.add_argument("--refunds", type=int, default=4)
    parser.add_argument("--guides", default="DG01,DG02", help="guide codes of the store (default %(default)s)")
    parser.add_argument("--plan", type=int, help="the distribution plan's campaign id, for campaign_id")
    parser.add_argument("--batch", type=int, default=10, help="events per request (default %(default)s)")
    parser.add_argument("--retry-every", type=int, default=4,
                        help="send every Nth batch twice, as after a timeout (0: never; default %(default)s)")
    parser.add_argument("--at", help="the day's \"now\" (ISO 8601 with offset; default: now): the same --seed and "
                                     "--at send the same events again (a replay: all duplicate)")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    args = parser.parse_args(argv)

    store, key_id, secret = load_credentials(args)
    at = datetime.fromisoformat(args.at) if args.at else datetime.now(TZ).replace(microsecond=0)
    if at.tzinfo is None:
        raise SystemExit("--at needs its offset, e.g. 2026-03-02T20:30:00+08:00")
    events = day_events(store, seed=args.seed, signups=args.signups, orders=args.orders, refunds=args.refunds,
                        guides=[g for g in args.guides.split(",") if g], plan_id=args.plan, now=at,
                        batch=args.batch)
    client = Client(args.url, store, key_id, secret)
    try:
        out = play(client, events, batch=args.batch, retry_every=args.retry_every, rng=random.Random(args.seed))
    finally:
        client.close()
    out["store"] = store
    out["replay"] = f"--seed {args.seed} --at {at.isoformat()}"
    if args.json:
        print(json.dumps(out, ensure_ascii=False, indent=2))
    else:
        print(f"{store}: {out['events']} events in {out['batches']} batches, {out['seconds']} s")
        print("HTTP:   " + ", ".join(f"{k} × {v}" for k, v in sorted(out["http"].items())))
        print("events: " + ", ".join(f"{k} × {v}" for k, v in sorted(out["results"].items())))
        for r in out["rejected"][:5]:
            print(f"  rejected: {r}")
        print(f"replay the same events with {out['replay']}")
    return 1 if out["rejected"] else 0


if __name__ == "__main__":
    sys.exit(main())
