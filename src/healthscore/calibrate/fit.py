"""Calibration: interpretable non-negative weights and tier thresholds fitted from outcomes.

The weight fit is a logistic regression of the bad outcome on the metric scores (0..1), with the
coefficients constrained to be >= 0 in the "healthier is safer" direction:

    P(bad) = sigmoid(b0 - sum_j beta_j * score_j / 100),  beta_j >= 0,  L2 penalty l2 * |beta|^2 / 2

solved with scipy's L-BFGS-B (bounds [0, inf) on beta). Because the health score is itself a weighted
sum of metric scores, beta_j / sum(beta) is directly the share of the score metric j should carry.
A metric without data in a row takes the training mean of its score (it carries no information).
"""

from __future__ import annotations

import copy
import difflib

import numpy as np

from healthscore.errors import UserError
from healthscore.model.ir import HealthModel


def fit_shares(X: np.ndarray, y: np.ndarray, l2: float = 1.0) -> np.ndarray:
    """Non-negative logistic weights on metric scores (X: rows x metrics, 0..100, NaN = no data) as shares
    summing to 1. With no signal at all (every coefficient 0) the shares are equal."""
    from scipy.optimize import minimize

    X = np.asarray(X, float) / 100.0
    y = np.asarray(y, float)
    means = np.nanmean(np.where(np.isnan(X).all(axis=0), 0.5, X), axis=0) if len(X) else np.full(X.shape[1], 0.5)
    means = np.where(np.isnan(means), 0.5, means)
    X = np.where(np.isnan(X), means[None, :], X)
    Xc = X - X.mean(axis=0)  # centring keeps the intercept apart from the weights
    n, k = Xc.shape
    if k == 0:
        return np.zeros(0)

    def loss(theta):
        b0, beta = theta[0], theta[1:]
        z = b0 - Xc @ beta
        ll = np.logaddexp(0, z) - y * z
        p = 1 / (1 + np.exp(-z))
        g0 = (p - y).sum()
        gb = -(Xc.T @ (p - y)) + l2 * beta
        return ll.sum() + 0.5 * l2 * beta @ beta, np.concatenate([[g0], gb])

    base = np.clip(y.mean(), 1e-6, 1 - 1e-6) if n else 0.5
    theta0 = np.concatenate([[np.log(base / (1 - base))], np.full(k, 0.1)])
    res = minimize(loss, theta0, jac=True, method="L-BFGS-B", bounds=[(None, None)] + [(0, None)] * k)
    beta = np.clip(res.x[1:], 0, None)
    if beta.sum() <= 1e-12:
        return np.full(k, 1.0 / k)
    return beta / beta.sum()


def floor_shares(shares: np.ndarray, floor: float) -> np.ndarray:
    """Every share at least `floor` (so a metric's evidence stays visible), still summing to 1."""
    s = np.asarray(shares, float)
    if floor <= 0 or len(s) == 0:
        return s
    floor = min(floor, 1.0 / len(s))
    low = s < floor
    if not low.any():
        return s
    # Raising the low shares scales the others down, which can push one of them under the floor in
    # turn: repeat until no share is below it (at most len(s) rounds).
    while True:
        rest = 1.0 - floor * low.sum()
        high_total = s[~low].sum()
        out = np.where(low, floor, s / high_total * rest if high_total > 0 else rest / max((~low).sum(), 1))
        newly = ~low & (out < floor - 1e-12)
        if not newly.any():
            return out / out.sum()
        low |= newly


def _cut(sorted_scores: np.ndarray, share: float) -> tuple[float, int]:
    """The threshold t whose count of scores below it (score < t: the lower tier) is closest to share x n, by
    rank among the achievable cuts: a tie is never split, so a cut lands on one side of a tied group or the
    other, whichever is nearer the target; between equally near cuts the non-empty one wins."""
    s = sorted_scores
    n = len(s)
    target = share * n
    values, first = np.unique(s, return_index=True)  # first[j] = count of scores below values[j]
    cands = [(float(v), int(c), float(values[j - 1]) if j else None) for j, (v, c) in enumerate(zip(values, first))]
    if values[-1] < 100:
        cands.append((min(100.0, float(values[-1]) + 0.01), n, float(values[-1])))
    best = min(cands, key=lambda t: (abs(t[1] - target), t[1] == 0 and target > 0))
    t, count, below = best
    # a rounder threshold (one decimal) when one lies in (the value below, t]: the same accounts either side
    rounder = np.ceil(round(below * 10, 6) + 1e-9) / 10 if below is not None else np.floor(t * 10) / 10
    if (below is None or rounder > below) and rounder <= t:
        t = float(rounder)
    return float(t), count


