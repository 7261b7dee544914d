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

    scored = allrows["status"] == "scored"
    smoothed = pd.Series(np.nan, index=allrows.index)
    if hist.smoothing_days > 0 and scored.any():
        s = allrows.loc[scored, ["account_id", "as_of", "score"]]
        rolled = (s.set_index("as_of").groupby("account_id")["score"]
                  .rolling(f"{hist.smoothing_days}D").mean())
        smoothed.loc[s.index] = rolled.to_numpy()  # groupby keeps the (account, as_of) order of s
    else:
        smoothed = allrows["score"].where(scored)
    allrows["smoothed_score"] = smoothed.round(2)

    tiers, last_trusted, prev_score, prev_tier, prev_as_of = [], [], [], [], []
    state: dict = {}  # account -> (as_of, score, tier) of its last scored snapshot
    prev: dict = {}  # account -> (as_of, score, tier) of its previous snapshot of any status
    green = allrows.get("tier_green", pd.Series(np.nan, index=allrows.index)).to_numpy()
    yellow = allrows.get("tier_yellow", pd.Series(np.nan, index=allrows.index)).to_numpy()
    for i, (acc, as_of, status, tier, sm, in_batch) in enumerate(zip(
            allrows["account_id"], allrows["as_of"], allrows["status"], allrows["tier"], allrows["smoothed_score"],
            allrows["_batch"])):
        last = state.get(acc)
        p = prev.get(acc)
        prev_score.append(p[1] if p else None)
        prev_tier.append(p[2] if p else None)
        prev_as_of.append(p[0] if p else None)
        if status == "scored" and in_batch:
            tier = _tier_of(sm, green[i], yellow[i])
            if last is not None and last[2] is not None and tier != last[2] and hist.hysteresis > 0:
                held = last[2]
                if TIER_RANK[tier] < TIER_RANK[held]:  # falling: must clear the held tier's floor by h
                    floor = green[i] if held == "green" else yellow[i]
                    if sm > floor - hist.hysteresis:
                        tier = held
                else:  # rising: must clear the new tier's floor by h
                    floor = green[i] if tier == "green" else yellow[i]
                    if sm < floor + hist.hysteresis:
                        tier = held
        tiers.append(tier if status == "scored" else None)
        last_trusted.append({"as_of": last[0].date().isoformat(), "score": last[1], "tier": last[2]}
                            if status == "paused" and last is not None else None)
        if status == "scored":
            state[acc] = (as_of, allrows["score"].iat[i], tier if in_batch else allrows["tier"].iat[i])
        prev[acc] = (as_of, allrows["score"].iat[i], tiers[-1] if in_batch else allrows["tier"].iat[i])
    # object dtype: a missing tier is None, not NaN (pandas would infer a string column)
    for name, col in (("tier", tiers), ("last_trusted", last_trusted), ("previous_score", prev_score),
                      ("previous_tier", prev_tier), ("previous_as_of", prev_as_of)):
        allrows[name] = pd.Series(col, index=allrows.index, dtype=object)
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
    changed = np.array([isinstance(a, str) and isinstance(b, str) and a != b for a, b in zip(tier_now, tier_before)])
    return moved | (changed if mc.tier_change else False)
