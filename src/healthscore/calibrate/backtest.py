"""Backtest: how well scores at past as-of dates ranked the accounts that then churned or contracted."""

from __future__ import annotations

import numpy as np
import pandas as pd

from healthscore.calibrate import stats

TIERS = ("red", "yellow", "green")
STATUSES = ("scored", "paused", "onboarding", "insufficient_data")
BANDS = list(range(0, 101, 10))
MIN_CLASS = 5  # labelled rows of each class needed to fit the out-of-time probability mapping


def join_labels(snaps: pd.DataFrame, labels: pd.DataFrame) -> pd.DataFrame:
    cols = ["account_id", "as_of", "score", "tier", "status", "segment"]
    s = snaps[[c for c in cols if c in snaps]].copy()
    s["as_of"] = pd.to_datetime(s["as_of"])
    s["account_id"] = s["account_id"].astype(str)
    lab = labels.copy()
    lab["account_id"] = lab["account_id"].astype(str)
    return s.merge(lab, on=["account_id", "as_of"], how="left")


def out_of_time_probability(rows: pd.DataFrame, horizon_days: int) -> tuple[np.ndarray, list[dict]]:
    """P(bad outcome) for each scored, labelled row, from a score->probability mapping fitted only on rows of
    earlier as-of dates whose horizon was over by the row's own as-of date (NaN where none was available)."""
    p = np.full(len(rows), np.nan)
    fits = []
    as_of = rows["as_of"].to_numpy("datetime64[ns]")
    known_by = as_of + np.timedelta64(horizon_days, "D")
    score, y = rows["score"].to_numpy(float), rows["label"].to_numpy(float)
    for d in np.unique(as_of):
        train = known_by <= d
        if (y[train] == 1).sum() < MIN_CLASS or (y[train] == 0).sum() < MIN_CLASS:
            continue
        coef = stats.fit_platt(score[train], y[train])
        at = as_of == d
        p[at] = stats.platt_predict(coef, score[at])
        fits.append({"as_of": str(pd.Timestamp(d).date()), "train_rows": int(train.sum()),
                     "train_events": int((y[train] == 1).sum()), "intercept": round(coef[0], 4),
                     "slope": round(coef[1], 4)})
    return p, fits


def lead_times(rows: pd.DataFrame) -> pd.DataFrame:
    """Per bad outcome: days between the first red/yellow snapshot of the uninterrupted warning run before it
    and the outcome (0 and flagged=False when the last scored snapshot before it was green)."""
    scored = rows[rows["status"] == "scored"].sort_values(["account_id", "as_of"])
    events = rows.loc[rows["label"] == 1, ["account_id", "event_at"]].drop_duplicates()
    by_acc = {a: g for a, g in scored.groupby("account_id", sort=False)}
    out = []
    for acc, ev in events.itertuples(index=False):
        g = by_acc.get(acc)
        if g is None:
            continue
        before = g[g["as_of"] < ev]
        if before.empty:
            continue
        tiers, dates = before["tier"].to_numpy(object), before["as_of"].to_numpy("datetime64[ns]")
        first = None
        for i in range(len(tiers) - 1, -1, -1):
            if tiers[i] in ("red", "yellow"):
                first = dates[i]
            else:
                break
        lead = 0.0 if first is None else float((np.datetime64(ev, "ns") - first) / np.timedelta64(1, "D"))
        out.append({"account_id": acc, "event_at": ev, "flagged": first is not None, "lead_days": lead})
    return pd.DataFrame(out, columns=["account_id", "event_at", "flagged", "lead_days"])


