"""Running the health program (docs/program.md): pipeline gates and drift, model lint, readiness and the
pilot, the starter library, hierarchies, interventions and the plays report; through Project and the CLI."""

from __future__ import annotations

import csv
import datetime as dt
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from healthscore.cli.app import app
from healthscore.program.drift import PORTFOLIO_ACCOUNT, psi
from healthscore.program.hierarchy import rollup
from healthscore.project import Project
from healthscore.scaffold import EXAMPLES_DIR
from tests.fixtures import demo_workspace

pytestmark = pytest.mark.slow  # a 300-account demo after four weekly runs

END = dt.date(2026, 11, 2)
WEEKS = [END - dt.timedelta(days=7 * k) for k in (4, 3, 2, 1)]
STARTERS = ["saas-seat-usage", "api-platform", "marketplace", "enterprise"]
PIPELINE = {"admin_queue": "data-team",
            "sources": {"usage_events": {"max_portfolio_drop": 0.8, "min_accounts": 50, "window": "7d",
                                         "baseline": "28d"}}}


def cli(*args: str):
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "healthscore", *args], capture_output=True, text=True, timeout=300)


def edit_model(ws: Path, **sections) -> None:
    path = ws / "models" / "health.yaml"
    data = yaml.safe_load(path.read_text())
    data.update(sections)
    path.write_text(yaml.safe_dump(data, sort_keys=False))


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    """A 300-account demo after four weekly runs (the week of END is left for the tests)."""
    ws = demo_workspace(tmp_path_factory, tmp_path_factory.mktemp("program") / "demo", accounts=300, seed=11,
                        end=END + dt.timedelta(days=1))
    with Project(ws) as p:
        for week in WEEKS:
            p.run_weekly(week, notify=False)
    return ws


@pytest.fixture
def workspace(demo, tmp_path) -> Path:
    from tests.fixtures import cli_identities

    dest = tmp_path / "ws"
    shutil.copytree(demo, dest)
    cli_identities(dest, {"dana": "manager"})  # the CLI acts only as a verified user
    return dest


def break_usage_pipeline(p: Project) -> None:
    """The usage export lost about 90% of its rows over the last 9 days, for every account at once."""
    p.con.raw_sql("DELETE FROM usage_events WHERE ts >= TIMESTAMP '2026-10-24'"
                  " AND (hash(account_id || CAST(ts AS VARCHAR)) % 10) <> 0")


# ---- 1. pipeline breaks and drift -------------------------------------------------------------


def test_pipeline_break_pauses_snapshots_and_raises_one_admin_alert(workspace, tmp_path):
    # Without the gate the broken export looks like a churn wave: many owner alerts and tasks.
    plain = tmp_path / "plain"
    shutil.copytree(workspace, plain)
    with Project(plain) as p:
        break_usage_pipeline(p)
        wave = p.run_weekly(END, notify=False)
    # (the triage caps what owners get; the wave shows in the candidates)
    assert wave["alerts"]["fired"] >= 30 and wave["tasks"]["candidates"] >= 30

    edit_model(workspace, pipeline=PIPELINE)
    with Project(workspace) as p:
        break_usage_pipeline(p)
        r = p.run_weekly(END, notify=False)
        alerts = p.alerts(since=END)
        snaps = p.score(END, store=False).snapshots
    admin = [a for a in alerts if a["account_id"] == PORTFOLIO_ACCOUNT]
    assert len(admin) == 1 and admin[0]["queue"] == "data-team" and admin[0]["rule"] == "pipeline_break_usage_events"
    assert "pipeline usage_events: portfolio rows fell" in admin[0]["note"]
    paused = [s for s in snaps if "pipeline_break" in s["flags"]]
    assert len(paused) >= 200 and all(s["status"] in ("paused", "onboarding") for s in paused)
    assert all(s["score"] is None for s in paused if s["status"] == "paused")
    assert any(x.startswith("pipeline usage_events: portfolio rows fell") for x in paused[0]["reasons"])
    # no owner alert for a paused account, a handful at most for the others
    owner_alerts = [a for a in alerts if a["account_id"] != PORTFOLIO_ACCOUNT]
    assert not {a["account_id"] for a in owner_alerts} & {s["account_id"] for s in paused}
    assert r["alerts"]["fired"] < wave["alerts"]["fired"] / 5
    assert r["pipeline"]["paused_accounts"] == len([s for s in paused if s["status"] == "paused"]) or \
        r["pipeline"]["paused_accounts"] >= 200
    assert r["pipeline"]["owner_alerts_suppressed"] > 0

    # the same week again: no second admin alert
    with Project(workspace) as p:
        again = p.run_weekly(END, notify=False)
        assert len([a for a in p.alerts(since=END) if a["account_id"] == PORTFOLIO_ACCOUNT]) == 1
    assert again["pipeline"]["admin_alerts"] == []


