"""The compute engine connection of one workspace: opened on first use, and, for the web app, opened
per piece of work so that a DuckDB file stays free for other processes in between."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from healthscore.errors import EngineBusy

if TYPE_CHECKING:
    from healthscore.workspace import Workspace

SESSION_DEADLINE_S = 15.0  # how long a web request waits for a DuckDB file a CLI run holds


class EngineConnection:
    def __init__(self, workspace: Callable[[], Workspace]):
        self._workspace = workspace
        self._con: Any = None
        self._lock = threading.RLock()  # requests that query the engine (explain, backtests) take turns
        self._depth = 0
        # seconds to wait while another process holds a DuckDB engine file (None: engine.lock_timeout)
        self.lock_timeout: float | None = None

    @property
    def con(self) -> Any:
        if self._con is None:
            from healthscore.engine.backend import connect

            self._con = connect(self._workspace(), self.lock_timeout)
        return self._con

    @property
    def is_open(self) -> bool:
        return self._con is not None

    def close(self) -> None:
        con, self._con = self._con, None
        if con is not None:
            con.disconnect()

    @contextmanager
    def session(self) -> Iterator[None]:
        """The engine for one piece of work. A DuckDB file allows one process at a time, so the web app
        opens it only while it needs it (and retries for a while when a CLI run holds it), leaving the
        workspace free for 'healthscore score', 'run weekly' or another server worker in between."""
        with self._lock:
            depth = self._depth
            duck = self._workspace().config.engine.backend == "duckdb"
            self._depth = depth + 1
            try:
                if depth == 0 and duck:
                    self._open_retrying()
                yield
            finally:
                self._depth = depth
                if depth == 0 and duck:
                    self.close()

    def _open_retrying(self) -> None:
        self.lock_timeout = 0  # fail at once: this loop retries, within its own deadline
        deadline = time.monotonic() + SESSION_DEADLINE_S
        while True:
            try:
                self.con  # noqa: B018 - opens the connection
                return
            except Exception as exc:  # the engine's lock error: "Could not set lock on file", "... stays locked"
                if "lock" not in str(exc).lower():
                    raise
                if time.monotonic() > deadline:
                    path = self._workspace().config.engine.path
                    raise EngineBusy(f"the engine file {path} is in use by another process; try again when it is"
                                     " done") from None
                time.sleep(0.1)
