"""The `healthscore` command line. Thin: parse, call the Project facade, print.

Heavy libraries (ibis, pandas, sqlalchemy) are imported inside commands so `--help` stays instant.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

import typer

from healthscore.errors import UserError

app = typer.Typer(
    name="healthscore",
    help="Explainable customer health scoring: health models as code, evidence behind every point.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)



def _version(value: bool) -> None:
    if value:
        from healthscore import __version__

        print(f"healthscore {__version__}")
        raise typer.Exit()


@app.callback()
def _root(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                       help="print the version and exit")) -> None:
    """Explainable customer health scoring: health models as code, evidence behind every point."""


WorkspaceOpt = typer.Option(Path("."), "-w", "--workspace", help="workspace directory (holds healthscore.yaml)")
JsonOpt = typer.Option(False, "--json", help="print JSON instead of tables")
AsOfOpt = typer.Option(None, "--as-of", help="as-of date YYYY-MM-DD: only data before it counts (default: today, UTC)")


def _console():
    from rich.console import Console

    # Piped output (files, CI logs) gets room for the evidence table instead of rich's 80 columns.
    return Console() if sys.stdout.isatty() else Console(width=150)


def _date(value: str | None, flag: str) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise UserError(f"{flag} {value!r} is not a date; use YYYY-MM-DD, e.g. 2026-11-01") from None


def _print_json(obj) -> None:
    sys.stdout.write(json.dumps(obj, default=str) + "\n")


def _print_json_lines(rows) -> None:
    for r in rows:
        _print_json(r)


def _project(workspace: Path):
    from healthscore.project import Project

    return Project(workspace)


# ---- commands ---------------------------------------------------------------------------------


@app.command()
def init(
    directory: Path = typer.Argument(..., help="directory to create the workspace in"),
    example: str = typer.Option("seed-standard", "--example",
                                help="model to start from: seed-standard, starter-five, saas-seat-usage, api-platform,"
                                     " marketplace or enterprise (docs/starter-library.md)"),
    json_out: bool = JsonOpt,
):
    """Create a workspace: healthscore.yaml, a health model and a data folder."""
    from healthscore.scaffold import init_workspace

    created = init_workspace(directory, example)
    if json_out:
        _print_json({"workspace": str(directory.resolve()), "created": [str(p) for p in created]})
        return
    con = _console()
    con.print(f"[green]Created workspace[/] {directory}")
    for p in created:
        con.print(f"  {p}")
    con.print("\nNext: put your CSV/Parquet/NDJSON exports in data/, map them in healthscore.yaml, then run"
              f"\n  healthscore validate -w {directory}\n  healthscore ingest -w {directory}\n  healthscore score -w {directory}")


@app.command()
def validate(workspace: Path = WorkspaceOpt, json_out: bool = JsonOpt):
    """Check healthscore.yaml and the health model; every error names the file, key and what is allowed."""
    with _project(workspace) as p:
        info = p.validate()
    if json_out:
        _print_json({"ok": True, **info})
        return
    con = _console()
    m = info["model"]
    con.print(f"[green]OK[/] model [bold]{m['name']}[/] version {m['version']}: {m['components']} components,"
              f" {m['metrics']} metrics, {m['segments']} segments ({m['path']})")
    for table, desc in info["sources"].items():
        con.print(f"  source {table}: {desc}")
    con.print(f"  engine: {info['engine']}   store: {info['store']}")
    for w in info.get("warnings", []):
        con.print(f"[yellow]warning[/] {w['code']} ({w['key']}): {w['message']}", highlight=False)


@app.command()
def ingest(
    workspace: Path = WorkspaceOpt,
    table: list[str] | None = typer.Option(None, "--table", help="ingest only these canonical tables"),
    json_out: bool = JsonOpt,
    show: int = typer.Option(5, "--show", help="quarantined rows to show per table"),
    incremental: bool = typer.Option(False, "--incremental",
                                     help="append every source: only new files / rows, rows already loaded skipped"),
    allow_empty: bool = typer.Option(False, "--allow-empty",
                                     help="let a source with no accepted row (header only, or all quarantined)"
                                          " empty its table; refused otherwise"),
):
    """Load the sources into the engine; bad rows go to the quarantine with file, line, column and reason.

    Exits with code 1 (after loading) when a table's quarantined share is above quarantine_max_share
    in healthscore.yaml (default 0.05)."""
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with _project(workspace) as p:
        limit = p.ws.config.quarantine_max_share
        if json_out:
            reports = p.ingest(table, incremental=incremental, allow_empty=allow_empty)
        else:
            with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                          transient=True) as bar:
                task = bar.add_task("ingesting", total=None)
                reports = p.ingest(table, progress=lambda msg: bar.update(task, description=msg),
                                   incremental=incremental, allow_empty=allow_empty)
    over = [r for r in reports if r.read and r.quarantined / r.read > limit]
    if json_out:
        _print_json({"tables": [
            {"table": r.table, "source": r.source, "read": r.read, "accepted": r.accepted,
             "quarantined": r.quarantined, "already_ingested": r.already_ingested, "warnings": r.warnings,
             "quarantine_share": round(r.quarantined / r.read, 6) if r.read else 0.0,
             "over_quarantine_max_share": any(r is o for o in over),
             "quarantine": r.quarantine.head(show).to_dict("records")} for r in reports],
            "quarantine_max_share": limit})
    else:
        _print_ingest(reports, show)
    if over:
        for r in over:
            sys.stderr.write(f"error: {r.table}: {r.quarantined:,} of {r.read:,} row(s) quarantined"
                             f" ({r.quarantined / r.read:.1%}), more than quarantine_max_share {limit:.1%}"
                             f" in healthscore.yaml; the accepted rows were loaded\n")
        raise typer.Exit(1)


def _print_ingest(reports, show: int) -> None:
    from rich.table import Table

    con = _console()
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


@app.command()
def score(
    workspace: Path = WorkspaceOpt,
    as_of: str | None = AsOfOpt,
    json_out: bool = typer.Option(False, "--json", help="print one JSON snapshot per account and line"),
    lowest: int = typer.Option(10, "--lowest", help="lowest-scored accounts to list"),
    write_back: bool | None = typer.Option(None, "--write-back/--no-write-back",
                                              help="also write health_snapshots / health_evidence to the engine"
                                                   " (default: write_back in healthscore.yaml)"),
    excluded: bool = typer.Option(False, "--excluded",
                                  help="list the accounts not scored and why (with --json: one JSON object per line)"),
    no_store: bool = typer.Option(False, "--no-store", help="compute and print only: store nothing"),
):
    """Score every account at the as-of date and store the snapshots (idempotent)."""
    with _project(workspace) as p:
        run = p.score(_date(as_of, "--as-of"), write_back=False if no_store else write_back,
                      store=not no_store, history=True)
        if p.model_notice:
            sys.stderr.write(f"note: {p.model_notice}\n")
        if excluded:
            rows = [{"account_id": r.account_id, "as_of": r.as_of.date().isoformat(), "reason": r.reason}
                    for r in run.frames.excluded.itertuples()]
            if json_out:
                _print_json_lines(rows)
            else:
                _print_excluded(rows)
            return
        if json_out:
            _print_json_lines(run.snapshots)
            sys.stderr.write(f"{_coverage_line(run)}\n")
            return
        print_portfolio_summary(run, lowest)


def _coverage_line(run) -> str:
    """Scored and excluded accounts, by reason: a portfolio never shrinks without a word."""
    ex = run.frames.excluded
    line = f"scored {len(run.frames.snapshots):,} snapshots; not scored: {len(ex):,}"
    if len(ex):
        by = ex.groupby("reason").size().sort_values(ascending=False)
        line += " (" + "; ".join(f"{n:,} {reason}" for reason, n in by.items()) + \
                "; 'healthscore score --excluded' lists them)"
    return line


def _print_excluded(rows: list[dict]) -> None:
    from rich.table import Table

    t = Table(title=f"{len(rows):,} accounts not scored")
    for col in ("account", "as of", "reason"):
        t.add_column(col)
    for r in rows:
        t.add_row(r["account_id"], r["as_of"], r["reason"])
    _console().print(t)


def print_portfolio_summary(run, lowest: int = 10) -> None:
    from rich.table import Table

    from healthscore.explain.evidence import snapshot_dicts

    con = _console()
    snaps = run.frames.snapshots
    as_of = run.as_of_dates[-1]
    con.print(f"\nScored [bold]{len(snaps):,}[/] accounts as of [bold]{as_of}[/] with model {run.model_version}"
              + (f" ({run.inserted:,} new snapshots stored)" if run.run_id else " (nothing stored)"))
    if run.frames.excluded is not None and len(run.frames.excluded):
        con.print("Not scored:" + _coverage_line(run).split("not scored:", 1)[1], highlight=False)
    if run.missing_tables:
        con.print(f"[yellow]not in the engine:[/] {', '.join(sorted(run.missing_tables))}")
    t = Table(title="Tier distribution")
    for col in ("tier / status", "accounts", "share", "ARR"):
        t.add_column(col, justify="left" if col == "tier / status" else "right")
    total = max(len(snaps), 1)
    styles = {"green": "green", "yellow": "yellow", "red": "red"}
    groups = snaps.assign(key=snaps["tier"].where(snaps["tier"].notna(), snaps["status"]))
    for key in ["green", "yellow", "red", "onboarding", "insufficient_data", "paused"]:
        sub = groups[groups["key"] == key]
        if len(sub) == 0:
            continue
        arr = sub["arr"].fillna(0).sum() if "arr" in sub else 0
        style = styles.get(key, "dim")
        t.add_row(f"[{style}]{key}[/]", f"{len(sub):,}", f"{len(sub) / total:.1%}", f"{arr:,.0f}")
    con.print(t)
    scored = snaps[snaps["status"] == "scored"].nsmallest(lowest, "score")
    if len(scored):
        idx = set(zip(scored["account_id"], scored["as_of"]))
        ev = run.frames.evidence
        sub_frames = type(run.frames)(snapshots=scored, evidence=ev[[k in idx for k in zip(ev["account_id"], ev["as_of"])]])
        lt = Table(title=f"{len(scored)} lowest health scores")
        for col in ("account", "name", "owner", "score", "tier", "confidence", "main driver"):
            lt.add_column(col, justify="right" if col in ("score", "confidence") else "left")
        for s in snapshot_dicts(sub_frames):
            tier = s["tier"] or ""
            lt.add_row(s["account_id"], s["account"]["name"] or "", s["account"]["owner"] or "", f"{s['score']:.1f}",
                       f"[{styles.get(tier, 'dim')}]{tier}[/]", f"{s['confidence']:.2f}", s["primary_driver"] or "")
        con.print(lt)
        con.print("Explain one: [bold]healthscore explain ACCOUNT_ID[/]")


@app.command()
def explain(
    account_id: str = typer.Argument(..., help="the account to explain"),
    workspace: Path = WorkspaceOpt,
    as_of: str | None = AsOfOpt,
    compare: str | None = typer.Option(None, "--compare", help="earlier date: attribute the change since then"),
    json_out: bool = JsonOpt,
    fresh: bool = typer.Option(False, "--fresh", help="compute from the engine now instead of reading the stored"
                                                      " snapshot (nothing is stored)"),
):
    """Show an account's snapshot: score, tier, components, and the evidence behind every point.

    Reads the stored snapshot (without --as-of: the newest); a date without one is computed now and
    not stored ('healthscore score --as-of DATE' stores it)."""
    with _project(workspace) as p:
        snap = p.explain(account_id, _date(as_of, "--as-of"), _date(compare, "--compare"), fresh=fresh)
    if not snap.get("stored", True):
        sys.stderr.write(f"note: {account_id} has no stored snapshot at {snap['as_of']} under this model (or --fresh):"
                         " computed from the engine now, nothing stored\n")
    if json_out:
        _print_json(snap)
        return
    print_snapshot(snap)
    if "change" in snap:
        print_change(snap["change"], snap["trend_note"])


# Where an account attribute came from as of the snapshot's date (engine/attributes.py).
_AS_OF_SOURCE = {"subscriptions": "subscriptions", "account_changes": "history",
                 "current": "today's value, not as of the date"}


def print_snapshot(snap: dict) -> None:
    from rich.panel import Panel
    from rich.table import Table

    con = _console()
    tier = snap["tier"] or "-"
    color = {"green": "green", "yellow": "yellow", "red": "red"}.get(tier, "white")
    score = "-" if snap["score"] is None else f"{snap['score']:.2f}"
    acc = snap.get("account") or {}
    head = (f"[bold]{snap['account_id']}[/] {acc.get('name') or ''}   owner {acc.get('owner') or '-'}\n"
            f"score [bold {color}]{score}[/]  tier [{color}]{tier}[/]  status {snap['status']}  "
            f"confidence {snap['confidence']:.2f}  coverage {snap['coverage']:.0%}\n"
            f"as of {snap['as_of']}  model {snap['model_version']}  segment {snap.get('segment') or '-'}")
    con.print(Panel(head, title="Health snapshot", expand=False))
    ct = Table(title="Components")
    for col in ("component", "score", "weight", "coverage"):
        ct.add_column(col, justify="left" if col == "component" else "right")
    for c in snap["components"]:
        ct.add_row(c["name"], "-" if c["score"] is None else f"{c['score']:.1f}", f"{c['weight']:.0%}",
                   f"{c['coverage']:.0%}")
    con.print(ct)
    et = Table(title="Evidence (points add up to the score)")
    for col in ("metric", "component", "value", "window", "source", "rows", "latest", "score", "weight", "points"):
        et.add_column(col, justify="right" if col in ("value", "rows", "score", "weight", "points") else "left")
    total = 0.0
    for e in snap["evidence"]:
        v = e["value"]
        value = "-" if v is None else (f"{v:,.2f}" if isinstance(v, float) else str(v))
        pts = "-" if e["points"] is None else f"{e['points']:.2f}"
        total += e["points"] or 0.0
        source = e["source"] + (f" ({_AS_OF_SOURCE[e['as_of_source']]})" if e.get("as_of_source") else "")
        et.add_row(e["metric"], e["component"], value, e["window"], source, f"{e['rows']:,}",
                   (e["latest_at"] or "-")[:10], "-" if e["score"] is None else f"{e['score']:.0f}",
                   f"{e['weight']:.1%}", pts)
    if snap["score"] is not None:
        et.add_row("[bold]total[/]", "", "", "", "", "", "", "", "", f"[bold]{total:.2f}[/]")
    con.print(et)
    for r in snap["reasons"]:
        con.print(f"  - {r}")


def print_change(change: dict, note: str) -> None:
    from rich.table import Table

    con = _console()
    a, b = change["from"], change["to"]
    if change["delta"] is None:
        con.print(f"[yellow]{note}[/]")
        return
    t = Table(title=f"Change {a['as_of']} -> {b['as_of']}: {change['delta']:+.2f} points (parts add up to it)")
    for col in ("part", "value before", "value after", "score before", "score after", "points", "from score",
                "from weight"):
        t.add_column(col, justify="left" if col == "part" else "right")
    num = lambda v, f="{:.2f}": "-" if v is None else (f.format(v) if isinstance(v, (int, float)) else str(v))  # noqa: E731
    for m in change["metrics"]:
        if abs(m["points"]) < 0.005:
            continue
        t.add_row(m["metric"], num(m["value_before"]), num(m["value_after"]), num(m["score_before"], "{:.0f}"),
                  num(m["score_after"], "{:.0f}"), f"{m['points']:+.2f}", f"{m['score_part']:+.2f}",
                  f"{m['weight_part']:+.2f}")
    if change["model_version_part"]:
        t.add_row(f"model {a['model_version']} -> {b['model_version']}", "", "", "", "",
                  f"{change['model_version_part']:+.2f}", "", "")
    con.print(t)
    con.print(f"[bold]Trend note:[/] {note}")


@app.command()
def history(
    account_id: str = typer.Argument(..., help="the account"),
    workspace: Path = WorkspaceOpt,
    date_from: str | None = typer.Option(None, "--from", help="first as-of date (inclusive)"),
    date_to: str | None = typer.Option(None, "--to", help="last as-of date (inclusive)"),
    json_out: bool = JsonOpt,
):
    """List an account's stored snapshots over time."""
    from rich.table import Table

    from healthscore.views import live_of

    with _project(workspace) as p:
        rows = p.history(account_id, _date(date_from, "--from"), _date(date_to, "--to"))
        live = live_of(p, account_id)
    if json_out:
        _print_json_lines(rows + ([live] if live else []))  # the live one last, marked "live": true
        return
    con = _console()
    if live:
        con.print(f"[bold]Live[/] score {live['score'] if live['score'] is not None else '-'} "
                  f"({live['tier'] or live['status']}) scored {str(live['scored_at'])[:19]} UTC from events received "
                  f"{str(live['received_at'])[:19]} UTC (healthscore stream / POST /api/v1/events)")
    if not rows:
        con.print(f"No stored snapshots for {account_id}. Run 'healthscore score' (or explain) first.")
        return
    t = Table(title=f"History of {account_id}")
    for col in ("as of", "score", "smoothed", "tier", "status", "confidence", "model", "trend note"):
        t.add_column(col, justify="right" if col in ("score", "smoothed", "confidence") else "left")
    num = lambda v: "-" if v is None else f"{v:.1f}"  # noqa: E731
    for r in rows:
        t.add_row(r["as_of"], num(r["score"]), num(r.get("smoothed_score")), r["tier"] or "-", r["status"],
                  f"{r['confidence']:.2f}", r["model_version"], r.get("trend_note") or "")
    con.print(t)


