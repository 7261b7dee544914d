"""Leak guards: metrics that know the answer before the as-of date, found before a backtest reports or a fit weighs.

Two reasons mark a metric:
- `near_perfect`: on its own it separates the outcome almost perfectly (single-metric AUC at or above
  `calibration.leak_auc`, or at or below 1 - it). Real health signals do not; a column written after the
  outcome (a churn reason, a status, a renewal date that was moved to the churn date) does.
- `not_point_in_time`: it reads an account attribute from today's accounts table (evidence
  `as_of_source: current`), so every past snapshot sees today's value.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from healthscore.calibrate import stats
from healthscore.model.ir import ACCOUNT_MEASURES, HealthModel, Metric

MIN_CLASS = 5  # rows of each class needed before a single-metric AUC means anything


def reads_attribute(metric: Metric) -> bool:
    """Does the metric read an accounts column (attribute, days_until, share per seats ...)?"""
    return metric.measure in ACCOUNT_MEASURES or (metric.measure == "share" and metric.per is not None)


def as_of_sources(evidence: pd.DataFrame | None, model: HealthModel) -> dict[str, str | None]:
    """metric -> "current" when any snapshot read today's accounts table, else the point-in-time source
    ("subscriptions", "account_changes"), else None (the metric reads no account attribute).

    Evidence without an `as_of_source` column comes from an engine that reads every attribute from today's
    accounts table: attribute metrics count as "current"."""
    out: dict[str, str | None] = {}
    sources = evidence if evidence is not None and "as_of_source" in evidence.columns else None
    for _, m in model.metrics:
        if not reads_attribute(m):
            out[m.name] = None
            continue
        if sources is None:
            out[m.name] = "current"
            continue
        vals = sources.loc[sources["metric"].astype(str) == m.name, "as_of_source"].dropna().astype(str)
        seen = set(vals.unique())
        out[m.name] = "current" if "current" in seen or not seen else sorted(seen)[0]
    return out


def single_metric_auc(wide: pd.DataFrame, y: np.ndarray) -> dict[str, dict]:
    """Per metric column (0..100 scores, NaN = no data, filled with the column mean as the fit sees it): the
    AUC of its risk (100 - score) against y, with a Hanley-McNeil 95% interval."""
    y = np.asarray(y, float)
    out: dict[str, dict[str, float | int | None]] = {}
    for name in wide.columns:
        x = wide[name].to_numpy(float)
        if np.isnan(x).all() or (y == 1).sum() < MIN_CLASS or (y == 0).sum() < MIN_CLASS:
            out[name] = {"auc": None, "low": None, "high": None, "rows_with_data": int((~np.isnan(x)).sum())}
            continue
        x = np.where(np.isnan(x), np.nanmean(x), x)
        auc = stats.roc_auc(100.0 - x, y)
        lo, hi = stats.auc_interval(auc, int((y == 1).sum()), int((y == 0).sum()))
        out[name] = {"auc": stats._r(auc), "low": stats._r(lo), "high": stats._r(hi),
                     "rows_with_data": int((~np.isnan(wide[name].to_numpy(float))).sum())}
    return out


def check(wide: pd.DataFrame, y: np.ndarray, sources: dict[str, str | None], threshold: float) -> dict:
    """Every metric's single-metric AUC and point-in-time source; `leaks` lists the suspicious ones with reasons."""
    aucs = single_metric_auc(wide, y)
    leaks = []
    for name in wide.columns:
        reasons, a = [], aucs[name]["auc"]
        if a is not None and (a >= threshold or a <= 1 - threshold):
            reasons.append({"code": "near_perfect",
                            "message": f"on its own it ranks the outcome with AUC {a:.3f} (leak threshold"
                                       f" {threshold:g}, or {1 - threshold:.2f} the other way round): real health"
                                       " signals do not; check whether the column is written at or after the"
                                       " outcome"})
        if sources.get(name) == "current":
            reasons.append({"code": "not_point_in_time",
                            "message": "reads an account attribute from today's accounts table (as_of_source:"
                                       " current), so every past snapshot sees today's value; map subscriptions"
                                       " or account_changes to read it as of each date"})
        if reasons:
            leaks.append({"metric": name, "single_metric_auc": a, "as_of_source": sources.get(name),
                          "reasons": reasons})
    return {"threshold": threshold, "metrics": [{"metric": n, **aucs[n], "as_of_source": sources.get(n)}
                                                for n in wide.columns], "leaks": leaks}


def warning_lines(leak_result: dict | None) -> list[str]:
    """One line per suspicious metric, for the CLI and reports."""
    out = []
    for lk in (leak_result or {}).get("leaks", []):
        out.append(f"{lk['metric']}: " + "; ".join(r["message"] for r in lk["reasons"]))
    return out


def check_snapshots(model: HealthModel, evidence: pd.DataFrame, labels: pd.DataFrame, snaps: pd.DataFrame) -> dict:
    """The leak check over the labelled scored snapshots of a backtest (or a fit)."""
    from healthscore.calibrate.study import labelled_evidence

    names = [m.name for _, m in model.metrics]
    ev = labelled_evidence(evidence, labels, snaps)
    wide = ev.set_index(["account_id", "as_of", "label", "metric"])["score"].astype(float).unstack("metric")
    wide = wide.reindex(columns=names)
    y = wide.index.get_level_values("label").to_numpy(float)
    return check(wide, y, as_of_sources(evidence, model), model.calibration_spec.leak_auc)
