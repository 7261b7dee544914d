"""Scoring: score and backfill the portfolio, read the stored history, material changes and explanations."""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from healthscore.errors import InvalidInput, NotFound
from healthscore.explain.evidence import snapshot_dicts, stored_snapshot_columns

if TYPE_CHECKING:
    import pandas as pd

    from healthscore.explain.attribution import EarlierPart
    from healthscore.model.load import LoadedModel
    from healthscore.scoring.score import ScoredFrames
    from healthscore.services.parts import Parts

PRIOR_COLUMNS = ("account_id", "as_of", "score", "tier", "status")  # what scoring/history.apply_history reads
_CHANGE_COLUMNS = ["account_id", "as_of", "model_version", "score", "tier", "status", "smoothed_score",
                   "primary_driver", "trend_note"]
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
    # why this as-of date, when none was given: "today", "data_as_of in healthscore.yaml" or the newest data
    as_of_source: str = "given"

    @property
    def snapshots(self) -> list[dict]:
        from healthscore.workflow.overrides import apply_overrides

        snaps = snapshot_dicts(self.frames)
        return apply_overrides(snaps, self.overrides) if self.overrides else snaps



class ScoringService:
    def __init__(self, parts: Parts):
        self.parts = parts

    def score(self, as_of: dt.date | None = None, *, account_ids: list[str] | None = None,
              as_of_dates: list[dt.date] | None = None, store: bool = True,
              write_back: bool | None = None, history: bool | None = None,
              model: LoadedModel | None = None) -> ScoreRun:
        """Score every account (or the given ones) at one or many as-of dates, in one engine query.

        ``history`` (default: ``store``) smooths against the stored snapshots before the first date; a
        read (explain) uses them without storing anything.

        ``write_back`` (default: the workspace's ``write_back`` setting) also writes the snapshots and
        their evidence to health_snapshots / health_evidence in the engine (engine/writeback.py).

        ``model``: score with another model than the active one (backtests, what-if); nothing else changes."""
        with _collector_paused():
            return self._score(as_of, account_ids=account_ids, as_of_dates=as_of_dates, store=store,
                               write_back=write_back, history=history, model=model)

    def _score(self, as_of: dt.date | None, *, account_ids: list[str] | None, as_of_dates: list[dt.date] | None,
               store: bool, write_back: bool | None, history: bool | None, model: LoadedModel | None) -> ScoreRun:
        from healthscore.engine.compile import compute_frame
        from healthscore.scoring.score import score_frame

        source = "given"
        if as_of_dates:
            dates = sorted(set(as_of_dates))
        else:
            if as_of is None:
                as_of, source = self.parts.as_of_default()
            dates = [as_of]
        model = model or self.parts.model
        frame, plan, missing = compute_frame(self.parts.con, model.ir, dates, account_ids=account_ids)
        scored = score_frame(model.ir, model.version, plan, frame, missing, for_storage=store)
        del frame  # about 3 KB a row (52 weekly dates of 10,000 accounts: 1.5 GB): not kept through the history pass
        frames = self.with_history(scored, dates[0], account_ids,
                                   stored_history=store if history is None else history, model=model)
        frames.excluded = self._excluded(frames.excluded, dates, account_ids)
        run_id, inserted = "", 0
        if store:
            self.parts.store.record_model_version(model.version, model.ir.name, str(model.path), model.yaml_text,
                                            model.ir_json)
            run_id = self.parts.store.start_run(model.version, dates, self.parts.ws.config.engine.backend)
            inserted = self.parts.store.write_snapshots(run_id, stored_snapshot_columns(frames.snapshots),
                                                        frames.evidence)
            self.parts.store.finish_run(run_id, accounts=frames.snapshots["account_id"].nunique(),
                                  snapshots_written=inserted)
        overrides = self.parts.store.overrides(account_ids) if store or history else []
        run = ScoreRun(run_id, dates, model.version, frames, inserted, missing, overrides, as_of_source=source)
        if self._writes_back(write_back):
            from healthscore.engine.writeback import write_back as write

            run.written_back = write(self.parts.con, run.snapshots)["snapshots"]
        return run

    def _excluded(self, churned: pd.DataFrame | None, dates: list[dt.date],
                  account_ids: list[str] | None) -> pd.DataFrame:
        """Every account a scoring run left out, with the reason: churned before the date, or created
        on or after it (the engine query never returns those)."""
        import pandas as pd

        from healthscore.engine.attributes import not_yet_created
        from healthscore.scoring.score import EXCLUDED_NOT_CREATED

        late = not_yet_created(self.parts.con, dates, account_ids).assign(reason=EXCLUDED_NOT_CREATED)
        parts = [f for f in (churned, late) if f is not None and len(f)]
        if not parts:
            return pd.DataFrame(columns=["account_id", "as_of", "reason"])
        return pd.concat(parts, ignore_index=True).sort_values(["as_of", "account_id"], ignore_index=True)

    def _writes_back(self, write_back: bool | None) -> bool:
        return self.parts.ws.config.write_back if write_back is None else write_back

    def with_history(self, frames: ScoredFrames, first_date: dt.date, account_ids: list[str] | None,
                     stored_history: bool = True, prior: pd.DataFrame | None = None,
                     model: LoadedModel | None = None, previous_evidence: bool = True) -> ScoredFrames:
        """Smoothing, published tiers, last trusted scores and trend notes against the stored snapshots before
        `first_date` (none with stored_history=False: a dry run sees only its own batch). `prior`: those
        snapshots, when the caller has them already (history_frame; the real-time scorer keeps the day's).
        `previous_evidence`: the trend notes read the evidence of the stored snapshots before the batch (off for
        the real-time scorer, whose every batch would read the history's files: 0.28 ms per event)."""
        from healthscore.explain.attribution import with_trend_notes
        from healthscore.scoring.history import apply_history

        model = model or self.parts.model
        if stored_history and prior is None:
            prior = self.history_frame(first_date, account_ids)
        snaps = apply_history(model.ir, frames.snapshots, prior)
        earlier = self._earlier(snaps, frames.evidence, first_date, model.version) \
            if stored_history and previous_evidence else None
        frames.snapshots = with_trend_notes(snaps, frames.evidence, earlier=earlier)
        return frames

    def _earlier(self, snaps: pd.DataFrame, evidence: pd.DataFrame, first_date: dt.date,
                 version: str) -> list[EarlierPart] | None:
        """The stored snapshots that the batch's snapshots follow from before the batch, with their evidence: a
        weekly run's one date gets trend notes that name what moved since last week, as a backfill's do within
        its chunks, not only the primary driver (which may not have moved at all)."""
        import pandas as pd

        from healthscore.explain.attribution import batch_metrics, earlier_part

        before = pd.to_datetime(snaps["previous_as_of"])
        outside = (before < pd.Timestamp(first_date)).to_numpy()
        metrics = batch_metrics(snaps, evidence) if outside.any() else None
        if metrics is None:
            return None
        ids = snaps["account_id"].to_numpy(dtype=object)[outside]
        return self.parts.store.history_batches(["account_id", "as_of", "evidence"], earlier_part(metrics),
                                                model_version=version,
                                                dates={d.date() for d in before[outside].unique()},
                                                account_ids=ids.tolist())

    def history_frame(self, first_date: dt.date, account_ids: list[str] | None = None) -> pd.DataFrame:
        """The stored snapshots that smoothing and published tiers look back on from `first_date` (the
        columns apply_history reads)."""
        lookback = dt.timedelta(days=max(self.parts.model.ir.history.smoothing_days, 120))
        return self.parts.store.snapshot_frame(date_from=first_date - lookback,
                                               date_to=first_date - dt.timedelta(days=1),
                                               model_version=self.parts.model.version, account_ids=account_ids,
                                               columns=PRIOR_COLUMNS)

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
            raise InvalidInput(f"--to {date_to} is before --from {date_from}", field="to")
        dates = [date_from + dt.timedelta(days=i) for i in range(0, (date_to - date_from).days + 1, every_days)]
        done = self.parts.store.stored_as_of_dates(self.parts.model.version)
        partly = [d for d in dates if d in done]
        incomplete = set(self._incomplete_dates(partly)) if partly else set()
        todo = [d for d in dates if d not in done or d in incomplete]
        accounts = self.parts.con.table("accounts").count().execute() if todo else 0
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
            snaps = [s for s in self.parts.store.snapshots(date_from=stored[0], date_to=stored[-1],
                                                     model_version=self.parts.model.version) if s["as_of"] in wanted]
            overrides = self.parts.store.overrides(None)
            shown = apply_overrides(snaps, overrides) if overrides else snaps
            written_back += write(self.parts.con, shown)["snapshots"]
        out = {"model_version": self.parts.model.version, "dates": len(dates), "already_stored": len(dates) - len(todo),
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

        stored = self.parts.store.snapshot_counts(self.parts.model.version, dates)
        accounts = self.parts.con.table("accounts").select("account_id", "created_at").execute()
        created = pd.to_datetime(accounts["created_at"])
        outcomes = None
        if "outcomes" in self.parts.con.list_tables():
            outcomes = self.parts.con.table("outcomes").select("account_id", "ts", "kind").execute()
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
        """Material changes (a big enough score move or a tier change) between stored snapshots since a date.

        Plain Python over the history's rows: a read command's few thousand rows are not worth loading pandas
        (0.4 s of its CPU); the rule is scoring/history.py's material_change, row by row."""
        from healthscore.scoring.history import is_material_change

        model = self.parts.model
        # From the last stored date before `since` (each account's previous snapshot is there, or is
        # older than the portfolio's last run), not a fixed lookback: a read reads what it shows.
        stored = self.parts.store.stored_as_of_dates(model.version)
        lookback = dt.timedelta(days=max(model.ir.history.smoothing_days, 120))
        before = max((d for d in stored if since - lookback <= d < since), default=since - lookback)
        rows = self.parts.store.history_rows(_CHANGE_COLUMNS, model_version=model.version, date_from=before,
                                             date_to=until, order=("account_id", "as_of", "model_version"))
        out = []
        previous: dict | None = None
        for r in rows:  # ordered by account, then date: each row's previous is the row before, of its account
            r = {**r, "score": _number(r["score"]), "smoothed_score": _number(r["smoothed_score"])}
            prev, previous = (previous if previous is not None and previous["account_id"] == r["account_id"]
                              else None), r
            if r["as_of"] < since or prev is None:
                continue  # a first snapshot is no change
            if not is_material_change(model.ir, r["score"], prev["score"], r["tier"], prev["tier"]):
                continue
            out.append({
                "account_id": r["account_id"], "as_of": r["as_of"].isoformat(),
                "previous_as_of": prev["as_of"].isoformat(),
                "score": r["score"], "previous_score": prev["score"],
                "delta": None if r["score"] is None or prev["score"] is None
                else round(r["score"] - prev["score"], 2),
                "tier": r["tier"], "previous_tier": prev["tier"], "status": r["status"],
                "primary_driver": r["primary_driver"], "trend_note": r["trend_note"],
                "smoothed_score": r["smoothed_score"],  # the published tier follows it
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
        account_id = _account_text(account_id)
        version = self.parts.model.version
        if as_of is None:
            as_of = (None if fresh else self.parts.store.latest_as_of(version, account_id)) \
                or self.parts.as_of_default()[0]
        if compare is not None and compare >= as_of:
            raise InvalidInput(f"--compare {compare} must be before the as-of date {as_of}", field="compare")
        dates = [as_of] if compare is None else [compare, as_of]
        snaps: dict[str, dict] = {}
        if not fresh:
            for d in dates:
                stored = self.parts.store.snapshots(account_id, as_of=d, model_version=version)
                if stored:
                    snaps[d.isoformat()] = {**stored[0], "stored": True}
        todo = [d for d in dates if d.isoformat() not in snaps]
        if todo:  # a stored snapshot names a scored account; what is computed asks the engine first
            self.require_account(account_id)
            run = self.score(as_of_dates=todo, account_ids=[account_id], store=False, history=True)
            snaps.update({s["as_of"]: {**s, "stored": False} for s in run.snapshots})
        if any(s["stored"] for s in snaps.values()):
            self._complete_stored(account_id, snaps)
        after = snaps.get(as_of.isoformat())
        if after is None:
            raise NotFound(f"account {account_id!r} has no snapshot at {as_of}: it was created"
                           " on or after that date, or it had churned before it", object_id=account_id)
        if self.parts.model.ir.hybrid is not None:  # the learned component: its terms and where each value sits
            from healthscore.explain.learned import explain_learned

            after = {**after, "learned": explain_learned(after, self.parts.model.ir)}
        if compare is None:
            return after
        from healthscore.explain.attribution import attribute_change, trend_note

        rescored = snaps.get(compare.isoformat())
        if rescored is None:
            raise NotFound(f"account {account_id!r} has no snapshot at {compare} to compare with",
                           object_id=account_id)
        # A snapshot stored earlier under another model version is what the owner saw then.
        older = [s for s in self.parts.store.snapshots(account_id, as_of=compare) if s["model_version"] != version]
        change = attribute_change(older[-1], after, rescored) if older else attribute_change(rescored, after)
        return {**after, "change": change, "trend_note": trend_note(change)}

    def _complete_stored(self, account_id: str, snaps: dict[str, dict]) -> None:
        """Stored snapshots as a fresh one reads: the account's name, owner and ARR as of the date, and
        the owner's correction in force."""
        from healthscore.engine.attributes import account_as_of
        from healthscore.workflow.overrides import apply_overrides

        overrides = self.parts.store.overrides([account_id])
        for key, snap in list(snaps.items()):
            if not snap["stored"]:
                continue
            # stored with the snapshot since the history kept it; older snapshots ask the engine
            row = snap.get("account") or \
                account_as_of(self.parts.con, dt.date.fromisoformat(key), ["name", "owner", "arr"], account_id) or {}
            arr = row.get("arr")
            snap["account"] = {"name": row.get("name"), "owner": row.get("owner"),
                               "arr": float(arr) if arr is not None and arr == arr else None}  # NaN: none
            snaps[key] = apply_overrides([snap], overrides)[0] if overrides else snap

    def history(self, account_id: str, date_from: dt.date | None = None, date_to: dt.date | None = None) -> list[dict]:
        rows = self.parts.store.snapshots(_account_text(account_id), date_from=date_from, date_to=date_to,
                                          model_version=None, with_evidence=False)
        if not rows:  # stored snapshots name a scored account: only an empty answer asks the engine
            self.require_account(account_id)
        return rows

    def require_account(self, account_id: str) -> None:
        from healthscore.engine.attributes import has_account

        known = has_account(self.parts.con, account_id)
        if known is None:
            raise InvalidInput("the engine has no accounts table: run 'healthscore ingest' first")
        if not known:
            raise NotFound(f"unknown account {account_id!r}: it is not in the accounts table"
                           " (see 'healthscore score' for the accounts scored)", object_id=account_id)


def _account_text(account_id: str) -> str:
    """An account id as the engines and stores take it. A str that is not UTF-8 text (lone surrogates: bytes
    decoded with surrogateescape, as the os module does) failed deep in DuckDB or SQLite with a traceback."""
    try:
        account_id.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput(f"account id {ascii(account_id)} is not UTF-8 text: account ids are text, as in the"
                           " accounts table", field="account_id") from None
    return account_id


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off for one scoring pass. A pass builds millions of small lists, dicts
    and strings (evidence, reasons, components, notes), and each burst of them made the collector walk every
    live object again: 40% of score_frame's CPU at 10,000 accounts x 10 dates. Reference counting still frees
    everything that is not a cycle; the collector runs again after the pass."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _number(value: float | None) -> float | None:
    """A stored number, NaN as missing (None), as the frames' reads give it."""
    return None if value is None or value != value else value
