"""The health model IR: what a model YAML file compiles into.

Pydantic models with extra="forbid" so a misspelt key is an error, not a silent default.
Cross-field checks (columns exist in the contract, names unique, weights positive, ...)
live here too, so `healthscore validate` reports every problem with its key path.
Imports no engine.
"""

from __future__ import annotations

import datetime as dt
import re
from functools import cached_property
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from healthscore.contract import NUMERIC_TYPES, TABLES, TIMESTAMP

BASIC_MEASURES = ("count", "sum", "mean", "min", "max", "distinct_count", "latest", "days_since_last")
ACCOUNT_MEASURES = ("attribute", "days_until")
MEASURES = BASIC_MEASURES + ("change", "ratio", "share") + ACCOUNT_MEASURES
NEEDS_COLUMN = ("sum", "mean", "min", "max", "distinct_count", "latest")
NUMERIC_COLUMN = ("sum", "mean", "min", "max")
FILTER_OPS = ("eq", "ne", "in", "not_in", "lt", "lte", "gt", "gte", "is_null")

_WINDOW_RE = re.compile(r"^(\d+)([dw])$")


def window_days(window: str | None) -> int | None:
    """'30d' -> 30, '12w' -> 84, 'all' or None -> None (no lower bound)."""
    if window is None or window == "all":
        return None
    m = _WINDOW_RE.match(window)
    assert m, window  # validated on load
    n = int(m.group(1))
    return n * 7 if m.group(2) == "w" else n


# The longest window or duration (days): date arithmetic on a 23-digit window overflowed in `score`.
MAX_DAYS = 36_500
# Numbers in a model must be finite (`.inf`/`.nan` are refused by pydantic, allow_inf_nan=False) and
# at most this large: nothing in a health model needs more, and the engine's arithmetic overflows.
MAX_NUMBER = 1e15
MAX_INT = 10**9


def _check_window(v: str | None) -> str | None:
    if v is None or v == "all":
        return v
    if not isinstance(v, str) or not _WINDOW_RE.match(v) or window_days(v) == 0:
        raise ValueError(f"window {v!r} is not allowed; use a positive number of days or weeks like 30d, 12w, or 'all'")
    if window_days(v) > MAX_DAYS:  # type: ignore[operator]
        raise ValueError(f"window {v!r} is too long; at most {MAX_DAYS} days (100 years), or 'all' for no limit")
    return v


def _check_numbers(v: Any) -> Any:
    """Every number of a field (also inside lists and mappings) within MAX_NUMBER / MAX_INT."""
    if isinstance(v, bool) or v is None:
        return v
    if isinstance(v, int) and abs(v) > MAX_INT:
        raise ValueError(f"{v} is too large; at most {MAX_INT:,} in size")
    if isinstance(v, float) and not (abs(v) <= MAX_NUMBER):
        raise ValueError(f"{v!r} is out of range; numbers must be finite and at most {MAX_NUMBER:g} in size")
    if isinstance(v, (list, tuple)):
        for x in v:
            _check_numbers(x)
    elif isinstance(v, dict):
        for x in v.values():
            _check_numbers(x)
    return v


def _check_duration(v: str | None) -> str | None:
    if v is not None and (v == "all" or _check_window(v) is None):
        raise ValueError(f"{v!r} is not a duration; use e.g. 90d or 2w")
    return v


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    @field_validator("*", mode="after")
    @classmethod
    def _bounded(cls, v: Any) -> Any:
        return _check_numbers(v)


# ---- filters ---------------------------------------------------------------------------------

Scalar = Union[str, int, float, bool]


class ColumnRef(_Strict):
    """Compare against another column of the same row, e.g. {column: due_at}."""

    column: str


AS_OF = "$as_of"  # an operand meaning the as-of date itself, e.g. departed_at: {gte: $as_of}


Operand = Union[Scalar, ColumnRef]


class Condition(_Strict):
    eq: Operand | None = None
    ne: Operand | None = None
    in_: list[Scalar] | None = Field(None, alias="in")
    not_in: list[Scalar] | None = None
    lt: Operand | None = None
    lte: Operand | None = None
    gt: Operand | None = None
    gte: Operand | None = None
    is_null: bool | None = None

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, allow_inf_nan=False)

    def ops(self) -> list[tuple[str, Any]]:
        return list(self._ops)

    @cached_property
    def _ops(self) -> tuple[tuple[str, Any], ...]:  # frozen: computed once (alert rules ask per account)
        return tuple((op, value) for op in FILTER_OPS
                     if (value := getattr(self, "in_" if op == "in" else op)) is not None)

    @model_validator(mode="after")
    def _not_empty(self):
        if not self.ops():
            raise ValueError(f"a condition needs at least one of: {', '.join(FILTER_OPS)}")
        return self


