"""Public churn datasets through healthscore's real command line: ingest, score, calibrate, backtest.

Each set (read from ../shared/datasets, never copied into the repository) is written as a one-date
export: one `signals` row per customer and column on the export day and one `outcomes` row per customer
(churned or renewed) on the same, last, date. The benchmark builds a workspace with a hand-written health
model over the signals (one `measure: latest` metric per column; linear transform between the column's
5th and 95th percentiles, label-blind; direction as a CS analyst would write it; tenure flagged
`timing: true`), then runs the CLI as a user would:

    healthscore ingest -w WS
    healthscore score -w WS --as-of DAY+1
    healthscore calibrate -w WS --json --out WS/proposed.yaml     (exit 3: refused, nothing written)
    healthscore backtest -w WS --from DAY+1 --to DAY+1 --json     (the hand model, and the proposal if written)

and prints, per set, the hand model, the calibrated model, a logistic regression and gradient boosting
(both on the same metric scores) on calibrate's held-out folds (stratified 5-fold by account): AUC,
lift in the riskiest 10% and Brier score of the stated probability.

    PYTHONPATH=src python benchmarks/public_datasets.py            # table; writes benchmarks/results/public_datasets.json
    PYTHONPATH=src python benchmarks/public_datasets.py --json     # {dataset: {method: {auc, lift10, brier}}}
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "datasets"
WORK = ROOT / "benchmarks" / "data" / "public"
EXPORT_DAY = pd.Timestamp("2024-01-01")
AS_OF = (EXPORT_DAY + pd.Timedelta(days=1)).date()
METHODS = {"hand": "current", "calibrated": "calibrated", "shapes": "learned_shapes", "lr": "logistic_regression",
           "gbm": "gradient_boosting"}

# How a CS analyst would write each column (no labels looked at); tenure is a timing metric.
LOWER_IS_BETTER = {"Months_Inactive_12_mon", "Contacts_Count_12_mon", "Monthly Charge", "Total Refunds", "paperless",
                   "fiber", "Age"}
TIMING = {"Months_on_book", "Tenure in Months"}


# ---- mapping onto the canonical tables --------------------------------------------------------


def bankchurners() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, dict]:
    df = pd.read_csv(DATA / "bankchurners" / "BankChurners.csv")
    df = df[[c for c in df.columns if not c.startswith("Naive_Bayes")]]  # another model's outputs: a leak
    y = (df["Attrition_Flag"] == "Attrited Customer").astype(int)
    groups = {"usage": ["Total_Trans_Ct", "Total_Trans_Amt"], "trend": ["Total_Ct_Chng_Q4_Q1", "Total_Amt_Chng_Q4_Q1"],
              "inactivity": ["Months_Inactive_12_mon"], "support": ["Contacts_Count_12_mon"],
              "breadth": ["Total_Relationship_Count"],
              "billing": ["Avg_Utilization_Ratio", "Total_Revolving_Bal", "Credit_Limit"],
              "tenure": ["Months_on_book"]}
    ids = df["CLIENTNUM"].astype(str)
    features = df.drop(columns=["CLIENTNUM", "Attrition_Flag"])
    return _canonical(ids, df, y, groups) + (features, groups)  # type: ignore[return-value]


def telco(with_satisfaction: bool):
    d = DATA / "telco_v11"
    status = pd.read_csv(d / "Telco_customer_churn_status.csv")
    services = pd.read_csv(d / "Telco_customer_churn_services.csv")
    demo = pd.read_csv(d / "Telco_customer_churn_demographics.csv")
    loc = pd.read_csv(d / "Telco_customer_churn_location.csv")
    pop = pd.read_csv(d / "Telco_customer_churn_population.csv")
    df = (status.merge(services, on="Customer ID", suffixes=("", "_s")).merge(demo, on="Customer ID", suffixes=("", "_d"))
          .merge(loc, on="Customer ID", suffixes=("", "_l")).merge(pop[["Zip Code", "Population"]], on="Zip Code",
                                                                   how="left"))
    y = df["Churn Value"].astype(int)
    yes = lambda c: (df[c] == "Yes").astype(float)  # noqa: E731
    svc = ["Online Security", "Online Backup", "Device Protection Plan", "Premium Tech Support", "Streaming TV",
           "Streaming Movies", "Streaming Music", "Unlimited Data", "Phone Service", "Multiple Lines",
           "Internet Service"]
    df["services_count"] = sum(yes(c) for c in svc)
    df["contract_months"] = df["Contract"].map({"Month-to-Month": 1, "One Year": 12, "Two Year": 24}).astype(float)
    df["tech_support"] = yes("Premium Tech Support")
    df["online_security"] = yes("Online Security")
    df["fiber"] = (df["Internet Type"] == "Fiber Optic").astype(float)
    df["paperless"] = yes("Paperless Billing")
    df["autopay"] = df["Payment Method"].isin(["Bank Withdrawal", "Credit Card"]).astype(float)
    groups = {"adoption": ["services_count", "tech_support", "online_security", "Avg Monthly GB Download"],
              "billing": ["contract_months", "Monthly Charge", "Total Refunds", "autopay", "paperless", "fiber"],
              "advocacy": ["Number of Referrals"], "tenure": ["Tenure in Months"],
              "profile": ["Age", "Number of Dependents"]}
    if with_satisfaction:
        groups["sentiment"] = ["Satisfaction Score"]
    leaks = ["Churn Score", "CLTV", "Churn Category", "Churn Reason", "Customer Status", "Churn Label", "Churn Value"]
    drop = leaks + ["Customer ID", "Count", "Count_s", "Count_d", "Count_l", "Quarter", "Quarter_s", "Country", "State",
                    "City", "Zip Code", "Lat Long", "Latitude", "Longitude", "services_count", "contract_months",
                    "tech_support", "online_security", "fiber", "paperless", "autopay"]
    if not with_satisfaction:
        drop.append("Satisfaction Score")
    features = df.drop(columns=[c for c in drop if c in df.columns])
    ids = df["Customer ID"].astype(str)
    return _canonical(ids, df, y, groups) + (features, groups)


def _canonical(ids, df, y, groups):
    cols = [c for g in groups.values() for c in g]
    signals = (df[cols].assign(account_id=ids.to_numpy()).melt(id_vars="account_id", var_name="name",
                                                               value_name="value"))
    signals["ts"] = EXPORT_DAY  # a one-date export: every row on the export day ...
    signals["value"] = pd.to_numeric(signals["value"], errors="coerce")
    outcomes = pd.DataFrame({"account_id": ids, "ts": EXPORT_DAY,  # ... and the outcomes on the same (last) date
                             "kind": np.where(y == 1, "churned", "renewed")})
    return signals[["account_id", "ts", "name", "value"]], outcomes


# ---- a workspace and the real CLI -------------------------------------------------------------


def _slug(name: str) -> str:
    import re

    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def hand_model(signals: pd.DataFrame, groups: dict) -> dict:
    comps = []
    for comp, names in groups.items():
        metrics = []
        for n in names:
            v = signals.loc[signals["name"] == n, "value"].to_numpy(float)
            lo, hi = np.nanquantile(v, [0.05, 0.95])
            if hi <= lo:
                lo, hi = float(np.nanmin(v)), float(np.nanmax(v)) + 1e-6
            m = {"name": _slug(n), "source": "signals", "measure": "latest", "column": "value", "filter": {"name": n},
                 "window": "all", "transform": {"kind": "linear", "low": float(lo), "high": float(hi)},
                 "direction": "lower_is_better" if n in LOWER_IS_BETTER else "higher_is_better", "weight": 1,
                 "missing": "neutral"}
            if n in TIMING:
                m["timing"] = True
            metrics.append(m)
        comps.append({"name": comp, "weight": 1, "metrics": metrics})
    # Learned shapes may bend here (these sets have thresholds and U-shapes a direction cannot express). Their
    # bins and penalty are chosen by cross-validation inside each training fold (shape_select: cv, the
    # default), not set by hand. The hand model's own weights and transforms are unchanged.
    return {"name": "public-benchmark", "scoring": {"onboarding_days": 0}, "components": comps,
            "outcome": {"label": ["churned"], "horizon": "90d"},
            "calibration": {"shape_monotone": "none"}}


def workspace(name: str, signals: pd.DataFrame, outcomes: pd.DataFrame, groups: dict) -> Path:
    ws = WORK / name
    (ws / "data").mkdir(parents=True, exist_ok=True)
    (ws / "models").mkdir(exist_ok=True)
    for stale in (ws / ".healthscore", ws / "proposed.yaml"):
        if stale.is_dir():
            import shutil

            shutil.rmtree(stale)
        elif stale.exists():
            stale.unlink()
    accounts = pd.DataFrame({"account_id": outcomes["account_id"], "name": outcomes["account_id"],
                             "created_at": EXPORT_DAY - pd.Timedelta(days=365)})
    accounts.to_csv(ws / "data" / "accounts.csv", index=False)
    signals.to_csv(ws / "data" / "signals.csv", index=False)
    outcomes.to_csv(ws / "data" / "outcomes.csv", index=False)
    (ws / "models" / "health.yaml").write_text(yaml.safe_dump(hand_model(signals, groups), sort_keys=False))
    (ws / "healthscore.yaml").write_text(yaml.safe_dump({
        "model": "models/health.yaml",
        "sources": {t: {"path": f"data/{t}.csv"} for t in ("accounts", "signals", "outcomes")}}))
    return ws


def cli(*args: str, ok=(0,)) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).with_name("healthscore")
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    r = subprocess.run([str(exe), *args], capture_output=True, text=True, env=env, check=False)
    if r.returncode not in ok:
        raise SystemExit(f"healthscore {' '.join(args)} exited {r.returncode}:\n{r.stdout}\n{r.stderr}")
    return r


def run_set(name: str, loader) -> dict:
    signals, outcomes, _features, groups = loader()
    ws = workspace(name, signals, outcomes, groups)
    w = str(ws)
    cli("ingest", "-w", w)
    cli("score", "-w", w, "--as-of", str(AS_OF), "--json")
    cal = cli("calibrate", "-w", w, "--json", "--out", str(ws / "proposed.yaml"), "--bootstrap", "100", ok=(0, 3))
    r = json.loads(cal.stdout)
    hand_bt = json.loads(cli("backtest", "-w", w, "--from", str(AS_OF), "--to", str(AS_OF), "--json",
                             "--bootstrap", "50").stdout)
    out = {"accounts": r["labelled"], "churn_rate": round(r["events"] / r["labelled"], 4),
           "folds": r["comparison"]["kind"], "accepted": r["accepted"], "decision": r["decision"],
           "leaks": [lk["metric"] for lk in r["leaks"]["leaks"]], "flipped": [f["metric"] for f in r["flipped"]],
           "timing": r["timing"], "hand_backtest_auc": (hand_bt.get("roc_auc") or {}).get("value"),
           "weights": {x["metric"]: x["proposed_share"] for x in sorted(r["weights"], key=lambda x: -x["proposed_share"])}}
    pooled = r["comparison"].get("pooled") or {}
    # learned shapes (calibrate --shapes): the same folds (same seed), their own proposal and decision
    shp = json.loads(cli("calibrate", "-w", w, "--json", "--shapes", "--out", str(ws / "shapes.yaml"),
                         "--bootstrap", "100", ok=(0, 3)).stdout)
    pooled = {**pooled, "learned_shapes": (shp["comparison"].get("pooled") or {}).get("learned_shapes")}
    out["shapes_accepted"], out["shapes_decision"] = shp["accepted"], shp["decision"]
    out["shapes_interactions"] = {x["name"]: x["proposed_share"] for x in shp.get("interactions", [])}
    for short, key in METHODS.items():
        m = pooled.get(key)
        out[short] = None if m is None else {"auc": m["roc_auc"]["value"], "auc_ci": [m["roc_auc"]["low"], m["roc_auc"]["high"]],
                                             "lift10": m["lift_lowest_decile"]["value"], "brier": m["brier"]["value"]}
    return out


def main() -> None:
    as_json = "--json" in sys.argv
    results = {}
    for name, loader in (("bankchurners", bankchurners), ("telco", lambda: telco(False)),
                         ("telco_with_satisfaction", lambda: telco(True))):
        r = results[name] = run_set(name, loader)
        if as_json:
            continue
        print(f"{name}: {r['accounts']:,} accounts, churn rate {r['churn_rate']:.3f}, folds {r['folds']};"
              f" proposal {'written' if r['accepted'] else 'refused'}: {r['decision']}")
        if r["leaks"]:
            print(f"  leak guard: {', '.join(r['leaks'])}")
        if r["flipped"]:
            print(f"  flipped: {', '.join(r['flipped'])}")
        for short in METHODS:
            m = r[short]
            if m:
                print(f"  {short:<11} AUC {m['auc']:.3f} [{m['auc_ci'][0]:.3f}, {m['auc_ci'][1]:.3f}]"
                      f"  lift10 {m['lift10']:.2f}  Brier {m['brier']:.4f}")
        if r["shapes_interactions"]:
            print("  learned interactions: " + ", ".join(f"{k} {v:.2f}" for k, v in r["shapes_interactions"].items()))
        print("  proposed weights: " + ", ".join(f"{k} {v:.2f}" for k, v in list(r["weights"].items())[:6]))
    if as_json:
        print(json.dumps({d: {k: ({"auc": v["auc"], "lift10": v["lift10"], "brier": v["brier"]} if v else None)
                              for k, v in r.items() if k in METHODS} for d, r in results.items()}))
    out = ROOT / "benchmarks" / "results" / "public_datasets.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {out.relative_to(ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
