"""Windows and durations ("30d", "12w", "all") and the end of the data.

The one grammar of a time span: health models, the CLI (`--every`, `--horizon`) and the API read it here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import AfterValidator

WINDOW_PATTERN = r"^(\d+)([dw])$"  # a number of days or weeks
_WINDOW_RE = re.compile(WINDOW_PATTERN)

# The longest window or duration (days): date arithmetic on a 23-digit window overflowed in `score`.
MAX_DAYS = 36_500


def parse_days(text: str) -> int | None:
    """'30d' -> 30, '12w' -> 84; None when `text` is not a number of days or weeks."""
    m = _WINDOW_RE.match(text)
    if m is None:
        return None
    n = int(m.group(1))
    return n * 7 if m.group(2) == "w" else n


def window_days(window: str | None) -> int | None:
    """'30d' -> 30, '12w' -> 84, 'all' or None -> None (no lower bound)."""
    if window is None or window == "all":
        return None
    days = parse_days(window)
    assert days is not None, window  # validated on load
    return days


def duration_days(duration: str) -> int:
    """The days of a duration (a validated window that is not 'all')."""
    days = parse_days(duration)
    assert days is not None, duration  # validated on load
    return days


def check_window(v: str | None) -> str | None:
    if v is None or v == "all":
        return v
    days = parse_days(v) if isinstance(v, str) else None
    if not days:
        raise ValueError(f"window {v!r} is not allowed; use a positive number of days or weeks like 30d, 12w, or 'all'")
    if days > MAX_DAYS:
        raise ValueError(f"window {v!r} is too long; at most {MAX_DAYS} days (100 years), or 'all' for no limit")
    return v


def check_duration(v: str | None) -> str | None:
    if v is not None and (v == "all" or check_window(v) is None):
        raise ValueError(f"{v!r} is not a duration; use e.g. 90d or 2w")
    return v


Window = Annotated[str, AfterValidator(check_window)]  # a window before the as-of date, or 'all'
Duration = Annotated[str, AfterValidator(check_duration)]  # a positive span: not 'all'


# Tables whose time column records what happened (not milestones: their due_at is planned, often in
# the future): their newest row marks the end of the data.
HAPPENED_TABLES = ("outcomes", "usage_events", "tickets", "surveys", "invoices", "interactions", "assessments",
                   "signals")


def end_of_data(newest: Mapping[str, Any], now: Any) -> Any:
    """The end of observation: the newest row of any table that records what happened, at most `now`
    (`now` when there is none). `newest` maps a table to its newest row time."""
    happened = [ts for table, ts in newest.items() if table in HAPPENED_TABLES]
    return min(max(happened), now) if happened else now
