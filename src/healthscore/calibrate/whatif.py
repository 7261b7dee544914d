"""What-if: an account's score and tier with one or more metric values set or changed."""

from __future__ import annotations

import re

import numpy as np

from healthscore.errors import InvalidInput

_CHANGE = re.compile(r"^([a-z][a-z0-9_]*)=([+-]?\d+(?:\.\d+)?)(%?)$")


def parse_assignments(sets: list[str], changes: list[str], metric_names: list[str]) -> list[tuple[str, str, object]]:
    """--set metric=value (a number or a text value) and --change metric=-20% / +5 -> (metric, kind, amount)."""
    out: list[tuple[str, str, object]] = []
    for raw in sets:
        name, sep, value = raw.partition("=")
        name = name.strip()
        if not sep or not value.strip():
            raise InvalidInput(f"--set {raw!r}: use metric=value, e.g. --set csat_90d=4.5", field="set")
        _known(name, metric_names, "--set")
        try:
            out.append((name, "set", float(value)))
        except ValueError:
            out.append((name, "set", value.strip()))
    for raw in changes:
        m = _CHANGE.match(raw.replace(" ", ""))
        if not m:
            raise InvalidInput(f"--change {raw!r}: use metric=-20% (relative) or metric=+5 (absolute)",
                               field="change")
        _known(m.group(1), metric_names, "--change")
        amount = float(m.group(2))
        out.append((m.group(1), "percent" if m.group(3) else "delta", amount))
    if not out:
        raise InvalidInput("give at least one --set metric=value or --change metric=-20%", field="set")
    return out


def _known(name: str, names: list[str], flag: str) -> None:
    if name not in names:
        raise InvalidInput(f"{flag}: no metric {name!r} in the model; metrics: {', '.join(names)}",
                           field=flag.lstrip("-"))


def new_values(current, kind: str, amount):
    """The changed raw value (a percent change of a missing value stays missing: say so)."""
    if kind == "set":
        return amount
    if current is None or (isinstance(current, float) and np.isnan(current)):
        return None
    if isinstance(current, str):
        raise InvalidInput(f"cannot change the text value {current!r} by a number; use --set", field="change")
    return current * (1 + amount / 100.0) if kind == "percent" else current + amount


def moved_evidence(before: list[dict], after: list[dict]) -> list[dict]:
    """Evidence entries whose value, score, weight or points moved."""
    b = {e["metric"]: e for e in before}
    out = []
    for e in after:
        o = b[e["metric"]]
        if any(o.get(k) != e.get(k) for k in ("value", "score", "weight", "points")):
            d = None if o.get("points") is None or e.get("points") is None else round(e["points"] - o["points"], 2)
            out.append({"metric": e["metric"], "component": e["component"], "value_before": o.get("value"),
                        "value_after": e.get("value"), "score_before": o.get("score"), "score_after": e.get("score"),
                        "points_before": o.get("points"), "points_after": e.get("points"), "points_delta": d})
    return out
