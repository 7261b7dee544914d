"""Calibration's shares and folds: what is fitted, what is kept, what is refused, and the held-out folds
(calibrate/service.py runs the procedure)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from healthscore.calibrate import fit as F
from healthscore.calibrate import stats
from healthscore.errors import InvalidInput, UserError
from healthscore.model.ir import Calibration, HealthModel

FLIPPABLE_TRANSFORMS = ("linear", "log", "boolean")  # bands and maps score explicitly: direction does not apply
MIN_FOLD_CLASS = 5


# ---- shares: what is fitted, what is kept, what is refused ------------------------------------


def current_shares(model: HealthModel, segment: str | None = None) -> np.ndarray:
    """Each metric's nominal share of the overall score (component share x share within the component)."""
    seg = next((s for s in model.segments if s.name == segment), None)
    ov = seg.weights if seg else {}
    cw = np.array([ov.get(c.name, c.weight) for c, _ in model.metrics], float)
    total_c = sum(ov.get(c.name, c.weight) for c in model.components)
    mw = np.array([ov.get(f"{c.name}.{m.name}", m.weight) for c, m in model.metrics], float)
    comp_sum = np.array([sum(ov.get(f"{c.name}.{mm.name}", mm.weight) for mm in c.metrics) for c, _ in model.metrics])
    return cw / total_c * mw / comp_sum


@dataclass
class FitSpec:
    names: list[str]
    current: np.ndarray  # hand shares
    fixed: dict[int, float]  # timing metrics: index -> share kept
    refused: set[int]  # leaks not allowed: share 0
    flippable: np.ndarray  # bool per metric
    cal: Calibration
    allowed: set[int] = field(default_factory=set)

    @property
    def free(self) -> list[int]:
        return [j for j in range(len(self.names)) if j not in self.fixed and j not in self.refused]


def make_spec(model: HealthModel, leak_names: set[str], allow_leak: list[str], segment: str | None = None) -> FitSpec:
    names = [m.name for _, m in model.metrics]
    unknown = [a for a in allow_leak if a not in names]
    if unknown:
        raise InvalidInput(f"--allow-leak {', '.join(unknown)}: no such metric; metrics: {', '.join(names)}",
                           field="allow_leak")
    cal = model.calibration_spec
    cur = current_shares(model, segment)
    fixed = {j: float(min(cur[j], cal.max_timing_share)) for j, (_, m) in enumerate(model.metrics) if m.timing}
    refused = {j for j, n in enumerate(names) if n in leak_names and n not in allow_leak}
    allowed = {j for j, n in enumerate(names) if n in leak_names and n in allow_leak}
    fixed = {j: s for j, s in fixed.items() if j not in refused}
    flippable = np.array([m.transform.kind in FLIPPABLE_TRANSFORMS for _, m in model.metrics])
    return FitSpec(names, cur, fixed, refused, flippable, cal, allowed)


def wrong_way_round(X: np.ndarray, has: np.ndarray, y: np.ndarray, spec: FitSpec) -> list[dict]:
    """Free metrics whose score goes with MORE bad outcomes: single-metric AUC whose whole 95% interval is
    below 0.5. Each says whether its direction can be flipped (linear, log and boolean transforms)."""
    out: list[dict] = []
    if not spec.cal.flip_directions:
        return out
    n_pos, n_neg = int((y == 1).sum()), int((y == 0).sum())
    if n_pos < MIN_FOLD_CLASS or n_neg < MIN_FOLD_CLASS:
        return out
    for j in spec.free:
        x = X[:, j]
        if np.isnan(x).all() or not has[:, j].any():
            continue
        x = np.where(np.isnan(x), np.nanmean(x), x)
        auc = stats.roc_auc(100 - x, y)
        lo, hi = stats.auc_interval(auc, n_pos, n_neg)
        if hi < 0.5:
            out.append({"metric": spec.names[j], "index": j, "single_metric_auc": stats._r(auc),
                        "interval": [stats._r(lo), stats._r(hi)], "flipped": bool(spec.flippable[j])})
    return out


def flip_scores(X: np.ndarray, has: np.ndarray, flips: list[dict]) -> np.ndarray:
    """Scores as the flipped metrics would give them: 100 - score where there is data (a missing-data rule's
    score, e.g. worst = 0, stays)."""
    X = X.copy()
    for f in flips:
        if f["flipped"]:
            j = f["index"]
            X[:, j] = np.where(has[:, j], 100 - X[:, j], X[:, j])
    return X


