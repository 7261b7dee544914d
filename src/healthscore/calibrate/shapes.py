"""Learned shapes: a generalized additive model whose terms are tables a person can read.

Each metric's raw value is cut into bins at quantiles of the training data (categorical metrics keep
their categories), with one more bin for "no data". An L2 logistic regression (scikit-learn) gives every
bin a log-odds contribution to the bad outcome; numeric bins enter as steps, so the penalty shrinks the
step between neighbouring bins (a smooth shape where the data are thin) rather than each bin towards 0.
A metric the analyst marks monotone has its contributions made monotone (isotonic regression, weighted
by the bins' rows). Optionally a few pairwise interactions: a table over two numeric metrics' coarse bins,
chosen by how much it lowers the training log-loss on top of the shapes (FAST) and kept only if that
drop exceeds its number of cells, then fitted jointly with the shapes. The contributions then become an
ordinary health model, so the evidence still adds up:

    health_m(bin) = -contribution,  range_m = max - min over the metric's bins (no-data included)
    score_m(bin)  = 100 * (health_m(bin) - min_m) / range_m          (a `shape` or `map` transform)
    weight_m      = range_m                                           (components: the sum of theirs)

and the same for an interaction's cells (a model-level `interactions:` entry, its own evidence row), so
the score is sum_t weight_t * score_t / sum_t weight_t = 100 * (sum_t health_t - const) / R: a strictly
decreasing function of the fitted log-odds. The score ranks accounts exactly as the fitted model does,
and each term's points are its learned contribution, shifted and scaled.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

MIN_RANGE = 1e-6  # a metric whose bins do not differ keeps a tiny weight (weights must be > 0)
PAIR_BINS = 6  # bins per metric of an interaction table: a 6 x 6 table is still read at a glance


@dataclass
class MetricShape:
    metric: str
    kind: str  # "shape" (numeric bins) or "map" (categories)
    edges: list[float] = field(default_factory=list)  # bin i covers [edges[i], edges[i+1])
    categories: list[str] = field(default_factory=list)
    scores: list[float] = field(default_factory=list)  # one per bin or category
    missing_score: float = 50.0
    weight: float = MIN_RANGE  # the log-odds range the metric spans
    rows: list[int] = field(default_factory=list)  # training rows per bin (missing last)
    monotone: str | None = None

    def transform(self, fitted: str) -> dict[str, Any]:
        """The metric's transform in the model YAML."""
        if self.kind == "map":
            return {"kind": "map", "values": {c: round(s, 2) for c, s in zip(self.categories, self.scores)},
                    "default": round(self.missing_score, 2)}
        out: dict[str, Any] = {"kind": "shape", "bins": [{"min": _round_edge(e), "score": round(s, 2)}
                                                          for e, s in zip(self.edges, self.scores)]}
        if self.monotone:
            out["monotone"] = self.monotone
        out["fitted"] = fitted
        return out


@dataclass
class PairShape:
    """A learned interaction: a table over two metrics' bins, scored and weighted like a shape."""

    metrics: tuple[str, str]
    edges: tuple[list[float], list[float]]  # bin starts of each metric
    scores: list[list[float]]  # rows: the first metric's bins; columns: the second's
    missing_score: float  # either value missing
    weight: float
    gain: float  # how much the table lowered the training log-loss when it was chosen

    def interaction(self, fitted: str) -> dict[str, Any]:
        """The interaction in the model YAML."""
        return {"name": f"{self.metrics[0]} x {self.metrics[1]}", "metrics": list(self.metrics),
                "edges": [[_round_edge(e) for e in self.edges[0]], [_round_edge(e) for e in self.edges[1]]],
                "scores": [[round(s, 2) for s in row] for row in self.scores],
                "missing_score": round(self.missing_score, 2), "weight": float(f"{self.weight:.6g}"),
                "fitted": fitted}


def _round_edge(x: float) -> float:
    return float(f"{x:.6g}")