def _every(value: str, flag: str = "--every") -> int:
    from healthscore.model.windows import parse_days

    days = parse_days(value.strip())
    if not days:
        raise UserError(f"{flag} {value!r} is not a duration; use days or weeks, e.g. 1d, 7d or 2w")
    return days


@app.command()
def backfill(
    workspace: Path = WorkspaceOpt,
    date_from: str = typer.Option(..., "--from", help="first as-of date YYYY-MM-DD"),
    date_to: str = typer.Option(..., "--to", help="last as-of date YYYY-MM-DD (inclusive)"),
    every: str = typer.Option("7d", "--every", help="step between as-of dates: 1d, 7d, 2w ..."),
    json_out: bool = JsonOpt,
    write_back: bool | None = typer.Option(None, "--write-back/--no-write-back",
                                              help="also write the snapshots of the range to the engine's"
                                                   " health_snapshots / health_evidence"),
):
    """Score every account at every date of a range; resumes where an interrupted run stopped."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    start, end, step = _date(date_from, "--from"), _date(date_to, "--to"), _every(every)
    with _project(workspace) as p:
        with Progress(TextColumn("backfill"), BarColumn(), MofNCompleteColumn(), TextColumn("dates"),
                      TimeElapsedColumn(), TimeRemainingColumn(), disable=json_out) as bar:
            task = bar.add_task("backfill", total=None)
            result = p.backfill(start, end, step, progress=lambda done, total: bar.update(task, completed=done,
                                                                                       total=total),
                                write_back=write_back)
    if json_out:
        _print_json(result)
        return
    completed = f", {result['completed_dates']} completed for accounts added later" if result.get("completed_dates") else ""
    _console().print(f"Backfilled {result['dates']} dates ({result['already_stored']} already stored{completed}) with model "
                     f"{result['model_version']}: {result['snapshots_written']:,} snapshots written, "
                     f"{result['dates_per_pass']} dates per engine pass.")


@app.command()
def changes(
    workspace: Path = WorkspaceOpt,
    since: str = typer.Option(..., "--since", help="list material changes at or after this date"),
    json_out: bool = JsonOpt,
    limit: int = typer.Option(50, "--limit", help="rows to show (the JSON output has all)"),
    offset: int = typer.Option(0, "--offset", min=0, help="rows to skip (the next page)"),
):
    """Material score changes (per the model's history.material_change) with their main driver, newest first."""
    from rich.table import Table

    with _project(workspace) as p:
        rows = p.changes(_date(since, "--since"))
    if json_out:
        _print_json_lines(rows)
        return
    con = _console()
    if not rows:
        con.print(f"No material changes since {since} in the stored snapshots (run 'healthscore backfill' first?).")
        return
    page = rows[offset:offset + limit]
    t = Table(title=f"{_n_of_m(len(page), len(rows), offset)} material changes since {since}, newest first")
    for col in ("as of", "account", "from", "to", "delta", "smoothed", "tiers", "main driver", "note"):
        t.add_column(col, justify="right" if col in ("from", "to", "delta", "smoothed") else "left")
    f = lambda v: "-" if v is None else f"{v:.1f}"  # noqa: E731
    for r in page:
        t.add_row(r["as_of"], r["account_id"], f(r["previous_score"]), f(r["score"]),
                  "-" if r["delta"] is None else f"{r['delta']:+.1f}", f(r.get("smoothed_score")),
                  f"{r['previous_tier'] or '-'} -> {r['tier'] or r['status']}", r["primary_driver"] or "-",
                  r["trend_note"] or "")
    con.print(t)
    _more(con, len(page), len(rows), offset)


def _n_of_m(shown: int, total: int, offset: int = 0) -> str:
    """A list's honest size: "50 of 1,794" when it is cut, "12" when it is whole."""
    if shown >= total and offset == 0:
        return f"{total:,}"
    first = offset + 1 if shown else offset
    return f"{first:,}-{offset + shown:,} of {total:,}" if offset else f"{shown:,} of {total:,}"


def _more(con, shown: int, total: int, offset: int) -> None:
    if offset + shown < total:
        con.print(f"Showing {shown:,} of {total:,}: {total - offset - shown:,} more with --offset {offset + shown}"
                  " (or --limit N, or --json for all).")


@app.command()
def demo(
    accounts: int = typer.Option(2000, "--accounts", help="number of accounts to generate"),
    seed: int = typer.Option(7, "--seed", help="random seed (same seed and end date: same data)"),
    directory: Path = typer.Option(Path("demo-workspace"), "--dir", help="where to create the demo workspace"),
    end: str | None = typer.Option(None, "--end", help="last day of data + 1 (default: today, UTC)"),
    history_weeks: int = typer.Option(8, "--history-weeks", help="weekly snapshots to store before the end date"),
    json_out: bool = JsonOpt,
):
    """Generate a realistic B2B SaaS portfolio, ingest, score, store weekly history, run the weekly review and add
    demo users for the web app (their logins are printed)."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from healthscore.scaffold import build_demo, demo_workflow

    end_date = _date(end, "--end")
    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  TimeElapsedColumn(), transient=True, disable=json_out) as bar:
        task = bar.add_task("generating", total=None)

        def progress(step: str, done: int, total: int) -> None:
            bar.update(task, description=step, completed=done, total=total)

        run, counts = build_demo(directory, accounts=accounts, seed=seed, end=end_date, progress=progress,
                                 history_weeks=history_weeks)
        extra = demo_workflow(directory, run.as_of_dates[-1], progress=progress)
    if json_out:
        snaps = run.frames.snapshots
        _print_json({"workspace": str(directory.resolve()), "rows": counts, "as_of": str(run.as_of_dates[-1]),
                     "model_version": run.model_version,
                     "tiers": snaps["tier"].fillna(snaps["status"]).value_counts().to_dict(),
                     "tasks": extra["weekly"]["tasks"], "logins": extra["logins"]})
        return
    con = _console()
    con.print(f"[green]Demo workspace[/] {directory}: " + ", ".join(f"{t} {n:,}" for t, n in counts.items()))
    print_portfolio_summary(run)
    snaps = run.frames.snapshots
    lowest = snaps[snaps["status"] == "scored"].nsmallest(1, "score")["account_id"].tolist() or ["ACCOUNT_ID"]
    exe = _command_name()
    con.print(f"\nNext, copy and paste:\n  {exe} explain {lowest[0]} -w {directory}\n"
              f"  {exe} backfill -w {directory} --from {run.as_of_dates[-1].replace(day=1).replace(month=1)}"
              f" --to {run.as_of_dates[-1]} --every 7d\n  {exe} changes -w {directory} --since"
              f" {run.as_of_dates[-1] - dt.timedelta(days=28)}\n  {exe} run weekly -w {directory}\n"
              f"  {exe} tasks -w {directory}", highlight=False)
    con.print(f"\nWeekly review run: {extra['weekly']['tasks']['created']} review tasks created. Web app logins"
              f" ({exe} serve -w {directory}):", highlight=False)
    for u in extra["logins"]:
        con.print(f"  {u['username']:<10} {u['role']:<8} password: {u['password']}", highlight=False)
    con.print(f"CLI identities (demo only): an API token per user in {directory / '.healthscore' / 'credentials'};"
              " '--by dana.kim' picks hers (docs/governance.md).", highlight=False)


# ---- the review workflow ----------------------------------------------------------------------

run_app = typer.Typer(help="Scheduled workflow jobs.", no_args_is_help=True)
report_app = typer.Typer(help="Reports on how the health program works.", no_args_is_help=True)
audit_app = typer.Typer(help="The append-only, hash-chained audit log.", no_args_is_help=True)
app.add_typer(run_app, name="run")
app.add_typer(report_app, name="report")
app.add_typer(audit_app, name="audit")

ByOpt = typer.Option(None, "--by", help="which of your verified identities acts (an API token in $HEALTHSCORE_TOKEN"
                     " or a credentials file, or your mapped OS account); never anyone else")


def _actor(p, by: str | None, action: str, account_id: str | None = None) -> str:
    """The verified store user this command acts as, authorized for the action (healthscore.authz)."""
    from healthscore.authz import cli_actor

    return cli_actor(p, by, action, account_id)


@run_app.command("weekly")
def run_weekly(
    workspace: Path = WorkspaceOpt,
    as_of: str | None = AsOfOpt,
    no_notify: bool = typer.Option(False, "--no-notify", help="record alerts and tasks, send nothing"),
    json_out: bool = JsonOpt,
):
    """The weekly account review: score, raise alerts (deduped, budgeted), create owner review tasks."""
    with _project(workspace) as p:
        result = p.run_weekly(_date(as_of, "--as-of"), notify=not no_notify)
    if json_out:
        _print_json(result)
        return
    con = _console()
    a, t = result["alerts"], result["tasks"]
    con.print(f"Weekly review {result['week']} (as of {result['as_of']}): {result['accounts']:,} accounts scored, "
              f"{result['material_changes']:,} material changes")
    con.print(f"  alerts fired: {a['fired']:,} " + " ".join(f"{k} {v:,}" for k, v in sorted(a["by_status"].items())))
    for rule, n in sorted(a["by_rule"].items(), key=lambda kv: -kv[1]):
        con.print(f"    {rule}: {n:,}")
    con.print(f"  review tasks: {t['created']:,} created, {t['already_open_this_week']:,} already open this week")
    if "candidates" in t:
        con.print(f"  triage: {t['candidates']:,} candidates; {t['open']:,} open tasks now (each owner at most their "
                  f"capacity), {t['backlog']:,} in the ranked backlog, {t['superseded']:,} superseded, "
                  f"{t.get('closed_not_scored', 0):,} closed (account not scored); {result.get('good_news', 0):,} "
                  "rises sent to the digests as good news")
        for owner, o in sorted(t["by_owner"].items()):
            con.print(f"    {owner}: {o['open']} of {o['capacity']} ({o['new']} new, {o['high']} high), "
                      f"{o['backlog']} in the backlog")
    d = result["deliveries"]
    if d["ok"] or d["failed"]:
        con.print(f"  notifications: {d['ok']} delivered, {d['failed']} failed (recorded)")
    con.print("Next: [bold]healthscore tasks --owner NAME[/], then [bold]healthscore review TASK --accept[/]")


@app.command()
def tasks(
    workspace: Path = WorkspaceOpt,
    owner: str | None = typer.Option(None, "--owner", help="only this owner's (or queue's) tasks"),
    status: str = typer.Option("open", "--status", help="open, backlog, accepted, corrected, dismissed, superseded, "
                                                        "closed or all"),
    account: str | None = typer.Option(None, "--account", help="only this account's tasks"),
    show: int | None = typer.Option(None, "--show", help="show one task in full, with its evidence"),
    json_out: bool = JsonOpt,
    limit: int = typer.Option(50, "--limit", help="rows to show (the JSON output has all)"),
    offset: int = typer.Option(0, "--offset", min=0, help="rows to skip (the next page)"),
):
    """Owner review tasks, by rank (expected ARR at risk): what to look at, why, and the drafted next action.
    --status backlog lists the ranked backlog the weekly triage left over."""
    from rich.table import Table

    with _project(workspace) as p:
        rows = [p.task(show)] if show is not None else p.tasks(owner, status, account)
    rows = rows if show is not None else sort_tasks(rows)
    if json_out:
        _print_json_lines(rows)
        return
    con = _console()
    if show is not None:
        print_task(rows[0])
        return
    if not rows:
        con.print(f"No {status} review tasks{' for ' + owner if owner else ''}. Run 'healthscore run weekly' first?")
        return
    page = rows[offset:offset + limit]
    t = Table(title=f"{_n_of_m(len(page), len(rows), offset)} {status} review tasks"
                    f"{' of ' + owner if owner else ''}, by rank")
    for col in ("task", "rank", "due", "account", "owner", "priority", "ARR at risk", "score", "smoothed", "tier",
                "why", "next action"):
        t.add_column(col, justify="right" if col in ("task", "rank", "score", "smoothed", "ARR at risk") else "left")
    for r in page:
        why = ", ".join(x["name"].replace("_", " ") for x in r["triggers"] if x["kind"] != "routing")
        tri = r["next_action"].get("triage") or {}
        sm = tri.get("smoothed_score")
        t.add_row(str(r["task_id"]), str(r.get("rank") or "-"), r["due_at"], r["account_id"], r["queue"],
                  r["priority"], "-" if r.get("expected_arr_at_risk") is None else f"{r['expected_arr_at_risk']:,.0f}",
                  "-" if r["score"] is None else f"{r['score']:.1f}", "-" if sm is None else f"{sm:.1f}",
                  r["tier"] or r["snapshot_status"], why, r["next_action"]["action"])
    con.print(t)
    _more(con, len(page), len(rows), offset)
    con.print("Open one: [bold]healthscore tasks --show TASK[/]")


def sort_tasks(rows: list[dict]) -> list[dict]:
    """Tasks by what matters: owner (queue), then the weekly triage's rank, then due date."""
    return sorted(rows, key=lambda r: (r["queue"] or "", r.get("rank") is None, r.get("rank") or 0, r["due_at"],
                                       r["task_id"]))


def print_task(task: dict) -> None:
    from rich.panel import Panel
    from rich.table import Table

    con = _console()
    na = task["next_action"]
    score = "-" if task["score"] is None else f"{task['score']:.1f}"
    head = (f"[bold]Task {task['task_id']}[/] {task['account_id']}  owner {task['queue']}  priority {task['priority']}"
            f"  due {task['due_at']}  status {task['status']}\n"
            f"score {score}  tier {task['tier'] or task['snapshot_status']}  as of {task['as_of']}\n"
            f"{task['trend_note'] or ''}")
    con.print(Panel(head, title="Review task", expand=False))
    for x in task["triggers"]:
        con.print(f"  - {x['kind']}: {x['note']}")
    con.print(Panel(f"{na['action']}\nwho: {na['assignee']}  channel: {na['channel']}  ({'; '.join(na['why'])})\n"
                    f"[dim]{na['notice']}[/]", title=f"Drafted next action ({na['playbook'] or 'default'})",
                    expand=False))
    et = Table(title="Evidence")
    for col in ("metric", "value", "score", "points", "window", "latest"):
        et.add_column(col, justify="right" if col in ("value", "score", "points") else "left")
    # What cost the most points first: what the reviewer should look at.
    lost = lambda e: -((e.get("weight") or 0.0) * (100.0 - (e["score"] if e.get("score") is not None else 100.0)))  # noqa: E731
    for e in sorted(task["evidence"], key=lost)[:12]:
        fmt = lambda v: "-" if v is None else f"{v:.2f}" if isinstance(v, float) else str(v)  # noqa: E731
        et.add_row(e["metric"], fmt(e.get("value")), fmt(e.get("score")), fmt(e.get("points")), e.get("window") or "",
                   (e.get("latest_at") or "-")[:10])
    con.print(et)
    if task["status"] != "open":
        con.print(f"Decided: {task['status']} by {task['decided_by']} at {task['decided_at']}"
                  f" ({task['reason_code'] or ''} {task['note'] or ''})")
    else:
        con.print(f"Decide: healthscore review {task['task_id']} --accept | --correct --score N --reason-code CODE "
                  "--note TEXT --expires DATE | --dismiss --reason TEXT", highlight=False)


@app.command()
def review(
    task_id: int = typer.Argument(..., help="the task number (see 'healthscore tasks')"),
    workspace: Path = WorkspaceOpt,
    accept: bool = typer.Option(False, "--accept", help="the score and the drafted action are right"),
    correct: bool = typer.Option(False, "--correct", help="override the score or tier (reason code, note, expiry)"),
    dismiss: bool = typer.Option(False, "--dismiss", help="a false positive (give --reason)"),
    score: float | None = typer.Option(None, "--score", help="with --correct: the score to show instead"),
    tier: str | None = typer.Option(None, "--tier", help="with --correct: green, yellow or red"),
    reason_code: str | None = typer.Option(None, "--reason-code", help="with --correct: why (see the model)"),
    note: str | None = typer.Option(None, "--note", "--reason", help="free text: why"),
    expires: str | None = typer.Option(None, "--expires", help="with --correct: last day + 1 of the override"),
    by: str | None = ByOpt,
    json_out: bool = JsonOpt,
):
    """Decide on a review task: accept, correct (override with expiry), or dismiss as a false positive."""
    chosen = [name for name, on in (("accept", accept), ("correct", correct), ("dismiss", dismiss)) if on]
    if len(chosen) != 1:
        raise UserError("give exactly one of --accept, --correct or --dismiss")
    with _project(workspace) as p:
        actor = _actor(p, by, "review", p.task(task_id)["account_id"])
        result = p.review(task_id, chosen[0], actor, score=score, tier=tier, reason_code=reason_code, note=note,
                          expires=_date(expires, "--expires"))
    if json_out:
        _print_json(result)
        return
    extra = f" (override {result['override_id']})" if result.get("override_id") else ""
    _console().print(f"Task {task_id} {result['status']} by {result['decided_by']}{extra}; recorded in the audit log.")


@app.command()
def followup(
    task_id: int = typer.Argument(..., help="an accepted or corrected task"),
    workspace: Path = WorkspaceOpt,
    note: str = typer.Option(..., "--note", help="what was done"),
    by: str | None = ByOpt,
    json_out: bool = JsonOpt,
):
    """Log that the follow-up of a reviewed task was done (owner follow-through)."""
    with _project(workspace) as p:
        actor = _actor(p, by, "review", p.task(task_id)["account_id"])
        result = p.follow_up(task_id, actor, note)
    if json_out:
        _print_json(result)
        return
    _console().print(f"Follow-up of task {task_id} logged by {actor}.")


@app.command()
def alerts(
    workspace: Path = WorkspaceOpt,
    since: str | None = typer.Option(None, "--since", help="alerts of as-of dates at or after this date"),
    owner: str | None = typer.Option(None, "--owner", help="only this owner's (or queue's) alerts"),
    status: str | None = typer.Option(None, "--status", help="sent, digest or capped"),
    json_out: bool = JsonOpt,
    limit: int = typer.Option(50, "--limit", help="rows to show (the JSON output has all)"),
):
    """Alerts raised by weekly runs, with the evidence and snapshot they came from."""
    from rich.table import Table

    with _project(workspace) as p:
        rows = p.alerts(_date(since, "--since"), owner, status)
    if json_out:
        _print_json_lines(rows)
        return
    con = _console()
    if not rows:
        con.print("No alerts. Run 'healthscore run weekly' first?")
        return
    t = Table(title=f"{_n_of_m(min(limit, len(rows)), len(rows))} alerts")
    for col in ("as of", "account", "rule", "severity", "owner", "status", "task", "note"):
        t.add_column(col)
    for r in rows[:limit]:
        t.add_row(r["as_of"], r["account_id"], r["rule"], r["severity"], r["queue"], r["status"],
                  str(r["task_id"] or "-"), r["note"])
    con.print(t)
    _more(con, min(limit, len(rows)), len(rows), 0)


@report_app.command("measurement")
def report_measurement(
    workspace: Path = WorkspaceOpt,
    horizon: str = typer.Option("90d", "--horizon", help="outcome horizon: false positives and missed risks"),
    json_out: bool = JsonOpt,
):
    """Is the score reviewed, trusted and right? Validation rate, false positives, missed risks, follow-through."""
    with _project(workspace) as p:
        r = p.measurement_report(_every(horizon, "--horizon"))
    if json_out:
        _print_json(r)
        return
    con = _console()
    pct = lambda v: "-" if v is None else f"{v:.0%}"  # noqa: E731
    m, v, o = r["material_changes"], r["validation"], r["outcomes"]
    con.print(f"Material changes reviewed: {m['reviewed']:,} of {m['total']:,} ({pct(m['share_reviewed'])})")
    verdict = "-" if v["meets_threshold"] is None else ("meets" if v["meets_threshold"] else "below")
    con.print(f"Signal validation rate: {pct(r['health_score_signal_validation_rate'])} ({v['validated']} of "
              f"{v['reviewed_material_changes']}); {verdict} the {v['threshold']:.0%} pilot threshold")
    con.print(f"Time to decision (hours): median {r['time_to_decision_hours']['median']}, "
              f"p90 {r['time_to_decision_hours']['p90']}")
    con.print(f"Tasks: {r['tasks']}")
    if v.get("note"):
        con.print(f"  ({v['note']})")
    elif v.get("interval_95"):
        con.print(f"  95% interval of the validation rate: {pct(v['interval_95'][0])}-{pct(v['interval_95'][1])}")
    tk = r.get("tasking") or {}
    rc, pr = tk.get("recall"), tk.get("precision")
    if rc:
        iv = rc["interval_95"]
        con.print(f"Tasking recall: {pct(rc['arr_share'])} of the ARR that churned or contracted after {tk['from']} "
                  f"({rc['arr_tasked_first']:,.0f} of {rc['arr_lost']:,.0f}; {rc['events_tasked_first']} of "
                  f"{rc['events']} events) had a task first" + (f"; 95% interval {pct(iv[0])}-{pct(iv[1])}" if iv else ""))
    if pr:
        iv = pr["interval_95"]
        con.print(f"Tasking precision: {pct(pr['rate'])} of {pr['tasked_accounts']} tasked accounts churned, contracted "
                  f"or were corrected" + (f" (95% {pct(iv[0])}-{pct(iv[1])})" if iv else "") +
                  f"; base rate in the same windows {pct(pr.get('base_rate_same_windows'))}"
                  + (f" (lift {pr['lift']}x)" if pr["lift"] is not None else "")
                  + f"; over the whole period {pct(pr['base_rate'])}"
                  + (f" (lift {pr['lift_vs_whole_period']}x)" if pr.get("lift_vs_whole_period") is not None else ""))
    con.print(f"Owner follow-through: {pct(r['owner_follow_through']['share'])}")
    if o.get("evaluated_as_of"):
        con.print(f"As of {o['evaluated_as_of']} ({o['horizon_days']}-day horizon): false positives "
                  f"{o['false_positives']} ({pct(o['false_positive_rate'])} of red/yellow), missed risks "
                  f"{o['missed_risks']} ({pct(o['missed_risk_rate'])} of green); churn by tier "
                  + ", ".join(f"{k} {pct(v)}" for k, v in o["churn_rate_by_tier"].items()))
    else:
        con.print(f"Outcomes: {o.get('note')}")


@audit_app.command("verify")
def audit_verify(workspace: Path = WorkspaceOpt, json_out: bool = JsonOpt):
    """Recompute the audit log's hash chain; exits 1 naming the first entry that was changed."""
    with _project(workspace) as p:
        r = p.audit_verify()
    if json_out:
        _print_json(r)
    elif r["ok"]:
        _console().print(f"[green]OK[/] audit log intact: {r['entries']:,} entries, head {r['head'][:12]}")
    else:
        _console().print(f"[red]TAMPERED[/] {r['problem']}")
    if not r["ok"]:
        raise SystemExit(1)


@audit_app.command("log")
def audit_log(
    workspace: Path = WorkspaceOpt,
    limit: int = typer.Option(20, "--limit", help="the newest entries to show"),
    json_out: bool = JsonOpt,
):
    """The newest audit entries: who did what, when, before and after."""
    from rich.table import Table

    with _project(workspace) as p:
        rows = p.audit_log(limit)
    if json_out:
        _print_json_lines(rows)
        return
    t = Table(title="Audit log")
    for col in ("seq", "at", "actor", "action", "object", "after"):
        t.add_column(col)
    for r in rows:
        t.add_row(str(r["seq"]), r["at"][:19], r["actor"], r["action"], f"{r['object_type']} {r['object_id']}",
                  json.dumps(r["after"])[:80])
    _console().print(t)


# ---- users, API tokens and model governance ------------------------------------------------

user_app = typer.Typer(help="Users and roles (admin, manager, csm, viewer).", no_args_is_help=True)
token_app = typer.Typer(help="API tokens for integrations (hashed at rest, scoped, revocable).", no_args_is_help=True)
model_app = typer.Typer(help="Model versions: propose, review the diff and backtest, approve (admin).",
                        no_args_is_help=True)
app.add_typer(user_app, name="user")
app.add_typer(token_app, name="token")
app.add_typer(model_app, name="model")


def _password(password_stdin: bool, what: str = "--password-stdin") -> str | None:
    if not password_stdin:
        return None
    value = sys.stdin.readline().rstrip("\n")
    if not value:
        raise UserError(f"{what}: no password on standard input")
    return value


OsUserOpt = typer.Option(None, "--os-user", help="the OS account that acts as this user on the command line")


@user_app.command("add")
def user_add(
    username: str = typer.Argument(..., help="the login name, e.g. dana.kim (owners in the accounts table)"),
    role: str = typer.Option(..., "--role", help="admin, manager, csm or viewer"),
    workspace: Path = WorkspaceOpt,
    password_stdin: bool = typer.Option(False, "--password-stdin", help="read a password for web logins from stdin"),
    name: str | None = typer.Option(None, "--name", help="display name"),
    os_user: str | None = OsUserOpt,
    by: str | None = ByOpt,
    json_out: bool = JsonOpt,
):
    """Add a user (an admin does this). The first user of a store is an admin who adds themselves: their OS
    account (or --os-user) acts as them from then on."""
    from healthscore.authz import os_login

    with _project(workspace) as p:
        if not p.store.users():  # bootstrap: nobody to verify yet
            if by and by != username:
                raise UserError(f"--by {by}: the store has no users yet; its first user ({username}) adds themselves")
            actor, os_user = username, os_user or os_login()
        else:
            actor = _actor(p, by, "users")
        u = p.user_add(username, role, actor, password=_password(password_stdin), display_name=name,
                       os_user=os_user)
    if json_out:
        _print_json(u)
        return
    mapped = f"; acts as OS user {u['os_user']} on the command line" if u["os_user"] else ""
    _console().print(f"Added {u['username']} ({u['role']}){'' if u['has_password'] else '; no password: no web login'}"
                     f"{mapped}.", highlight=False)


@user_app.command("set")
def user_set(
    username: str = typer.Argument(...),
    workspace: Path = WorkspaceOpt,
    role: str | None = typer.Option(None, "--role", help="a new role"),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="read a new password from stdin"),
    disable: bool | None = typer.Option(None, "--disable/--enable", help="disable or enable the login"),
    old_password_stdin: bool = typer.Option(False, "--old-password-stdin",
                                            help="your current password, on the line before the new one"),
    os_user: str | None = typer.Option(None, "--os-user",
                                          help="the OS account that acts as this user ('' to remove)"),
    by: str | None = ByOpt,
    json_out: bool = JsonOpt,
):
    """Change a user's role, password, OS account or whether it can log in (admins; anyone for their own
    password, with the current one)."""
    old = _password(old_password_stdin, "--old-password-stdin")
    with _project(workspace) as p:
        actor = _actor(p, by, "read")
        u = p.user_set(username, actor, role=role, password=_password(password_stdin), disabled=disable,
                       old_password=old, os_user=os_user)
    if json_out:
        _print_json(u)
        return
    _console().print(f"{u['username']}: role {u['role']}{', disabled' if u['disabled_at'] else ''}.")


