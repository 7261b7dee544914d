"""Login throttling: failed logins counted per user name and per client in moving windows (the `limits`
library); past the limit, logins are refused (429) until the window moves on, the right password too."""

from __future__ import annotations

import math
import time

from healthscore.errors import TooManyAttempts


class LoginThrottle:
    PER_USER = "5 per 15 minutes"  # a user name, whichever client tries it (and names that do not exist alike)
    PER_CLIENT = "20 per 15 minutes"  # a client address, whichever names it tries

    def __init__(self, per_user: str = PER_USER, per_client: str = PER_CLIENT):
        from limits import parse
        from limits.storage import MemoryStorage
        from limits.strategies import MovingWindowRateLimiter

        self.limiter = MovingWindowRateLimiter(MemoryStorage())
        self.per_user, self.per_client = parse(per_user), parse(per_client)

    def _keys(self, username: str, client: str):
        return ((self.per_user, "login-user", username.strip().lower()), (self.per_client, "login-client", client))

    def check(self, username: str, client: str) -> None:
        """Refuse (429) when the user name or the client has used up its failed attempts."""
        for limit, *key in self._keys(username, client):
            if not self.limiter.test(limit, *key):
                reset = self.limiter.get_window_stats(limit, *key).reset_time
                wait = max(1, math.ceil(reset - time.time()))
                who = "this user" if key[0] == "login-user" else "this client"
                raise TooManyAttempts(f"too many failed logins for {who}: locked for {math.ceil(wait / 60)} more"
                                      " minute(s)", wait)

    def failed(self, username: str, client: str) -> None:
        for limit, *key in self._keys(username, client):
            self.limiter.hit(limit, *key)

    def succeeded(self, username: str) -> None:
        limit, *key = self._keys(username, "")[0]
        self.limiter.clear(limit, *key)
