"""Raw metric values -> 0..100 metric scores -> components -> overall score, coverage, confidence, tier, status.

Pure, vectorised functions over the engine's frame (one row per account and as-of date).
Weights are never silently re-weighted: a metric without data either takes an explicit imputed
score or is excluded, and coverage (the share of nominal weight backed by data) says so.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from healthscore.engine.attributes import source_column
from healthscore.engine.compile import MetricPlan
from healthscore.model.interactions import Interaction
from healthscore.model.ir import (
    ONBOARDING_SEGMENT,
    Bands,
    Boolean,
    HealthModel,
    Linear,
    Log,
    Mapping,
    Metric,
    Shape,
    Tiers,
)
from healthscore.model.measures import MEASURES, MetricInputs
from healthscore.model.settings import TIER_RANK, OnboardingModel, Segment
from healthscore.model.windows import duration_days

DAY = np.timedelta64(1, "D")


EXCLUDED_CHURNED = "churned before the date (its latest outcome is churned)"
EXCLUDED_NOT_CREATED = "created on or after the date"


@dataclass
class ScoredFrames:
    snapshots: pd.DataFrame  # one row per (account_id, as_of)
    evidence: pd.DataFrame  # one row per (account_id, as_of, metric)
    # accounts not scored and why: (account_id, as_of, reason); never dropped without a word
    excluded: pd.DataFrame | None = None


# ---- raw values ------------------------------------------------------------------------------


def metric_values(metric: Metric, inputs: dict[str, str], frame: pd.DataFrame, holidays=()):
    """(value, rows, latest_at) arrays of one metric: its measure's derived step (model/measures.py) over the
    aggregates it read (`inputs`: role -> primitive id). value is float, or object for categorical metrics."""
    return MEASURES[metric.measure].values(metric, MetricInputs(frame, inputs, holidays))


def metric_target(metric: Metric, inputs: dict[str, str], frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(target, where it came from) per row: the latest goal, else the accounts column, else the default.

    A target <= 0 or missing falls through to the next source; NaN where there is none at all.
    """
    t = metric.target
    assert t is not None  # called for metrics with a target
    n = len(frame)
    target = np.full(n, np.nan)
    source = np.full(n, None, dtype=object)
    candidates = []
    if t.goal is not None and f"{inputs['target']}__value" in frame:
        candidates.append((frame[f"{inputs['target']}__value"], f"account goal {t.goal}"))
    if t.column is not None:
        candidates.append((frame[t.column], f"accounts.{t.column}"))
    if t.default is not None:
        candidates.append((pd.Series(t.default, index=frame.index), "model default"))
    for values, label in candidates:
        v = pd.to_numeric(values, errors="coerce").to_numpy(dtype="float64")
        take = np.isnan(target) & (v > 0)
        target = np.where(take, v, target)
        source[take] = label
    return target, source


# ---- transforms ------------------------------------------------------------------------------


def transform(metric: Metric, value: np.ndarray) -> np.ndarray:
    """Metric value -> 0..100 score (NaN where the value is missing)."""
    t = metric.transform
    lower_better = metric.direction == "lower_is_better"
    if isinstance(t, (Mapping, Shape)):  # explicit scores: direction does not apply
        return table_scores(t, value)
    v = np.asarray(value, dtype="float64")
    with np.errstate(invalid="ignore"):
        if isinstance(t, Linear):
            s = np.clip((v - t.low) / (t.high - t.low), 0.0, 1.0) * 100.0
        elif isinstance(t, Log):
            lv = np.log1p(np.maximum(v, 0.0))
            s = np.clip((lv - np.log1p(t.low)) / (np.log1p(t.high) - np.log1p(t.low)), 0.0, 1.0) * 100.0
        elif isinstance(t, Boolean):
            s = np.where(v != 0, 100.0, 0.0)
        elif isinstance(t, Bands):  # explicit scores: direction does not apply
            s = np.full(v.shape, t.below)
            for band in sorted(t.bands, key=lambda b: b.min):
                s = np.where(v >= band.min, band.score, s)
            return np.where(np.isnan(v), np.nan, s)
        else:  # pragma: no cover
            raise ValueError(t)
    if lower_better:
        s = 100.0 - s
    return np.where(np.isnan(v), np.nan, s)


def table_scores(t: Shape | Mapping, value: np.ndarray) -> np.ndarray:
    """A learned shape (the highest bin at or below the value) or a map (the category's score): 0..100, NaN
    where the value is missing (or, for a map without a default, not listed)."""
    if isinstance(t, Mapping):
        mapped = [t.values.get(str(v), t.default) if v is not None else None for v in value]
        return np.array([np.nan if s is None else float(s) for s in mapped], dtype="float64")
    v = np.asarray(value, dtype="float64")
    mins = np.array([b.min for b in t.bins])
    scores = np.array([b.score for b in t.bins])
    idx = np.searchsorted(mins, np.where(np.isnan(v), mins[0], v), side="right") - 1
    below = scores[0] if t.below is None else t.below
    s = np.where(idx >= 0, scores[np.clip(idx, 0, None)], below)
    return np.where(np.isnan(v), np.nan, s)