@user_app.command("list")
def user_list(workspace: Path = WorkspaceOpt, json_out: bool = JsonOpt):
    """Users and their roles."""
    from rich.table import Table

    with _project(workspace) as p:
        rows = p.store.users()
    if json_out:
        _print_json_lines(rows)
        return
    t = Table(title="Users")
    for col in ("user", "role", "web login", "created", "disabled"):
        t.add_column(col)
    for u in rows:
        t.add_row(u["username"], u["role"], "yes" if u["has_password"] else "no", u["created_at"][:10],
                  (u["disabled_at"] or "")[:10])
    _console().print(t)


@token_app.command("create")
def token_create(
    name: str = typer.Argument(..., help="what the token is for, e.g. segment-webhook"),
    workspace: Path = WorkspaceOpt,
    user: str = typer.Option(..., "--user", help="the token acts with this user's role"),
    scope: list[str] = typer.Option(["read"], "--scope", help="read, write, events:write (repeat the flag)"),
    by: str | None = ByOpt,
    json_out: bool = JsonOpt,
):
    """Create an API token; the secret is shown once and only its hash is stored."""
    with _project(workspace) as p:
        token, secret = p.token_create(user, name, scope, _actor(p, by, "read"))
    if json_out:
        _print_json({**token, "secret": secret})
        return
    _console().print(f"Token {token['token_id']} ({', '.join(token['scopes'])}) for {user}. Secret, shown once:\n"
                     f"  {secret}", highlight=False)


