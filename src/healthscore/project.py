"""The facade: one place behind the CLI, the API and the web app for every operation.

A Project is a workspace opened for work and the composition root: it builds the collaborators (the
workspace's configuration, the store, the compute engine connection, the health models, the clock),
each opened on first use so that cheap commands stay cheap, and the services that do the work
(healthscore.services), each given its collaborators explicitly. Every operation is a delegation.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from contextlib import AbstractContextManager
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from healthscore.authz import Authorizer
from healthscore.engine.session import EngineConnection
from healthscore.services.calibration import CalibrationService
from healthscore.services.governance import GovernanceService
from healthscore.services.parts import Clock, Models, Parts
from healthscore.services.program import ProgramService
from healthscore.services.read_models import ReadModels
from healthscore.services.review import ReviewService
from healthscore.services.scoring import ScoreRun, ScoringService  # noqa: F401 - ScoreRun re-exported
from healthscore.workspace import Workspace, load_workspace

if TYPE_CHECKING:
    import pandas as pd

    from healthscore.ingest.load import TableReport
    from healthscore.model.load import LoadedModel
    from healthscore.scoring.score import ScoredFrames
    from healthscore.store.store import Store


def today() -> dt.date:
    """The system's date (UTC); a Project reads it through its clock."""
    return Clock().today()


