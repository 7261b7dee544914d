"""The measure registry: what each measure means, in one place.

A metric's `measure` names one definition here, and every layer reads its part of it:
- model/ validates a metric by it (where the measure reads from, which parameters it needs);
- engine/compile.py builds its aggregate: `aggregate` is called with Ibis columns, so this module
  imports no engine;
- scoring/ derives the metric's value from the engine's aggregates (`derive`, over the engine frame);
- realtime/live.py merges its aggregate over a batch's new rows into the rolled-up one (`merge`).

Adding a measure: one Measure in MEASURES below (and its name in EventMeasure when it aggregates event
rows itself; tests/model/test_measures.py checks that the two agree).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, get_args

from healthscore.contract import TABLES
from healthscore.model.windows import duration_days

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

# The measures an aggregate (a metric's, a ratio's numerator ...) takes over the rows of an event table.
EventMeasure = Literal["count", "sum", "mean", "min", "max", "distinct_count", "latest", "days_since_last"]
# What a change metric compares between its window and the baseline.
ChangeOf = Literal["count", "sum", "mean", "min", "max", "distinct_count"]
# How an aggregate over old rows and one over new rows combine exactly into the aggregate over both:
# add, min or max them, unite the distinct values; "shared": the value has no column of its own (it is
# the row count, or derives from the newest row time), and those always combine. None: it does not
# combine (a mean, a latest value): the rollup reads the table again.
Merge = Literal["add", "min", "max", "unite", "shared"]

LAST_YEAR_DAYS = 364  # 52 weeks: the same weekdays a year earlier


def prior_shift(metric: Any) -> int:
    """How far back a change metric's baseline window ends: one window, or 52 weeks."""
    return LAST_YEAR_DAYS if metric.compare_to == "last_year" else duration_days(metric.window)


class MetricInputs:
    """What a derived step reads for one metric: its aggregates in the engine frame (by role: value, current,
    prior, numerator ...), the accounts' own columns and the as-of dates."""

    def __init__(self, frame: pd.DataFrame, roles: dict[str, str], holidays: Any = ()):
        self.frame, self.roles, self.holidays = frame, roles, holidays

    def _part(self, role: str, part: str) -> pd.Series | None:
        name = f"{self.roles[role]}__{part}"
        return self.frame.get(name)

    def value(self, role: str) -> np.ndarray:
        """An aggregate's value as float (NaN where missing, and everywhere when the engine has no column)."""
        import numpy as np
        import pandas as pd

        s = self._part(role, "value")
        if s is None:
            return np.full(len(self.frame), np.nan)
        return pd.to_numeric(s, errors="coerce").to_numpy(dtype="float64")

    def text(self, role: str) -> np.ndarray:
        """An aggregate's value as text (None where missing)."""
        import numpy as np

        s = self._part(role, "value")
        return np.full(len(self.frame), None, dtype=object) if s is None else _objects(s)

    def account(self, column: str) -> pd.Series:
        return self.frame[column]

    @property
    def as_of(self) -> pd.Series:
        return self.frame["as_of"]

    def rows(self, *roles: str) -> np.ndarray:
        import numpy as np

        total = np.zeros(len(self.frame), dtype="int64")
        for role in roles:
            r = self._part(role, "rows")
            if r is not None:
                total += r.to_numpy(dtype="int64")
        return total

    def latest(self, *roles: str) -> pd.Series:
        """The newest row time behind these aggregates (NaT without one)."""
        import pandas as pd

        parts = [pd.to_datetime(s) for role in roles if (s := self._part(role, "latest")) is not None]
        if not parts:
            return pd.Series(pd.NaT, index=self.frame.index, dtype="datetime64[ns]")
        return pd.concat(parts, axis=1).max(axis=1)


