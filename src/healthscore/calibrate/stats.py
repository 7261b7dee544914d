"""Ranking and calibration metrics with sample weights, and the account bootstrap.

`risk` is higher for accounts more likely to have the bad outcome (for a health score: 100 - score).
Weights are how the bootstrap resamples accounts: an account drawn k times weighs k.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def _w(y, w):
    return np.ones(len(y)) if w is None else np.asarray(w, dtype="float64")


def roc_auc(risk, y, w=None) -> float:
    """Area under the ROC curve (ties count half); NaN without both classes."""
    risk, y, w = np.asarray(risk, float), np.asarray(y, float), _w(y, w)
    wp, wn = (w * (y == 1)), (w * (y == 0))
    if wp.sum() <= 0 or wn.sum() <= 0:
        return float("nan")
    order = np.argsort(risk, kind="mergesort")
    r, wp, wn = risk[order], wp[order], wn[order]
    uniq, start = np.unique(r, return_index=True)
    pos = np.add.reduceat(wp, start)
    neg = np.add.reduceat(wn, start)
    neg_below = np.cumsum(neg) - neg
    return float((pos * (neg_below + 0.5 * neg)).sum() / (pos.sum() * neg.sum()))


def average_precision(risk, y, w=None) -> float:
    """Area under the precision-recall curve as average precision (thresholds at distinct risks)."""
    risk, y, w = np.asarray(risk, float), np.asarray(y, float), _w(y, w)
    total_pos = (w * (y == 1)).sum()
    if total_pos <= 0:
        return float("nan")
    order = np.argsort(-risk, kind="mergesort")
    r, wp, wa = risk[order], (w * (y == 1))[order], w[order]
    _, start = np.unique(-r, return_index=True)
    tp, all_ = np.cumsum(np.add.reduceat(wp, start)), np.cumsum(np.add.reduceat(wa, start))
    precision = np.where(all_ > 0, tp / np.where(all_ > 0, all_, 1), 0.0)
    recall_step = np.diff(np.concatenate([[0.0], tp])) / total_pos
    return float((recall_step * precision).sum())


def lowest_decile(risk, groups) -> np.ndarray:
    """True for the riskiest 10% of rows within each group (each as-of date: what a CSM sees that day)."""
    risk = np.asarray(risk, float)
    out = np.zeros(len(risk), dtype=bool)
    groups = np.asarray(groups)
    for g in np.unique(groups):
        idx = np.flatnonzero(groups == g)
        k = max(1, int(round(0.1 * len(idx))))
        out[idx[np.argsort(-risk[idx], kind="mergesort")[:k]]] = True
    return out


def rate(mask, y, w=None) -> float:
    """Weighted share of bad outcomes among the rows in `mask`."""
    y, w = np.asarray(y, float), _w(y, w)
    den = (w * mask).sum()
    return float((w * mask * y).sum() / den) if den > 0 else float("nan")


def decile_precision_lift(top, y, w=None) -> tuple[float, float]:
    p = rate(top, y, w)
    base = rate(np.ones(len(y), bool), y, w)
    return p, (p / base if base > 0 else float("nan"))


def brier(p, y, w=None) -> float:
    p, y, w = np.asarray(p, float), np.asarray(y, float), _w(y, w)
    return float((w * (p - y) ** 2).sum() / w.sum())


def reliability(p, y, bins: int = 10) -> list[dict]:
    """Quantile bins of the predicted probability: mean prediction vs observed rate."""
    p, y = np.asarray(p, float), np.asarray(y, float)
    if len(p) == 0:
        return []
    edges = np.unique(np.quantile(p, np.linspace(0, 1, bins + 1)))
    idx = np.clip(np.searchsorted(edges, p, side="right") - 1, 0, max(len(edges) - 2, 0))
    out = []
    for b in np.unique(idx):
        m = idx == b
        out.append({"predicted": round(float(p[m].mean()), 4), "observed": round(float(y[m].mean()), 4),
                    "n": int(m.sum())})
    return out


def fit_platt(score, y, l2: float = 1e-3, iters: int = 50, w=None) -> tuple[float, float]:
    """P(bad) = sigmoid(a + b * (score - 50) / 10), fitted by Newton's method with a small ridge."""
    x = (np.asarray(score, float) - 50.0) / 10.0
    y = np.asarray(y, float)
    w = _w(y, w)
    X = np.column_stack([np.ones_like(x), x])
    beta = np.zeros(2)
    for _ in range(iters):
        p = 1 / (1 + np.exp(-(X @ beta)))
        g = X.T @ (w * (p - y)) + l2 * beta
        H = (X * (w * p * (1 - p))[:, None]).T @ X + l2 * np.eye(2)
        step = np.linalg.solve(H, g)
        beta -= step
        if np.abs(step).max() < 1e-8:
            break
    return float(beta[0]), float(beta[1])