def test_intact_pipeline_pauses_nothing(workspace):
    edit_model(workspace, pipeline=PIPELINE)
    with Project(workspace) as p:
        snaps = p.score(END, store=False).snapshots
    assert not [s for s in snaps if "pipeline_break" in s["flags"]]


def test_optional_sections_keep_the_model_version(workspace):
    with Project(workspace) as p:
        before = p.file_model.version
    edit_model(workspace)  # rewritten without any new section
    with Project(workspace) as p:
        assert p.file_model.version == before
    edit_model(workspace, pipeline=PIPELINE)
    with Project(workspace) as p:
        assert p.file_model.version != before


def test_psi_is_zero_for_the_same_distribution_and_large_for_a_shift():
    ref = [float(i % 50) for i in range(1000)]
    assert psi(ref, ref)["psi"] == pytest.approx(0.0, abs=1e-9)
    assert psi(ref, [v + 40 for v in ref])["psi"] > 1.0
    assert psi(["green"] * 80 + ["red"] * 20, ["green"] * 20 + ["red"] * 80)["psi"] > 0.5
    assert psi([], ref) is None


@given(st.lists(st.floats(0, 100), min_size=5, max_size=60), st.lists(st.floats(0, 100), min_size=5, max_size=60))
@settings(max_examples=60, deadline=None)
def test_psi_is_never_negative(a, b):
    assert psi(a, b)["psi"] >= 0


def test_drift_report_flags_shifted_inputs_and_suggests_recalibration(workspace):
    w = ["-w", str(workspace)]
    res = cli("report", "drift", *w, "--as-of", str(END), "--reference-from", "2026-03-01", "--reference-to",
              "2026-07-01", "--json")
    assert res.exit_code == 0, res.stdout
    r = json.loads(res.stdout)
    with Project(workspace) as p:
        assert len(r["metrics"]) == len(p.model.ir.metrics)
    assert r["reference"] == {"from": "2026-03-01", "to": "2026-07-01", "every_days": 30, "dates": 5,
                              "source": "given"}
    assert r["score"]["psi"] is not None
    shifted = [m["metric"] for m in r["metrics"] if m["psi"] is not None and m["psi"] >= r["threshold"]]
    assert sorted(r["shifted_metrics"]) == sorted(shifted)
    assert r["recalibration_suggested"] == bool(shifted or r["score"]["psi"] >= r["threshold"])
    # a broken usage feed shows up as drift of the usage metrics
    with Project(workspace) as p:
        break_usage_pipeline(p)
        broken = p.drift_report(END, dt.date(2026, 3, 1), dt.date(2026, 7, 1))
    usage = {m["metric"]: m["psi"] for m in broken["metrics"] if m["source"] == "usage_events"}
    before = {m["metric"]: m["psi"] for m in r["metrics"] if m["source"] == "usage_events"}
    assert sum(usage.values()) > sum(before.values())
    assert broken["recalibration_suggested"] and "model propose" in broken["next_step"]


def test_drift_reference_must_end_before_the_as_of_date(workspace):
    proc = run("report", "drift", "-w", str(workspace), "--as-of", "2026-06-01", "--reference-from", "2026-03-01",
               "--reference-to", "2026-07-01")
    assert proc.returncode == 2 and "reference period must end before" in proc.stderr
    assert "Traceback" not in proc.stderr


# ---- 2. model lint ----------------------------------------------------------------------------


