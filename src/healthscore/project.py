"""The facade: one place behind the CLI (and later the API and web app) for every operation.

A Project is a workspace opened for work: it loads healthscore.yaml, the health model, the
compute engine and the store lazily, so that cheap commands stay cheap.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from healthscore.errors import UserError
from healthscore.explain.evidence import snapshot_dicts, stored_snapshot_columns
from healthscore.model.windows import HAPPENED_TABLES, end_of_data
from healthscore.workspace import Workspace, load_workspace

if TYPE_CHECKING:
    import pandas as pd

    from healthscore.ingest.load import TableReport
    from healthscore.model.load import LoadedModel
    from healthscore.scoring.score import ScoredFrames
    from healthscore.store.store import Store


BACKFILL_CHUNK_SNAPSHOTS = 100_000  # snapshots per engine pass: about 15 KB each at peak, so ~1.5 GB


@dataclass
class ScoreRun:
    run_id: str
    as_of_dates: list[dt.date]
    model_version: str
    frames: ScoredFrames
    inserted: int
    missing_tables: set[str] = field(default_factory=set)
    overrides: list[dict] = field(default_factory=list)  # owner corrections in force, newest first
    written_back: int = 0  # snapshots written to health_snapshots in the engine (write-back)

    @property
    def snapshots(self) -> list[dict]:
        from healthscore.workflow.overrides import apply_overrides

        snaps = snapshot_dicts(self.frames)
        return apply_overrides(snaps, self.overrides) if self.overrides else snaps


def today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


class Project:
    def __init__(self, workspace: Path | str = "."):
        self.workspace_dir = Path(workspace)

    # ---- lazily opened parts ----------------------------------------------------------------

    @cached_property
    def ws(self) -> Workspace:
        return load_workspace(self.workspace_dir)

    @cached_property
    def file_model(self) -> LoadedModel:
        """The model file of the workspace (what is being edited, maybe not approved)."""
        from healthscore.model.load import load_health_model

        return load_health_model(self.ws.model_path)

    @cached_property
    def model(self) -> LoadedModel:
        """The model that scores: the version an admin approved (`healthscore model approve`), or, in a
        workspace where none was ever approved, the model file."""
        from healthscore.model.load import load_health_model

        active = self.store.active_model_version()
        if active is None:
            return self.file_model
        return load_health_model(self.ws.model_path, text=active["yaml_text"])

    @property
    def model_notice(self) -> str | None:
        """Says so when the model file differs from the approved version that scores."""
        if self.model is self.file_model or self.model.version == self.file_model.version:
            return None
        return (f"{self.ws.model_path} (version {self.file_model.version}) is not approved: scoring with the active"
                f" version {self.model.version}; propose it with 'healthscore model propose' and have an admin"
                " approve it")

    # seconds to wait while another process holds a DuckDB engine file (None: engine.lock_timeout)
    engine_lock_timeout: float | None = None

    @cached_property
    def con(self):
        from healthscore.engine.backend import connect

        return connect(self.ws, self.engine_lock_timeout)

    @cached_property
    def store(self) -> Store:
        from healthscore.store.store import Store
        from healthscore.store.workflow import AuditSeal

        return Store(self.ws.store_url, seal=AuditSeal.for_workspace(self.ws.root, self.ws.config.store))

    def close(self) -> None:
        if "store" in self.__dict__:
            self.store.close()
        if "con" in self.__dict__:
            self.con.disconnect()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # ---- operations -------------------------------------------------------------------------

    def validate(self) -> dict:
        """Check the workspace and its model; every problem raises a UserError naming file and key."""
        import glob

        from healthscore.security import mask_url

        ws, model = self.ws, self.file_model
        sources = {}
        for table, src in ws.config.sources.items():
            if src.path is not None:
                matches = glob.glob(str(ws.resolve(src.path)))
                if not matches:
                    raise UserError(f"{ws.config_path}: sources.{table}.path: no file matches {src.path!r}")
                sources[table] = f"{len(matches)} file(s), {src.format}"
            elif src.database is not None:
                from healthscore.ingest.load import source_key

                sources[table] = f"table {source_key(src)}"
            else:
                sources[table] = f"engine table {src.table}"
            if src.adapter is not None:
                sources[table] += f", adapter {src.adapter}"
            if src.mode == "append":
                sources[table] += ", append"
        return {
            "workspace": str(ws.root),
            "model": {"name": model.ir.name, "version": model.version, "path": str(model.path),
                      "components": len(model.ir.components), "metrics": len(model.ir.metrics),
                      "segments": len(model.ir.segments)},
            "sources": sources,
            "engine": ws.config.engine.backend,
            "store": mask_url(ws.store_url),  # never the password
            "warnings": self.lint(),  # anti-patterns (docs/program.md): warnings, never errors
        }

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
        """Score every account (or the given ones) at one or many as-of dates, in one engine query.

        ``history`` (default: ``store``) smooths against the stored snapshots before the first date; a
        read (explain) uses them without storing anything.

        ``write_back`` (default: the workspace's ``write_back`` setting) also writes the snapshots and
        their evidence to health_snapshots / health_evidence in the engine (engine/writeback.py)."""
        from healthscore.engine.compile import compute_frame
        from healthscore.scoring.score import score_frame

        dates = sorted(set(as_of_dates or [as_of or today()]))
        model = self.model
        frame, plan, missing = compute_frame(self.con, model.ir, dates, account_ids=account_ids)
        frames = self._with_history(score_frame(model.ir, model.version, plan, frame, missing), dates[0],
                                    account_ids, stored_history=store if history is None else history)
        frames.excluded = self._excluded(frames.excluded, dates, account_ids)
        run_id, inserted = "", 0
        if store:
            self.store.record_model_version(model.version, model.ir.name, str(model.path), model.yaml_text,
                                            model.ir_json)
            run_id = self.store.start_run(model.version, dates, self.ws.config.engine.backend)
            inserted = self.store.write_snapshots(run_id, stored_snapshot_columns(frames.snapshots), frames.evidence)
            self.store.finish_run(run_id, accounts=frames.snapshots["account_id"].nunique(),
                                  snapshots_written=inserted)
        overrides = self.store.overrides(account_ids) if store or history else []
        run = ScoreRun(run_id, dates, model.version, frames, inserted, missing, overrides)
        if self._writes_back(write_back):
            from healthscore.engine.writeback import write_back as write

            run.written_back = write(self.con, run.snapshots)["snapshots"]
        return run

    def _excluded(self, churned: pd.DataFrame | None, dates: list[dt.date],
                  account_ids: list[str] | None) -> pd.DataFrame:
        """Every account a scoring run left out, with the reason: churned before the date, or created
        on or after it (the engine query never returns those)."""
        import pandas as pd

        from healthscore.engine.attributes import not_yet_created
        from healthscore.scoring.score import EXCLUDED_NOT_CREATED

        late = not_yet_created(self.con, dates, account_ids).assign(reason=EXCLUDED_NOT_CREATED)
        parts = [f for f in (churned, late) if f is not None and len(f)]
        if not parts:
            return pd.DataFrame(columns=["account_id", "as_of", "reason"])
        return pd.concat(parts, ignore_index=True).sort_values(["as_of", "account_id"], ignore_index=True)

    def _writes_back(self, write_back: bool | None) -> bool:
        return self.ws.config.write_back if write_back is None else write_back

    def _with_history(self, frames: ScoredFrames, first_date: dt.date, account_ids: list[str] | None,
                      stored_history: bool = True, prior: pd.DataFrame | None = None) -> ScoredFrames:
        """Smoothing, published tiers, last trusted scores and trend notes against the stored snapshots before
        `first_date` (none with stored_history=False: a dry run sees only its own batch). `prior`: those
        snapshots, when the caller has them already (history_frame; the real-time scorer keeps the day's)."""
        from healthscore.explain.attribution import with_trend_notes
        from healthscore.scoring.history import apply_history

        model = self.model
        if stored_history and prior is None:
            prior = self.history_frame(first_date, account_ids)
        frames.snapshots = with_trend_notes(apply_history(model.ir, frames.snapshots, prior), frames.evidence)
        return frames

    def history_frame(self, first_date: dt.date, account_ids: list[str] | None = None) -> pd.DataFrame:
        """The stored snapshots that smoothing and published tiers look back on from `first_date`."""
        lookback = dt.timedelta(days=max(self.model.ir.history.smoothing_days, 120))
        return self.store.snapshot_frame(date_from=first_date - lookback, date_to=first_date - dt.timedelta(days=1),
                                         model_version=self.model.version, account_ids=account_ids)

    def backfill(self, date_from: dt.date, date_to: dt.date, every_days: int = 7,
                 progress: Callable[[int, int], None] | None = None, write_back: bool | None = None) -> dict:
        """Score every date of the range, a chunk of dates per engine pass; dates already stored are skipped,
        so an interrupted backfill resumes where it stopped (each chunk is written in one transaction).
        A date counts as stored only when every account that existed on it (created before it, or with
        no created_at) has a snapshot: accounts added later get their history too (the stored
        snapshots of such a date are kept; the scoring is idempotent).

        With write-back (``write_back`` or the workspace setting), the new snapshots go to the engine's
        health_snapshots / health_evidence too, and so do the stored snapshots of the skipped dates."""
        if date_to < date_from:
            raise UserError(f"--to {date_to} is before --from {date_from}")
        dates = [date_from + dt.timedelta(days=i) for i in range(0, (date_to - date_from).days + 1, every_days)]
        done = self.store.stored_as_of_dates(self.model.version)
        partly = [d for d in dates if d in done]
        incomplete = set(self._incomplete_dates(partly)) if partly else set()
        todo = [d for d in dates if d not in done or d in incomplete]
        accounts = self.con.table("accounts").count().execute() if todo else 0
        per_chunk = max(1, min(len(todo) or 1, BACKFILL_CHUNK_SNAPSHOTS // max(accounts, 1)))
        written = 0
        if progress:
            progress(len(dates) - len(todo), len(dates))
        written_back = 0
        from healthscore.faults import fault_point

        for i in range(0, len(todo), per_chunk):
            chunk = todo[i:i + per_chunk]
            run = self.score(as_of_dates=chunk, write_back=write_back)
            written += run.inserted
            written_back += run.written_back
            fault_point("backfill:chunk")
            if progress:
                progress(len(dates) - len(todo) + i + len(chunk), len(dates))
        stored = sorted(set(dates) - set(todo))
        if self._writes_back(write_back) and stored:  # dates scored before write-back was on
            from healthscore.engine.writeback import write_back as write
            from healthscore.workflow.overrides import apply_overrides

            wanted = {d.isoformat() for d in stored}
            snaps = [s for s in self.store.snapshots(date_from=stored[0], date_to=stored[-1],
                                                     model_version=self.model.version) if s["as_of"] in wanted]
            overrides = self.store.overrides(None)
            written_back += write(self.con, apply_overrides(snaps, overrides) if overrides else snaps)["snapshots"]
        out = {"model_version": self.model.version, "dates": len(dates), "already_stored": len(dates) - len(todo),
               "scored_dates": len(todo), "snapshots_written": written, "dates_per_pass": per_chunk,
               "completed_dates": len(incomplete)}
        if self._writes_back(write_back):
            out["written_back"] = written_back
        return out

    def _incomplete_dates(self, dates: list[dt.date]) -> list[dt.date]:
        """Stored dates with fewer snapshots than accounts scored on them: scoring leaves out the
        accounts created on or after the as-of date and those whose latest outcome before it is a
        churn (engine/compile.py, scoring/score.py)."""
        import pandas as pd

        stored = self.store.snapshot_counts(self.model.version, dates)
        accounts = self.con.table("accounts").select("account_id", "created_at").execute()
        created = pd.to_datetime(accounts["created_at"])
        outcomes = None
        if "outcomes" in self.con.list_tables():
            outcomes = self.con.table("outcomes").select("account_id", "ts", "kind").execute()
            outcomes = outcomes[outcomes["account_id"].isin(accounts["account_id"])].sort_values("ts", kind="stable")
        out = []
        for d in dates:
            when = pd.Timestamp(d)
            expected = int((created.isna() | (created < when)).sum())
            if outcomes is not None and len(outcomes):
                latest = outcomes[outcomes["ts"] < when].groupby("account_id")["kind"].last()
                churned = set(latest.index[latest == "churned"])
                alive = accounts["account_id"].isin(churned) & (created.isna() | (created < when))
                expected -= int(alive.sum())
            if stored.get(d, 0) < expected:
                out.append(d)
        return out

    def changes(self, since: dt.date, until: dt.date | None = None) -> list[dict]:
        """Material changes (a big enough score move or a tier change) between stored snapshots since a date."""
        import pandas as pd

        from healthscore.scoring.history import material_change

        model = self.model
        lookback = dt.timedelta(days=max(model.ir.history.smoothing_days, 120))
        frame = self.store.snapshot_frame(date_from=since - lookback, date_to=until, model_version=model.version)
        if frame.empty:
            return []
        frame = frame.sort_values(["account_id", "as_of"], kind="stable")
        for col in ("score", "tier", "primary_driver", "trend_note", "smoothed_score"):
            if col in frame:
                frame[col] = frame[col].astype(object).where(frame[col].notna(), None)
        grouped = frame.groupby("account_id", sort=False)
        frame["previous_score"] = grouped["score"].shift(1)
        frame["previous_tier"] = grouped["tier"].shift(1)
        frame["previous_as_of"] = grouped["as_of"].shift(1)
        frame = frame[frame["as_of"] >= pd.Timestamp(since)]
        frame = frame[material_change(model.ir, frame)]
        out = []
        frame["previous_score"] = frame["previous_score"].astype(object).where(frame["previous_score"].notna(), None)
        frame["previous_tier"] = frame["previous_tier"].astype(object).where(frame["previous_tier"].notna(), None)
        for r in frame.to_dict("records"):
            out.append({
                "account_id": r["account_id"], "as_of": r["as_of"].date().isoformat(),
                "previous_as_of": r["previous_as_of"].date().isoformat(),
                "score": r["score"], "previous_score": r["previous_score"],
                "delta": None if r["score"] is None or r["previous_score"] is None
                else round(r["score"] - r["previous_score"], 2),
                "tier": r["tier"], "previous_tier": r["previous_tier"], "status": r["status"],
                "primary_driver": r["primary_driver"], "trend_note": r["trend_note"],
                "smoothed_score": r.get("smoothed_score"),  # the published tier follows it
            })
        # newest first, the biggest moves of a date first
        out.sort(key=lambda c: (c["as_of"], abs(c["delta"] or 0)), reverse=True)
        return out

    def explain(self, account_id: str, as_of: dt.date | None = None, compare: dt.date | None = None, *,
                fresh: bool = False) -> dict:
        """The account's snapshot; with `compare`, also the exact attribution of the change since then.

        Reads are reads: the stored snapshot of the date (as_of None: the newest stored one) under the
        current model. A date without one, or ``fresh``, is computed from the engine now, with the stored
        history for smoothing, and nothing is written; such a snapshot says ``"stored": false``."""
        self._require_account(account_id)
        version = self.model.version
        if as_of is None:
            as_of = (None if fresh else self.store.latest_as_of(version, account_id)) or today()
        if compare is not None and compare >= as_of:
            raise UserError(f"--compare {compare} must be before the as-of date {as_of}")
        dates = [as_of] if compare is None else [compare, as_of]
        snaps: dict[str, dict] = {}
        if not fresh:
            for d in dates:
                stored = self.store.snapshots(account_id, as_of=d, model_version=version)
                if stored:
                    snaps[d.isoformat()] = {**stored[0], "stored": True}
        todo = [d for d in dates if d.isoformat() not in snaps]
        if todo:
            run = self.score(as_of_dates=todo, account_ids=[account_id], store=False, history=True)
            snaps.update({s["as_of"]: {**s, "stored": False} for s in run.snapshots})
        if any(s["stored"] for s in snaps.values()):
            self._complete_stored(account_id, snaps)
        after = snaps.get(as_of.isoformat())
        if after is None:
            raise UserError(f"account {account_id!r} has no snapshot at {as_of}: it was created"
                            " on or after that date, or it had churned before it")
        if compare is None:
            return after
        from healthscore.explain.attribution import attribute_change, trend_note

        rescored = snaps.get(compare.isoformat())
        if rescored is None:
            raise UserError(f"account {account_id!r} has no snapshot at {compare} to compare with")
        # A snapshot stored earlier under another model version is what the owner saw then.
        older = [s for s in self.store.snapshots(account_id, as_of=compare) if s["model_version"] != version]
        change = attribute_change(older[-1], after, rescored) if older else attribute_change(rescored, after)
        return {**after, "change": change, "trend_note": trend_note(change)}

    def _complete_stored(self, account_id: str, snaps: dict[str, dict]) -> None:
        """Stored snapshots as a fresh one reads: the account's name, owner and ARR as of the date, and
        the owner's correction in force."""
        import pandas as pd

        from healthscore.engine.attributes import accounts_as_of
        from healthscore.workflow.overrides import apply_overrides

        overrides = self.store.overrides([account_id])
        for key, snap in list(snaps.items()):
            if not snap["stored"]:
                continue
            acc = accounts_as_of(self.con, dt.date.fromisoformat(key), ["name", "owner", "arr"], [account_id])
            row = {k: (None if not isinstance(v, str) and pd.isna(v) else v)
                   for k, v in (acc.to_dict("records") or [{}])[0].items()}
            snap["account"] = {"name": row.get("name"), "owner": row.get("owner"),
                               "arr": float(row["arr"]) if row.get("arr") is not None else None}
            snaps[key] = apply_overrides([snap], overrides)[0] if overrides else snap

    def history(self, account_id: str, date_from: dt.date | None = None, date_to: dt.date | None = None) -> list[dict]:
        self._require_account(account_id)
        return self.store.snapshots(account_id, date_from=date_from, date_to=date_to,
                                    model_version=None, with_evidence=False)

    def _require_account(self, account_id: str) -> None:
        if "accounts" not in self.con.list_tables():
            raise UserError("the engine has no accounts table: run 'healthscore ingest' first")
        t = self.con.table("accounts")
        if t.filter(t.account_id == account_id).count().execute() == 0:
            raise UserError(f"unknown account {account_id!r}: it is not in the accounts table"
                            " (see 'healthscore score' for the accounts scored)")

    # ---- the review workflow (docs/workflow.md) ----------------------------------------------

    def run_weekly(self, as_of: dt.date | None = None, notify: bool = True) -> dict:
        """The weekly review run: score, alerts through the hygiene rules, owner review tasks, notifications."""
        from healthscore.workflow.run import run_weekly

        return run_weekly(self, as_of or today(), notify=notify)

    def tasks(self, owner: str | None = None, status: str = "open", account_id: str | None = None) -> list[dict]:
        if status not in ("open", "accepted", "corrected", "dismissed", "all"):
            raise UserError(f"--status {status!r} is not allowed; use open, accepted, corrected, dismissed or all")
        return self.store.tasks(queue=owner, status=status, account_id=account_id)

    def task(self, task_id: int) -> dict:
        return self.store.task(task_id)

    def review(self, task_id: int, decision: str, actor: str, *, score: float | None = None, tier: str | None = None,
               reason_code: str | None = None, note: str | None = None, expires: dt.date | None = None) -> dict:
        """An owner's decision on a task: accept; correct (an override with reason code, note and expiry;
        the computed score stays stored); or dismiss as a false positive (with a reason)."""
        wf = self.model.ir.workflow
        task = self.store.task(task_id)
        override = None
        if decision == "correct":
            if score is None and tier is None:
                raise UserError("--correct needs --score N (0..100) or --tier green|yellow|red")
            if score is not None and not 0 <= score <= 100:
                raise UserError(f"--score {score} is out of range; use 0..100")
            if tier is not None and tier not in ("green", "yellow", "red"):
                raise UserError(f"--tier {tier!r} is not allowed; use green, yellow or red")
            if reason_code not in wf.override_reasons:
                raise UserError(f"--reason-code {reason_code!r} is not allowed; use one of "
                                f"{', '.join(wf.override_reasons)} (workflow.override_reasons in the model)")
            if not note:
                raise UserError("--correct needs --note: say why, for the next reviewer and the audit log")
            as_of = dt.date.fromisoformat(task["as_of"])
            latest = as_of + dt.timedelta(days=wf.max_override_days)
            if expires is None or not as_of < expires <= latest:
                raise UserError(f"--correct needs --expires DATE after {as_of} and at most {wf.max_override_days} days"
                                f" later (by {latest}); an override must end by itself")
            if tier is None:
                from healthscore.workflow.alerts import tiers_for

                snap = self.store.snapshots(task["account_id"], as_of=as_of, model_version=task["model_version"],
                                            with_evidence=False)
                tier = tiers_for(self.model.ir, snap[0]["segment"] if snap else None).tier(score)
            override = {"score": score, "tier": tier, "reason_code": reason_code, "note": note,
                        "starts_on": as_of, "expires_on": expires}
        elif decision == "dismiss":
            if not note:
                raise UserError("--dismiss needs --reason TEXT: why the alert or change was a false positive")
            reason_code = reason_code or "false_positive"
        elif decision != "accept":
            raise UserError(f"unknown decision {decision!r}; use --accept, --correct or --dismiss")
        return self.store.decide_task(task_id, decision, actor, reason_code=reason_code, note=note, override=override)

    def follow_up(self, task_id: int, actor: str, note: str) -> dict:
        if not note:
            raise UserError("--note is required: what was done (call held, sponsor identified, ...)")
        return self.store.follow_up(task_id, actor, note)

    def alerts(self, since: dt.date | None = None, owner: str | None = None, status: str | None = None) -> list[dict]:
        if status is not None and status not in ("sent", "digest", "capped"):
            raise UserError(f"--status {status!r} is not allowed; use sent, digest or capped")
        return self.store.alerts(since=since, owner=owner, status=status)

    def measurement_report(self, horizon_days: int = 90) -> dict:
        from healthscore.workflow.measure import measurement_report

        return measurement_report(self, horizon_days=horizon_days)

    def audit_verify(self) -> dict:
        return self.store.verify_audit()

    def audit_log(self, limit: int | None = None) -> list[dict]:
        return self.store.audit_entries(limit=limit)

    # ---- outcomes: backtest, calibrate, what-if (healthscore.calibrate) ---------------------

    def _load_other_model(self, model_path: Path | str | None) -> LoadedModel:
        if model_path is None:
            return self.model
        from healthscore.model.load import load_health_model

        path = Path(model_path)
        if not path.is_file():
            raise UserError(f"--model {path}: no such file; give a health model YAML file")
        return load_health_model(path)

    def _score_with(self, loaded: LoadedModel, dates: list[dt.date],
                    account_ids: list[str] | None = None) -> ScoreRun:
        """Project.score(store=False) with another model, leaving the workspace's model untouched."""
        saved = self.__dict__.get("model")
        self.__dict__["model"] = loaded
        try:
            return self.score(as_of_dates=dates, account_ids=account_ids, store=False)
        finally:
            if saved is None:
                self.__dict__.pop("model", None)
            else:
                self.__dict__["model"] = saved

    def _outcomes(self):
        """The engine's outcomes table and the end of the data (newest row of any event table, at most now)."""
        import pandas as pd

        from healthscore.contract import TABLES

        tables = set(self.con.list_tables())
        if "outcomes" not in tables:
            raise UserError("the engine has no outcomes table: map one under sources.outcomes in healthscore.yaml"
                            " (account_id, ts, kind: renewed|churned|contracted|expanded) and run"
                            " 'healthscore ingest'")
        oc = self.con.table("outcomes").select("account_id", "ts", "kind").execute()
        newest: dict[str, pd.Timestamp] = {}
        for name in HAPPENED_TABLES:
            if name in tables:
                v = self.con.table(name)[TABLES[name].time_column].max().execute()
                if v is not None and not pd.isna(v):
                    newest[name] = pd.Timestamp(v)
        return oc, end_of_data(newest, pd.Timestamp(dt.datetime.now(dt.UTC).replace(tzinfo=None)))

    def _outcome_spec(self, loaded: LoadedModel, horizon: str | None):
        from pydantic import ValidationError

        from healthscore.model.ir import Outcome

        spec = loaded.ir.outcome_spec
        if horizon is None:
            return spec
        try:
            return Outcome(label=spec.label, horizon=horizon)
        except ValidationError:
            raise UserError(f"--horizon {horizon!r} is not a window; use days or weeks, e.g. 90d or 13w") from None

    def backtest(self, date_from: dt.date, date_to: dt.date, every_days: int = 30, *, horizon: str | None = None,
                 model_path: Path | str | None = None, n_boot: int = 200, seed: int = 0) -> dict:
        """Replay the model at every as-of date of the range (only data before each date counts) and measure
        how its scores ranked the accounts that churned or contracted within the horizon."""
        from healthscore.calibrate.backtest import backtest_report, held_out_of
        from healthscore.calibrate.labels import label_snapshots
        from healthscore.calibrate.leaks import check_snapshots
        from healthscore.calibrate.study import metric_study

        if date_to < date_from:
            raise UserError(f"--to {date_to} is before --from {date_from}")
        loaded = self._load_other_model(model_path)
        spec = self._outcome_spec(loaded, horizon)
        outcomes, end = self._outcomes()
        dates = [date_from + dt.timedelta(days=i) for i in range(0, (date_to - date_from).days + 1, every_days)]
        one_day = self._one_date_day()
        frames = self._frames_for_outcomes(loaded, dates, one_day)
        snaps = frames.snapshots
        labels = label_snapshots(snaps, outcomes, spec, end, one_date_from=one_day)
        result = backtest_report(snaps, labels, horizon_days=spec.horizon_days, n_boot=n_boot, seed=seed)
        result = {"model": {"name": loaded.ir.name, "version": loaded.version, "path": str(loaded.path)},
                  "outcome": {"label": list(spec.label), "horizon": spec.horizon},
                  "data_end": str(end), "from": str(date_from), "to": str(date_to), "every_days": every_days,
                  "one_date": None if one_day is None else str(one_day.date()),
                  "bootstrap": {"resamples": n_boot, "seed": seed, "unit": "account"}, **result}
        result["leaks"] = check_snapshots(loaded.ir, frames.evidence, labels, snaps)
        result["held_out"] = held_out_of(loaded.ir, dates)
        result["metric_study"] = metric_study(frames.evidence, labels, snaps,
                                              threshold=loaded.ir.calibration_spec.correlation)
        return result

    def _frames_for_outcomes(self, loaded: LoadedModel, dates: list[dt.date], one_day) -> ScoredFrames:
        """Snapshots to hold against outcomes. One-date data: accounts whose churn is the export's label stay in."""
        if one_day is None:
            return self._score_with(loaded, dates).frames
        from healthscore.calibrate.labels import keep_churned
        from healthscore.engine.compile import compute_frame
        from healthscore.scoring.score import score_frame

        frame, plan, missing = compute_frame(self.con, loaded.ir, dates)
        return score_frame(loaded.ir, loaded.version, plan, keep_churned(frame, plan), missing)

    def _calibration_dates(self, date_from, date_to, every_days, horizon_days, end) -> list[dt.date]:
        last_complete = (end - dt.timedelta(days=horizon_days)).date()
        date_to = date_to or last_complete
        date_from = date_from or date_to - dt.timedelta(days=365)
        if date_to < date_from:
            raise UserError(f"--to {date_to} is before --from {date_from}")
        return [date_from + dt.timedelta(days=i) for i in range(0, (date_to - date_from).days + 1, every_days)]

    def _data_span(self):
        """(oldest, newest) timestamp over the rows of the event tables other than outcomes (None, None if empty)."""
        import pandas as pd

        from healthscore.contract import TABLES

        tables = set(self.con.list_tables())
        lo, hi = [], []
        for name in HAPPENED_TABLES:
            if name == "outcomes" or name not in tables:
                continue
            t = self.con.table(name)
            col = t[TABLES[name].time_column]
            r = t.aggregate(lo=col.min(), hi=col.max()).execute()
            for v, acc in ((r["lo"].iloc[0], lo), (r["hi"].iloc[0], hi)):
                if v is not None and not pd.isna(v):
                    acc.append(pd.Timestamp(v))
        return (min(lo), max(hi)) if lo and hi else (None, None)

    def _one_date_day(self):
        """The day of a one-date export (every event row on one calendar day), else None."""
        oldest, newest = self._data_span()
        if oldest is None or oldest.normalize() != newest.normalize():
            return None
        return newest.normalize()

    def calibrate(self, date_from: dt.date | None = None, date_to: dt.date | None = None, every_days: int = 30, *,
                  out: Path | str | None = None, folds: int = 3, n_boot: int = 200, seed: int = 0,
                  allow_leak: list[str] | None = None, report: Path | str | None = None,
                  shapes: bool = False) -> dict:
        """Fit weights and tier thresholds from outcomes, guard against leaks, compare the current, the calibrated,
        a logistic-regression and a gradient-boosted model on held-out folds, and write the proposal only when
        it is better on held-out data (calibrate.service does the work)."""
        import pandas as pd

        from healthscore.calibrate import service
        from healthscore.engine.compile import compute_frame
        from healthscore.yamlio import read_yaml

        loaded = self.model
        ir, spec = loaded.ir, loaded.ir.outcome_spec
        if out is not None and Path(out).resolve() == Path(loaded.path).resolve():
            raise UserError(f"--out {out} is the active model; write the proposal to another file and review it")
        outcomes, end = self._outcomes()
        one_day = self._one_date_day() if date_from is None and date_to is None else None
        if one_day is not None:  # a one-date export: one as-of date, the day after it (its rows visible)
            dates = [(one_day + pd.Timedelta(days=1)).date()]
            portfolio = None
        else:
            dates = self._calibration_dates(date_from, date_to, every_days, spec.horizon_days, end)
            portfolio = (pd.Timestamp(end).normalize() + pd.Timedelta(days=1)).date()
            portfolio = None if portfolio in dates else portfolio
        frame, plan, missing = compute_frame(self.con, ir, dates + ([portfolio] if portfolio else []))
        data, _, _ = read_yaml(Path(loaded.path))
        inp = service.Inputs(ir, loaded.version, Path(loaded.path), data, frame, plan, missing, outcomes, end, dates,
                             portfolio or max(dates), one_day)
        if report is None and out is not None:
            report = Path(out).with_suffix(".report.md")
        return service.run(inp, folds=folds, n_boot=n_boot, seed=seed, allow_leak=allow_leak,
                           out=Path(out) if out is not None else None,
                           report=Path(report) if report is not None else None, shapes=shapes)

    def whatif(self, account_id: str, sets: list[str] | None = None, changes: list[str] | None = None,
               as_of: dt.date | None = None, *, probability: bool = True, n_boot: int = 100, seed: int = 0,
               fit_from: dt.date | None = None, fit_to: dt.date | None = None, fit_every: int = 30) -> dict:
        """The account's score and tier with metric values set (--set m=v) or changed (--change m=-20%)."""
        import numpy as np

        from healthscore.calibrate.whatif import moved_evidence, new_values, parse_assignments
        from healthscore.engine.compile import compute_frame
        from healthscore.explain.evidence import snapshot_dicts
        from healthscore.scoring.score import metric_values, score_frame

        self._require_account(account_id)
        as_of = as_of or today()
        ir = self.model.ir
        names = [m.name for _, m in ir.metrics]
        todo = parse_assignments(sets or [], changes or [], names)
        frame, plan, missing = compute_frame(self.con, ir, [as_of], account_ids=[account_id])
        last = frame.get(f"{plan.last_outcome}__value")
        if last is not None:
            frame = frame[last.fillna("") != "churned"].reset_index(drop=True)
        if frame.empty:
            raise UserError(f"account {account_id!r} has no snapshot at {as_of}: it was created on or after that"
                            " date, or it had churned before it")
        base = score_frame(ir, self.model.version, plan, frame, missing)
        metrics = dict((m.name, m) for _, m in ir.metrics)
        overrides, applied = {}, []
        for name, kind, amount in todo:
            cur = overrides.get(name)
            if cur is None:
                cur, _, _ = metric_values(metrics[name], plan.metric_inputs[name], frame, plan.holidays)
            v0 = cur[0]
            v0 = None if v0 is None or (not isinstance(v0, str) and np.isnan(v0)) else v0
            v1 = new_values(v0, kind, amount)
            arr = np.array([v1 if v1 is not None else np.nan], dtype=cur.dtype if cur.dtype == object else "float64")
            if isinstance(v1, str) and arr.dtype != object:
                raise UserError(f"--set {name}={v1}: {name} takes a number")
            overrides[name] = arr
            applied.append({"metric": name, "from": v0, "to": v1, "how": kind, "amount": amount})
        after = score_frame(ir, self.model.version, plan, frame, missing, value_overrides=overrides)
        b, a = snapshot_dicts(base)[0], snapshot_dicts(after)[0]
        result = {"account_id": account_id, "as_of": str(as_of), "model_version": self.model.version,
                  "changes": applied,
                  "before": {k: b[k] for k in ("score", "tier", "status", "reasons")},
                  "after": {k: a[k] for k in ("score", "tier", "status", "reasons")},
                  "delta": None if a["score"] is None or b["score"] is None else round(a["score"] - b["score"], 2),
                  "evidence_moved": moved_evidence(b["evidence"], a["evidence"])}
        result["probability"] = self._whatif_probability(b["score"], a["score"], n_boot, seed, fit_from, fit_to,
                                                         fit_every) if probability \
            else {"available": False, "note": "not requested"}
        return result

    def _whatif_probability(self, before: float | None, after: float | None, n_boot: int, seed: int,
                            fit_from: dt.date | None = None, fit_to: dt.date | None = None,
                            fit_every: int = 30) -> dict:
        """Churn probability of a score from a logistic mapping fitted on the labelled snapshots of the as-of dates
        fit_from..fit_to (default: the last year whose horizon is over), with a bootstrap interval over accounts
        and the Brier skill of that mapping over the base rate; unavailable (and why) without enough outcomes."""
        from healthscore.calibrate import stats
        from healthscore.calibrate.labels import label_snapshots

        spec, cal = self.model.ir.outcome_spec, self.model.ir.calibration_spec
        try:
            outcomes, end = self._outcomes()
        except UserError as exc:
            return {"available": False, "note": f"no calibration: {exc}"}
        one_day = self._one_date_day() if fit_from is None and fit_to is None else None
        dates = [(one_day + dt.timedelta(days=1)).date()] if one_day is not None else \
            self._calibration_dates(fit_from, fit_to, fit_every, spec.horizon_days, end)
        snaps = self._frames_for_outcomes(self.model, dates, one_day).snapshots
        lab = label_snapshots(snaps, outcomes, spec, end, one_date_from=one_day)
        rows = snaps[["account_id", "score", "status"]].assign(label=lab["label"].to_numpy())
        rows = rows[(rows["status"] == "scored") & rows["label"].notna()]
        y = rows["label"].to_numpy(float)
        if y.sum() < cal.min_events:
            return {"available": False, "note": f"no calibration: {int(y.sum())} bad outcome(s) in {len(y)} labelled"
                    f" snapshots over {dates[0]}..{dates[-1]}; at least {cal.min_events} are needed"
                    " (calibration.min_events)"}
        score, acc = rows["score"].to_numpy(float), rows["account_id"].astype(str).to_numpy(object)
        out = {"available": True, "horizon": spec.horizon, "label": list(spec.label), "fitted_on": len(y),
               "events": int(y.sum()), "from": str(dates[0]), "to": str(dates[-1]), "every_days": fit_every,
               "base_rate": stats._r(y.mean())}
        fitted = stats.platt_predict(stats.fit_platt(score, y), score)
        skill = stats.bootstrap(acc, lambda w: stats.brier_skill(fitted, y, y.mean(), w), n=n_boot, seed=seed)
        out["brier_skill"] = skill
        if skill.get("low") is None or skill["low"] <= 0:
            out["note"] = (f"the probability adds nothing over the base rate ({stats._r(y.mean())}) on these dates:"
                           " Brier skill interval reaches 0")
        for key, s in (("before", before), ("after", after)):
            if s is None:
                out[key] = None
                continue
            out[key] = stats.bootstrap(acc, lambda w, s=s: float(stats.platt_predict(
                stats.fit_platt(score, y, w=w), [s])[0]), n=n_boot, seed=seed)
        return out

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

        deps = LiveDeps(
            engine=self._engine, model=lambda: self.model, store=self.store,
            ingest_rows=self.ingest_rows, with_history=self._with_history, history_frame=self.history_frame,
            load_accounts=lambda: load_accounts(self),
            past_scores=lambda today, drops: _past_scores(self, today, drops),
            review_snapshots=lambda *a, **kw: review_snapshots(self, *a, **kw),
        )
        return LiveService(deps, notify=notify, rollup=rollup)

    # ---- end of the ingestion and real-time composition ---------------------------------------

    # ---- users, API tokens and model governance ---------------------------------------------

    def user_add(self, username: str, role: str, actor: str, password: str | None = None,
                 display_name: str | None = None, os_user: str | None = None) -> dict:
        """Add a user: an admin does; the very first user of a store (an admin) adds themselves."""
        from healthscore import authz
        from healthscore.security import hash_password

        first = not self.store.users()
        if first:
            if role != "admin":
                raise UserError(f"the first user of a store must be an admin (--role admin), not {role}: nobody"
                                " could add users otherwise")
        else:
            authz.authorize(self, actor, "users")
        return self.store.add_user(username, role, actor, display_name=display_name, os_user=os_user,
                                   password_hash=hash_password(password, username) if password else None,
                                   first_only=first)

    def user_set(self, username: str, actor: str, role: str | None = None, password: str | None = None,
                 disabled: bool | None = None, old_password: str | None = None, os_user: str | None = None) -> dict:
        """Change a user. Role, disabling and the OS account: admins. A password: your own with the current
        one (a stolen session or shell must not lock you out), anyone's by an admin."""
        from healthscore import authz
        from healthscore.security import hash_password, verify_password

        me = authz.authorize(self, actor, "read")
        admin = me["role"] == "admin"
        if (role is not None or disabled is not None or os_user is not None) and not admin:
            raise authz.AccessDenied(f"user {actor!r} has role {me['role']}; changing a role, a login or an OS"
                                     " account needs admin")
        if password:
            if actor == username:
                if not old_password or not verify_password(self.store.password_hash(username), old_password):
                    raise authz.AccessDenied("changing your own password needs your current one: give it on the"
                                             " first line of standard input with --old-password-stdin")
            elif not admin:
                raise authz.AccessDenied(f"user {actor!r} has role {me['role']}; changing another user's password"
                                         " needs admin")
        return self.store.set_user(username, actor, role=role, disabled=disabled, os_user=os_user,
                                   password_hash=hash_password(password, username) if password else None)

    def token_create(self, username: str, name: str, scopes: list[str], actor: str) -> tuple[dict, str]:
        from healthscore import authz

        allowed = {"read", "write", "events:write"}
        bad = [s for s in scopes if s not in allowed]
        if bad or not scopes:
            raise UserError(f"--scope {', '.join(bad) or '(none)'}: use one or more of {', '.join(sorted(allowed))}")
        authz.authorize(self, actor, "read" if actor == username else "users")
        return self.store.create_token(username, name, scopes, actor)

    def model_list(self) -> list[dict]:
        self.store.record_model_version(self.file_model.version, self.file_model.ir.name, str(self.file_model.path),
                                        self.file_model.yaml_text, self.file_model.ir_json)
        return self.store.model_versions()

    def model_propose(self, path: Path | None, note: str, author: str, *, backtest: bool = True,
                      every_days: int = 30) -> dict:
        """Record a model file as a proposed version, with the backtest an approver will want to see."""
        from healthscore.model.load import load_health_model

        if not note:
            raise UserError("--note is required: what changed and why, for the approver and the audit log")
        loaded = self.file_model if path is None else load_health_model(Path(path))
        self.store.record_model_version(loaded.version, loaded.ir.name, str(loaded.path), loaded.yaml_text,
                                        loaded.ir_json)
        summary = None
        if backtest:
            summary = self._backtest_summary(loaded, every_days)
        return self.store.propose_model(loaded.version, author, note, summary)

    def _backtest_summary(self, loaded: LoadedModel, every_days: int) -> dict:
        """What the approver sees: held-out figures. A calibrated proposal carries them (provenance: its folds);
        its backtest over the dates it was fitted on is in-sample and kept apart. A hand-set model's weights were
        fitted on nothing, so its backtest of the last year is out of sample as it stands."""
        from healthscore.calibrate.backtest import summary_of
        from healthscore.model.ir import window_days

        try:
            _, end = self._outcomes()
            horizon = window_days(loaded.ir.outcome_spec.horizon)
            date_to = (end - dt.timedelta(days=horizon)).date()
            date_from = date_to - dt.timedelta(days=365)
            r = self.backtest(date_from, date_to, every_days, model_path=loaded.path, n_boot=50)
        except UserError as exc:
            return {"skipped": str(exc)}
        return summary_of(r, date_from, date_to, every_days)

    def model_approve(self, version: str, actor: str) -> dict:
        return self.store.approve_model(version, actor)

    def model_show(self, version: str) -> dict:
        """One stored version, with the diff of its YAML against the active (or the file's) model."""
        import difflib

        record = self.store.model_version_record(version)
        base = self.store.active_model_version()
        base_text, base_label = (base["yaml_text"], f"active {base['version']}") if base else \
            (self.file_model.yaml_text, f"file {self.file_model.version}")
        diff = "".join(difflib.unified_diff(base_text.splitlines(True), record["yaml_text"].splitlines(True),
                                            base_label, f"version {record['version']}"))
        return {**{k: v for k, v in record.items() if k != "yaml_text"}, "diff": diff}

    # ---- the web application and REST API (healthscore.web; the queries are in views.py) ------

    def login(self, username: str, password: str) -> dict | None:
        """The enabled user whose argon2 password hash matches, else None."""
        from healthscore.security import verify_password

        # one argon2 verification whether or not the user exists: the time taken tells nothing
        if not verify_password(self.store.password_hash(username), password):
            return None
        user = self.store.user(username)
        return user if user is not None and not user["disabled_at"] else None

    def api_token_user(self, secret: str) -> tuple[dict, dict] | None:
        """(token, user) for a valid, unrevoked API token of an enabled user (last use recorded once a minute)."""
        from healthscore.store import queries as Q

        return Q.token_lookup(self.store, secret)

    def authorize(self, username: str, action: str, account_id: str | None = None) -> dict:
        """The user if they may do `action` (read, review, backtest, events, model.approve, users), on
        `account_id` for a csm's review; else views.AccessDenied (a UserError)."""
        from healthscore import views

        return views.authorize(self, username, action, account_id)

    def portfolio(self, segment: str | None = None, owner: str | None = None, top: int = 15) -> dict:
        from healthscore import views

        return views.portfolio(self, segment=segment, owner=owner, top=top)

    def accounts(self, tier: str | None = None, segment: str | None = None, owner: str | None = None,
                 status: str | None = None, q: str | None = None, limit: int = 50, offset: int = 0) -> dict:
        from healthscore import views

        return views.accounts(self, tier=tier, segment=segment, owner=owner, status=status, q=q, limit=limit,
                              offset=offset)

    def account(self, account_id: str) -> dict:
        from healthscore import views

        return views.account(self, account_id)

    def account_evidence(self, account_id: str, as_of: dt.date) -> list[dict]:
        from healthscore import views

        views.account_owner(self, account_id)  # unknown account: a clear error
        ev = self.store.evidence_for(account_id, as_of, self.model.version)
        if not ev:
            raise views.NotFound(f"account {account_id!r} has no stored snapshot at {as_of} under model version"
                                 f" {self.model.version}; see its history for the stored dates")
        return ev

    def workbench(self, username: str, limit: int = 50, offset: int = 0) -> dict:
        from healthscore import views

        return views.workbench(self, username, limit=limit, offset=offset)

    def manager_queue(self, owner: str | None = None, status: str = "open", priority: str | None = None,
                      limit: int = 50, offset: int = 0, order: str | None = None) -> dict:
        from healthscore import views

        return views.manager_queue(self, owner=owner, status=status, priority=priority, limit=limit, offset=offset,
                                   order=order)

    def decisions(self, limit: int = 50, offset: int = 0) -> dict:
        from healthscore import views

        return views.decisions(self, limit=limit, offset=offset)

    def tasks_page(self, owner: str | None = None, status: str = "open", account_id: str | None = None,
                   limit: int = 50, offset: int = 0, order: str | None = None, priority: str | None = None) -> dict:
        from healthscore import views
        from healthscore.store import queries as Q

        allowed = ("open", "backlog", "accepted", "corrected", "dismissed", "superseded", "closed", "all")
        if status not in allowed:
            raise UserError(f"status={status!r} is not allowed; use {', '.join(allowed)}")
        order = order or ("rank" if status in ("open", "backlog") else "newest")
        if order not in Q.TASK_ORDERS:
            raise UserError(f"order={order!r} is not allowed; use {', '.join(Q.TASK_ORDERS)}")
        views.check_page(limit, offset)
        items, total = Q.tasks_page(self.store, queue=owner, status=status, account_id=account_id, limit=limit,
                                    offset=offset, order=order, priority=priority)
        return {"total": total, "limit": limit, "offset": offset, "order": order, "shown": len(items),
                "next_offset": offset + limit if offset + limit < total else None, "items": items}

    def alerts_page(self, since: dt.date | None = None, owner: str | None = None, status: str | None = None,
                    account_id: str | None = None, limit: int = 50, offset: int = 0) -> dict:
        from healthscore import views
        from healthscore.store import queries as Q

        if status is not None and status not in ("sent", "digest", "capped"):
            raise UserError(f"status={status!r} is not allowed; use sent, digest or capped")
        views.check_page(limit, offset)
        ids, total = Q.alerts_page(self.store, since=since, queue=owner, status=status, account_id=account_id,
                                   limit=limit, offset=offset)
        return {"total": total, "limit": limit, "offset": offset,
                "next_offset": offset + limit if offset + limit < total else None,
                "items": Q.alerts_by_id(self.store, ids)}

    def audit_page(self, limit: int = 50, before_seq: int | None = None, object_type: str | None = None,
                   object_id: str | None = None) -> dict:
        from healthscore import views
        from healthscore.store import queries as Q

        views.check_page(limit, 0)
        items = Q.audit_page(self.store, limit=limit, before_seq=before_seq, object_type=object_type,
                             object_id=object_id)
        return {"limit": limit, "items": items, "next_before_seq": items[-1]["seq"] if len(items) == limit else None}

    def overrides(self, account_id: str | None = None, active_on: dt.date | None = None) -> list[dict]:
        return self.store.overrides([account_id] if account_id else None, active_on=active_on)

    def reload_model(self) -> None:
        """Forget the loaded model (after an approval, the next request scores with the new active version)."""
        self.__dict__.pop("model", None)
        self.__dict__.pop("file_model", None)

    # ---- running the health program (healthscore.program, docs/program.md) -----------------

    def lint(self) -> list[dict]:
        """Model anti-patterns as warnings {code, message, key}; a valid model stays valid."""
        from healthscore.program.lint import lint

        return lint(self)

    def drift_report(self, as_of: dt.date | None = None, reference_from: dt.date | None = None,
                     reference_to: dt.date | None = None, threshold: float | None = None) -> dict:
        """PSI of every metric and of the score against a reference period; suggests recalibration."""
        from healthscore.program.drift import drift_report

        return drift_report(self, as_of or today(), reference_from, reference_to, threshold)

    def readiness(self) -> dict:
        """Pilot prerequisites item by item, the maturity level and the step to the next one."""
        from healthscore.program.readiness import readiness

        return readiness(self)

    def pilot_report(self, sample: int | None = None, seed: int = 0) -> dict:
        """The pilot's validation rate against its threshold, and a seeded validation sample."""
        from healthscore.program.pilot import pilot_report

        return pilot_report(self, sample=sample, seed=seed)

    def hierarchy(self, as_of: dt.date | None = None, account_id: str | None = None) -> list[dict]:
        """Parent accounts' health rolled up from their children (model hierarchy.rollup)."""
        from healthscore.program.hierarchy import hierarchy_report

        return hierarchy_report(self, as_of or today(), account_id)

    def intervention_log(self, task_id: int, actor: str, *, play: str | None = None, channel: str | None = None,
                         response: str = "none", note: str | None = None) -> dict:
        """Log an action the owner took on a task (play, channel, attempt, response)."""
        from healthscore.program.plays import log_intervention

        return log_intervention(self, task_id, actor, play=play, channel=channel, response=response, note=note)

    def interventions(self, account_id: str | None = None) -> list[dict]:
        from healthscore.program.plays import interventions

        return interventions(self, account_id)

    def plays_report(self, horizon_days: int = 60, n_boot: int = 200, seed: int = 0) -> dict:
        """Per playbook: health and renewal after the play against matched accounts without it."""
        from healthscore.program.plays import plays_report

        return plays_report(self, horizon_days=horizon_days, n_boot=n_boot, seed=seed)

