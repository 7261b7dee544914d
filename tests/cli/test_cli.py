"""The CLI as a user runs it: exit codes, JSON on stdout, clear errors on stderr. In-process through
`tests.cli.runner` (the console script's `main` under Typer's CliRunner); a real process only where the
process itself is the point (`python -m healthscore`, what `--help` imports)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from decimal import Decimal

import pytest

from tests.cli.runner import assert_user_error, ok
from tests.cli.runner import invoke as run


def run_process(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "healthscore", *args], capture_output=True, text=True, timeout=300)


def test_init_creates_a_valid_workspace(tmp_path):
    ok("init", str(tmp_path / "new"))
    assert_user_error(run("validate", "-w", str(tmp_path / "new")), "sources.accounts.path", "data/accounts.csv")
    (tmp_path / "new" / "data" / "accounts.csv").write_text("account_id,name\nA1,Acme\n")
    out = json.loads(ok("validate", "-w", str(tmp_path / "new"), "--json").stdout)
    assert out["ok"] and out["model"]["name"] == "seed-standard"
    assert_user_error(run("init", str(tmp_path / "new")), "already exists")
    assert_user_error(run("init", str(tmp_path / "x"), "--example", "nope"), "seed-standard", "starter-five")


def test_ingest_reports_counts(workspace):
    out = json.loads(ok("ingest", "-w", str(workspace), "--json").stdout)
    by_table = {t["table"]: t for t in out["tables"]}
    assert by_table["accounts"]["accepted"] == 4
    for t in out["tables"]:
        assert t["read"] == t["accepted"] + t["quarantined"]


def test_score_json_prints_one_snapshot_per_account(workspace):
    proc = ok("score", "-w", str(workspace), "--as-of", "2025-06-01", "--json")
    snaps = [json.loads(line) for line in proc.stdout.splitlines()]
    assert sorted(s["account_id"] for s in snaps) == ["A1", "A2", "A3"]  # A4 churned before
    for s in snaps:
        assert {"account_id", "as_of", "model_version", "score", "tier", "status", "confidence", "components",
                "evidence", "reasons"} <= set(s)
        assert s["as_of"] == "2025-06-01"
        for e in s["evidence"]:
            assert {"metric", "component", "value", "window", "source", "rows", "latest_at", "score", "weight",
                    "points"} <= set(e)
        if s["status"] == "scored":
            assert sum(e["points"] for e in s["evidence"]) == pytest.approx(s["score"], abs=0.01)


def test_score_table_output(workspace):
    proc = ok("score", "-w", str(workspace), "--as-of", "2025-06-01")
    assert "Tier distribution" in proc.stdout and "lowest health scores" in proc.stdout


def test_explain_and_history(workspace):
    snap = json.loads(ok("explain", "A1", "-w", str(workspace), "--as-of", "2025-05-15", "--json").stdout)
    assert snap["account_id"] == "A1" and snap["as_of"] == "2025-05-15"
    table = ok("explain", "A1", "-w", str(workspace), "--as-of", "2025-05-15").stdout
    assert "Evidence" in table and "csat_90d" in table
    # explain is a read: its date is not stored until a score run stores it
    assert "2025-05-15" not in ok("history", "A1", "-w", str(workspace), "--json").stdout
    ok("score", "-w", str(workspace), "--as-of", "2025-05-15")
    ok("score", "-w", str(workspace), "--as-of", "2025-06-01")
    lines = ok("history", "A1", "-w", str(workspace), "--json").stdout.splitlines()
    dates = [json.loads(line)["as_of"] for line in lines]
    assert "2025-05-15" in dates and "2025-06-01" in dates and dates == sorted(dates)
    window = ok("history", "A1", "-w", str(workspace), "--from", "2025-06-01", "--json").stdout.splitlines()
    assert [json.loads(line)["as_of"] for line in window] == ["2025-06-01"]


def test_rescoring_is_idempotent(workspace):
    first = ok("score", "-w", str(workspace), "--as-of", "2025-04-01", "--json").stdout
    again = ok("score", "-w", str(workspace), "--as-of", "2025-04-01", "--json").stdout
    assert first == again
    history = ok("history", "A1", "-w", str(workspace), "--json").stdout.splitlines()
    assert [json.loads(line)["as_of"] for line in history].count("2025-04-01") == 1


def test_user_errors_are_clear_with_exit_code_2(workspace, tmp_path):
    assert_user_error(run("explain", "NOPE", "-w", str(workspace)), "unknown account 'NOPE'")
    assert_user_error(run("score", "-w", str(workspace), "--as-of", "June"), "--as-of 'June' is not a date")
    assert_user_error(run("score", "-w", str(tmp_path)), "no workspace here")
    bad = tmp_path / "bad"
    ok("init", str(bad))
    (bad / "models" / "health.yaml").write_text("name: x\ncomponents: [\n")
    assert_user_error(run("validate", "-w", str(bad)), "health.yaml", "invalid YAML")
    (bad / "healthscore.yaml").write_text("model: models/health.yaml\nsources:\n  acounts: {path: a.csv}\n")
    assert_user_error(run("validate", "-w", str(bad)), "healthscore.yaml", "sources",
                      "'acounts' is not a canonical table")


@pytest.mark.slow
def test_demo_builds_scores_and_summarises(tmp_path):
    proc = ok("demo", "--accounts", "60", "--dir", str(tmp_path / "demo"), "--end", "2026-11-01", "--json")
    out = json.loads(proc.stdout)
    assert out["as_of"] == "2026-11-01" and out["rows"]["accounts"] == 60
    assert sum(out["tiers"].values()) > 0
    table = ok("demo", "--accounts", "60", "--dir", str(tmp_path / "demo"), "--end", "2026-11-01").stdout
    assert "Tier distribution" in table and "main driver" in table


def test_backfill_changes_and_compare(workspace):
    out = json.loads(ok("backfill", "-w", str(workspace), "--from", "2025-03-01", "--to", "2025-06-01",
                        "--every", "1w", "--json").stdout)
    assert out["dates"] == 14
    again = json.loads(ok("backfill", "-w", str(workspace), "--from", "2025-03-01", "--to", "2025-06-01",
                          "--every", "7d", "--json").stdout)
    assert again["snapshots_written"] == 0
    for line in ok("changes", "-w", str(workspace), "--since", "2025-03-01", "--json").stdout.splitlines():
        change = json.loads(line)
        assert {"account_id", "as_of", "delta", "tier", "previous_tier", "primary_driver", "trend_note"} <= set(change)
    shown = 0  # the table's delta is the difference of the scores it shows
    for line in ok("changes", "-w", str(workspace), "--since", "2025-03-01").stdout.splitlines():
        cells = [c.strip() for c in line.split("│")]
        if len(cells) > 6 and re.fullmatch(r"\d{4}-\d\d-\d\d", cells[1]) and cells[5] != "-":
            assert Decimal(cells[5]) == Decimal(cells[4]) - Decimal(cells[3]), line
            shown += 1
    assert shown > 0
    snap = json.loads(ok("explain", "A1", "-w", str(workspace), "--as-of", "2025-06-01", "--compare", "2025-05-01",
                         "--json").stdout)
    change = snap["change"]
    parts = change["model_version_part"] + change["override_part"] + sum(m["points"] for m in change["metrics"])
    assert parts == pytest.approx(change["delta"], abs=0.01)
    assert snap["trend_note"].startswith("Health ")
    assert "Trend note" in ok("explain", "A1", "-w", str(workspace), "--as-of", "2025-06-01",
                              "--compare", "2025-05-01").stdout
    assert_user_error(run("backfill", "-w", str(workspace), "--from", "2025-03-01", "--to", "2025-06-01",
                          "--every", "monthly"), "--every 'monthly'")


def test_score_says_which_accounts_it_did_not_score_and_why(workspace):
    """A3 (created 2025-05-25) and A4 (churned 2025-04-01) are not scored on 2025-05-01, and never silently."""
    proc = ok("score", "-w", str(workspace), "--as-of", "2025-05-01", "--json")
    scored = {json.loads(line)["account_id"] for line in proc.stdout.splitlines()}
    assert scored == {"A1", "A2"}
    assert "not scored: 2 (1 churned before the date" in proc.stderr and "1 created on or after the date" in proc.stderr
    listed = [json.loads(line) for line in ok("score", "-w", str(workspace), "--as-of", "2025-05-01", "--excluded",
                                              "--json").stdout.splitlines()]
    assert sorted((r["account_id"], r["reason"]) for r in listed) == [
        ("A3", "created on or after the date"), ("A4", "churned before the date (its latest outcome is churned)")]
    assert "Not scored: 2" in ok("score", "-w", str(workspace), "--as-of", "2025-05-01").stdout


def test_version_is_the_package_version():
    from healthscore import __version__

    proc = run_process("--version")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"healthscore {__version__}"


def test_validate_reads_the_headers_ingest_will_read(tmp_path):
    ws = tmp_path / "new"
    ok("init", str(ws))
    (ws / "data" / "accounts.csv").write_text("name,segment\nAcme,SMB\n")  # account_id is required
    assert_user_error(run("validate", "-w", str(ws)), "accounts.csv", "missing required column", "account_id")
    (ws / "data" / "accounts.csv").write_text("account_id,name\nA1,Acme\n")
    out = json.loads(ok("validate", "-w", str(ws), "--json").stdout)
    assert out["sources"]["accounts"] == "1 file(s), csv, columns checked"


def test_an_argument_that_is_not_utf8_is_refused_by_position_not_with_a_traceback(workspace):
    """Bytes that are not UTF-8 reach Python as lone surrogates (os.fsdecode); a database driver would fail on
    them deep inside a read."""
    undecodable = b"A\xff".decode("utf-8", "surrogateescape")
    for command in (["history", undecodable], ["explain", undecodable], ["score", "--account", undecodable]):
        position = command.index(undecodable) + 1
        assert_user_error(run(*command, "-w", str(workspace)), f"argument {position} ('A\\udcff')", "not UTF-8")