def test_validate_warns_about_anti_patterns_on_the_demo(workspace):
    edit_model(workspace, calibration={"red_share": 0.01, "yellow_share": 0.25})
    with Project(workspace) as p:  # a stored distribution for the red-share check under this version
        p.score(WEEKS[-1])
    res = cli("validate", "-w", str(workspace), "--json")
    assert res.exit_code == 0
    out = json.loads(res.stdout)
    codes = {w["code"] for w in out["warnings"]}
    assert {"no_backtest", "red_tier_too_wide"} <= codes
    for w in out["warnings"]:
        assert set(w) == {"code", "message", "key"} and w["message"]
    red = next(w for w in out["warnings"] if w["code"] == "red_tier_too_wide")
    assert "configured share 1%" in red["message"]


def test_validate_warns_about_a_noisy_equal_weight_model_without_playbooks(tmp_path):
    ws = tmp_path / "lint"
    assert cli("init", str(ws), "--example", "api-platform").exit_code == 0
    (ws / "data" / "accounts.csv").write_text("account_id\nA1\n")
    model = yaml.safe_load((ws / "models" / "health.yaml").read_text())
    metric = model["components"][0]["metrics"][0]
    model["components"] = [{"name": f"c{i}", "weight": 10, "metrics": [{**metric, "name": f"m{i}", "weight": 1}]}
                           for i in range(8)]
    model["workflow"] = {"alerts": [{"name": "calls_low", "note": "few calls",
                                     "when": [{"metric": "m0", "value": {"lt": 10}}]}]}
    (ws / "models" / "health.yaml").write_text(yaml.safe_dump(model, sort_keys=False))
    proc = run("validate", "-w", str(ws), "--json")
    assert proc.returncode == 0, proc.stderr
    warnings = json.loads(proc.stdout)["warnings"]
    codes = [w["code"] for w in warnings]
    assert {"too_many_components", "equal_weights", "no_trigger_or_playbook", "trigger_not_observable",
            "evidence_not_shown"} <= set(codes)
    # c0 has an alert on its metric: it is not reported as without trigger
    assert [w["key"] for w in warnings if w["code"] == "no_trigger_or_playbook"] == \
        [f"components.{i}" for i in range(1, 8)]
    text = run("validate", "-w", str(ws))
    assert text.returncode == 0 and "warning too_many_components" in text.stdout


def test_a_clean_starter_model_has_no_model_warnings():
    from healthscore.model.load import load_health_model
    from healthscore.program.lint import model_warnings

    for name in STARTERS:
        assert model_warnings(load_health_model(EXAMPLES_DIR / f"{name}.yaml").ir) == [], name


# ---- 3. readiness and the pilot -----------------------------------------------------------------


def test_readiness_items_and_maturity(workspace, tmp_path):
    res = cli("readiness", "-w", str(workspace), "--json")
    assert res.exit_code == 0
    r = json.loads(res.stdout)
    items = {i["item"]: i for i in r["items"]}
    assert list(items) == ["signals", "outcomes", "owners", "reviews", "measurement_plan"]
    assert items["signals"]["ok"] and items["owners"]["ok"] and items["outcomes"]["ok"]
    assert "renewals" in items["outcomes"]["detail"] and items["outcomes"]["by_kind"]["churned"] > 0
    assert not items["measurement_plan"]["ok"] and "pilot:" in items["measurement_plan"]["next"]
    assert not items["reviews"]["ok"]  # nobody decided a task yet
    assert r["maturity"]["level"] == 3 and "model propose" in r["maturity"]["next_step"]
    assert r["ready_for_pilot"] is False
    edit_model(workspace, pilot={"start": str(WEEKS[0]), "duration_days": 60})
    with Project(workspace) as p:
        assert next(i for i in p.readiness()["items"] if i["item"] == "measurement_plan")["ok"]
    # an empty workspace: level 0, and the first step
    empty = tmp_path / "empty"
    assert cli("init", str(empty)).exit_code == 0
    with Project(empty) as p:
        r0 = p.readiness()
    assert r0["maturity"]["level"] == 0 and "healthscore init" in r0["maturity"]["next_step"]


