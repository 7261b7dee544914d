"""Portfolio-level gates (pipeline breaks) and the score and input drift report.

A source that goes silent or collapses for most accounts at once is a broken pipeline, not a churn
wave: the affected snapshots pause with a reason naming the source and the portfolio-wide drop, and
the weekly run raises one alert to the admin queue instead of hundreds to owners.

Drift: the population stability index (PSI) of every metric and of the score, current as-of date
against a reference period (the drift section, else the approved model's backtest window, else the
year before). A PSI at or above the threshold suggests recalibration; the proposal still needs
`healthscore model propose` and an admin's approval.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import numpy as np

# the gate's query lives in the engine, the portfolio alerts of a break in workflow/pipeline.py; tests import here
from healthscore.engine.pipeline import pipeline_column as pipeline_column
from healthscore.workflow.pipeline import PORTFOLIO_ACCOUNT as PORTFOLIO_ACCOUNT

if TYPE_CHECKING:
    from healthscore.services.parts import Parts

# ---- PSI --------------------------------------------------------------------------------------


def psi(reference, current, bins: int = 10) -> dict[str, Any] | None:
    """Population stability index of `current` against `reference`: sum (c - r) ln(c / r) over bins.

    Numeric values: decile bins of the reference; text values: categories. Empty bins get a small
    floor (0.0001) so the index stays finite. None when either side has no values.
    """
    ref = [v for v in reference if v is not None and not (isinstance(v, float) and np.isnan(v))]
    cur = [v for v in current if v is not None and not (isinstance(v, float) and np.isnan(v))]
    if not ref or not cur:
        return None
    numeric = all(isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) for v in ref + cur)
    if numeric:
        r, c = np.asarray(ref, float), np.asarray(cur, float)
        edges = np.unique(np.quantile(r, np.linspace(0, 1, bins + 1)[1:-1]))
        rc = np.bincount(np.searchsorted(edges, r, side="right"), minlength=len(edges) + 1)
        cc = np.bincount(np.searchsorted(edges, c, side="right"), minlength=len(edges) + 1)
        labels: list[str] = []
    else:
        labels = sorted({str(v) for v in ref + cur})
        rc = np.array([sum(str(v) == k for v in ref) for k in labels])
        cc = np.array([sum(str(v) == k for v in cur) for k in labels])
    rp = np.maximum(rc / rc.sum(), 1e-4)
    cp = np.maximum(cc / cc.sum(), 1e-4)
    value = float(np.sum((cp - rp) * np.log(cp / rp)))
    out: dict[str, Any] = {"psi": round(value, 4), "reference_n": len(ref), "current_n": len(cur)}
    if numeric:
        out["reference_median"] = round(float(np.median(np.asarray(ref, float))), 4)
        out["current_median"] = round(float(np.median(np.asarray(cur, float))), 4)
    else:
        out["categories"] = {k: {"reference": round(float(a), 4), "current": round(float(b), 4)}
                             for k, a, b in zip(labels, rc / rc.sum(), cc / cc.sum())}
    return out


def level(value: float | None, threshold: float) -> str:
    if value is None:
        return "no data"
    if value >= threshold:
        return "shifted"
    if value >= min(0.1, threshold / 2):
        return "moderate"
    return "stable"


def drift_report(project: Parts, as_of: dt.date, reference_from: dt.date | None = None,
                 reference_to: dt.date | None = None, threshold: float | None = None,
                 every_days: int | None = None) -> dict[str, Any]:
    """PSI of every metric's value and of the score at `as_of` against the reference period."""
    from healthscore.errors import InvalidInput

    model = project.model
    cfg = model.ir.drift
    threshold = threshold if threshold is not None else (cfg.psi_threshold if cfg else 0.25)
    every = every_days or (cfg.every_days if cfg else 30)
    source = "given"
    if reference_from is None and reference_to is None and cfg and cfg.reference_from and cfg.reference_to:
        reference_from, reference_to, source = cfg.reference_from, cfg.reference_to, "model drift section"
    if reference_from is None or reference_to is None:
        active = project.store.active_model_version()
        bt = (active or {}).get("backtest") or {}
        if active is not None and reference_from is None and reference_to is None and bt.get("from") \
                and bt.get("to"):
            reference_from, reference_to = dt.date.fromisoformat(bt["from"]), dt.date.fromisoformat(bt["to"])
            source = f"backtest window of the approved version {active['version']}"
        else:
            reference_to = reference_to or as_of - dt.timedelta(days=90)
            reference_from = reference_from or reference_to - dt.timedelta(days=365)
            source = "default: the year ending 90 days before the as-of date" if source == "given" else source
    if reference_to < reference_from:
        raise InvalidInput(f"--reference-to {reference_to} is before --reference-from {reference_from}",
                           field="reference_to")
    if reference_to >= as_of:
        raise InvalidInput(f"the reference period must end before the as-of date {as_of} (it ends {reference_to})",
                           field="reference_to")
    ref_dates = [reference_from + dt.timedelta(days=i)
                 for i in range(0, (reference_to - reference_from).days + 1, every)]
    run = project.score(as_of_dates=ref_dates + [as_of], store=False)
    snaps, ev = run.frames.snapshots, run.frames.evidence
    import pandas as pd

    is_cur = pd.to_datetime(snaps["as_of"]) == pd.Timestamp(as_of)
    ref_s, cur_s = snaps[~is_cur], snaps[is_cur]
    metrics = []
    ev_cur = pd.to_datetime(ev["as_of"]) == pd.Timestamp(as_of)
    for _, m in model.ir.metrics:
        sel = (ev["metric"] == m.name).to_numpy()
        r = psi(ev.loc[sel & ~ev_cur.to_numpy(), "value"].tolist(), ev.loc[sel & ev_cur.to_numpy(), "value"].tolist())
        metrics.append({"metric": m.name, "source": m.source_label, **(r or {"psi": None}),
                        "level": level(r["psi"] if r else None, threshold)})
    score = psi(ref_s.loc[ref_s["status"] == "scored", "score"].astype(float).tolist(),
                cur_s.loc[cur_s["status"] == "scored", "score"].astype(float).tolist())
    shifted = [m["metric"] for m in metrics if m["level"] == "shifted"]
    score_shifted = score is not None and score["psi"] >= threshold
    tier_share = lambda s: {t: round(float((s["tier"] == t).mean()), 4) if len(s) else None  # noqa: E731
                            for t in ("green", "yellow", "red")}
    recalibrate = bool(shifted) or score_shifted
    return {
        "as_of": as_of.isoformat(), "model_version": model.version,
        "reference": {"from": reference_from.isoformat(), "to": reference_to.isoformat(), "every_days": every,
                      "dates": len(ref_dates), "source": source},
        "threshold": threshold,
        "score": {**(score or {"psi": None}), "level": level(score["psi"] if score else None, threshold),
                  "tier_share": {"reference": tier_share(ref_s[ref_s["status"] == "scored"]),
                                 "current": tier_share(cur_s[cur_s["status"] == "scored"])}},
        "statuses": {"reference": {k: int(v) for k, v in ref_s["status"].value_counts().items()},
                     "current": {k: int(v) for k, v in cur_s["status"].value_counts().items()}},
        "metrics": sorted(metrics, key=lambda m: -(m["psi"] if m["psi"] is not None else -1)),
        "shifted_metrics": shifted,
        "recalibration_suggested": recalibrate,
        "next_step": ("healthscore calibrate --out proposed.yaml, review it, then 'healthscore model propose"
                      " proposed.yaml' and an admin's approval" if recalibrate else
                      "no action: every PSI is below the threshold"),
    }
