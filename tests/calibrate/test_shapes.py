"""Learned shapes (calibrate/shapes.py, the `shape` transform): the fitted tables rank accounts as the
additive model does, recover shapes a straight line cannot, and the evidence still adds up."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from healthscore.calibrate import stats
from healthscore.calibrate.shapes import apply_shapes, fit_shape_model, fit_shapes
from healthscore.model.ir import HealthModel
from healthscore.scoring.score import interaction_scores, transform


def synthetic(n=4000, seed=0):
    """Risk is U-shaped in `logins` (too few and too many: a bot) and falls with `nps`; `plan` is a category."""
    rng = np.random.default_rng(seed)
    logins = rng.uniform(0, 100, n)
    nps = np.where(rng.random(n) < 0.2, np.nan, rng.integers(0, 11, n).astype(float))
    plan = rng.choice(["basic", "pro", "enterprise"], n)
    logit = -1.0 + 3.0 * ((logins - 50) / 50) ** 2 - 0.3 * np.nan_to_num(nps - 5) + (plan == "basic") * 0.8
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(float)
    return pd.DataFrame({"logins": logins, "nps": nps, "plan": pd.Series(plan, dtype=object)}), y


MODEL = {
    "name": "learned",
    "components": [
        {"name": "engagement", "weight": 1, "metrics": [
            {"name": "logins", "source": "usage_events", "measure": "count", "window": "30d",
             "transform": {"kind": "linear", "low": 0, "high": 100}, "weight": 1}]},
        {"name": "voice", "weight": 1, "metrics": [
            {"name": "nps", "source": "surveys", "measure": "latest", "column": "score",
             "transform": {"kind": "linear", "low": 0, "high": 10}, "weight": 1},
            {"name": "plan", "measure": "attribute", "per": "plan",
             "transform": {"kind": "map", "values": {"basic": 50, "pro": 50, "enterprise": 50}}, "weight": 1}]},
    ],
}


def score_of(ir: HealthModel, values: pd.DataFrame) -> np.ndarray:
    """The model's score from raw values (all metrics present or imputed): sum of weight x metric score."""
    total, weights = 0.0, 0.0
    for comp, metric in ir.metrics:
        w = comp.weight * metric.weight / sum(m.weight for m in comp.metrics)
        s = transform(metric, values[metric.name].to_numpy(object if values[metric.name].dtype == object else float))
        s = np.where(np.isnan(s), metric.missing.score, s)
        total, weights = total + w * s, weights + w
    return total / weights


def test_shapes_recover_a_u_shape_and_rank_like_the_additive_model():
    X, y = synthetic()
    fits = {f.metric: f for f in fit_shapes(X, y, n_bins=10, monotone={"nps": "increasing"})}
    logins = fits["logins"].scores
    assert max(logins[3:7]) > logins[0] + 40 and max(logins[3:7]) > logins[-1] + 40  # healthy in the middle
    nps = fits["nps"].scores
    assert nps == sorted(nps)  # the monotone constraint holds
    assert fits["plan"].kind == "map" and fits["plan"].scores[fits["plan"].categories.index("basic")] == 0.0
    ir = HealthModel.model_validate(apply_shapes(MODEL, list(fits.values()), fitted="synthetic"))
    score = score_of(ir, X)
    learned_auc = stats.roc_auc(100 - score, y)
    linear_auc = stats.roc_auc(-X["logins"].to_numpy(), y)
    assert learned_auc > 0.75 > linear_auc + 0.2  # a straight line cannot see a U


def test_an_interaction_no_pair_of_shapes_can_express_is_found_and_scored():
    """Risk is high where logins are low AND nps is low (either alone is harmless): the pair's table is
    chosen among the candidates, stored in the YAML, and the score with it ranks better than without."""
    rng = np.random.default_rng(1)
    n = 6000
    X = pd.DataFrame({"logins": rng.uniform(0, 100, n), "nps": rng.integers(0, 11, n).astype(float),
                      "noise": rng.normal(0, 1, n)})
    logit = -2.5 + 3.0 * ((X["logins"] < 40) & (X["nps"] < 5)).to_numpy(float)
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(float)
    model = {**MODEL, "components": [
        {"name": "engagement", "weight": 1, "metrics": [{**MODEL["components"][0]["metrics"][0]},
         {"name": "noise", "source": "usage_events", "measure": "count", "window": "30d",
          "transform": {"kind": "linear", "low": -2, "high": 2}, "weight": 1}]},
        {"name": "voice", "weight": 1, "metrics": [MODEL["components"][1]["metrics"][0]]}]}
    fits, pairs = fit_shape_model(X, y, n_bins=10, interactions=1)
    assert [set(p.metrics) for p in pairs] == [{"logins", "nps"}] and pairs[0].gain > 0
    ir = HealthModel.model_validate(apply_shapes(model, fits, "synthetic", pairs))
    (x,) = ir.interactions
    pair_part = interaction_scores(x, X[x.metrics[0]].to_numpy(), X[x.metrics[1]].to_numpy())
    mains = score_of(ir, X)
    w_mains = sum(c.weight for c in ir.components)
    with_pair = (mains * w_mains + pair_part * x.weight) / (w_mains + x.weight)
    assert stats.roc_auc(100 - with_pair, y) > stats.roc_auc(100 - mains, y) + 0.01
    # only the metrics allowed pair up, and a table of noise does not pay for its cells
    assert fit_shape_model(X, y, n_bins=10, interactions=1, pairable={"logins", "noise"})[1] == []