def test_pilot_report_rate_sample_csv_and_html(workspace, tmp_path):
    edit_model(workspace, pilot={"start": str(WEEKS[0]), "duration_days": 60, "threshold": 0.8, "sample": 5})
    with Project(workspace) as p:
        material = [t for t in p.tasks(status="all") if any(x["kind"] == "material_change" for x in t["triggers"])
                    and t["status"] in ("open", "backlog")]
        assert len(material) >= 6
        for t in material[:3]:
            p.review(t["task_id"], "accept", "dana")
        p.review(material[3]["task_id"], "dismiss", "lee", note="known data gap")
        p.intervention_log(material[0]["task_id"], "dana", channel="call", response="positive")
    csv_path, html_path = tmp_path / "sample.csv", tmp_path / "pilot.html"
    res = cli("report", "pilot", "-w", str(workspace), "--sample", "5", "--seed", "3", "--csv", str(csv_path),
              "--html", str(html_path), "--json")
    assert res.exit_code == 0
    r = json.loads(res.stdout)
    explainable = sum(1 for t in material[:3] if t["explainable"])
    assert r["reviewed"] == 4 and r["validated"] == explainable
    assert r["health_score_signal_validation_rate"] == round(explainable / 4, 4)
    assert r["meets_threshold"] == (explainable / 4 >= 0.8)
    rows = r["sample"]["rows"]
    assert len(rows) == 5 and {x["task_id"] for x in rows} <= {t["task_id"] for t in material}
    for x in rows:
        assert x["signals"] and x["oldest_input_days"] is not None and x["later_outcome"]
    with Project(workspace) as p:  # seeded: the same seed gives the same sample
        assert [x["task_id"] for x in p.pilot_report(5, seed=3)["sample"]["rows"]] == [x["task_id"] for x in rows]
    with open(csv_path, newline="") as fh:
        assert [int(x["task_id"]) for x in csv.DictReader(fh)] == [x["task_id"] for x in rows]
    page = html_path.read_text()
    assert "<table>" in page and "<script" not in page and "http" not in page
    acted = next((x for x in rows if x["task_id"] == material[0]["task_id"]), None)
    if acted is not None:
        assert "by call (attempt 1, response positive)" in acted["account_action"]


def test_pilot_report_without_a_pilot_is_a_user_error(workspace):
    proc = run("report", "pilot", "-w", str(workspace))
    assert proc.returncode == 2 and "no pilot section" in proc.stderr and "Traceback" not in proc.stderr


# ---- 4. the starter library -----------------------------------------------------------------------


@pytest.mark.parametrize("name", STARTERS)
def test_starter_models_scaffold_validate_and_score_the_demo(name, demo, tmp_path):
    ws = tmp_path / name
    res = cli("init", str(ws), "--example", name, "--json")
    assert res.exit_code == 0
    assert (ws / "models" / "health.yaml").read_text() == (EXAMPLES_DIR / f"{name}.yaml").read_text()
    copy = tmp_path / "demo"
    shutil.copytree(demo, copy)
    shutil.copyfile(EXAMPLES_DIR / f"{name}.yaml", copy / "models" / "health.yaml")
    assert cli("validate", "-w", str(copy)).exit_code == 0
    with Project(copy) as p:
        snaps = p.score(END, store=False).snapshots
        motions = {c.motion for c in p.model.ir.components}
    scored = [s for s in snaps if s["status"] == "scored"]
    assert len(scored) > 200
    for s in scored:
        assert abs(sum(e["points"] for e in s["evidence"]) - s["score"]) <= 0.01
        assert set(s["sub_scores"]) == motions
        comps = [c for c in s["components"] if c["score"] is not None]
        for motion, sub in s["sub_scores"].items():
            mine = [c["score"] for c in comps if c["motion"] == motion]
            if mine:
                assert min(mine) - 0.01 <= sub <= max(mine) + 0.01
        # the composite is the sub-scores weighted by their components' shares
        total = sum(sum(c["weight"] for c in comps if c["motion"] == m) * v
                    for m, v in s["sub_scores"].items() if v is not None)
        assert total == pytest.approx(s["score"], abs=0.05)


