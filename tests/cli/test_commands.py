"""Every command area in-process, with the output a user reads: the workflow, program reports, outcomes,
governance, users and tokens; how a user error is shown; and what `--help` and `--version` import."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from healthscore.authz import os_login
from healthscore.errors import EngineBusy, InvalidInput
from tests.cli.runner import assert_user_error, invoke, ok
from tests.fixtures import cli_identities

AS_OF = "2025-06-01"


@pytest.fixture(scope="module")
def reviewed(workspace) -> Path:
    """The small workspace with weekly history and a weekly review (tasks for dana's A1 and lee's A2)."""
    w = ["-w", str(workspace)]
    ok("backfill", *w, "--from", "2025-03-01", "--to", AS_OF, "--every", "1w")
    ok("run", "weekly", *w, "--as-of", AS_OF, "--no-notify")
    return workspace


@pytest.fixture
def ws(reviewed, tmp_path) -> Path:
    """A copy a test may change."""
    return Path(shutil.copytree(reviewed, tmp_path / "ws"))


def test_a_new_workspace_is_created_checked_and_loaded_with_its_quarantine(tmp_path):
    ws = tmp_path / "new"
    created = json.loads(ok("init", str(ws), "--json").stdout)
    assert created["workspace"] == str(ws.resolve()) and str(ws / "healthscore.yaml") in created["created"]
    (ws / "data" / "accounts.csv").write_text("account_id,name\n,No id\n,No id either\nA1,Acme\n")
    (ws / "data" / "good.csv").write_text("account_id,name\nA1,Acme\n")
    config = (ws / "healthscore.yaml").read_text()
    (ws / "healthscore.yaml").write_text(config.replace("data/accounts.csv", "data/good.csv", 1))
    assert "OK model seed-standard" in ok("validate", "-w", str(ws)).stdout
    (ws / "healthscore.yaml").write_text(config)
    # validate runs the rows through ingestion's checks: what ingest would reject (exit 1 below), it refuses
    checked = invoke("validate", "-w", str(ws))
    assert checked.returncode == 2 and "ingest would fail: accounts: 2 of 3 row(s) checked" in checked.stderr
    proc = invoke("ingest", "-w", str(ws))
    assert proc.returncode == 1 and "Ingested" in proc.stdout and "2 row(s) quarantined" in proc.stdout
    assert "error: accounts: 2 of 3 row(s) quarantined (66.7%), more than quarantine_max_share" in proc.stderr
    report = json.loads(invoke("ingest", "-w", str(ws), "--json").stdout)
    assert report["tables"][0]["over_quarantine_max_share"] and len(report["tables"][0]["quarantine"]) == 2


def test_the_weekly_review_from_tasks_to_decisions(ws):
    w = ["-w", str(ws)]
    out = ok("run", "weekly", *w, "--as-of", AS_OF, "--no-notify").stdout
    assert "Weekly review 2025-W22 (as of 2025-06-01): 3 accounts scored" in out and "review tasks:" in out
    tasks = [json.loads(line) for line in ok("tasks", *w, "--json").stdout.splitlines()]
    by_account = {t["account_id"]: t["task_id"] for t in tasks}
    assert set(by_account) == {"A1", "A2"}
    assert "2 open review tasks, by rank" in ok("tasks", *w).stdout
    shown = ok("tasks", *w, "--show", str(by_account["A1"])).stdout
    assert "Review task" in shown and "Drafted next action" in shown and "Decide: healthscore review" in shown
    assert "alerts" in ok("alerts", *w).stdout and "champion_departed" in ok("alerts", *w).stdout

    cli_identities(ws, {"dana": "csm", "lee": "csm"})
    a1, a2 = by_account["A1"], by_account["A2"]
    assert_user_error(invoke("review", str(a1), *w, "--by", "dana"), "give exactly one of --accept")
    assert_user_error(invoke("review", str(a2), *w, "--accept", "--by", "dana"), "acts only on own accounts")
    assert f"Task {a1} accepted by dana" in ok("review", str(a1), *w, "--accept", "--by", "dana").stdout
    assert f"Follow-up of task {a1} logged by dana." in ok("followup", str(a1), *w, "--note", "called",
                                                            "--by", "dana").stdout
    logged = ok("intervention", "log", str(a2), *w, "--channel", "call", "--by", "lee").stdout
    assert f"on task {a2} (A2): attempt 1, response none" in logged
    assert f"task {a2} A2:" in ok("intervention", "list", *w).stdout
    assert "Decided: accepted by dana" in ok("tasks", *w, "--show", str(a1)).stdout


def test_program_reports(reviewed):
    w = ["-w", str(reviewed)]
    assert "Maturity level" in ok("readiness", *w).stdout
    assert "items" in json.loads(ok("readiness", *w, "--json").stdout)
    assert "Material changes reviewed:" in ok("report", "measurement", *w).stdout
    drift = ok("report", "drift", *w, "--as-of", AS_OF).stdout
    assert "Drift at 2025-06-01 against" in drift and "  score: PSI" in drift
    assert "interventions; matched on" in ok("report", "plays", *w).stdout
    assert ok("hierarchy", *w, "--json").stdout == ""  # no parent accounts in the small portfolio
    assert_user_error(invoke("report", "pilot", *w), "no pilot section")
    assert_user_error(invoke("report", "plays", *w, "--horizon", "soon"), "--horizon 'soon' is not a duration")


def test_outcomes_backtest_and_whatif(reviewed):
    w = ["-w", str(reviewed)]
    out = ok("whatif", "A1", *w, "--as-of", AS_OF, "--change", "csat_90d=-20%").stdout
    assert "A1 as of 2025-06-01:" in out and "csat_90d" in out
    r = json.loads(ok("whatif", "A1", *w, "--as-of", AS_OF, "--set", "csat_90d=1", "--json").stdout)
    assert r["account_id"] == "A1" and {"before", "after", "evidence_moved"} <= set(r)
    out = ok("backtest", *w, "--from", "2025-03-01", "--to", "2025-05-01", "--bootstrap", "10").stdout
    assert "Backtest of seed-standard" in out and "as-of dates 2025-03-01..2025-05-01" in out
    assert "_roc" not in json.loads(ok("backtest", *w, "--from", "2025-03-01", "--to", "2025-05-01",
                                       "--bootstrap", "10", "--json").stdout)


def test_users_tokens_models_and_the_audit_log(ws):
    w = ["-w", str(ws)]
    added = ok("user", "add", "root", "--role", "admin", *w).stdout
    assert f"Added root (admin); no password: no web login; acts as OS user {os_login()} on the command line." in added
    assert "root" in ok("user", "list", *w).stdout
    token = json.loads(ok("token", "create", "hook", *w, "--user", "root", "--scope", "read", "--json").stdout)
    assert token["secret"] and token["scopes"] == ["read"]
    assert "Secret, shown once" in ok("token", "create", "other", *w, "--user", "root").stdout
    assert "hook  user root  read  last used -" in ok("token", "list", *w).stdout
    assert f"Token {token['token_id']} revoked." in ok("token", "revoke", token["token_id"], *w).stdout
    assert "Model versions" in ok("model", "list", *w).stdout
    proposed = ok("model", "propose", *w, "--note", "same model", "--no-backtest").stdout
    assert "Proposed" in proposed and "healthscore model approve" in proposed
    version = json.loads(ok("model", "list", *w, "--json").stdout.splitlines()[0])["version"]
    assert version in ok("model", "show", version, *w).stdout
    assert "audit log intact" in ok("audit", "verify", *w).stdout
    entries = [json.loads(line) for line in ok("audit", "log", *w, "--json").stdout.splitlines()]
    assert "user.add" in {e["action"] for e in entries}


def test_serve_and_stream_refuse_a_directory_that_is_no_workspace(tmp_path):
    assert_user_error(invoke("serve", "-w", str(tmp_path)), "no workspace here")
    assert_user_error(invoke("stream", "-w", str(tmp_path)), "no workspace here")


def test_a_user_error_names_its_flag_and_a_busy_engine_says_so(workspace, monkeypatch):
    from healthscore.project import Project

    def bad_status(*args, **kwargs):
        raise InvalidInput("'later' is not a task status; use open, backlog, accepted or all", field="status")

    def busy(*args, **kwargs):
        raise EngineBusy("the engine file is in use by another process; try again when it is done")

    monkeypatch.setattr(Project, "tasks", bad_status)
    monkeypatch.setattr(Project, "validate", busy)
    assert_user_error(invoke("tasks", "-w", str(workspace)),
                      "error: --status: 'later' is not a task status; use open, backlog, accepted or all")
    proc = invoke("validate", "-w", str(workspace))
    assert proc.returncode == 2 and proc.stdout == "" and "Traceback" not in proc.stderr
    assert proc.stderr == "error: the engine file is in use by another process; try again when it is done\n"


@pytest.mark.parametrize("flag", ["--help", "--version"])
def test_help_and_version_import_no_heavy_library(flag):
    """`healthscore --help` stays instant: the libraries a command needs are imported by that command."""
    heavy = ("pandas", "numpy", "ibis", "duckdb", "sqlalchemy", "sklearn", "scipy", "matplotlib", "fastapi",
             "uvicorn", "pyarrow", "healthscore.project")
    code = (f"import sys\nfrom healthscore.cli.app import main\ntry:\n    main([{flag!r}])\nexcept SystemExit:\n"
            f"    pass\nprint([m for m in {heavy!r} if m in sys.modules], file=sys.stderr)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and proc.stderr.strip().splitlines()[-1] == "[]", proc.stderr


def _imported_by(args: list[str], modules: tuple[str, ...]) -> list[str]:
    """Which of `modules` a command run as the console script runs it (its own process) has imported."""
    code = ("import atexit, sys\n"
            f"atexit.register(lambda: print([m for m in {modules!r} if m in sys.modules], file=sys.stderr))\n"
            f"sys.argv = ['healthscore', *{args!r}]\n"
            "from healthscore.cli.app import main\nmain()")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0 and proc.stdout, proc.stderr
    return json.loads(proc.stderr.strip().splitlines()[-1].replace("'", '"'))


@pytest.mark.parametrize("args", [["explain", "A1"], ["history", "A1"], ["tasks"], ["changes", "--since", "2025-05-01"],
                                  ["tasks", "--json"], ["changes", "--since", "2025-05-01", "--json"]])
def test_read_commands_import_no_frame_library(reviewed, args):
    """A read command's few rows do not need pandas or pyarrow (issue 18: 0.4 s of its CPU each time)."""
    assert _imported_by([*args, "-w", str(reviewed)], ("pandas", "pyarrow", "numpy", "ibis", "alembic")) == []


def test_history_without_a_live_snapshot_loads_no_model(reviewed):
    assert _imported_by(["history", "A1", "-w", str(reviewed)], ("healthscore.model.ir",)) == []


def test_only_the_console_process_freezes_its_objects_for_a_cheap_exit():
    """`main()` (the console script, `python -m healthscore`) freezes what is alive as the process ends; a
    caller that passes the arguments (tests, an embedding program) keeps its garbage collection as it was."""
    code = ("import atexit, gc, sys\n"
            "atexit.register(lambda: print(gc.get_freeze_count() > 0, file=sys.stderr))\n"
            "sys.argv = ['healthscore', '--version']\n"
            "from healthscore.cli.app import main\nmain()")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and proc.stdout.startswith("healthscore "), proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == "True"
    import gc

    frozen = gc.get_freeze_count()
    ok("--version")
    assert gc.get_freeze_count() == frozen


def test_tasks_builds_no_history_query(reviewed):
    """`tasks` reads the store only: sqlglot (80 ms of its CPU) loads with the first history query."""
    assert _imported_by(["tasks", "-w", str(reviewed)], ("sqlglot", "duckdb")) == []
