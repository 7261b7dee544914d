"""The review workflow of a health model (docs/workflow.md): alert rules and their hygiene, routing, triage,
playbooks."""

from __future__ import annotations

from functools import cached_property
from typing import Literal

from pydantic import Field, model_validator

from healthscore.model.base import Strict
from healthscore.model.settings import RuleCondition
from healthscore.model.windows import MAX_DAYS, Duration


class ScoreDrop(Strict):
    """Reads the raw score (the smoothed one hides a sudden drop for weeks)."""

    points: float = Field(gt=0, description="fire when the raw score fell at least this much ...")
    days: int = Field(7, ge=1, le=MAX_DAYS, description="... within this many days")
    persist: int = Field(2, ge=1, le=7, description=(
        "consecutive daily scores (today's and the days before) that must each be `points` below the score "
        "`days` before them: a one-day blip in the data does not fire"))


class AlertRule(Strict):
    """One alert rule; exactly one of score_drop, tier_to, when, renewal_within, stale_after."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    note: str
    severity: Literal["high", "medium", "low"] = "medium"
    score_drop: ScoreDrop | None = None
    tier_to: Literal["yellow", "red"] | None = None
    when: list[RuleCondition] = Field(default_factory=list, description="metric conditions, all must hold")
    renewal_within: Duration | None = None
    stale_after: Duration | None = Field(None, description="no trusted (scored) snapshot for this long")
    min_rows: int = Field(0, ge=0, description=(
        "a `when` rule fires only when each of its metrics rests on at least this many rows (a ratio such as "
        "tickets +50% on 0 -> 1 ticket is noise)"))

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


class AlertHygiene(Strict):
    cooldown_days: int = Field(7, ge=0, le=MAX_DAYS,
                               description="at most one alert per account and rule in this many days")
    hysteresis_points: float = Field(3.0, ge=0, le=30,
                                     description="a score or tier alert re-arms only this far past its threshold")
    owner_daily_budget: int = Field(5, ge=1, description="alerts sent one by one per owner and day; the rest: digest")
    max_share_per_rule: float = Field(0.1, gt=0, le=1,
                                      description="a rule fires on at most this share of accounts per run")


class Routing(Strict):
    renewal_within: Duration = Field("90d", description="accounts renewing this soon always go to human review")
    high_value_arr: float | None = Field(250_000.0, ge=0, description="accounts with ARR at or above: always reviewed")
    fallback_queue: str = Field("cs-unassigned", description="who gets the tasks of accounts without an owner")


def _churn_probability() -> dict[Literal["red", "yellow", "green"], float]:
    return {"red": 0.30, "yellow": 0.10, "green": 0.02}


def _task_due_days() -> dict[Literal["red", "yellow", "green", "default"], int]:
    return {"red": 3, "yellow": 7, "default": 10}


class Triage(Strict):
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
        default_factory=_churn_probability,
        description="prior probability of churn or contraction within the outcome horizon, by the score's tier")

    def capacity_of(self, owner: str) -> int:
        if owner in self.capacity:
            return self.capacity[owner]
        for team, members in self.teams.items():
            if owner in members and team in self.capacity:
                return self.capacity[team]
        return self.weekly_capacity


class PlaybookMatch(Strict):
    """Empty lists match anything; a playbook matching on more keys wins over a general one."""

    tier: list[Literal["green", "yellow", "red"]] = Field(default_factory=list)
    driver: list[str] = Field(default_factory=list, description="primary driver metrics")
    segment: list[str] = Field(default_factory=list)
    alert: list[str] = Field(default_factory=list, description="alert rule names")


class Playbook(Strict):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    when: PlaybookMatch = Field(default_factory=PlaybookMatch)
    action: str = Field(description="the drafted next action, for the owner to decide on")
    assignee: str = Field("owner", description="who acts: owner, support_manager, billing_specialist, ...")
    channel: str = Field("call", description="call, email, meeting, internal ...")


class Workflow(Strict):
    material_change_tasks: bool = Field(True, description="a review task for every material change")
    alerts: list[AlertRule] = Field(default_factory=list)
    hygiene: AlertHygiene = Field(default_factory=AlertHygiene)
    routing: Routing = Field(default_factory=Routing)
    task_due_days: dict[Literal["red", "yellow", "green", "default"], int] = Field(
        default_factory=_task_due_days)
    override_reasons: list[str] = Field(
        default_factory=lambda: ["data_error", "known_issue_resolved", "relationship_context", "commercial_context",
                                 "other"], min_length=1)
    max_override_days: int = Field(90, ge=1, le=MAX_DAYS,
                                   description="an override expires at most this long after it is made")
    playbooks: list[Playbook] = Field(default_factory=list)
    triage: Triage = Field(default_factory=Triage, description="weekly capacity per owner and task ranking")
    default_action: str = "Review the evidence with the account team and decide the next step."