def test_motions_do_not_change_the_score(demo, tmp_path):
    copy = tmp_path / "demo"
    shutil.copytree(demo, copy)
    model = yaml.safe_load((EXAMPLES_DIR / "saas-seat-usage.yaml").read_text())
    (copy / "models" / "health.yaml").write_text(yaml.safe_dump(model))
    with Project(copy) as p:
        with_motion = {s["account_id"]: s for s in p.score(END, store=False).snapshots}
    for c in model["components"]:
        c.pop("motion")
    (copy / "models" / "health.yaml").write_text(yaml.safe_dump(model))
    with Project(copy) as p:
        without = {s["account_id"]: s for s in p.score(END, store=False).snapshots}
    assert all(with_motion[a]["score"] == without[a]["score"] for a in without)
    assert all("sub_scores" not in s for s in without.values())


# ---- 5. account hierarchies --------------------------------------------------------------------------

HIERARCHY_MODEL = {
    "name": "tiny", "defaults": {"missing": "worst"}, "scoring": {"min_coverage": 0.0},
    "history": {"smoothing_days": 0},
    "components": [{"name": "usage", "weight": 1, "metrics": [
        {"name": "logins_30d", "source": "usage_events", "measure": "count", "window": "30d",
         "transform": {"kind": "linear", "low": 0, "high": 10}}]}],
}


def hierarchy_workspace(tmp_path: Path, rollup_method: str) -> Path:
    ws = tmp_path / rollup_method
    assert cli("init", str(ws)).exit_code == 0
    (ws / "data" / "accounts.csv").write_text(
        "account_id,name,arr,created_at,parent_id,owner\n"
        "P1,Parent,,2025-01-01,,dana\nC1,Child one,100,2025-01-01,P1,dana\nC2,Child two,300,2025-01-01,P1,lee\n"
        "C3,Child three,600,2025-01-01,P1,lee\nX1,Alone,50,2025-01-01,,lee\n")
    logins = {"C1": 2, "C2": 5, "C3": 10, "X1": 1}
    lines = ["account_id,ts,event"] + [f"{a},2026-10-{10 + i:02d}T10:00:00,login" for a, n in logins.items()
                                       for i in range(n)]
    (ws / "data" / "usage_events.csv").write_text("\n".join(lines) + "\n")
    cfg = (ws / "healthscore.yaml").read_text().replace("# usage_events: {path: data/usage_events.parquet}",
                                                         "  usage_events: {path: data/usage_events.csv}")
    (ws / "healthscore.yaml").write_text(cfg)
    (ws / "models" / "health.yaml").write_text(yaml.safe_dump({**HIERARCHY_MODEL,
                                                               "hierarchy": {"rollup": rollup_method}}))
    assert run("ingest", "-w", str(ws)).returncode == 0
    return ws


def test_hierarchy_arr_weighted_and_minimum(tmp_path):
    ws = hierarchy_workspace(tmp_path, "arr_weighted")
    res = cli("hierarchy", "-w", str(ws), "--as-of", "2026-11-01", "--json")
    assert res.exit_code == 0
    rows = [json.loads(x) for x in res.stdout.splitlines()]
    assert [r["account_id"] for r in rows] == ["P1"]
    p1 = rows[0]
    # logins 2, 5, 10 -> scores 20, 50, 100; ARR 100, 300, 600
    assert p1["score"] == pytest.approx((20 * 100 + 50 * 300 + 100 * 600) / 1000)
    assert p1["tier"] == "green" and p1["children_scored"] == 3
    assert {e["child"] for e in p1["evidence"]} == {"C1", "C2", "C3"}
    assert sum(e["points"] for e in p1["evidence"]) == pytest.approx(p1["score"], abs=0.01)
    assert "C1, C2, C3" in p1["reasons"][0]
    mn = hierarchy_workspace(tmp_path, "minimum")
    with Project(mn) as p:
        (row,) = p.hierarchy(dt.date(2026, 11, 1))
    assert row["score"] == 20.0 and row["tier"] == "red" and row["rollup"] == "minimum"
    proc = run("hierarchy", "C1", "-w", str(mn))
    assert proc.returncode == 2 and "has no children" in proc.stderr


child = st.fixed_dictionaries({"score": st.floats(0, 100), "arr": st.one_of(st.none(), st.floats(0, 1e7))})