@token_app.command("list")
def token_list(workspace: Path = WorkspaceOpt, json_out: bool = JsonOpt):
    """API tokens (never their secrets)."""
    with _project(workspace) as p:
        rows = p.store.tokens()
    if json_out:
        _print_json_lines(rows)
        return
    for r in rows:
        state = f"revoked {r['revoked_at'][:10]}" if r["revoked_at"] else f"last used {(r['last_used_at'] or '-')[:10]}"
        _console().print(f"{r['token_id']}  {r['name']}  user {r['username']}  {','.join(r['scopes'])}  {state}")


@token_app.command("revoke")
def token_revoke(token_id: str = typer.Argument(...), workspace: Path = WorkspaceOpt, by: str | None = ByOpt):
    """Revoke an API token at once."""
    with _project(workspace) as p:
        p.store.revoke_token(token_id, _actor(p, by, "users"))
    _console().print(f"Token {token_id} revoked.")


@model_app.command("list")
def model_list(workspace: Path = WorkspaceOpt, json_out: bool = JsonOpt):
    """Model versions the store knows, with status (recorded, proposed, active, retired) and backtest."""
    from rich.table import Table

    with _project(workspace) as p:
        rows = p.model_list()
        notice = p.model_notice
    if json_out:
        _print_json_lines(rows)
        return
    t = Table(title="Model versions")
    for col in ("version", "name", "status", "author", "note", "AUC", "approved by", "created"):
        t.add_column(col)
    for r in rows:
        auc = (r["backtest"] or {}).get("roc_auc")
        t.add_row(r["version"], r["name"], r["status"], r["author"] or "-", (r["note"] or "")[:40],
                  "-" if auc is None else f"{auc:.3f}", r["approved_by"] or "-", r["created_at"][:10])
    con = _console()
    con.print(t)
    if notice:
        con.print(f"[yellow]{notice}[/]")


