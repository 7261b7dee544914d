"""Row filters of a health model: column conditions (AND) and alternatives (any_of, OR)."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from pydantic import ConfigDict, Field, model_validator

from healthscore.model.base import Strict

FILTER_OPS = ("eq", "ne", "in", "not_in", "lt", "lte", "gt", "gte", "is_null")


Scalar = str | int | float | bool


class ColumnRef(Strict):
    """Compare against another column of the same row, e.g. {column: due_at}."""

    column: str


AS_OF = "$as_of"  # an operand meaning the as-of date itself, e.g. departed_at: {gte: $as_of}


Operand = Scalar | ColumnRef


class Condition(Strict):
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


class Filter(Strict):
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

