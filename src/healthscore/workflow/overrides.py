"""Owner corrections applied to snapshots: the override shows, the computed values stay beside it.

An override applies to as-of dates in [starts_on, expires_on) and expires by itself: the first
snapshot after expiry is the computed one again. Stored snapshots are never rewritten.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd


def active_override(overrides: list[dict[str, Any]], as_of: str) -> dict[str, Any] | None:
    """The newest override in force on an ISO as-of date (overrides are given newest first)."""
    for o in overrides:
        if o["revoked_at"] is None and o["starts_on"] <= as_of < o["expires_on"]:
            return o
    return None


def apply_overrides(snaps: list[dict[str, Any]], overrides: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Snapshots with the override in force shown as status `overridden`; `computed` keeps what the
    model said, and the evidence still adds up to the computed score."""
    by_account = _by_account(overrides)
    out = []
    for s in snaps:
        o = active_override(by_account.get(s["account_id"], []), s["as_of"])
        if o is None:
            out.append(s)
            continue
        out.append({
            **s,
            "score": o["score"] if o["score"] is not None else s["score"],
            "tier": o["tier"] or s["tier"],
            "status": "overridden",
            "computed": {"score": s["score"], "tier": s["tier"], "status": s["status"]},
            "override": {k: o[k] for k in ("override_id", "score", "tier", "reason_code", "note", "author",
                                           "starts_on", "expires_on", "task_id")},
            "reasons": [f"overridden by {o['author']} until {o['expires_on']} ({o['reason_code']}: {o['note']})",
                        *s.get("reasons", [])],
        })
    return out


def apply_overrides_to_frame(frame: pd.DataFrame, overrides: list[dict[str, Any]], as_of: str) -> None:
    """The same rule on a frame of one as-of date (the portfolio's latest snapshots), in place: score, tier and
    status `overridden` from the override in force (the frame keeps `computed_tier` beside it)."""
    for account_id, own in _by_account(overrides).items():
        o = active_override(own, as_of)
        if o is None:
            continue
        rows = frame["account_id"] == account_id
        if o["score"] is not None:
            frame.loc[rows, "score"] = o["score"]
        if o["tier"]:
            frame.loc[rows, "tier"] = o["tier"]
        frame.loc[rows, "status"] = "overridden"


def _by_account(overrides: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Overrides by account, each list newest first like the store gives them."""
    by_account: dict[str, list[dict[str, Any]]] = {}
    for o in overrides:
        by_account.setdefault(o["account_id"], []).append(o)
    return by_account
