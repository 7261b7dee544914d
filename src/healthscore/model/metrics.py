"""Metrics: where a metric's value comes from (its measure and aggregates) and how it scores."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from healthscore.contract import TABLES
from healthscore.model.base import Strict
from healthscore.model.filters import Filter
from healthscore.model.measures import ACCOUNT_MEASURES, MEASURES, ChangeOf, EventMeasure
from healthscore.model.transforms import Missing, Transform
from healthscore.model.windows import Window, check_window, window_days


class Aggregate(Strict):
    """An aggregate over one canonical table in a window before the as-of date."""

    source: str
    measure: EventMeasure
    column: str | None = None
    filter: Filter = Field(default_factory=Filter)
    window: Window | None = None
    time_column: str | None = None
    exclude_holidays: bool = False  # ignore rows inside the model's calendar.holidays

    @property
    def time_col(self) -> str:
        time_col = self.time_column or TABLES[self.source].time_column
        assert time_col is not None, self.source  # validated: event tables have a time column
        return time_col


class Target(Strict):
    """Customer-specific success criteria: the metric's value is scored as value / target.

    The target is the account's latest goal set before the as-of date (goals table, metric =
    `goal`), else an accounts column (`column`, e.g. seats), else the model's `default`. Without
    any of them (or with a target <= 0) the metric has no value and its missing-data rule applies.
    """

    goal: str | None = Field(None, min_length=1, description="goals.metric to look up")
    column: str | None = Field(None, description="numeric accounts column holding the target")
    default: float | None = Field(None, gt=0, description="the model default when the account has none")

    @model_validator(mode="after")
    def _some(self):
        if self.goal is None and self.column is None and self.default is None:
            raise ValueError("a target needs at least one of goal: (goals.metric), column: (accounts) or default:")
        return self


class Metric(Strict):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    description: str | None = None
    # where the value comes from
    source: str | None = None
    measure: str
    column: str | None = None
    filter: Filter = Field(default_factory=Filter)
    window: Window | None = None
    time_column: str | None = None
    change: Literal["relative", "absolute"] = "relative"  # for measure: change
    # for measure: change: the window before, or the same window 52 weeks earlier (seasonal baseline:
    # a holiday dip is compared with last year's holiday, not with the busy weeks before it)
    compare_to: Literal["previous_window", "last_year"] = "previous_window"
    of: ChangeOf | None = None  # for change
    numerator: Aggregate | None = None  # for ratio and share
    denominator: Aggregate | None = None  # for ratio
    per: str | None = None  # accounts column for share (e.g. seats), attribute, days_until
    target: Target | None = None  # per-account target: the value is scored as value / target
    # ignore rows inside calendar.holidays; a change metric compares per non-holiday day
    exclude_holidays: bool = False
    # how it scores
    transform: Transform
    direction: Literal["higher_is_better", "lower_is_better"] = "higher_is_better"
    # 0 keeps the metric's evidence visible without points (calibrate writes it for a metric it refuses)
    weight: float = Field(1.0, ge=0)
    missing: Missing | None = None
    freshness: str | None = Field(None, description="pause when the account's newest row behind it is older")
    # for learned shapes (calibrate --shapes): health only rises (increasing) or falls with the value; or
    # non_monotone: true lets the shape bend (a U: too little and too much usage are both risks)
    monotone: Literal["increasing", "decreasing"] | None = None
    non_monotone: bool = False
    # a timing metric (days to renewal, tenure): calibrate keeps its weight as set here and does not fit it,
    # because when an account is observed says little about its health and much about the label's timing
    timing: bool = False

    @field_validator("freshness")
    @classmethod
    def _fresh(cls, v: str | None):
        if v is not None and (v == "all" or check_window(v) is None):
            raise ValueError(f"freshness {v!r} is not allowed; use e.g. 30d or 12w")
        return v

    @field_validator("measure")
    @classmethod
    def _measure(cls, v: str):
        if v not in MEASURES:
            raise ValueError(f"measure {v!r} is not allowed; allowed: {', '.join(MEASURES)}")
        return v

    @model_validator(mode="after")
    def _shape(self):
        spec = MEASURES[self.measure]
        errors = [f"measure {spec.name} needs {param}: {what}" for param, what in spec.needs.items()
                  if getattr(self, param) is None]
        rows = MEASURES.get(self.row_measure or "")
        if spec.reads == "events" and rows is not None and rows.needs_column and self.column is None:
            errors.append(f"measure {rows.name} needs column:")
        if spec.finite_window and window_days(self.window) is None:
            errors.append(f"measure {spec.name} needs a finite window, e.g. 30d (compared with the 30 days before)")
        if errors:
            raise ValueError("; ".join(errors))
        return self

    @property
    def row_measure(self) -> str | None:
        """The measure that aggregates event rows: a change compares its `of` between two windows."""
        return self.of if self.measure == "change" else self.measure

    def aggregates(self) -> dict[str, Aggregate]:
        """The engine aggregates this metric needs, keyed by role (role 'target': the account's goal)."""
        out = self._value_aggregates()
        if self.exclude_holidays:
            out = {role: agg.model_copy(update={"exclude_holidays": True}) for role, agg in out.items()}
        if self.target is not None and self.target.goal is not None:
            out["target"] = Aggregate(source="goals", measure="latest", column="target",
                                      filter=Filter.model_validate({"metric": self.target.goal}), window=None)
        return out

    def _value_aggregates(self) -> dict[str, Aggregate]:
        m = self.measure
        if MEASURES[m].reads == "events":
            rows = {"source": self.source, "measure": self.row_measure, "column": self.column, "filter": self.filter,
                    "window": self.window, "time_column": self.time_column}
            if m == "change":  # the prior window is shifted back in the engine
                return {"current": Aggregate.model_validate(rows), "prior": Aggregate.model_validate(rows)}
            return {"value": Aggregate.model_validate(rows)}
        if m not in ("ratio", "share"):
            return {}
        parts = {"numerator": self.numerator, "denominator": self.denominator if m == "ratio" else None}
        return {role: agg for role, agg in parts.items() if agg is not None}

    @property
    def source_label(self) -> str:
        """Where the evidence came from, e.g. 'usage_events' or 'tickets/accounts.seats'."""
        if self.measure in ACCOUNT_MEASURES:
            return "accounts"
        if self.measure == "ratio" and self.numerator is not None and self.denominator is not None:
            return "/".join(dict.fromkeys([self.numerator.source, self.denominator.source]))
        if self.measure == "share" and self.numerator is not None:
            return f"{self.numerator.source}/accounts.{self.per}"
        return self.source or ""

    @property
    def window_label(self) -> str:
        if self.measure in ACCOUNT_MEASURES:
            return "current"
        w = self.window
        if self.measure in ("ratio", "share") and self.numerator is not None:
            w = self.numerator.window
        return w or "all"

