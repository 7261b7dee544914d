"""Evidence: scored frames in the snapshot shape of DESIGN.md."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

    from healthscore.scoring.score import ScoredFrames

STORED_SNAPSHOT_COLUMNS = ["account_id", "as_of", "model_version", "score", "tier", "status", "confidence",
                           "coverage", "segment", "components", "reasons", "smoothed_score", "primary_driver",
                           "trend_note", "flags", "review_required", "last_trusted"]


def stored_snapshot_columns(snapshots: "pd.DataFrame") -> "pd.DataFrame":
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


def snapshot_dicts(frames: "ScoredFrames") -> list[dict]:
    """ScoredFrames -> one dict per snapshot in the shape of DESIGN.md (evidence by points, largest first)."""
    snaps, ev = frames.snapshots, frames.evidence
    ev_records = ev.to_dict("records")
    per_key: dict[tuple, list[dict]] = {}
    for r in ev_records:
        entry = {
            "metric": r["metric"], "component": r["component"], "value": _clean(r["value"]),
            "window": r["window"], "source": r["source"], "rows": int(r["rows"]),
            "latest_at": _iso_ts(r["latest_at"]), "score": _clean(r["score"]), "weight": _clean(r["weight"]),
            "points": _clean(r["points"]),
        }
        if r.get("target_source") is not None or _clean(r.get("target")) is not None:
            entry["target"], entry["target_source"] = _clean(r["target"]), r["target_source"]  # metric with a target
        per_key.setdefault((r["account_id"], r["as_of"]), []).append(entry)
    out = []
    for s in snaps.to_dict("records"):
        evidence = per_key.get((s["account_id"], s["as_of"]), [])
        evidence.sort(key=lambda e: (-(e["points"] or 0.0), -(e["weight"] or 0.0), e["metric"]))
        out.append({
            "account_id": s["account_id"],
            "as_of": _iso_date(s["as_of"]),
            "model_version": s["model_version"],
            "score": _clean(s["score"]),
            "tier": _clean(s["tier"]),
            "status": s["status"],
            "confidence": _clean(s["confidence"]),
            "coverage": _clean(s["coverage"]),
            "segment": _clean(s["segment"]),
            "smoothed_score": _clean(s.get("smoothed_score")),
            "primary_driver": _clean(s.get("primary_driver")),  # computed once, in scoring
            "trend_note": s.get("trend_note"),
            "last_trusted": s.get("last_trusted"),
            "components": s["components"],
            "evidence": evidence,
            "reasons": s["reasons"],
            "flags": s.get("flags") or [],
            "review_required": bool(s.get("review_required", False)),
            "account": {"name": _clean(s.get("name")), "owner": _clean(s.get("owner")), "arr": _clean(s.get("arr"))},
        })
        if isinstance(s.get("sub_scores"), dict):  # models whose components name a motion
            out[-1]["sub_scores"] = s["sub_scores"]
    return out
