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

pytestmark = pytest.mark.slow  # a process killed after every commit point

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
    _, err = waiter.communicate(timeout=300)
    assert waiter.returncode == 0, err
    assert "Traceback" not in err
    with Project(tmp_path) as p:
        assert p.con.table("accounts").count().execute() == 2


# -- backfill ------------------------------------------------------------------------------------------

HISTORY = (dt.date(2026, 6, 1), dt.date(2026, 9, 28), 28)  # what `base` backfilled: 5 dates


def snapshot_state(ws: Path) -> list:
    with Project(ws) as p:
        frame = p.store.snapshot_frame(model_version=p.model.version)
    return sorted(zip(frame["account_id"], frame["as_of"].astype(str), frame["score"].round(6).astype(str),
                      frame["status"]))


def test_backfill_fills_accounts_added_after_a_date_was_stored(base, tmp_path):
    ws = copy(base, tmp_path / "ws")
    with Project(ws) as p:
        r = p.ingest_rows("accounts", [{"account_id": "LATE1", "name": "Late", "created_at": "2020-01-01"},
                                       {"account_id": "LATE2", "name": "Later", "created_at": "2026-08-01"}])
        assert r.accepted == 2
        out = p.backfill(*HISTORY[:2], every_days=HISTORY[2])
        assert (out["dates"], out["completed_dates"], out["scored_dates"]) == (5, 5, 5)
        assert out["snapshots_written"] == 5 + 2  # LATE1 on every date, LATE2 only after it was created
        frame = p.store.snapshot_frame(model_version=p.model.version)
        late = frame[frame["account_id"].str.startswith("LATE")]
        dates = [HISTORY[0] + dt.timedelta(days=HISTORY[2] * i) for i in range(5)]
        assert sorted(zip(late["account_id"], late["as_of"].dt.date)) == sorted(
            [("LATE1", d) for d in dates] + [("LATE2", d) for d in dates if d > dt.date(2026, 8, 1)])
        again = p.backfill(*HISTORY[:2], every_days=HISTORY[2])
        assert (again["scored_dates"], again["snapshots_written"]) == (0, 0)


def test_backfill_stopped_after_each_chunk_resumes_to_the_same_state(base, tmp_path, monkeypatch):
    import healthscore.services.scoring as scoring_module
    from healthscore import faults

    span = (dt.date(2026, 10, 5), dt.date(2026, 10, 26), 7)  # 4 dates, one per engine pass below
    with Project(base) as p:
        accounts = p.con.table("accounts").count().execute()
    monkeypatch.setattr(scoring_module, "BACKFILL_CHUNK_SNAPSHOTS", accounts)
    whole = copy(base, tmp_path / "whole")
    with Project(whole) as p:
        assert p.backfill(*span[:2], every_days=span[2])["dates_per_pass"] == 1
    expected = snapshot_state(whole)

    class Killed(Exception):
        pass

    for stop_after in (1, 2, 3):
        ws = copy(base, tmp_path / f"stop{stop_after}")
        calls = []

        def fault(step, stop_after=stop_after, calls=calls):
            if step != "backfill:chunk":  # e.g. snapshots:store, inside each chunk's write
                return
            calls.append(step)
            if len(calls) == stop_after:
                raise Killed(step)

        monkeypatch.setattr(faults, "fault_point", fault)
        with Project(ws) as p, pytest.raises(Killed):
            p.backfill(*span[:2], every_days=span[2])
        monkeypatch.setattr(faults, "fault_point", lambda step: None)
        with Project(ws) as p:
            out = p.backfill(*span[:2], every_days=span[2])
        assert out["already_stored"] >= stop_after
        assert snapshot_state(ws) == expected


def latest_state(ws: Path) -> list:
    """The store's latest snapshot per account (the portfolio's table)."""
    import sqlalchemy as sa

    from healthscore.store import tables

    with Project(ws) as p, p.store.engine.connect() as conn:
        s = tables.snapshots.c
        rows = conn.execute(sa.select(s.account_id, s.as_of, s.score, s.status)
                            .where(s.model_version == p.model.version)).all()
    return sorted((a, str(d)[:10], None if v is None else round(v, 6), st) for a, d, v, st in rows)


def _backfill_killed_at(base, tmp_path, fault: str) -> tuple:
    """A backfill of three dates not stored yet, run whole in one copy of `base` and killed at `fault` in
    another: (the killed workspace, the whole one, the backfill's arguments, its dates)."""
    span = (dt.date(2026, 10, 27), dt.date(2026, 11, 2), "3d")
    args = ("backfill", "--from", span[0].isoformat(), "--to", span[1].isoformat(), "--every", span[2], "--json")
    whole = copy(base, tmp_path / "whole")
    assert cli(*args, "-w", str(whole)).returncode == 0
    ws = copy(base, tmp_path / "ws")
    killed = cli(*args, "-w", str(ws), fault=fault)
    assert killed.returncode == EXIT_CODE, killed.stderr
    return ws, whole, args, {span[0] + dt.timedelta(days=3 * i) for i in range(3)}


