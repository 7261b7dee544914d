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
