"""The compute engine connection of one workspace: opened on first use, and, for the web app, opened
per piece of work so that a DuckDB file stays free for other processes in between."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

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
            self._open(self.lock_timeout)
        return self._con

    def _open(self, lock_timeout: float | None, quiet: bool = False) -> None:
        from healthscore.engine.adapters import open_engine

        self._con = open_engine(self._workspace(), lock_timeout, quiet=quiet).con

    def _single_writer_file(self) -> bool:
        from healthscore.engine.adapters import adapter_class

        return adapter_class(self._workspace().config.engine.backend).single_writer_file

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
            per_session = depth == 0 and self._single_writer_file()
            self._depth = depth + 1
            try:
                if per_session and self._con is None:
                    # waits while a CLI run holds the file; EngineBusy (HTTP 503) past the deadline
                    self._open(SESSION_DEADLINE_S, quiet=True)
                yield
            finally:
                self._depth = depth
                if per_session:
                    self.close()