@given(st.lists(child, min_size=1, max_size=12), st.sampled_from(["arr_weighted", "minimum"]))
@settings(max_examples=150, deadline=None)
def test_a_rolled_up_parent_lies_between_its_children(children, method):
    kids = [{"account_id": f"C{i}", **c} for i, c in enumerate(children)]
    r = rollup(kids, method)
    lo, hi = min(c["score"] for c in kids), max(c["score"] for c in kids)
    assert lo - 0.01 <= r["score"] <= hi + 0.01
    assert sum(e["points"] for e in r["evidence"]) == pytest.approx(r["score"], abs=0.01)
    if method == "minimum":  # the score is rounded to cents: at most half a cent away (0.875 -> 0.88)
        assert r["score"] == pytest.approx(lo, abs=0.005 + 1e-9)


# ---- 6. interventions and plays ------------------------------------------------------------------------


def test_interventions_are_logged_and_repeated_silence_drafts_a_switch(workspace):
    w = ["-w", str(workspace)]
    with Project(workspace) as p:
        task = next(t for t in p.tasks(status="all") if t["next_action"]["playbook"])
    out = []
    for _ in range(3):
        res = cli("intervention", "log", str(task["task_id"]), *w, "--channel", "email", "--response", "none",
                  "--by", "dana", "--json")
        assert res.exit_code == 0
        out.append(json.loads(res.stdout))
    assert [o["intervention"]["attempt"] for o in out] == [1, 2, 3]
    assert out[0]["suggestion"] is None and out[1]["suggestion"] is None
    s = out[2]["suggestion"]
    assert s["draft"] is True and "nothing has been sent" in s["notice"]
    assert {o["kind"] for o in s["options"]} == {"channel_switch", "executive_sponsor_outreach"}
    assert out[2]["intervention"]["play"] == task["next_action"]["playbook"]
    # a response resets the count
    res = cli("intervention", "log", str(task["task_id"]), *w, "--channel", "email", "--response", "positive",
              "--by", "dana", "--json")
    assert json.loads(res.stdout)["suggestion"] is None
    with Project(workspace) as p:
        events = p.store.measurement_events("intervention")
        assert len(events) == 4 and events[0]["payload"]["channel"] == "email"
        assert p.audit_verify()["ok"]
        assert [e["action"] for e in p.audit_log()][-4:] == ["intervention.log"] * 4
    proc = run("intervention", "log", str(task["task_id"]), *w, "--response", "maybe")
    assert proc.returncode == 2 and "--response 'maybe'" in proc.stderr


def test_plays_report_compares_with_matched_accounts(workspace):
    with Project(workspace) as p:
        early = [t for t in p.tasks(status="all") if t["as_of"] == str(WEEKS[0]) and t["tier"]]
        early.sort(key=lambda t: (t["tier"] != "yellow", t["task_id"]))  # yellow: the tier with most controls
        assert len(early) >= 3
        p.intervention_log(early[0]["task_id"], "dana", play="adoption_review", channel="call", response="positive")
        one = p.plays_report(horizon_days=30, n_boot=50)["plays"][0]
        hist = [h for h in p.history(early[0]["account_id"]) if h["status"] == "scored"
                and h["model_version"] == p.model.version]
        for t in early[1:3]:
            p.intervention_log(t["task_id"], "dana", play="adoption_review", channel="call", response="positive")
        r = p.plays_report(horizon_days=30, n_boot=50)
    # one treated account: its health change is its last snapshot within 30 days minus the one at the play
    start = next(h["score"] for h in hist if h["as_of"] == str(WEEKS[0]))
    later = [h["score"] for h in hist if WEEKS[0] < dt.date.fromisoformat(h["as_of"]) <= WEEKS[0] + dt.timedelta(30)]
    assert one["matched"] == 1
    assert one["health_change"]["value"] == pytest.approx(later[-1] - start, abs=0.001)
    assert one["health_change"]["low"] == one["health_change"]["high"] == one["health_change"]["value"]
    (play,) = r["plays"]
    assert play["play"] == "adoption_review" and play["accounts"] == 3
    assert play["matched"] + play["unmatched"] == 3 and play["matched"] >= 1
    for key in ("health_change", "effect_vs_matched"):
        m = play[key]
        assert m["low"] <= m["value"] <= m["high"]
    assert 0 <= (r["yellow_recovery"]["rate"] or 0) <= 1
    assert r["transitions"] and {"red_to_yellow", "yellow_to_green"} <= set(r["transitions"][0])
    assert sum(q["yellow_to_green"] + q["red_to_yellow"] for q in r["transitions"]) >= 0
    res = cli("report", "plays", "-w", str(workspace))
    assert res.exit_code == 0 and "adoption_review" in res.stdout