def _normalise_filter(raw: Any) -> dict:
    """Shorthand: {event: login} means eq, {event: [a, b]} means in; any_of holds a list of filters."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ValueError("a filter is a mapping of column: value, column: [values] or column: {op: value}")
    out: dict[str, Any] = {}
    for col, cond in raw.items():
        if col == "any_of":
            if not isinstance(cond, list) or not cond:
                raise ValueError("any_of takes a non-empty list of filters")
            out[col] = [_normalise_filter(f) for f in cond]
        elif isinstance(cond, list):
            out[col] = {"in": cond}
        elif isinstance(cond, dict):
            out[col] = cond
        else:
            out[col] = {"eq": cond}
    return out


class Filter(_Strict):
    """Row filter: every column condition must hold (AND); any_of holds alternatives (OR)."""

    conditions: dict[str, Condition] = Field(default_factory=dict)
    any_of: list[Filter] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, raw: Any):
        if isinstance(raw, Filter):
            return raw
        if isinstance(raw, dict) and set(raw) <= {"conditions", "any_of"} and "conditions" in raw:
            return raw
        norm = _normalise_filter(raw)
        any_of = norm.pop("any_of", [])
        return {"conditions": norm, "any_of": any_of}

    def columns(self) -> set[str]:
        cols = set(self.conditions)
        for cond in self.conditions.values():
            for _, v in cond.ops():
                if isinstance(v, ColumnRef):
                    cols.add(v.column)
        for f in self.any_of:
            cols |= f.columns()
        return cols

    def is_empty(self) -> bool:
        return not self.conditions and not self.any_of


# ---- aggregates and metrics ------------------------------------------------------------------


class Aggregate(_Strict):
    """An aggregate over one canonical table in a window before the as-of date."""

    source: str
    measure: Literal["count", "sum", "mean", "min", "max", "distinct_count", "latest", "days_since_last"]
    column: str | None = None
    filter: Filter = Field(default_factory=Filter)
    window: str | None = None
    time_column: str | None = None
    exclude_holidays: bool = False  # ignore rows inside the model's calendar.holidays

    _w = field_validator("window")(lambda cls, v: _check_window(v))

    @property
    def time_col(self) -> str:
        return self.time_column or TABLES[self.source].time_column  # type: ignore[return-value]


class Linear(_Strict):
    kind: Literal["linear"]
    low: float
    high: float

    @model_validator(mode="after")
    def _span(self):
        if self.high == self.low:  # the scale would divide by zero: every score NaN or 0/100
            raise ValueError(f"low and high must differ (both {self.low:g})")
        return self


class Log(_Strict):
    kind: Literal["log"]
    low: float = Field(0.0, ge=0)
    high: float

    @model_validator(mode="after")
    def _span(self):
        if self.high <= self.low:
            raise ValueError(f"high ({self.high:g}) must be above low ({self.low:g})")
        return self


class Band(_Strict):
    min: float
    score: float = Field(ge=0, le=100)


class Bands(_Strict):
    """Value >= a band's min gets that band's score (the highest matching band wins)."""

    kind: Literal["bands"]
    bands: list[Band] = Field(min_length=1)
    below: float = Field(0.0, ge=0, le=100, description="score below the lowest band")


class Shape(_Strict):
    """A learned shape (generalized additive model): the value's bin, the highest `min` at or below it,
    gives the score, so U-shapes, thresholds and saturation are a table anyone can read and edit.
    Fitted from outcomes by 'healthscore calibrate --shapes'; direction does not apply. `monotone`
    is a constraint the analyst set and the fit kept (validated here)."""

    kind: Literal["shape"]
    bins: list[Band] = Field(min_length=1)
    below: float | None = Field(None, ge=0, le=100, description="score below the lowest bin (default: its score)")
    monotone: Literal["increasing", "decreasing"] | None = None
    fitted: str | None = Field(None, description="provenance: what it was fitted on")

    @model_validator(mode="after")
    def _ordered(self):
        mins = [b.min for b in self.bins]
        if mins != sorted(mins) or len(set(mins)) != len(mins):
            raise ValueError(f"shape bins must have increasing, distinct min values; got {mins}")
        scores = [b.score for b in self.bins]
        if self.monotone == "increasing" and any(b < a for a, b in zip(scores, scores[1:])):
            raise ValueError(f"shape is monotone increasing but its scores fall: {scores}")
        if self.monotone == "decreasing" and any(b > a for a, b in zip(scores, scores[1:])):
            raise ValueError(f"shape is monotone decreasing but its scores rise: {scores}")
        return self


class Boolean(_Strict):
    """A true (non-zero) value scores 100 when higher is better, 0 when lower is better."""

    kind: Literal["boolean"]


class Mapping(_Strict):
    """Categorical values (e.g. an assessment's green/yellow/red) to scores."""

    kind: Literal["map"]
    values: dict[str, Annotated[float, Field(ge=0, le=100)]]
    default: float | None = Field(None, ge=0, le=100, description="score of an unlisted value; null = missing")


Transform = Annotated[Linear | Log | Bands | Shape | Boolean | Mapping, Field(discriminator="kind")]


class Missing(_Strict):
    """What a metric scores when it has no value: exclude it (coverage drops), or impute a score."""

    rule: Literal["exclude", "neutral", "worst", "best", "score"]
    score: float | None = Field(None, ge=0, le=100)

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, raw: Any):
        if isinstance(raw, str):
            return {"rule": raw}
        if isinstance(raw, (int, float)) and not isinstance(raw, bool):
            return {"rule": "score", "score": raw}
        return raw

    @model_validator(mode="after")
    def _score_given(self):
        if (self.rule == "score") != (self.score is not None):
            raise ValueError("give score: N (0..100) exactly when rule is 'score'")
        return self

    @property
    def imputed_score(self) -> float | None:
        return {"exclude": None, "neutral": 50.0, "worst": 0.0, "best": 100.0, "score": self.score}[self.rule]


class Target(_Strict):
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


TARGET_MEASURES = ("count", "sum", "mean", "min", "max", "distinct_count", "latest", "change", "ratio", "share", "attribute")


