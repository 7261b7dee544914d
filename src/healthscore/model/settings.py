"""Health model settings: tiers, segments, scoring, history, rules, outcome, calibration, calendar, and the
program sections (pipeline gates, hierarchy, pilot, drift, interventions)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import ConfigDict, Field, field_validator, model_validator

from healthscore.contract import TABLES
from healthscore.model.base import Strict
from healthscore.model.filters import Condition, Filter
from healthscore.model.transforms import Missing
from healthscore.model.windows import MAX_DAYS, Duration, check_window, duration_days

# Tiers from worst to best: a lower rank is a worse tier (a drop, a stricter colour).
TIER_RANK = {"red": 0, "yellow": 1, "green": 2}


class Tiers(Strict):
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


class Segment(Strict):
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


class OnboardingModel(Strict):
    """Weights and tiers for young accounts: from scoring.onboarding_days until `until_days` old.

    Early on, adoption and milestones say more than renewal signals that do not exist yet.
    `weights` keys are component or component.metric names, like a segment's.
    """

    until_days: int = Field(90, gt=0, le=MAX_DAYS,
                            description="account age at which the base model (or segment) takes over")
    weights: dict[str, float] = Field(default_factory=dict)
    tiers: Tiers | None = None


class Scoring(Strict):
    min_coverage: float = Field(0.5, ge=0, le=1, description="below it the status is insufficient_data")
    onboarding_days: int = Field(14, ge=0, le=MAX_DAYS, description="accounts younger than this are onboarding")
    onboarding_score: float = Field(50.0, ge=0, le=100, description="the neutral score shown while onboarding")
    confidence_full_after_days: int = Field(90, ge=1, le=MAX_DAYS,
                                            description="account age at which confidence stops growing")
    pause_min_weight: float = Field(0.1, ge=0, le=1, description=(
        "a stale input or a conflict rule pauses the snapshot only when the metrics behind it carry at least this "
        "share of the score's weight; below it the snapshot is scored and the reason kept as a risk note"))


class MaterialChange(Strict):
    points: float = Field(10.0, gt=0, description="a score move of at least this many points is material")
    tier_change: bool = Field(True, description="any tier change is material")


class History(Strict):
    smoothing_days: int = Field(30, ge=0, le=MAX_DAYS,
                                description="rolling average of the score over this many days; 0: off")
    hysteresis: float = Field(0.0, ge=0, le=20, description="points past a tier boundary before the tier changes")
    material_change: MaterialChange = Field(default_factory=MaterialChange)


class RuleCondition(Strict):
    """One side of a rule: a metric's raw value or its 0..100 score meets a condition."""

    metric: str
    value: Condition | None = None
    score: Condition | None = None

    @model_validator(mode="after")
    def _one(self):
        if (self.value is None) == (self.score is None):
            raise ValueError("give exactly one of value: {op: x} or score: {op: x}")
        return self


