"""Typed results of the main operations. Each serialises (`as_dict`) to exactly the JSON the operation
has always returned, keys in the same order; the sections that are still evolving stay open values."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _Result(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True, protected_namespaces=())

    def as_dict(self) -> dict[str, Any]:
        return self.model_dump(by_alias=True)


class ModelRef(BaseModel):
    name: str
    version: str
    path: str


class OutcomeRef(BaseModel):
    label: list[str]
    horizon: str


class BacktestReport(_Result):
    """The replay of a model over past as-of dates against outcomes. After these fields come, in order, the
    ranking measures of calibrate/backtest.py (backtest_report), then `leaks`, `held_out` and `metric_study`."""

    model: ModelRef
    outcome: OutcomeRef
    data_end: str
    date_from: str = Field(alias="from")
    date_to: str = Field(alias="to")
    every_days: int
    one_date: str | None
    bootstrap: dict[str, Any]


class CalibrationProposal(_Result):
    """Weights and tier thresholds fitted from outcomes, the held-out comparison and the decision."""

    model: ModelRef
    outcome: OutcomeRef
    data_end: str
    one_date: str | None
    as_of_dates: list[str]
    labelled: int
    events: int
    survivors: int
    method: str
    leaks: Any
    allow_leak: Any
    refused_leaks: Any
    flipped: Any
    timing: Any
    weights: Any
    tiers: dict[str, Any]
    segments: Any
    comparison: Any
    held_out: Any
    accepted: Any
    decision: str
    impact: Any
    metric_study: Any
    diff: str
    proposed_yaml: str | None
    written_to: str | None
    report: str | None
