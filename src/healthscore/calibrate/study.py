"""The metric study: churn rate by metric decile (cohort curves) and groups of strongly correlated metrics."""

from __future__ import annotations

import pandas as pd

from healthscore.calibrate.stats import _r


def labelled_evidence(evidence: pd.DataFrame, labels: pd.DataFrame, snaps: pd.DataFrame) -> pd.DataFrame:
    """Evidence rows of scored snapshots whose outcome is known (not censored), with the label."""
    ok = snaps.loc[snaps["status"] == "scored", ["account_id", "as_of"]].copy()
    ok["account_id"] = ok["account_id"].astype(str)
    ok["as_of"] = pd.to_datetime(ok["as_of"])
    lab = labels.loc[labels["label"].notna(), ["account_id", "as_of", "label"]].copy()
    lab["account_id"] = lab["account_id"].astype(str)
    keys = ok.merge(lab, on=["account_id", "as_of"])
    ev = evidence[["account_id", "as_of", "metric", "value", "score"]].copy()
    ev["account_id"] = ev["account_id"].astype(str)
    ev["metric"] = ev["metric"].astype(str)
    ev["as_of"] = pd.to_datetime(ev["as_of"])
    return ev.merge(keys, on=["account_id", "as_of"])


def score_matrix(ev: pd.DataFrame) -> pd.DataFrame:
    """Wide metric scores: one row per labelled snapshot, one column per metric (NaN: no data)."""
    return ev.set_index(["account_id", "as_of", "label", "metric"])["score"].astype(float).unstack("metric")


def correlated_groups(wide: pd.DataFrame, threshold: float) -> tuple[list[list[str]], list[dict]]:
    """Connected groups of metrics whose |Spearman| between scores is at least `threshold`."""
    corr = wide.corr(method="spearman", min_periods=30)
    names = list(corr.columns)
    parent = {n: n for n in names}

    def find(a):
        while parent[a] != a:
            a = parent[a]
        return a

    pairs = []
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            rho = corr.loc[a, b]
            if pd.notna(rho) and abs(rho) >= threshold:
                parent[find(a)] = find(b)
                pairs.append({"a": a, "b": b, "spearman": round(float(rho), 3)})
    groups: dict[str, list[str]] = {}
    for n in names:
        groups.setdefault(find(n), []).append(n)
    return [sorted(g) for g in groups.values() if len(g) > 1], pairs


def metric_study(evidence: pd.DataFrame, labels: pd.DataFrame, snaps: pd.DataFrame, *, threshold: float = 0.8,
                 deciles: int = 10) -> dict:
    ev = labelled_evidence(evidence, labels, snaps)
    if ev.empty:
        return {"metrics": [], "correlated_groups": [], "pairs": [], "threshold": threshold}
    out = []
    for metric, g in ev.groupby("metric", sort=False, observed=True):
        vals = pd.to_numeric(g["value"], errors="coerce")
        y = g["label"].astype(float)
        missing = vals.isna() & g["value"].isna()
        entry = {"metric": metric, "rows": int(len(g)), "no_data": int(g["value"].isna().sum()),
                 "churn_rate_no_data": _r(y[g["value"].isna()].mean()) if g["value"].isna().any() else None}
        if vals.notna().sum() >= deciles * 2 and vals.nunique() > 1:
            bins = pd.qcut(vals, deciles, duplicates="drop")
            tab = y.groupby(bins, observed=True).agg(["mean", "size"])
            med = vals.groupby(bins, observed=True).median()
            entry["cohorts"] = [{"range": f"{iv.left:.4g}..{iv.right:.4g}", "median": _r(med[iv]),
                                 "rows": int(r["size"]), "churn_rate": _r(r["mean"])} for iv, r in tab.iterrows()]
        elif not (~missing & vals.isna()).any() or g["value"].notna().sum() == 0:
            entry["cohorts"] = []
        else:  # categorical values (e.g. an assessment): churn rate per value
            tab = y.groupby(g["value"].astype(str), observed=True).agg(["mean", "size"])
            entry["cohorts"] = [{"range": str(k), "median": None, "rows": int(r["size"]), "churn_rate": _r(r["mean"])}
                                for k, r in tab.iterrows()]
        out.append(entry)
    groups, pairs = correlated_groups(score_matrix(ev), threshold)
    return {"metrics": out, "correlated_groups": groups, "pairs": pairs, "threshold": threshold}