def _summary_line(bt: dict) -> str:
    """The headline an approver reads: held-out figures with their intervals, and what they are."""
    def ci(v, iv):
        return "-" if v is None else f"{v:.3f}" + (f" [{iv[0]:.3f}, {iv[1]:.3f}]" if iv else "")
    basis = {"held_out": f"held-out ({bt.get('method')})", "hand_set_weights": "backtest of hand-set weights"}.get(
        bt.get("basis"), "backtest")
    line = (f"{basis}: AUC {ci(bt.get('roc_auc'), bt.get('roc_auc_interval'))}, lowest-decile lift"
            f" {ci(bt.get('lowest_decile_lift'), bt.get('lowest_decile_lift_interval'))}")
    if bt.get("auc_gain") is not None:
        line += f", AUC gain over the model it came from {ci(bt['auc_gain'], bt.get('auc_gain_interval'))}"
    if bt.get("probability_adds_nothing"):
        line += "; the churn probability adds nothing over the base rate"
    return line


@model_app.command("propose")
def model_propose(
    path: Path | None = typer.Argument(None, help="model YAML (default: the workspace's model file)"),
    workspace: Path = WorkspaceOpt,
    note: str = typer.Option(..., "--note", help="what changed and why"),
    backtest: bool = typer.Option(True, "--backtest/--no-backtest", help="backtest the last year (default: yes)"),
    by: str | None = ByOpt,
    json_out: bool = JsonOpt,
):
    """Record a model file as a proposed version with its backtest; an admin approves it."""
    with _project(workspace) as p:
        r = p.model_propose(path, note, _actor(p, by, "model.propose"), backtest=backtest)
    if json_out:
        _print_json(r)
        return
    bt = r["backtest"] or {}
    figures = (_summary_line(bt) if bt.get("roc_auc") is not None else bt.get("skipped") or bt.get("note")
               or "no backtest")
    _console().print(f"Proposed {r['version']} ({r['name']}) by {r['author']}: {figures}.\n"
                     f"Review: healthscore model show {r['version']}   Approve (admin): healthscore model approve "
                     f"{r['version']}", highlight=False)


