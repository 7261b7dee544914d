"""Workspaces: init, validate, ingest and the demo."""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from healthscore.cli.render import command_name, console, emit_json
from healthscore.cli.render.scoring import portfolio_summary


def init(directory: Path, created: list[Path]) -> None:
    con = console()
    con.print(f"[green]Created workspace[/] {directory}")
    for p in created:
        con.print(f"  {p}")
    con.print("\nNext: put your CSV/Parquet/NDJSON exports in data/, map them in healthscore.yaml, then run"
              f"\n  healthscore validate -w {directory}\n  healthscore ingest -w {directory}\n"
              f"  healthscore score -w {directory}")


def init_json(directory: Path, created: list[Path]) -> None:
    emit_json({"workspace": str(directory.resolve()), "created": [str(p) for p in created]})


def validate(info: dict[str, Any]) -> None:
    con = console()
    m = info["model"]
    con.print(f"[green]OK[/] model [bold]{m['name']}[/] version {m['version']}: {m['components']} components,"
              f" {m['metrics']} metrics, {m['segments']} segments ({m['path']})")
    for table, desc in info["sources"].items():
        con.print(f"  source {table}: {desc}")
    con.print(f"  engine: {info['engine']}   store: {info['store']}")
    for w in info.get("warnings", []):
        con.print(f"[yellow]warning[/] {w['code']} ({w['key']}): {w['message']}", highlight=False)
    for table, s in info.get("sample", {}).items():
        con.print(f"  checked {table}: {s['read']:,} row(s), {s['quarantined']:,} would be quarantined",
                  highlight=False)
        for w in s["warnings"]:
            con.print(f"[yellow]warning[/] {table}: {w}", highlight=False)
        for r in s["reasons"] if s["quarantined"] else []:
            con.print(f"  {table} would quarantine: {r}", highlight=False)


@contextmanager
def ingest_progress() -> Iterator[Callable[[str], None]]:
    """A spinner that shows the step ingestion is at; gone when it is done."""
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), transient=True) as bar:
        task = bar.add_task("ingesting", total=None)
        yield lambda msg: bar.update(task, description=msg)


def ingest_json(reports: list[Any], show: int, limit: float, over: list[Any]) -> None:
    emit_json({"tables": [
        {"table": r.table, "source": r.source, "read": r.read, "accepted": r.accepted,
         "quarantined": r.quarantined, "already_ingested": r.already_ingested, "warnings": r.warnings,
         "quarantine_share": round(r.quarantined / r.read, 6) if r.read else 0.0,
         "over_quarantine_max_share": any(r is o for o in over),
         "quarantine": r.quarantine.head(show).to_dict("records")} for r in reports],
        "quarantine_max_share": limit})


def ingest(reports: list[Any], show: int) -> None:
    from rich.table import Table

    con = console()
    t = Table(title="Ingested")
    appended = any(r.already_ingested for r in reports)
    cols = ("table", "source", "read", "accepted", "quarantined") + (("already loaded",) if appended else ())
    for col in cols:
        t.add_column(col, justify="left" if col in ("table", "source") else "right")
    for r in reports:
        q = f"[red]{r.quarantined:,}[/]" if r.quarantined else "0"
        t.add_row(r.table, r.source, f"{r.read:,}", f"{r.accepted:,}", q,
                  *((f"{r.already_ingested:,}",) if appended else ()))
    con.print(t)
    for r in reports:
        for w in r.warnings:
            con.print(f"[yellow]warning[/] {r.table}: {w}")
        if r.quarantined:
            con.print(f"[red]{r.table}[/]: {r.quarantined:,} row(s) quarantined, e.g.:")
            for q in r.quarantine.head(show).to_dict("records"):
                line = f":{q['line']}" if q.get("line") is not None else ""
                con.print(f"  {q['file']}{line}  {q['reason']}")


def over_quarantine_limit(over: list[Any], limit: float) -> None:
    for r in over:
        sys.stderr.write(f"error: {r.table}: {r.quarantined:,} of {r.read:,} row(s) quarantined"
                         f" ({r.quarantined / r.read:.1%}), more than quarantine_max_share {limit:.1%}"
                         f" in healthscore.yaml; the accepted rows were loaded\n")


@contextmanager
def demo_progress(disable: bool) -> Iterator[Callable[[str, int, int], None]]:
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  TimeElapsedColumn(), transient=True, disable=disable) as bar:
        task = bar.add_task("generating", total=None)

        def progress(step: str, done: int, total: int) -> None:
            bar.update(task, description=step, completed=done, total=total)

        yield progress


def demo_json(directory: Path, run: Any, counts: dict[str, int], extra: dict[str, Any]) -> None:
    snaps = run.frames.snapshots
    emit_json({"workspace": str(directory.resolve()), "rows": counts, "as_of": str(run.as_of_dates[-1]),
               "model_version": run.model_version,
               "tiers": snaps["tier"].fillna(snaps["status"]).value_counts().to_dict(),
               "tasks": extra["weekly"]["tasks"], "logins": extra["logins"]})


def demo(directory: Path, run: Any, counts: dict[str, int], extra: dict[str, Any]) -> None:
    con = console()
    con.print(f"[green]Demo workspace[/] {directory}: " + ", ".join(f"{t} {n:,}" for t, n in counts.items()))
    portfolio_summary(run)
    snaps = run.frames.snapshots
    lowest = snaps[snaps["status"] == "scored"].nsmallest(1, "score")["account_id"].tolist() or ["ACCOUNT_ID"]
    exe = command_name()
    end = run.as_of_dates[-1]
    con.print(f"\nNext, copy and paste:\n  {exe} explain {lowest[0]} -w {directory}\n"
              f"  {exe} backfill -w {directory} --from {end.replace(day=1).replace(month=1)}"
              f" --to {end} --every 7d\n  {exe} changes -w {directory} --since"
              f" {end - dt.timedelta(days=28)}\n  {exe} run weekly -w {directory}\n"
              f"  {exe} tasks -w {directory}", highlight=False)
    con.print(f"\nWeekly review run: {extra['weekly']['tasks']['created']} review tasks created. Web app logins"
              f" ({exe} serve -w {directory}):", highlight=False)
    for u in extra["logins"]:
        con.print(f"  {u['username']:<10} {u['role']:<8} password: {u['password']}", highlight=False)
    con.print(f"CLI identities (demo only): an API token per user in {directory / '.healthscore' / 'credentials'};"
              " '--by dana.kim' picks hers (docs/governance.md).", highlight=False)
