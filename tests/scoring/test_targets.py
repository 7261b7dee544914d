"""Customer-specific success criteria: a metric scored against the account's own target."""

from __future__ import annotations

import datetime as dt

import ibis
import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from healthscore.engine.compile import compute_frame
from healthscore.errors import UserError
from healthscore.explain.evidence import snapshot_dicts
from healthscore.model.ir import HealthModel
from healthscore.model.load import load_health_model, model_version
from healthscore.scoring.score import score_frame
from tests.fixtures import canonical_frame, load_into

AS_OF = dt.date(2026, 3, 1)
T0 = pd.Timestamp(AS_OF)


def model(target: dict) -> HealthModel:
    return HealthModel.model_validate({
        "name": "goals", "defaults": {"missing": "exclude"}, "scoring": {"min_coverage": 0},
        "components": [
            {"name": "usage", "weight": 3, "metrics": [{
                "name": "weekly_active_users", "source": "usage_events", "measure": "distinct_count",
                "column": "user_id", "window": "7d", "target": target,
                "transform": {"kind": "linear", "low": 0, "high": 1}}]},
            {"name": "support", "weight": 1, "metrics": [{
                "name": "tickets", "source": "tickets", "measure": "count", "window": "30d", "direction": "lower_is_better",
                "transform": {"kind": "linear", "low": 0, "high": 10}}]},
        ],
    })


def usage(aid: str, users: int) -> list[dict]:
    return [dict(account_id=aid, ts=T0 - pd.Timedelta(days=2, hours=u), event="login", user_id=f"{aid}-{u}",
                 quantity=1.0, event_id=f"{aid}-e{u}") for u in range(users)]


def loaded(goals: list[dict], users: dict[str, int], seats: dict[str, int | None], con=None):
    con = con or ibis.duckdb.connect()
    accounts = [dict(account_id=a, created_at=pd.Timestamp("2025-01-01"), seats=seats.get(a)) for a in users]
    load_into(con, {
        "accounts": canonical_frame("accounts", accounts),
        "usage_events": canonical_frame("usage_events", [r for a, n in users.items() for r in usage(a, n)]),
        "tickets": canonical_frame("tickets", []),
        "goals": canonical_frame("goals", goals),
    })
    return con


def snapshots(con, ir: HealthModel, dates=(AS_OF,)) -> dict[tuple[str, str], dict]:
    frame, plan, missing = compute_frame(con, ir, list(dates))
    return {(s["account_id"], s["as_of"]): s for s in snapshot_dicts(score_frame(ir, model_version(ir), plan, frame, missing))}


def wau(snap: dict) -> dict:
    return next(e for e in snap["evidence"] if e["metric"] == "weekly_active_users")


def goal(aid: str, target: float, days_before: float) -> dict:
    return dict(account_id=aid, metric="wau", target=target, ts=T0 - pd.Timedelta(days=days_before))


def test_account_goal_then_accounts_column_then_model_default(engine):  # DuckDB and PostgreSQL
    con = loaded(goals=[goal("A1", 20, 30), goal("A1", 5, 10), goal("X", 1, 10)],  # A1's latest goal: 5
                 users={"A1": 4, "A2": 4, "A3": 4}, seats={"A2": 8}, con=engine)
    snaps = snapshots(con, model({"goal": "wau", "column": "seats", "default": 16}))
    a1, a2, a3 = (wau(snaps[(a, "2026-03-01")]) for a in ("A1", "A2", "A3"))
    assert (a1["value"], a1["target"], a1["target_source"], a1["score"]) == (4, 5, "account goal wau", 80)
    assert (a2["target"], a2["target_source"], a2["score"]) == (8, "accounts.seats", 50)
    assert (a3["target"], a3["target_source"], a3["score"]) == (16, "model default", 25)
    assert "weekly_active_users target 5 (account goal wau)" in snaps[("A1", "2026-03-01")]["reasons"]
    assert "weekly_active_users target 16 (model default)" in snaps[("A3", "2026-03-01")]["reasons"]
    # the goal is not data about usage: rows and freshness come from the usage events only
    assert a1["rows"] == 4 and a1["latest_at"] < "2026-03-01"