@model_app.command("show")
def model_show(version: str = typer.Argument(...), workspace: Path = WorkspaceOpt, json_out: bool = JsonOpt):
    """One version: status, author, note, backtest, and the diff against the active model."""
    with _project(workspace) as p:
        r = p.model_show(version)
    if json_out:
        _print_json(r)
        return
    con = _console()
    con.print(f"[bold]{r['version']}[/] {r['name']}  status {r['status']}  author {r['author'] or '-'}  "
              f"approved by {r['approved_by'] or '-'}\n{r['note'] or ''}")
    bt = r["backtest"] or {}
    if bt.get("roc_auc") is not None:
        con.print(_summary_line(bt), highlight=False)
        if bt.get("leaks"):
            con.print("[bold red]LEAK WARNING[/]: " + "; ".join(f"{lk['metric']} ({', '.join(lk['reasons'])})"
                                                             for lk in bt["leaks"]), highlight=False)
    con.print(f"backtest: {json.dumps(bt)}", highlight=False)
    from rich.syntax import Syntax

    con.print(Syntax(r["diff"] or "(no difference)", "diff"))


@model_app.command("approve")
def model_approve(version: str = typer.Argument(...), workspace: Path = WorkspaceOpt, by: str | None = ByOpt,
                  json_out: bool = JsonOpt):
    """Make a proposed version the active model (admin only; recorded in the audit log)."""
    with _project(workspace) as p:
        r = p.model_approve(version, _actor(p, by, "model.approve"))
    if json_out:
        _print_json(r)
        return
    _console().print(f"{r['version']} is now the active model (approved by {r['approved_by']}). Stored snapshots keep"
                     " the version they were scored with; new scores use this one.")


@app.command()
def stream(
    workspace: Path = WorkspaceOpt,
    nats_url: str = typer.Option("nats://127.0.0.1:4222", "--nats", help="NATS server with JetStream"),
    prefix: str = typer.Option("healthscore.events", "--prefix", help="subjects <prefix>.<table> carry canonical rows"),
    batch: int = typer.Option(500, "--batch", help="messages per micro-batch at most"),
    wait_ms: int = typer.Option(100, "--wait-ms", help="how long a micro-batch waits for messages"),
    max_batches: int | None = typer.Option(None, "--max-batches", help="stop after this many batches"),
    idle_seconds: float | None = typer.Option(None, "--idle-seconds", help="stop after this long without events"),
    json_out: bool = typer.Option(False, "--json", help="one JSON line per batch"),
    stream_name: str = typer.Option("HEALTHSCORE_EVENTS", "--stream",
                                    help="JetStream stream (created with subjects <prefix>.> if absent)"),
    engine_threads: int | None = typer.Option(
        None, "--engine-threads", min=1,
        help="DuckDB threads for the consumer's queries (default: the cores beyond the consumer's own two, at least 1)"),
):
    """Consume events from NATS JetStream and rescore the affected accounts as they arrive."""
    con = _console()

    def show(r: dict) -> None:
        if json_out:
            _print_json({k: v for k, v in r.items()})
        else:
            con.print(f"{r['received_at'][11:19]} {r['rows']:,} rows ({r['quarantined']} quarantined) -> "
                      f"{r['rescored']} accounts rescored in {r['latency_ms'] or 0:.0f} ms")

    with _project(workspace) as p:
        if not json_out:
            con.print(f"Consuming {prefix}.<table> from {nats_url} (Ctrl-C to stop)")
        totals = p.stream(nats_url, prefix, batch=batch, wait_ms=wait_ms, max_batches=max_batches,
                          idle_seconds=idle_seconds, on_batch=show, engine_threads=engine_threads,
                          stream_name=stream_name)
    if not json_out:
        con.print(f"Done: {totals['batches']:,} batches, {totals['rows']:,} rows, {totals['rescored']:,} rescorings.")


def _command_name() -> str:
    """How the user can call us again: `healthscore`, or the virtualenv's path when not on PATH."""
    import shutil

    exe = Path(sys.argv[0])
    if exe.name == "healthscore" and shutil.which("healthscore") != str(exe.resolve()):
        try:
            return str(exe.resolve().relative_to(Path.cwd()))
        except ValueError:
            return str(exe)
    return "healthscore"


# ---- outcomes: backtest, calibrate, what-if ---------------------------------------------------


def _fmt_ci(m) -> str:
    if not m or m.get("value") is None:
        return "-"
    if m.get("low") is None:
        return f"{m['value']:.3f}"
    return f"{m['value']:.3f} [{m['low']:.3f}, {m['high']:.3f}]"


@app.command()
def backtest(
    workspace: Path = WorkspaceOpt,
    date_from: str = typer.Option(..., "--from", help="first as-of date YYYY-MM-DD"),
    date_to: str = typer.Option(..., "--to", help="last as-of date YYYY-MM-DD (inclusive)"),
    every: str = typer.Option("30d", "--every", help="step between as-of dates: 7d, 30d, 4w ..."),
    horizon: str | None = typer.Option(None, "--horizon", help="outcome window after each date (default: the"
                                          " model's outcome.horizon, 90d)"),
    model: Path | None = typer.Option(None, "--model", help="score with this model YAML instead of the workspace's"),
    html_out: Path | None = typer.Option(None, "--html", help="write a self-contained HTML report here"),
    resamples: int = typer.Option(200, "--bootstrap", help="bootstrap resamples (over accounts) for the intervals"),
    seed: int = typer.Option(0, "--seed", help="bootstrap seed"),
    json_out: bool = JsonOpt,
):
    """Replay the model at past dates (only data before each) and measure it against churn and contraction."""
    start, end, step = _date(date_from, "--from"), _date(date_to, "--to"), _every(every)
    with _project(workspace) as p:
        result = p.backtest(start, end, step, horizon=horizon, model_path=model, n_boot=resamples, seed=seed)
    if html_out is not None:
        from healthscore.calibrate.report import backtest_html

        html_out.write_text(backtest_html(result), encoding="utf-8")
    result.pop("_roc", None)
    if json_out:
        _print_json(result)
        return
    con = _console()
    _print_leaks(con, result.get("leaks"))
    ho = result.get("held_out")
    if ho and ho.get("roc_auc"):
        con.print(f"[bold]held-out[/] ({ho['method']}, fitted {ho['fitted_on'].get('from')}.."
                  f"{ho['fitted_on'].get('to')}): AUC {_fmt_ci(ho['roc_auc'])}, lift {_fmt_ci(ho['lowest_decile_lift'])}"
                  f", gain over the model it came from {_fmt_ci(ho['auc_gain'])}", highlight=False)
        if ho.get("backtest_in_sample"):
            con.print(f"[yellow]{ho['note']}[/]", highlight=False)
    con.print(f"Backtest of {result['model']['name']} ({result['model']['version']}): {len(result['as_of_dates'])}"
              f" as-of dates {result['from']}..{result['to']}, outcome {'/'.join(result['outcome']['label'])} within"
              f" {result['outcome']['horizon']}, data until {result['data_end'][:10]}", highlight=False)
    con.print(f"snapshots {result['rows']:,}: " + ", ".join(f"{k} {v:,}" for k, v in result["statuses"].items())
              + f"; labelled {result['labelled']:,}, censored {result['censored']:,}, events {result['events']:,}",
              highlight=False)
    if "note" in result:
        con.print(result["note"])
    else:
        prob = result.get("probability", {})
        lines = [("ROC AUC", _fmt_ci(result["roc_auc"])), ("PR AUC", _fmt_ci(result["pr_auc"])),
                 ("lift, lowest decile", _fmt_ci(result["lowest_decile"]["lift"])),
                 ("precision, lowest decile", _fmt_ci(result["lowest_decile"]["precision"])),
                 ("Brier (out-of-time probability)", _fmt_ci(prob.get("brier"))
                  + (f"  (base rate only: {prob['brier_base_rate']:.4f})" if "brier_base_rate" in prob else "")),
                 ("false positives: red, no churn", f"{result['false_positives']['count']}  share of red "
                  + _fmt_ci(result["false_positives"]["share_of_red"])),
                 ("missed risks: green, churned", f"{result['missed_risks']['count']}  share of events "
                  + _fmt_ci(result["missed_risks"]["share_of_events"]))]
        if result.get("lead_time"):
            lt = result["lead_time"]
            lines.append(("lead time", f"{lt['flagged']}/{lt['events']} flagged; median days "
                          + _fmt_ci(lt["median_days_flagged"])))
        if prob.get("brier_skill"):
            lines.append(("Brier skill vs base rate", _fmt_ci(prob["brier_skill"])
                          + ("  ADDS NOTHING over the base rate" if prob.get("adds_nothing") else "")))
        for t, v in result["tiers"].items():
            lines.append((f"tier {t}", f"share {_fmt_ci(v['share'])}  churn rate {_fmt_ci(v['churn_rate'])}"))
        for g, v in (result.get("groups") or {}).items():
            if g != "scored" and v["labelled"]:
                lines.append((f"group {g} (not scored)", f"{v['labelled']:,} labelled, {v['events']} events, churn rate"
                              f" {_fmt_ci(v['churn_rate'])}, {v['share_of_events']:.1%} of all bad outcomes"))
        width = max(len(k) for k, _ in lines)
        for k, v in lines:
            con.print(f"  {k:<{width}}  {v}", highlight=False)
        con.print("  [dim]brackets: bootstrap 95% intervals over accounts[/]")
    if html_out is not None:
        con.print(f"HTML report: {html_out}")


