"""The base of every health model section: unknown keys are errors, numbers finite and bounded."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator

# Numbers in a model must be finite (`.inf`/`.nan` are refused by pydantic, allow_inf_nan=False) and
# at most this large: nothing in a health model needs more, and the engine's arithmetic overflows.
MAX_NUMBER = 1e15
MAX_INT = 10**9

def check_numbers(v: Any) -> Any:
    """Every number of a field (also inside lists and mappings) within MAX_NUMBER / MAX_INT."""
    if isinstance(v, bool) or v is None:
        return v
    if isinstance(v, int) and abs(v) > MAX_INT:
        raise ValueError(f"{v} is too large; at most {MAX_INT:,} in size")
    if isinstance(v, float) and not (abs(v) <= MAX_NUMBER):
        raise ValueError(f"{v!r} is out of range; numbers must be finite and at most {MAX_NUMBER:g} in size")
    if isinstance(v, (list, tuple)):
        for x in v:
            check_numbers(x)
    elif isinstance(v, dict):
        for x in v.values():
            check_numbers(x)
    return v

class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    @field_validator("*", mode="after")
    @classmethod
    def _bounded(cls, v: Any) -> Any:
        return check_numbers(v)

