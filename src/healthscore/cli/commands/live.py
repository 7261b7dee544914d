"""Real time: consume events from NATS JetStream and rescore the accounts they touch."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer

from healthscore.cli.options import Workspace, open_project
from healthscore.cli.render import emit_json
from healthscore.cli.render import live as show


def stream(
    workspace: Workspace = Path("."),
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
        help="DuckDB threads for the consumer's queries (default: the cores beyond the consumer's own two,"
             " at least 1)"),
) -> None:
    """Consume events from NATS JetStream and rescore the affected accounts as they arrive."""
    on_batch: Callable[[dict[str, Any]], None] = emit_json if json_out else show.stream_batch
    with open_project(workspace) as p:
        if not json_out:
            show.stream_start(nats_url, prefix)
        totals = p.stream(nats_url, prefix, batch=batch, wait_ms=wait_ms, max_batches=max_batches,
                          idle_seconds=idle_seconds, on_batch=on_batch, engine_threads=engine_threads,
                          stream_name=stream_name)
    if not json_out:
        show.stream_done(totals)