def _print_leaks(con, leak_result: dict | None, allowed: list[str] | None = None) -> None:
    """Leak warnings, loudly: a metric that knows the answer makes every other figure meaningless."""
    from healthscore.calibrate.leaks import warning_lines

    lines = warning_lines(leak_result)
    if not lines:
        return
    allowed_names = set(allowed or [])
    con.print("[bold red]LEAK WARNING[/] [red]metrics that may know the outcome in advance:[/]")
    for lk, line in zip(leak_result["leaks"], lines):
        tag = " [yellow](allowed by --allow-leak)[/]" if lk["metric"] in allowed_names else ""
        con.print(f"  [red]![/] {line}{tag}", highlight=False)


@app.command()
def calibrate(
    workspace: Path = WorkspaceOpt,
    date_from: str | None = typer.Option(None, "--from", help="first as-of date (default: a year before --to)"),
    date_to: str | None = typer.Option(None, "--to", help="last as-of date (default: the last whose horizon is over)"),
    every: str = typer.Option("30d", "--every", help="step between as-of dates"),
    folds: int = typer.Option(3, "--folds", help="held-out folds for the model comparison (time folds for panel"
                              " data; at least 5 account folds for one-date data)"),
    out: Path | None = typer.Option(None, "--out", help="write the proposed model YAML here (never the active model)"),
    report: Path | None = typer.Option(None, "--report", help="write the calibration report (Markdown) here"
                                          " (default with --out: the same name with .report.md)"),
    allow_leak: list[str] = typer.Option([], "--allow-leak", help="let this metric keep weight although the leak"
                                         " guard flags it (repeatable; recorded with the proposal)"),
    resamples: int = typer.Option(200, "--bootstrap", help="bootstrap resamples (over accounts) for the intervals"),
    seed: int = typer.Option(0, "--seed", help="seed of the folds and the bootstrap"),
    shapes: bool = typer.Option(False, "--shapes", help="learn a shape per metric (binned, an additive model) instead"
                                                        " of fitting weights alone; the evidence still adds up"),
    json_out: bool = JsonOpt,
):
    """Fit weights and tier thresholds from outcomes; propose them only if better than the current model on
    held-out data. Exits 3 (and writes no proposal) when it is not."""
    with _project(workspace) as p:
        r = p.calibrate(_date(date_from, "--from"), _date(date_to, "--to"), _every(every), out=out, folds=folds,
                        n_boot=resamples, seed=seed, allow_leak=allow_leak, report=report, shapes=shapes)
    if json_out:
        _print_json(r)
        if not r["accepted"]:
            raise typer.Exit(3)
        return
    con = _console()
    _print_leaks(con, r["leaks"], [a["metric"] for a in r["allow_leak"]])
    con.print(f"Calibrated {r['model']['name']} on {r['labelled']:,} labelled snapshots ({r['events']} bad outcomes,"
              f" {r['survivors']:,} survivors), {r['as_of_dates'][0]}..{r['as_of_dates'][-1]}"
              + (f" (one-date data of {r['one_date']})" if r.get("one_date") else ""), highlight=False)
    con.print(f"method: {r['method']}", highlight=False)
    con.print("  metric                          current  fitted  proposed")
    for w in r["weights"]:
        fitted = "      -" if w["fitted_share"] is None else f"{w['fitted_share']:7.3f}"
        note = "" if w["status"] == "fitted" else f"  {w['status']}"
        note += "  direction flipped" if w["flipped"] else ""
        con.print(f"  {w['component'] + '.' + w['metric']:<32}{w['current_share']:7.3f} {fitted}"
                  f" {w['proposed_share']:8.3f}{note}", highlight=False)
    t = r["tiers"]
    con.print(f"tiers (cut by rank): current green {t['current']['green']}, yellow {t['current']['yellow']}; proposed"
              f" green {t['proposed']['green']}, yellow {t['proposed']['yellow']}", highlight=False)
    for s in r["segments"]:
        con.print(f"segment {s['segment']}: fitted ({s['events']} events)" if s["fitted"] else s["message"],
                  highlight=False)
    cmp_ = r["comparison"]
    if "pooled" in cmp_:
        con.print(f"held-out ({cmp_['note']}; {cmp_['test_rows']:,} snapshots, {cmp_['test_events']} events):",
                  highlight=False)
        for name, m in cmp_["pooled"].items():
            con.print(f"  {name:<20} AUC {_fmt_ci(m['roc_auc'])}  lift {_fmt_ci(m['lift_lowest_decile'])}"
                      f"  Brier skill {_fmt_ci(m['brier_skill'])}", highlight=False)
        con.print("  held-out tiers: " + "; ".join(f"{k} {_fmt_ci(v['share'])} (churn {_fmt_ci(v['churn_rate'])})"
                                                   for k, v in cmp_["tiers"].items()), highlight=False)
        bs = cmp_["pooled"]["calibrated"]["brier_skill"]
        if bs.get("low") is not None and bs["low"] <= 0:
            con.print("  [yellow]the calibrated churn probability adds nothing over the base rate (Brier skill"
                      " interval reaches 0)[/]")
    else:
        con.print(cmp_["note"], highlight=False)
    imp = r["impact"]
    con.print(f"impact at {imp['as_of']}: {imp['tier_changes']} of {imp['accounts_compared']} accounts change tier "
              + ", ".join(f"{m['from']}->{m['to']} {m['accounts']}" for m in imp["moves"]), highlight=False)
    port = imp.get("portfolio")
    if port:
        sh = port["proposed_tier_shares"]
        con.print(f"today's portfolio ({port['as_of']}) under the proposal: red {sh['red']}, yellow {sh['yellow']},"
                  f" green {sh['green']} (red target {port['red_target']})", highlight=False)
    groups = r["metric_study"]["correlated_groups"]
    con.print("correlated metrics: " + ("; ".join(", ".join(g) for g in groups) or "none"), highlight=False)
    if r["accepted"]:
        con.print(r["diff"] or "(no change)", highlight=False, markup=False)
        con.print(f"[green]Proposal accepted[/]: {r['decision']}", highlight=False)
        con.print(f"proposed model written to {r['written_to']}" if r["written_to"] else
                  "(pass --out FILE to write the proposed model)")
    if r.get("report"):
        con.print(f"report: {r['report']}")
    if not r["accepted"]:
        con.print(f"[bold red]No proposal[/]: {r['decision']}", highlight=False)
        raise typer.Exit(3)


@app.command()
def whatif(
    account_id: str = typer.Argument(..., help="the account"),
    workspace: Path = WorkspaceOpt,
    set_: list[str] = typer.Option([], "--set", help="metric=value: use this raw value (repeatable)"),
    change: list[str] = typer.Option([], "--change", help="metric=-20% or metric=+5: change the raw value"),
    as_of: str | None = AsOfOpt,
    fit_from: str | None = typer.Option(None, "--fit-from", help="first as-of date the churn probability is"
                                           " fitted on (default: a year before --fit-to)"),
    fit_to: str | None = typer.Option(None, "--fit-to", help="last as-of date the churn probability is fitted on"
                                         " (default: the last whose horizon is over)"),
    fit_every: str = typer.Option("30d", "--fit-every", help="step between the fitted as-of dates"),
    json_out: bool = JsonOpt,
):
    """Recompute an account's score and tier with metric values changed; show the evidence that moved."""
    with _project(workspace) as p:
        r = p.whatif(account_id, set_, change, _date(as_of, "--as-of"), fit_from=_date(fit_from, "--fit-from"),
                     fit_to=_date(fit_to, "--fit-to"), fit_every=_every(fit_every, "--fit-every"))
    if json_out:
        _print_json(r)
        return
    con = _console()
    b, a = r["before"], r["after"]
    f = lambda s: "-" if s["score"] is None else f"{s['score']:.1f} {s['tier'] or s['status']}"  # noqa: E731
    con.print(f"{r['account_id']} as of {r['as_of']}: {f(b)} -> {f(a)}"
              + ("" if r["delta"] is None else f" ({r['delta']:+.2f} points)"), highlight=False)
    for e in r["evidence_moved"]:
        con.print(f"  {e['metric']:<26} value {e['value_before']} -> {e['value_after']}, score {e['score_before']}"
                  f" -> {e['score_after']}, points {e['points_before']} -> {e['points_after']}", highlight=False)
    p_ = r["probability"]
    if p_.get("available"):
        con.print(f"churn probability within {p_['horizon']}: {_fmt_ci(p_['before'])} -> {_fmt_ci(p_['after'])}"
                  f" (fitted on {p_['fitted_on']:,} snapshots, {p_['events']} events, as-of dates {p_['from']}.."
                  f"{p_['to']}; Brier skill over the base rate {_fmt_ci(p_.get('brier_skill'))})", highlight=False)
        if p_.get("note"):
            con.print(f"[yellow]{p_['note']}[/]", highlight=False)
    else:
        con.print(p_["note"], highlight=False)