def test_an_interaction_table_must_match_its_bins():
    with pytest.raises(ValidationError, match="2 x 3 table"):
        HealthModel.model_validate({**MODEL, "interactions": [
            {"name": "x", "metrics": ["logins", "nps"], "edges": [[0, 5], [0, 1, 2]], "scores": [[1, 2, 3]],
             "weight": 1}]})
    ir = HealthModel.model_validate({**MODEL, "interactions": [
        {"name": "x", "metrics": ["logins", "seats"], "edges": [[0], [0]], "scores": [[1]], "weight": 1}]})
    assert any("no metric 'seats'" in msg for _, msg in ir.problems())


def test_a_shape_that_breaks_its_monotone_constraint_is_refused():
    with pytest.raises(ValidationError, match="monotone increasing"):
        HealthModel.model_validate({**MODEL, "components": [{"name": "c", "weight": 1, "metrics": [
            {"name": "m", "source": "usage_events", "measure": "count", "window": "30d", "weight": 1,
             "transform": {"kind": "shape", "monotone": "increasing",
                           "bins": [{"min": 0, "score": 80}, {"min": 5, "score": 20}]}}]}]})


@settings(max_examples=60, deadline=None)
@given(mins=st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=1, max_size=8, unique=True),
       scores=st.lists(st.floats(0, 100), min_size=8, max_size=8),
       values=st.lists(st.one_of(st.none(), st.floats(-2e6, 2e6, allow_nan=False)), min_size=1, max_size=30))
def test_a_shape_gives_the_score_of_the_highest_bin_at_or_below_the_value(mins, scores, values):
    mins = sorted(mins)
    t = {"kind": "shape", "bins": [{"min": m, "score": s} for m, s in zip(mins, scores)]}
    metric = HealthModel.model_validate({**MODEL, "components": [{"name": "c", "weight": 1, "metrics": [
        {"name": "m", "source": "usage_events", "measure": "count", "window": "30d", "weight": 1,
         "transform": t}]}]}).metrics[0][1]
    got = transform(metric, np.array([np.nan if v is None else v for v in values]))
    for v, s in zip(values, got):
        if v is None:
            assert np.isnan(s)
        else:
            below = [sc for m, sc in zip(mins, scores) if m <= v]
            assert s == (below[-1] if below else scores[0])


@pytest.mark.slow
def test_calibrate_shapes_proposes_learned_shapes_on_the_same_held_out_folds(tmp_path):
    """`calibrate --shapes` on a panel where only `good` predicts churn: the shapes beat the noise-heavy hand
    weights held out, the proposal holds shape transforms (provenance included), and the proposed model's
    evidence still adds up."""
    import json

    from typer.testing import CliRunner

    from healthscore.cli.app import app
    from healthscore.explain.evidence import snapshot_dicts
    from healthscore.model.load import load_health_model
    from healthscore.project import Project
    from tests.calibrate import synthetic

    ws, dates = synthetic.panel(tmp_path / "ws")
    out = tmp_path / "shapes.yaml"
    res = CliRunner().invoke(app, ["calibrate", "-w", str(ws), "--from", str(dates[0]), "--to", str(dates[-1]),
                                   "--every", "30d", "--bootstrap", "40", "--shapes", "--out", str(out), "--json"])
    r = json.loads(res.output)
    pooled = r["comparison"]["pooled"]
    assert pooled["learned_shapes"]["roc_auc"]["value"] > pooled["current"]["roc_auc"]["value"] + 0.05
    assert res.exit_code == 0 and r["accepted"], r["decision"]
    proposed = load_health_model(out)
    good = next(m for _, m in proposed.ir.metrics if m.name == "good")
    assert good.transform.kind == "shape" and good.transform.monotone == "increasing"
    assert proposed.ir.provenance is not None
    with Project(ws) as p:
        run = p.score(as_of_dates=[dates[-1]], store=False)
    from healthscore.engine.compile import compute_frame
    from healthscore.scoring.score import score_frame

    with Project(ws) as p:
        frame, plan, missing = compute_frame(p.con, proposed.ir, [dates[-1]])
    snaps = snapshot_dicts(score_frame(proposed.ir, proposed.version, plan, frame, missing))
    scored = [s for s in snaps if s["status"] == "scored"]
    assert scored and len(run.snapshots) == len(snaps)
    for s in scored:
        assert sum(e["points"] for e in s["evidence"]) == pytest.approx(s["score"], abs=0.01)


