"""What a snapshot means next to the account's earlier ones: smoothing, hysteresis, last trusted score,
material changes and the trend note.

Runs after scoring, over a batch of snapshots plus the stored snapshots just before it, so that
the same rules hold for a one-date `score` and a year-long `backfill`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from healthscore.model.settings import TIER_RANK

if TYPE_CHECKING:  # numpy and pandas load in the frame functions: `changes` reads rows without them
    import numpy as np
    import pandas as pd

    from healthscore.model.ir import HealthModel


def apply_history(model: HealthModel, snaps: pd.DataFrame, prior: pd.DataFrame | None = None) -> pd.DataFrame:
    """Add smoothed_score, the published tier (smoothed, with hysteresis), last_trusted and the score change.

    `snaps` is the batch from score_frame (with tier_green/tier_yellow columns); `prior` holds stored
    snapshots of the same model before it (account_id, as_of, score, smoothed_score, tier, status).
    """
    import numpy as np
    import pandas as pd

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

    # Vectorised over accounts, in (account, as_of) order: a rolling mean over the account's scored
    # snapshots in the last smoothing_days, hysteresis against its last published tier, and the last
    # trusted (scored) snapshot for paused ones. Only hysteresis is sequential (a tier holds the one
    # before it), so it loops over "the k-th scored snapshot of each account", not over rows: a
    # year of weekly dates is 52 steps over arrays, not 520,000 Python iterations.
    n = len(allrows)
    acc_code = pd.factorize(allrows["account_id"].to_numpy(dtype=object))[0]
    day = allrows["as_of"].to_numpy("datetime64[D]").astype("int64")
    status_a = allrows["status"].to_numpy(dtype=object)
    score_a = pd.to_numeric(allrows["score"], errors="coerce").to_numpy(dtype="float64")
    batch_a = allrows["_batch"].to_numpy(dtype=bool)
    green = pd.to_numeric(allrows.get("tier_green", pd.Series(np.nan, index=allrows.index))).to_numpy("float64")
    yellow = pd.to_numeric(allrows.get("tier_yellow", pd.Series(np.nan, index=allrows.index))).to_numpy("float64")
    same_as_before = np.zeros(n, dtype=bool)  # row i-1 is the same account's previous snapshot
    same_as_before[1:] = acc_code[1:] == acc_code[:-1]

    scored = status_a == "scored"
    rows = np.flatnonzero(scored)  # the scored rows, in (account, as_of) order
    smoothed = np.full(n, np.nan)
    if hist.smoothing_days > 0 and len(rows):
        # Scores carry two decimals: summed as whole hundredths, the window's mean is exact, and it is
        # rounded to hundredths half to even in integers (no float sum decides a tier at 69.995).
        cents = np.cumsum(np.concatenate([[0], np.rint(score_a[rows] * 100).astype("int64")]))
        key = acc_code[rows].astype("int64") * (1 << 32) + (day[rows] - day.min())
        first = np.searchsorted(key, key - hist.smoothing_days, side="right")  # as_of > as_of - window
        pos = np.arange(len(rows))
        total, count = cents[pos + 1] - cents[first], pos + 1 - first
        q, r = np.divmod(total, count)
        q += (2 * r > count) | ((2 * r == count) & (q % 2 == 1))
        smoothed[rows] = q / 100.0
    else:
        smoothed[rows] = score_a[rows]

    tiers = np.full(n, None, dtype=object)
    stored_tier = allrows["tier"].to_numpy(dtype=object)
    tiers[rows] = stored_tier[rows]  # stored snapshots keep their published tier; the batch's is decided here
    after_scored = np.zeros(len(rows), dtype=bool)  # a scored row whose account has a scored row before it
    after_scored[1:] = acc_code[rows[1:]] == acc_code[rows[:-1]]
    group_start = np.maximum.accumulate(np.where(~after_scored, np.arange(len(rows)), 0))
    rank = np.arange(len(rows)) - group_start  # k: the account's k-th scored snapshot
    for k in range(int(rank.max(initial=-1)) + 1):
        at = np.flatnonzero((rank == k) & batch_a[rows])
        if not len(at):
            continue
        here = rows[at]
        s, g, y = smoothed[here], green[here], yellow[here]
        tier = np.where(s >= g, "green", np.where(s >= y, "yellow", "red")).astype(object)
        if k > 0 and hist.hysteresis > 0:
            held = tiers[rows[at - 1]]
            rank_now = np.array([TIER_RANK[t] for t in tier])
            rank_held = np.array([TIER_RANK.get(h, -1) for h in held])
            moved = (rank_held >= 0) & (rank_now != rank_held)
            rising = rank_now > rank_held
            floor = np.where(np.where(rising, tier, held) == "green", g, y)
            hold = moved & np.where(rising, s < floor + hist.hysteresis, s > floor - hist.hysteresis)
            tier = np.where(hold, held, tier)
        tiers[here] = tier

    # Hybrid models: the tier rule over the published (smoothed) rubric tier and the learned tier (not smoothed).
    if model.hybrid is not None and model.hybrid.tier_rule != "rubric" and "learned_tier" in allrows:
        here = rows[batch_a[rows]]
        learned = allrows["learned_tier"].to_numpy(dtype=object)[here]
        rank_l = np.array([TIER_RANK.get(t, -1) for t in learned], dtype=int)
        rank_r = np.array([TIER_RANK.get(t, 3) for t in tiers[here]], dtype=int)
        take = (rank_l >= 0) & ((rank_l < rank_r) if model.hybrid.tier_rule == "both" else True)
        tiers[here[take]] = learned[take]

    # The last scored snapshot at or before each row (same account), for paused rows' last trusted score.
    last_scored = np.maximum.accumulate(np.where(scored, np.arange(n), -1))
    account_start = np.maximum.accumulate(np.where(~same_as_before, np.arange(n), 0))
    last_trusted = np.full(n, None, dtype=object)
    for i in np.flatnonzero((status_a == "paused") & batch_a).tolist():
        j = last_scored[i]
        if j >= account_start[i]:
            last_trusted[i] = {"as_of": str(allrows["as_of"].iat[j])[:10], "score": float(score_a[j]), "tier": tiers[j]}

    # The previous snapshot (any status) of the same account: its date, score and published tier.
    prev_score = np.full(n, None, dtype=object)
    prev_tier = np.full(n, None, dtype=object)
    prev_as_of = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
    has_prev = np.flatnonzero(same_as_before)
    before = has_prev - 1
    prev_as_of[has_prev] = allrows["as_of"].to_numpy("datetime64[ns]")[before]
    earlier = score_a[before].astype(object)
    earlier[np.isnan(score_a[before])] = None
    prev_score[has_prev] = earlier
    prev_tier[has_prev] = tiers[before]
    allrows["smoothed_score"] = smoothed
    # object dtype: a missing tier is None, not NaN (pandas would infer a string column)
    for name, col in (("tier", tiers), ("last_trusted", last_trusted), ("previous_score", prev_score),
                      ("previous_tier", prev_tier)):
        allrows[name] = pd.Series(col, index=allrows.index, dtype=object)
    allrows["previous_as_of"] = pd.Series(prev_as_of, index=allrows.index)
    out = allrows[allrows["_batch"]].drop(columns="_batch")
    out["material_change"] = material_change(model, out)
    return out.sort_index()


def material_change(model: HealthModel, snaps: pd.DataFrame) -> np.ndarray:
    """A score move of at least `points` since the previous snapshot, or (when configured) a tier change
    (`is_material_change` is the same rule for one snapshot)."""
    import numpy as np
    import pandas as pd

    mc = model.history.material_change
    score = pd.to_numeric(snaps["score"], errors="coerce").to_numpy(dtype="float64")
    before = pd.to_numeric(snaps["previous_score"], errors="coerce").to_numpy(dtype="float64")
    with np.errstate(invalid="ignore"):
        moved = np.abs(score - before) >= mc.points
    tier_now, tier_before = snaps["tier"].to_numpy(), snaps["previous_tier"].to_numpy()
    changed = np.array([isinstance(a, str) and isinstance(b, str) and a != b for a, b in zip(tier_now, tier_before)],
                       dtype=bool)
    return moved | (changed if mc.tier_change else False)


def is_material_change(model: HealthModel, score: float | None, before: float | None, tier: str | None,
                       tier_before: str | None) -> bool:
    """`material_change` for one snapshot and its previous one (a missing score or tier is no move)."""
    mc = model.history.material_change
    moved = score is not None and before is not None and abs(score - before) >= mc.points
    changed = isinstance(tier, str) and isinstance(tier_before, str) and tier != tier_before
    return moved or (changed and bool(mc.tier_change))