class Metric(_Strict):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    description: str | None = None
    # where the value comes from
    source: str | None = None
    measure: str
    column: str | None = None
    filter: Filter = Field(default_factory=Filter)
    window: str | None = None
    time_column: str | None = None
    change: Literal["relative", "absolute"] = "relative"  # for measure: change
    # for measure: change: the window before, or the same window 52 weeks earlier (seasonal baseline:
    # a holiday dip is compared with last year's holiday, not with the busy weeks before it)
    compare_to: Literal["previous_window", "last_year"] = "previous_window"
    of: Literal["count", "sum", "mean", "min", "max", "distinct_count"] | None = None  # for change
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

    _w = field_validator("window")(lambda cls, v: _check_window(v))

    @field_validator("freshness")
    @classmethod
    def _fresh(cls, v: str | None):
        if v is not None and (v == "all" or _check_window(v) is None):
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
        m = self.measure
        errors = []
        if m in BASIC_MEASURES or m == "change":
            if self.source is None:
                errors.append(f"measure {m} needs source: one of {', '.join(TABLES)}")
            agg_measure = self.of if m == "change" else m
            if m == "change" and self.of is None:
                errors.append("measure change needs of: count, sum, mean, min, max or distinct_count")
            if agg_measure in NEEDS_COLUMN and self.column is None:
                errors.append(f"measure {agg_measure} needs column:")
            if m == "change" and window_days(self.window) is None:
                errors.append("measure change needs a finite window, e.g. 30d (compared with the 30 days before)")
        elif m in ("ratio", "share"):
            if self.numerator is None:
                errors.append(f"measure {m} needs numerator: an aggregate (source, measure, window ...)")
            if m == "ratio" and self.denominator is None:
                errors.append("measure ratio needs denominator: an aggregate")
            if m == "share" and self.per is None:
                errors.append("measure share needs per: an accounts column such as seats")
        elif m in ACCOUNT_MEASURES:
            if self.per is None:
                errors.append(f"measure {m} needs per: an accounts column")
        if errors:
            raise ValueError("; ".join(errors))
        return self

    def aggregates(self) -> dict[str, Aggregate]:
        """The engine aggregates this metric needs, keyed by role (role 'target': the account's goal)."""
        out = self._value_aggregates()
        if self.exclude_holidays:
            out = {role: agg.model_copy(update={"exclude_holidays": True}) for role, agg in out.items()}
        if self.target is not None and self.target.goal is not None:
            out["target"] = Aggregate(source="goals", measure="latest", column="target",
                                      filter={"metric": self.target.goal}, window=None)
        return out

    def _value_aggregates(self) -> dict[str, Aggregate]:
        m = self.measure
        if m in BASIC_MEASURES:
            return {"value": Aggregate(source=self.source, measure=m, column=self.column, filter=self.filter,
                                       window=self.window, time_column=self.time_column)}
        if m == "change":
            base = dict(source=self.source, measure=self.of, column=self.column, filter=self.filter,
                        time_column=self.time_column)
            return {"current": Aggregate(window=self.window, **base),
                    "prior": Aggregate(window=self.window, **base)}  # shifted by one window in the engine
        if m == "ratio":
            return {"numerator": self.numerator, "denominator": self.denominator}
        if m == "share":
            return {"numerator": self.numerator}
        return {}

    @property
    def source_label(self) -> str:
        """Where the evidence came from, e.g. 'usage_events' or 'tickets/accounts.seats'."""
        if self.measure in ACCOUNT_MEASURES:
            return "accounts"
        if self.measure == "ratio":
            srcs = [self.numerator.source, self.denominator.source]
            return "/".join(dict.fromkeys(srcs))
        if self.measure == "share":
            return f"{self.numerator.source}/accounts.{self.per}"
        return self.source or ""

    @property
    def window_label(self) -> str:
        if self.measure in ACCOUNT_MEASURES:
            return "current"
        w = self.window
        if self.measure in ("ratio", "share"):
            w = self.numerator.window
        return w or "all"


class Component(_Strict):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    description: str | None = None
    weight: float = Field(ge=0)  # 0: shown, no points (at least one component and one metric in each weigh > 0)
    metrics: list[Metric] = Field(min_length=1)
    # sub-score grouping (e.g. product, relationship): reported as snapshot sub_scores; the overall
    # score and its evidence are unchanged. Optional, so models without it keep their content hash.
    motion: str | None = Field(None, pattern=r"^[a-z][a-z0-9_]*$")


class Tiers(_Strict):
    green: float = Field(70.0, ge=0, le=100)
    yellow: float = Field(40.0, ge=0, le=100)

    @model_validator(mode="after")
    def _order(self):
        if self.yellow > self.green:
            raise ValueError(f"yellow ({self.yellow}) must not be above green ({self.green})")
        return self

    def tier(self, score: float | None) -> str | None:
        if score is None:
            return None
        return "green" if score >= self.green else "yellow" if score >= self.yellow else "red"


class Segment(_Strict):
    """Accounts matching `when` (a filter over accounts columns) use these weights and tiers.

    When several segments match, the one with the highest priority wins; priorities are unique.
    `weights` keys are component names or component.metric names.
    """

    name: str
    priority: int
    when: Filter
    weights: dict[str, float] = Field(default_factory=dict)
    tiers: Tiers | None = None


ONBOARDING_SEGMENT = "onboarding"  # the snapshot's segment while the onboarding model applies


class OnboardingModel(_Strict):
    """Weights and tiers for young accounts: from scoring.onboarding_days until `until_days` old.

    Early on, adoption and milestones say more than renewal signals that do not exist yet.
    `weights` keys are component or component.metric names, like a segment's.
    """

    until_days: int = Field(90, gt=0, le=MAX_DAYS, description="account age at which the base model (or segment) takes over")
    weights: dict[str, float] = Field(default_factory=dict)
    tiers: Tiers | None = None


class Scoring(_Strict):
    min_coverage: float = Field(0.5, ge=0, le=1, description="below it the status is insufficient_data")
    onboarding_days: int = Field(14, ge=0, le=MAX_DAYS, description="accounts younger than this are onboarding")
    onboarding_score: float = Field(50.0, ge=0, le=100, description="the neutral score shown while onboarding")
    confidence_full_after_days: int = Field(90, ge=1, le=MAX_DAYS, description="account age at which confidence stops growing")
    pause_min_weight: float = Field(0.1, ge=0, le=1, description=(
        "a stale input or a conflict rule pauses the snapshot only when the metrics behind it carry at least this "
        "share of the score's weight; below it the snapshot is scored and the reason kept as a risk note"))


class MaterialChange(_Strict):
    points: float = Field(10.0, gt=0, description="a score move of at least this many points is material")
    tier_change: bool = Field(True, description="any tier change is material")


class History(_Strict):
    smoothing_days: int = Field(30, ge=0, le=MAX_DAYS, description="rolling average of the score over this many days; 0: off")
    hysteresis: float = Field(0.0, ge=0, le=20, description="points past a tier boundary before the tier changes")
    material_change: MaterialChange = Field(default_factory=MaterialChange)


class RuleCondition(_Strict):
    """One side of a rule: a metric's raw value or its 0..100 score meets a condition."""

    metric: str
    value: Condition | None = None
    score: Condition | None = None

    @model_validator(mode="after")
    def _one(self):
        if (self.value is None) == (self.score is None):
            raise ValueError("give exactly one of value: {op: x} or score: {op: x}")
        return self