def shape_bin(t: Shape, value: float | None) -> int | None:
    """The index of the bin a value falls in (-1: below the first bin), None for no value."""
    if value is None or value != value:
        return None
    return int(np.searchsorted(np.array([b.min for b in t.bins]), float(value), side="right")) - 1


@dataclass
class LearnedPart:
    """The learned component of a hybrid model, per row: each term's 0..100 score, its share of the learned
    score (weights sum to 1), its points (share x score, adding up to the learned score) and whether the value
    was there (a missing value scores the term's missing score)."""

    names: list[str]  # evidence metric names: <learned name>.<metric or interaction>
    metrics: list[str]  # the rubric metric each term reads (an interaction: "a x b")
    sources: list[str]  # "learned" or "learned interaction"
    scores: np.ndarray  # (n, T)
    shares: np.ndarray  # (T,)
    has_data: np.ndarray  # (n, T)
    values: list[np.ndarray]
    score: np.ndarray  # (n,) the learned score


def learned_part(model: HealthModel, values: dict[str, np.ndarray], n: int) -> LearnedPart | None:
    """The learned component of a hybrid model from the rubric metrics' raw values (None without one)."""
    if model.hybrid is None:
        return None
    lc = model.hybrid.learned
    names, metrics, sources, cols, has, vals, weights = [], [], [], [], [], [], []
    for term in lc.metrics:
        raw = values[term.metric]
        s = table_scores(term.transform, raw)
        present = ~np.isnan(s) if term.transform.kind == "shape" else \
            np.array([v is not None and v == v for v in raw], dtype=bool)
        cols.append(np.where(np.isnan(s), term.missing, s))
        has.append(present)
        vals.append(raw)
        names.append(f"{lc.name}.{term.metric}")
        metrics.append(term.metric)
        sources.append("learned")
        weights.append(term.weight)
    for x in lc.interactions:
        a, b = (pd.to_numeric(pd.Series(values[m]), errors="coerce").to_numpy("float64") for m in x.metrics)
        cols.append(interaction_scores(x, a, b))
        has.append(~np.isnan(a) & ~np.isnan(b))
        vals.append(np.array([None if np.isnan(u) or np.isnan(v) else f"{u:g} x {v:g}" for u, v in zip(a, b)],
                             dtype=object))
        names.append(f"{lc.name}.{x.name}")
        metrics.append(" x ".join(x.metrics))
        sources.append("learned interaction")
        weights.append(x.weight)
    w = np.array(weights, dtype="float64")
    shares = w / w.sum()
    scores = np.column_stack(cols) if cols else np.zeros((n, 0))
    return LearnedPart(names=names, metrics=metrics, sources=sources, scores=scores, shares=shares,
                       has_data=np.column_stack(has) if has else np.zeros((n, 0), dtype=bool), values=vals,
                       score=scores @ shares)