def platt_predict(coef: tuple[float, float], score) -> np.ndarray:
    x = (np.asarray(score, float) - 50.0) / 10.0
    return 1 / (1 + np.exp(-(coef[0] + coef[1] * x)))


def bootstrap(accounts, statistic: Callable[[np.ndarray], float], n: int = 200, seed: int = 0) -> dict:
    """Point estimate and 95% percentile interval of statistic(weights), resampling accounts with replacement.

    statistic receives one weight per row (how often the row's account was drawn); the point estimate uses
    weight 1. Rows of one account move together, so repeated snapshots of an account are not independent draws.
    """
    _, codes = np.unique(np.asarray(accounts, dtype=object).astype(str), return_inverse=True)
    n_acc = codes.max() + 1 if len(codes) else 0
    point = statistic(np.ones(len(codes)))
    if n_acc == 0:
        return {"value": _r(point), "low": None, "high": None}
    rng = np.random.default_rng(seed)
    draws = []
    for _ in range(n):
        counts = np.bincount(rng.integers(0, n_acc, n_acc), minlength=n_acc)
        v = statistic(counts[codes].astype(float))
        if not np.isnan(v):
            draws.append(v)
    if not draws or np.isnan(point):
        return {"value": _r(point), "low": None, "high": None}
    lo, hi = np.percentile(draws, [2.5, 97.5])
    # A percentile interval can miss a point estimate on a skewed statistic; widen it to contain the estimate.
    return {"value": _r(point), "low": _r(min(lo, point)), "high": _r(max(hi, point))}


def weighted_median(values, w) -> float:
    values, w = np.asarray(values, float), np.asarray(w, float)
    keep = w > 0
    if not keep.any():
        return float("nan")
    order = np.argsort(values[keep])
    v, cw = values[keep][order], np.cumsum(w[keep][order])
    return float(v[np.searchsorted(cw, 0.5 * cw[-1])])


def _r(v) -> float | None:
    return None if v is None or (isinstance(v, float) and np.isnan(v)) else round(float(v), 4)


def auc_interval(auc: float, n_pos: int, n_neg: int) -> tuple[float, float]:
    """Hanley-McNeil 95% interval of an AUC (cheap: used per metric, where a bootstrap each would be slow)."""
    if np.isnan(auc) or n_pos == 0 or n_neg == 0:
        return float("nan"), float("nan")
    q1, q2 = auc / (2 - auc), 2 * auc * auc / (1 + auc)
    var = (auc * (1 - auc) + (n_pos - 1) * (q1 - auc * auc) + (n_neg - 1) * (q2 - auc * auc)) / (n_pos * n_neg)
    se = float(np.sqrt(max(var, 0.0)))
    return max(0.0, auc - 1.96 * se), min(1.0, auc + 1.96 * se)


def brier_skill(p, y, base, w=None) -> float:
    """1 - Brier(p) / Brier(constant `base`): 0 adds nothing over the base rate, below 0 is worse than it."""
    ref = brier(np.full(len(np.asarray(y)), base), y, w)
    return float(1 - brier(p, y, w) / ref) if ref > 0 else float("nan")