# ---- running the health program (docs/program.md) ---------------------------------------------

intervention_app = typer.Typer(help="Actions owners took on review tasks, and their responses.", no_args_is_help=True)
app.add_typer(intervention_app, name="intervention")


@report_app.command("drift")
def report_drift(
    workspace: Path = WorkspaceOpt,
    as_of: str | None = AsOfOpt,
    reference_from: str | None = typer.Option(None, "--reference-from", help="start of the reference period"),
    reference_to: str | None = typer.Option(None, "--reference-to", help="end of the reference period"),
    threshold: float | None = typer.Option(None, "--threshold", help="PSI that suggests recalibration (0.25)"),
    json_out: bool = JsonOpt,
):
    """Score and input drift: PSI of every metric and of the score against a reference period."""
    with _project(workspace) as p:
        r = p.drift_report(_date(as_of, "--as-of"), _date(reference_from, "--reference-from"),
                           _date(reference_to, "--reference-to"), threshold)
    if json_out:
        _print_json(r)
        return
    con = _console()
    ref = r["reference"]
    con.print(f"Drift at {r['as_of']} against {ref['from']}..{ref['to']} ({ref['source']}); threshold PSI"
              f" {r['threshold']}", highlight=False)
    sc = r["score"]
    con.print(f"  score: PSI {sc['psi']} ({sc['level']})", highlight=False)
    for m in r["metrics"]:
        con.print(f"  {m['metric']}: PSI {m['psi']} ({m['level']})", highlight=False)
    con.print(("[yellow]Recalibration suggested[/]: " if r["recalibration_suggested"] else "") + r["next_step"],
              highlight=False)


@app.command()
def readiness(workspace: Path = WorkspaceOpt, json_out: bool = JsonOpt):
    """Pilot prerequisites item by item, the maturity level (0-5) and the next step."""
    with _project(workspace) as p:
        r = p.readiness()
    if json_out:
        _print_json(r)
        return
    con = _console()
    for i in r["items"]:
        mark = "[green]ok[/]  " if i["ok"] else "[red]todo[/]"
        con.print(f"{mark} {i['item']}: {i['detail']}", highlight=False)
        if i["next"]:
            con.print(f"       next: {i['next']}", highlight=False)
    m = r["maturity"]
    con.print(f"Maturity level {m['level']} ({m['name']}): {m['why']}", highlight=False)
    con.print(f"To reach level {m['next_level']}: {m['next_step']}", highlight=False)


@report_app.command("pilot")
def report_pilot(
    workspace: Path = WorkspaceOpt,
    sample: int | None = typer.Option(None, "--sample", help="material changes in the validation sample"),
    seed: int = typer.Option(0, "--seed", help="seed of the random sample"),
    csv_out: Path | None = typer.Option(None, "--csv", help="write the sample as CSV"),
    html_out: Path | None = typer.Option(None, "--html", help="write a self-contained HTML report"),
    json_out: bool = JsonOpt,
):
    """The pilot: validated material changes against the threshold, and a validation sample."""
    from healthscore.program.pilot import sample_csv, sample_html

    with _project(workspace) as p:
        r = p.pilot_report(sample, seed)
    if csv_out:
        sample_csv(r, csv_out)
    if html_out:
        html_out.write_text(sample_html(r), encoding="utf-8")
    if json_out:
        _print_json(r)
        return
    con = _console()
    pl = r["pilot"]
    con.print(f"Pilot {pl['start']}..{pl['end']}{' segment ' + pl['segment'] if pl['segment'] else ''}:"
              f" {r['material_changes']} material changes, {r['reviewed']} reviewed, {r['validated']} validated",
              highlight=False)
    con.print(r["verdict"], highlight=False)
    con.print(f"Validation sample: {r['sample']['size']} rows"
              + (f", CSV {csv_out}" if csv_out else "") + (f", HTML {html_out}" if html_out else ""), highlight=False)


@app.command()
def hierarchy(
    account_id: str | None = typer.Argument(None, help="a parent account (default: every parent)"),
    workspace: Path = WorkspaceOpt,
    as_of: str | None = AsOfOpt,
    json_out: bool = JsonOpt,
):
    """Parent accounts' health rolled up from their children (model hierarchy.rollup)."""
    with _project(workspace) as p:
        rows = p.hierarchy(_date(as_of, "--as-of"), account_id)
    if json_out:
        _print_json_lines(rows)
        return
    con = _console()
    for r in rows:
        con.print(f"{r['account_id']}: {r['score']} ({r['tier']}) from {r['children_scored']} of {r['children']}"
                  f" children, {r['rollup']}", highlight=False)
        for e in r["evidence"]:
            con.print(f"    {e['child']}: score {e['score']} weight {e['weight']} points {e['points']}",
                      highlight=False)


@intervention_app.command("log")
def intervention_log(
    task_id: int = typer.Argument(..., help="the review task the action belongs to"),
    workspace: Path = WorkspaceOpt,
    play: str | None = typer.Option(None, "--play", help="the playbook (default: the task's drafted one)"),
    channel: str | None = typer.Option(None, "--channel", help="call, email, meeting ..."),
    response: str = typer.Option("none", "--response", help="none, positive or negative"),
    note: str | None = typer.Option(None, "--note"),
    by: str | None = ByOpt,
    json_out: bool = JsonOpt,
):
    """Log an action taken on a task; repeated silence drafts a channel switch or sponsor outreach."""
    with _project(workspace) as p:
        actor = _actor(p, by, "review", p.task(task_id)["account_id"])
        r = p.intervention_log(task_id, actor, play=play, channel=channel, response=response, note=note)
    if json_out:
        _print_json(r)
        return
    con = _console()
    i = r["intervention"]
    con.print(f"Logged {i['play']} by {i['channel']} on task {i['task_id']} ({i['account_id']}): attempt"
              f" {i['attempt']}, response {i['response']}", highlight=False)
    if r["suggestion"]:
        con.print(f"[yellow]Suggestion (draft)[/]: {r['suggestion']['action']} {r['suggestion']['notice']}",
                  highlight=False)


@intervention_app.command("list")
def intervention_list(
    workspace: Path = WorkspaceOpt,
    account_id: str | None = typer.Option(None, "--account", help="only this account"),
    json_out: bool = JsonOpt,
):
    """Logged interventions, oldest first."""
    with _project(workspace) as p:
        rows = p.interventions(account_id)
    if json_out:
        _print_json_lines(rows)
        return
    con = _console()
    for r in rows:
        con.print(f"{r['at'][:16]} task {r['task_id']} {r['account_id']}: {r['play']} by {r['channel']}, attempt"
                  f" {r['attempt']}, response {r['response']} ({r['actor']})", highlight=False)


@report_app.command("plays")
def report_plays(
    workspace: Path = WorkspaceOpt,
    horizon: str = typer.Option("60d", "--horizon", help="how long after the play health is compared"),
    json_out: bool = JsonOpt,
):
    """Per playbook: health and renewal after the play against matched accounts without it."""
    with _project(workspace) as p:
        r = p.plays_report(_every(horizon, "--horizon"))
    if json_out:
        _print_json(r)
        return
    con = _console()
    con.print(f"{r['interventions']} interventions; matched on {r['matching']}", highlight=False)
    for pl in r["plays"]:
        e = pl["effect_vs_matched"]
        con.print(f"  {pl['play']}: {pl['accounts']} accounts ({pl['matched']} matched); effect on health"
                  f" {_fmt_ci(e)}; days to improvement (median) {pl['days_to_improvement']['median']}",
                  highlight=False)
    y = r["yellow_recovery"]
    con.print(f"Yellow recovery within {y['window_days']} days: {y['recovered']} of {y['yellow_accounts']}"
              f" ({y['rate']})", highlight=False)
    for q in r["transitions"]:
        con.print(f"  {q['quarter']}: red->yellow {q['red_to_yellow']}, yellow->green {q['yellow_to_green']}",
                  highlight=False)


# ---- the web application ----------------------------------------------------------------------


@app.command()
def serve(
    workspace: Path = WorkspaceOpt,
    host: str = typer.Option("127.0.0.1", "--host", help="interface to listen on"),
    port: int = typer.Option(8000, "--port", help="TCP port"),
    workers: int = typer.Option(1, "--workers", help="uvicorn worker processes"),
):
    """Serve the web application and the REST API (/api/v1, OpenAPI at /docs)."""
    import uvicorn

    from healthscore.web.app import create_app

    if workers > 1:  # uvicorn imports the app in each worker: pass the workspace through the environment
        import os

        os.environ["HEALTHSCORE_WORKSPACE"] = str(workspace.resolve())
        create_app(workspace)  # a broken workspace fails here, once, with its message
        uvicorn.run("healthscore.web.asgi:app", host=host, port=port, workers=workers, proxy_headers=True,
                    log_level="info")
        return
    application = create_app(workspace)
    _console().print(f"healthscore serving {workspace.resolve()} on http://{host}:{port}/ (API docs:"
                     f" http://{host}:{port}/docs)", highlight=False)
    uvicorn.run(application, host=host, port=port, proxy_headers=True, log_level="info")


def main() -> None:
    try:
        app()
    except UserError as exc:
        sys.stderr.write(f"error: {exc}\n")
        raise SystemExit(exc.exit_code) from None
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        raise SystemExit(130) from None
    except Exception as exc:
        # SQLite's "database is locked" after the busy timeout: another writer held the store too long
        if type(exc).__name__ == "OperationalError" and "locked" in str(exc):
            sys.stderr.write("error: the store is busy: another healthscore process (a CLI job or the web app) kept"
                             " it locked for more than 30 s; the step that waited was rolled back: run the command again\n")
            raise SystemExit(2) from None
        raise


if __name__ == "__main__":
    main()
