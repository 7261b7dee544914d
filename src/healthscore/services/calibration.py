"""Outcomes: backtests, calibration and what-if against the engine's outcomes table (healthscore.calibrate)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any

from healthscore.errors import InvalidInput, NotFound, UserError
from healthscore.model.windows import HAPPENED_TABLES, end_of_data

if TYPE_CHECKING:
    from healthscore.model.load import LoadedModel
    from healthscore.scoring.score import ScoredFrames
    from healthscore.services.parts import Parts
    from healthscore.services.results import BacktestReport, CalibrationProposal
    from healthscore.services.scoring import ScoringService



class CalibrationService:
    def __init__(self, parts: Parts, scoring: ScoringService):
        self.parts = parts
        self.scoring = scoring

    def load_model(self, model_path: Path | str | None) -> LoadedModel:
        if model_path is None:
            return self.parts.model
        from healthscore.model.load import load_health_model

        path = Path(model_path)
        if not path.is_file():
            raise InvalidInput(f"--model {path}: no such file; give a health model YAML file", field="model")
        return load_health_model(path)

    def outcomes(self):
        """The engine's outcomes table and the end of the data (newest row of any event table, at most now)."""
        import pandas as pd

        from healthscore.services.parts import newest_rows

        tables = set(self.parts.con.list_tables())
        if "outcomes" not in tables:
            raise InvalidInput("the engine has no outcomes table: map one under sources.outcomes in healthscore.yaml"
                               " (account_id, ts, kind: renewed|churned|contracted|expanded) and run"
                               " 'healthscore ingest'")
        oc = self.parts.con.table("outcomes").select("account_id", "ts", "kind").execute()
        now = pd.Timestamp(dt.datetime.now(dt.UTC).replace(tzinfo=None))
        return oc, end_of_data(newest_rows(self.parts.con), now)

    def _outcome_spec(self, loaded: LoadedModel, horizon: str | None):
        from pydantic import ValidationError

        from healthscore.model.ir import Outcome

        spec = loaded.ir.outcome_spec
        if horizon is None:
            return spec
        try:
            return Outcome(label=spec.label, horizon=horizon)
        except ValidationError:
            raise InvalidInput(f"--horizon {horizon!r} is not a window; use days or weeks, e.g. 90d or 13w",
                               field="horizon") from None

    def backtest(self, date_from: dt.date, date_to: dt.date, every_days: int = 30, *, horizon: str | None = None,
                 model_path: Path | str | None = None, n_boot: int = 200, seed: int = 0) -> BacktestReport:
        """Replay the model at every as-of date of the range (only data before each date counts) and measure
        how its scores ranked the accounts that churned or contracted within the horizon."""
        from healthscore.calibrate.backtest import backtest_report, held_out_of
        from healthscore.calibrate.labels import label_snapshots
        from healthscore.calibrate.leaks import check_snapshots
        from healthscore.calibrate.study import metric_study

        if date_to < date_from:
            raise InvalidInput(f"--to {date_to} is before --from {date_from}", field="to")
        loaded = self.load_model(model_path)
        spec = self._outcome_spec(loaded, horizon)
        outcomes, end = self.outcomes()
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
        from healthscore.services.results import BacktestReport  # its pydantic models: built when reported

        return BacktestReport.model_validate(result)

    def _frames_for_outcomes(self, loaded: LoadedModel, dates: list[dt.date], one_day) -> ScoredFrames:
        """Snapshots to hold against outcomes. One-date data: accounts whose churn is the export's label stay in."""
        if one_day is None:
            return self.scoring.score(as_of_dates=dates, store=False, model=loaded).frames
        from healthscore.calibrate.labels import keep_churned
        from healthscore.engine.compile import compute_frame
        from healthscore.scoring.score import score_frame

        frame, plan, missing = compute_frame(self.parts.con, loaded.ir, dates)
        return score_frame(loaded.ir, loaded.version, plan, keep_churned(frame, plan), missing)

    def _calibration_dates(self, date_from, date_to, every_days, horizon_days, end) -> list[dt.date]:
        last_complete = (end - dt.timedelta(days=horizon_days)).date()
        date_to = date_to or last_complete
        date_from = date_from or date_to - dt.timedelta(days=365)
        if date_to < date_from:
            raise InvalidInput(f"--to {date_to} is before --from {date_from}", field="to")
        return [date_from + dt.timedelta(days=i) for i in range(0, (date_to - date_from).days + 1, every_days)]

    def _data_span(self):
        """(oldest, newest) timestamp over the rows of the event tables other than outcomes (None, None if empty)."""
        import pandas as pd

        from healthscore.contract import TABLES

        tables = set(self.parts.con.list_tables())
        lo, hi = [], []
        for name in HAPPENED_TABLES:
            if name == "outcomes" or name not in tables:
                continue
            t = self.parts.con.table(name)
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
                  shapes: bool = False, hybrid: str | None = None) -> CalibrationProposal:
        """Fit weights and tier thresholds from outcomes, guard against leaks, compare the current, the calibrated,
        a logistic-regression and a gradient-boosted model on held-out folds, and write the proposal only when
        it is better on held-out data (calibrate.service does the work)."""
        import pandas as pd

        from healthscore.calibrate import service
        from healthscore.engine.compile import compute_frame
        from healthscore.model.hybrid import TIER_RULES

        if hybrid is not None and hybrid not in TIER_RULES:
            raise InvalidInput(f"--tier-rule {hybrid!r}: use one of {', '.join(TIER_RULES)} (both: the worse of the"
                               " rubric's and the learned tier)", field="tier_rule")
        from healthscore.yamlio import read_yaml

        loaded = self.parts.model
        ir, spec = loaded.ir, loaded.ir.outcome_spec
        if out is not None and Path(out).resolve() == Path(loaded.path).resolve():
            raise InvalidInput(f"--out {out} is the active model; write the proposal to another file and review it",
                               field="out")
        outcomes, end = self.outcomes()
        one_day = self._one_date_day() if date_from is None and date_to is None else None
        if one_day is not None:  # a one-date export: one as-of date, the day after it (its rows visible)
            dates = [(one_day + pd.Timedelta(days=1)).date()]
            portfolio = None
        else:
            dates = self._calibration_dates(date_from, date_to, every_days, spec.horizon_days, end)
            portfolio = (pd.Timestamp(end).normalize() + pd.Timedelta(days=1)).date()
            portfolio = None if portfolio in dates else portfolio
        frame, plan, missing = compute_frame(self.parts.con, ir, dates + ([portfolio] if portfolio else []))
        data, _, _ = read_yaml(Path(loaded.path))
        inp = service.Inputs(ir, loaded.version, Path(loaded.path), data, frame, plan, missing, outcomes, end, dates,
                             portfolio or max(dates), one_day)
        if report is None and out is not None:
            report = Path(out).with_suffix(".report.md")
        result = service.run(inp, folds=folds, n_boot=n_boot, seed=seed, allow_leak=allow_leak,
                             out=Path(out) if out is not None else None,
                             report=Path(report) if report is not None else None, shapes=shapes,
                             hybrid=hybrid)
        from healthscore.services.results import CalibrationProposal

        return CalibrationProposal.model_validate(result)

    def backtest_summary(self, loaded: LoadedModel, every_days: int) -> dict:
        """What the approver sees: held-out figures. A calibrated proposal carries them (provenance: its folds);
        its backtest over the dates it was fitted on is in-sample and kept apart. A hand-set model's weights were
        fitted on nothing, so its backtest of the last year is out of sample as it stands."""
        from healthscore.calibrate.backtest import summary_of

        try:
            _, end = self.outcomes()
            horizon = loaded.ir.outcome_spec.horizon_days
            date_to = (end - dt.timedelta(days=horizon)).date()
            date_from = date_to - dt.timedelta(days=365)
            r = self.backtest(date_from, date_to, every_days, model_path=loaded.path, n_boot=50)
        except UserError as exc:
            return {"skipped": str(exc)}
        return summary_of(r.as_dict(), date_from, date_to, every_days)

    def whatif(self, account_id: str, sets: list[str] | None = None, changes: list[str] | None = None,
               as_of: dt.date | None = None, *, probability: bool = True, n_boot: int = 100, seed: int = 0,
               fit_from: dt.date | None = None, fit_to: dt.date | None = None, fit_every: int = 30) -> dict:
        """The account's score and tier with metric values set (--set m=v) or changed (--change m=-20%)."""
        import numpy as np

        from healthscore.calibrate.whatif import moved_evidence, new_values, parse_assignments
        from healthscore.engine.compile import compute_frame
        from healthscore.explain.evidence import snapshot_dicts
        from healthscore.scoring.score import metric_values, score_frame

        self.scoring.require_account(account_id)
        as_of = as_of or self.parts.as_of_default()[0]
        ir = self.parts.model.ir
        names = [m.name for _, m in ir.metrics]
        todo = parse_assignments(sets or [], changes or [], names)
        frame, plan, missing = compute_frame(self.parts.con, ir, [as_of], account_ids=[account_id])
        last = frame.get(f"{plan.last_outcome}__value")
        if last is not None:
            frame = frame[last.fillna("") != "churned"].reset_index(drop=True)
        if frame.empty:
            raise NotFound(f"account {account_id!r} has no snapshot at {as_of}: it was created on or after that"
                           " date, or it had churned before it", object_id=account_id)
        base = score_frame(ir, self.parts.model.version, plan, frame, missing)
        metrics = dict((m.name, m) for _, m in ir.metrics)
        overrides: dict[str, np.ndarray] = {}
        applied = []
        for name, kind, amount in todo:
            cur = overrides.get(name)
            if cur is None:
                cur, _, _ = metric_values(metrics[name], plan.metric_inputs[name], frame, plan.holidays)
            v0 = cur[0]
            v0 = None if v0 is None or (not isinstance(v0, str) and np.isnan(v0)) else v0
            v1 = new_values(v0, kind, amount)
            arr = np.array([v1 if v1 is not None else np.nan], dtype=cur.dtype if cur.dtype == object else "float64")
            if isinstance(v1, str) and arr.dtype != object:
                raise InvalidInput(f"--set {name}={v1}: {name} takes a number", field="set")
            overrides[name] = arr
            applied.append({"metric": name, "from": v0, "to": v1, "how": kind, "amount": amount})
        after = score_frame(ir, self.parts.model.version, plan, frame, missing, value_overrides=overrides)
        b, a = snapshot_dicts(base)[0], snapshot_dicts(after)[0]
        result = {"account_id": account_id, "as_of": str(as_of), "model_version": self.parts.model.version,
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

        spec, cal = self.parts.model.ir.outcome_spec, self.parts.model.ir.calibration_spec
        try:
            outcomes, end = self.outcomes()
        except UserError as exc:
            return {"available": False, "note": f"no calibration: {exc}"}
        one_day = self._one_date_day() if fit_from is None and fit_to is None else None
        dates = [(one_day + dt.timedelta(days=1)).date()] if one_day is not None else \
            self._calibration_dates(fit_from, fit_to, fit_every, spec.horizon_days, end)
        snaps = self._frames_for_outcomes(self.parts.model, dates, one_day).snapshots
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
            def probability(w: Any, s: float = s) -> float:
                return float(stats.platt_predict(stats.fit_platt(score, y, w=w), [s])[0])

            out[key] = stats.bootstrap(acc, probability, n=n_boot, seed=seed)
        return out