def _bins(values: pd.Series, n_bins: int) -> tuple[str, list, np.ndarray]:
    """(kind, edges or categories, bin index per row with -1 for no data)."""
    numeric = pd.to_numeric(values, errors="coerce")
    present = values.notna().to_numpy()
    if numeric.notna().sum() >= present.sum() * 0.99:  # numbers (a stray text value is no data)
        x = numeric.to_numpy(float)
        finite = x[np.isfinite(x)]
        if finite.size == 0:
            return "shape", [0.0], np.full(len(x), -1)
        qs = _edges(finite, n_bins)
        idx = np.where(np.isfinite(x), np.searchsorted(qs, np.nan_to_num(x, nan=qs[0]), side="right") - 1, -1)
        return "shape", [float(q) for q in qs], np.where(idx < 0, np.where(np.isfinite(x), 0, -1), idx)
    cats = sorted({str(v) for v in values[values.notna()]})
    pos = {c: i for i, c in enumerate(cats)}
    idx = np.array([pos.get(str(v), -1) if v is not None and v == v else -1 for v in values])
    return "map", cats, idx


def _edges(finite: np.ndarray, n_bins: int) -> np.ndarray:
    """Bin starts: the distinct values when they are few, else quantiles; a mass of ties (most accounts at
    0 escalations) takes one bin and the values above it are cut again, so a tail is never lost in it."""
    distinct = np.unique(finite)
    if len(distinct) <= n_bins:
        return np.unique([_round_edge(v) for v in distinct])
    edges = [float(distinct[0])]
    rest = finite
    while len(edges) < n_bins:
        rest = rest[rest > edges[-1]]
        if rest.size == 0:
            break
        left = n_bins - len(edges)
        qs = np.unique(np.quantile(rest, np.linspace(0, 1, left + 1)[:-1], method="lower"))
        if len(qs) == left or qs.size == 0:
            edges += [float(q) for q in qs]
            break
        edges.append(float(qs[0]))  # a tie at the tail's start: its own bin, then cut what lies above it
    out = np.unique([_round_edge(e) for e in edges])
    out[0] = min(out[0], float(finite.min()))
    # a bin with few rows learns noise: merge it into its neighbour (the one below; the first one upwards)
    min_rows = max(30, int(0.01 * finite.size))
    while len(out) > 1:
        counts = np.bincount(np.searchsorted(out, finite, side="right") - 1, minlength=len(out))
        small = np.flatnonzero(counts < min_rows)
        if small.size == 0:
            break
        i = int(small[np.argmin(counts[small])])
        out = np.delete(out, max(i, 1))
    return out


def _isotonic(values: np.ndarray, weights: np.ndarray, increasing: bool) -> np.ndarray:
    from sklearn.isotonic import IsotonicRegression

    reg = IsotonicRegression(increasing=increasing)
    return reg.fit_transform(np.arange(len(values)), values, sample_weight=np.maximum(weights, 1e-9))


def fit_shapes(values: pd.DataFrame, y: np.ndarray, *, n_bins: int = 8, l2: float = 1.0,
               monotone: dict[str, str] | None = None) -> list[MetricShape]:
    """Fit one shape per column of `values` (raw metric values, one row per labelled snapshot) against
    the bad-outcome label y (1 bad). monotone: metric -> "increasing" | "decreasing" (health rises or
    falls with the value)."""
    return fit_shape_model(values, y, n_bins=n_bins, l2=l2, monotone=monotone)[0]


