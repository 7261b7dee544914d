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


# ---- holiday windows -------------------------------------------------------------------------

HOLIDAYS = [{"name": "year-end", "from": "2024-12-18", "to": "2025-01-06"},
            {"name": "year-end-2023", "from": "2023-12-18", "to": "2024-01-06"}]


def holiday_model(exclude: bool, of: str = "count") -> HealthModel:
    metric = {"name": "usage_trend", "source": "usage_events", "measure": "change", "of": of, "window": "28d",
              "exclude_holidays": exclude, "transform": {"kind": "linear", "low": -0.5, "high": 0.0}}
    return HealthModel.model_validate({
        "name": "holidays", "defaults": {"missing": "exclude"}, "scoring": {"min_coverage": 0},
        "history": {"smoothing_days": 0}, "calendar": {"holidays": HOLIDAYS},
        "components": [{"name": "usage", "weight": 1, "metrics": [
            metric,
            {"name": "logins_30d", "source": "usage_events", "measure": "count", "window": "30d",
             "exclude_holidays": exclude, "transform": {"kind": "linear", "low": 0, "high": 300}},
        ]}],
        "rules": [{"name": "usage_collapsed", "note": "product usage fell by more than 30%",
                   "when": [{"metric": "usage_trend", "value": {"lt": -0.3}}], "pause": True}],
    })


DATES = [dt.date(2024, 12, 1), dt.date(2025, 1, 1), dt.date(2025, 1, 7), dt.date(2025, 1, 14)]


@pytest.mark.parametrize("exclude", [False, True])
def test_holiday_dip_does_not_look_like_a_usage_collapse(engine, exclude):
    load_into(engine, {"accounts": canonical_frame("accounts", [dict(account_id="A1", created_at=pd.Timestamp("2023-01-01"))]),
                       "usage_events": holiday_usage()})
    ir = holiday_model(exclude)
    frame, plan, missing = compute_frame(engine, ir, DATES)  # many as-of dates in one query
    snaps = {s["as_of"]: s for s in snapshot_dicts(score_frame(ir, model_version(ir), plan, frame, missing))}
    ev = {d: {e["metric"]: e for e in s["evidence"]} for d, s in snaps.items()}
    jan7 = snaps["2025-01-07"]
    if exclude:
        # Dec 10-17 (8 ordinary days, 80 events) vs Nov 12 - Dec 9 (280): the same 10 a day
        assert ev["2025-01-07"]["usage_trend"]["value"] == pytest.approx(0.0, abs=1e-6)
        assert jan7["status"] == "scored" and jan7["score"] == pytest.approx((100 + 100 * 100 / 300) / 2, abs=0.01)
        assert ev["2025-01-07"]["logins_30d"]["value"] == 100  # Dec 8-17 only: holiday rows ignored
        # Dec 4-31: 14 ordinary days (140 events) scaled to 28 days, against Nov 6 - Dec 3 (280)
        assert ev["2025-01-01"]["usage_trend"]["value"] == pytest.approx(0.0, abs=1e-6)
        assert ev["2025-01-01"]["usage_trend"]["rows"] == 140 + 280
    else:
        # 80 + 20 holiday days x 2 = 120 vs 280: a 57% fall trips the rule and pauses the snapshot
        assert ev["2025-01-07"]["usage_trend"]["value"] == pytest.approx(120 / 280 - 1, abs=1e-4)
        assert jan7["status"] == "paused" and any("usage_collapsed" in r for r in jan7["reasons"])
    assert snaps["2024-12-01"]["status"] == "scored"  # no holiday in either window: the same both ways
    assert ev["2024-12-01"]["usage_trend"]["value"] == pytest.approx(0.0, abs=1e-6)
    # one date at a time gives the same numbers as the spine
    for d in DATES:
        f1, p1, m1 = compute_frame(engine, ir, [d])
        one = snapshot_dicts(score_frame(ir, model_version(ir), p1, f1, m1))[0]
        assert one["score"] == snaps[d.isoformat()]["score"] and one["evidence"] == snaps[d.isoformat()]["evidence"]


def test_holiday_validation(tmp_path):
    import yaml

    from healthscore.errors import UserError
    from healthscore.model.load import load_health_model

    data = holiday_model(True).model_dump(mode="json", by_alias=True)
    data["calendar"] = {"holidays": [{"name": "x", "from": "2025-01-02", "to": "2025-01-01"}]}
    p = tmp_path / "m.yaml"
    p.write_text(yaml.safe_dump(data))
    with pytest.raises(UserError) as exc:
        load_health_model(p)
    assert "calendar.holidays[0].to: holiday x ends (2025-01-01) before it starts" in str(exc.value)
    data["calendar"] = {}
    p.write_text(yaml.safe_dump(data))
    with pytest.raises(UserError) as exc:
        load_health_model(p)
    assert "components[0].metrics[0].exclude_holidays: no holidays to exclude" in str(exc.value)


def test_a_window_inside_the_holidays_has_no_value():
    con = ibis.duckdb.connect()
    load_into(con, {"accounts": canonical_frame("accounts", [dict(account_id="A1", created_at=pd.Timestamp("2023-01-01"))]),
                    "usage_events": holiday_usage()})
    data = holiday_model(True).model_dump(mode="json", by_alias=True)
    data["components"][0]["metrics"][0]["window"] = "7d"  # Dec 25-31: all holiday
    ir = HealthModel.model_validate(data)
    frame, plan, missing = compute_frame(con, ir, [dt.date(2025, 1, 1), dt.date(2025, 1, 14)])
    snaps = {s["as_of"]: s for s in snapshot_dicts(score_frame(ir, model_version(ir), plan, frame, missing))}
    trend = {d: next(e for e in s["evidence"] if e["metric"] == "usage_trend") for d, s in snaps.items()}
    # Dec 25-31 against Dec 18-24: no ordinary day in either week, so no value (not a collapse)
    assert trend["2025-01-01"]["value"] is None and trend["2025-01-01"]["rows"] == 0
    assert "no data, excluded: usage_trend" in snaps["2025-01-01"]["reasons"]
    # Jan 7-13 (70 events) against Dec 31 - Jan 6 (all holiday): no baseline day, no value
    assert trend["2025-01-14"]["value"] is None and trend["2025-01-14"]["rows"] == 70