@dataclass(frozen=True)
class Measure:
    name: str
    reads: Literal["events", "aggregates", "accounts"]  # event rows, other aggregates, or an accounts column
    derive: Callable[[Any, MetricInputs], np.ndarray]  # (metric, its inputs) -> its value per engine row
    needs: dict[str, str] = field(default_factory=dict)  # metric parameter -> what to give (when missing)
    needs_column: bool = False  # the aggregate reads `column:`
    numeric_column: bool = False  # ... a numeric one (a boolean counts as 0 or 1)
    finite_window: bool = False  # the window may not be 'all'
    per: Literal["numeric", "timestamp"] | None = None  # the type of the accounts column `per:` names
    targetable: bool = True  # a numeric value a per-account target can divide
    rows_of: str | None = None  # the role whose rows back the value (None: every aggregate's but the target's)
    # engine: (column, time column, row condition) -> the Ibis aggregate; "rows": the value is the row count;
    # "latest": the value derives from the newest row time; None: no aggregate of its own (change, ratio ...)
    aggregate: Callable[[Any, Any, Any], Any] | Literal["rows", "latest"] | None = None
    empty_is_zero: bool = False  # over no rows the aggregate is 0, not missing
    merge: Merge | None = None

    def values(self, metric: Any, x: MetricInputs) -> tuple[np.ndarray, np.ndarray, pd.Series]:
        """(value, rows, latest_at) of one metric per engine row."""
        value = self.derive(metric, x)
        if self.reads == "accounts":
            import pandas as pd

            rows = x.account(metric.per).notna().to_numpy().astype("int64")
            return value, rows, pd.Series(pd.NaT, index=x.frame.index, dtype="datetime64[ns]")
        roles = [r for r in x.roles if r != "target"]  # the goal behind a target: neither rows nor freshness
        return value, x.rows(self.rows_of) if self.rows_of else x.rows(*roles), x.latest(*roles)


# ---- derived steps --------------------------------------------------------------------------------


def _objects(s: pd.Series) -> np.ndarray:
    return s.astype("object").where(s.notna(), None).to_numpy()


def _days_between(later: Any, earlier: Any) -> np.ndarray:
    import numpy as np
    import pandas as pd

    delta = pd.to_datetime(later).to_numpy("datetime64[ns]") - pd.to_datetime(earlier).to_numpy("datetime64[ns]")
    return delta / np.timedelta64(1, "D")


def _categorical(metric: Any) -> bool:
    return bool(metric.transform.kind == "map")


def _aggregated(metric: Any, x: MetricInputs) -> np.ndarray:
    return x.value("value")


def _latest(metric: Any, x: MetricInputs) -> np.ndarray:
    return x.text("value") if _categorical(metric) else x.value("value")


def _days_since_last(metric: Any, x: MetricInputs) -> np.ndarray:
    return _days_between(x.as_of, x.latest(*(r for r in x.roles if r != "target")))


def _non_holiday_days(as_of: np.ndarray, start_days: int, end_days: int, holidays: Any) -> np.ndarray:
    """Days of [as_of - start, as_of - end) outside the holiday windows, per as-of date."""
    import numpy as np

    day = as_of.astype("datetime64[D]")
    lo, hi = day - np.timedelta64(start_days, "D"), day - np.timedelta64(end_days, "D")
    days = np.full(len(day), float(start_days - end_days))
    for first, after in holidays:  # merged windows: overlaps are disjoint
        a, b = np.datetime64(first, "D"), np.datetime64(after, "D")
        overlap = (np.minimum(hi, b) - np.maximum(lo, a)).astype("int64")
        days -= np.maximum(overlap, 0)
    return days


def _change(metric: Any, x: MetricInputs) -> np.ndarray:
    import numpy as np

    cur, prior = x.value("current"), x.value("prior")
    if metric.exclude_holidays and x.holidays and metric.of in ("count", "sum"):
        # Totals over the non-holiday days only: compare per-day rates, scaled to the full window,
        # so a window that lost a week to the holidays does not look like a usage collapse.
        w, shift = duration_days(metric.window), prior_shift(metric)
        as_of = x.as_of.to_numpy("datetime64[ns]")
        with np.errstate(all="ignore"):
            cur = np.where((d := _non_holiday_days(as_of, w, 0, x.holidays)) > 0, cur * w / d, np.nan)
            prior = np.where((d := _non_holiday_days(as_of, w + shift, shift, x.holidays)) > 0, prior * w / d, np.nan)
    with np.errstate(all="ignore"):
        if metric.change == "absolute":
            return np.asarray(cur - prior)
        # growth from zero counts as +100%; zero to zero is no change
        value = np.where(prior > 0, (cur - prior) / prior, np.where(cur > 0, 1.0, 0.0))
        return np.where(np.isnan(cur) | np.isnan(prior), np.nan, value)