class Project:
    def __init__(self, workspace: Path | str = ".", *, clock: Clock | None = None):
        self.workspace_dir = Path(workspace)
        self.clock = clock or Clock()
        self.engine = EngineConnection(lambda: self.ws)
        self.models = Models(lambda: self.ws, lambda: self.store)
        self.parts = Parts(lambda: self.ws, lambda: self.store, self.engine, self.models, self.clock)
        # the services: each gets its collaborators, none gets the Project (building them opens nothing)
        self.scoring = ScoringService(self.parts)
        self.parts.scorer = self.scoring.score
        self.reviews = ReviewService(self.parts)
        self.calibration = CalibrationService(self.parts, self.scoring)
        self.read_models = ReadModels(self.parts, self.engine)
        self.authorizer = Authorizer(lambda: self.store, self.read_models.account_owner)
        self.governance = GovernanceService(self.parts, self.authorizer, self.calibration)
        self.program = ProgramService(self.parts, self.reviews)

    # ---- collaborators, opened on first use ---------------------------------------------------

    @cached_property
    def ws(self) -> Workspace:
        return load_workspace(self.workspace_dir)

    @property
    def file_model(self) -> LoadedModel:
        """The model file of the workspace (what is being edited, maybe not approved)."""
        return self.models.file

    @property
    def model(self) -> LoadedModel:
        """The model that scores: the version an admin approved (`healthscore model approve`), or, in a
        workspace where none was ever approved, the model file."""
        return self.models.active

    @property
    def model_notice(self) -> str | None:
        """Says so when the model file differs from the approved version that scores."""
        return self.models.notice()

    def reload_model(self) -> None:
        """Forget the loaded model (after an approval, the next request scores with the new active version)."""
        self.models.reload()

    @property
    def engine_lock_timeout(self) -> float | None:
        """Seconds to wait while another process holds a DuckDB engine file (None: engine.lock_timeout)."""
        return self.engine.lock_timeout

    @engine_lock_timeout.setter
    def engine_lock_timeout(self, seconds: float | None) -> None:
        self.engine.lock_timeout = seconds

    @property
    def con(self):
        return self.engine.con

    def engine_session(self) -> AbstractContextManager[None]:
        """The engine for one piece of work (the web app: engine/session.py)."""
        return self.engine.session()

    @cached_property
    def store(self) -> Store:
        from healthscore.store.store import Store
        from healthscore.store.workflow import AuditSeal

        return Store(self.ws.store_url, seal=AuditSeal.for_workspace(self.ws.root, self.ws.config.store),
                     history_dir=self.ws.history_dir)

    def close(self) -> None:
        if "store" in self.__dict__:
            self.store.close()
        self.engine.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # ---- operations -------------------------------------------------------------------------

    def validate(self, sample: bool = True) -> dict:
        """Check the workspace and its model, and (``sample``) run the first rows of every source through
        ingestion's checks; every problem raises a UserError naming file and key."""
        return self.program.validate(sample)

    def ingest(self, tables: list[str] | None = None, progress: Callable[[str], None] | None = None,
               incremental: bool = False, allow_empty: bool = False):
        """Load the workspace's sources; ``incremental``: append every source (only new files / rows);
        ``allow_empty``: let a source with no accepted row empty its table (refused otherwise)."""
        return self._ingestion_service().ingest(tables, progress, incremental=incremental, allow_empty=allow_empty)

    def ingest_rows(self, table: str, rows: list[dict], source: str = "api", known_accounts=None,
                    keep_appended: bool = False) -> TableReport:
        """Validate rows like a file, APPEND the accepted ones to the engine's canonical table (created if
        absent) and record the batch and its quarantine in the store.

        Idempotent: a row whose id (``Table.id_column``; for tables without one, the whole row) is already
        in the engine table is accepted but not added again (``report.already_ingested``), so
        ``read = accepted + quarantined`` and rows added = ``accepted - already_ingested``;
        ``keep_appended`` keeps those rows on the report (``report.appended``, DuckDB engines).
        """
        return self._ingestion_service().ingest_rows(table, rows, source=source, known_accounts=known_accounts,
                                                     keep_appended=keep_appended)

    def score(self, as_of: dt.date | None = None, *, account_ids: list[str] | None = None,
              as_of_dates: list[dt.date] | None = None, store: bool = True,
              write_back: bool | None = None, history: bool | None = None) -> ScoreRun:
        """Score every account (or the given ones) at one or many as-of dates, in one engine query
        (services/scoring.py)."""
        return self.scoring.score(as_of, account_ids=account_ids, as_of_dates=as_of_dates, store=store,
                                  write_back=write_back, history=history)

    def _with_history(self, frames: ScoredFrames, first_date: dt.date, account_ids: list[str] | None,
                      stored_history: bool = True, prior: pd.DataFrame | None = None,
                      previous_evidence: bool = True) -> ScoredFrames:
        return self.scoring.with_history(frames, first_date, account_ids, stored_history, prior,
                                         previous_evidence=previous_evidence)

    def history_frame(self, first_date: dt.date, account_ids: list[str] | None = None) -> pd.DataFrame:
        """The stored snapshots that smoothing and published tiers look back on from `first_date`."""
        return self.scoring.history_frame(first_date, account_ids)

    def backfill(self, date_from: dt.date, date_to: dt.date, every_days: int = 7,
                 progress: Callable[[int, int], None] | None = None, write_back: bool | None = None) -> dict:
        """Score every date of the range, resuming where an interrupted backfill stopped."""
        return self.scoring.backfill(date_from, date_to, every_days, progress, write_back)

    def changes(self, since: dt.date, until: dt.date | None = None) -> list[dict]:
        """Material changes (a big enough score move or a tier change) between stored snapshots since a date."""
        return self.scoring.changes(since, until)

    def explain(self, account_id: str, as_of: dt.date | None = None, compare: dt.date | None = None, *,
                fresh: bool = False) -> dict:
        """The account's snapshot; with `compare`, also the exact attribution of the change since then."""
        return self.scoring.explain(account_id, as_of, compare, fresh=fresh)

    def history(self, account_id: str, date_from: dt.date | None = None, date_to: dt.date | None = None) -> list[dict]:
        return self.scoring.history(account_id, date_from, date_to)

    # ---- the review workflow (docs/workflow.md) ----------------------------------------------

    def run_weekly(self, as_of: dt.date | None = None, notify: bool = True) -> dict:
        """The weekly review run: score, alerts through the hygiene rules, owner review tasks, notifications."""
        return self.reviews.run_weekly(as_of, notify)

    def tasks(self, owner: str | None = None, status: str = "open", account_id: str | None = None) -> list[dict]:
        return self.reviews.tasks(owner, status, account_id)

    def task(self, task_id: int) -> dict:
        return self.reviews.task(task_id)

    def review(self, task_id: int, decision: str, actor: str, *, score: float | None = None, tier: str | None = None,
               reason_code: str | None = None, note: str | None = None, expires: dt.date | None = None) -> dict:
        """An owner's decision on a task: accept; correct (an override); or dismiss as a false positive."""
        return self.reviews.review(task_id, decision, actor, score=score, tier=tier, reason_code=reason_code,
                                   note=note, expires=expires)

    def follow_up(self, task_id: int, actor: str, note: str) -> dict:
        return self.reviews.follow_up(task_id, actor, note)

    def alerts(self, since: dt.date | None = None, owner: str | None = None, status: str | None = None) -> list[dict]:
        return self.reviews.alerts(since, owner, status)

    def measurement_report(self, horizon_days: int = 90) -> dict:
        return self.reviews.measurement_report(horizon_days)

    def audit_verify(self) -> dict:
        return self.reviews.audit_verify()

    def audit_log(self, limit: int | None = None) -> list[dict]:
        return self.reviews.audit_log(limit)

    def overrides(self, account_id: str | None = None, active_on: dt.date | None = None) -> list[dict]:
        return self.reviews.overrides(account_id, active_on)

    def intervention_log(self, task_id: int, actor: str, *, play: str | None = None, channel: str | None = None,
                         response: str = "none", note: str | None = None) -> dict:
        """Log an action the owner took on a task (play, channel, attempt, response)."""
        return self.reviews.intervention_log(task_id, actor, play=play, channel=channel, response=response, note=note)

    def interventions(self, account_id: str | None = None) -> list[dict]:
        return self.reviews.interventions(account_id)

    # ---- outcomes: backtest, calibrate, what-if (healthscore.calibrate) ---------------------

    def backtest(self, date_from: dt.date, date_to: dt.date, every_days: int = 30, *, horizon: str | None = None,
                 model_path: Path | str | None = None, n_boot: int = 200, seed: int = 0) -> dict:
        """Replay the model at every as-of date of the range and measure how its scores ranked the accounts
        that churned or contracted within the horizon."""
        return self.calibration.backtest(date_from, date_to, every_days, horizon=horizon, model_path=model_path,
                                         n_boot=n_boot, seed=seed).as_dict()

    def calibrate(self, date_from: dt.date | None = None, date_to: dt.date | None = None, every_days: int = 30, *,
                  out: Path | str | None = None, folds: int = 3, n_boot: int = 200, seed: int = 0,
                  allow_leak: list[str] | None = None, report: Path | str | None = None,
                  shapes: bool = False, hybrid: str | None = None) -> dict:
        """Fit weights and tier thresholds from outcomes; write the proposal only when it is better held out.
        hybrid: a tier rule (rubric|learned|both): propose the rubric plus a learned risk component."""
        return self.calibration.calibrate(date_from, date_to, every_days, out=out, folds=folds, n_boot=n_boot,
                                          seed=seed, allow_leak=allow_leak, report=report, shapes=shapes,
                                          hybrid=hybrid).as_dict()

    def whatif(self, account_id: str, sets: list[str] | None = None, changes: list[str] | None = None,
               as_of: dt.date | None = None, *, probability: bool = True, n_boot: int = 100, seed: int = 0,
               fit_from: dt.date | None = None, fit_to: dt.date | None = None, fit_every: int = 30) -> dict:
        """The account's score and tier with metric values set (m=v) or changed (m=-20%)."""
        return self.calibration.whatif(account_id, sets, changes, as_of, probability=probability, n_boot=n_boot,
                                       seed=seed, fit_from=fit_from, fit_to=fit_to, fit_every=fit_every)

    # ---- real time (healthscore.realtime) ----------------------------------------------------

    @cached_property
    def live(self):
        """The real-time scorer: its compiled query is reused across batches."""
        return self._live_service()

    def ingest_events(self, table: str, rows: list[dict], source: str = "api") -> dict:
        """Canonical rows in (validated, quarantined, idempotent on ids), then the accounts they touch rescored
        at once: live snapshots, and alerts and tasks through the same hygiene as the weekly run."""
        from healthscore.realtime.live import utcnow
        from healthscore.realtime.stream import process_batch

        with self.live.lock:  # the API calls from several threads; a batch is ingested and rescored at a time
            return process_batch(self.live, {table: rows}, utcnow(), source=source)

    def live_snapshots(self, account_ids: list[str] | None = None) -> list[dict]:
        return self.store.live_snapshots(account_ids, model_version=self.model.version)

    def stream(self, url: str, prefix: str, **kw) -> dict:
        from healthscore.realtime.stream import run

        return run(self._live_service(rollup=True), url, prefix, **kw)

    # ---- composition root: ingestion and real-time services ---------------------------------
    # (the engine is read through a callable: the web app opens and closes it per request)

    def _engine(self):
        from healthscore.engine.adapters import adapter_for

        return adapter_for(self.con)

    def _ingestion_service(self):
        from healthscore.ingest.service import IngestionService

        return IngestionService(self._engine(), self.ws, self.store)

    def _live_service(self, *, rollup: bool = False, notify: bool = True):
        from healthscore.realtime.live import LiveDeps, LiveService
        from healthscore.workflow.run import _past_scores, load_accounts, review_snapshots

        parts = self.parts
        deps = LiveDeps(
            engine=self._engine, model=lambda: self.model, store=self.store,
            ingest_rows=self.ingest_rows, with_history=self._with_history, history_frame=self.history_frame,
            load_accounts=lambda: load_accounts(parts),
            past_scores=lambda today, drops: _past_scores(parts, today, drops),
            review_snapshots=lambda *a, **kw: review_snapshots(parts, *a, **kw),
        )
        return LiveService(deps, notify=notify, rollup=rollup)

    # ---- users, API tokens and model governance ---------------------------------------------

    def user_add(self, username: str, role: str, actor: str, password: str | None = None,
                 display_name: str | None = None, os_user: str | None = None) -> dict:
        """Add a user: an admin adds them, except the store's first user (an admin) who adds themselves."""
        return self.governance.user_add(username, role, actor, password, display_name, os_user)

    def user_set(self, username: str, actor: str, role: str | None = None, password: str | None = None,
                 disabled: bool | None = None, old_password: str | None = None, os_user: str | None = None) -> dict:
        """Change a user (role, disabling, OS account: admins; a password: your own with the current one)."""
        return self.governance.user_set(username, actor, role, password, disabled, old_password, os_user)

    def token_create(self, username: str, name: str, scopes: list[str], actor: str) -> tuple[dict, str]:
        return self.governance.token_create(username, name, scopes, actor)

    def model_list(self) -> list[dict]:
        return self.governance.model_list()

    def model_propose(self, path: Path | None, note: str, author: str, *, backtest: bool = True,
                      every_days: int = 30) -> dict:
        """Record a model file as a proposed version, with the backtest an approver will want to see."""
        return self.governance.model_propose(path, note, author, backtest=backtest, every_days=every_days)

    def model_approve(self, version: str, actor: str) -> dict:
        return self.governance.model_approve(version, actor)

    def model_show(self, version: str) -> dict:
        """One stored version, with the diff of its YAML against the active (or the file's) model."""
        return self.governance.model_show(version)

    def login(self, username: str, password: str) -> dict | None:
        """The enabled user whose argon2 password hash matches, else None."""
        return self.governance.login(username, password)

    def api_token_user(self, secret: str) -> tuple[dict, dict] | None:
        """(token, user) for a valid, unrevoked API token of an enabled user."""
        return self.governance.api_token_user(secret)

    def authorize(self, username: str, action: str, account_id: str | None = None) -> dict:
        """The user if they may do `action` (read, review, backtest, events, model.approve, users), on
        `account_id` for a csm's review; else AccessDenied."""
        return self.authorizer.authorize(username, action, account_id)

    # ---- what the web application and the REST API show (services/read_models.py) -----------

    def portfolio(self, segment: str | None = None, owner: str | None = None, top: int = 15) -> dict:
        return self.read_models.portfolio(segment=segment, owner=owner, top=top)

    def accounts(self, tier: str | None = None, segment: str | None = None, owner: str | None = None,
                 status: str | None = None, q: str | None = None, limit: int = 50, offset: int = 0) -> dict:
        return self.read_models.accounts(tier=tier, segment=segment, owner=owner, status=status, q=q, limit=limit,
                                         offset=offset)

    def account(self, account_id: str) -> dict:
        return self.read_models.account(account_id)

    def account_evidence(self, account_id: str, as_of: dt.date) -> list[dict]:
        return self.read_models.account_evidence(account_id, as_of)

    def workbench(self, username: str, limit: int = 50, offset: int = 0) -> dict:
        return self.read_models.workbench(username, limit=limit, offset=offset)

    def manager_queue(self, owner: str | None = None, status: str = "open", priority: str | None = None,
                      limit: int = 50, offset: int = 0, order: str | None = None) -> dict:
        return self.read_models.manager_queue(owner=owner, status=status, priority=priority, limit=limit,
                                              offset=offset, order=order)

    def decisions(self, limit: int = 50, offset: int = 0) -> dict:
        return self.read_models.decisions(limit=limit, offset=offset)

    def tasks_page(self, owner: str | None = None, status: str = "open", account_id: str | None = None,
                   limit: int = 50, offset: int = 0, order: str | None = None, priority: str | None = None) -> dict:
        return self.read_models.tasks_page(owner, status, account_id, limit, offset, order, priority)

    def alerts_page(self, since: dt.date | None = None, owner: str | None = None, status: str | None = None,
                    account_id: str | None = None, limit: int = 50, offset: int = 0) -> dict:
        return self.read_models.alerts_page(since, owner, status, account_id, limit, offset)

    def audit_page(self, limit: int = 50, before_seq: int | None = None, object_type: str | None = None,
                   object_id: str | None = None) -> dict:
        return self.read_models.audit_page(limit, before_seq, object_type, object_id)

    # ---- running the health program (healthscore.program, docs/program.md) -----------------

    def lint(self) -> list[dict]:
        """Model anti-patterns as warnings {code, message, key}; a valid model stays valid."""
        return self.program.lint()

    def drift_report(self, as_of: dt.date | None = None, reference_from: dt.date | None = None,
                     reference_to: dt.date | None = None, threshold: float | None = None) -> dict:
        """PSI of every metric and of the score against a reference period; suggests recalibration."""
        return self.program.drift_report(as_of, reference_from, reference_to, threshold)

    def readiness(self) -> dict:
        """Pilot prerequisites item by item, the maturity level and the step to the next one."""
        return self.program.readiness()

    def pilot_report(self, sample: int | None = None, seed: int = 0) -> dict:
        """The pilot's validation rate against its threshold, and a seeded validation sample."""
        return self.program.pilot_report(sample=sample, seed=seed)

    def hierarchy(self, as_of: dt.date | None = None, account_id: str | None = None) -> list[dict]:
        """Parent accounts' health rolled up from their children (model hierarchy.rollup)."""
        return self.program.hierarchy(as_of, account_id)

    def plays_report(self, horizon_days: int = 60, n_boot: int = 200, seed: int = 0) -> dict:
        """Per playbook: health and renewal after the play against matched accounts without it."""
        return self.program.plays_report(horizon_days=horizon_days, n_boot=n_boot, seed=seed)
