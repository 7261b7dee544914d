"""Pieces of the read models (services/read_models.py): the bounded cache and the per-request memo they
own, input checks, and frame helpers (JSON-ready rows, risk columns, page information)."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterable
from contextvars import ContextVar, Token
from typing import TYPE_CHECKING, Any

from healthscore.errors import InvalidInput

if TYPE_CHECKING:
    import pandas as pd

TIERS = ("green", "yellow", "red")
STATUSES = ("scored", "paused", "insufficient_data", "onboarding", "overridden")
AT_RISK = ("red", "yellow")
DIRECTORY_COLUMNS = ("account_id", "name", "segment", "owner", "arr", "renewal_date")
ACCOUNT_COLUMNS = ["account_id", "name", "segment", "owner", "arr", "renewal_date", "score", "tier", "status",
                   "confidence", "primary_driver", "previous_score", "trend", "trend_note", "smoothed_score",
                   "risk_score", "risk_tier", "display_tier", "paused_at_risk", "pause_reason"]
LIVE_FIELDS = ("account_id", "as_of", "model_version", "score", "smoothed_score", "tier", "status", "confidence",
               "primary_driver", "trend_note", "reasons", "received_at", "scored_at", "live")


class Cache:
    """name -> (key, value): a value is rebuilt when its key changes. Bounded: the oldest names go first."""

    def __init__(self, size: int = 128) -> None:
        self.lock = threading.RLock()
        self.items: dict[str, tuple[Any, Any]] = {}
        self.building: dict[str, threading.Lock] = {}
        self.size = size

    def get(self, name: str, key: Any, build: Callable[[], Any], *, stale_ok: bool = False) -> Any:
        """The value for `key`. Concurrent requests for a cold entry wait for one build instead of all building
        it. With `stale_ok`, while one request rebuilds a stale entry (a run finished), the others get the
        previous value rather than queueing behind it (a backfill finishing runs every few seconds made every
        list wait): only for values that stand alone, never for one that indexes into another cached value."""
        with self.lock:
            hit = self.items.get(name)
            if hit is not None and hit[0] == key:
                return hit[1]
            building = self.building.setdefault(name, threading.Lock())
        if hit is None or not stale_ok:
            building.acquire()
        elif not building.acquire(blocking=False):
            return hit[1]
        try:
            with self.lock:
                hit = self.items.get(name)
                if hit is not None and hit[0] == key:
                    return hit[1]
            value = build()
            with self.lock:
                self.items.pop(name, None)
                self.items[name] = (key, value)
                while len(self.items) > self.size:
                    self.items.pop(next(iter(self.items)))
            return value
        finally:
            building.release()


class RequestMemo:
    """Values read at most once per web request (the app's middleware opens and ends the scope)."""

    def __init__(self) -> None:
        self._memo: ContextVar[dict | None] = ContextVar("healthscore_request_memo", default=None)

    def start(self) -> Token:
        return self._memo.set({})

    def end(self, token: Token) -> None:
        self._memo.reset(token)

    def get(self, name: str, build: Callable[[], Any]) -> Any:
        memo = self._memo.get()
        if memo is None:
            return build()
        if name not in memo:
            memo[name] = build()
        return memo[name]


def check_choice(name: str, value: str | None, allowed: Iterable[str]) -> None:
    allowed = tuple(allowed)
    if value is not None and value not in allowed:
        raise InvalidInput(f"{name}={value!r} is not allowed; use one of {', '.join(allowed)}", field=name)


def check_page(limit: int, offset: int, max_limit: int = 500) -> None:
    if not 1 <= limit <= max_limit:
        raise InvalidInput(f"limit={limit} is out of range; use 1..{max_limit}", field="limit")
    if offset < 0:
        raise InvalidInput(f"offset={offset} is out of range; use 0 or more", field="offset")


def records(frame: pd.DataFrame, columns: list[str]) -> list[dict[str, Any]]:
    """JSON-ready rows: missing values None, floats rounded to 2 places, dates as ISO text."""
    import math

    import pandas as pd

    out = []
    for row in zip(*(frame[c].tolist() for c in columns), strict=True):
        r = {}
        for k, v in zip(columns, row, strict=True):
            if v is None or v is pd.NA or v is pd.NaT:
                v = None
            elif isinstance(v, float):
                v = None if math.isnan(v) else round(v, 2)
            elif isinstance(v, (dt.date, dt.datetime)):
                v = v.isoformat()[:10]
            elif hasattr(v, "item") and not isinstance(v, str):  # numpy scalars
                v = v.item()
            r[k] = v
        out.append(r)
    return out


def page_info(total: int, shown: int, limit: int, offset: int) -> dict[str, Any]:
    """What a list shows of what there is: "N of M", and the neighbouring pages' offsets."""
    return {"total": total, "shown": shown, "limit": limit, "offset": offset,
            "first": offset + 1 if shown else 0, "last": offset + shown, "truncated": shown < total,
            "next_offset": offset + limit if offset + limit < total else None,
            "previous_offset": max(0, offset - limit) if offset > 0 else None}


def pause_reason(reason: str) -> str:
    """The kind of a pause reason: "stale: tickets", "conflict: csm_green_usage_collapsed", "pipeline: ..."."""
    if reason.startswith("conflict "):
        return "conflict: " + reason[len("conflict "):].split(":", 1)[0]
    if reason.startswith("pipeline "):
        return "pipeline: " + reason[len("pipeline "):].split(":", 1)[0]
    if " stale" in reason:
        return "stale: " + reason.split(" stale", 1)[0]
    return reason.split(":", 1)[0]


def add_risk_columns(frame: pd.DataFrame) -> None:
    """risk_tier / risk_score: the tier and score that count for ARR at risk. A paused snapshot keeps
    its last trusted score and tier (it is not healthier for having no score), shown as "paused (at
    risk)" when that tier is yellow or red; pause_reason: the kind of its first pause reason."""
    import numpy as np

    paused = (frame["status"] == "paused").to_numpy() if len(frame) else np.zeros(0, dtype=bool)
    lt = frame["last_trusted"] if "last_trusted" in frame else [None] * len(frame)
    lt_tier = [x.get("tier") if isinstance(x, dict) else None for x in lt]
    lt_score = [x.get("score") if isinstance(x, dict) else None for x in lt]
    frame["risk_tier"] = [t if pz else tier for t, pz, tier in zip(lt_tier, paused, frame["tier"])]
    frame["risk_score"] = [sc if pz else v for sc, pz, v in zip(lt_score, paused, frame["score"])]
    frame["paused_at_risk"] = [bool(pz and t in AT_RISK) for t, pz in zip(lt_tier, paused)]
    reasons = frame["reasons"] if "reasons" in frame else [[]] * len(frame)
    frame["pause_reason"] = [pause_reason(r[0]) if pz and isinstance(r, list) and r else None
                             for r, pz in zip(reasons, paused)]
    frame["display_tier"] = [("paused (at risk)" if par else "paused") if pz else tier
                             for par, pz, tier in zip(frame["paused_at_risk"], paused, frame["tier"])]
