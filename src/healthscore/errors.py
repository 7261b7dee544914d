"""Errors a user can cause, typed. Each class says what went wrong in kind (invalid, not found, conflict,
forbidden, busy ...); the CLI renders it as one clear message with its exit code and the API as a JSON body
with its HTTP status and field. Nothing is guessed from a message's wording.

Messages name the thing at fault (file, key, row, value) and what would be right, in words that suit every
caller: a CLI flag or an API field is named through `field`, and each interface renders it its own way
(`--status` on the command line, `"field": "status"` in the API)."""

from __future__ import annotations

from typing import Any, ClassVar


class UserError(Exception):
    """A problem in the user's input: a file, a key, a row or a value, and what would be right."""

    kind: ClassVar[str] = "invalid"
    exit_code: ClassVar[int] = 2
    status_code: ClassVar[int] = 400

    def __init__(self, message: str, *, details: list[str] | None = None, field: str | None = None,
                 location: str | None = None, object_id: str | None = None):
        super().__init__(message)
        self.message = message
        self.details = details or []
        self.field = field  # the input at fault: a CLI option / API field name without dashes ("status")
        self.location = location  # a file, file:line, table:row or URL path
        self.object_id = object_id  # the account, task, model version ... the error is about

    def __str__(self) -> str:
        if not self.details:
            return self.message
        return self.message + "\n" + "\n".join(f"  - {d}" for d in self.details)

    def to_dict(self) -> dict[str, Any]:
        """The API's error body: stable keys, present only when known."""
        body: dict[str, Any] = {"error": str(self), "kind": self.kind}
        for key in ("field", "location", "object_id"):
            value = getattr(self, key)
            if value is not None:
                body[key] = value
        if self.details:
            body["details"] = self.details
        return body


class InvalidInput(UserError):
    """A value, file or configuration that cannot be used as given (HTTP 400 / 422 for a field)."""


class NotFound(UserError):
    """The named account, task, model version, file or user does not exist (HTTP 404)."""

    kind = "not_found"
    status_code = 404


class Conflict(UserError):
    """The request clashes with what is already there: already decided, already exists (HTTP 409)."""

    kind = "conflict"
    status_code = 409


class Unauthenticated(UserError):
    """Nobody verified is acting (HTTP 401)."""

    kind = "unauthenticated"
    status_code = 401


class AccessDenied(UserError):
    """The user is known but may not do this (HTTP 403)."""

    kind = "forbidden"
    status_code = 403


class TooLarge(UserError):
    """A request body or file bigger than the configured limit (HTTP 413)."""

    kind = "too_large"
    status_code = 413


class TooManyAttempts(UserError):
    """Throttled: retry after `retry_after` seconds (HTTP 429)."""

    kind = "throttled"
    status_code = 429

    def __init__(self, message: str, retry_after: int, **kw: Any):
        super().__init__(message, **kw)
        self.retry_after = retry_after


class EngineBusy(UserError):
    """The engine's file is held by another process (a CLI run, another server worker): try again (HTTP 503;
    exit 2 like every user error, as scripts already expect of a second writer)."""

    kind = "busy"
    status_code = 503