class Rule(Strict):
    """Inputs telling opposite stories (pause: true) or a risk pattern to flag and route to review."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    when: list[RuleCondition] = Field(min_length=1, description="all conditions must hold")
    pause: bool = Field(False, description="pause the snapshot: no score, no tier change")
    flags: list[str] = Field(default_factory=list)
    review: bool = Field(False, description="route the account to owner review")
    note: str


OUTCOME_KINDS = ("renewed", "churned", "contracted", "expanded")


def _bad_outcomes() -> list[Literal["renewed", "churned", "contracted", "expanded"]]:
    return ["churned", "contracted"]


class Outcome(Strict):
    """What the score should predict: an outcome of these kinds within `horizon` after the as-of date.

    An account whose horizon is not over at the end of the data is censored (neither churned nor
    healthy) in backtests and calibration.
    """

    label: list[Literal["renewed", "churned", "contracted", "expanded"]] = Field(
        default_factory=_bad_outcomes, min_length=1,
        description="outcomes.kind values that count as the bad outcome")
    horizon: str = Field("90d", description="how long after the as-of date an outcome counts, e.g. 90d or 13w")

    @field_validator("horizon")
    @classmethod
    def _horizon(cls, v: str):
        if v == "all" or check_window(v) is None:
            raise ValueError(f"horizon {v!r} is not a window; use e.g. 90d or 13w")
        return v

    @property
    def horizon_days(self) -> int:
        return duration_days(self.horizon)


class Calibration(Strict):
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
    shape_bins: int = Field(32, ge=2, le=50, description="bins per metric of a learned shape (calibrate --shapes);"
                            " the fit penalises steps between neighbours, so fine bins stay smooth")
    shape_l2: float = Field(10.0, gt=0, description="L2 penalty of the learned shapes' bin contributions")
    shape_select: Literal["cv", "fixed"] = Field(
        "cv", description="cv: choose the bins and the penalty of learned shapes by cross-validation inside the"
                          " training rows (shape_bins_grid x shape_l2_grid); fixed: use shape_bins and shape_l2")
    shape_bins_grid: list[Annotated[int, Field(ge=2, le=50)]] = Field(
        default_factory=lambda: [8, 16, 32], min_length=1, description="bin counts shape_select: cv tries")
    shape_l2_grid: list[Annotated[float, Field(gt=0)]] = Field(
        default_factory=lambda: [3.0, 10.0, 30.0], min_length=1, description="penalties shape_select: cv tries")
    shape_cv_folds: int = Field(3, ge=2, le=10, description="inner folds (grouped by account) of shape_select: cv")
    shape_interactions: int = Field(3, ge=0, le=10, description="at most this many pairwise interaction tables"
                                    " in learned shapes (0: none); a pair is kept only if it fits better")
    shape_monotone: Literal["direction", "none"] = Field(
        "direction", description="learned shapes follow each metric's direction unless the metric says"
                                 " non_monotone: true (direction), or are free (none)")

    @model_validator(mode="after")
    def _shares(self):
        if self.red_share + self.yellow_share >= 1:
            raise ValueError(f"red_share + yellow_share must be below 1 (got {self.red_share + self.yellow_share:g})")
        return self


class Holiday(Strict):
    """A holiday window, both days included: rows with a time column inside it can be ignored."""

    name: str
    from_: dt.date = Field(alias="from")
    to: dt.date

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, allow_inf_nan=False)


class Calendar(Strict):
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


class Defaults(Strict):
    missing: Missing | None = None


class PipelineGate(Strict):
    """A source whose portfolio-wide row count collapses at once is a pipeline break, not a churn wave.

    At each as-of date the source's rows in the last `window` are compared with the rate of the
    `baseline` before it; a drop of at least `max_portfolio_drop`, with at least `min_accounts`
    accounts active in the baseline, pauses the snapshots of those accounts.
    """

    max_portfolio_drop: float = Field(0.8, gt=0, le=1, description="share of the expected rows missing")
    min_accounts: int = Field(50, ge=1, description="active accounts needed before the gate can fire")
    window: Duration = Field("1d", description="the recent window compared")
    baseline: Duration = Field("28d", description="the period before it that sets the expected rate")


class Pipeline(Strict):
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


class Hierarchy(Strict):
    rollup: Literal["arr_weighted", "minimum"] = "arr_weighted"


class Pilot(Strict):
    segment: str | None = Field(None, description="accounts.segment of the pilot accounts (all when absent)")
    start: dt.date
    duration_days: int = Field(60, ge=1, le=MAX_DAYS)
    threshold: float = Field(0.8, gt=0, le=1, description="validation rate the pilot must reach")
    sample: int = Field(20, ge=1, description="material changes in the validation sample")


class Drift(Strict):
    psi_threshold: float = Field(0.25, gt=0, description="PSI at or above which recalibration is suggested")
    reference_from: dt.date | None = None
    reference_to: dt.date | None = None
    every_days: int = Field(30, ge=1, le=MAX_DAYS)


class Interventions(Strict):
    no_response_attempts: int = Field(3, ge=1, description="attempts without response before a channel switch")

