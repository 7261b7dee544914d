"""Learned pairwise interactions: a small table over two metrics' bins that adds its own points.

Fitted by `healthscore calibrate --shapes` (calibrate/shapes.py) only where a pair's table predicts
better than the two shapes alone, and kept to a few. Each interaction scores like a component of one
metric (its table's cell, 0..100, times its weight), so it is its own evidence row and the evidence
still adds up to the score.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, model_validator

from healthscore.model.base import Strict

Score = Annotated[float, Field(ge=0, le=100)]


class Interaction(Strict):
    """Both metrics' values pick a cell: the row is the first metric's bin (the highest edge at or below its
    value; below the first edge is the first bin), the column the second's. Either value missing scores
    `missing_score`."""

    name: str
    metrics: tuple[str, str]
    edges: tuple[list[float], list[float]] = Field(description="bin starts of each metric, increasing")
    scores: list[list[Score]] = Field(min_length=1, description="one row per bin of the first metric, one column"
                                      " per bin of the second")
    missing_score: Score = 50.0
    weight: float = Field(ge=0, description="on the scale of the components' weights")
    fitted: str | None = Field(None, description="provenance: what it was fitted on")

    @model_validator(mode="after")
    def _table(self):
        for name, edges in zip(self.metrics, self.edges):
            if not edges or edges != sorted(edges) or len(set(edges)) != len(edges):
                raise ValueError(f"{name}: edges must be increasing and distinct; got {edges}")
        if self.metrics[0] == self.metrics[1]:
            raise ValueError(f"an interaction needs two different metrics; got {self.metrics[0]} twice")
        rows, cols = len(self.edges[0]), len(self.edges[1])
        if len(self.scores) != rows or any(len(r) != cols for r in self.scores):
            raise ValueError(f"scores must be a {rows} x {cols} table (bins of {self.metrics[0]} x bins of"
                             f" {self.metrics[1]})")
        return self
