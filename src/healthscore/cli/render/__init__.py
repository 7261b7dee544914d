"""How the CLI shows results: rich tables and panels for people, JSON for programs, and one clear line
for an error. Commands compute through the `Project` facade and hand the result to a function here (or in
this package's module for their area); nothing here opens a workspace.

rich is imported inside the functions: `healthscore --help` and `--version` never pay for it."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

    from healthscore.errors import UserError


def console() -> Console:
    from rich.console import Console

    # Piped output (files, CI logs) gets room for the evidence table instead of rich's 80 columns.
    return Console() if sys.stdout.isatty() else Console(width=150)


def emit_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, default=str) + "\n")


def output(result: Any, json_out: bool, table: Callable[..., None], *extra: Any) -> None:
    """A command's result: one JSON object with --json, else the console rendering `table(result, *extra)`."""
    if json_out:
        emit_json(result)
    else:
        table(result, *extra)


def emit_json_lines(rows: Iterable[Any]) -> None:
    for row in rows:
        emit_json(row)


def note(message: str) -> None:
    """A remark on standard error that leaves standard output (tables, JSON) as it is."""
    sys.stderr.write(f"note: {message}\n")


def failure(message: str) -> None:
    sys.stderr.write(f"error: {message}\n")


def flag_of(field: str) -> str:
    """The command-line spelling of an input field: reason_code -> --reason-code."""
    return "--" + field.replace("_", "-")


def error(exc: UserError) -> None:
    """One clear message, no traceback. A field at fault is named as its flag, unless the message (written by
    the CLI itself) already starts with it."""
    text = str(exc)
    if exc.field:
        flag = flag_of(exc.field)
        if not text.startswith(flag):
            text = f"{flag}: {text}"
    failure(text)


def fmt_ci(m: Mapping[str, Any] | None) -> str:
    """A figure with its bootstrap interval: 0.712 [0.650, 0.770]."""
    if not m or m.get("value") is None:
        return "-"
    if m.get("low") is None:
        return f"{m['value']:.3f}"
    return f"{m['value']:.3f} [{m['low']:.3f}, {m['high']:.3f}]"


def n_of_m(shown: int, total: int, offset: int = 0) -> str:
    """A list's honest size: "50 of 1,794" when it is cut, "12" when it is whole."""
    if shown >= total and offset == 0:
        return f"{total:,}"
    first = offset + 1 if shown else offset
    return f"{first:,}-{offset + shown:,} of {total:,}" if offset else f"{shown:,} of {total:,}"


def more(con: Console, shown: int, total: int, offset: int) -> None:
    if offset + shown < total:
        con.print(f"Showing {shown:,} of {total:,}: {total - offset - shown:,} more with --offset {offset + shown}"
                  " (or --limit N, or --json for all).")


def command_name() -> str:
    """How the user can call us again: `healthscore`, or the virtualenv's path when not on PATH."""
    import shutil

    exe = Path(sys.argv[0])
    if exe.name == "healthscore" and shutil.which("healthscore") != str(exe.resolve()):
        try:
            return str(exe.resolve().relative_to(Path.cwd()))
        except ValueError:
            return str(exe)
    return "healthscore"


def interrupted() -> None:
    sys.stderr.write("interrupted\n")