def _per_positive(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    import numpy as np

    with np.errstate(all="ignore"):
        return np.where(denominator > 0, numerator / denominator, np.nan)


def _ratio(metric: Any, x: MetricInputs) -> np.ndarray:
    return _per_positive(x.value("numerator"), x.value("denominator"))


def _share(metric: Any, x: MetricInputs) -> np.ndarray:
    import pandas as pd

    per = pd.to_numeric(x.account(metric.per), errors="coerce").to_numpy(dtype="float64")
    return _per_positive(x.value("numerator"), per)


def _attribute(metric: Any, x: MetricInputs) -> np.ndarray:
    import pandas as pd

    raw = x.account(metric.per)
    return _objects(raw) if _categorical(metric) else pd.to_numeric(raw, errors="coerce").to_numpy(dtype="float64")


def _days_until(metric: Any, x: MetricInputs) -> np.ndarray:
    return _days_between(x.account(metric.per), x.as_of)


# ---- the registry ---------------------------------------------------------------------------------

_SOURCE = {"source": f"one of {', '.join(TABLES)}"}
_AGGREGATE = "an aggregate (source, measure, window ...)"


def _event(name: str, derive: Callable[[Any, MetricInputs], np.ndarray] = _aggregated, **kw: Any) -> Measure:
    return Measure(name, "events", derive, needs=_SOURCE, **kw)


MEASURES: dict[str, Measure] = {m.name: m for m in (
    _event("count", aggregate="rows", empty_is_zero=True, merge="shared"),
    _event("sum", needs_column=True, numeric_column=True, empty_is_zero=True, merge="add",
           aggregate=lambda col, ts, where: col.sum(where=where)),
    _event("mean", needs_column=True, numeric_column=True, aggregate=lambda col, ts, where: col.mean(where=where)),
    _event("min", needs_column=True, numeric_column=True, merge="min",
           aggregate=lambda col, ts, where: col.min(where=where)),
    _event("max", needs_column=True, numeric_column=True, merge="max",
           aggregate=lambda col, ts, where: col.max(where=where)),
    _event("distinct_count", needs_column=True, empty_is_zero=True, merge="unite",
           aggregate=lambda col, ts, where: col.nunique(where=where)),
    _event("latest", _latest, needs_column=True, aggregate=lambda col, ts, where: col.argmax(ts, where=where)),
    _event("days_since_last", _days_since_last, aggregate="latest", targetable=False, merge="shared"),
    Measure("change", "events", _change, finite_window=True,
            needs={**_SOURCE, "of": "count, sum, mean, min, max or distinct_count"}),
    Measure("ratio", "aggregates", _ratio, rows_of="denominator",
            needs={"numerator": _AGGREGATE, "denominator": "an aggregate"}),
    Measure("share", "aggregates", _share, per="numeric",
            needs={"numerator": _AGGREGATE, "per": "an accounts column such as seats"}),
    Measure("attribute", "accounts", _attribute, per="numeric", needs={"per": "an accounts column"}),
    Measure("days_until", "accounts", _days_until, per="timestamp", targetable=False,
            needs={"per": "an accounts column"}),
)}

EVENT_MEASURES: tuple[str, ...] = get_args(EventMeasure)
ACCOUNT_MEASURES = tuple(m.name for m in MEASURES.values() if m.reads == "accounts")
TARGET_MEASURES = tuple(m.name for m in MEASURES.values() if m.targetable)