class Rule(_Strict):
    """Inputs telling opposite stories (pause: true) or a risk pattern to flag and route to review."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    when: list[RuleCondition] = Field(min_length=1, description="all conditions must hold")
    pause: bool = Field(False, description="pause the snapshot: no score, no tier change")
    flags: list[str] = Field(default_factory=list)
    review: bool = Field(False, description="route the account to owner review")
    note: str


OUTCOME_KINDS = ("renewed", "churned", "contracted", "expanded")


class Outcome(_Strict):
    """What the score should predict: an outcome of these kinds within `horizon` after the as-of date.

    An account whose horizon is not over at the end of the data is censored (neither churned nor
    healthy) in backtests and calibration.
    """

    label: list[Literal["renewed", "churned", "contracted", "expanded"]] = Field(
        default_factory=lambda: ["churned", "contracted"], min_length=1,
        description="outcomes.kind values that count as the bad outcome")
    horizon: str = Field("90d", description="how long after the as-of date an outcome counts, e.g. 90d or 13w")

    @field_validator("horizon")
    @classmethod
    def _horizon(cls, v: str):
        if v == "all" or _check_window(v) is None:
            raise ValueError(f"horizon {v!r} is not a window; use e.g. 90d or 13w")
        return v

    @property
    def horizon_days(self) -> int:
        return window_days(self.horizon)  # type: ignore[return-value]


class Calibration(_Strict):
    """How `healthscore calibrate` fits weights and tier thresholds from outcomes."""

    red_share: float = Field(0.10, gt=0, lt=1, description="share of scored accounts the proposed red tier holds")
    yellow_share: float = Field(0.25, gt=0, lt=1, description="share of scored accounts in the proposed yellow tier")
    min_events: int = Field(30, ge=1, description="labelled bad outcomes needed to fit a model or a segment")
    l2: float = Field(1.0, ge=0, description="L2 penalty of the non-negative logistic regression")
    min_weight: float = Field(0.01, ge=0, lt=0.5,
                              description="floor of a metric's share, so evidence a fit zeroes stays visible")
    correlation: float = Field(0.8, gt=0, le=1, description="|Spearman| above which metrics are grouped as redundant")
    min_survivors: int = Field(30, ge=1, description="labelled snapshots without a bad outcome needed to fit")
    leak_auc: float = Field(0.95, gt=0.5, le=1, description="a metric whose AUC on its own is at least this (or at"
                            " most 1 - this) against the label is treated as a leak")
    max_timing_share: float = Field(0.25, gt=0, le=1, description="cap on the share of a metric flagged timing: true")
    flip_directions: bool = Field(True, description="flip a metric's direction when the outcomes say it is written"
                                  " the wrong way round")
    shape_bins: int = Field(8, ge=2, le=50, description="bins per metric of a learned shape (calibrate --shapes)")
    shape_l2: float = Field(10.0, gt=0, description="L2 penalty of the learned shapes' bin contributions")
    shape_monotone: Literal["direction", "none"] = Field(
        "direction", description="learned shapes follow each metric's direction unless the metric says"
                                 " non_monotone: true (direction), or are free (none)")

    @model_validator(mode="after")
    def _shares(self):
        if self.red_share + self.yellow_share >= 1:
            raise ValueError(f"red_share + yellow_share must be below 1 (got {self.red_share + self.yellow_share:g})")
        return self


class Holiday(_Strict):
    """A holiday window, both days included: rows with a time column inside it can be ignored."""

    name: str
    from_: dt.date = Field(alias="from")
    to: dt.date

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, allow_inf_nan=False)


class Calendar(_Strict):
    holidays: list[Holiday] = Field(default_factory=list)

    def windows(self) -> list[tuple[dt.date, dt.date]]:
        """Merged [first day, day after the last) windows, sorted, so overlapping holidays count once."""
        out: list[list[dt.date]] = []
        for start, end in sorted((h.from_, h.to + dt.timedelta(days=1)) for h in self.holidays if h.to >= h.from_):
            if out and start <= out[-1][1]:
                out[-1][1] = max(out[-1][1], end)
            else:
                out.append([start, end])
        return [(a, b) for a, b in out]


class Defaults(_Strict):
    missing: Missing | None = None


# ---- the review workflow (docs/workflow.md) ---------------------------------------------------


class ScoreDrop(_Strict):
    """Reads the raw score (the smoothed one hides a sudden drop for weeks)."""

    points: float = Field(gt=0, description="fire when the raw score fell at least this much ...")
    days: int = Field(7, ge=1, le=MAX_DAYS, description="... within this many days")
    persist: int = Field(2, ge=1, le=7, description=(
        "consecutive daily scores (today's and the days before) that must each be `points` below the score "
        "`days` before them: a one-day blip in the data does not fire"))


class AlertRule(_Strict):
    """One alert rule; exactly one of score_drop, tier_to, when, renewal_within, stale_after."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    note: str
    severity: Literal["high", "medium", "low"] = "medium"
    score_drop: ScoreDrop | None = None
    tier_to: Literal["yellow", "red"] | None = None
    when: list[RuleCondition] = Field(default_factory=list, description="metric conditions, all must hold")
    renewal_within: str | None = None
    stale_after: str | None = Field(None, description="no trusted (scored) snapshot for this long")
    min_rows: int = Field(0, ge=0, description=(
        "a `when` rule fires only when each of its metrics rests on at least this many rows (a ratio such as "
        "tickets +50% on 0 -> 1 ticket is noise)"))

    _d = field_validator("renewal_within", "stale_after")(lambda cls, v: _check_duration(v))

    @model_validator(mode="after")
    def _one_kind(self):
        kinds = [k for k in ALERT_KINDS if getattr(self, k)]
        if len(kinds) != 1:
            raise ValueError(f"give exactly one of {', '.join(ALERT_KINDS)} (got {', '.join(kinds) or 'none'})")
        return self

    @cached_property
    def kind(self) -> str:  # frozen: computed once (evaluated per account and rule)
        return next(k for k in ALERT_KINDS if getattr(self, k))


