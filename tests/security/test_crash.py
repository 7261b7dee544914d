"""Issue 16, "crashes and concurrency": a process killed after any commit point of `run weekly`, `ingest`
or `backfill` leaves a state from which the re-run reaches exactly the state of an unbroken run.

The kill is the test hook HEALTHSCORE_FAULT_AFTER=<step> (healthscore/faults.py): os._exit right after
the step, with no cleanup and no commit of an open transaction, as kill -9 would."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from healthscore.faults import ENV, EXIT_CODE
from healthscore.project import Project
from healthscore.scaffold import build_demo

END = dt.date(2026, 11, 2)
WEEK1, WEEK2 = END - dt.timedelta(days=7), END


def cli(*args: str, fault: str | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != ENV}
    if fault:
        env[ENV] = fault
    return subprocess.run([sys.executable, "-m", "healthscore", *args], capture_output=True, text=True, env=env,
                          timeout=600)


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    """A 200-account demo with history and one weekly run: the next run raises alerts and tasks."""
    ws = tmp_path_factory.mktemp("crash") / "demo"
    build_demo(ws, accounts=200, seed=11, end=END + dt.timedelta(days=1))
    with Project(ws) as p:
        p.backfill(dt.date(2026, 6, 1), dt.date(2026, 9, 28), every_days=28)
        p.run_weekly(WEEK1, notify=False)
    return ws


def copy(base: Path, dest: Path) -> Path:
    shutil.copytree(base, dest)
    return dest


def review_state(ws: Path) -> dict:
    """Everything the weekly run writes, without ids and clocks."""
    with Project(ws) as p:
        tasks = p.store.tasks(status="all")
        key_of = {t["task_id"]: (t["account_id"], t["as_of"]) for t in tasks}
        alerts = p.store.alerts()
        states = p.store.alert_states()
        snaps = p.store.snapshot_frame(model_version=p.model.version)
    return {
        "tasks": sorted((t["account_id"], t["as_of"], t["status"], t["priority"], t["queue"], t["due_at"],
                         tuple(sorted((x["kind"], x["name"]) for x in t["triggers"]))) for t in tasks),
        "alerts": sorted((a["account_id"], a["rule"], str(a["as_of"])[:10], a["status"], key_of.get(a["task_id"]))
                         for a in alerts),
        "alert_states": sorted((k, v["active"], str(v.get("since")), str(v.get("last_fired_as_of")))
                               for k, v in states.items()),
        "snapshots": sorted(snaps.groupby(snaps["as_of"].astype(str)).size().items()),
    }


@pytest.fixture(scope="module")
def unbroken(base, tmp_path_factory) -> dict:
    ws = copy(base, tmp_path_factory.mktemp("unbroken") / "ws")
    proc = cli("run", "weekly", "-w", str(ws), "--as-of", WEEK2.isoformat(), "--no-notify", "--json")
    assert proc.returncode == 0, proc.stderr
    state = review_state(ws)
    week2 = [t for t in state["tasks"] if t[1] == WEEK2.isoformat()]
    assert week2 and any(a[2] == WEEK2.isoformat() and a[4] for a in state["alerts"])  # tasks, linked alerts
    return state


@pytest.mark.parametrize("step", ["scores", "alerts", "tasks", "links"])
def test_run_weekly_killed_after_each_commit_point_resumes_to_the_same_state(base, unbroken, tmp_path, step):
    ws = copy(base, tmp_path / "ws")
    args = ("run", "weekly", "-w", str(ws), "--as-of", WEEK2.isoformat(), "--no-notify", "--json")
    killed = cli(*args, fault=f"run_weekly:{step}")
    assert killed.returncode == EXIT_CODE, killed.stderr
    again = cli(*args)
    assert again.returncode == 0, again.stderr
    assert review_state(ws) == unbroken


# -- a second writer on the DuckDB engine file -------------------------------------------------------

HOLD = "import duckdb, sys; c = duckdb.connect(sys.argv[1]); print('held', flush=True); sys.stdin.read(); c.close()"


def small_workspace(root: Path) -> Path:
    (root / "accounts.csv").write_text("account_id\nA1\nA2\n", encoding="utf-8")
    (root / "healthscore.yaml").write_text("model: models/health.yaml\nsources:\n  accounts: {path: accounts.csv}\n",
                                           encoding="utf-8")
    engine = root / ".healthscore" / "engine.duckdb"
    engine.parent.mkdir(parents=True, exist_ok=True)
    return engine


def hold(engine: Path) -> subprocess.Popen:
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(engine)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True)
    assert holder.stdout.readline().strip() == "held"
    return holder


def test_a_second_writer_fails_with_a_clear_message_after_the_timeout(tmp_path):
    engine = small_workspace(tmp_path)
    holder = hold(engine)
    try:
        env = {**os.environ, "HEALTHSCORE_LOCK_TIMEOUT": "0.5"}
        proc = subprocess.run([sys.executable, "-m", "healthscore", "ingest", "-w", str(tmp_path)], capture_output=True,
                              text=True, env=env, timeout=300)
    finally:
        holder.stdin.close()
        holder.wait()
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert f"is in use by process {holder.pid} (another healthscore command or the web app)" in proc.stderr
    assert "engine.lock_timeout" in proc.stderr


def test_a_second_writer_waits_and_then_runs(tmp_path):
    engine = small_workspace(tmp_path)
    holder = hold(engine)
    waiter = subprocess.Popen([sys.executable, "-m", "healthscore", "ingest", "-w", str(tmp_path), "--json"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = waiter.stderr.readline()  # it says that it waits before the holder lets go
        assert first.startswith(f"waiting for the engine file {engine}: it is in use by process {holder.pid}")
    finally:
        holder.stdin.close()
        holder.wait()
    out, err = waiter.communicate(timeout=300)
    assert waiter.returncode == 0, err
    assert "Traceback" not in err
    with Project(tmp_path) as p:
        assert p.con.table("accounts").count().execute() == 2
