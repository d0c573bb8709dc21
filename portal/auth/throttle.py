"""Failed-login throttling with the ``limits`` library (the engine behind Flask-Limiter).

Three moving windows, all of which expire on their own, so nobody is ever locked out for good:
- one account from one address: stops a guesser quickly without locking the real user, who
  signs in from another address;
- one address across accounts: stops spraying many usernames;
- one account across addresses: a high ceiling against distributed guessing, lifting after an hour.
  An attacker could keep this one full for good, so it does not apply to a browser the user has
  signed in from before (see ``known_browser``); the other two windows still do.
Only failures count; a success clears the account-from-this-address window.
"""
from __future__ import annotations

import math
import time

from flask import current_app
from limits import parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter


class LoginThrottle:
    def __init__(self, storage_uri: str, per_account_ip: str, per_ip: str, per_account: str):
        self.limiter = MovingWindowRateLimiter(storage_from_string(storage_uri))
        self.windows = (
            (parse(per_account_ip), lambda user, ip: ("acct-ip", user, ip)),
            (parse(per_ip), lambda user, ip: ("ip", ip)),
            (parse(per_account), lambda user, ip: ("acct", user)),
        )

    def retry_after(self, username: str, ip: str, *, known_browser: bool = False) -> int:
        """Seconds until another attempt is allowed; 0 when it is allowed now."""
        wait = 0.0
        for item, key in self.windows[:2] if known_browser else self.windows:
            ids = key(username.lower(), ip)
            if not self.limiter.test(item, *ids):
                reset, _remaining = self.limiter.get_window_stats(item, *ids)
                wait = max(wait, reset - time.time())
        return math.ceil(wait) if wait > 0 else 0

    def failed(self, username: str, ip: str) -> None:
        for item, key in self.windows:
            self.limiter.hit(item, *key(username.lower(), ip))

    def succeeded(self, username: str, ip: str) -> None:
        item, key = self.windows[0]
        self.limiter.clear(item, *key(username.lower(), ip))


def login_throttle() -> LoginThrottle:
    ext = current_app.extensions.get("login_throttle")
    if ext is None:
        cfg = current_app.config
        ext = current_app.extensions["login_throttle"] = LoginThrottle(
            cfg["LOGIN_THROTTLE_STORAGE"], cfg["LOGIN_LIMIT_ACCOUNT_IP"], cfg["LOGIN_LIMIT_IP"],
            cfg["LOGIN_LIMIT_ACCOUNT"],
        )
    return ext
