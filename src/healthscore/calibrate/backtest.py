"""Backtest: how well scores at past as-of dates ranked the accounts that then churned or contracted."""

from __future__ import annotations

from functools import partial

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


def cross_validated_probability(rows: pd.DataFrame, k: int = 5, seed: int = 0) -> tuple[np.ndarray, list[dict]]:
    """P(bad outcome) per row from a score->probability mapping fitted on the other folds (stratified, by account)."""
    from sklearn.model_selection import StratifiedGroupKFold

    score, y = rows["score"].to_numpy(float), rows["label"].to_numpy(float)
    p = np.full(len(rows), np.nan)
    k = min(k, int(y.sum()), int((y == 0).sum()))
    if k < 2:
        return p, []
    fits = []
    cv = StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=seed)
    for i, (tr, te) in enumerate(cv.split(score, y, rows["account_id"].astype(str).to_numpy()), start=1):
        if y[tr].sum() < MIN_CLASS or (y[tr] == 0).sum() < MIN_CLASS:
            continue
        coef = stats.fit_platt(score[tr], y[tr])
        p[te] = stats.platt_predict(coef, score[te])
        fits.append({"fold": i, "train_rows": int(len(tr)), "train_events": int(y[tr].sum()),
                     "intercept": round(coef[0], 4), "slope": round(coef[1], 4)})
    return p, fits


def status_groups(rows: pd.DataFrame, n_boot: int, seed: int) -> dict:
    """Every status as its own group (scored, paused, ...): labelled rows, bad outcomes, churn rate and share of
    all bad outcomes. Paused snapshots are not scored, but their accounts churn too: they stay in the backtest."""
    lab = rows[rows["label"].notna()]
    y_all = lab["label"].to_numpy(float)
    out = {}
    for s in [*STATUSES, *sorted(set(rows["status"].dropna()) - set(STATUSES))]:
        m = (lab["status"] == s).to_numpy()
        if not (rows["status"] == s).any():
            continue
        out[s] = {"rows": int((rows["status"] == s).sum()), "labelled": int(m.sum()), "events": int(y_all[m].sum()),
                  "churn_rate": stats.bootstrap(lab["account_id"].to_numpy(object), partial(stats.rate, m, y_all),
                                                n=n_boot, seed=seed)
                  if m.any() else None,
                  "share_of_events": stats._r(y_all[m].sum() / y_all.sum()) if y_all.sum() else None}
    return out


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
    result["groups"] = status_groups(rows, n_boot, seed)
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
    if ev["as_of"].nunique() > 1:
        p, fits = out_of_time_probability(ev, horizon_days)
        method = "logistic on the score, fitted on earlier as-of dates whose horizon was over (out of time)"
    else:  # one as-of date: nothing earlier to fit on, so account folds
        p, fits = cross_validated_probability(ev, seed=seed)
        method = "logistic on the score, fitted on the other folds of a stratified 5-fold split by account"
    has_p = ~np.isnan(p)
    result["probability"] = {"method": method, "rows": int(has_p.sum()), "fits": fits}
    if has_p.sum() and 0 < y[has_p].sum() < has_p.sum():
        pp, yp, ap = p[has_p], y[has_p], acc[has_p]
        base = yp.mean()
        result["probability"]["brier"] = B(lambda w: stats.brier(pp, yp, w), ap)
        result["probability"]["brier_base_rate"] = stats._r(stats.brier(np.full(len(yp), base), yp))
        skill = B(lambda w: stats.brier_skill(pp, yp, base, w), ap)
        result["probability"]["brier_skill"] = skill
        result["probability"]["adds_nothing"] = skill.get("low") is None or skill["low"] <= 0
        if result["probability"]["adds_nothing"]:
            result["probability"]["note"] = ("the stated churn probability is no better than the base rate"
                                             f" ({stats._r(base)}): Brier skill interval reaches 0; do not quote it")
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