ALERT_KINDS = ("score_drop", "tier_to", "when", "renewal_within", "stale_after")


class AlertHygiene(_Strict):
    cooldown_days: int = Field(7, ge=0, le=MAX_DAYS, description="at most one alert per account and rule in this many days")
    hysteresis_points: float = Field(3.0, ge=0, le=30,
                                     description="a score or tier alert re-arms only this far past its threshold")
    owner_daily_budget: int = Field(5, ge=1, description="alerts sent one by one per owner and day; the rest: digest")
    max_share_per_rule: float = Field(0.1, gt=0, le=1,
                                      description="a rule fires on at most this share of accounts per run")


class Routing(_Strict):
    renewal_within: str = Field("90d", description="accounts renewing this soon always go to human review")
    high_value_arr: float | None = Field(250_000.0, ge=0, description="accounts with ARR at or above: always reviewed")
    fallback_queue: str = Field("cs-unassigned", description="who gets the tasks of accounts without an owner")

    _d = field_validator("renewal_within")(lambda cls, v: _check_duration(v))


class Triage(_Strict):
    """How many review tasks an owner gets per week, and how candidates are ranked (docs/workflow.md)."""

    weekly_capacity: int = Field(10, ge=1, description="review tasks an owner is given per week (open at once)")
    capacity: dict[str, int] = Field(default_factory=dict, description="owner or queue -> its weekly capacity")
    teams: dict[str, list[str]] = Field(default_factory=dict, description=(
        "team -> its owners; a team named in `capacity` sets the capacity of each member"))
    high_share: float = Field(0.2, ge=0, le=1, description="at most this share of an owner's open tasks are high")
    min_churn_probability: float = Field(0.08, ge=0, le=1, description=(
        "a candidate below this churn probability (a healthy account with a passing signal) waits in the backlog "
        "unless it renews within routing.renewal_within: few right tasks, not a full list"))
    max_open_share: float = Field(0.15, gt=0, le=1, description=(
        "open tasks across all owners stay within this share of the scored accounts (the lowest-ranked wait "
        "in the backlog; each owner keeps their top-ranked task)"))
    renewal_boost: float = Field(3.0, ge=1, description=(
        "rank weight of an account renewing within routing.renewal_within (churn is decided at the renewal)"))
    high_value_boost: float = Field(1.25, ge=1, description="rank weight of an account at or above high_value_arr")
    churn_probability: dict[Literal["red", "yellow", "green"], float] = Field(
        default_factory=lambda: {"red": 0.30, "yellow": 0.10, "green": 0.02},
        description="prior probability of churn or contraction within the outcome horizon, by the score's tier")

    def capacity_of(self, owner: str) -> int:
        if owner in self.capacity:
            return self.capacity[owner]
        for team, members in self.teams.items():
            if owner in members and team in self.capacity:
                return self.capacity[team]
        return self.weekly_capacity


class PlaybookMatch(_Strict):
    """Empty lists match anything; a playbook matching on more keys wins over a general one."""

    tier: list[Literal["green", "yellow", "red"]] = Field(default_factory=list)
    driver: list[str] = Field(default_factory=list, description="primary driver metrics")
    segment: list[str] = Field(default_factory=list)
    alert: list[str] = Field(default_factory=list, description="alert rule names")


class Playbook(_Strict):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    when: PlaybookMatch = Field(default_factory=PlaybookMatch)
    action: str = Field(description="the drafted next action, for the owner to decide on")
    assignee: str = Field("owner", description="who acts: owner, support_manager, billing_specialist, ...")
    channel: str = Field("call", description="call, email, meeting, internal ...")


class Workflow(_Strict):
    material_change_tasks: bool = Field(True, description="a review task for every material change")
    alerts: list[AlertRule] = Field(default_factory=list)
    hygiene: AlertHygiene = Field(default_factory=AlertHygiene)
    routing: Routing = Field(default_factory=Routing)
    task_due_days: dict[Literal["red", "yellow", "green", "default"], int] = Field(
        default_factory=lambda: {"red": 3, "yellow": 7, "default": 10})
    override_reasons: list[str] = Field(
        default_factory=lambda: ["data_error", "known_issue_resolved", "relationship_context", "commercial_context",
                                 "other"], min_length=1)
    max_override_days: int = Field(90, ge=1, le=MAX_DAYS, description="an override expires at most this long after it is made")
    playbooks: list[Playbook] = Field(default_factory=list)
    triage: Triage = Field(default_factory=Triage, description="weekly capacity per owner and task ranking")
    default_action: str = "Review the evidence with the account team and decide the next step."


class PipelineGate(_Strict):
    """A source whose portfolio-wide row count collapses at once is a pipeline break, not a churn wave.

    At each as-of date the source's rows in the last `window` are compared with the rate of the
    `baseline` before it; a drop of at least `max_portfolio_drop`, with at least `min_accounts`
    accounts active in the baseline, pauses the snapshots of those accounts.
    """

    max_portfolio_drop: float = Field(0.8, gt=0, le=1, description="share of the expected rows missing")
    min_accounts: int = Field(50, ge=1, description="active accounts needed before the gate can fire")
    window: str = Field("1d", description="the recent window compared")
    baseline: str = Field("28d", description="the period before it that sets the expected rate")

    _d = field_validator("window", "baseline")(lambda cls, v: _check_duration(v))


class Pipeline(_Strict):
    admin_queue: str | None = Field(None, description="who gets the one pipeline alert (default: the fallback queue)")
    sources: dict[str, PipelineGate] = Field(default_factory=dict)

    @field_validator("sources")
    @classmethod
    def _tables(cls, v: dict[str, PipelineGate]):
        for table in v:
            if table not in TABLES or TABLES[table].time_column is None or table == "accounts":
                allowed = [t for t, spec in TABLES.items() if spec.time_column and t != "accounts"]
                raise ValueError(f"{table!r} is not an event table; allowed: {', '.join(allowed)}")
        return v


class Hierarchy(_Strict):
    rollup: Literal["arr_weighted", "minimum"] = "arr_weighted"


