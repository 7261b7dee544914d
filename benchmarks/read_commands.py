"""Benchmark: the CPU a read command costs, on the demo workspace (issue 18: "Any read command (explain,
history, tasks, changes) on the 2,000-account demo uses under 0.7 s of CPU; healthscore --help under 0.3 s").

    .venv/bin/python benchmarks/read_commands.py                          # builds a 2,000-account demo (~1 min)
    .venv/bin/python benchmarks/read_commands.py --dir /tmp/bench-demo    # reuses that demo (built if absent)

Every command runs as the user runs it, `python -m healthscore ...` in a fresh process, against this
checkout's source (src/ first on PYTHONPATH); its CPU is the child's user + system time
(resource.getrusage(RUSAGE_CHILDREN)), interpreter start and imports included. Each command runs once
unmeasured (file caches), then --repeat times; the median is reported against its target. The account
is the first one of the open review tasks, and `changes --since` starts four weeks before its newest
stored snapshot. Results: benchmarks/results/read_commands.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
RESULTS = HERE / "results" / "read_commands.json"
DEFAULT_DIR = HERE / "data" / "read_commands"
READ_TARGET_S = 0.7
HELP_TARGET_S = 0.3


def _env() -> dict[str, str]:
    env = dict(os.environ)
    # as an installed package runs: its bytecode cached (a sandbox that sets this recompiles src/ every run)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO / "src"), env.get("PYTHONPATH")) if p)
    return env


def healthscore(args: list[str], workspace: Path | None = None) -> tuple[str, float, float]:
    """Run one command; its stdout, CPU seconds (user + system) and wall seconds. A failure stops the run."""
    cmd = [sys.executable, "-m", "healthscore", *args]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=_env(), cwd=workspace)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}{proc.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return proc.stdout, cpu, wall


def ensure_demo(ws: Path, accounts: int) -> None:
    if (ws / "healthscore.yaml").exists():
        print(f"demo: reusing {ws}")
        return
    print(f"demo: building {accounts:,} accounts in {ws} ...", flush=True)
    _, _, wall = healthscore(["demo", "--accounts", str(accounts), "--dir", str(ws)])
    print(f"demo: built in {wall:.0f} s")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dir", type=Path, default=DEFAULT_DIR, help="demo workspace (built when absent)")
    ap.add_argument("--accounts", type=int, default=2000, help="accounts of a demo built here")
    ap.add_argument("--repeat", type=int, default=3, help="measured runs of each command")
    ap.add_argument("--results", type=Path, default=RESULTS)
    ap.add_argument("--no-save", action="store_true")
    args = ap.parse_args(argv)

    ws = args.dir.resolve()
    ensure_demo(ws, args.accounts)
    tasks_json, _, _ = healthscore(["tasks", "--json"], ws)
    tasks = [json.loads(line) for line in tasks_json.splitlines() if line.strip()]
    if not tasks:
        raise SystemExit("the demo has no open review task to take an account from")
    account = tasks[0]["account_id"]
    history_json, _, _ = healthscore(["history", account, "--json"], ws)
    newest = max(dt.date.fromisoformat(json.loads(line)["as_of"][:10])
                 for line in history_json.splitlines() if line.strip())
    since = (newest - dt.timedelta(days=28)).isoformat()

    commands = [(["--help"], HELP_TARGET_S), (["explain", account], READ_TARGET_S),
                (["history", account], READ_TARGET_S), (["tasks"], READ_TARGET_S),
                (["changes", "--since", since], READ_TARGET_S)]
    load_before = os.getloadavg()
    rows = []
    for cmd, target in commands:
        healthscore(cmd, ws)  # unmeasured: file caches
        runs = [healthscore(cmd, ws)[1:] for _ in range(args.repeat)]
        cpu, wall = statistics.median(c for c, _ in runs), statistics.median(w for _, w in runs)
        rows.append({"command": "healthscore " + " ".join(cmd), "cpu_median_s": round(cpu, 3),
                     "cpu_s": [round(c, 3) for c, _ in runs], "wall_median_s": round(wall, 3),
                     "target_cpu_s": target, "met": cpu < target})

    print(f"\nread commands on {ws} (median of {args.repeat}; CPU = user + system of the process)")
    width = max(len(r["command"]) for r in rows)
    for r in rows:
        print(f"  {r['command']:<{width}}  CPU {r['cpu_median_s']:.2f} s (target < {r['target_cpu_s']} s) "
              f"{'met' if r['met'] else 'MISSED'}   wall {r['wall_median_s']:.2f} s")
    if not args.no_save:
        doc = {"benchmark": "read_commands", "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
               "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                           "platform": platform.platform()},
               "load_average_1_5_15": {"before": [round(x, 2) for x in load_before],
                                       "after": [round(x, 2) for x in os.getloadavg()]},
               "workspace": str(ws), "account": account, "since": since, "repeat": args.repeat, "commands": rows}
        args.results.parent.mkdir(parents=True, exist_ok=True)
        args.results.write_text(json.dumps(doc, indent=2) + "\n")
        print(f"results: {args.results}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
