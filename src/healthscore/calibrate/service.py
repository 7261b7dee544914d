"""Calibration as a service: fit, hold out, compare, refuse or propose. Explicit inputs, no Project.

The Project gathers the engine frame (metric inputs for every as-of date), the outcomes and the end of
observation; everything from there on is here:

1. labels (calibrate.labels) and the labelled metric-score matrix;
2. the leak guard (calibrate.leaks): near-perfect single-metric AUC or a non-point-in-time attribute ->
   share 0 unless the user allows that metric by name;
3. timing metrics (`timing: true`) keep their hand share (capped at calibration.max_timing_share) and are
   not fitted; metrics that the outcomes say are written the wrong way round are flipped;
4. held-out comparison on the same folds (time-ordered for panel data, stratified k-fold by account for
   one-date data) of the hand model, the calibrated model, a logistic regression and gradient boosting;
5. the proposal is written only when its held-out AUC beats the hand model's beyond the interval of the
   difference; otherwise the result says why and nothing is written.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from healthscore.calibrate import fit as F
from healthscore.calibrate import leaks as L
from healthscore.calibrate import stats
from healthscore.calibrate.shares import (
    MIN_FOLD_CLASS,
    FitSpec,
    fit_weights,
    flip_scores,
    make_folds,
    make_spec,
    proposed_data,
    usable_folds,
    validate,
    wrong_way_round,
)
from healthscore.errors import UserError
from healthscore.model.ir import Calibration, HealthModel
from healthscore.model.settings import TIER_RANK

if TYPE_CHECKING:
    from healthscore.engine.compile import MetricPlan

# ---- the service ----------------------------------------------------------------------------------


@dataclass
class Inputs:
    """What the Project gathered from the engine and the workspace."""

    loaded_ir: HealthModel
    version: str
    model_path: Path
    data: dict  # the model YAML as read
    frame: pd.DataFrame
    plan: MetricPlan
    missing: set
    outcomes: pd.DataFrame
    data_end: pd.Timestamp
    dates: list  # as-of dates to fit on
    portfolio_date: object  # "today's portfolio": the proposal's tier shares there
    one_date_from: pd.Timestamp | None = None


def rescore_with(plan, missing) -> Callable:
    from healthscore.scoring.score import score_frame

    def rescore(model_ir: HealthModel, rows: pd.DataFrame) -> pd.DataFrame:
        s = score_frame(model_ir, "proposed", plan, rows, missing).snapshots
        s = s[["account_id", "as_of", "score", "tier", "status", "segment"]].copy()
        s["account_id"] = s["account_id"].astype(str)
        s["as_of"] = pd.to_datetime(s["as_of"])
        return s
    return rescore


def labelled_matrix(model: HealthModel, evidence: pd.DataFrame, labels: pd.DataFrame, snaps: pd.DataFrame):
    """(keys, X scores, has-data mask, y) of the labelled scored snapshots; keys carry account_id, as_of,
    label, segment and the hand model's score and tier."""
    from healthscore.calibrate.study import labelled_evidence

    names = [m.name for _, m in model.metrics]
    ev = labelled_evidence(evidence, labels, snaps)
    idx = ["account_id", "as_of", "label", "metric"]
    wide = ev.set_index(idx)["score"].astype(float).unstack("metric").reindex(columns=names)
    has = ev.assign(h=ev["value"].notna()).set_index(idx)["h"].unstack("metric").reindex(
        index=wide.index, columns=names).fillna(False).to_numpy(bool)
    keys = wide.index.to_frame(index=False)
    keys["as_of"] = pd.to_datetime(keys["as_of"])
    seg_of = snaps[["account_id", "as_of", "segment", "score", "tier"]].assign(
        account_id=lambda d: d["account_id"].astype(str), as_of=lambda d: pd.to_datetime(d["as_of"]))
    keys = keys.merge(seg_of, on=["account_id", "as_of"], how="left")
    return keys, wide, wide.to_numpy(float), has, keys["label"].to_numpy(float)


def labelled_values(model: HealthModel, evidence: pd.DataFrame, labels: pd.DataFrame, snaps: pd.DataFrame,
                    keys: pd.DataFrame) -> pd.DataFrame:
    """The metrics' raw values (not their scores) of the labelled snapshots, in the rows of `keys`: what
    learned shapes are fitted on."""
    from healthscore.calibrate.study import labelled_evidence

    names = [m.name for _, m in model.metrics]
    ev = labelled_evidence(evidence, labels, snaps)
    wide = ev.assign(account_id=ev["account_id"].astype(str), as_of=pd.to_datetime(ev["as_of"])).set_index(
        ["account_id", "as_of", "metric"])["value"].unstack("metric").reindex(columns=names)
    idx = pd.MultiIndex.from_arrays([keys["account_id"].astype(str), pd.to_datetime(keys["as_of"])])
    return wide.reindex(idx).reset_index(drop=True)


