"""Hybrid models: the owner's rubric (the components) plus a learned risk component beside it.

The rubric scores as always: its evidence adds up to the snapshot's score. The learned component is a set
of learned shapes (and pairwise tables) over the rubric's own metrics, fitted from outcomes by
`healthscore calibrate --shapes --hybrid`; it has its own 0..100 score on the same scale (0 the riskiest,
100 the healthiest), its own tiers and its own evidence rows (source `learned`, named
`<learned name>.<metric>`), whose points add up to the learned score. `tier_rule` says, explicitly, which
tier the snapshot takes: the rubric's, the learned component's, or the worse of the two.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from healthscore.model.base import Strict
from healthscore.model.interactions import Interaction
from healthscore.model.settings import Tiers
from healthscore.model.transforms import Mapping, Shape

LearnedTransform = Annotated[Shape | Mapping, Field(discriminator="kind")]
TIER_RULES = ("rubric", "learned", "both")


class LearnedTerm(Strict):
    """One metric of the rubric, scored again by its learned shape (numeric) or map (categories)."""

    metric: str = Field(description="a metric of the rubric (components[].metrics[].name)")
    transform: LearnedTransform
    weight: float = Field(gt=0, description="the log-odds range the shape spans (calibrate sets it)")
    missing: float = Field(50.0, ge=0, le=100, description="score when the metric has no value")


class Learned(Strict):
    name: str = Field("learned_risk", pattern=r"^[a-z][a-z0-9_]*$",
                      description="the learned component's name in snapshots and evidence")
    description: str | None = None
    tiers: Tiers | None = Field(None, description="tiers of the learned score (needed unless tier_rule: rubric)")
    metrics: list[LearnedTerm] = Field(min_length=1)
    interactions: list[Interaction] = Field(default_factory=list)
    fitted: str | None = Field(None, description="provenance: what it was fitted on")


class Hybrid(Strict):
    tier_rule: Literal["rubric", "learned", "both"] = Field(
        description="the snapshot's tier: the rubric's, the learned component's, or both (the worse of the two)")
    learned: Learned


def hybrid_problems(hybrid: Hybrid, metrics: dict[str, str], taken: list[str]) -> list[tuple[tuple, str]]:
    """Cross-field problems of a hybrid block. metrics: the rubric's metric name -> its transform kind;
    taken: the component and interaction names the learned component must not reuse."""
    problems: list[tuple[tuple, str]] = []
    learned = hybrid.learned
    loc: tuple = ("hybrid", "learned")
    if hybrid.tier_rule != "rubric" and learned.tiers is None:
        problems.append((loc + ("tiers",), f"tier_rule {hybrid.tier_rule} takes the learned component's tier: give"
                         " learned.tiers {green: .., yellow: ..} (calibrate --hybrid cuts them by rank)"))
    if learned.name in taken:
        problems.append((loc + ("name",), f"{learned.name!r} is already a component or interaction name; the"
                         " learned component needs its own (e.g. learned_risk)"))
    names = ", ".join(sorted(metrics))
    seen: set[str] = set()
    for ti, term in enumerate(learned.metrics):
        tloc = loc + ("metrics", ti, "metric")
        if term.metric not in metrics:
            problems.append((tloc, f"no metric {term.metric!r} in the rubric; metrics: {names}"))
        elif (term.transform.kind == "map") != (metrics[term.metric] == "map"):
            want = "map (the metric is categorical)" if metrics[term.metric] == "map" else "shape (a numeric metric)"
            problems.append((loc + ("metrics", ti, "transform", "kind"), f"metric {term.metric}: a learned"
                             f" {term.transform.kind} does not fit; use kind: {want}"))
        if term.metric in seen:
            problems.append((tloc, f"metric {term.metric!r} is learned twice; one term per metric"))
        seen.add(term.metric)
    xnames = [x.name for x in learned.interactions]
    for n in sorted({n for n in xnames if xnames.count(n) > 1}):
        problems.append((loc + ("interactions",), f"interaction name {n!r} is used more than once"))
    for xi, x in enumerate(learned.interactions):
        for name in x.metrics:
            if name not in metrics:
                problems.append((loc + ("interactions", xi, "metrics"), f"no metric {name!r} in the rubric;"
                                 f" metrics: {names}"))
            elif metrics[name] == "map":
                problems.append((loc + ("interactions", xi, "metrics"), f"metric {name} is categorical; an"
                                 " interaction pairs numeric metrics"))
    return problems