class Pilot(_Strict):
    segment: str | None = Field(None, description="accounts.segment of the pilot accounts (all when absent)")
    start: dt.date
    duration_days: int = Field(60, ge=1, le=MAX_DAYS)
    threshold: float = Field(0.8, gt=0, le=1, description="validation rate the pilot must reach")
    sample: int = Field(20, ge=1, description="material changes in the validation sample")


class Drift(_Strict):
    psi_threshold: float = Field(0.25, gt=0, description="PSI at or above which recalibration is suggested")
    reference_from: dt.date | None = None
    reference_to: dt.date | None = None
    every_days: int = Field(30, ge=1, le=MAX_DAYS)


class Interventions(_Strict):
    no_response_attempts: int = Field(3, ge=1, description="attempts without response before a channel switch")


class HealthModel(_Strict):
    name: str
    description: str | None = None
    defaults: Defaults = Field(default_factory=Defaults)
    scoring: Scoring = Field(default_factory=Scoring)
    tiers: Tiers = Field(default_factory=Tiers)
    components: list[Component] = Field(min_length=1)
    segments: list[Segment] = Field(default_factory=list)
    freshness: dict[str, str] = Field(default_factory=dict, description="source table -> max age of its newest row")
    history: History = Field(default_factory=History)
    rules: list[Rule] = Field(default_factory=list)
    workflow: Workflow = Field(default_factory=Workflow)
    # Optional so models without them keep their content hash (see model.load.model_version).
    outcome: Outcome | None = Field(None, description="the outcome the score predicts (backtest, calibrate)")
    calibration: Calibration | None = Field(None, description="how calibrate fits weights and thresholds")
    # Written by `healthscore calibrate` into a proposal: what it was fitted on and its held-out figures, so
    # model propose / show and the web model page show the approver held-out numbers, not in-sample ones.
    provenance: dict[str, Any] | None = Field(None, description="how a calibrated proposal was fitted (calibrate)")

    @property
    def outcome_spec(self) -> Outcome:
        return self.outcome or Outcome()

    @property
    def calibration_spec(self) -> Calibration:
        return self.calibration or Calibration()
    calendar: Calendar = Field(default_factory=Calendar)
    onboarding: OnboardingModel | None = None
    # Running the health program (docs/program.md). Optional: absent sections keep the content hash.
    pipeline: Pipeline | None = Field(None, description="portfolio-level gates: a pipeline break pauses, not alerts")
    hierarchy: Hierarchy | None = Field(None, description="parent accounts rolled up from their children")
    pilot: Pilot | None = Field(None, description="the pilot: segment, start, duration, validation threshold")
    drift: Drift | None = Field(None, description="score and input drift report settings")
    interventions: Interventions | None = Field(None, description="intervention logging and escalation drafts")

    @field_validator("freshness")
    @classmethod
    def _fresh(cls, v: dict[str, str]):
        for table, window in v.items():
            if table not in TABLES or TABLES[table].time_column is None:
                allowed = [t for t, spec in TABLES.items() if spec.time_column]
                raise ValueError(f"{table!r} is not an event table; allowed: {', '.join(allowed)}")
            if window == "all" or _check_window(window) is None:
                raise ValueError(f"{table}: {window!r} is not a freshness limit; use e.g. 3d or 2w")
        return v

    @property
    def metrics(self) -> list[tuple[Component, Metric]]:
        return [(c, m) for c in self.components for m in c.metrics]

    def missing_rule(self, metric: Metric) -> Missing:
        return metric.missing or self.defaults.missing  # type: ignore[return-value]

    def problems(self) -> list[tuple[tuple, str]]:
        """Cross-field problems as (key path, message): columns exist, names unique, precedence explicit."""
        problems: list[tuple[tuple, str]] = []
        comp_names = [c.name for c in self.components]
        _dupes(comp_names, ("components",), "component", problems)
        _dupes([m.name for _, m in self.metrics], ("components",), "metric", problems)
        for ci, comp in enumerate(self.components):
            for mi, metric in enumerate(comp.metrics):
                loc = ("components", ci, "metrics", mi)
                if metric.missing is None and self.defaults.missing is None:
                    problems.append((loc + ("missing",), f"metric {metric.name} has no missing-data rule; set missing:"
                                     " exclude|neutral|worst|best|<score>, or defaults.missing for the whole model"))
                _check_metric(metric, loc, problems)
        self._check_positive({}, (), problems)
        for si, seg in enumerate(self.segments):
            loc = ("segments", si)
            _check_filter(seg.when, "accounts", loc + ("when",), problems)
            self._check_weights(seg.weights, loc, problems)
            self._check_positive(seg.weights, loc + ("weights",), problems)
            if self.onboarding is not None and seg.name == ONBOARDING_SEGMENT:
                problems.append((loc + ("name",), f"{ONBOARDING_SEGMENT!r} names the onboarding model's snapshots;"
                                 " rename the segment"))
        if self.onboarding is not None:
            self._check_weights(self.onboarding.weights, ("onboarding",), problems)
            if self.onboarding.until_days <= self.scoring.onboarding_days:
                problems.append((("onboarding", "until_days"), f"{self.onboarding.until_days} must be above"
                                 f" scoring.onboarding_days ({self.scoring.onboarding_days}): before that the"
                                 " account is not scored at all"))
        for hi, h in enumerate(self.calendar.holidays):
            if h.to < h.from_:
                problems.append((("calendar", "holidays", hi, "to"), f"holiday {h.name} ends ({h.to}) before it"
                                 f" starts ({h.from_}); from and to are the first and last day"))
        for ci, comp in enumerate(self.components):
            for mi, metric in enumerate(comp.metrics):
                loc = ("components", ci, "metrics", mi, "exclude_holidays")
                excludes = metric.exclude_holidays or any(a.exclude_holidays for a in metric.aggregates().values())
                if excludes and not self.calendar.holidays:
                    problems.append((loc, "no holidays to exclude: list them under calendar: {holidays: [{name, from, to}]}"))
                elif metric.exclude_holidays and metric.measure in ACCOUNT_MEASURES:
                    problems.append((loc, f"measure {metric.measure} reads accounts, which have no rows to exclude"))
        metric_names = {m.name for _, m in self.metrics}
        by_name = {m.name: m for _, m in self.metrics}
        for ri, rule in enumerate(self.rules):
            for ci, cond in enumerate(rule.when):
                if cond.metric not in metric_names:
                    problems.append((("rules", ri, "when", ci, "metric"),
                                     f"no metric {cond.metric!r}; metrics: {', '.join(sorted(metric_names))}"))
                _check_rule_condition(cond, by_name, ("rules", ri, "when", ci), problems)
        _dupes([r.name for r in self.rules], ("rules",), "rule", problems)
        wf = self.workflow
        for ai, alert in enumerate(wf.alerts):
            for ci, cond in enumerate(alert.when):
                if cond.metric not in metric_names:
                    problems.append((("workflow", "alerts", ai, "when", ci, "metric"),
                                     f"no metric {cond.metric!r}; metrics: {', '.join(sorted(metric_names))}"))
                _check_rule_condition(cond, by_name, ("workflow", "alerts", ai, "when", ci), problems)
        _dupes([a.name for a in wf.alerts], ("workflow", "alerts"), "alert", problems)
        _dupes([p.name for p in wf.playbooks], ("workflow", "playbooks"), "playbook", problems)
        alert_names = {a.name for a in wf.alerts}
        seg_names = {s.name for s in self.segments}
        for pi, book in enumerate(wf.playbooks):
            loc = ("workflow", "playbooks", pi, "when")
            for d in book.when.driver:
                if d not in metric_names:
                    problems.append((loc + ("driver",), f"no metric {d!r}; metrics: {', '.join(sorted(metric_names))}"))
            for a in book.when.alert:
                if a not in alert_names:
                    problems.append((loc + ("alert",), f"no alert rule {a!r}; alerts: {', '.join(sorted(alert_names))}"))
            for sg in book.when.segment:
                if sg not in seg_names:
                    problems.append((loc + ("segment",), f"no segment {sg!r}; segments: {', '.join(sorted(seg_names))}"))
        prios = [s.priority for s in self.segments]
        for p in sorted({p for p in prios if prios.count(p) > 1}):
            names = [s.name for s in self.segments if s.priority == p]
            problems.append((("segments",), f"{', '.join(names)} share priority {p};"
                             " priorities must be unique so precedence is explicit"))
        return problems


    def _check_positive(self, overrides: dict[str, float], loc: tuple, problems: list) -> None:
        """Weights may be 0 (evidence without points), but some component, and some metric of every component
        that weighs anything, must weigh more than 0: otherwise there is no score to share out."""
        cw = {c.name: overrides.get(c.name, c.weight) for c in self.components}
        if not any(w > 0 for w in cw.values()):
            problems.append((loc or ("components",), "every component weighs 0; at least one needs a weight > 0"))
        for ci, c in enumerate(self.components):
            if not any(overrides.get(f"{c.name}.{m.name}", m.weight) > 0 for m in c.metrics):
                problems.append((loc + (c.name,) if loc else ("components", ci, "metrics"),
                                 f"every metric of component {c.name} weighs 0; give one a weight > 0"
                                 " (or drop the component)"))

    def _check_weights(self, weights: dict[str, float], loc: tuple, problems: list) -> None:
        """Weight overrides (segments, onboarding): keys name a component or component.metric."""
        comp_names = [c.name for c in self.components]
        for key, w in weights.items():
            wloc = loc + ("weights", key)
            if w < 0:
                problems.append((wloc, f"weight must be >= 0 (got {w})"))
            comp_name, _, metric_name = key.partition(".")
            comp = next((c for c in self.components if c.name == comp_name), None)
            if comp is None:
                problems.append((wloc, f"no component {comp_name!r}; components: {', '.join(comp_names)}"))
            elif metric_name and metric_name not in [m.name for m in comp.metrics]:
                problems.append((wloc, f"component {comp_name} has no metric {metric_name!r};"
                                 f" metrics: {', '.join(m.name for m in comp.metrics)}"))


