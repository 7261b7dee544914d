"""Seasonal baseline: a holiday dip compared with last year's holiday raises no alarm."""

from __future__ import annotations

import datetime as dt

import ibis
import pandas as pd
import pytest

from healthscore.engine.compile import compute_frame
from healthscore.explain.evidence import snapshot_dicts
from healthscore.model.ir import HealthModel
from healthscore.model.load import model_version
from healthscore.scoring.score import score_frame
from tests.fixtures import canonical_frame, load_into


def model(compare_to: str) -> HealthModel:
    return HealthModel.model_validate({
        "name": "seasonal", "defaults": {"missing": "exclude"}, "scoring": {"min_coverage": 0},
        "history": {"smoothing_days": 0},
        "components": [{"name": "usage", "weight": 1, "metrics": [{
            "name": "usage_trend", "source": "usage_events", "measure": "change", "of": "count", "window": "28d",
            "compare_to": compare_to, "transform": {"kind": "linear", "low": -0.5, "high": 0.0}}]}],
    })


def holiday_usage() -> pd.DataFrame:
    """10 events a day, except 2 a day from Dec 18 to Jan 6, two years running."""
    rows, i = [], 0
    for day in pd.date_range("2023-11-01", "2025-01-14", freq="D"):
        holiday = (day.month == 12 and day.day >= 18) or (day.month == 1 and day.day <= 6)
        for k in range(2 if holiday else 10):
            rows.append(dict(account_id="A1", ts=day + pd.Timedelta(hours=k + 1), event="login", user_id="u",
                             quantity=1.0, event_id=f"e{i}"))
            i += 1
    return canonical_frame("usage_events", rows)


@pytest.mark.parametrize("compare_to,expected_value", [("previous_window", -0.5), ("last_year", 0.0)])
def test_holiday_dip_against_the_right_baseline(compare_to, expected_value):
    con = ibis.duckdb.connect()
    load_into(con, {"accounts": canonical_frame("accounts", [dict(account_id="A1", created_at=pd.Timestamp("2023-01-01"))]),
                    "usage_events": holiday_usage()})
    ir = model(compare_to)
    frame, plan, missing = compute_frame(con, ir, [dt.date(2025, 1, 7)])
    snap = snapshot_dicts(score_frame(ir, model_version(ir), plan, frame, missing))[0]
    trend = snap["evidence"][0]
    # Dec 10 - Jan 6 against Nov 12 - Dec 9 (a busy month) or against the same weeks a year earlier.
    assert trend["value"] == pytest.approx(expected_value, abs=0.15)
    assert (trend["score"] > 50) == (compare_to == "last_year")
