"""Backtest, calibrate and what-if through the facade and the CLI, on a 300-account demo portfolio."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
import yaml
from typer.testing import CliRunner

from healthscore.cli.app import app
from healthscore.errors import UserError
from healthscore.project import Project

pytestmark = pytest.mark.slow  # a 300-account demo, backtests and calibrations

END = dt.date(2026, 11, 1)
FROM, TO = dt.date(2025, 11, 1), dt.date(2026, 8, 1)


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    from healthscore.scaffold import build_demo

    d = tmp_path_factory.mktemp("demo") / "ws"
    build_demo(d, accounts=300, seed=7, end=END)
    return d


def test_backtest_reports_every_figure_and_counts_unscored(ws):
    with Project(ws) as p:
        r = p.backtest(FROM, TO, 30, n_boot=50)
    assert sum(r["statuses"].values()) == r["rows"]
    assert r["not_scored"]["paused"] > 0  # reported, not dropped
    assert r["labelled"] + r["censored"] == r["statuses"]["scored"]
    assert 0.6 < r["roc_auc"]["value"] <= 1
    for m in (r["roc_auc"], r["pr_auc"], r["lowest_decile"]["lift"], r["probability"]["brier"],
              r["tiers"]["red"]["churn_rate"], r["lead_time"]["share_flagged"]):
        assert m["low"] <= m["value"] <= m["high"]
    shares = sum(r["tiers"][t]["share"]["value"] for t in ("red", "yellow", "green"))
    assert shares == pytest.approx(1.0, abs=1e-3)
    assert r["tiers"]["red"]["churn_rate"]["value"] > r["tiers"]["green"]["churn_rate"]["value"]


def test_late_as_of_dates_are_censored_not_healthy(ws):
    with Project(ws) as p:
        r = p.backtest(dt.date(2026, 9, 1), dt.date(2026, 10, 1), 30, n_boot=10)
    assert r["censored"] > 0
    assert r["labelled"] < r["statuses"]["scored"]


def test_backtest_cannot_see_rows_at_or_after_its_as_of_date(ws, tmp_path):
    """Rows added at and after the last as-of date, terrible enough to flip scores, change nothing."""
    import shutil

    copy = tmp_path / "ws"
    shutil.copytree(ws, copy)
    with Project(copy) as p:
        before = p.backtest(FROM, TO, 30, n_boot=20)
        later = dt.date(2026, 9, 1)
        scores_before = p.score(later, store=False).frames.snapshots.set_index("account_id")["score"]
        p.con.raw_sql(f"""
            INSERT INTO tickets BY NAME
            SELECT 'LEAK-' || account_id || '-' || k AS ticket_id, account_id,
                   TIMESTAMP '{TO}' + k * INTERVAL 2 DAY AS opened_at,
                   TIMESTAMP '{TO}' + k * INTERVAL 2 DAY AS closed_at,
                   'high' AS priority, 'closed' AS status, TRUE AS escalated, TRUE AS reopened,
                   1.0 AS csat, 1.0 AS ces, FALSE AS sla_met
            FROM accounts, range(0, 5) r(k)""")
        after = p.backtest(FROM, TO, 30, n_boot=20)
        scores_after = p.score(later, store=False).frames.snapshots.set_index("account_id")["score"]
    # the added rows do flip scores where they are visible ...
    changed = (scores_before - scores_after).dropna()
    assert (changed > 5).mean() > 0.5
    # ... but not in the backtest, whose last as-of date is the first instant of the added rows
    for key in ("roc_auc", "pr_auc", "lowest_decile", "tiers", "statuses", "probability", "lead_time",
                "false_positives", "missed_risks", "score_bands"):
        assert after[key] == before[key], key


def test_html_report_is_self_contained(ws, tmp_path):
    out = tmp_path / "report.html"
    res = CliRunner().invoke(app, ["backtest", "-w", str(ws), "--from", str(FROM), "--to", str(TO),
                                   "--bootstrap", "20", "--html", str(out)])
    assert res.exit_code == 0, res.output
    text = out.read_text()
    assert "ROC AUC" in res.output
    assert text.count("<svg") >= 5
    assert not re.search(r"https?://", text)
    assert not re.search(r"""(src|href)\s*=\s*["'](?!#|data:)""", text)


def test_backtest_json_and_user_errors(ws, tmp_path):
    runner = CliRunner()
    res = runner.invoke(app, ["backtest", "-w", str(ws), "--from", str(FROM), "--to", str(TO), "--bootstrap", "10",
                              "--json"])
    assert res.exit_code == 0
    data = json.loads(res.output)
    assert {"roc_auc", "pr_auc", "lowest_decile", "probability", "tiers", "lead_time", "metric_study"} <= set(data)
    with pytest.raises(UserError, match="not a window"):
        with Project(ws) as p:
            p.backtest(FROM, TO, 30, horizon="forever")
    with pytest.raises(UserError, match="no such file"):
        with Project(ws) as p:
            p.backtest(FROM, TO, 30, model_path=tmp_path / "nope.yaml")


