"""Stop gates on the shipped seed-standard model: freshness, conflicts, onboarding, the worked example."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import ibis
import pandas as pd
import pytest

from healthscore.engine.compile import compute_frame
from healthscore.explain.evidence import snapshot_dicts
from healthscore.model.load import load_health_model, model_version
from healthscore.scoring.score import score_frame
from tests.fixtures import canonical_frame, load_into

SEED = load_health_model(Path(__file__).resolve().parents[2] / "examples" / "seed-standard.yaml")
AS_OF = dt.date(2026, 6, 1)
T0 = pd.Timestamp(AS_OF)


def day(n: float) -> pd.Timestamp:
    """n days before the as-of date."""
    return T0 - pd.Timedelta(days=n)


def account(aid: str, **kw) -> dict:
    row = dict(account_id=aid, name=aid, segment="mid-market", owner="dana", arr=50000.0, seats=10,
               created_at=day(400), renewal_date=T0 + pd.Timedelta(days=200))
    return {**row, **kw}


def busy_usage(aid: str, logins: int = 40, until: float = 0.5) -> list[dict]:
    """Daily logins and feature use over 60 days, steady, the last one `until` days before as-of."""
    rows = []
    for i in range(logins):
        t = day(until + i * 59 / logins).floor("s")
        for k, event in enumerate(["login", "report_view", "export", "dashboard_edit"]):
            rows.append(dict(account_id=aid, ts=t, event=event, user_id=f"{aid}-u{i % 8}", quantity=1.0,
                             event_id=f"{aid}-{i}-{k}"))
    return rows


def portfolio(*, usage_until: float = 0.5) -> dict[str, pd.DataFrame]:
    accounts = [account("W1"), account("OK1"), account("NEW", created_at=day(5))]
    usage = busy_usage("W1", until=usage_until) + busy_usage("OK1", until=usage_until)
    milestones = [
        dict(account_id="W1", name="SSO rollout", due_at=day(40), completed_at=None),
        dict(account_id="W1", name="Exec sponsor QBR", due_at=day(20), completed_at=None),
        dict(account_id="OK1", name="SSO rollout", due_at=day(40), completed_at=day(45)),
    ]
    interactions = [
        dict(account_id="W1", ts=day(60), kind="email", direction="inbound"),
        dict(account_id="W1", ts=day(3), kind="email", direction="outbound"),
        dict(account_id="W1", ts=day(50), kind="qbr", direction="outbound"),
        dict(account_id="OK1", ts=day(4), kind="email", direction="inbound"),
        dict(account_id="OK1", ts=day(50), kind="qbr", direction="outbound"),
    ]
    assessments = [dict(account_id=a, ts=day(10), sentiment="green", author="dana", note="fine") for a in ("W1", "OK1")]
    tickets = [dict(ticket_id=f"T{a}", account_id=a, opened_at=day(20), closed_at=day(19), priority="low",
                    status="closed", escalated=False, reopened=False, csat=5.0, ces=7.0, sla_met=True)
               for a in ("W1", "OK1")]
    contacts = [dict(contact_id=f"C{a}{r}", account_id=a, role=r, started_at=day(300), departed_at=None,
                     last_engaged_at=None) for a in ("W1", "OK1") for r in ("champion", "sponsor")]
    rows = dict(accounts=accounts, usage_events=usage, milestones=milestones, interactions=interactions,
                assessments=assessments, tickets=tickets, contacts=contacts)
    return {name: canonical_frame(name, r) for name, r in rows.items()}


def score(frames: dict[str, pd.DataFrame], model=SEED) -> dict[str, dict]:
    con = ibis.duckdb.connect()
    load_into(con, frames)
    frame, plan, missing = compute_frame(con, model.ir, [AS_OF])
    out = {s["account_id"]: s for s in snapshot_dicts(score_frame(model.ir, model.version, plan, frame, missing))}
    con.disconnect()
    return out


def test_worked_example_strong_usage_missed_milestones_silent_customer_is_not_green():
    snaps = score(portfolio())
    w1 = snaps["W1"]
    login = next(e for e in w1["evidence"] if e["metric"] == "login_frequency")
    assert login["score"] >= 70  # strong login frequency
    assert w1["tier"] != "green" and w1["status"] == "paused"
    assert {"relationship_risk", "outcome_risk"} <= set(w1["flags"])
    assert w1["review_required"] is True
    assert any(r.startswith("conflict strong_usage_silent_customer") and "overdue_milestones value 2" in r
               and "responsiveness value 60" in r for r in w1["reasons"])
    # The same account replying and on plan is scored, unflagged.
    ok = snaps["OK1"]
    assert ok["status"] == "scored" and ok["flags"] == [] and ok["review_required"] is False


def test_stale_source_pauses_every_snapshot_and_names_the_source():
    snaps = score(portfolio(usage_until=5))
    for aid in ("W1", "OK1"):
        assert snaps[aid]["status"] == "paused" and snaps[aid]["score"] is None and snaps[aid]["tier"] is None
        assert "usage_events stale: newest row 5 days old (limit 3d)" in snaps[aid]["reasons"]


def pausing_at(share: float):
    """The seed model with scoring.pause_min_weight set to `share`."""
    ir = SEED.ir.model_copy(update={"scoring": SEED.ir.scoring.model_copy(update={"pause_min_weight": share})})
    return dataclasses.replace(SEED, ir=ir, version=model_version(ir))


def test_stale_metric_pauses_only_that_account():
    frames = portfolio()
    a = frames["assessments"]
    a.loc[a["account_id"] == "OK1", "ts"] = day(200)
    snaps = score(frames, pausing_at(0.0))
    assert snaps["OK1"]["status"] == "paused"
    assert any(r.startswith("csm_assessment stale: newest row 200 days old") for r in snaps["OK1"]["reasons"])


def test_a_stale_input_below_the_pause_weight_is_a_note_not_a_pause():
    # The CSM assessment carries under 2% of the seed model's weight: its age is noted, the account scored.
    frames = portfolio()
    a = frames["assessments"]
    a.loc[a["account_id"] == "OK1", "ts"] = day(200)
    ok = score(frames)["OK1"]
    assert ok["status"] == "scored" and ok["score"] is not None and ok["tier"] is not None
    note = next(r for r in ok["reasons"] if r.startswith("csm_assessment stale: newest row 200 days old"))
    assert "below the 10% that pauses" in note


def test_conflict_csm_green_while_usage_collapsed_pauses_with_both_sides():
    frames = portfolio()
    u = frames["usage_events"]
    # OK1 used the product in the prior 30 days but barely in the last 30.
    recent = (u["account_id"] == "OK1") & (u["ts"] >= day(30)) & (u["ts"] < day(1))
    frames["usage_events"] = u[~recent].reset_index(drop=True)
    strict = score(frames, pausing_at(0.0))["OK1"]
    assert strict["status"] == "paused" and "conflicting_signals" in strict["flags"]
    reason = next(r for r in strict["reasons"] if r.startswith("conflict csm_green_usage_collapsed"))
    assert "csm_assessment value green" in reason and "usage_trend value -0.9" in reason
    # By default the two inputs (about 7% of the weight) do not pause: the usage collapse stays in the
    # score and tier, flagged and routed to review.
    ok = score(frames)["OK1"]
    assert ok["status"] == "scored" and ok["tier"] is not None
    assert "conflicting_signals" in ok["flags"] and ok["review_required"] is True
    assert any(r.startswith("conflict csm_green_usage_collapsed") and "scored" in r for r in ok["reasons"])


def test_the_primary_driver_is_never_a_metric_without_data():
    # OK1 has no tickets: CSAT (10% of the weight) is imputed at a neutral 50 and would cost the most
    # points, but it is no finding: the driver must be a metric with data.
    frames = portfolio()
    frames["tickets"] = frames["tickets"][frames["tickets"]["account_id"] != "OK1"].reset_index(drop=True)
    snaps = score(frames)
    assert snaps["OK1"]["status"] == "scored"
    csat = next(e for e in snaps["OK1"]["evidence"] if e["metric"] == "csat_90d")
    assert csat["value"] is None and csat["score"] == 50
    for s in snaps.values():
        if s["primary_driver"] is None:
            continue
        ev = next(e for e in s["evidence"] if e["metric"] == s["primary_driver"])
        assert ev["value"] is not None, (s["account_id"], s["primary_driver"])


def test_new_accounts_are_onboarding_with_a_neutral_score():
    new = score(portfolio())["NEW"]
    assert new["status"] == "onboarding" and new["score"] == pytest.approx(50.0) and new["tier"] is None
    assert new["confidence"] < 0.1  # confidence grows with the account's age
