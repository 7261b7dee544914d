"""The web application and the REST API."""

from __future__ import annotations

from pathlib import Path

import typer

from healthscore.cli.options import Workspace
from healthscore.cli.render import live as show


def serve(
    workspace: Workspace = Path("."),
    host: str = typer.Option("127.0.0.1", "--host", help="interface to listen on"),
    port: int = typer.Option(8000, "--port", help="TCP port"),
    workers: int = typer.Option(1, "--workers", help="uvicorn worker processes"),
) -> None:
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
    show.serving(workspace, host, port)
    uvicorn.run(application, host=host, port=port, proxy_headers=True, log_level="info")