def test_backtest_with_another_model_file_leaves_the_workspace_model_alone(ws, tmp_path):
    data = yaml.safe_load((ws / "models" / "health.yaml").read_text())
    data["components"] = [c for c in data["components"] if c["name"] != "support"]
    data["segments"] = []
    data["rules"] = [r for r in data.get("rules", []) if all(
        w["metric"] not in ("csat_90d", "nps", "escalations_90d") for w in r["when"])]
    data.pop("workflow", None)  # its alerts and playbooks name support metrics
    other = tmp_path / "other.yaml"
    other.write_text(yaml.safe_dump(data))
    with Project(ws) as p:
        own = p.model.version
        r = p.backtest(FROM, TO, 60, model_path=other, n_boot=10)
        assert p.model.version == own
    assert r["model"]["version"] != own


def test_no_outcomes_table_is_a_clear_error(ws, tmp_path):
    import shutil

    copy = tmp_path / "ws"
    shutil.copytree(ws, copy)
    with Project(copy) as p:
        p.con.raw_sql("DROP TABLE outcomes")
        with pytest.raises(UserError, match="no outcomes table"):
            p.backtest(FROM, TO, 30)


def test_calibrate_compares_held_out_and_refuses_thin_segments(ws, tmp_path):
    out = tmp_path / "proposed.yaml"
    with Project(ws) as p:
        r = p.calibrate(out=out, n_boot=20)
        with pytest.raises(UserError, match="active model"):
            p.calibrate(out=ws / "models" / "health.yaml")
    shares = [w["proposed_share"] for w in r["weights"]]
    assert min(shares) >= 0 and sum(shares) == pytest.approx(1.0, abs=1e-3)
    # a metric the guard flags (read from today's accounts table: as_of_source current) gets no weight; the timing
    # metric renewal_distance is either refused so (no subscription history) or keeps its hand share (<= 25%)
    refused = {w["metric"] for w in r["weights"] if w["status"] == "refused_leak"}
    assert refused == set(r["refused_leaks"]) == {lk["metric"] for lk in r["leaks"]["leaks"]}
    assert all(w["proposed_share"] == 0 for w in r["weights"] if w["metric"] in refused)
    current = {lk["metric"] for lk in r["leaks"]["leaks"] if lk["as_of_source"] == "current"}
    assert current <= refused
    rd = next(w for w in r["weights"] if w["metric"] == "renewal_distance")
    assert (rd["status"], rd["proposed_share"]) == ("refused_leak", 0) if "renewal_distance" in current else \
        (rd["status"] == "timing" and rd["proposed_share"] == pytest.approx(min(rd["current_share"], 0.25), abs=1e-3))
    thin = [s for s in r["segments"] if not s["fitted"]]
    assert thin and "enterprise" in thin[0]["message"] and "need" in thin[0]["message"]
    pooled = r["comparison"]["pooled"]
    assert set(pooled) == {"current", "calibrated", "logistic_regression", "gradient_boosting"}
    assert pooled["calibrated"]["roc_auc"]["value"] > 0.6
    assert r["comparison"]["kind"] == "time"
    assert r["impact"]["accounts_compared"] > 0 and r["impact"]["portfolio"]["accounts_compared"] > 0
    assert r["metric_study"]["metrics"][0]["cohorts"]
    # written only when better than the current model beyond the interval; the report says which it was
    assert out.exists() == r["accepted"]
    assert r["decision"] in out.with_suffix(".report.md").read_text()
    if r["accepted"]:
        from healthscore.model.load import load_health_model

        assert load_health_model(out).ir.tiers.green == r["tiers"]["proposed"]["green"]


def test_calibrate_with_too_few_events_names_the_counts(ws, tmp_path):
    import shutil

    copy = tmp_path / "ws"
    shutil.copytree(ws, copy)
    model = copy / "models" / "health.yaml"
    data = yaml.safe_load(model.read_text())
    data["calibration"] = {"min_events": 100000}
    model.write_text(yaml.safe_dump(data))
    with Project(copy) as p:
        with pytest.raises(UserError, match=r"bad outcome\(s\) in \d+ labelled .* at least 100000"):
            p.calibrate()


def test_whatif_moves_the_score_and_names_the_evidence(ws):
    with Project(ws) as p:
        live = p.score(END, store=False).frames.snapshots
        acc = live[(live["status"] == "scored") & (live["score"] > 60)]["account_id"].iloc[0]
        r = p.whatif(acc, sets=["csat_90d=1"], changes=["login_frequency=-90%"], as_of=END, n_boot=20)
        with pytest.raises(UserError, match="no metric 'nope'"):
            p.whatif(acc, sets=["nope=1"], as_of=END)
    assert r["after"]["score"] < r["before"]["score"]
    assert {e["metric"] for e in r["evidence_moved"]} >= {"csat_90d", "login_frequency"}
    assert r["delta"] == pytest.approx(sum(e["points_delta"] for e in r["evidence_moved"]), abs=0.05)
    with Project(ws) as p:
        fitted = p.whatif(acc, sets=["csat_90d=1"], as_of=END, n_boot=20, fit_from=dt.date(2025, 12, 1),
                          fit_to=dt.date(2026, 6, 1), fit_every=60)
    assert (fitted["probability"]["from"], fitted["probability"]["to"]) == ("2025-12-01", "2026-05-30")
    assert fitted["probability"]["fitted_on"] < r["probability"]["fitted_on"]  # fewer dates, fewer snapshots
    assert "brier_skill" in fitted["probability"]
    prob = r["probability"]
    assert prob["available"]
    assert prob["after"]["value"] > prob["before"]["value"]
    assert prob["after"]["low"] <= prob["after"]["value"] <= prob["after"]["high"]
