"""Smoothing, hysteresis and the last trusted score over a sequence of snapshots."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from healthscore.model.load import load_health_model
from healthscore.scoring.history import apply_history, is_material_change, material_change

SEED = load_health_model(Path(__file__).resolve().parents[2] / "examples" / "seed-standard.yaml").ir


def batch(scores: list, statuses: list | None = None, model=SEED) -> pd.DataFrame:
    n = len(scores)
    return pd.DataFrame({
        "account_id": ["A1"] * n,
        "as_of": pd.date_range("2026-01-05", periods=n, freq="7D"),
        "score": scores,
        "tier": [None] * n,
        "status": statuses or ["scored"] * n,
        "tier_green": [70.0] * n, "tier_yellow": [40.0] * n,
    })


def model_with(smoothing_days: int, hysteresis: float):
    history = SEED.history.model_copy(update={"smoothing_days": smoothing_days, "hysteresis": hysteresis})
    return SEED.model_copy(update={"history": history})


def test_single_spike_does_not_flip_the_tier_when_smoothed():
    out = apply_history(model_with(30, 0), batch([80.0, 80.0, 80.0, 50.0, 80.0]))
    assert list(out["tier"]) == ["green"] * 5  # the 50 is averaged with the weeks before it
    assert out["smoothed_score"].iloc[3] == pytest.approx((80 + 80 + 80 + 50) / 4, abs=0.01)


def test_without_smoothing_the_spike_shows():
    out = apply_history(model_with(0, 0), batch([80.0, 30.0, 80.0]))
    assert list(out["tier"]) == ["green", "red", "green"]


def test_hysteresis_holds_a_tier_near_its_boundary():
    out = apply_history(model_with(0, 3), batch([72.0, 69.0, 67.5, 66.0, 71.0, 74.0]))
    # falls below 70 but stays green until below 67; then rises back only above 73
    assert list(out["tier"]) == ["green", "green", "green", "yellow", "yellow", "green"]


def test_paused_snapshot_keeps_the_last_trusted_score_visible():
    out = apply_history(model_with(0, 0), batch([75.0, None, None], ["scored", "paused", "paused"]))
    assert out["tier"].iloc[1] is None
    assert out["last_trusted"].iloc[1] == {"as_of": "2026-01-05", "score": 75.0, "tier": "green"}
    assert out["last_trusted"].iloc[2]["score"] == 75.0


def test_material_changes():
    out = apply_history(model_with(0, 0), batch([75.0, 73.0, 62.0, 61.0]))
    assert list(out["material_change"]) == [False, False, True, False]  # 73 -> 62 is 11 points and a tier


@pytest.mark.parametrize("tier_change", [True, False])
def test_the_rule_for_one_snapshot_is_the_frames_rule(tier_change):
    """`changes` reads rows without pandas (is_material_change): it must agree with material_change on the
    frames, missing scores (None, NaN) and tiers included."""
    mc = SEED.history.material_change.model_copy(update={"tier_change": tier_change})
    model = SEED.model_copy(update={"history": SEED.history.model_copy(update={"material_change": mc})})
    points = mc.points
    cases = [(70.0, 70.0 - points, "green", "green"), (70.0, 70.0 - points + 0.01, "green", "green"),
             (50.0, 50.0 + points, "yellow", "green"), (50.0, 51.0, "yellow", "green"), (50.0, 51.0, "red", None),
             (None, 40.0, None, "red"), (float("nan"), 40.0, "red", "red"), (60.0, None, "yellow", "red"),
             (None, None, None, None)]
    frame = pd.DataFrame(cases, columns=["score", "previous_score", "tier", "previous_tier"])
    expected = list(material_change(model, frame))
    got = [is_material_change(model, None if s != s else s, b, t, tb) for s, b, t, tb in cases]
    assert got == expected
    assert any(expected) and not all(expected)


# ---- the vectorised pass against a plain per-row reference -------------------------------------

def _reference(model, snaps: pd.DataFrame, prior: pd.DataFrame | None) -> dict[str, list]:
    """The rules one row at a time, as written in docs/model-reference.md: what apply_history must equal."""
    import numpy as np

    hist = model.history
    rows = pd.concat([snaps.assign(_batch=True)] + ([prior.assign(_batch=False)] if prior is not None else []),
                     ignore_index=True).sort_values(["account_id", "as_of"], kind="stable")
    out, recent, last, prev, acc = {}, [], None, None, None
    for i, r in rows.iterrows():
        if r["account_id"] != acc:
            acc, recent, last, prev = r["account_id"], [], None, None
        tier, smoothed, trusted = (r["tier"] if not r["_batch"] else None), np.nan, None
        if r["status"] == "scored":
            recent = [(t, v) for t, v in recent + [(r["as_of"], r["score"])]
                      if t > r["as_of"] - pd.Timedelta(days=hist.smoothing_days)] if hist.smoothing_days else []
            # the exact mean of the window's scores, rounded to hundredths half to even
            smoothed = float(round(sum(Fraction(str(v)) for _, v in recent) / len(recent), 2)) if recent \
                else r["score"]
            if r["_batch"]:
                g, y = r["tier_green"], r["tier_yellow"]
                tier = "green" if smoothed >= g else "yellow" if smoothed >= y else "red"
                held = last[2] if last is not None else None
                rank = {"red": 0, "yellow": 1, "green": 2}
                if held in rank and tier != held and hist.hysteresis > 0:
                    rising = rank[tier] > rank[held]
                    floor = g if (tier if rising else held) == "green" else y
                    if (rising and smoothed < floor + hist.hysteresis) or \
                            (not rising and smoothed > floor - hist.hysteresis):
                        tier = held
            last = (r["as_of"], r["score"], tier)
        elif r["status"] == "paused" and last is not None:
            trusted = {"as_of": str(last[0])[:10], "score": float(last[1]), "tier": last[2]}
        published = tier if r["status"] == "scored" else None
        if r["_batch"]:
            out[i] = (smoothed, published, trusted, prev)
        prev = (r["as_of"], None if pd.isna(r["score"]) else float(r["score"]), published)
    ordered = [out[i] for i in sorted(out)]
    return {name: [row[k] for row in ordered] for k, name in enumerate(["smoothed", "tier", "trusted", "prev"])}


@st.composite
def _histories(draw):
    accounts = draw(st.integers(1, 4))
    frames, priors = [], []
    for a in range(accounts):
        n_prior, n = draw(st.integers(0, 4)), draw(st.integers(1, 8))
        days = sorted(draw(st.lists(st.integers(0, 200), min_size=n_prior + n, max_size=n_prior + n, unique=True)))
        for k, d in enumerate(days):
            status = draw(st.sampled_from(["scored", "scored", "scored", "paused", "onboarding"]))
            score = round(draw(st.floats(0, 100)), 2) if status == "scored" else None
            row = {"account_id": f"A{a}", "as_of": pd.Timestamp("2026-01-01") + pd.Timedelta(days=d),
                   "score": score, "status": status}
            if k < n_prior:
                priors.append({**row, "tier": draw(st.sampled_from(["red", "yellow", "green"]))
                               if status == "scored" else None})
            else:
                frames.append({**row, "tier": None, "tier_green": 70.0, "tier_yellow": 40.0})
    return pd.DataFrame(frames), (pd.DataFrame(priors) if priors else None)


@settings(max_examples=150, deadline=None)
@given(data=_histories(), smoothing=st.sampled_from([0, 7, 30, 90]), hysteresis=st.sampled_from([0.0, 3.0]))
def test_apply_history_equals_the_per_row_rules(data, smoothing, hysteresis):
    snaps, prior = data
    model = model_with(smoothing, hysteresis)
    got = apply_history(model, snaps, prior)
    want = _reference(model, snaps, prior)
    assert list(got["tier"]) == want["tier"]
    assert list(got["last_trusted"]) == want["trusted"]
    for g, w in zip(got["smoothed_score"], want["smoothed"]):
        assert (pd.isna(g) and pd.isna(w)) or g == w
    for (_, g), w in zip(got.iterrows(), want["prev"]):
        if w is None:
            assert pd.isna(g["previous_as_of"]) and g["previous_score"] is None and g["previous_tier"] is None
        else:
            assert (g["previous_as_of"], g["previous_score"], g["previous_tier"]) == w
