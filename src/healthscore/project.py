"""The facade: one place behind the CLI (and later the API and web app) for every operation.

A Project is a workspace opened for work: it loads healthscore.yaml, the health model, the
compute engine and the store lazily, so that cheap commands stay cheap.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from healthscore.errors import UserError
from healthscore.explain.evidence import snapshot_dicts, stored_snapshot_columns
from healthscore.workspace import Workspace, load_workspace

if TYPE_CHECKING:
    from healthscore.model.load import LoadedModel
    from healthscore.scoring.score import ScoredFrames
    from healthscore.store.store import Store


BACKFILL_CHUNK_SNAPSHOTS = 250_000  # snapshots per engine pass: bounds memory, keeps passes few


@dataclass
class ScoreRun:
    run_id: str
    as_of_dates: list[dt.date]
    model_version: str
    frames: "ScoredFrames"
    inserted: int
    missing_tables: set[str] = field(default_factory=set)

    @property
    def snapshots(self) -> list[dict]:
        return snapshot_dicts(self.frames)


def today() -> dt.date:
    return dt.datetime.now(dt.timezone.utc).date()


class Project:
    def __init__(self, workspace: Path | str = "."):
        self.workspace_dir = Path(workspace)

    # ---- lazily opened parts ----------------------------------------------------------------

    @cached_property
    def ws(self) -> Workspace:
        return load_workspace(self.workspace_dir)

    @cached_property
    def model(self) -> "LoadedModel":
        from healthscore.model.load import load_health_model

        return load_health_model(self.ws.model_path)

    @cached_property
    def con(self):
        from healthscore.engine.backend import connect

        return connect(self.ws)

    @cached_property
    def store(self) -> "Store":
        from healthscore.store.store import Store

        return Store(self.ws.store_url)

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

        ws, model = self.ws, self.model
        sources = {}
        for table, src in ws.config.sources.items():
            if src.path is not None:
                matches = glob.glob(str(ws.resolve(src.path)))
                if not matches:
                    raise UserError(f"{ws.config_path}: sources.{table}.path: no file matches {src.path!r}")
                sources[table] = f"{len(matches)} file(s), {src.format}"
            else:
                sources[table] = f"engine table {src.table}"
        return {
            "workspace": str(ws.root),
            "model": {"name": model.ir.name, "version": model.version, "path": str(model.path),
                      "components": len(model.ir.components), "metrics": len(model.ir.metrics),
                      "segments": len(model.ir.segments)},
            "sources": sources,
            "engine": ws.config.engine.backend,
            "store": ws.store_url,
        }

    def ingest(self, tables: list[str] | None = None, progress: Callable[[str], None] | None = None):
        from healthscore.ingest.load import ingest_workspace

        reports = ingest_workspace(self.ws, self.con, tables=tables, progress=progress)
        for r in reports:
            batch = self.store.record_ingest_batch(r.table, r.source, r.read, r.accepted, r.quarantined)
            if r.quarantined:
                self.store.write_quarantine(batch, r.table, r.quarantine)
        return reports

    def score(self, as_of: dt.date | None = None, *, account_ids: list[str] | None = None,
              as_of_dates: list[dt.date] | None = None, store: bool = True) -> ScoreRun:
        """Score every account (or the given ones) at one or many as-of dates, in one engine query."""
        from healthscore.engine.compile import compute_frame
        from healthscore.explain.attribution import with_trend_notes
        from healthscore.scoring.history import apply_history
        from healthscore.scoring.score import score_frame

        dates = sorted(set(as_of_dates or [as_of or today()]))
        model = self.model
        frame, plan, missing = compute_frame(self.con, model.ir, dates, account_ids=account_ids)
        frames = score_frame(model.ir, model.version, plan, frame, missing)
        prior = None
        if store:
            lookback = dt.timedelta(days=max(model.ir.history.smoothing_days, 120))
            prior = self.store.snapshot_frame(date_from=dates[0] - lookback, date_to=dates[0] - dt.timedelta(days=1),
                                              model_version=model.version, account_ids=account_ids)
        frames.snapshots = with_trend_notes(apply_history(model.ir, frames.snapshots, prior), frames.evidence)
        run_id, inserted = "", 0
        if store:
            self.store.record_model_version(model.version, model.ir.name, str(model.path), model.yaml_text,
                                            model.ir_json)
            run_id = self.store.start_run(model.version, dates, self.ws.config.engine.backend)
            inserted = self.store.write_snapshots(run_id, stored_snapshot_columns(frames.snapshots), frames.evidence)
            self.store.finish_run(run_id, accounts=frames.snapshots["account_id"].nunique(),
                                  snapshots_written=inserted)
        return ScoreRun(run_id, dates, model.version, frames, inserted, missing)

    def backfill(self, date_from: dt.date, date_to: dt.date, every_days: int = 7,
                 progress: Callable[[int, int], None] | None = None) -> dict:
        """Score every date of the range, a chunk of dates per engine pass; dates already stored are skipped,
        so an interrupted backfill resumes where it stopped (each chunk is written in one transaction)."""
        if date_to < date_from:
            raise UserError(f"--to {date_to} is before --from {date_from}")
        dates = [date_from + dt.timedelta(days=i) for i in range(0, (date_to - date_from).days + 1, every_days)]
        done = self.store.stored_as_of_dates(self.model.version)
        todo = [d for d in dates if d not in done]
        accounts = self.con.table("accounts").count().execute() if todo else 0
        per_chunk = max(1, min(len(todo) or 1, BACKFILL_CHUNK_SNAPSHOTS // max(accounts, 1)))
        written = 0
        if progress:
            progress(len(dates) - len(todo), len(dates))
        for i in range(0, len(todo), per_chunk):
            chunk = todo[i:i + per_chunk]
            written += self.score(as_of_dates=chunk).inserted
            if progress:
                progress(len(dates) - len(todo) + i + len(chunk), len(dates))
        return {"model_version": self.model.version, "dates": len(dates), "already_stored": len(dates) - len(todo),
                "scored_dates": len(todo), "snapshots_written": written, "dates_per_pass": per_chunk}

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
        for col in ("score", "tier", "primary_driver", "trend_note"):
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
            })
        out.sort(key=lambda c: (c["as_of"], -abs(c["delta"] or 0)))
        return out

    def explain(self, account_id: str, as_of: dt.date | None = None, compare: dt.date | None = None) -> dict:
        """The account's snapshot; with `compare`, also the exact attribution of the change since then."""
        self._require_account(account_id)
        as_of = as_of or today()
        if compare is not None and compare >= as_of:
            raise UserError(f"--compare {compare} must be before the as-of date {as_of}")
        dates = [as_of] if compare is None else [compare, as_of]
        snaps = {s["as_of"]: s for s in self.score(as_of_dates=dates, account_ids=[account_id]).snapshots}
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
        older = [s for s in self.store.snapshots(account_id, as_of=compare) if s["model_version"] != self.model.version]
        change = attribute_change(older[-1], after, rescored) if older else attribute_change(rescored, after)
        return {**after, "change": change, "trend_note": trend_note(change)}

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
