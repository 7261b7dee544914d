"""The options many commands share, defined once with their types, and the parsing of their values.

Values that need parsing (dates, durations) arrive as text and are parsed in the command, so a bad value is
a `UserError` that names its flag, printed by `cli.app.main` like every other user error."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, overload

import typer

from healthscore.errors import InvalidInput

if TYPE_CHECKING:
    from healthscore.project import Project

Workspace = Annotated[Path, typer.Option("-w", "--workspace", help="workspace directory (holds healthscore.yaml)")]
Json = Annotated[bool, typer.Option("--json", help="print JSON instead of tables")]
AsOf = Annotated[str | None, typer.Option("--as-of", help="as-of date YYYY-MM-DD: only data before it counts"
                                                           " (default: today, UTC)")]
By = Annotated[str | None, typer.Option("--by", help="which of your verified identities acts (an API token in"
                                                     " $HEALTHSCORE_TOKEN or a credentials file, or your mapped OS"
                                                     " account); never anyone else")]
OsUser = Annotated[str | None, typer.Option("--os-user",
                                            help="the OS account that acts as this user on the command line")]
Limit = Annotated[int, typer.Option("--limit", help="rows to show (the JSON output has all)")]
Offset = Annotated[int, typer.Option("--offset", min=0, help="rows to skip (the next page)")]
Bootstrap = Annotated[int, typer.Option("--bootstrap", help="bootstrap resamples (over accounts) for the intervals")]


@overload
def parse_date(value: str, flag: str) -> dt.date: ...
@overload
def parse_date(value: str | None, flag: str) -> dt.date | None: ...
def parse_date(value: str | None, flag: str) -> dt.date | None:
    """An option's YYYY-MM-DD text as a date; a bad one is a user error naming the flag."""
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{flag} {value!r} is not a date; use YYYY-MM-DD, e.g. 2026-11-01") from None


def parse_days(value: str, flag: str = "--every") -> int:
    """A duration in days or weeks: 1d, 7d, 2w (the model's window grammar)."""
    from healthscore.model.windows import parse_days as window_parse_days

    days = window_parse_days(value.strip())
    if not days:
        raise InvalidInput(f"{flag} {value!r} is not a duration; use days or weeks, e.g. 1d, 7d or 2w")
    return days


def open_project(workspace: Path) -> Project:
    from healthscore.project import Project

    return Project(workspace)


def acting_user(p: Project, by: str | None, action: str, account_id: str | None = None) -> str:
    """The verified store user this command acts as, authorized for the action (healthscore.authz)."""
    from healthscore.authz import cli_actor

    return cli_actor(p, by, action, account_id)


def read_password(password_stdin: bool, flag: str = "--password-stdin") -> str | None:
    """One line of standard input, when the flag asks for it."""
    if not password_stdin:
        return None
    value = sys.stdin.readline().rstrip("\n")
    if not value:
        raise InvalidInput(f"{flag}: no password on standard input")
    return value