def _dupes(names: list[str], loc: tuple, what: str, problems: list) -> None:
    for n in sorted({n for n in names if names.count(n) > 1}):
        problems.append((loc, f"{what} name {n!r} is used more than once; names must be unique"))


def _check_column(table: str, column: str | None, loc: tuple, problems: list, *, numeric=False, timestamp=False):
    if column is None:
        return
    t = TABLES[table]
    col = t.column(column)
    if col is None:
        problems.append((loc, f"{column!r} is not a column of {table}; allowed: {', '.join(t.column_names)}"))
    elif numeric and col.type not in NUMERIC_TYPES:
        allowed = [c.name for c in t.columns if c.type in NUMERIC_TYPES]
        problems.append((loc, f"{table}.{column} is not numeric; numeric columns: {', '.join(allowed) or 'none'}"))
    elif timestamp and col.type != TIMESTAMP:
        problems.append((loc, f"{table}.{column} is not a timestamp; timestamps: {', '.join(t.time_columns)}"))


def _check_filter(f: Filter, table: str, loc: tuple, problems: list) -> None:
    for col in sorted(f.columns()):
        _check_column(table, col, loc + (col,), problems)
    _check_filter_values(f, table, loc, problems)


def _family(ctype: str) -> str:
    return "number" if ctype in ("float", "int") else ctype


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _bad_filter_value(table: str, col, v: Any) -> str | None:
    """Why ``v`` cannot be compared with column ``col`` of ``table`` (None: it can). `score` compiles
    the value into the engine's SQL, where a wrong type is an error for every account."""
    if isinstance(v, ColumnRef):
        other = TABLES[table].column(v.column)
        if other is not None and _family(other.type) != _family(col.type):
            return f"compares {col.name} ({col.type}) with column {v.column} ({other.type}); use a column of the same kind"
        return None
    if v == AS_OF:
        return None if col.type == TIMESTAMP else f"{AS_OF} is a date; {col.name} is not a timestamp"
    if col.type == TIMESTAMP:
        if isinstance(v, str):
            try:
                when = dt.datetime.fromisoformat(v.strip().replace("Z", "+00:00"))
            except ValueError:
                when = None
            if when is not None and 1900 <= when.year <= 2100:
                return None
        return (f"{v!r} is not a date for the timestamp column {col.name}; use an ISO date such as '2024-05-01'"
                f" (1900-2100), {AS_OF} or {{column: other_timestamp}}")
    if col.type in ("float", "int"):
        return None if _is_number(v) else f"{v!r} is not a number; {col.name} is numeric"
    if col.type == "bool":
        if isinstance(v, bool) or (isinstance(v, str) and v.strip().lower() in ("true", "false", "yes", "no", "1", "0")):
            return None
        return f"{v!r} is not true or false; {col.name} is a boolean"
    if not isinstance(v, str):
        return f"{v!r} is not text; {col.name} is a text column: quote the value ('{v}')"
    return None


