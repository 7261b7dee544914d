"""`uvicorn healthscore.web.asgi:app` with HEALTHSCORE_WORKSPACE naming the workspace (default: the current
directory); `healthscore serve --workers N` uses it."""

from __future__ import annotations

import os

from healthscore.web.app import create_app

app = create_app(os.environ.get("HEALTHSCORE_WORKSPACE", "."))
