"""Small signal-only workspaces whose answer is known: an informative signal, a noise signal, optionally a
leaking one (equal to the label), accounts that go silent (paused), or a one-date export."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

D0 = pd.Timestamp("2025-01-01")
STEP = 30
HORIZON = 90


def _metric(name: str, weight: float, direction: str = "higher_is_better", freshness: str | None = None) -> dict:
    m = {"name": name, "source": "signals", "measure": "latest", "column": "value", "filter": {"name": name},
         "window": "all", "transform": {"kind": "linear", "low": 0, "high": 100}, "direction": direction,
         "weight": weight, "missing": "neutral"}
    if freshness:
        m["freshness"] = freshness
    return m


def model(weights: dict[str, float], directions: dict[str, str] | None = None, freshness: dict | None = None,
          calibration: dict | None = None) -> dict:
    directions, freshness = directions or {}, freshness or {}
    return {"name": "synthetic", "defaults": {"missing": "neutral"}, "scoring": {"onboarding_days": 0, "pause_min_weight": 0.05},  # the silent metric (9%) pauses
            "tiers": {"green": 70, "yellow": 40},
            "components": [{"name": "signals", "weight": 1,
                            "metrics": [_metric(n, w, directions.get(n, "higher_is_better"), freshness.get(n))
                                        for n, w in weights.items()]}],
            "outcome": {"label": ["churned"], "horizon": f"{HORIZON}d"},
            "calibration": {"min_events": 20, "min_survivors": 20, **(calibration or {})}}


def write_workspace(root: Path, signals: pd.DataFrame, outcomes: pd.DataFrame, accounts: pd.DataFrame,
                    model_data: dict) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "data").mkdir(exist_ok=True)
    (root / "models").mkdir(exist_ok=True)
    accounts.to_csv(root / "data" / "accounts.csv", index=False)
    signals.to_csv(root / "data" / "signals.csv", index=False)
    outcomes.to_csv(root / "data" / "outcomes.csv", index=False)
    (root / "models" / "health.yaml").write_text(yaml.safe_dump(model_data, sort_keys=False))
    (root / "healthscore.yaml").write_text(yaml.safe_dump({
        "model": "models/health.yaml",
        "sources": {t: {"path": f"data/{t}.csv"} for t in ("accounts", "signals", "outcomes")}}))
    from healthscore.project import Project

    with Project(root) as p:
        p.ingest()
    return root


def panel(root: Path, *, n: int = 300, periods: int = 16, seed: int = 0, leak: bool = False, silent: bool = False,
          model_data: dict | None = None) -> tuple[Path, list[dt.date]]:
    """Signals every 30 days (one hour before each as-of date D0 + 30k) while the account is active; churn at a
    random time, likelier for low `good`. Returns the workspace and the as-of dates whose horizon is over."""
    rng = np.random.default_rng(seed)
    z = rng.normal(size=n)
    hazard = 0.003 * np.exp(1.6 * z)  # per day
    churn_at = D0 + pd.to_timedelta(rng.exponential(1 / hazard), unit="D")
    quiet = rng.random(n) < 0.15 if silent else np.zeros(n, bool)  # go silent before churning: paused
    end = D0 + pd.Timedelta(days=STEP * (periods - 1))
    rows = []
    for k in range(periods):
        d = D0 + pd.Timedelta(days=STEP * k)
        for i in range(n):
            if churn_at[i] <= d:
                continue
            if quiet[i] and (churn_at[i] - d).days < 100 and k > 0:
                continue
            good = float(np.clip(50 - 18 * z[i] + rng.normal(0, 6), 0, 100))
            rows.append((f"A{i:04d}", d - pd.Timedelta(hours=1), "good", good))
            rows.append((f"A{i:04d}", d - pd.Timedelta(hours=1), "noise", float(rng.uniform(0, 100))))
            if leak:
                bad = d <= churn_at[i] < min(d + pd.Timedelta(days=HORIZON), end)
                rows.append((f"A{i:04d}", d - pd.Timedelta(hours=1), "leak", 0.0 if bad else 100.0))
    signals = pd.DataFrame(rows, columns=["account_id", "ts", "name", "value"])
    churned = churn_at < end
    outcomes = pd.DataFrame({"account_id": [f"A{i:04d}" for i in np.flatnonzero(churned)],
                             "ts": churn_at[churned], "kind": "churned"})
    accounts = pd.DataFrame({"account_id": [f"A{i:04d}" for i in range(n)], "name": [f"Acc {i}" for i in range(n)],
                             "created_at": D0 - pd.Timedelta(days=400)})
    weights = {"good": 1, "noise": 9, **({"leak": 1} if leak else {})}
    write_workspace(root, signals, outcomes, accounts,
                    model_data or model(weights, freshness={"good": "45d"} if silent else None))
    last = end - pd.Timedelta(days=HORIZON)
    dates = [(D0 + pd.Timedelta(days=STEP * k)).date() for k in range(periods)
             if D0 + pd.Timedelta(days=STEP * k) <= last]
    return root, dates


def one_date(root: Path, *, n: int = 600, seed: int = 1, model_data: dict | None = None) -> Path:
    """A cross-sectional export: one signal row per account and signal on day T, churn recorded on day T."""
    rng = np.random.default_rng(seed)
    z = rng.normal(size=n)
    churn = rng.random(n) < 1 / (1 + np.exp(-(-1.6 + 1.3 * z)))
    t = pd.Timestamp("2025-06-30")
    ids = [f"C{i:04d}" for i in range(n)]
    signals = pd.concat([
        pd.DataFrame({"account_id": ids, "ts": t, "name": "good", "value": np.clip(50 - 18 * z + rng.normal(0, 12, n), 0, 100)}),
        pd.DataFrame({"account_id": ids, "ts": t, "name": "noise", "value": rng.uniform(0, 100, n)})])
    outcomes = pd.DataFrame({"account_id": np.array(ids)[churn], "ts": t, "kind": "churned"})
    accounts = pd.DataFrame({"account_id": ids, "name": ids, "created_at": t - pd.Timedelta(days=400)})
    return write_workspace(root, signals, outcomes, accounts, model_data or model({"good": 1, "noise": 9}))
