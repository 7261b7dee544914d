"""Many as-of dates in one pass (the backfill's daily rollup) give exactly what one date at a time gives."""

from __future__ import annotations

import datetime as dt

import ibis
import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from healthscore.engine.compile import compute_frame
from healthscore.model.ir import HealthModel
from tests.fixtures import canonical_frame, load_into

START = pd.Timestamp("2025-01-01")


def _metric(name: str, measure: str, window: str, **kw) -> dict:
    return {"name": name, "source": "usage_events", "measure": measure, "window": window,
            "transform": {"kind": "linear", "low": 0, "high": 10}, **kw}


# Every measure the rollup combines, one the rows path keeps (distinct_count), a filter, a change
# (a shifted window) and an as-of filter.
MODEL = HealthModel.model_validate({
    "name": "rollup", "defaults": {"missing": "exclude"}, "scoring": {"min_coverage": 0},
    "history": {"smoothing_days": 0},
    "components": [{"name": "usage", "weight": 1, "metrics": [
        _metric("logins_7d", "count", "7d", filter={"event": {"eq": "login"}}),
        _metric("events_30d", "count", "30d"),
        _metric("quantity_14d", "sum", "14d", column="quantity"),
        _metric("quantity_mean_30d", "mean", "30d", column="quantity"),
        _metric("quantity_min_30d", "min", "30d", column="quantity"),
        _metric("quantity_max_10d", "max", "10d", column="quantity"),
        _metric("last_event", "latest", "30d", column="event",
                transform={"kind": "map", "values": {"login": 100, "export": 50}, "default": 0}),
        _metric("since_login", "days_since_last", "60d", filter={"event": {"eq": "login"}}),
        _metric("users_30d", "distinct_count", "30d", column="user_id"),
        {**_metric("usage_change", "change", "14d"), "of": "count"},
    ]}],
})


@st.composite
def events(draw):
    n = draw(st.integers(0, 60))
    rows = []
    for i in range(n):
        minute = draw(st.integers(0, 80 * 24 * 60 - 1))  # 80 days, any minute: midnight edges included
        rows.append(dict(account_id=draw(st.sampled_from(["A1", "A2", "A3"])),
                         ts=START + pd.Timedelta(minutes=minute),
                         event=draw(st.sampled_from(["login", "export", "view"])),
                         user_id=draw(st.sampled_from(["u1", "u2", "u3", None])),
                         quantity=draw(st.sampled_from([0.0, 0.5, 1.0, 2.25, 7.0])), event_id=f"e{i}"))
    return rows


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=events(), offsets=st.lists(st.integers(0, 85), min_size=2, max_size=6, unique=True))
def test_many_dates_equal_one_date_at_a_time(rows, offsets):
    con = ibis.duckdb.connect()
    accounts = [dict(account_id=a, created_at=START - pd.Timedelta(days=400)) for a in ("A1", "A2", "A3")]
    load_into(con, {"accounts": canonical_frame("accounts", accounts),
                    "usage_events": canonical_frame("usage_events", rows)})
    dates = sorted((START + pd.Timedelta(days=d)).date() for d in offsets)
    many, _, _ = compute_frame(con, MODEL, dates)
    for d in dates:
        one, _, _ = compute_frame(con, MODEL, [d])
        got = many[many["as_of"] == pd.Timestamp(d)].set_index("account_id").sort_index()
        want = one.set_index("account_id").sort_index()
        assert list(got.index) == list(want.index)
        for col in want.columns:
            a, b = got[col], want[col]
            if col == "as_of":
                continue
            if pd.api.types.is_numeric_dtype(b) and not pd.api.types.is_bool_dtype(b):
                assert np.allclose(a.astype(float), b.astype(float), equal_nan=True, rtol=1e-9), (d, col)
            else:
                assert [None if pd.isna(x) else x for x in a] == [None if pd.isna(x) else x for x in b], (d, col)
    con.disconnect()


def test_a_date_between_events_of_the_same_day():
    """Rows of one day are all inside or all outside a window: 23:59 the day before is outside a 1-day window."""
    con = ibis.duckdb.connect()
    rows = [dict(account_id="A1", ts=pd.Timestamp("2025-01-09 23:59"), event="login", quantity=1.0, event_id="a"),
            dict(account_id="A1", ts=pd.Timestamp("2025-01-10 00:00"), event="login", quantity=2.0, event_id="b"),
            dict(account_id="A1", ts=pd.Timestamp("2025-01-10 23:59"), event="login", quantity=4.0, event_id="c")]
    load_into(con, {"accounts": canonical_frame("accounts", [dict(account_id="A1", created_at=START)]),
                    "usage_events": canonical_frame("usage_events", rows)})
    model = HealthModel.model_validate({
        "name": "edge", "defaults": {"missing": "exclude"}, "scoring": {"min_coverage": 0},
        "components": [{"name": "usage", "weight": 1, "metrics": [
            _metric("quantity_1d", "sum", "1d", column="quantity")]}]})
    frame, plan, _ = compute_frame(con, model, [dt.date(2025, 1, 10), dt.date(2025, 1, 11)])
    pid = plan.metric_inputs["quantity_1d"]["value"]
    by_date = dict(zip(frame["as_of"].dt.date, frame[f"{pid}__value"]))
    assert by_date[dt.date(2025, 1, 10)] == 1.0  # only Jan 9
    assert by_date[dt.date(2025, 1, 11)] == 6.0  # only Jan 10