def fit_shape_model(values: pd.DataFrame, y: np.ndarray, *, n_bins: int = 8, l2: float = 1.0,
                    monotone: dict[str, str] | None = None, interactions: int = 0, pair_bins: int = PAIR_BINS,
                    pairable: set[str] | None = None) -> tuple[list[MetricShape], list[PairShape]]:
    """The shapes, and up to `interactions` pairwise tables: pairs of numeric metrics ranked by how much a
    table over their coarse bins lowers the training log-loss on top of the shapes (FAST), then fitted
    jointly with the shapes in one L2 logistic regression. Only the rows given (a training fold) are read;
    pairable: the metrics an interaction may use (default: all)."""
    from scipy import sparse
    from sklearn.linear_model import LogisticRegression

    monotone = monotone or {}
    y = np.asarray(y, dtype=float)
    if len(np.unique(y)) < 2:
        raise ValueError("fitting shapes needs both outcomes among the labelled snapshots")
    blocks, layout = [], []
    for name in values.columns:
        kind, edges, idx = _bins(values[name], n_bins)
        k = len(edges) + 1  # the last column: no data
        col = np.where(idx < 0, k - 1, idx)
        blocks.append(_steps(col, k) if kind == "shape" else _onehot(col, k))
        layout.append((name, kind, edges, k, np.bincount(col, minlength=k)))
    C = 1.0 / max(l2, 1e-9)
    model = LogisticRegression(C=C, max_iter=2000, solver="lbfgs").fit(sparse.hstack(blocks).tocsr(), y)
    candidates = values[[c for c in values.columns if pairable is None or c in pairable]]
    pairs = _select_pairs(candidates, y, model.decision_function(sparse.hstack(blocks).tocsr()), l2, interactions,
                          pair_bins) if interactions > 0 else []
    if pairs:  # the shapes and the chosen tables together: a table learns only what the shapes cannot
        model = LogisticRegression(C=C, max_iter=2000, solver="lbfgs").fit(
            sparse.hstack(blocks + [_onehot(p[3], p[4]) for p in pairs]).tocsr(), y)
    coef = model.coef_[0]
    out, start = [], 0
    for name, kind, edges, k, rows in layout:
        width = k - 1 if kind == "shape" else k
        c = coef[start:start + width]
        start += width
        if kind == "shape":  # steps between neighbouring bins -> each bin's contribution (the first bin: 0)
            c = np.concatenate([[0.0], np.cumsum(c[:-1]), c[-1:]])
        health = -c  # a bin that raises the risk lowers health
        mono = monotone.get(name) if kind == "shape" else None
        if mono:  # the constraint holds on the value bins; the no-data bin stands apart
            health[:-1] = _isotonic(health[:-1], rows[:-1], increasing=(mono == "increasing"))
        scores, span = _scaled(health, rows)
        out.append(MetricShape(metric=name, kind=kind, edges=list(edges) if kind == "shape" else [],
                               categories=list(edges) if kind == "map" else [], scores=scores[:-1].tolist(),
                               missing_score=float(scores[-1]), weight=max(span, MIN_RANGE), rows=rows.tolist(),
                               monotone=mono))
    tables = []
    for (a, b), (ea, eb), gain, cells, k in pairs:
        health = -coef[start:start + k]
        start += k
        scores, span = _scaled(health, np.bincount(cells, minlength=k))
        grid = scores[:-1].reshape(len(ea), len(eb))
        tables.append(PairShape(metrics=(a, b), edges=(ea, eb), scores=grid.tolist(), missing_score=float(scores[-1]),
                                weight=max(span, MIN_RANGE), gain=gain))
    return out, tables


def _steps(col: np.ndarray, k: int):
    """Numeric bins as steps: column j (j = 1 .. k-2) is 1 where the bin is at least j, the last column the
    no-data bin. The L2 penalty then shrinks the step between neighbouring bins, not each bin towards 0: a
    shape with many bins stays smooth where the data do not say otherwise (a first-difference penalty)."""
    from scipy import sparse

    present = col < k - 1
    rows, cols = [], []
    for j in range(1, k - 1):
        hit = np.flatnonzero(present & (col >= j))
        rows.append(hit)
        cols.append(np.full(hit.size, j - 1))
    missing = np.flatnonzero(~present)
    rows.append(missing)
    cols.append(np.full(missing.size, k - 2))
    r, c = np.concatenate(rows), np.concatenate(cols)
    return sparse.csr_matrix((np.ones(r.size), (r, c)), shape=(len(col), k - 1))


def _onehot(col: np.ndarray, k: int):
    from scipy import sparse

    return sparse.csr_matrix((np.ones(len(col)), (np.arange(len(col)), col)), shape=(len(col), k))


