"""Public churn datasets through healthscore's calibration: does a calibrated health score rank churners?

Maps BankChurners and Telco v11 (read from ../shared/datasets, never copied into the repository) onto
the canonical `signals` (account_id, ts, name, value) and `outcomes` (account_id, ts, kind) tables,
builds a health model over the signals (one `measure: latest` metric per signal, linear transform
between the training fold's 5th and 95th percentiles, direction from the training fold's Spearman sign),
calibrates its weights with healthscore.calibrate.fit (non-negative logistic regression), and scores
the held-out fold (5-fold stratified cross-validation). Printed beside it: the same model with equal
weights, a plain logistic regression on every non-leaking column, and gradient boosting.

Both datasets are one snapshot per customer (no history), so the "backtest" is the held-out fold at a
single as-of date. Leaking columns (datasets README) are dropped; Telco is reported with and without
`Satisfaction Score`.

    PYTHONPATH=src python benchmarks/public_datasets.py     # writes benchmarks/results/public_datasets.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "datasets"
AS_OF = pd.Timestamp("2024-01-01")


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
    signals["ts"] = AS_OF - pd.Timedelta(days=1)
    signals["value"] = pd.to_numeric(signals["value"], errors="coerce")
    outcomes = pd.DataFrame({"account_id": ids, "ts": AS_OF + pd.Timedelta(days=30),
                             "kind": np.where(y == 1, "churned", "renewed")})
    return signals[["account_id", "ts", "name", "value"]], outcomes


# ---- the health model over the signals ------------------------------------------------------


def _slug(name: str) -> str:
    import re

    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def build_model(train_wide: pd.DataFrame, y_train: np.ndarray, groups: dict):
    """A HealthModel over the signals: latest value of each signal; transform and direction from the training fold."""
    from scipy.stats import spearmanr

    from healthscore.model.ir import HealthModel

    comps = []
    for comp, names in groups.items():
        metrics = []
        for n in names:
            v = train_wide[n].to_numpy(float)
            lo, hi = np.nanquantile(v, [0.05, 0.95])
            if hi <= lo:
                lo, hi = np.nanmin(v), np.nanmax(v) + 1e-9
            rho = spearmanr(v, y_train, nan_policy="omit").statistic
            metrics.append({"name": _slug(n), "source": "signals", "measure": "latest", "column": "value",
                            "filter": {"name": n}, "window": "all",
                            "transform": {"kind": "linear", "low": float(lo), "high": float(hi)},
                            "direction": "lower_is_better" if rho > 0 else "higher_is_better",
                            "missing": "neutral"})
        comps.append({"name": comp, "weight": 1, "metrics": metrics})
    return HealthModel.model_validate({"name": "public-benchmark", "components": comps})


def metric_scores(model, wide: pd.DataFrame, groups: dict) -> np.ndarray:
    """Latest signal value -> 0..100 metric score (healthscore.scoring.score.transform), missing -> neutral."""
    from healthscore.scoring.score import transform

    cols = [c for g in groups.values() for c in g]
    out = np.column_stack([transform(m, wide[c].to_numpy(float)) for (_, m), c in zip(model.metrics, cols)])
    return np.where(np.isnan(out), 50.0, out)


def evaluate(signals, outcomes, features, groups, folds=5, seed=0) -> dict:
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    from healthscore.calibrate import fit, stats
    from healthscore.model.ir import Outcome
    from healthscore.calibrate.labels import label_snapshots

    wide = signals.pivot(index="account_id", columns="name", values="value")
    snaps = pd.DataFrame({"account_id": wide.index, "as_of": AS_OF})
    labels = label_snapshots(snaps, outcomes, Outcome(label=["churned"], horizon="90d"), AS_OF + pd.Timedelta(days=365))
    y = labels["label"].to_numpy(float)
    feats = features.set_index(outcomes["account_id"].to_numpy()).loc[wide.index]
    cat = [c for c in feats.columns if not pd.api.types.is_numeric_dtype(feats[c])]
    num = [c for c in feats.columns if c not in cat]
    X_ref = feats.copy()
    X_ref[cat] = X_ref[cat].astype(object).fillna("missing")
    X_ref[num] = X_ref[num].fillna(X_ref[num].median())
    preds = {k: np.zeros(len(y)) for k in ("health_equal_weights", "health_calibrated", "logistic_regression",
                                            "gradient_boosting")}
    shares_per_fold = []
    for tr, te in StratifiedKFold(folds, shuffle=True, random_state=seed).split(wide, y):
        model = build_model(wide.iloc[tr], y[tr], groups)
        S_tr, S_te = metric_scores(model, wide.iloc[tr], groups), metric_scores(model, wide.iloc[te], groups)
        k = S_tr.shape[1]
        preds["health_equal_weights"][te] = 100 - S_te.mean(axis=1)
        shares = fit.floor_shares(fit.fit_shares(S_tr, y[tr], l2=1.0), 0.0)
        shares_per_fold.append(shares)
        preds["health_calibrated"][te] = 100 - S_te @ shares
        ref = make_pipeline(ColumnTransformer([("num", StandardScaler(), num),
                                               ("cat", OneHotEncoder(handle_unknown="ignore"), cat)]),
                            LogisticRegression(max_iter=3000))
        ref.fit(X_ref.iloc[tr], y[tr])
        preds["logistic_regression"][te] = ref.predict_proba(X_ref.iloc[te])[:, 1]
        Xg = X_ref.copy()
        for c in cat:
            Xg[c] = Xg[c].astype(object).astype("category")
        gb = HistGradientBoostingClassifier(random_state=seed, categorical_features="from_dtype")
        gb.fit(Xg.iloc[tr], y[tr])
        preds["gradient_boosting"][te] = gb.predict_proba(Xg.iloc[te])[:, 1]
        del k
    group = np.zeros(len(y))
    out = {"accounts": int(len(y)), "churn_rate": round(float(y.mean()), 4), "folds": folds,
           "signals": int(len(signals)), "metrics": [m.name for _, m in model.metrics]}
    for name, risk in preds.items():
        top = stats.lowest_decile(risk, group)
        out[name] = {"roc_auc": round(stats.roc_auc(risk, y), 4),
                     "lift_lowest_decile": round(stats.decile_precision_lift(top, y)[1], 3)}
    mean_shares = np.mean(shares_per_fold, axis=0)
    out["calibrated_weights"] = {m.name: round(float(s), 4) for (_, m), s in
                                 sorted(zip(model.metrics, mean_shares), key=lambda t: -t[1])}
    return out


def main() -> None:
    results = {}
    for name, loader in (("bankchurners", bankchurners), ("telco_without_satisfaction", lambda: telco(False)),
                         ("telco_with_satisfaction", lambda: telco(True))):
        signals, outcomes, features, groups = loader()
        results[name] = evaluate(signals, outcomes, features, groups)
        r = results[name]
        print(f"{name}: {r['accounts']:,} accounts, churn rate {r['churn_rate']:.3f}")
        for k in ("health_equal_weights", "health_calibrated", "logistic_regression", "gradient_boosting"):
            print(f"  {k:<22} AUC {r[k]['roc_auc']:.3f}   lift in lowest-scored decile {r[k]['lift_lowest_decile']:.2f}")
        print("  calibrated weights: " + ", ".join(f"{k} {v:.2f}" for k, v in list(r["calibrated_weights"].items())[:6]))
    out = ROOT / "benchmarks" / "results" / "public_datasets.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {out.relative_to(ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
