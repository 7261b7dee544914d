"""What a snapshot means next to the account's earlier ones: smoothing, hysteresis, last trusted score,
material changes and the trend note.

Runs after scoring, over a batch of snapshots plus the stored snapshots just before it, so that
the same rules hold for a one-date `score` and a year-long `backfill`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from healthscore.model.ir import HealthModel

TIER_RANK = {"red": 0, "yellow": 1, "green": 2}


def _tier_of(score: float, green: float, yellow: float) -> str:
    return "green" if score >= green else "yellow" if score >= yellow else "red"


def apply_history(model: HealthModel, snaps: pd.DataFrame, prior: pd.DataFrame | None = None) -> pd.DataFrame:
    """Add smoothed_score, the published tier (smoothed, with hysteresis), last_trusted and the score change.

    `snaps` is the batch from score_frame (with tier_green/tier_yellow columns); `prior` holds stored
    snapshots of the same model before it (account_id, as_of, score, smoothed_score, tier, status).
    """
    hist = model.history
    batch = snaps.copy()
    batch["_batch"] = True
    frames = [batch]
    if prior is not None and len(prior):
        p = prior[["account_id", "as_of", "score", "tier", "status"]].copy()
        p["_batch"] = False
        frames.append(p)
    allrows = pd.concat(frames, ignore_index=True).sort_values(["account_id", "as_of"], kind="stable")
    allrows["as_of"] = pd.to_datetime(allrows["as_of"])

    # One pass over plain arrays in (account, as_of) order: a rolling mean over the account's scored
    # snapshots in the last smoothing_days, hysteresis against its last published tier, and the last
    # trusted (scored) snapshot for paused ones.
    n = len(allrows)
    acc_a = allrows["account_id"].to_numpy(dtype=object)
    as_of_a = allrows["as_of"].to_numpy("datetime64[ns]")
    status_a = allrows["status"].to_numpy(dtype=object)
    score_a = pd.to_numeric(allrows["score"], errors="coerce").to_numpy(dtype="float64")
    tier_in = allrows["tier"].to_numpy(dtype=object)
    batch_a = allrows["_batch"].to_numpy(dtype=bool)
    green = pd.to_numeric(allrows.get("tier_green", pd.Series(np.nan, index=allrows.index))).to_numpy("float64")
    yellow = pd.to_numeric(allrows.get("tier_yellow", pd.Series(np.nan, index=allrows.index))).to_numpy("float64")
    window = np.timedelta64(hist.smoothing_days, "D")
    smoothed = np.full(n, np.nan)
    tiers: list = [None] * n
    last_trusted: list = [None] * n
    prev_score: list = [None] * n
    prev_tier: list = [None] * n
    prev_as_of: list = [None] * n
    recent: list[tuple] = []  # (as_of, score) of the current account's scored snapshots in the window
    # (as_of, score, tier) of the last scored / previous snapshot of the account
    last: tuple | None = None
    prev: tuple | None = None
    for i in range(n):
        if i == 0 or acc_a[i] != acc_a[i - 1]:
            recent, last, prev = [], None, None
        if prev is not None:
            prev_as_of[i], prev_score[i], prev_tier[i] = prev
        status, in_batch = status_a[i], batch_a[i]
        tier = tier_in[i] if not in_batch else None
        if status == "scored":
            recent.append((as_of_a[i], score_a[i]))
            if hist.smoothing_days > 0:
                recent = [(t, v) for t, v in recent if t > as_of_a[i] - window]
                smoothed[i] = round(sum(v for _, v in recent) / len(recent), 2)
            else:
                smoothed[i] = score_a[i]
            if in_batch:
                tier = _tier_of(smoothed[i], green[i], yellow[i])
                held = last[2] if last is not None else None
                if held in TIER_RANK and tier != held and hist.hysteresis > 0:
                    rising = TIER_RANK[tier] > TIER_RANK[held]
                    floor_tier = tier if rising else held
                    floor = green[i] if floor_tier == "green" else yellow[i]
                    if (rising and smoothed[i] < floor + hist.hysteresis) or \
                            (not rising and smoothed[i] > floor - hist.hysteresis):
                        tier = held
            last = (as_of_a[i], score_a[i], tier)
        elif status == "paused" and last is not None:
            last_trusted[i] = {"as_of": str(last[0])[:10], "score": float(last[1]), "tier": last[2]}
        tiers[i] = tier if status == "scored" else None
        prev = (as_of_a[i], None if np.isnan(score_a[i]) else float(score_a[i]), tiers[i])
    allrows["smoothed_score"] = smoothed
    # object dtype: a missing tier is None, not NaN (pandas would infer a string column)
    for name, col in (("tier", tiers), ("last_trusted", last_trusted), ("previous_score", prev_score),
                      ("previous_tier", prev_tier)):
        allrows[name] = pd.Series(col, index=allrows.index, dtype=object)
    allrows["previous_as_of"] = pd.to_datetime(pd.Series(prev_as_of, index=allrows.index, dtype=object))
    out = allrows[allrows["_batch"]].drop(columns="_batch")
    out["material_change"] = material_change(model, out)
    return out.sort_index()


def material_change(model: HealthModel, snaps: pd.DataFrame) -> np.ndarray:
    """A score move of at least `points` since the previous snapshot, or (when configured) a tier change."""
    mc = model.history.material_change
    score = pd.to_numeric(snaps["score"], errors="coerce").to_numpy(dtype="float64")
    before = pd.to_numeric(snaps["previous_score"], errors="coerce").to_numpy(dtype="float64")
    with np.errstate(invalid="ignore"):
        moved = np.abs(score - before) >= mc.points
    tier_now, tier_before = snaps["tier"].to_numpy(), snaps["previous_tier"].to_numpy()
    changed = np.array([isinstance(a, str) and isinstance(b, str) and a != b for a, b in zip(tier_now, tier_before)],
                       dtype=bool)
    return moved | (changed if mc.tier_change else False)