def _scaled(health: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, float]:
    """(0..100 scores, the log-odds span): the least healthy bin seen in training scores 0, the healthiest 100;
    a bin never seen (no data, a table cell) scores the rows' average."""
    seen = rows > 0
    lo, hi = float(health[seen].min()), float(health[seen].max())
    span = hi - lo
    scores = np.full(len(health), 50.0) if span < MIN_RANGE else np.clip(100.0 * (health - lo) / span, 0.0, 100.0)
    if (~seen).any() and seen.any():
        scores[~seen] = float(np.average(scores[seen], weights=rows[seen]))
    return scores, span


def pair_cells(a: np.ndarray, b: np.ndarray, ea: list[float], eb: list[float]) -> np.ndarray:
    """The cell of each row in a pair's table: row-major over (bin of a, bin of b); the last cell (index
    len(ea) * len(eb)) holds the rows where either value is missing. Below the first edge is the first bin."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    ia = np.clip(np.searchsorted(ea, np.nan_to_num(a), side="right") - 1, 0, len(ea) - 1)
    ib = np.clip(np.searchsorted(eb, np.nan_to_num(b), side="right") - 1, 0, len(eb) - 1)
    return np.where(np.isnan(a) | np.isnan(b), len(ea) * len(eb), ia * len(eb) + ib)


def _select_pairs(values: pd.DataFrame, y: np.ndarray, margin: np.ndarray, l2: float, k: int, pair_bins: int):
    """The k pairs whose table most lowers the training log-loss given the shapes' margin, among those whose
    drop exceeds their number of cells. With the margin held fixed, each cell's contribution is its own
    one-parameter problem (a few Newton steps)."""
    numeric = {}
    for name in values.columns:
        kind, edges, _ = _bins(values[name], pair_bins)
        if kind == "shape" and len(edges) > 1:
            numeric[name] = (pd.to_numeric(values[name], errors="coerce").to_numpy(float), [float(e) for e in edges])
    base = _logloss(y, margin)
    ranked = []
    names = list(numeric)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            (va, ea), (vb, eb) = numeric[a], numeric[b]
            k_cells = len(ea) * len(eb) + 1
            cells = pair_cells(va, vb, ea, eb)
            delta = np.zeros(k_cells)
            for _ in range(4):
                p = 1 / (1 + np.exp(-(margin + delta[cells])))
                grad = np.bincount(cells, p - y, minlength=k_cells) + l2 * delta
                hess = np.bincount(cells, p * (1 - p), minlength=k_cells) + l2
                delta -= grad / hess
            ranked.append((base - _logloss(y, margin + delta[cells]) - l2 * float(delta @ delta) / 2,
                           (a, b), (ea, eb), cells, k_cells))
    ranked.sort(key=lambda r: -r[0])
    # a table must pay for its cells (AIC: the log-loss drop above one per parameter), so a small training
    # fold with few bad outcomes gets no interaction rather than a table of noise
    return [(names_, edges, float(gain), cells, kc) for gain, names_, edges, cells, kc in ranked[:k] if gain > kc]


def _logloss(y: np.ndarray, margin: np.ndarray) -> float:
    return float(np.sum(np.logaddexp(0.0, margin) - y * margin))


def apply_shapes(data: dict, fits: list[MetricShape], fitted: str, pairs: list[PairShape] | None = None) -> dict:
    """The model YAML (as parsed) with every fitted metric's transform, missing rule and weight replaced,
    each component weighted by its metrics' learned ranges, and the interactions (replacing any earlier)."""
    import copy

    by_metric = {f.metric: f for f in fits}
    out = copy.deepcopy(data)
    out.pop("interactions", None)
    if pairs:
        out["interactions"] = [p.interaction(fitted) for p in pairs]
    for comp in out.get("components", []):
        total = 0.0
        for m in comp.get("metrics", []):
            f = by_metric.get(m["name"])
            if f is None:
                continue
            m["transform"] = f.transform(fitted)
            m.pop("direction", None)  # a shape carries its direction in its scores
            m["missing"] = {"rule": "score", "score": round(f.missing_score, 2)}
            m["weight"] = float(f"{f.weight:.6g}")
            total += m["weight"]
        if total > 0:
            comp["weight"] = float(f"{total:.6g}")
    for seg in out.get("segments", []):  # learned shapes hold for every account: no segment reweights them,
        seg.pop("weights", None)        # and its tiers were cut on the old scale
        seg.pop("tiers", None)
    return out