def held_out_of(model, dates: list) -> dict | None:
    """A calibrated model carries its held-out figures (provenance); a backtest over the dates it was fitted on is
    in-sample for its weights, so the approver is shown the held-out figures beside it."""
    prov = getattr(model, "provenance", None) or {}
    if not prov.get("held_out"):
        return None
    fitted = prov.get("fitted_on") or {}
    overlap = bool(fitted.get("from")) and min(str(d) for d in dates) <= fitted.get("to", "") and \
        max(str(d) for d in dates) >= fitted.get("from", "")
    return {**prov["held_out"], "fitted_on": fitted, "backtest_in_sample": overlap,
            "note": ("this model's weights were fitted on these dates: the backtest figures are in-sample; the"
                     " held-out figures are the ones to judge it by") if overlap else
                    "held-out figures from calibration"}


def _v(m):
    return m.get("value") if isinstance(m, dict) else None


def _iv(m):
    return [m.get("low"), m.get("high")] if isinstance(m, dict) and m.get("low") is not None else None


def summary_of(r: dict, date_from, date_to, every_days: int) -> dict:
    """The stored summary of a proposed version (model propose / list / show, the web model page).

    `roc_auc`, `lowest_decile_lift` and the tier figures are held-out ones: from the proposal's own folds when it
    was calibrated (`basis: held_out`), else the backtest of a model whose weights were set by hand
    (`basis: hand_set_weights`, out of sample as it stands). The in-sample backtest of a calibrated model is kept
    under `in_sample`, never in the headline fields."""
    tiers = r.get("tiers") or {}
    bt = {"labelled": r.get("labelled"), "events": r.get("events"), "roc_auc": _v(r.get("roc_auc")),
          "roc_auc_interval": _iv(r.get("roc_auc")), "pr_auc": _v(r.get("pr_auc")),
          "lowest_decile_lift": _v((r.get("lowest_decile") or {}).get("lift")),
          "lowest_decile_lift_interval": _iv((r.get("lowest_decile") or {}).get("lift")),
          "tier_share": {t: _v(v.get("share")) for t, v in tiers.items()},
          "churn_rate": {t: _v(v.get("churn_rate")) for t, v in tiers.items()}}
    prob = r.get("probability") or {}
    out = {"from": date_from.isoformat(), "to": date_to.isoformat(), "every_days": every_days,
           "note": r.get("note"), "brier_skill": _v(prob.get("brier_skill")),
           "brier_skill_interval": _iv(prob.get("brier_skill")), "probability_adds_nothing": prob.get("adds_nothing"),
           "groups": {g: {"labelled": v["labelled"], "events": v["events"], "churn_rate": _v(v.get("churn_rate"))}
                      for g, v in (r.get("groups") or {}).items()},
           "leaks": [{"metric": lk["metric"], "reasons": [x["code"] for x in lk["reasons"]]}
                     for lk in (r.get("leaks") or {}).get("leaks", [])]}
    ho = r.get("held_out")
    if ho and ho.get("roc_auc"):
        out.update({"basis": "held_out", "method": ho.get("method"), "fitted_on": ho.get("fitted_on"),
                    "labelled": ho.get("test_rows"), "events": ho.get("test_events"),
                    "roc_auc": _v(ho["roc_auc"]), "roc_auc_interval": _iv(ho["roc_auc"]),
                    "current_roc_auc": _v(ho.get("current_roc_auc")), "auc_gain": _v(ho.get("auc_gain")),
                    "auc_gain_interval": _iv(ho.get("auc_gain")), "pr_auc": None,
                    "lowest_decile_lift": _v(ho.get("lowest_decile_lift")),
                    "lowest_decile_lift_interval": _iv(ho.get("lowest_decile_lift")),
                    "tier_share": ho.get("tier_share"), "churn_rate": ho.get("churn_rate"),
                    "brier_skill": _v(ho.get("brier_skill")), "brier_skill_interval": _iv(ho.get("brier_skill")),
                    "in_sample": {**bt, "note": ho.get("note")}})
    else:
        out.update({"basis": "hand_set_weights", "method": "backtest: the weights were not fitted on these dates",
                    **bt})
    return out
