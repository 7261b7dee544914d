"""Account attributes as of each snapshot date (engine/attributes.py), not today's accounts row.

The same fixture runs on PostgreSQL and Spark in tests/engine/test_backends.py (same snapshots,
as_of_source included); here the values themselves are checked on DuckDB."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from healthscore.engine.attributes import accounts_as_of
from healthscore.engine.compile import compute_frame
from healthscore.explain.evidence import snapshot_dicts
from healthscore.model.ir import HealthModel
from healthscore.scoring.score import score_frame
from tests.engine.test_golden_sql import load
from tests.fixtures import canonical_frame, load_into, small_portfolio


@pytest.fixture(scope="module")
def con():
    import ibis

    c = ibis.duckdb.connect()
    load(c)
    yield c
    c.disconnect()


def attrs(con, day: str) -> dict:
    cols = ["arr", "seats", "plan", "renewal_date", "owner", "segment"]
    frame = accounts_as_of(con, dt.date.fromisoformat(day), cols)
    return {r["account_id"]: r for r in frame.to_dict("records")}


def test_subscriptions_give_arr_seats_plan_and_the_next_renewal_as_of_the_date(con):
    before, after = attrs(con, "2024-12-31"), attrs(con, "2025-01-01")
    assert (before["A1"]["arr"], before["A1"]["seats"], before["A1"]["plan"]) == (10000.0, 8, "Starter")
    assert pd.Timestamp(before["A1"]["renewal_date"]) == pd.Timestamp("2025-01-01")
    # on the renewal day the new term is the valid one: nothing falls between two terms
    assert (after["A1"]["arr"], after["A1"]["seats"], after["A1"]["plan"]) == (12000.0, 10, "Pro")
    assert pd.Timestamp(after["A1"]["renewal_date"]) == pd.Timestamp("2026-01-01")
    assert after["A1"]["arr__as_of_source"] == "subscriptions"


def test_an_account_whose_terms_ended_has_no_arr_and_no_renewal(con):
    march, june = attrs(con, "2025-03-01"), attrs(con, "2025-06-01")
    assert march["A2"]["arr"] == 300000.0 and pd.Timestamp(march["A2"]["renewal_date"]) == pd.Timestamp("2025-04-15")
    # today's accounts row says 400,000 and a renewal on 2025-07-01: neither was true in June
    assert june["A2"]["arr"] == 0.0 and pd.isna(june["A2"]["renewal_date"])
    assert june["A2"]["renewal_date__as_of_source"] == "subscriptions"


def test_account_changes_give_the_latest_value_before_the_date(con):
    assert attrs(con, "2025-05-10")["A2"]["owner"] == "kim"  # the change at 00:00 is not before the date
    assert attrs(con, "2025-05-11")["A2"]["owner"] == "lee"
    may, june = attrs(con, "2025-05-10"), attrs(con, "2025-06-01")
    assert (may["A4"]["segment"], may["A4"]["segment__as_of_source"]) == ("SMB", "current")
    assert (june["A4"]["segment"], june["A4"]["segment__as_of_source"]) == ("enterprise", "account_changes")
    # a value that is not of the column's type never replaces it (ingestion quarantines such rows)
    assert (june["A4"]["seats"], june["A4"]["seats__as_of_source"]) == (4, "current")


def test_without_history_today_s_value_is_used_and_said(con):
    a3 = attrs(con, "2025-06-01")["A3"]
    assert a3["arr"] == 60000.0
    assert {a3[f"{c}__as_of_source"] for c in ("arr", "renewal_date", "owner")} == {"current"}


RENEWAL_MODEL = {
    "name": "renewal",
    "components": [{"name": "business", "weight": 1, "metrics": [
        {"name": "renewal_distance", "measure": "days_until", "per": "renewal_date",
         "transform": {"kind": "linear", "low": 0, "high": 120}, "weight": 1, "missing": "neutral"}]}],
}


def test_evidence_says_where_an_attribute_came_from_and_reads_it_as_of_the_snapshot(con):
    ir = HealthModel.model_validate(RENEWAL_MODEL)
    frame, plan, missing = compute_frame(con, ir, [dt.date(2024, 12, 2), dt.date(2025, 6, 1)])
    snaps = {(s["account_id"], s["as_of"]): s for s in snapshot_dicts(score_frame(ir, "v", plan, frame, missing))}
    a1 = snaps[("A1", "2024-12-02")]["evidence"][0]
    assert (a1["value"], a1["as_of_source"]) == (30.0, "subscriptions")  # today's row says 2025-09-01
    a3 = snaps[("A3", "2025-06-01")]["evidence"][0]
    assert a3["as_of_source"] == "current"


def test_segment_rules_read_the_segment_as_of_the_date(tmp_path):
    """A segment model applies from the day the account moved into the segment, not before."""
    import ibis

    c = ibis.duckdb.connect()
    frames = small_portfolio()
    frames["account_changes"] = canonical_frame("account_changes", [
        dict(account_id="A1", ts=pd.Timestamp("2025-05-20"), field="segment", value="enterprise")])
    load_into(c, frames)
    model = {**RENEWAL_MODEL, "segments": [{"name": "ent", "priority": 1, "when": {"segment": "enterprise"}}]}
    ir = HealthModel.model_validate(model)
    frame, _, _ = compute_frame(c, ir, [dt.date(2025, 5, 15), dt.date(2025, 6, 1)], account_ids=["A1"])
    got = dict(zip(frame["as_of"].dt.date.astype(str), frame["segment_rule"].astype(object).where(
        frame["segment_rule"].notna(), None)))
    assert got == {"2025-05-15": None, "2025-06-01": "ent"}
    c.disconnect()
