"""Who is acting on a request: a session's user or an API token's user with its scopes."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Principal:
    username: str
    role: str
    via: str  # "session" or "token"
    scopes: tuple[str, ...] = ()

    def has_scope(self, scope: str) -> bool:
        return self.via == "session" or scope in self.scopes
