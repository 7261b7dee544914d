"""Scoring invariants over random inputs: scores in range, evidence adds up, coverage is honest."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from healthscore.engine.compile import plan_model
from healthscore.model.ir import HealthModel
from healthscore.model.load import load_health_model
from healthscore.explain.evidence import snapshot_dicts
from healthscore.scoring.score import score_frame, transform

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SEED = load_health_model(EXAMPLES / "seed-standard.yaml")
AS_OF = pd.Timestamp("2026-01-01")


def random_frame(model: HealthModel, draw_values: list, n: int, segments: list, ages: list) -> tuple:
    plan = plan_model(model)
    data = {
        "account_id": [f"A{i}" for i in range(n)], "name": "x", "owner": "o", "arr": 1000.0,
        "segment": "SMB", "seats": [10] * n, "renewal_date": [AS_OF + pd.Timedelta(days=30)] * n,
        "created_at": [AS_OF - pd.Timedelta(days=a) for a in ages], "segment_rule": segments,
        "as_of": [AS_OF] * n,
    }
    k = 0
    for prim, pid in plan.primitives.items():
        vals = [draw_values[(k + i) % len(draw_values)] for i in range(n)]
        k += 1
        if prim.measure == "latest" and prim.column == "kind":
            data[f"{pid}__value"] = ["renewed"] * n
        elif prim.measure != "days_since_last":
            data[f"{pid}__value"] = vals
        missing = [v is None or (isinstance(v, float) and np.isnan(v)) for v in vals]
        data[f"{pid}__rows"] = [0 if miss else 3 for miss in missing]
        data[f"{pid}__latest"] = [pd.NaT if miss else AS_OF - pd.Timedelta(days=abs(v) % 60 + 0.5)
                                  for v, miss in zip(vals, missing)]
    return pd.DataFrame(data), plan


values = st.one_of(st.none(), st.floats(min_value=-5, max_value=1e4, allow_nan=False), st.integers(0, 50))


def _shaped(model: HealthModel) -> HealthModel:
    """The seed model with a learned-shape transform (not monotone: a U and a step) on every numeric metric."""
    data = model.model_dump(mode="json", by_alias=True, exclude_none=True)
    shape = {"kind": "shape", "bins": [{"min": -1, "score": 10}, {"min": 1, "score": 80}, {"min": 5, "score": 60},
                                       {"min": 20, "score": 30}, {"min": 100, "score": 90}], "below": 5}
    for comp in data["components"]:
        for m in comp["metrics"]:
            if m["transform"]["kind"] != "map":
                m["transform"] = shape
    # learned interactions (calibrate --shapes): their own evidence rows, in the sum like any metric
    data["interactions"] = [
        {"name": "logins x breadth", "metrics": ["login_frequency", "feature_breadth"], "edges": [[0, 5], [-1, 2, 10]],
         "scores": [[0, 40, 100], [70, 20, 55]], "missing_score": 35, "weight": 2.5},
        {"name": "csat x escalations", "metrics": ["csat_90d", "escalations_90d"], "edges": [[3], [0, 1]],
         "scores": [[90, 10]], "missing_score": 50, "weight": 0.7}]
    return HealthModel.model_validate(data)


SHAPED = _shaped(SEED.ir)


def _hybrid(model: HealthModel, rule: str) -> HealthModel:
    """The seed model (its rubric untouched) with a learned risk component beside it: a shape on every numeric
    metric, a map on the categorical ones, and a learned interaction (calibrate --shapes --hybrid)."""
    data = model.model_dump(mode="json", by_alias=True, exclude_none=True)
    shape = {"kind": "shape", "bins": [{"min": -1, "score": 10}, {"min": 1, "score": 80}, {"min": 5, "score": 60},
                                       {"min": 20, "score": 30}, {"min": 100, "score": 90}], "below": 5}
    terms = []
    for k, (_, m) in enumerate(model.metrics):
        if m.transform.kind == "map":
            t = {"kind": "map", "values": {v: (37 * (i + 1)) % 101 for i, v in enumerate(m.transform.values)},
                 "default": 20}
        else:
            t = shape
        terms.append({"metric": m.name, "transform": t, "weight": 0.1 + (k % 5) * 0.37, "missing": (13 * k) % 101})
    data["hybrid"] = {"tier_rule": rule, "learned": {
        "tiers": {"green": 60, "yellow": 45}, "metrics": terms,
        "interactions": [{"name": "logins x breadth", "metrics": ["login_frequency", "feature_breadth"],
                          "edges": [[0, 5], [-1, 2, 10]], "scores": [[0, 40, 100], [70, 20, 55]],
                          "missing_score": 35, "weight": 2.5}]}}
    return HealthModel.model_validate(data)


HYBRID = {rule: _hybrid(SEED.ir, rule) for rule in ("rubric", "learned", "both")}


@settings(max_examples=80, deadline=None)
@given(draws=st.lists(values, min_size=1, max_size=40), n=st.integers(1, 6),
       seg=st.sampled_from([None, "smb", "enterprise"]), age=st.integers(0, 900),
       learned=st.sampled_from([False, True, "rubric", "learned", "both"]))
def test_scores_in_range_and_evidence_sums_to_score(draws, n, seg, age, learned):
    """Also with learned shapes and interactions (calibrate --shapes): a shape is a transform like any other,
    an interaction one more evidence row. And hybrid models (learned = its tier rule): the rubric's evidence adds
    up to the score, the learned component's own rows (source learned*) to the learned score, and the tier follows
    the rule."""
    hybrid = isinstance(learned, str)
    model = HYBRID[learned] if hybrid else SHAPED if learned else SEED.ir
    frame, plan = random_frame(model, [np.nan if v is None else float(v) for v in draws], n, [seg] * n, [age] * n)
    frames = score_frame(model, SEED.version, plan, frame, set())
    for snap in snapshot_dicts(frames):
        assert 0 <= snap["confidence"] <= 1 and 0 <= snap["coverage"] <= 1
        for c in snap["components"]:
            assert c["score"] is None or 0 <= c["score"] <= 100
        for e in snap["evidence"]:
            assert e["score"] is None or 0 <= e["score"] <= 100
        rubric = [e for e in snap["evidence"] if not e["source"].startswith("learned")]
        learned_rows = [e for e in snap["evidence"] if e["source"].startswith("learned")]
        assert bool(learned_rows) == hybrid
        if snap["status"] == "scored" and hybrid:
            part = snap["learned"]
            assert part["tier_rule"] == learned and 0 <= part["score"] <= 100
            assert sum(e["points"] for e in learned_rows) == pytest.approx(part["score"], abs=0.01)
            assert sum(e["weight"] for e in learned_rows) == pytest.approx(1.0, abs=1e-4)
            assert {e["component"] for e in learned_rows} == {"learned_risk"}
            assert len(learned_rows) == len(model.hybrid.learned.metrics) + 1
            tiers = model.segments[[s.name for s in model.segments].index(seg)].tiers if seg else None
            rubric_tier = (tiers or model.tiers).tier(snap["score"])
            learned_tier = model.hybrid.learned.tiers.tier(part["score"])
            assert part["tier"] == learned_tier
            order = ["red", "yellow", "green"]
            assert snap["tier"] == {"rubric": rubric_tier, "learned": learned_tier,
                                    "both": min(rubric_tier, learned_tier, key=order.index)}[learned]
        if snap["status"] == "scored":
            assert 0 <= snap["score"] <= 100
            assert sum(e["points"] for e in rubric) == pytest.approx(snap["score"], abs=0.01)
            assert sum(e["weight"] for e in rubric) == pytest.approx(1.0, abs=1e-4)
            assert snap["tier"] in ("green", "yellow", "red")
            if learned is True:
                assert {e["metric"] for e in snap["evidence"] if e["source"] == "interaction"} == {
                    "logins x breadth", "csat x escalations"}
        elif snap["status"] == "onboarding":
            assert snap["score"] == SEED.ir.scoring.onboarding_score and snap["tier"] is None
        else:
            assert snap["score"] is None and snap["tier"] is None
        if age < SEED.ir.scoring.onboarding_days:
            assert snap["status"] == "onboarding"
        elif snap["status"] == "paused":
            assert any("stale" in r or "conflict" in r for r in snap["reasons"])
        elif snap["coverage"] < SEED.ir.scoring.min_coverage:
            assert snap["status"] == "insufficient_data"


def test_missing_metrics_lower_coverage_not_silently_reweighted():
    frame, plan = random_frame(SEED.ir, [5.0], 1, [None], [400])
    full = snapshot_dicts(score_frame(SEED.ir, SEED.version, plan, frame, set()))[0]
    nps_pid = plan.metric_inputs["nps"]["value"]
    frame[f"{nps_pid}__value"] = np.nan
    frame[f"{nps_pid}__rows"] = 0
    partial = snapshot_dicts(score_frame(SEED.ir, SEED.version, plan, frame, set()))[0]
    assert partial["coverage"] < full["coverage"]
    assert any("nps" in r and "excluded" in r for r in partial["reasons"])
    nps = next(e for e in partial["evidence"] if e["metric"] == "nps")
    assert nps["value"] is None and nps["weight"] == 0 and nps["points"] == 0


def test_segment_changes_tiers_and_weights():
    frame, plan = random_frame(SEED.ir, [3.0, 0.5, 20.0], 2, [None, "enterprise"], [400, 400])
    snaps = snapshot_dicts(score_frame(SEED.ir, SEED.version, plan, frame, set()))
    base, ent = snaps
    rel = lambda s: next(c for c in s["components"] if c["name"] == "relationship")["weight"]  # noqa: E731
    assert rel(ent) > rel(base)


@pytest.mark.parametrize("kind,direction,value,expected", [
    ({"kind": "linear", "low": 0, "high": 10}, "higher_is_better", 5, 50),
    ({"kind": "linear", "low": 0, "high": 10}, "lower_is_better", 2, 80),
    ({"kind": "linear", "low": 0, "high": 10}, "higher_is_better", 50, 100),
    ({"kind": "log", "low": 0, "high": 99}, "higher_is_better", 9, 50),
    ({"kind": "boolean"}, "higher_is_better", 1, 100),
    ({"kind": "boolean"}, "lower_is_better", 1, 0),
    ({"kind": "bands", "bands": [{"min": 0, "score": 100}, {"min": 2, "score": 30}]}, "higher_is_better", 3, 30),
])
def test_transforms(kind, direction, value, expected):
    from healthscore.model.ir import Metric

    m = Metric(name="m", source="usage_events", measure="count", transform=kind, direction=direction)
    assert transform(m, np.array([value]))[0] == pytest.approx(expected, abs=0.01)
    assert np.isnan(transform(m, np.array([np.nan]))[0])


@settings(max_examples=40, deadline=None)
@given(draws=st.lists(values, min_size=1, max_size=40), n=st.integers(2, 9), chunk=st.integers(1, 4),
       segs=st.lists(st.sampled_from([None, "smb", "enterprise"]), min_size=9, max_size=9),
       ages=st.lists(st.integers(0, 900), min_size=9, max_size=9),
       churned=st.lists(st.booleans(), min_size=9, max_size=9),
       model_kind=st.sampled_from(["seed", "shaped", "both"]))
def test_scoring_in_chunks_gives_the_frames_of_one_pass(draws, n, chunk, segs, ages, churned, model_kind):
    """A large pass is scored SCORE_CHUNK_ROWS rows at a time; the frames are the same as scoring every row at
    once: values, order, dtypes (categories included) and the accounts left out as churned."""
    import healthscore.scoring.score as scoring

    model = {"seed": SEED.ir, "shaped": SHAPED, "both": HYBRID["both"]}[model_kind]
    frame, plan = random_frame(model, [np.nan if v is None else float(v) for v in draws], n, segs[:n], ages[:n])
    frame[f"{plan.last_outcome}__value"] = ["churned" if c else "renewed" for c in churned[:n]]
    kept = n - sum(churned[:n])
    overrides = {"login_frequency": np.arange(kept, dtype="float64") * 3.7}
    whole = score_frame(model, SEED.version, plan, frame, {"tickets"}, value_overrides=overrides)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(scoring, "SCORE_CHUNK_ROWS", chunk)
        parts = score_frame(model, SEED.version, plan, frame, {"tickets"}, value_overrides=overrides)
    pd.testing.assert_frame_equal(parts.snapshots, whole.snapshots)
    pd.testing.assert_frame_equal(parts.evidence, whole.evidence)
    pd.testing.assert_frame_equal(parts.excluded, whole.excluded)
