"""Portfolio-level pipeline gates: a source whose rows collapse for most accounts at once is a broken
pipeline, not a churn wave (model: pipeline.sources; the snapshots of the affected accounts pause)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from healthscore.contract import TABLES
from healthscore.model.windows import duration_days

if TYPE_CHECKING:
    import pandas as pd

    from healthscore.model.settings import PipelineGate


def _expected_rows(counts: pd.Series, current_days: list, baseline_days: list, holidays) -> tuple[float, float]:
    """(rows seen, rows expected) over the non-holiday days of the window, each day expected at the
    mean of the same weekday in the baseline (its non-holiday days): a Sunday is compared with Sundays,
    so an ordinary Monday run (window: the Sunday) is not a collapse, and a holiday is not compared."""
    def off(day) -> bool:
        return any(a <= day.date() < b for a, b in holidays)

    base = [d for d in baseline_days if not off(d)]
    if not base:
        return 0.0, 0.0
    rows = lambda d: float(counts.get(d, 0.0))  # noqa: E731
    overall = sum(rows(d) for d in base) / len(base)
    current = expected = 0.0
    for d in current_days:
        if off(d):
            continue
        same = [rows(x) for x in base if x.weekday() == d.weekday()]
        current += rows(d)
        expected += sum(same) / len(same) if same else overall
    return current, expected


def pipeline_column(con, source: str, gate: PipelineGate, frame: pd.DataFrame,
                    holidays=()) -> pd.Series:
    """Per engine row: the pause reason when `source` broke portfolio-wide at that as-of date, else None.

    One small query of daily row counts over the range; each day of the window is compared with the
    same weekday of the baseline, and holiday days (the model's calendar, [first, after) windows) count
    on neither side. The accounts active in the baseline are read only for dates where the gate fires
    (rare), and only their snapshots pause.
    """
    import ibis
    import pandas as pd

    out = pd.Series([None] * len(frame), index=frame.index, dtype=object)
    if frame.empty:
        return out
    w, b = duration_days(gate.window), duration_days(gate.baseline)
    dates = sorted(pd.to_datetime(frame["as_of"]).unique())
    t = con.table(source)
    tc = t[TABLES[source].time_column]
    lo = pd.Timestamp(dates[0]) - pd.Timedelta(days=w + b)
    hi = pd.Timestamp(dates[-1])
    recent = t.filter(tc >= ibis.timestamp(lo.isoformat()), tc < ibis.timestamp(hi.isoformat()))
    daily = recent.group_by(day=tc.truncate("D")).aggregate(rows=recent.count()).execute()
    counts = pd.Series(daily["rows"].to_numpy(float), index=pd.to_datetime(daily["day"])) if len(daily) else \
        pd.Series(dtype=float)
    as_of_col = pd.to_datetime(frame["as_of"])
    for d in dates:
        d = pd.Timestamp(d)
        cur_lo, base_lo = d - pd.Timedelta(days=w), d - pd.Timedelta(days=w + b)
        current, expected = _expected_rows(counts, list(pd.date_range(cur_lo, d, inclusive="left")),
                                           list(pd.date_range(base_lo, cur_lo, inclusive="left")), holidays)
        if expected <= 0:
            continue
        drop = 1.0 - current / expected
        if drop < gate.max_portfolio_drop:
            continue
        bt = t.filter(tc >= ibis.timestamp(base_lo.isoformat()), tc < ibis.timestamp(cur_lo.isoformat()))
        active = set(bt.select("account_id").distinct().execute()["account_id"])
        if len(active) < gate.min_accounts:
            continue
        reason = (f"pipeline {source}: portfolio rows fell {drop:.0%} in the last {gate.window} ({current:,.0f} vs"
                  f" {expected:,.0f} expected from the same weekdays of the {gate.baseline} before) across"
                  f" {len(active):,} active accounts; a pipeline break, not a churn wave")
        rows = (as_of_col == d).to_numpy() & frame["account_id"].isin(active).to_numpy()
        out[rows] = reason
    return out