def shape_points(fits: list[MetricShape], pairs: list[PairShape], values: pd.DataFrame) -> np.ndarray:
    """The learned terms' points per row of `values` (raw metric values): sum of weight x score / 100, as the
    scoring code adds them up (a value below a shape's first edge scores its first bin, an unseen category or
    no data the missing score). Higher is healthier; it ranks rows as the proposal's score does."""
    total = np.zeros(len(values))
    for f in fits:
        col = values[f.metric]
        if f.kind == "map":
            by_category = dict(zip(f.categories, f.scores))
            s = np.array([by_category.get(str(v), f.missing_score) if v is not None and v == v else f.missing_score
                          for v in col], dtype=float)
        else:
            x = pd.to_numeric(col, errors="coerce").to_numpy(float)
            idx = np.clip(np.searchsorted(np.asarray(f.edges), np.nan_to_num(x), side="right") - 1, 0, None)
            s = np.where(np.isnan(x), f.missing_score, np.asarray(f.scores)[np.minimum(idx, len(f.scores) - 1)])
        total += f.weight * s / 100.0
    for p in pairs:
        a, b = (pd.to_numeric(values[m], errors="coerce").to_numpy(float) for m in p.metrics)
        cells = pair_cells(a, b, p.edges[0], p.edges[1])
        table = np.append(np.asarray(p.scores, dtype=float).ravel(), p.missing_score)
        total += p.weight * table[cells] / 100.0
    return total


@dataclass
class Settings:
    """The bins and penalty a shape fit uses, and how they were chosen."""

    n_bins: int
    l2: float
    chosen_by: str  # "cv" or "fixed"
    grid: list[dict] = field(default_factory=list)  # cv: {bins, l2, auc} per setting tried (mean inner AUC)
    folds: int = 0

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"bins": self.n_bins, "l2": self.l2, "chosen_by": self.chosen_by}
        if self.chosen_by == "cv":
            out["folds"] = self.folds
            out["grid"] = self.grid
        return out


def choose_settings(values: pd.DataFrame, y: np.ndarray, groups: np.ndarray, fit, bins_grid: list[int],
                    l2_grid: list[float], folds: int = 3, seed: int = 0) -> Settings:
    """The (bins, penalty) of the grid with the best mean AUC over `folds` inner folds of the rows given
    (stratified, grouped by account so no account is on both sides). Only these rows are read: called on a
    training fold, the held-out fold plays no part in the choice. fit(values, y, n_bins, l2) -> (shapes,
    pairs) is the whole fit as the proposal runs it (caps included). Ties go to fewer bins, then the larger
    penalty (the smoother shape)."""
    from sklearn.model_selection import StratifiedGroupKFold

    from healthscore.calibrate.stats import roc_auc

    y = np.asarray(y, dtype=float)
    n_splits = max(2, min(folds, int(y.sum()), int((1 - y).sum()), len(np.unique(groups))))
    cv = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    splits = [(tr, te) for tr, te in cv.split(np.zeros(len(y)), y, groups)
              if 0 < y[tr].sum() < len(tr) and 0 < y[te].sum() < len(te)]
    grid = sorted({(int(b), float(lam)) for b in bins_grid for lam in l2_grid}, key=lambda s: (s[0], -s[1]))
    if not splits or len(grid) == 1:
        return Settings(grid[0][0], grid[0][1], "cv", [], 0)
    tried: list[dict[str, Any]] = []
    for n_bins, l2 in grid:
        aucs = []
        for tr, te in splits:
            fits, pairs = fit(values.iloc[tr].reset_index(drop=True), y[tr], n_bins, l2)
            aucs.append(roc_auc(-shape_points(fits, pairs, values.iloc[te]), y[te]))
        tried.append({"bins": n_bins, "l2": l2, "auc": round(float(np.mean(aucs)), 4)})
    best = max(tried, key=lambda t: t["auc"])  # max keeps the first of equals: fewer bins, larger penalty
    return Settings(int(best["bins"]), float(best["l2"]), "cv", tried, len(splits))
