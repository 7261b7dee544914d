"""Real time and the web server: the stream's batches and the server's address."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from healthscore.cli.render import console


def stream_start(nats_url: str, prefix: str) -> None:
    console().print(f"Consuming {prefix}.<table> from {nats_url} (Ctrl-C to stop)")


def stream_batch(r: dict[str, Any]) -> None:
    console().print(f"{r['received_at'][11:19]} {r['rows']:,} rows ({r['quarantined']} quarantined) -> "
                    f"{r['rescored']} accounts rescored in {r['latency_ms'] or 0:.0f} ms")


def stream_done(totals: dict[str, Any]) -> None:
    console().print(f"Done: {totals['batches']:,} batches, {totals['rows']:,} rows, {totals['rescored']:,} rescorings.")


def serving(workspace: Path, host: str, port: int) -> None:
    console().print(f"healthscore serving {workspace.resolve()} on http://{host}:{port}/ (API docs:"
                    f" http://{host}:{port}/docs)", highlight=False)