def _check_filter_values(f: Filter, table: str, loc: tuple, problems: list) -> None:
    spec = TABLES.get(table)
    if spec is None:
        return
    for col_name, cond in f.conditions.items():
        col = spec.column(col_name)
        if col is None:
            continue  # reported by _check_column
        for op, raw in cond.ops():
            if op == "is_null":
                continue
            for v in raw if isinstance(raw, list) else [raw]:
                why = _bad_filter_value(table, col, v)
                if why:
                    problems.append((loc + (col_name, op), why))
                    break
    for i, sub in enumerate(f.any_of):
        _check_filter_values(sub, table, loc + ("any_of", i), problems)


def _categorical(metric: Metric) -> bool:
    """Whether a metric's raw value is text (latest of a text column, an accounts text attribute)."""
    if metric.measure == "latest" and metric.source in TABLES and metric.column:
        col = TABLES[metric.source].column(metric.column)
        return col is not None and col.type == "string"
    if metric.measure == "attribute" and metric.per:
        col = TABLES["accounts"].column(metric.per)
        return col is not None and col.type == "string"
    return False


def _check_rule_condition(cond: RuleCondition, metrics: dict, loc: tuple, problems: list) -> None:
    """Values a rule or alert compares a metric with: numbers, except for text metrics' eq/ne/in
    (scoring and alerting compare them as float, which a text value crashed)."""
    metric = metrics.get(cond.metric)
    if metric is None:
        return  # reported elsewhere
    for side, c in (("value", cond.value), ("score", cond.score)):
        if c is None:
            continue
        text = side == "value" and _categorical(metric)
        for op, raw in c.ops():
            if op == "is_null" or (text and op in ("eq", "ne", "in", "not_in")):
                continue
            bad = next((v for v in (raw if isinstance(raw, list) else [raw]) if not _is_number(v)), None)
            if bad is not None:
                what = "the score (0..100)" if side == "score" else f"metric {metric.name}'s value"
                problems.append((loc + (side, op), f"{bad!r} is not a number; {what} is compared as a number"))


def _check_source(source: str | None, loc: tuple, problems: list) -> bool:
    if source not in TABLES or source == "accounts":
        allowed = [t for t in TABLES if t != "accounts"]
        problems.append((loc + ("source",), f"{source!r} is not an event table; allowed: {', '.join(allowed)}"
                         " (for accounts columns use measure: attribute or days_until with per:)"))
        return False
    return True


def _check_aggregate(agg: Aggregate, loc: tuple, problems: list) -> None:
    if not _check_source(agg.source, loc, problems):
        return
    _check_column(agg.source, agg.column, loc + ("column",), problems, numeric=agg.measure in NUMERIC_COLUMN)
    _check_column(agg.source, agg.time_column, loc + ("time_column",), problems, timestamp=True)
    _check_filter(agg.filter, agg.source, loc + ("filter",), problems)
    if agg.measure in NEEDS_COLUMN and agg.column is None:
        problems.append((loc + ("column",), f"measure {agg.measure} needs a column"))


def _check_metric(metric: Metric, loc: tuple, problems: list) -> None:
    m = metric.measure
    if m in BASIC_MEASURES or m == "change":
        if _check_source(metric.source, loc, problems):
            numeric = (metric.of if m == "change" else m) in NUMERIC_COLUMN
            _check_column(metric.source, metric.column, loc + ("column",), problems, numeric=numeric)
            _check_column(metric.source, metric.time_column, loc + ("time_column",), problems, timestamp=True)
            _check_filter(metric.filter, metric.source, loc + ("filter",), problems)
    elif m in ACCOUNT_MEASURES:
        for key in ("source", "column", "time_column", "window"):
            if getattr(metric, key) is not None:
                problems.append((loc + (key,), f"not used by measure {m} (it reads accounts.{metric.per})"))
    if metric.numerator is not None:
        _check_aggregate(metric.numerator, loc + ("numerator",), problems)
    if metric.denominator is not None:
        _check_aggregate(metric.denominator, loc + ("denominator",), problems)
    if metric.per is not None:
        _check_column("accounts", metric.per, loc + ("per",), problems,
                      numeric=m in ("share", "attribute") and not isinstance(metric.transform, Mapping),
                      timestamp=m == "days_until")
    if metric.target is not None:
        tg = metric.target
        if m not in TARGET_MEASURES or isinstance(metric.transform, Mapping):
            problems.append((loc + ("target",), f"a target needs a numeric value; measure {m}"
                             f"{' with kind: map' if isinstance(metric.transform, Mapping) else ''} has none"
                             f" (targets work with: {', '.join(TARGET_MEASURES)})"))
        _check_column("accounts", tg.column, loc + ("target", "column"), problems, numeric=True)
    t = metric.transform
    tloc = loc + ("transform",)
    if isinstance(t, (Linear, Log)) and t.low == t.high:
        problems.append((tloc, f"low and high must differ (both {t.low})"))
    if isinstance(t, Log) and min(t.low, t.high) < 0:
        problems.append((tloc, "log needs low and high >= 0"))
    col = TABLES[metric.source].column(metric.column or "") if metric.source in TABLES else None
    if m == "latest" and col is not None and col.type not in NUMERIC_TYPES and not isinstance(t, Mapping):
        problems.append((tloc, f"{metric.source}.{metric.column} holds text; use kind: map with values"))