def shape_fitter(ir: HealthModel, spec: FitSpec, wrong_way: set[str] | None = None) -> Callable:
    """fit(values, y, n_bins, l2, interactions=0) -> (shapes, pairs): learned shapes (calibrate/shapes.py) on
    every metric the fit may weigh and up to `interactions` pairwise tables: a leak refused gets no shape; a
    timing metric gets a shape too but weighs at most the share it keeps (its hand share, capped), and is in no
    interaction."""
    from healthscore.calibrate.shapes import MIN_RANGE, fit_shape_model

    names = spec.names
    fit_names = [names[j] for j in range(len(names)) if j not in spec.refused]
    timing = {names[j]: s for j, s in spec.fixed.items()}
    cal = ir.calibration_spec
    # A metric's own `monotone`, else (shape_monotone: direction) the direction its author wrote: bins are
    # noisy, and a shape that wiggles against the metric's meaning predicts worse held out.
    # (a metric the outcomes say is written the wrong way round follows the other way, as the weighted fit flips it)
    wrong_way = wrong_way or set()
    monotone: dict[str, str] = {
        m.name: m.monotone or ("increasing" if (m.direction == "higher_is_better") != (m.name in wrong_way)
                               else "decreasing")
        for _, m in ir.metrics if m.monotone or (cal.shape_monotone == "direction" and not m.non_monotone)}

    def fit(values: pd.DataFrame, y: np.ndarray, n_bins: int, l2: float, interactions: int = 0):
        fits, pairs = fit_shape_model(values[fit_names], y, n_bins=n_bins, l2=l2, monotone=monotone,
                                      interactions=interactions, pairable=set(fit_names) - set(timing))
        # share s of the whole at most: weight <= s / (1 - S) x the rest's learned total
        learned = sum(f.weight for f in fits if f.metric not in timing) + sum(p.weight for p in pairs)
        cap = 1 / max(1 - sum(timing.values()), 1e-9) * learned
        for f in fits:
            if f.metric in timing:
                f.weight = max(min(f.weight, timing[f.metric] * cap), MIN_RANGE)
        return fits, pairs
    return fit


def shape_settings(ir: HealthModel, spec: FitSpec, values: pd.DataFrame, y: np.ndarray, groups,
                   wrong_way: set[str] | None = None, seed: int = 0):
    """The bins and penalty of the shapes fitted on these rows: calibration.shape_bins / shape_l2
    (shape_select: fixed), or the best of shape_bins_grid x shape_l2_grid by cross-validation inside these rows
    (shape_select: cv; interactions are chosen afterwards, with the chosen settings)."""
    from healthscore.calibrate.shapes import Settings, choose_settings

    cal = ir.calibration_spec
    if cal.shape_select == "fixed":
        return Settings(cal.shape_bins, cal.shape_l2, "fixed")
    return choose_settings(values, y, np.asarray(groups), shape_fitter(ir, spec, wrong_way), cal.shape_bins_grid,
                           cal.shape_l2_grid, folds=cal.shape_cv_folds, seed=seed)


def shape_proposal(ir: HealthModel, data: dict, values: pd.DataFrame, y: np.ndarray, spec: FitSpec,
                   fitted: str, wrong_way: set[str] | None = None, settings=None) -> dict:
    """The model YAML with learned shapes on every metric the fit may weigh (shape_fitter) and up to
    calibration.shape_interactions pairwise tables; a leak refused keeps weight 0. settings: the bins and
    penalty (shape_settings; default calibration.shape_bins / shape_l2)."""
    from healthscore.calibrate.shapes import apply_shapes

    cal = ir.calibration_spec
    n_bins, l2 = (settings.n_bins, settings.l2) if settings is not None else (cal.shape_bins, cal.shape_l2)
    fits, pairs = shape_fitter(ir, spec, wrong_way)(values, y, n_bins, l2, cal.shape_interactions)
    out = apply_shapes(data, fits, fitted, pairs)
    names = spec.names
    refused = {names[j] for j in spec.refused}
    for comp in out.get("components", []):
        for m in comp.get("metrics", []):
            if m["name"] in refused:
                m["weight"] = 0
        comp["weight"] = float(f"{sum(m['weight'] for m in comp['metrics']):.6g}") or comp["weight"]
    return out


def hybrid_proposal(ir: HealthModel, data: dict, values: pd.DataFrame, y: np.ndarray, spec: FitSpec, fitted: str,
                    wrong_way: set[str], settings, tier_rule: str) -> tuple[dict, np.ndarray]:
    """(the model YAML with the rubric as it stands and a `hybrid:` block, the learned score of the labelled
    rows): learned shapes (as --shapes fits them: leaks refused, timing capped) become the learned component's
    terms; its tiers are cut by rank on the learned scores of the labelled snapshots."""
    import copy

    from healthscore.calibrate.shapes import shape_points

    cal = ir.calibration_spec
    fits, pairs = shape_fitter(ir, spec, wrong_way)(values, y, settings.n_bins, settings.l2, cal.shape_interactions)
    total = sum(f.weight for f in fits) + sum(p.weight for p in pairs)
    score = np.round(100.0 * shape_points(fits, pairs, values) / total, 2)  # as scoring rounds it
    terms = []
    for f in fits:
        t = f.transform(fitted)
        if t["kind"] == "map":
            t.pop("default", None)  # no value or an unseen category: the term's missing score
        terms.append({"metric": f.metric, "transform": t, "weight": float(f"{f.weight:.6g}"),
                      "missing": round(f.missing_score, 2)})
    out = copy.deepcopy(data)
    out.pop("provenance", None)
    learned: dict[str, Any] = {"name": "learned_risk",
                               "description": "learned shapes fitted from outcomes (calibrate --hybrid); 0 the"
                                              " riskiest, 100 the healthiest",
                               "tiers": F.tier_thresholds(score, cal.red_share, cal.yellow_share),
                               "metrics": terms}
    if pairs:
        learned["interactions"] = [p.interaction(fitted) for p in pairs]
    learned["fitted"] = fitted
    out["hybrid"] = {"tier_rule": tier_rule, "learned": learned}
    return out, score