def test_backfill_killed_between_the_store_commit_and_the_history_file_resumes_to_the_same_state(base, tmp_path):
    """The history's commit point: the store has committed the latest snapshots, the Parquet file is not
    renamed into the history yet. The date is not stored (the history says so), the re-run scores it
    again and both agree with an unbroken run; the dead writer's temporary file is removed."""
    ws, whole, args, dates = _backfill_killed_at(base, tmp_path, "snapshots:store")
    import sqlalchemy as sa

    from healthscore.store import tables

    with Project(ws) as p:  # the store's transaction committed, the history has not got the dates
        assert p.store.stored_as_of_dates(p.model.version).isdisjoint(dates)
        assert list(p.store.history_dir.rglob(".part-*.tmp"))
        with p.store.engine.connect() as conn:  # the run is recorded, never finished
            r = tables.scoring_runs.c
            assert conn.scalar(sa.select(sa.func.count()).where(r.finished_at.is_(None))) == 1
    again = cli(*args, "-w", str(ws))
    assert again.returncode == 0, again.stderr
    assert snapshot_state(ws) == snapshot_state(whole)
    assert latest_state(ws) == latest_state(whole)
    with Project(ws) as p:
        assert not list(p.store.history_dir.rglob(".part-*.tmp"))


def test_backfill_killed_after_the_rename_before_the_new_generation_resumes_to_the_same_state(base, tmp_path):
    """The files are in place, readers' kept listings do not know yet (history:published): the dates are
    stored, a re-run writes no key twice and both agree with an unbroken run."""
    ws, whole, args, dates = _backfill_killed_at(base, tmp_path, "history:published")
    with Project(ws) as p:  # the files are in place: the dates are stored
        assert dates <= p.store.stored_as_of_dates(p.model.version)
    again = cli(*args, "-w", str(ws))
    assert again.returncode == 0, again.stderr
    assert snapshot_state(ws) == snapshot_state(whole)
    assert latest_state(ws) == latest_state(whole)


# -- ingest ------------------------------------------------------------------------------------------

# The CLI with CSV files of any size streamed through the engine (the path of files of 64 MiB and more)
STREAMING_CLI = ("import sys; from healthscore.ingest import streaming; streaming.STREAM_CSV_MIN_BYTES = 0;"
                 " from healthscore.cli.app import main; sys.argv = ['healthscore', *sys.argv[1:]]; main()")


def ingest_workspace(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "accounts.csv").write_text("account_id,name\nA1,Acme\nA2,Beta\nA3,Gamma\n", encoding="utf-8")
    rows = "".join(f"A{1 + i % 3},2026-05-{1 + i % 28:02d},login,E{i}\n" for i in range(500))
    (root / "events.csv").write_text("account_id,ts,event,event_id\n" + rows + "X9,2026-05-01,login,E999\n",
                                     encoding="utf-8")
    (root / "tickets.csv").write_text("ticket_id,account_id,opened_at,csat\nT1,A1,2026-05-02,4\nT2,A2,2026-05-03,5\n",
                                      encoding="utf-8")
    (root / "healthscore.yaml").write_text(
        "model: models/health.yaml\nsources:\n  accounts: {path: accounts.csv}\n  usage_events: {path: events.csv}\n"
        "  tickets: {path: tickets.csv}\n", encoding="utf-8")
    return root


def engine_state(ws: Path) -> dict:
    with Project(ws) as p:
        tables = {name: sorted(map(str, p.con.table(name).to_pyarrow().to_pylist()))
                  for name in ("accounts", "usage_events", "tickets") if name in p.con.list_tables()}
    return {"tables": tables}


def streaming_cli(*args: str, fault: str | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != ENV}
    if fault:
        env[ENV] = fault
    return subprocess.run([sys.executable, "-c", STREAMING_CLI, *args], capture_output=True, text=True, env=env,
                          timeout=600)


@pytest.mark.parametrize("step", ["accounts", "usage_events", "tickets", "spooled"])
def test_ingest_killed_after_each_commit_point_resumes_to_the_same_state(tmp_path, step):
    whole = ingest_workspace(tmp_path / "whole")
    proc = streaming_cli("ingest", "-w", str(whole))
    assert proc.returncode == 0, proc.stderr
    expected = engine_state(whole)
    assert expected["tables"]["usage_events"] and expected["tables"]["tickets"]

    ws = ingest_workspace(tmp_path / "ws")
    killed = streaming_cli("ingest", "-w", str(ws), fault=f"ingest:{step}")
    assert killed.returncode == EXIT_CODE, killed.stderr
    left = [p.name for p in (ws / ".healthscore").iterdir() if p.name.startswith("ingest-")]
    assert bool(left) == (step == "spooled")  # a kill while the CSV spool exists leaves it behind ...
    again = streaming_cli("ingest", "-w", str(ws))
    assert again.returncode == 0, again.stderr
    assert engine_state(ws) == expected
    assert not [p for p in (ws / ".healthscore").iterdir() if p.name.startswith("ingest-")]  # ... until the next


def test_a_caller_that_retries_itself_is_told_at_once(tmp_path):
    """The web app (views.engine_session) retries within its own deadline: it asks not to wait."""
    from healthscore.errors import UserError

    engine = small_workspace(tmp_path)
    holder = hold(engine)
    try:
        p = Project(tmp_path)
        p.engine_lock_timeout = 0
        with pytest.raises(UserError, match=f"in use by process {holder.pid} .* stays locked; gave up after waiting 0 s"):
            p.con  # noqa: B018
    finally:
        holder.stdin.close()
        holder.wait()
    with Project(tmp_path) as p:
        assert "accounts" not in p.con.list_tables()
