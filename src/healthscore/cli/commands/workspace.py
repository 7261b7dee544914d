"""Workspaces: create one, check it, load its sources."""

from __future__ import annotations

from pathlib import Path

import typer

from healthscore.cli.options import Json, Workspace, open_project
from healthscore.cli.render import emit_json
from healthscore.cli.render import workspace as show


def init(
    directory: Path = typer.Argument(..., help="directory to create the workspace in"),
    example: str = typer.Option("seed-standard", "--example",
                                help="model to start from: seed-standard, starter-five, saas-seat-usage, api-platform,"
                                     " marketplace or enterprise (docs/starter-library.md)"),
    json_out: Json = False,
) -> None:
    """Create a workspace: healthscore.yaml, a health model and a data folder."""
    from healthscore.scaffold import init_workspace

    created = init_workspace(directory, example)
    if json_out:
        show.init_json(directory, created)
    else:
        show.init(directory, created)


def validate(workspace: Workspace = Path("."), json_out: Json = False,
             no_sample: bool = typer.Option(False, "--no-sample",
                                            help="check the configuration, files and headers only: do not run the"
                                                 " first rows of each source through ingestion's checks")) -> None:
    """Check healthscore.yaml and the health model, and run the first 1,000 rows of every source through
    ingestion's checks (writing nothing); every error names the file, key and what is allowed."""
    with open_project(workspace) as p:
        info = p.validate(sample=not no_sample)
    if json_out:
        emit_json({"ok": True, **info})
    else:
        show.validate(info)


def ingest(
    workspace: Workspace = Path("."),
    table: list[str] | None = typer.Option(None, "--table", help="ingest only these canonical tables"),
    json_out: Json = False,
    show_rows: int = typer.Option(5, "--show", help="quarantined rows to show per table"),
    incremental: bool = typer.Option(False, "--incremental",
                                     help="append every source: only new files / rows, rows already loaded skipped"),
    allow_empty: bool = typer.Option(False, "--allow-empty",
                                     help="let a source with no accepted row (header only, or all quarantined)"
                                          " empty its table; refused otherwise"),
) -> None:
    """Load the sources into the engine; bad rows go to the quarantine with file, line, column and reason.

    Exits with code 1 (after loading) when a table's quarantined share is above quarantine_max_share
    in healthscore.yaml (default 0.05)."""
    with open_project(workspace) as p:
        limit = p.ws.config.quarantine_max_share
        if json_out:
            reports = p.ingest(table, incremental=incremental, allow_empty=allow_empty)
        else:
            with show.ingest_progress() as progress:
                reports = p.ingest(table, progress=progress, incremental=incremental, allow_empty=allow_empty)
    over = [r for r in reports if r.read and r.quarantined / r.read > limit]
    if json_out:
        show.ingest_json(reports, show_rows, limit, over)
    else:
        show.ingest(reports, show_rows)
    if over:
        show.over_quarantine_limit(over, limit)
        raise typer.Exit(1)