def require_counts(y: np.ndarray, cal: Calibration, what: str) -> None:
    F.require_events(y, cal.min_events, what)
    survivors = int((np.asarray(y) == 0).sum())
    if survivors < cal.min_survivors:
        raise UserError(f"{what}: {survivors} labelled scored snapshot(s) without a bad outcome (survivors) in"
                        f" {len(y)}; calibration needs at least {cal.min_survivors} (calibration.min_survivors)."
                        " A fit on bad outcomes alone has nothing to tell them from: use a date range whose horizon"
                        " is over (survivors are only known once it is), or map renewals and the end of the data")


def _frame_rows(frame: pd.DataFrame, keys: pd.DataFrame) -> pd.DataFrame:
    f = frame.assign(_a=frame["account_id"].astype(str), _d=pd.to_datetime(frame["as_of"]))
    k = keys[["account_id", "as_of"]].rename(columns={"account_id": "_a", "as_of": "_d"})
    return f.merge(k.drop_duplicates(), on=["_a", "_d"]).drop(columns=["_a", "_d"])


def held_out(inp: Inputs, keys, X, has, y, spec: FitSpec, folds: int, n_boot: int, seed: int, rescore,
             leak_names: set[str], allow_leak: list[str], values: pd.DataFrame | None = None,
             shapes: bool = False, hybrid: str | None = None) -> dict:
    """The hand model, the calibrated model (the whole procedure re-run on each training fold: leak refusal,
    timing shares, flips, weights, tier cut), a logistic regression and gradient boosting on the same folds."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression

    ir = inp.loaded_ir
    kind, fold_list = make_folds(keys, y, inp.dates, folds, ir.outcome_spec.horizon_days, seed,
                                 inp.one_date_from is not None)
    lab_frame = _frame_rows(inp.frame, keys)
    rows, per_fold = [], []
    for train, test, info in fold_list:
        info.update({"train_rows": int(train.sum()), "train_events": int(y[train].sum()),
                     "test_rows": int(test.sum()), "test_events": int(y[test].sum())})
        if not usable_folds(y, train, test):
            info["skipped"] = f"fewer than {MIN_FOLD_CLASS} bad outcomes or survivors to train on, or no test events"
            per_fold.append(info)
            continue
        kt = keys[train]
        try:
            fitted = fit_procedure(ir, inp.data, X[train], has[train], y[train], kt.reset_index(drop=True), spec,
                                   leak_names, allow_leak, _frame_rows(lab_frame, kt), rescore)
        except UserError as exc:
            info["skipped"] = str(exc)
            per_fold.append(info)
            continue
        fold_ir = validate(proposed_data(inp.data, ir, fitted["shares"], fitted["tiers"], fitted["segment_fits"],
                                         fitted["flips"]))
        rs = rescore(fold_ir, _frame_rows(lab_frame, keys[test])).rename(
            columns={"score": "score_cal", "status": "status_cal", "tier": "tier_cal"})
        k = keys[["account_id", "as_of", "label", "score"]].merge(
            rs[["account_id", "as_of", "score_cal", "status_cal", "tier_cal"]], on=["account_id", "as_of"],
            how="left")
        # the probability of the calibrated score is fitted on the training rows' calibrated scores
        tr_rs = fitted["scores"]  # the same weights; tiers do not change a score
        k_tr = kt[["account_id", "as_of", "label"]].merge(tr_rs[["account_id", "as_of", "score", "status"]],
                                                         on=["account_id", "as_of"])
        k_tr = k_tr[k_tr["status"] == "scored"]
        tiers = fitted["tiers"]
        Xm = np.where(np.isnan(X), np.nanmean(np.where(train[:, None], X, np.nan), axis=0), X)
        Xm = np.where(np.isnan(Xm), 50.0, Xm)
        lr = LogisticRegression(max_iter=2000).fit(Xm[train] / 100, y[train])
        gbm = HistGradientBoostingClassifier(max_iter=150, learning_rate=0.05, max_leaf_nodes=15,
                                             l2_regularization=1.0, random_state=seed).fit(X[train], y[train])
        t = k[test].copy()
        t["fold"] = info["fold"]
        t["p_base"] = float(y[train].mean())
        sc_cur, sc_cal = k["score"].to_numpy(float), k["score_cal"].to_numpy(float)
        t["p_hand"] = stats.platt_predict(stats.fit_platt(sc_cur[train], y[train]), sc_cur[test])
        t["p_calibrated"] = stats.platt_predict(stats.fit_platt(k_tr["score"].to_numpy(float),
                                                                k_tr["label"].to_numpy(float)), sc_cal[test])
        t["p_lr"] = lr.predict_proba(Xm[test] / 100)[:, 1]
        t["p_gbm"] = gbm.predict_proba(X[test])[:, 1]
        if values is not None:  # learned shapes, fitted on the training rows' raw values
            ww = {f["metric"] for f in wrong_way_round(X[train], has[train], y[train], spec)}
            tv = values[train].reset_index(drop=True)
            st = shape_settings(ir, spec, tv, y[train], kt["account_id"].astype(str).to_numpy(), ww, seed)
            info["shape_settings"] = {"bins": st.n_bins, "l2": st.l2, "chosen_by": st.chosen_by}
            sh_data = shape_proposal(ir, inp.data, tv, y[train], spec, "fold", ww, st)
            sh_ir = validate(sh_data)
            both = rescore(sh_ir, _frame_rows(lab_frame, pd.concat([kt, keys[test]])))
            sk = keys[["account_id", "as_of", "label"]].merge(both[["account_id", "as_of", "score"]].rename(
                columns={"score": "score_shapes"}), on=["account_id", "as_of"], how="left")
            ss = sk["score_shapes"].to_numpy(float)
            ok = train & ~np.isnan(ss)
            t["score_shapes"] = ss[test]
            info["learned_shapes_auc"] = stats._r(stats.roc_auc(100 - np.nan_to_num(ss[test], nan=50.0), y[test]))
            t["p_shapes"] = stats.platt_predict(stats.fit_platt(ss[ok], y[ok]), np.nan_to_num(ss[test], nan=50.0))
            if hybrid is not None:  # the hand rubric's tier and the learned tier (cut on the training rows)
                lt = F.tier_thresholds(ss[ok], ir.calibration_spec.red_share, ir.calibration_spec.yellow_share)
                tier_h = hybrid_tiers(keys["tier"].to_numpy(object), tier_of(np.nan_to_num(ss, nan=50.0), lt), hybrid)
                rates = {tn: stats.rate(tier_h[ok] == tn, y[ok]) for tn in ("red", "yellow", "green")}
                t["tier_hybrid"] = tier_h[test]
                t["risk_hybrid"] = hybrid_risk(tier_h[test], 100 - np.nan_to_num(ss[test], nan=50.0))
                t["p_hybrid"] = [rates.get(tn, float(y[train].mean())) for tn in tier_h[test]]
                info["learned_tiers"] = lt
        for name, r in (("current", 100 - t["score"]), ("calibrated", 100 - t["score_cal"])):
            info[f"{name}_auc"] = stats._r(stats.roc_auc(r.to_numpy(float), t["label"].to_numpy(float)))
        info["tiers"] = tiers
        per_fold.append(info)
        rows.append(t[t["status_cal"] == "scored"])
    note = ("expanding window: each fold trains on as-of dates whose horizon ended before it starts" if kind == "time"
            else "one-date data (or too few dates for time folds): stratified k-fold grouped by account")
    if not rows:
        return {"kind": kind, "folds": per_fold, "note": f"{note}; no fold had enough outcomes to train and test on"}
    oof = pd.concat(rows, ignore_index=True)
    yy, acc = oof["label"].to_numpy(float), oof["account_id"].to_numpy(object)
    grp = oof["as_of"].to_numpy() if kind == "time" else np.zeros(len(oof))
    B = lambda f, a=acc: stats.bootstrap(a, f, n=n_boot, seed=seed)  # noqa: E731
    methods = {"current": (100 - oof["score"].to_numpy(float), oof["p_hand"].to_numpy(float)),
               "calibrated": (100 - oof["score_cal"].to_numpy(float), oof["p_calibrated"].to_numpy(float)),
               "logistic_regression": (oof["p_lr"].to_numpy(float),) * 2,
               "gradient_boosting": (oof["p_gbm"].to_numpy(float),) * 2}
    if "score_shapes" in oof:
        methods["learned_shapes"] = (100 - oof["score_shapes"].fillna(50.0).to_numpy(float),
                                     oof["p_shapes"].to_numpy(float))
    if "risk_hybrid" in oof:
        methods["hybrid"] = (oof["risk_hybrid"].to_numpy(float),
                             np.nan_to_num(oof["p_hybrid"].to_numpy(float), nan=float(oof["p_base"].mean())))
    pb = oof["p_base"].to_numpy(float)
    pooled = {}
    for name, (risk, p) in methods.items():
        top = stats.lowest_decile(risk, grp)
        pooled[name] = {
            "roc_auc": B(lambda w, r=risk: stats.roc_auc(r, yy, w)),
            "lift_lowest_decile": B(lambda w, t=top: stats.decile_precision_lift(t, yy, w)[1]),
            "brier": B(lambda w, p=p: stats.brier(p, yy, w)),
            "brier_skill": B(lambda w, p=p: 1 - stats.brier(p, yy, w) / stats.brier(pb, yy, w)),
        }
    # the proposal compared with the hand model: the weighted fit, the learned shapes (--shapes) or the hybrid
    method = "hybrid" if hybrid is not None and "hybrid" in methods else "learned_shapes" if shapes else "calibrated"
    r_cur, r_cal = methods["current"][0], methods[method][0]
    gain = B(lambda w: stats.roc_auc(r_cal, yy, w) - stats.roc_auc(r_cur, yy, w))
    tiers_out = {}
    tc = oof["tier_hybrid" if method == "hybrid" else "tier_cal"].to_numpy(object)
    for tname in ("red", "yellow", "green"):
        m = tc == tname
        tiers_out[tname] = {"share": B(lambda w, m=m: float((w * m).sum() / w.sum())),
                            "churn_rate": B(lambda w, m=m: stats.rate(m, yy, w)), "rows": int(m.sum())}
    return {"kind": kind, "folds": per_fold, "test_rows": int(len(oof)), "test_events": int(yy.sum()),
            "pooled": pooled, "auc_gain": gain, "tiers": tiers_out, "note": note,
            "base_rate": stats._r(yy.mean()), "proposal_method": method}


def tier_of(scores: np.ndarray, tiers: dict) -> np.ndarray:
    s = np.asarray(scores, float)
    return np.where(s >= tiers["green"], "green", np.where(s >= tiers["yellow"], "yellow", "red")).astype(object)


def hybrid_tiers(rubric: np.ndarray, learned: np.ndarray, rule: str) -> np.ndarray:
    """The snapshot's tier under a hybrid tier_rule (as scoring/score.py sets it): rubric, learned, or both
    (the worse of the two)."""
    if rule == "rubric":
        return np.asarray(rubric, dtype=object)
    if rule == "learned":
        return np.asarray(learned, dtype=object)
    return np.array([a if TIER_RANK.get(a, 2) <= TIER_RANK.get(b, 2) else b for a, b in zip(rubric, learned)],
                    dtype=object)


def hybrid_risk(tiers: np.ndarray, learned_risk: np.ndarray) -> np.ndarray:
    """How a hybrid ranks accounts for the held-out figures: by its tier (red first), then by the learned risk
    within the tier (what a CSM working the red list first would see)."""
    rank = np.array([TIER_RANK.get(t, 2) for t in tiers], dtype=float)
    return (2 - rank) * 1000.0 + np.asarray(learned_risk, float)


def _brief(m: dict | None) -> dict | None:
    return None if not m else {k: m.get(k) for k in ("value", "low", "high")}


def held_out_summary(cmp_: dict) -> dict:
    """The few held-out figures an approver reads (stored in the proposal's provenance)."""
    if "pooled" not in cmp_:
        return {"method": cmp_.get("kind"), "note": cmp_.get("note")}
    p = cmp_["pooled"]
    prop = p[cmp_.get("proposal_method", "calibrated")]
    out = {"method": "time-ordered folds" if cmp_["kind"] == "time" else "stratified k-fold by account",
            "test_rows": cmp_["test_rows"], "test_events": cmp_["test_events"],
            "roc_auc": _brief(prop["roc_auc"]), "current_roc_auc": _brief(p["current"]["roc_auc"]),
            "auc_gain": _brief(cmp_["auc_gain"]),
            "lowest_decile_lift": _brief(prop["lift_lowest_decile"]),
            "brier": _brief(prop["brier"]), "brier_skill": _brief(prop["brier_skill"]),
            "tier_share": {t: (v["share"] or {}).get("value") for t, v in cmp_["tiers"].items()},
            "churn_rate": {t: (v["churn_rate"] or {}).get("value") for t, v in cmp_["tiers"].items()}}
    if cmp_.get("proposal_method") == "learned_shapes":  # held-out tiers are the weighted fit's
        out["model"] = "learned shapes"
        out.pop("tier_share")
        out.pop("churn_rate")
    if cmp_.get("proposal_method") == "hybrid":  # tiers: the hybrid's, under its tier rule
        out["model"] = "hybrid: the rubric and a learned risk component"
        out["learned_roc_auc"] = _brief(p["learned_shapes"]["roc_auc"])
    return out


def decide(cmp_: dict) -> tuple[bool, str]:
    """Accept only a proposal whose held-out AUC beats the hand model's beyond the interval of the difference."""
    if "pooled" not in cmp_:
        return False, f"no held-out comparison was possible ({cmp_.get('note')}); a proposal nobody can check on" \
                      " held-out data is not written"
    g = cmp_["auc_gain"]
    method = cmp_.get("proposal_method", "calibrated")
    cal_auc, cur_auc = cmp_["pooled"][method]["roc_auc"], cmp_["pooled"]["current"]["roc_auc"]
    fig = (f"held-out AUC {cal_auc['value']:.3f} {method.replace('_', ' ')} vs {cur_auc['value']:.3f} current,"
           " difference"
           f" {g['value']:+.3f} [{g['low']:+.3f}, {g['high']:+.3f}]" if g.get("low") is not None else
           f"held-out AUC difference {g.get('value')}")
    if g.get("low") is None or g["low"] <= 0:
        return False, f"{fig}: the proposal is not better than the current model beyond the interval"
    return True, fig


def fit_procedure(ir: HealthModel, data: dict, X, has, y, keys: pd.DataFrame, spec: FitSpec, leak_names: set[str],
                  allow_leak: list[str], frame: pd.DataFrame, rescore) -> dict:
    """The whole fit, as run on all rows and again on every training fold: portfolio weights (leaks refused,
    timing shares kept, flips), segment weights where a segment has the outcomes for it, then tiers cut by rank
    on the rows of `frame` (re-scored with the fitted weights): base tiers on accounts outside the fitted
    segments, each fitted segment its own."""
    cal = spec.cal
    fw = fit_weights(X, has, y, spec)
    shares, flips = fw["shares"], [f["metric"] for f in fw["flips"]]
    segments: list = []
    seg_fits: dict[str, tuple[Any, dict | None]] = {}
    for seg in ir.segments:
        m = (keys["segment"] == seg.name).to_numpy()
        events, n = int(y[m].sum()), int(m.sum())
        if events < cal.min_events or n - events < cal.min_survivors:
            segments.append({"segment": seg.name, "fitted": False, "rows": n, "events": events,
                             "message": f"segment {seg.name}: {events} bad outcome(s) and {n - events} survivor(s)"
                             f" in {n} labelled scored snapshots; fitting it needs at least {cal.min_events}"
                             f" (calibration.min_events) and {cal.min_survivors} (calibration.min_survivors);"
                             " it keeps its current weights and tiers"})
            continue
        sspec = make_spec(ir, leak_names, allow_leak, seg.name)
        sfw = fit_weights(flip_scores(X[m], has[m], fw["flips"]), has[m], y[m], _no_flip(sspec))
        seg_fits[seg.name] = (sfw["shares"], None)
        segments.append({"segment": seg.name, "fitted": True, "rows": n, "events": events})
    step = rescore(validate(proposed_data(data, ir, shares, None, seg_fits, flips)), frame)
    scored = step[step["status"] == "scored"]
    if scored.empty:
        raise UserError("no snapshot is scored under the fitted weights: nothing to cut tiers on")
    base_rows = scored[~scored["segment"].isin(list(seg_fits))]
    tiers = F.tier_thresholds((base_rows if len(base_rows) else scored)["score"].to_numpy(float),
                              cal.red_share, cal.yellow_share)
    for name in list(seg_fits):
        seg_scores = scored.loc[scored["segment"] == name, "score"].to_numpy(float)
        seg_fits[name] = (seg_fits[name][0], F.tier_thresholds(seg_scores, cal.red_share, cal.yellow_share)
                          if len(seg_scores) else None)
    return {"weights": fw, "shares": shares, "flips": flips, "segments": segments, "segment_fits": seg_fits,
            "tiers": tiers, "scores": step}


def run(inp: Inputs, *, folds: int = 3, n_boot: int = 200, seed: int = 0, allow_leak: list[str] | None = None,
        out: Path | None = None, report: Path | None = None, shapes: bool = False,
        hybrid: str | None = None) -> dict:
    from healthscore.calibrate.labels import keep_churned, label_snapshots
    from healthscore.calibrate.study import metric_study
    from healthscore.scoring.score import score_frame

    ir, cal, spec_o = inp.loaded_ir, inp.loaded_ir.calibration_spec, inp.loaded_ir.outcome_spec
    allow_leak = list(dict.fromkeys(allow_leak or []))
    rescore = rescore_with(inp.plan, inp.missing)
    if inp.one_date_from is not None:
        inp.frame = keep_churned(inp.frame, inp.plan)
    cur = score_frame(ir, inp.version, inp.plan, inp.frame, inp.missing)
    snaps_all, ev_all = cur.snapshots, cur.evidence
    portfolio = pd.Timestamp(inp.portfolio_date)
    extra = portfolio not in {pd.Timestamp(d) for d in inp.dates}  # an as-of date only for the impact figures
    in_fit = (pd.to_datetime(snaps_all["as_of"]) != portfolio) | (not extra)
    snaps = snaps_all[in_fit.to_numpy()].reset_index(drop=True)
    evidence = ev_all[((pd.to_datetime(ev_all["as_of"]) != portfolio) | (not extra)).to_numpy()]
    labels = label_snapshots(snaps, inp.outcomes, spec_o, inp.data_end, one_date_from=inp.one_date_from)
    keys, wide, X, has, y = labelled_matrix(ir, evidence, labels, snaps)
    require_counts(y, cal, "the portfolio")

    leak = L.check(wide, y, L.as_of_sources(evidence, ir), cal.leak_auc)
    spec = make_spec(ir, {lk["metric"] for lk in leak["leaks"]}, allow_leak)
    shapes = shapes or hybrid is not None  # a hybrid's learned component is learned shapes
    values = labelled_values(ir, evidence, labels, snaps, keys) if shapes else None
    cmp_ = held_out(inp, keys, X, has, y, spec, folds, n_boot, seed, rescore,
                    {lk["metric"] for lk in leak["leaks"]}, allow_leak, values=values, shapes=shapes, hybrid=hybrid)
    accepted, reason = decide(cmp_)

    fit_frame = inp.frame[((pd.to_datetime(inp.frame["as_of"]) != portfolio) | (not extra)).to_numpy()]
    fitted = fit_procedure(ir, inp.data, X, has, y, keys, spec, {lk["metric"] for lk in leak["leaks"]}, allow_leak,
                           fit_frame, rescore)
    fw, shares, flips = fitted["weights"], fitted["shares"], fitted["flips"]
    segments, seg_fits, tiers = fitted["segments"], fitted["segment_fits"], fitted["tiers"]

    weights = []
    for j, ((c, m), cs, r, s) in enumerate(zip(ir.metrics, spec.current, fw["raw"], shares)):
        status = ("refused_leak" if j in spec.refused else "timing" if j in spec.fixed
                  else "allowed_leak" if j in spec.allowed else "fitted")
        weights.append({"metric": m.name, "component": c.name, "current_share": round(float(cs), 4),
                        "fitted_share": None if np.isnan(r) else round(float(r), 4),
                        "proposed_share": round(float(s), 4), "status": status, "flipped": m.name in flips})
    dates = [pd.Timestamp(d).date() for d in inp.dates]
    provenance = {
        "by": "healthscore calibrate", "fitted_on": {"from": str(dates[0]), "to": str(dates[-1]),
                                                     "labelled": int(len(y)), "events": int(y.sum()),
                                                     "survivors": int((y == 0).sum()),
                                                     "one_date": inp.one_date_from is not None},
        "from_model": inp.version, "held_out": held_out_summary(cmp_),
        "allow_leak": [{"metric": a, "reasons": [r["code"] for lk in leak["leaks"] if lk["metric"] == a
                                                 for r in lk["reasons"]]} for a in allow_leak],
        "refused_leaks": [spec.names[j] for j in sorted(spec.refused)],
        "flipped": flips, "timing": {spec.names[j]: round(s, 4) for j, s in spec.fixed.items()},
    }
    interactions: list[dict] = []
    learned_shares: list[dict] = []
    if hybrid is not None:  # the rubric as it stands, and a learned risk component beside it
        provenance["model"] = f"hybrid (calibrate --hybrid): the rubric and learned shapes, tier_rule {hybrid}"
        ww = {f["metric"] for f in fw["wrong_way"]}
        settings = shape_settings(ir, spec, values, y, keys["account_id"].astype(str).to_numpy(), ww, seed)
        provenance["shape_settings"] = settings.as_dict()
        fitted_on = (f"{dates[0]}..{dates[-1]}, {len(y)} labelled snapshots ({int(y.sum())} bad),"
                     f" {settings.n_bins} bins, l2 {settings.l2:g}")
        proposal, learned_score = hybrid_proposal(ir, inp.data, values, y, spec, fitted_on, ww, settings, hybrid)
        proposal["provenance"] = provenance
        tiers = {"green": ir.tiers.green, "yellow": ir.tiers.yellow}  # the rubric's, unchanged
        segments = []
        lc = proposal["hybrid"]["learned"]
        total_w = sum(m["weight"] for m in lc["metrics"]) + sum(x["weight"] for x in lc.get("interactions", []))
        learned_shares = [{"metric": m["metric"], "share": round(m["weight"] / total_w, 4)} for m in lc["metrics"]]
        interactions = [{"name": x["name"], "proposed_share": round(x["weight"] / total_w, 4)}
                        for x in lc.get("interactions", [])]
        for w in weights:  # the rubric keeps its weights
            w["proposed_share"], w["fitted_share"] = w["current_share"], None
    elif shapes:  # learned shapes instead of fitted weights: a shape per metric, tiers cut by rank on them
        provenance["model"] = "learned shapes (calibrate --shapes)"
        ww = {f["metric"] for f in fw["wrong_way"]}
        settings = shape_settings(ir, spec, values, y, keys["account_id"].astype(str).to_numpy(), ww, seed)
        provenance["shape_settings"] = settings.as_dict()
        proposal = shape_proposal(ir, inp.data, values, y, spec,
                                  f"{dates[0]}..{dates[-1]}, {len(y)} labelled snapshots ({int(y.sum())} bad),"
                                  f" {settings.n_bins} bins, l2 {settings.l2:g}", ww, settings)
        sc = rescore(validate(proposal), fit_frame)
        sc = sc[sc["status"] == "scored"]["score"].to_numpy(float)
        tiers = F.tier_thresholds(sc, cal.red_share, cal.yellow_share)
        proposal["tiers"] = tiers
        proposal["provenance"] = provenance
        segments = [{"segment": sg.name, "fitted": False, "rows": 0, "events": 0,
                     "message": "learned shapes hold for every account: segment weights and tiers removed"}
                    for sg in ir.segments]
        learned = {m["name"]: m["weight"] for c in proposal["components"] for m in c["metrics"]}
        pair_w = {x["name"]: x["weight"] for x in proposal.get("interactions", [])}
        total_w = sum(learned.values()) + sum(pair_w.values()) or 1.0
        interactions = [{"name": k, "proposed_share": round(v / total_w, 4)} for k, v in pair_w.items()]
        for w in weights:
            w["proposed_share"] = round(learned[w["metric"]] / total_w, 4)
            w["fitted_share"] = None if w["status"] in ("timing", "refused_leak") else w["proposed_share"]
    else:
        proposal = proposed_data(inp.data, ir, shares, tiers, seg_fits, flips, provenance)
    proposed_ir = validate(proposal)

    impact = _impact(snaps_all, rescore(proposed_ir, inp.frame), max(inp.dates), portfolio, cal)
    text = F.dump_yaml(proposal)
    result = {
        "model": {"name": ir.name, "version": inp.version, "path": str(inp.model_path)},
        "outcome": {"label": list(spec_o.label), "horizon": spec_o.horizon}, "data_end": str(inp.data_end),
        "one_date": None if inp.one_date_from is None else str(pd.Timestamp(inp.one_date_from).date()),
        "as_of_dates": [str(d) for d in dates], "labelled": int(len(y)), "events": int(y.sum()),
        "survivors": int((y == 0).sum()),
        "method": (f"hybrid: the rubric as it stands and a learned risk component (learned shapes, fitted as"
                   f" --shapes fits them), tiers of the learned score cut by rank, tier_rule {hybrid}; held out, the"
                   " hybrid ranks by its tier, then by the learned risk within it") if hybrid is not None else
                  ("learned shapes: L2 logistic regression on quantile bins per metric (and a no-data bin; bins and"
                   " penalty " + ("chosen by cross-validation inside the training rows of each fit" if
                                 cal.shape_select == "cv" else f"fixed: {cal.shape_bins} bins, l2 {cal.shape_l2:g}") +
                   f") and up to {cal.shape_interactions} pairwise tables chosen by training log-loss"
                   " gain, turned into shape transforms, interactions and weights (calibrate/shapes.py); timing"
                   " metrics get a shape and at most their share; leaks get 0 unless allowed") if shapes else
                  ("non-negative L2 logistic regression on metric scores (scipy L-BFGS-B, bounds beta >= 0);"
                   f" l2={cal.l2}, floor share {cal.min_weight}; timing metrics keep their share (at most"
                   f" {cal.max_timing_share}); leaks get 0 unless allowed"),
        "leaks": leak, "allow_leak": provenance["allow_leak"], "refused_leaks": provenance["refused_leaks"],
        "flipped": fw["wrong_way"], "timing": provenance["timing"],
        "weights": weights,
        "tiers": {"current": {"green": ir.tiers.green, "yellow": ir.tiers.yellow}, "proposed": tiers,
                  "target_shares": {"red": cal.red_share, "yellow": cal.yellow_share}},
        "segments": segments, "comparison": cmp_, "held_out": provenance["held_out"],
        "accepted": accepted, "decision": reason, "impact": impact,
        "metric_study": metric_study(evidence, labels, snaps, threshold=cal.correlation),
        "diff": F.yaml_diff(inp.data, proposal, a=str(inp.model_path), b=str(out or "proposed")),
        "proposed_yaml": text if accepted else None, "written_to": None, "report": None,
    }
    if shapes:
        result["interactions"] = interactions
        result["shape_settings"] = provenance["shape_settings"]
    if hybrid is not None:
        result["hybrid"] = {"tier_rule": hybrid, "learned_tiers": proposal["hybrid"]["learned"]["tiers"],
                            "learned_shares": learned_shares}
    if out is not None and accepted:
        header = (f"# Proposed by 'healthscore calibrate' from {len(y)} labelled snapshots ({int(y.sum())} bad"
                  f" outcomes), {dates[0]}..{dates[-1]}. {reason}.\n")
        if allow_leak:
            header += (f"# LEAK OVERRIDE: {', '.join(allow_leak)} kept weight although flagged as leaks"
                       " (--allow-leak).\n")
        Path(out).write_text(header + "# Review before use.\n" + text, encoding="utf-8")
        result["written_to"] = str(out)
    if report is not None:
        from healthscore.calibrate.report import calibration_markdown

        Path(report).write_text(calibration_markdown(result), encoding="utf-8")
        result["report"] = str(report)
    return result


def _no_flip(spec: FitSpec) -> FitSpec:
    """A segment fit reuses the portfolio's flips (already applied to its scores) and decides no new ones."""
    s = copy.copy(spec)
    s.cal = spec.cal.model_copy(update={"flip_directions": False})
    return s


def _impact(snaps_now: pd.DataFrame, final: pd.DataFrame, last_fit_date, portfolio: pd.Timestamp,
            cal: Calibration) -> dict:
    now = snaps_now.assign(account_id=snaps_now["account_id"].astype(str), as_of=pd.to_datetime(snaps_now["as_of"]))
    out = {}
    for key, day in (("last_fit_date", pd.Timestamp(last_fit_date)), ("portfolio", portfolio)):
        a = now[now["as_of"] == day][["account_id", "tier", "status"]]
        b = final[final["as_of"] == day][["account_id", "tier", "status"]]
        both = a.merge(b, on="account_id", suffixes=("_current", "_proposed"))
        both = both[(both["status_current"] == "scored") & (both["status_proposed"] == "scored")]
        moves = both.groupby(["tier_current", "tier_proposed"]).size()
        sc = b[b["status"] == "scored"]
        out[key] = {"as_of": str(day.date()), "accounts_compared": int(len(both)),
                    "tier_changes": int((both["tier_current"] != both["tier_proposed"]).sum()),
                    "moves": [{"from": f, "to": t, "accounts": int(n)} for (f, t), n in moves.items() if f != t],
                    "proposed_tier_shares": {t: stats._r((sc["tier"] == t).mean()) if len(sc) else None
                                             for t in ("red", "yellow", "green")},
                    "current_tier_shares": {t: stats._r((a.loc[a["status"] == "scored", "tier"] == t).mean())
                                            if (a["status"] == "scored").any() else None
                                            for t in ("red", "yellow", "green")},
                    "red_target": cal.red_share}
    # the last fit date's figures stay at the top level (existing JSON field names)
    return {**out["last_fit_date"], "portfolio": out["portfolio"]}