def interaction_scores(x: Interaction, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The interaction's 0..100 score per row from its two metrics' raw values (its missing_score where either
    is missing); below a first edge is the first bin."""
    a, b = np.asarray(a, dtype="float64"), np.asarray(b, dtype="float64")
    ea, eb = np.asarray(x.edges[0]), np.asarray(x.edges[1])
    ia = np.clip(np.searchsorted(ea, np.nan_to_num(a), side="right") - 1, 0, len(ea) - 1)
    ib = np.clip(np.searchsorted(eb, np.nan_to_num(b), side="right") - 1, 0, len(eb) - 1)
    return np.where(np.isnan(a) | np.isnan(b), x.missing_score, np.asarray(x.scores, dtype="float64")[ia, ib])


# ---- composition -----------------------------------------------------------------------------


def _weights(model: HealthModel, segment: str | None) -> tuple[np.ndarray, np.ndarray, Tiers]:
    """(metric weights, component weights, tiers) for accounts of a segment (None: the base model;
    ONBOARDING_SEGMENT: the onboarding model)."""
    seg: OnboardingModel | Segment | None
    if segment == ONBOARDING_SEGMENT and model.onboarding is not None:
        seg = model.onboarding
    else:
        seg = next((s for s in model.segments if s.name == segment), None)
    overrides = seg.weights if seg else {}
    mw = [overrides.get(f"{c.name}.{m.name}", m.weight) for c, m in model.metrics] + [1.0] * len(model.interactions)
    cw = [overrides.get(c.name, c.weight) for c in model.components] + [x.weight for x in model.interactions]
    tiers = seg.tiers if seg and seg.tiers else model.tiers
    return np.array(mw, dtype="float64"), np.array(cw, dtype="float64"), tiers


# Rows scored at a time. Scoring builds a few dozen (rows x metrics) arrays; over a whole weekly pass
# (470,000 rows) they took 3.7 GB at once, in chunks of this size they take a tenth of that. Every row
# is scored on its own, so the chunks give the same frames as one pass.
SCORE_CHUNK_ROWS = 50_000


def score_frame(model: HealthModel, version: str, plan: MetricPlan, frame: pd.DataFrame,
                missing_tables: set[str], value_overrides: dict[str, np.ndarray] | None = None, *,
                for_storage: bool = False) -> ScoredFrames:
    """Score the engine frame. `value_overrides` (metric -> raw values, one per row, after churned
    accounts are dropped) replaces computed metric values: what-if analysis. `for_storage`: the evidence
    also gives its numeric values as floats (value_num), which the history write reads instead of turning
    2.4M Python objects of a 100,000-account date back into numbers (0.3 s); not kept otherwise (52 weekly
    dates of 10,000 accounts: 200 MB)."""
    # Accounts that churned before the as-of date are no longer scored.
    last_outcome = frame.get(f"{plan.last_outcome}__value")
    excluded = pd.DataFrame({"account_id": pd.Series([], dtype=object), "as_of": pd.Series([], dtype="datetime64[ns]"),
                             "reason": pd.Series([], dtype=object)})
    if last_outcome is not None:
        churned = (last_outcome.fillna("") == "churned").to_numpy()
        if churned.any():
            excluded = pd.DataFrame({"account_id": frame["account_id"].to_numpy()[churned].astype(object),
                                     "as_of": pd.to_datetime(frame["as_of"]).to_numpy()[churned],
                                     "reason": EXCLUDED_CHURNED})
        # the rows kept are taken chunk by chunk below: a copy of the whole frame would double its memory
        kept = np.flatnonzero(~churned)
    else:
        kept = np.arange(len(frame))
    n = len(kept)
    if n <= SCORE_CHUNK_ROWS:
        if n < len(frame):
            frame = frame.take(kept).reset_index(drop=True)
        snapshots, evidence = _score_rows(model, version, plan, frame, missing_tables, value_overrides, for_storage)
        return ScoredFrames(snapshots=snapshots, evidence=evidence, excluded=excluded)
    parts = []
    for start in range(0, n, SCORE_CHUNK_ROWS):
        rows = slice(start, start + SCORE_CHUNK_ROWS)
        overrides = {k: np.asarray(v)[rows] for k, v in value_overrides.items()} if value_overrides else None
        parts.append(_score_rows(model, version, plan, frame.take(kept[rows]).reset_index(drop=True),
                                 missing_tables, overrides, for_storage))
    return ScoredFrames(snapshots=_concat_frames([p[0] for p in parts]),
                        evidence=_concat_frames([p[1] for p in parts]), excluded=excluded)


def _concat_frames(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Frames of one layout, end to end, with the dtypes one frame of all the rows would have. A categorical
    column stays categorical (the union of the parts' categories: pandas would turn parts with different
    categories into millions of Python strings); a column whose type was inferred differently per part (text
    in one, only None in another) is inferred again over all its values.

    Each column is dropped from the parts once joined, so the rows are held about once, not twice (52 weekly
    dates of 10,000 accounts: 1.4 GB of snapshots and evidence)."""
    from pandas.api.types import union_categoricals

    columns = {}
    for name in list(frames[0].columns):
        parts = [f.pop(name) for f in frames]
        if all(isinstance(p.dtype, pd.CategoricalDtype) for p in parts):
            columns[name] = pd.Series(union_categoricals(parts), name=name)
        elif all(p.dtype == parts[0].dtype for p in parts):
            columns[name] = pd.concat(parts, ignore_index=True)
        else:
            columns[name] = pd.Series(np.concatenate([p.to_numpy(dtype=object) for p in parts]), name=name)
    return pd.DataFrame(columns, copy=False)


def _score_rows(model: HealthModel, version: str, plan: MetricPlan, frame: pd.DataFrame, missing_tables: set[str],
                value_overrides: dict[str, np.ndarray] | None, for_storage: bool = False
                ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(snapshots, evidence) of the rows of an engine frame without churned accounts."""
    metrics = model.metrics
    comp_names = [c.name for c in model.components]
    comp_of = np.array([comp_names.index(c.name) for c, _ in metrics], dtype=int)
    n, n_m, n_c = len(frame), len(metrics), len(comp_names)
    metric_names = [m.name for _, m in metrics]

    values, rows, latest = [], np.zeros((n, n_m), dtype="int64"), []
    scores = np.full((n, n_m), np.nan)
    targets: dict[int, tuple[np.ndarray, np.ndarray]] = {}  # metric index -> (target, its source)
    for j, (_, metric) in enumerate(metrics):
        v, r, lt = metric_values(metric, plan.metric_inputs[metric.name], frame, plan.holidays)
        if value_overrides and metric.name in value_overrides:
            v = np.asarray(value_overrides[metric.name], dtype=v.dtype)
        values.append(v)
        rows[:, j] = r
        latest.append(lt)
        if metric.target is not None:  # scored against the account's own target; evidence keeps the raw value
            targets[j] = metric_target(metric, plan.metric_inputs[metric.name], frame)
            with np.errstate(all="ignore"):
                scores[:, j] = transform(metric, np.asarray(v, dtype="float64") / targets[j][0])
        else:
            scores[:, j] = transform(metric, v)
    has_data = ~np.isnan(scores)
    imputed = np.array([np.nan if (s := model.missing_rule(m).imputed_score) is None else s for _, m in metrics])
    scores = np.where(has_data, scores, imputed[None, :])
    n_metrics = n_m  # the metrics' columns; learned interactions follow, each a component of its own
    for x in model.interactions:
        a, b = (pd.to_numeric(pd.Series(values[metric_names.index(name)]), errors="coerce").to_numpy("float64")
                for name in x.metrics)
        scores = np.column_stack([scores, interaction_scores(x, a, b)])
        has_data = np.column_stack([has_data, ~np.isnan(a) & ~np.isnan(b)])
        values.append(np.array([None if np.isnan(u) or np.isnan(v) else f"{u:g} x {v:g}" for u, v in zip(a, b)],
                               dtype=object))
        rows = np.column_stack([rows, np.zeros(n, dtype="int64")])
        latest.append(np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]"))
        comp_of = np.append(comp_of, len(comp_names))
        comp_names.append(x.name)
        metric_names.append(x.name)
    n_m, n_c = len(metric_names), len(comp_names)
    available = ~np.isnan(scores)

    as_of = frame["as_of"].to_numpy("datetime64[ns]")
    created = pd.to_datetime(frame["created_at"]).to_numpy("datetime64[ns]")
    age_days = (as_of - created) / DAY
    sc = model.scoring

    # Segment-specific weights, one row per account; young accounts past onboarding_days use the
    # onboarding model's weights and tiers until onboarding.until_days.
    segments = frame["segment_rule"].astype("object").where(frame["segment_rule"].notna(), None).to_numpy()
    onb = model.onboarding
    in_onboarding_model = np.zeros(n, dtype=bool)
    if onb is not None:
        with np.errstate(invalid="ignore"):
            in_onboarding_model = (age_days >= sc.onboarding_days) & (age_days < onb.until_days)
        segments = np.where(in_onboarding_model, ONBOARDING_SEGMENT, segments)
    mw, cw = np.zeros((n, n_m)), np.zeros((n, n_c))
    green, yellow = np.zeros(n), np.zeros(n)
    for seg in {None, ONBOARDING_SEGMENT, *[s.name for s in model.segments]}:
        mask = np.array([s == seg for s in segments], dtype=bool) if n else np.zeros(0, dtype=bool)
        if not mask.any():
            continue
        w_m, w_c, tiers = _weights(model, seg)
        mw[mask], cw[mask] = w_m, w_c
        green[mask], yellow[mask] = tiers.green, tiers.yellow

    onehot = np.zeros((n_m, n_c))
    onehot[np.arange(n_m), comp_of] = 1.0
    eff_mw = np.where(available, mw, 0.0)
    comp_wsum = eff_mw @ onehot  # (n, n_c)
    comp_avail = comp_wsum > 0
    safe_scores = np.nan_to_num(scores)
    with np.errstate(all="ignore"):
        comp_score = np.where(comp_avail, ((eff_mw * safe_scores) @ onehot) / comp_wsum, np.nan)
        eff_cw = np.where(comp_avail, cw, 0.0)
        total = eff_cw.sum(axis=1)
        comp_share = np.where(total[:, None] > 0, eff_cw / total[:, None], 0.0)  # (n, n_c)
        within = np.where(comp_avail[:, comp_of], eff_mw / comp_wsum[:, comp_of], 0.0)
    eff_weight = comp_share[:, comp_of] * within  # (n, n_m): shares of the overall score
    points = eff_weight * safe_scores
    overall = np.where(total > 0, points.sum(axis=1), np.nan)

    # Coverage: share of the nominal weight backed by real data.
    mw_compsum = mw @ onehot
    nominal = (cw / cw.sum(axis=1, keepdims=True))[:, comp_of] * mw / mw_compsum[:, comp_of]
    coverage = (nominal * has_data).sum(axis=1)
    comp_coverage = ((mw * has_data) @ onehot) / mw_compsum

    maturity = np.where(np.isnan(age_days), 1.0, np.clip(age_days / sc.confidence_full_after_days, 0.0, 1.0))
    confidence = np.round(coverage * maturity, 3)
    onboarding = age_days < sc.onboarding_days
    gate_reasons, risk_notes, flags, review = stop_gates(model, frame, values[:n_metrics], scores[:, :n_metrics],
                                                         has_data[:, :n_metrics], latest[:n_metrics], as_of,
                                                         nominal[:, :n_metrics])
    paused = ~onboarding & np.array([bool(r) for r in gate_reasons], dtype=bool)
    insufficient = ~onboarding & ~paused & ((coverage < sc.min_coverage) | (total <= 0))
    scored = ~onboarding & ~paused & ~insufficient
    final = np.where(scored, np.round(overall, 2), np.where(onboarding, sc.onboarding_score, np.nan))
    colour = np.where(final >= green, "green", np.where(final >= yellow, "yellow", "red")).astype(object)
    # Hybrid: the learned component scores beside the rubric; tier_rule says which tier the snapshot takes.
    learned = learned_part(model, {m.name: values[j] for j, (_, m) in enumerate(metrics)}, n)
    learned_tier = np.full(n, None, dtype=object)
    rubric_colour = colour
    if learned is not None and model.hybrid is not None:
        lt = model.hybrid.learned.tiers
        ls = np.round(learned.score, 2)
        if lt is not None:
            learned_tier = np.where(ls >= lt.green, "green", np.where(ls >= lt.yellow, "yellow", "red")).astype(object)
        rule = model.hybrid.tier_rule
        if rule == "learned":
            colour = learned_tier
        elif rule == "both":
            colour = np.array([a if TIER_RANK[a] <= TIER_RANK[b] else b for a, b in zip(rubric_colour, learned_tier)],
                              dtype=object)
    tier = np.where(~scored, np.array(None, dtype=object), colour)
    status = np.where(onboarding, "onboarding", np.where(paused, "paused",
                                                         np.where(insufficient, "insufficient_data", "scored")))

    # Primary driver: the metric costing the most points (weight x (100 - score)), among metrics with
    # data: an imputed value (CSAT 50 for an account without tickets) is no finding to act on. Metrics
    # only: playbooks and alerts name metrics, an interaction's points are evidence.
    loss = np.where(has_data, eff_weight * (100.0 - safe_scores), 0.0)[:, :n_metrics]
    primary = np.where(loss.max(axis=1, initial=0.0) > 0,
                       np.array(metric_names[:n_metrics], dtype=object)[loss.argmax(axis=1)],
                       None) if n_metrics else np.full(n, None, dtype=object)
    metric_labels = {m.name: m for _, m in metrics}
    reasons = _reasons(model, metric_names[:n_metrics], has_data[:, :n_metrics], available[:, :n_metrics], coverage,
                       age_days, onboarding, insufficient, missing_tables, metric_labels)
    reasons = [g + k + r for g, k, r in zip(gate_reasons, risk_notes, reasons)]
    if onb is not None:
        for i in np.flatnonzero(in_onboarding_model).tolist():
            reasons[i].append(f"onboarding model applies: account is {int(age_days[i])} days old"
                              f" (until {onb.until_days} days)")
    for j, (target, source) in targets.items():
        name = metric_names[j]
        for i in range(n):
            reasons[i].append(f"{name} target {_fmt_value(target[i])} ({source[i]})" if source[i] is not None
                              else f"{name}: no target (no goal, column or default)")
    components = _component_lists(comp_names, comp_score, comp_share, comp_coverage)
    motions = [c.motion for c in model.components] + [None] * len(model.interactions)
    sub_scores: list[dict[str, float | None]] | None = None
    if any(motions):  # sub-scores by motion (product, relationship ...): the overall score stays the composite
        for row in components:
            for entry, motion in zip(row, motions):
                entry["motion"] = motion or "other"
        sub_scores = [{} for _ in range(n)]
        safe_comp = np.nan_to_num(comp_score)
        for motion in dict.fromkeys(m or "other" for m in motions):
            cols = np.array([(m or "other") == motion for m in motions])
            w = comp_share[:, cols]
            tot = w.sum(axis=1)
            with np.errstate(all="ignore"):
                sub = np.where(scored & (tot > 0), (w * safe_comp[:, cols]).sum(axis=1) / tot, np.nan)
            for i in range(n):
                sub_scores[i][motion] = None if np.isnan(sub[i]) else round(float(sub[i]), 2)
    if learned is not None and model.hybrid is not None:
        hy = model.hybrid
        lname = hy.learned.name
        l_cov = np.round(learned.has_data.astype(float) @ learned.shares, 4)
        for i in np.flatnonzero(scored).tolist():
            ls_i = round(float(learned.score[i]), 2)
            components[i].append({"name": lname, "score": ls_i, "weight": 0.0, "coverage": float(l_cov[i]),
                                  "part": "learned", "tier": learned_tier[i], "tier_rule": hy.tier_rule})
            rubric_txt = f"the rubric's {rubric_colour[i]} (score {final[i]:.2f})"
            learned_txt = f"{lname} {learned_tier[i]} (learned score {ls_i:.2f})" if learned_tier[i] is not None \
                else f"{lname} has no tiers (learned score {ls_i:.2f})"
            how = {"rubric": f"tier from the rubric: {rubric_txt}; {learned_txt}, shown only",
                   "learned": f"tier from {learned_txt}; {rubric_txt}, shown only",
                   "both": f"tier: the worse of {rubric_txt} and {learned_txt}"}[hy.tier_rule]
            reasons[i].append(f"{how} (hybrid.tier_rule: {hy.tier_rule})")
        for i in np.flatnonzero(~scored).tolist():
            components[i].append({"name": lname, "score": None, "weight": 0.0, "coverage": float(l_cov[i]),
                                  "part": "learned", "tier": None, "tier_rule": hy.tier_rule})
    snapshots = pd.DataFrame({
        "account_id": frame["account_id"].to_numpy(),
        "as_of": frame["as_of"].to_numpy(),
        "model_version": version,
        "score": final,
        "tier": tier,
        "status": status,
        "confidence": confidence,
        "coverage": np.round(coverage, 4),
        "segment": segments,
        "components": components,
        "reasons": reasons,
        "flags": flags,
        "review_required": review,
        "primary_driver": primary,
        "tier_green": green,
        "tier_yellow": yellow,
        # account context for tables and summaries (not stored)
        "name": frame.get("name"),
        "owner": frame.get("owner"),
        "arr": frame.get("arr"),
        # the account's own segment value as of the date (accounts.segment); `segment` is the model's rule
        "account_segment": frame.get("segment"),
    })
    if sub_scores is not None:
        snapshots["sub_scores"] = sub_scores
    if learned is not None:  # the history pass applies the tier rule again to the published (smoothed) tier
        snapshots["learned_tier"] = np.where(scored, learned_tier, np.array(None, dtype=object))

    ev_metric_names = list(metric_names)
    ev_components = [comp_names[c] for c in comp_of]
    ev_windows = [m.window_label for _, m in metrics] + [""] * (n_m - n_metrics)
    ev_sources = [m.source_label for _, m in metrics] + ["interaction"] * (n_m - n_metrics)
    if learned is not None and model.hybrid is not None:  # the learned component's rows: points add up to its score
        lname, n_t = model.hybrid.learned.name, len(learned.names)
        ev_metric_names += learned.names
        ev_components += [lname] * n_t
        by_metric = {m.name: j for j, (_, m) in enumerate(metrics)}
        ev_windows += [metrics[by_metric[m]][1].window_label if m in by_metric else "" for m in learned.metrics]
        ev_sources += learned.sources
        values = values + learned.values
        rows = np.column_stack([rows] + [rows[:, by_metric[m]] if m in by_metric else np.zeros(n, dtype="int64")
                                         for m in learned.metrics])
        latest = latest + [latest[by_metric[m]] if m in by_metric else
                           np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]") for m in learned.metrics]
        available = np.column_stack([available, np.ones((n, n_t), dtype=bool)])
        scores = np.column_stack([scores, learned.scores])
        eff_weight = np.column_stack([eff_weight, np.broadcast_to(learned.shares, (n, n_t))])
        points = np.column_stack([points, learned.scores * learned.shares])
        n_m = n_m + n_t
    value_obj = np.empty((n, n_m), dtype=object)
    value_num = np.full((n, n_m), np.nan) if for_storage else None  # the numbers as floats, for the history write
    for j, v in enumerate(values):
        if v.dtype == object:  # categorical values (map transforms) stay text
            value_obj[:, j] = v
        else:
            num = np.round(np.asarray(v, dtype="float64"), 4)
            col = num.astype(object)
            col[np.isnan(num)] = None
            value_obj[:, j] = col
            if value_num is not None:
                value_num[:, j] = num
    latest_arr = np.stack([np.asarray(pd.to_datetime(lt).to_numpy("datetime64[ns]")) for lt in latest], axis=1) \
        if n_m else None
    pts = np.where(scored[:, None], np.round(points, 4), np.nan)
    # Long evidence (account x metric): categoricals, so 100k accounts x 20 metrics stay cheap.
    codes, uniques = pd.factorize(frame["account_id"])
    def per_metric(labels: list[str]) -> pd.Categorical:
        codes_m, cats = pd.factorize(pd.Index(labels))
        return pd.Categorical.from_codes(np.tile(codes_m, n), categories=cats)

    # Consolidated (pandas copies the columns into one 2-D block per dtype): with copy=False a 100,000-account date
    # cost 5% less CPU but 52 weekly dates of 10,000 accounts peaked 350 MB higher. The values (Python objects) are
    # inserted after, as they are: copying them touched 2.4M objects scattered in memory (0.2 s)
    evidence = pd.DataFrame({
        "account_id": pd.Categorical.from_codes(np.repeat(codes, n_m), categories=uniques),
        "as_of": np.repeat(frame["as_of"].to_numpy(), n_m),
        "model_version": pd.Categorical.from_codes(np.zeros(n * n_m, dtype="int8"), categories=[version]),
        "metric": per_metric(ev_metric_names),
        "component": per_metric(ev_components),
        "window": per_metric(ev_windows),
        "source": per_metric(ev_sources),
        "rows": rows.ravel(),
        "latest_at": latest_arr.ravel() if latest_arr is not None else [],
        "score": np.round(np.where(available, scores, np.nan), 2).ravel(),
        "weight": np.round(eff_weight, 6).ravel(),
        "points": pts.ravel(),
    })
    evidence.insert(list(evidence.columns).index("component") + 1, "value", pd.Series(value_obj.ravel(), copy=False))
    if value_num is not None:
        evidence["value_num"] = value_num.ravel()
    # Where an account attribute a metric reads came from as of the date (engine/attributes.py):
    # "current" means today's accounts row, which a backtest must not trust.
    attr_src = {j: frame[source_column(m.per)].to_numpy(object) for j, (_, m) in enumerate(metrics)
                if m.per and source_column(m.per) in frame}
    if attr_src:  # categories too: as text, 100k accounts x 25 metrics of mostly None cost 0.25 s
        kinds = pd.Index(sorted({v for col in attr_src.values() for v in pd.unique(col) if isinstance(v, str)}))
        src_codes = np.full((n, n_m), -1, dtype="int32")
        for j, col in attr_src.items():
            src_codes[:, j] = kinds.get_indexer(col)
        evidence["as_of_source"] = pd.Categorical.from_codes(src_codes.ravel(), categories=kinds)
    if targets:  # which target each targeted metric was scored against (NaN / None for other metrics)
        tgt, tsrc = np.full((n, n_m), np.nan), np.full((n, n_m), None, dtype=object)
        for j, (target, source) in targets.items():
            tgt[:, j], tsrc[:, j] = target, source
        evidence["target"] = tgt.ravel()
        evidence["target_source"] = tsrc.ravel()
    return snapshots, evidence


def _component_lists(names, score, share, coverage) -> list[list[dict]]:
    """Per snapshot, [{name, score, weight, coverage}] with None for a component without data."""
    sc = np.round(score, 2).astype(object)
    sc[np.isnan(score)] = None
    sh, cv = np.round(share, 4).tolist(), np.round(coverage, 4).tolist()
    return [[{"name": nm, "score": s, "weight": w, "coverage": c} for nm, s, w, c in zip(names, srow, wrow, crow)]
            for srow, wrow, crow in zip(sc.tolist(), sh, cv)]


# ---- stop gates -------------------------------------------------------------------------------


def _condition_holds(cond, v: np.ndarray) -> np.ndarray:
    """A Condition over an array of values; a missing value satisfies nothing but is_null."""
    obj = v.dtype == object
    present = np.array([x is not None for x in v], dtype=bool) if obj else ~np.isnan(v)
    out = np.ones(len(v), dtype=bool)
    for op, target in cond.ops():
        if op == "is_null":
            out &= ~present if target else present
            continue
        with np.errstate(all="ignore"):
            if op in ("in", "not_in"):
                hit = np.array([x in target for x in v], dtype=bool)
                part = hit if op == "in" else ~hit
            elif obj:
                part = np.array([x is not None and {"eq": x == target, "ne": x != target}.get(op, False) for x in v],
                                dtype=bool)
            else:
                fn = {"eq": np.equal, "ne": np.not_equal, "lt": np.less, "lte": np.less_equal,
                      "gt": np.greater, "gte": np.greater_equal}[op]
                part = fn(v, float(target))
        out &= part & present
    return out


def _fmt_value(v) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return "none"
    return f"{v:.2f}".rstrip("0").rstrip(".") if isinstance(v, (float, np.floating)) else str(v)


def stop_gates(model: HealthModel, frame: pd.DataFrame, values: list, scores: np.ndarray, has_data: np.ndarray,
               latest: list, as_of: np.ndarray,
               nominal: np.ndarray | None = None) -> tuple[list, list, list, np.ndarray]:
    """Freshness limits and rules: (pause reasons, risk notes, flags, review required) per row.

    A stale source or metric, or a rule with pause: true, pauses the snapshot: it is not scored and
    publishes no tier change, provided the metrics behind it carry at least scoring.pause_min_weight
    of the score (`nominal`: each metric's share of the weight per row). Below that share the reason
    becomes a risk note and the snapshot is scored: a CSM assessment worth 2% of the score that is
    four months old does not hide the account. Rule flags and review routing apply either way.
    """
    n = len(frame)
    reasons: list[list[str]] = [[] for _ in range(n)]
    flags: list[list[str]] = [[] for _ in range(n)]
    notes: list[list[str]] = [[] for _ in range(n)]  # flagged risks that do not pause
    review = np.zeros(n, dtype=bool)
    names = [m.name for _, m in model.metrics]
    min_share = model.scoring.pause_min_weight

    shares: dict[tuple[int, ...], np.ndarray] = {}

    def share(i: int, cols: list[int]) -> float:
        if nominal is None:
            return 1.0
        key = tuple(cols)
        if key not in shares:  # every row's share at once: a stale source pauses thousands of rows
            shares[key] = np.nansum(nominal[:, key], axis=1) if key else np.zeros(len(nominal))
        return float(shares[key][i])

    def pause_or_note(i: int, cols: list[int], reason: str) -> bool:
        """Pause for `reason` when the inputs behind it weigh enough, else keep it as a risk note."""
        w = share(i, cols)
        if w + 1e-9 >= min_share:
            reasons[i].append(reason)
            return True
        notes[i].append(f"{reason} (inputs worth {w:.1%} of the score, below the {min_share:.0%} that pauses: "
                        "scored)")
        return False

    def of_source(source: str) -> list[int]:
        return [j for j, (_, m) in enumerate(model.metrics)
                if source in m.source_label.replace(".", "/").split("/")]

    for source, limit in model.freshness.items():
        col = f"newest__{source}"
        if col not in frame:
            continue
        age = (as_of - frame[col].to_numpy("datetime64[ns]")) / DAY
        cols = of_source(source)
        for i in np.flatnonzero(np.isnan(age) | (age > duration_days(limit))).tolist():
            reason = (f"{source} stale: no rows in the {limit} before the as-of date" if np.isnan(age[i]) else
                      f"{source} stale: newest row {age[i]:.0f} days old (limit {limit})")
            if pause_or_note(i, cols, reason) and "pipeline_break" not in flags[i]:
                flags[i].append("pipeline_break")  # the whole table is stale: a portfolio-level break
    for source in (model.pipeline.sources if model.pipeline is not None else {}):
        col = f"pipeline__{source}"
        if col not in frame:
            continue
        cols = of_source(source)
        for i, reason in enumerate(frame[col].tolist()):
            if isinstance(reason, str) and reason and pause_or_note(i, cols, reason) \
                    and "pipeline_break" not in flags[i]:
                flags[i].append("pipeline_break")
    for j, (_, metric) in enumerate(model.metrics):
        if metric.freshness is None:
            continue
        age = (as_of - pd.to_datetime(latest[j]).to_numpy("datetime64[ns]")) / DAY
        for i in np.flatnonzero(~np.isnan(age) & (age > duration_days(metric.freshness))).tolist():
            pause_or_note(i, [j], f"{metric.name} stale: newest row {age[i]:.0f} days old (limit {metric.freshness})")
    for rule in model.rules:
        hit = np.ones(n, dtype=bool)
        for cond in rule.when:
            j = names.index(cond.metric)
            arr = np.asarray(values[j]) if cond.value is not None else np.where(has_data[:, j], scores[:, j], np.nan)
            if arr.dtype != object:
                arr = arr.astype("float64")
            hit &= _condition_holds(cond.value or cond.score, arr)
        for i in np.flatnonzero(hit).tolist():
            parts = []
            for c in rule.when:
                k = names.index(c.metric)
                shown = values[k][i] if c.value is not None else scores[i, k]
                parts.append(f"{c.metric} {'value' if c.value is not None else 'score'} {_fmt_value(shown)}")
            evidence = "; ".join(parts)
            flags[i].extend(f for f in rule.flags if f not in flags[i])
            review[i] |= rule.review
            if rule.pause:
                pause_or_note(i, sorted({names.index(c.metric) for c in rule.when}),
                              f"conflict {rule.name}: {rule.note} ({evidence})")
            else:
                notes[i].append(f"risk {rule.name}: {rule.note} ({evidence})")
    return reasons, notes, flags, review


def _reasons(model, metric_names, has_data, available, coverage, age_days, onboarding, insufficient,
             missing_tables, metric_by_name) -> list[list[str]]:
    """Why each snapshot is what it is. The missing-data part depends only on which metrics lack
    data, so it is built once per pattern (few patterns, many accounts)."""
    sc = model.scoring
    table_note = [f"no {t} table in the engine" for t in sorted(missing_tables)]
    patterns = np.packbits(np.concatenate([has_data, available], axis=1), axis=1) if len(coverage) else \
        np.zeros((0, 0), dtype=np.uint8)
    cache: dict[bytes, list[str]] = {}

    def missing_part(i: int) -> list[str]:
        no_data = [j for j in range(len(metric_names)) if not has_data[i, j]]
        excluded = [metric_names[j] for j in no_data if not available[i, j]]
        imputed = [metric_names[j] for j in no_data if available[i, j]]
        part = []
        if excluded:
            part.append("no data, excluded: " + ", ".join(excluded))
        if imputed:
            rules = [model.missing_rule(metric_by_name[m]) for m in imputed]
            part.append("no data, imputed: " + ", ".join(f"{m} ({r.rule} {r.imputed_score:g})"
                                                        for m, r in zip(imputed, rules)))
        return part

    out = []
    for i in range(len(coverage)):
        reasons = list(table_note)
        if onboarding[i]:
            reasons.append(f"account is {int(age_days[i])} days old; onboarding lasts {sc.onboarding_days} days")
        if insufficient[i]:
            reasons.append(f"coverage {coverage[i]:.0%} is below the minimum {sc.min_coverage:.0%}")
        key = patterns[i].tobytes()
        if key not in cache:
            cache[key] = missing_part(i)
        out.append(reasons + cache[key])
    return out
