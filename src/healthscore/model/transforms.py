"""Transforms (a metric's value -> a 0..100 score) and the missing-data rule."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from healthscore.model.base import Strict


class Linear(Strict):
    kind: Literal["linear"]
    low: float
    high: float

    @model_validator(mode="after")
    def _span(self):
        if self.high == self.low:  # the scale would divide by zero: every score NaN or 0/100
            raise ValueError(f"low and high must differ (both {self.low:g})")
        return self


class Log(Strict):
    kind: Literal["log"]
    low: float = Field(0.0, ge=0)
    high: float

    @model_validator(mode="after")
    def _span(self):
        if self.high <= self.low:
            raise ValueError(f"high ({self.high:g}) must be above low ({self.low:g})")
        return self


class Band(Strict):
    min: float
    score: float = Field(ge=0, le=100)


class Bands(Strict):
    """Value >= a band's min gets that band's score (the highest matching band wins)."""

    kind: Literal["bands"]
    bands: list[Band] = Field(min_length=1)
    below: float = Field(0.0, ge=0, le=100, description="score below the lowest band")


class Shape(Strict):
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


class Boolean(Strict):
    """A true (non-zero) value scores 100 when higher is better, 0 when lower is better."""

    kind: Literal["boolean"]


class Mapping(Strict):
    """Categorical values (e.g. an assessment's green/yellow/red) to scores."""

    kind: Literal["map"]
    values: dict[str, Annotated[float, Field(ge=0, le=100)]]
    default: float | None = Field(None, ge=0, le=100, description="score of an unlisted value; null = missing")


Transform = Annotated[Linear | Log | Bands | Shape | Boolean | Mapping, Field(discriminator="kind")]


class Missing(Strict):
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

