"""Evidence: scored frames in the snapshot shape of DESIGN.md."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

    from healthscore.scoring.score import ScoredFrames

STORED_SNAPSHOT_COLUMNS = ["account_id", "as_of", "model_version", "score", "tier", "status", "confidence",
                           "coverage", "segment", "components", "reasons", "smoothed_score", "primary_driver",
                           "trend_note", "flags", "review_required", "last_trusted",
                           "name", "owner", "arr"]  # the account as of the date: kept in the history only


def stored_snapshot_columns(snapshots: pd.DataFrame) -> pd.DataFrame:
    return snapshots[[c for c in STORED_SNAPSHOT_COLUMNS if c in snapshots]]


def _clean(v):
    if v is None:
        return None
    if isinstance(v, float) and math.isnan(v):
        return None
    if hasattr(v, "item"):  # numpy scalars
        v = v.item()
        if isinstance(v, float) and math.isnan(v):
            return None
    return v


def _iso_date(v) -> str:
    import pandas as pd

    return pd.Timestamp(v).date().isoformat()


def _iso_ts(v) -> str | None:
    import pandas as pd

    if v is None or pd.isna(v):
        return None
    return pd.Timestamp(v).isoformat()


def _values(series: pd.Series, kind: str = "any") -> list:
    """A column as plain Python values (None where missing), converted a column at a time: converting
    row by row (DataFrame.to_dict) was most of the time of building a batch's snapshots. kind "date"
    and "ts" give ISO strings, as _iso_date and _iso_ts do."""
    import numpy as np
    import pandas as pd

    if kind in ("date", "ts") and pd.api.types.is_datetime64_dtype(series.dtype):
        arr = series.to_numpy()
        if kind == "date":
            return [None if v == "NaT" else v for v in np.datetime_as_string(arr, unit="D").tolist()]
        ns = arr.astype("datetime64[ns]").astype("int64")
        if (ns[~np.isnat(arr)] % 1_000_000_000 == 0).all():  # whole seconds: what isoformat() prints too
            return [None if v == "NaT" else v for v in np.datetime_as_string(arr, unit="s").tolist()]
        return [_iso_ts(v) for v in series.tolist()]
    if kind == "date":
        return [None if v is None or v is pd.NaT else _iso_date(v) for v in series.tolist()]
    if kind == "ts":
        return [_iso_ts(v) for v in series.tolist()]
    if pd.api.types.is_float_dtype(series.dtype):
        return [None if v != v else v for v in series.to_numpy(dtype=float).tolist()]  # v != v: NaN
    if pd.api.types.is_integer_dtype(series.dtype) or pd.api.types.is_bool_dtype(series.dtype):
        return series.to_numpy().tolist()
    # text (and categories of text) is already plain: only its missing values need cleaning; mixed columns
    # (a metric's value: numbers or text) hold mostly plain floats, checked by type before the general case
    return [v if (t := type(v)) is str else (None if v != v else v) if t is float else _clean(v)
            for v in series.tolist()]


def _column(frame: pd.DataFrame, name: str, kind: str = "any") -> list:
    return _values(frame[name], kind) if name in frame else [None] * len(frame)


def learned_of(components) -> dict | None:
    """A hybrid snapshot's learned component {name, score, tier, tier_rule, coverage} (None for other models):
    the entry scoring appends to the components with part: learned."""
    for c in components or []:
        if isinstance(c, dict) and c.get("part") == "learned":
            return {k: c.get(k) for k in ("name", "score", "tier", "tier_rule", "coverage")}
    return None


def is_learned_row(evidence_row: dict) -> bool:
    """An evidence row of a hybrid model's learned component (its points add up to the learned score, not to
    the snapshot's score)."""
    return str(evidence_row.get("source") or "").startswith("learned")


def snapshot_dicts(frames: ScoredFrames) -> list[dict]:
    """ScoredFrames -> one dict per snapshot in the shape of DESIGN.md (evidence by points, largest first)."""
    snaps, ev = frames.snapshots, frames.evidence
    per_key: dict[tuple, list[dict]] = {}
    if len(ev):
        target, target_source = _column(ev, "target"), _column(ev, "target_source")
        for (aid, as_of, metric, component, value, window, source, rows, latest_at, score, weight, points, tgt,
             tgt_source, attr_source) in zip(
                _column(ev, "account_id"), _column(ev, "as_of", "date"),
                *(_column(ev, c) for c in ("metric", "component", "value", "window", "source", "rows")),
                _column(ev, "latest_at", "ts"),
                *(_column(ev, c) for c in ("score", "weight", "points")), target, target_source,
                _column(ev, "as_of_source")):
            entry = {"metric": metric, "component": component, "value": value, "window": window, "source": source,
                     "rows": int(rows), "latest_at": latest_at, "score": score, "weight": weight, "points": points}
            if tgt_source is not None or tgt is not None:
                entry["target"], entry["target_source"] = tgt, tgt_source  # metric with a target
            if attr_source is not None:  # an account attribute: point in time, or today's ("current")
                entry["as_of_source"] = attr_source
            per_key.setdefault((aid, as_of), []).append(entry)
    out = []
    columns = {c: _column(snaps, c) for c in ("account_id", "model_version", "score", "tier", "status", "confidence",
                                              "coverage", "segment", "smoothed_score", "primary_driver", "trend_note",
                                              "last_trusted", "components", "reasons", "flags", "review_required",
                                              "name", "owner", "arr", "sub_scores")}
    as_of_iso = _column(snaps, "as_of", "date")  # evidence is keyed by the same ISO date
    for as_of, values in zip(as_of_iso, zip(*columns.values())):
        s = dict(zip(columns, values))
        evidence = per_key.get((s["account_id"], as_of), [])
        evidence.sort(key=lambda e: (-(e["points"] or 0.0), -(e["weight"] or 0.0), e["metric"]))
        snap = {
            "account_id": s["account_id"],
            "as_of": as_of,
            "model_version": s["model_version"],
            "score": s["score"],
            "tier": s["tier"],
            "status": s["status"],
            "confidence": s["confidence"],
            "coverage": s["coverage"],
            "segment": s["segment"],
            "smoothed_score": s["smoothed_score"],
            "primary_driver": s["primary_driver"],  # computed once, in scoring
            "trend_note": s["trend_note"],
            "last_trusted": s["last_trusted"],
            "components": s["components"],
            "evidence": evidence,
            "reasons": s["reasons"],
            "flags": s["flags"] or [],
            "review_required": bool(s["review_required"] or False),
            "account": {"name": s["name"], "owner": s["owner"], "arr": s["arr"]},
        }
        if isinstance(s["sub_scores"], dict):  # models whose components name a motion
            snap["sub_scores"] = s["sub_scores"]
        part = learned_of(s["components"])
        if part is not None:  # hybrid models: the learned component beside the rubric
            snap["learned"] = part
        out.append(snap)
    return out
