"""The collaborators every service works with: the workspace, the store, the compute engine, the health
models and the clock. The composition root (project.Project) builds them; each opens on first use so
that cheap commands stay cheap."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from healthscore.engine.session import EngineConnection
    from healthscore.model.load import LoadedModel
    from healthscore.services.scoring import ScoreRun
    from healthscore.store.store import Store
    from healthscore.workspace import Workspace


# Data whose newest row is older than this many days is an export: commands default to its end, not today.
STALE_DATA_DAYS = 7


def newest_rows(con: Any) -> dict[str, Any]:
    """The newest row time (a pandas Timestamp) of each table in the engine that records what happened
    (model/windows.py HAPPENED_TABLES; not milestones, whose due dates are planned)."""
    import pandas as pd

    from healthscore.contract import TABLES
    from healthscore.model.windows import HAPPENED_TABLES

    present = set(con.list_tables())
    newest = {}
    for name in HAPPENED_TABLES:
        if name in present:
            v = con.table(name)[TABLES[name].time_column].max().execute()
            if v is not None and not pd.isna(v):
                newest[name] = pd.Timestamp(v)
    return newest


class Clock:
    """Today's date for every "as of today" default; tests and replays give a fixed one."""

    def __init__(self, fixed: dt.date | None = None):
        self.fixed = fixed

    def today(self) -> dt.date:
        return self.fixed or dt.datetime.now(dt.UTC).date()


class Models:
    """The model file of the workspace and the model that scores: the version an admin approved, or, in a
    workspace where none was ever approved, the model file. Reloaded after an approval."""

    def __init__(self, workspace: Callable[[], Workspace], store: Callable[[], Store]):
        self._workspace = workspace
        self._store = store
        self._file: LoadedModel | None = None
        self._active: LoadedModel | None = None

    @property
    def file(self) -> LoadedModel:
        """The model file (what is being edited, maybe not approved)."""
        if self._file is None:
            from healthscore.model.load import load_health_model

            self._file = load_health_model(self._workspace().model_path)
        return self._file

    @property
    def active(self) -> LoadedModel:
        if self._active is None:
            from healthscore.model.load import load_health_model

            record = self._store().active_model_version()
            self._active = self.file if record is None else \
                load_health_model(self._workspace().model_path, text=record["yaml_text"])
        return self._active

    @property
    def loaded(self) -> bool:
        return self._active is not None

    def reload(self) -> None:
        self._active = self._file = None

    def notice(self) -> str | None:
        """Says so when the model file differs from the approved version that scores."""
        model, file = self.active, self.file
        if model is file or model.version == file.version:
            return None
        return (f"{self._workspace().model_path} (version {file.version}) is not approved: scoring with the active"
                f" version {model.version}; propose it with 'healthscore model propose' and have an admin approve it")


class HasParts(Protocol):
    """What the workflow and program functions read: a `Parts` (or the facade, which has the same)."""

    @property
    def ws(self) -> Workspace: ...
    @property
    def store(self) -> Store: ...
    @property
    def con(self) -> Any: ...
    @property
    def model(self) -> LoadedModel: ...

    def score(self, as_of: dt.date | None = None, *, account_ids: list[str] | None = None,
              as_of_dates: list[dt.date] | None = None, store: bool = True, write_back: bool | None = None,
              history: bool | None = None) -> ScoreRun: ...


class Parts:
    """The collaborators, opened on first use. `score` is the scoring service's, wired by the composition root
    (the weekly review and the program reports rescore past dates)."""

    def __init__(self, workspace: Callable[[], Workspace], store: Callable[[], Store], engine: EngineConnection,
                 models: Models, clock: Clock):
        self._workspace = workspace
        self._store = store
        self.engine = engine
        self.models = models
        self.clock = clock
        self.scorer: Callable[..., ScoreRun] | None = None

    @property
    def ws(self) -> Workspace:
        return self._workspace()

    @property
    def store(self) -> Store:
        return self._store()

    @property
    def con(self) -> Any:
        return self.engine.con

    @property
    def model(self) -> LoadedModel:
        return self.models.active

    @property
    def file_model(self) -> LoadedModel:
        return self.models.file

    def today(self) -> dt.date:
        return self.clock.today()

    def as_of_default(self) -> tuple[dt.date, str]:
        """(the as-of date of a command given none, why): the workspace's ``data_as_of``; else, when the
        newest row of the engine's event tables (model/windows.py, ``end_of_data``) is more than
        ``STALE_DATA_DAYS`` before today -- an export, not a live pipeline -- the day after it (so that
        day's rows are seen); else today."""
        configured = self.ws.config.data_as_of
        if configured is not None:
            return configured, "data_as_of in healthscore.yaml"
        import pandas as pd

        from healthscore.model.windows import end_of_data

        today = self.today()
        rows = newest_rows(self.con)
        newest = end_of_data(rows, pd.Timestamp(today)).date() if rows else None
        if newest is not None and (today - newest).days > STALE_DATA_DAYS:
            day = newest + dt.timedelta(days=1)
            return day, (f"the day after the newest data ({newest.isoformat()}), not today ({today.isoformat()}):"
                         " set data_as_of in healthscore.yaml or pass --as-of to choose")
        return today, "today"

    def score(self, as_of: dt.date | None = None, *, account_ids: list[str] | None = None,
              as_of_dates: list[dt.date] | None = None, store: bool = True, write_back: bool | None = None,
              history: bool | None = None) -> ScoreRun:
        assert self.scorer is not None, "the composition root wires the scorer"
        return self.scorer(as_of, account_ids=account_ids, as_of_dates=as_of_dates, store=store,
                           write_back=write_back, history=history)
