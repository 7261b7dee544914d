"""Invariants of the metric functions and the weight fit."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from healthscore.calibrate import fit, stats
from healthscore.calibrate.labels import label_snapshots
from healthscore.model.ir import Outcome


@given(st.lists(st.floats(0, 100), min_size=1, max_size=30), st.lists(st.floats(0, 100), min_size=1, max_size=30))
def test_auc_of_a_perfectly_separating_score_is_one(bad, good):
    risk = np.concatenate([np.array(bad) + 101, good])  # every bad outcome riskier than every good one
    y = np.concatenate([np.ones(len(bad)), np.zeros(len(good))])
    assert stats.roc_auc(risk, y) == pytest.approx(1.0)
    assert stats.average_precision(risk, y) == pytest.approx(1.0)
    assert stats.roc_auc(-risk, y) == pytest.approx(0.0)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000))
def test_auc_matches_sklearn_with_ties(seed):
    from sklearn.metrics import average_precision_score, roc_auc_score

    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, 60)
    risk = rng.integers(0, 8, 60).astype(float)  # many ties
    if y.min() == y.max():
        return
    assert stats.roc_auc(risk, y) == pytest.approx(roc_auc_score(y, risk))
    assert stats.average_precision(risk, y) == pytest.approx(average_precision_score(y, risk))


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000))
def test_bootstrap_interval_contains_the_point_estimate(seed):
    rng = np.random.default_rng(seed)
    acc = rng.integers(0, 25, 120).astype(str)
    y = rng.integers(0, 2, 120).astype(float)
    risk = rng.normal(size=120) + y
    ci = stats.bootstrap(acc, lambda w: stats.roc_auc(risk, y, w), n=50, seed=seed)
    assert ci["low"] <= ci["value"] <= ci["high"]


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000), st.integers(2, 6), st.floats(0, 5))
def test_fitted_shares_are_non_negative_and_sum_to_one(seed, k, l2):
    rng = np.random.default_rng(seed)
    X = rng.uniform(0, 100, (150, k))
    X[rng.random((150, k)) < 0.2] = np.nan
    y = (rng.random(150) < 0.3).astype(float)
    shares = fit.fit_shares(X, y, l2)
    assert (shares >= 0).all() and shares.sum() == pytest.approx(1.0)
    floored = fit.floor_shares(shares, 0.05)
    assert (floored >= 0.05 - 1e-9).all() and floored.sum() == pytest.approx(1.0)


def test_fit_puts_weight_on_the_metric_that_predicts():
    rng = np.random.default_rng(1)
    signal, noise = rng.uniform(0, 100, 2000), rng.uniform(0, 100, 2000)
    y = (rng.random(2000) < 1 / (1 + np.exp((signal - 40) / 8))).astype(float)  # low signal -> churn
    shares = fit.fit_shares(np.column_stack([noise, signal]), y, l2=1.0)
    assert shares[1] > 0.9


def test_tier_thresholds_hit_the_configured_shares():
    s = np.linspace(0, 100, 1001)
    t = fit.tier_thresholds(s, 0.10, 0.25)
    assert (s < t["yellow"]).mean() == pytest.approx(0.10, abs=0.01)
    assert (s < t["green"]).mean() == pytest.approx(0.35, abs=0.01)


def test_labels_count_outcomes_in_the_horizon_and_censor_unfinished_ones():
    snaps = pd.DataFrame({"account_id": ["a", "b", "c", "d", "e"],
                          "as_of": pd.to_datetime(["2026-01-01"] * 4 + ["2026-05-01"])})
    outcomes = pd.DataFrame({"account_id": ["a", "b", "c", "e"], "kind": ["churned", "churned", "renewed", "churned"],
                             "ts": pd.to_datetime(["2026-01-31", "2026-04-15", "2026-02-01", "2026-06-01"])})
    lab = label_snapshots(snaps, outcomes, Outcome(horizon="90d"), pd.Timestamp("2026-06-15")).set_index("account_id")
    assert lab.loc["a", "label"] == 1  # churned 30 days after
    assert lab.loc["b", "label"] == 0  # churned after the 90-day horizon
    assert lab.loc["c", "label"] == 0 and lab.loc["c", "renewed"]
    assert lab.loc["d", "label"] == 0  # nothing happened, horizon over
    # e's horizon ends after the data: its churn is seen only because it happened before the data end
    assert lab.loc["e", "label"] == 1
    lab2 = label_snapshots(snaps, outcomes, Outcome(horizon="90d"), pd.Timestamp("2026-05-20")).set_index("account_id")
    assert np.isnan(lab2.loc["e", "label"]) and lab2.loc["e", "censored"]  # censored, not healthy


def test_outcome_horizon_must_be_a_window():
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="not a window"):
        Outcome(horizon="all")