def test_inner_cross_validation_chooses_settings_from_the_rows_it_is_given():
    """shape_select: cv picks the bins and penalty on the training rows alone: a U needs more than two bins,
    so the grid's 2-bin settings lose; every setting tried is reported with its mean inner AUC."""
    from healthscore.calibrate.shapes import choose_settings, shape_points

    X, y = synthetic(n=3000, seed=3)
    groups = np.arange(len(y)) // 2  # two rows per "account": no account on both sides of an inner fold

    def fit(v, yy, n_bins, l2):
        return fit_shape_model(v, yy, n_bins=n_bins, l2=l2)

    st_ = choose_settings(X, y, groups, fit, bins_grid=[2, 12], l2_grid=[1.0, 30.0], folds=3)
    assert st_.chosen_by == "cv" and st_.folds == 3 and st_.n_bins == 12
    assert {(g["bins"], g["l2"]) for g in st_.grid} == {(2, 1.0), (2, 30.0), (12, 1.0), (12, 30.0)}
    assert max(g["auc"] for g in st_.grid) == next(g["auc"] for g in st_.grid
                                                    if (g["bins"], g["l2"]) == (st_.n_bins, st_.l2))
    # shape_points ranks rows as the proposal's score does (the same bins, weights and missing scores)
    fits, pairs = fit(X, y, 12, 1.0)
    ir = HealthModel.model_validate(apply_shapes(MODEL, fits, fitted="synthetic"))
    assert np.corrcoef(shape_points(fits, pairs, X), score_of(ir, X))[0, 1] > 0.999


@pytest.mark.slow
def test_calibrate_hybrid_keeps_the_rubric_and_adds_a_learned_component(tmp_path):
    """`calibrate --hybrid`: the rubric's components stay as written, a `hybrid:` block holds the learned shapes
    with tiers cut by rank and the tier rule asked for; the held-out comparison has the hybrid and the learned
    part; scoring with the proposal, both parts' evidence add up to their scores."""
    import json

    import yaml
    from typer.testing import CliRunner

    from healthscore.cli.app import app
    from healthscore.engine.compile import compute_frame
    from healthscore.explain.evidence import is_learned_row, snapshot_dicts
    from healthscore.model.load import load_health_model
    from healthscore.project import Project
    from healthscore.scoring.score import score_frame
    from tests.calibrate import synthetic
    from tests.cli.runner import invoke

    ws, dates = synthetic.panel(tmp_path / "ws")
    args = ["calibrate", "-w", str(ws), "--from", str(dates[0]), "--to", str(dates[-1]), "--every", "30d",
            "--bootstrap", "40", "--hybrid", "--json"]
    bad = invoke(*args, "--tier-rule", "worst")
    assert bad.returncode == 2 and "--tier-rule 'worst': use one of rubric, learned, both" in bad.stderr
    out = tmp_path / "hybrid.yaml"
    res = CliRunner().invoke(app, args + ["--tier-rule", "learned", "--out", str(out)])
    r = json.loads(res.output)
    assert res.exit_code == 0 and r["accepted"], r["decision"]
    pooled = r["comparison"]["pooled"]
    assert r["comparison"]["proposal_method"] == "hybrid" and {"hybrid", "learned_shapes"} <= set(pooled)
    assert r["held_out"]["learned_roc_auc"]["value"] == pooled["learned_shapes"]["roc_auc"]["value"]
    assert r["shape_settings"]["chosen_by"] == "cv" and r["hybrid"]["tier_rule"] == "learned"
    proposed = load_health_model(out)
    with Project(ws) as p:
        current = p.model
    assert yaml.safe_load(out.read_text())["components"] == yaml.safe_load(current.yaml_text)["components"]
    hy = proposed.ir.hybrid
    assert hy is not None and hy.tier_rule == "learned" and hy.learned.tiers is not None
    assert proposed.ir.provenance["shape_settings"]["bins"] in (8, 16, 32)
    with Project(ws) as p:
        frame, plan, missing = compute_frame(p.con, proposed.ir, [dates[-1]])
    scored = [s for s in snapshot_dicts(score_frame(proposed.ir, proposed.version, plan, frame, missing))
              if s["status"] == "scored"]
    assert scored
    for s in scored:
        rubric = [e for e in s["evidence"] if not is_learned_row(e)]
        learned = [e for e in s["evidence"] if is_learned_row(e)]
        assert sum(e["points"] for e in rubric) == pytest.approx(s["score"], abs=0.01)
        assert sum(e["points"] for e in learned) == pytest.approx(s["learned"]["score"], abs=0.01)
        assert s["tier"] == s["learned"]["tier"] == hy.learned.tiers.tier(s["learned"]["score"])