def tier_thresholds(scores: np.ndarray, red_share: float, yellow_share: float) -> dict:
    """green/yellow cut-offs cut by rank: red (score < yellow) holds the achievable share of scores nearest
    red_share, red + yellow (score < green) the one nearest red_share + yellow_share. Ties never empty a tier
    that the target gives a place to when a nearer non-empty cut exists."""
    s = np.sort(np.asarray(scores, float))
    s = s[~np.isnan(s)]
    if len(s) == 0:
        raise UserError("no scored snapshots to cut tiers on")
    yellow, _ = _cut(s, red_share)
    green, _ = _cut(s, red_share + yellow_share)
    return {"green": max(green, yellow), "yellow": yellow}


def yaml_weights(model: HealthModel, shares: np.ndarray) -> tuple[dict[str, float], dict[str, float]]:
    """Metric shares of the overall score -> YAML weights: component weight = 100 x its share, metric
    weight = 100 x its share within the component. A share of exactly 0 (a refused leak) stays 0; a
    component whose metrics all have 0 weighs 0 and its metrics keep their weights (some must be > 0)."""
    comp_w, metric_w = {}, {}
    for c in model.components:
        idx = [j for j, (cc, _) in enumerate(model.metrics) if cc.name == c.name]
        total = float(shares[idx].sum())
        comp_w[c.name] = 0.0 if total == 0 else max(round(100 * total, 1), 0.1)
        for j in idx:
            m = model.metrics[j][1]
            if total == 0:
                metric_w[f"{c.name}.{m.name}"] = m.weight if m.weight > 0 else 1.0
            else:
                metric_w[f"{c.name}.{m.name}"] = 0.0 if shares[j] == 0 else \
                    max(round(100 * float(shares[j]) / total, 1), 0.1)
    return comp_w, metric_w


def proposed_data(data: dict, model: HealthModel, shares: np.ndarray, tiers: dict | None,
                  segment_fits: dict[str, tuple[np.ndarray, dict]] | None = None) -> dict:
    """The model's YAML data (as read) with fitted weights and tiers; segments fitted separately get
    weight overrides for every component and metric."""
    out = copy.deepcopy(data)
    comp_w, metric_w = yaml_weights(model, shares)
    for comp in out.get("components", []):
        comp["weight"] = comp_w[comp["name"]]
        for m in comp.get("metrics", []):
            m["weight"] = metric_w[f"{comp['name']}.{m['name']}"]
    if tiers:
        out["tiers"] = dict(tiers)
    for seg in out.get("segments", []):
        fit = (segment_fits or {}).get(seg["name"])
        if fit is None:
            continue
        s_shares, s_tiers = fit
        cw, mw = yaml_weights(model, s_shares)
        seg["weights"] = {**cw, **mw}
        if s_tiers:
            seg["tiers"] = dict(s_tiers)
    return out


def dump_yaml(data: dict) -> str:
    import yaml

    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=110)


def yaml_diff(current: dict, proposed: dict, a: str = "current", b: str = "proposed") -> str:
    """A unified diff of the two models as normalised YAML (comments and layout do not show up as changes)."""
    return "".join(difflib.unified_diff(dump_yaml(current).splitlines(True), dump_yaml(proposed).splitlines(True),
                                        fromfile=a, tofile=b, n=2))


def require_events(y: np.ndarray, needed: int, what: str) -> None:
    events = int(np.nansum(y))
    if events < needed:
        raise UserError(f"{what}: {events} bad outcome(s) in {len(y)} labelled scored snapshots; calibration needs"
                        f" at least {needed} (calibration.min_events). Use a longer date range (--from), a longer"
                        " horizon, or lower calibration.min_events in the model")


def time_blocks(dates: list, k: int) -> list[list]:
    """Split sorted as-of dates into k+1 contiguous blocks: block 0 only trains, blocks 1..k are test folds."""
    dates = sorted(dates)
    parts = np.array_split(np.arange(len(dates)), min(k + 1, len(dates)))
    return [[dates[i] for i in p] for p in parts if len(p)]
