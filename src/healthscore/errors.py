"""Errors a user can cause. The CLI prints them as one clear message and exits with code 2."""

from __future__ import annotations


class UserError(Exception):
    """A problem in the user's input: a file, a key, a row or a value, and what would be right."""

    exit_code = 2

    def __init__(self, message: str, *, details: list[str] | None = None):
        super().__init__(message)
        self.message = message
        self.details = details or []

    def __str__(self) -> str:
        if not self.details:
            return self.message
        return self.message + "\n" + "\n".join(f"  - {d}" for d in self.details)
