"""Login throttling: failed logins counted per user name and per client in moving windows; past the limit,
logins are refused (429) until the window moves on, the right password too. The failures are kept in the store,
so every worker process of the web app (`serve --workers N`) counts the same ones: kept per process, N workers
allowed N times the attempts (OWASP ASVS 2.2.1). An attempt is counted before its password is checked, one at a
time (store/governance.py `reserve_login_attempt`): checked first, concurrent guesses all passed the check."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, NamedTuple

from healthscore.errors import TooManyAttempts

if TYPE_CHECKING:
    from healthscore.store.store import Store


class Limit(NamedTuple):
    attempts: int
    window: timedelta


class LoginThrottle:
    PER_USER = Limit(5, timedelta(minutes=15))  # a user name, whichever client tries it (and unknown names alike)
    PER_CLIENT = Limit(20, timedelta(minutes=15))  # a client address, whichever names it tries

    def __init__(self, store: Callable[[], Store], per_user: Limit = PER_USER, per_client: Limit = PER_CLIENT,
                 clock: Callable[[], datetime] | None = None):
        from healthscore.store.common import utcnow

        self.store, self.clock = store, clock or utcnow
        self.per_user, self.per_client = per_user, per_client

    def _subjects(self, username: str, client: str) -> list[tuple[Limit, str, str]]:
        return [(self.per_user, "user", username.strip().lower()), (self.per_client, "client", client)]

    def attempt(self, username: str, client: str) -> list[int]:
        """Count a login attempt as failed until its password proves right (`succeeded`), or refuse it (429) when
        the user name or the client has used up its failed attempts. Counted before the password is checked, in
        one turn of the store, so that concurrent attempts (threads of one worker, or several workers) cannot all
        pass a check made before any of them failed. A refused attempt is not counted."""
        now = self.clock()
        subjects = self._subjects(username, client)
        longest = max(limit.window for limit, _, _ in subjects)
        ids, refused = self.store().reserve_login_attempt(
            [(scope, subject, limit.attempts, now - limit.window) for limit, scope, subject in subjects], now,
            now - longest)
        if refused is not None:
            scope, failed = refused
            limit = next(limit for limit, s, _ in subjects if s == scope)
            # a moving window: one more attempt once enough of these failures have left it
            wait = max(1, math.ceil((failed[len(failed) - limit.attempts] + limit.window - now).total_seconds()))
            who = "this user" if scope == "user" else "this client"
            raise TooManyAttempts(f"too many failed logins for {who}: locked for {math.ceil(wait / 60)} more"
                                  " minute(s)", wait)
        return ids

    def succeeded(self, username: str, attempt: list[int]) -> None:
        """The attempt's password was right: it does not count, and the user's earlier failures are forgiven (the
        client's are not)."""
        _, scope, subject = self._subjects(username, "")[0]
        self.store().forget_login_attempt(attempt, clear=(scope, subject))
