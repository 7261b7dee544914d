"""Smoothing, hysteresis and the last trusted score over a sequence of snapshots."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from healthscore.model.load import load_health_model
from healthscore.scoring.history import apply_history

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