def backtest_report(snaps: pd.DataFrame, labels: pd.DataFrame, *, horizon_days: int, n_boot: int = 200,
                    seed: int = 0) -> dict:
    """Every backtest figure, with bootstrap 95% intervals over accounts. JSON-serialisable."""
    rows = join_labels(snaps, labels)
    status_counts = {s: int((rows["status"] == s).sum()) for s in STATUSES}
    status_counts.update({s: int(v) for s, v in rows["status"].value_counts().items() if s not in status_counts})
    scored = rows[rows["status"] == "scored"].reset_index(drop=True)
    ev = scored[scored["label"].notna()].reset_index(drop=True)
    y = ev["label"].to_numpy(float)
    risk = 100.0 - ev["score"].to_numpy(float)
    acc = ev["account_id"].to_numpy(object)
    top = stats.lowest_decile(risk, ev["as_of"].to_numpy()) if len(ev) else np.zeros(0, bool)
    B = lambda f, a=acc: stats.bootstrap(a, f, n=n_boot, seed=seed)  # noqa: E731

    result: dict = {
        "rows": int(len(rows)), "accounts": int(rows["account_id"].nunique()),
        "as_of_dates": sorted({str(d.date()) for d in rows["as_of"]}),
        "statuses": status_counts,
        "not_scored": {s: n for s, n in status_counts.items() if s != "scored"},
        "labelled": int(len(ev)), "censored": int(scored["label"].isna().sum()),
        "events": int(y.sum()), "base_rate": stats._r(y.mean()) if len(y) else None,
    }
    if len(ev) == 0 or y.sum() == 0 or (y == 0).sum() == 0:
        result["note"] = ("no labelled scored snapshots with both outcomes: ranking metrics need bad outcomes and"
                          " survivors whose horizon is over before the end of the data")
        return result
    result["roc_auc"] = B(lambda w: stats.roc_auc(risk, y, w))
    result["pr_auc"] = B(lambda w: stats.average_precision(risk, y, w))
    result["lowest_decile"] = {
        "precision": B(lambda w: stats.decile_precision_lift(top, y, w)[0]),
        "lift": B(lambda w: stats.decile_precision_lift(top, y, w)[1]),
        "rows": int(top.sum()),
    }
    p, fits = out_of_time_probability(ev, horizon_days)
    has_p = ~np.isnan(p)
    result["probability"] = {"method": "logistic on the score, fitted on earlier as-of dates whose horizon was"
                             " over (out of time)", "rows": int(has_p.sum()), "fits": fits}
    if has_p.sum() and 0 < y[has_p].sum() < has_p.sum():
        pp, yp, ap = p[has_p], y[has_p], acc[has_p]
        result["probability"]["brier"] = B(lambda w: stats.brier(pp, yp, w), ap)
        result["probability"]["brier_base_rate"] = stats._r(stats.brier(np.full(len(yp), yp.mean()), yp))
        result["probability"]["reliability"] = stats.reliability(pp, yp)
    tiers = ev["tier"].to_numpy(object)
    result["tiers"] = {}
    sc_acc = scored["account_id"].to_numpy(object)
    sc_tier = scored["tier"].to_numpy(object)
    for t in TIERS:
        m = tiers == t
        result["tiers"][t] = {
            "labelled": int(m.sum()), "events": int(y[m].sum()),
            "churn_rate": B(lambda w, m=m: stats.rate(m, y, w)),
            "share": B(lambda w, t=t: float((w * (sc_tier == t)).sum() / w.sum()), sc_acc),
        }
    renewed = ev["renewed"].to_numpy(bool)
    red, green = tiers == "red", tiers == "green"
    result["false_positives"] = {
        "count": int((red & (y == 0)).sum()), "renewed": int((red & (y == 0) & renewed).sum()),
        "share_of_red": B(lambda w: stats.rate(red, 1 - y, w)),
        "note": "red at the as-of date, no bad outcome within the horizon ('renewed': a renewal was recorded)",
    }
    result["missed_risks"] = {
        "count": int((green & (y == 1)).sum()),
        "share_of_events": B(lambda w: stats.rate(y == 1, green.astype(float), w)),
        "note": "green at the as-of date, churned or contracted within the horizon",
    }
    leads = lead_times(rows)
    if len(leads):
        la, ld, lf = leads["account_id"].to_numpy(object), leads["lead_days"].to_numpy(float), \
            leads["flagged"].to_numpy(float)
        result["lead_time"] = {
            "events": int(len(leads)), "flagged": int(lf.sum()),
            "share_flagged": B(lambda w: float((w * lf).sum() / w.sum()), la),
            "median_days_flagged": B(lambda w: stats.weighted_median(ld, w * lf), la) if lf.sum() else None,
            "note": "days from the first red/yellow snapshot of the uninterrupted warning before the outcome",
        }
    bands = np.clip((ev["score"].to_numpy(float) // 10).astype(int), 0, 9)
    result["score_bands"] = [{"band": f"{b * 10}-{b * 10 + 10}", "labelled": int((bands == b).sum()),
                              "events": int(y[bands == b].sum()),
                              "churn_rate": stats._r(y[bands == b].mean()) if (bands == b).any() else None}
                             for b in range(10)]
    dec = []
    for d in sorted(ev["as_of"].unique()):
        m = (ev["as_of"] == d).to_numpy()
        r = risk[m]
        order = np.argsort(-r, kind="mergesort")
        dec_idx = np.empty(m.sum(), int)
        dec_idx[order] = (np.arange(m.sum()) * 10) // max(m.sum(), 1)
        dec.append(pd.DataFrame({"decile": dec_idx + 1, "y": y[m]}))
    dd = pd.concat(dec).groupby("decile")["y"].agg(["mean", "size"])
    result["lift_by_decile"] = [{"decile": int(k), "rows": int(v["size"]), "churn_rate": stats._r(v["mean"]),
                                 "lift": stats._r(v["mean"] / y.mean())} for k, v in dd.iterrows()]
    per_date = []
    for d, g in ev.groupby("as_of"):
        yy = g["label"].to_numpy(float)
        per_date.append({"as_of": str(d.date()), "labelled": int(len(g)), "events": int(yy.sum()),
                         "roc_auc": stats._r(stats.roc_auc(100 - g["score"].to_numpy(float), yy))})
    result["per_date"] = per_date
    # ROC points for the report (not bootstrapped)
    result["_roc"] = roc_points(risk, y)
    return result


def roc_points(risk, y, max_points: int = 200) -> list[tuple[float, float]]:
    order = np.argsort(-np.asarray(risk), kind="mergesort")
    yy = np.asarray(y)[order]
    tpr = np.concatenate([[0], np.cumsum(yy) / max(yy.sum(), 1)])
    fpr = np.concatenate([[0], np.cumsum(1 - yy) / max((1 - yy).sum(), 1)])
    step = max(1, len(tpr) // max_points)
    idx = np.unique(np.concatenate([np.arange(0, len(tpr), step), [len(tpr) - 1]]))
    return [(round(float(fpr[i]), 4), round(float(tpr[i]), 4)) for i in idx]