def test_a_goal_set_after_the_as_of_date_is_not_used():
    con = loaded(goals=[goal("A1", 8, 20), goal("A1", 2, -1), goal("A1", 1, 0)],  # set on/after as-of
                 users={"A1": 4}, seats={})
    earlier = dt.date(2026, 2, 1)  # before every goal: the default applies
    snaps = snapshots(con, model({"goal": "wau", "default": 16}), dates=(earlier, AS_OF))
    assert (wau(snaps[("A1", "2026-03-01")])["target"], wau(snaps[("A1", "2026-03-01")])["score"]) == (8, 50)
    assert wau(snaps[("A1", "2026-02-01")])["target_source"] == "model default"


def test_without_any_target_the_missing_rule_applies():
    con = loaded(goals=[], users={"A1": 4}, seats={})
    snap = snapshots(con, model({"goal": "wau"}))[("A1", "2026-03-01")]
    assert wau(snap)["score"] is None and "target" not in wau(snap)
    assert "weekly_active_users: no target (no goal, column or default)" in snap["reasons"]
    assert "no data, excluded: weekly_active_users" in snap["reasons"]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(targets=st.lists(st.one_of(st.none(), st.floats(0.5, 50)), min_size=3, max_size=3),
       users=st.lists(st.integers(0, 30), min_size=3, max_size=3), default=st.one_of(st.none(), st.floats(1, 40)))
def test_evidence_points_add_up_to_the_score_with_targets(targets, users, default):
    aids = ["A1", "A2", "A3"]
    con = loaded(goals=[goal(a, t, 5) for a, t in zip(aids, targets) if t is not None],
                 users=dict(zip(aids, users)), seats={})
    target = {"goal": "wau", **({"default": default} if default else {})}
    for snap in snapshots(con, model(target)).values():
        if snap["score"] is not None:
            assert sum(e["points"] or 0 for e in snap["evidence"]) == pytest.approx(snap["score"], abs=0.01)
        e = wau(snap)
        if e["score"] is not None:
            assert e["score"] == pytest.approx(min(e["value"] / e["target"], 1) * 100, abs=0.01)


def test_target_validation_names_the_key_path(tmp_path):
    bad = {
        "name": "m", "defaults": {"missing": "exclude"},
        "components": [{"name": "usage", "weight": 1, "metrics": [
            {"name": "wau", "source": "usage_events", "measure": "distinct_count", "column": "user_id", "window": "7d",
             "target": {"goal": "wau", "column": "segment"}, "transform": {"kind": "linear", "low": 0, "high": 1}},
            {"name": "renewal", "measure": "days_until", "per": "renewal_date", "target": {"default": 3},
             "transform": {"kind": "linear", "low": 0, "high": 1}},
        ]}],
    }

    def errors(data) -> str:
        p = tmp_path / "model.yaml"
        p.write_text(yaml.safe_dump(data, sort_keys=False))
        with pytest.raises(UserError) as exc:
            load_health_model(p)
        return str(exc.value)

    msg = errors(bad)
    assert "components[0].metrics[0].target.column" in msg and "accounts.segment is not numeric" in msg
    assert "components[0].metrics[1].target" in msg and "measure days_until" in msg
    bad["components"][0]["metrics"] = [{**bad["components"][0]["metrics"][0], "target": {"default": 0}},
                                       {**bad["components"][0]["metrics"][0], "name": "x", "target": {}}]
    msg = errors(bad)
    assert "components[0].metrics[0].target.default" in msg and "greater than 0" in msg
    assert "components[0].metrics[1].target" in msg and "at least one of goal" in msg