def test_plays_report_after_an_intervention_on_this_weeks_task(workspace):
    # The README tour: the weekly run, one intervention logged on its newest task, then the report. No
    # snapshot follows the play yet (pandas 3 once crashed here on an ambiguous `account_id`).
    with Project(workspace) as p:
        last = max(p.store.snapshot_frame(model_version=p.model.version)["as_of"])
        week = max(END, dt.date.fromisoformat(str(last)[:10]))
        p.run_weekly(week, notify=False)
        task = next(t for t in p.tasks() if t["as_of"] == str(week))
        p.intervention_log(task["task_id"], "dana", play="adoption_review", channel="call", response="none")
    res = cli("report", "plays", "-w", str(workspace), "--json")
    assert res.exit_code == 0
    (play,) = json.loads(res.stdout)["plays"]
    assert play["accounts"] == 1 and play["matched"] + play["unmatched"] == 1


# ---- pipeline gates against the weekday and holiday calendar -------------------------------------------


def _weekly_usage(con, until: dt.date, *, accounts: int = 60, weekday_rows: int = 10, weekend_rows: int = 1,
                  quiet: tuple[dt.date, dt.date] | None = None) -> None:
    """Usage rows for 60 days before `until`: busy weekdays, quiet weekends, and (optionally) a
    near-silent holiday stretch [first, last]."""
    import pandas as pd

    rows = []
    for k in range(1, 61):
        day = until - dt.timedelta(days=k)
        n = weekend_rows if day.weekday() >= 5 else weekday_rows
        if quiet and quiet[0] <= day <= quiet[1]:
            n = 0
        for a in range(accounts):
            for i in range(n):
                rows.append({"account_id": f"A{a:03d}", "ts": pd.Timestamp(day) + pd.Timedelta(hours=9, minutes=i)})
    con.create_table("usage_events", pd.DataFrame(rows), overwrite=True)


def _gate(con, as_of: dt.date, holidays=()) -> list:
    import pandas as pd

    from healthscore.model.ir import PipelineGate
    from healthscore.program.drift import pipeline_column

    frame = pd.DataFrame({"account_id": ["A000", "A001"], "as_of": [pd.Timestamp(as_of)] * 2})
    gate = PipelineGate(max_portfolio_drop=0.8, min_accounts=50, window="1d", baseline="28d")
    return [r for r in pipeline_column(con, "usage_events", gate, frame, holidays=holidays).tolist() if r]


def test_pipeline_gate_is_quiet_on_an_ordinary_monday():
    # A Monday run looks at Sunday: a tenth of a weekday's rows, as on every Sunday before it.
    import ibis

    con = ibis.duckdb.connect()
    monday = dt.date(2026, 11, 2)
    _weekly_usage(con, monday)
    assert _gate(con, monday) == []
    # a real break still pauses: Tuesday's run after a Monday with almost no rows
    tuesday = monday + dt.timedelta(days=1)
    _weekly_usage(con, tuesday, quiet=(monday, monday))
    (reason,) = set(_gate(con, tuesday))
    assert reason.startswith("pipeline usage_events: portfolio rows fell 100%") and "same weekdays" in reason


def test_pipeline_gate_is_quiet_over_a_holiday_weekend():
    import ibis

    from healthscore.model.ir import Calendar

    con = ibis.duckdb.connect()
    tuesday = dt.date(2026, 12, 29)
    christmas = (dt.date(2026, 12, 24), dt.date(2026, 12, 28))  # Thursday to Monday: offices closed
    _weekly_usage(con, tuesday, quiet=christmas)
    assert _gate(con, tuesday)  # without the calendar the silent Monday looks like a break
    holidays = Calendar.model_validate({"holidays": [{"name": "christmas", "from": christmas[0],
                                                      "to": christmas[1]}]}).windows()
    assert _gate(con, tuesday, holidays=tuple(holidays)) == []