def fit_weights(X: np.ndarray, has: np.ndarray, y: np.ndarray, spec: FitSpec) -> dict:
    """Shares of the overall score: refused leaks 0, timing metrics their kept share, the rest fitted
    (non-negative logistic regression, floored at calibration.min_weight) into what is left."""
    free = spec.free
    if not free:
        raise UserError("no metric left to fit: every metric is a timing metric or a refused leak")
    flips = wrong_way_round(X, has, y, spec)
    Xf = flip_scores(X, has, flips)
    raw_free = F.fit_shares(Xf[:, free], y, spec.cal.l2)
    floored = F.floor_shares(raw_free, spec.cal.min_weight)
    budget = 1.0 - sum(spec.fixed.values())
    shares = np.zeros(len(spec.names))
    raw = np.full(len(spec.names), np.nan)
    shares[free] = floored * budget
    raw[free] = raw_free
    for j, s in spec.fixed.items():
        shares[j] = s
    return {"shares": shares, "raw": raw, "flips": [f for f in flips if f["flipped"]], "wrong_way": flips}


# ---- the proposal YAML ------------------------------------------------------------------------


def proposed_data(data: dict, model: HealthModel, shares: np.ndarray, tiers: dict | None,
                  segment_fits: dict | None = None, flips: list[str] | None = None,
                  provenance: dict | None = None) -> dict:
    out = F.proposed_data(data, model, shares, tiers, segment_fits)
    flipped = set(flips or [])
    for comp in out.get("components", []):
        for m in comp.get("metrics", []):
            if m["name"] in flipped:
                m["direction"] = "higher_is_better" if m.get("direction") == "lower_is_better" else "lower_is_better"
    if provenance is not None:
        out["provenance"] = provenance
    return out


def validate(d: dict) -> HealthModel:
    from pydantic import ValidationError

    try:
        return HealthModel.model_validate(d)
    except ValidationError as exc:  # pragma: no cover - proposals only change weights, directions and tiers
        raise UserError(f"the proposed model does not validate: {exc}") from None


# ---- folds --------------------------------------------------------------------------------------


def make_folds(keys: pd.DataFrame, y: np.ndarray, dates: list, k: int, horizon_days: int, seed: int,
               one_date: bool) -> tuple[str, list[tuple[np.ndarray, np.ndarray, dict]]]:
    """(kind, [(train mask, test mask, info)]). Panel data: expanding time blocks, each fold trained only on
    as-of dates whose horizon ended before the fold starts. One-date data (or a panel too short for time
    folds): stratified k-fold grouped by account, so no account is on both sides."""
    as_of = keys["as_of"].to_numpy("datetime64[ns]")
    labelled_dates = sorted({pd.Timestamp(d) for d in as_of})
    out = []
    if not one_date and len(labelled_dates) >= 3:
        horizon = np.timedelta64(horizon_days, "D")
        blocks = F.time_blocks([d.date() for d in labelled_dates], k)
        for i, block in enumerate(blocks[1:], start=1):
            start = np.datetime64(pd.Timestamp(block[0]), "ns")
            test = np.isin(as_of, np.array([np.datetime64(pd.Timestamp(d), "ns") for d in block]))
            train = as_of + horizon <= start
            out.append((train, test, {"fold": i, "test_from": str(block[0]), "test_to": str(block[-1])}))
        usable = [f for f in out if usable_folds(y, f[0], f[1])]
        if usable:
            return "time", out
    from sklearn.model_selection import StratifiedGroupKFold

    groups = keys["account_id"].astype(str).to_numpy()
    n_splits = max(2, min(max(k, 5), int(y.sum()), int((1 - y).sum())))
    cv = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    out = []
    for i, (tr, te) in enumerate(cv.split(np.zeros(len(y)), y, groups), start=1):
        train, test = np.zeros(len(y), bool), np.zeros(len(y), bool)
        train[tr], test[te] = True, True
        out.append((train, test, {"fold": i}))
    return "account_cv", out


def usable_folds(y, train, test) -> bool:
    return (y[train].sum() >= MIN_FOLD_CLASS and (y[train] == 0).sum() >= MIN_FOLD_CLASS and y[test].sum() > 0
            and (y[test] == 0).sum() > 0)
