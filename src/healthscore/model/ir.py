"""The health model IR: what a model YAML file compiles into.

Pydantic models with extra="forbid" so a misspelt key is an error, not a silent default. The sections live
in their own modules (filters, transforms, metrics, settings, workflow; the measures in model/measures.py);
this module holds the model itself and its cross-field checks (model/checks.py), so `healthscore validate`
reports every problem with its key path. Imports no engine.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator

from healthscore.contract import TABLES
from healthscore.model.base import Strict
from healthscore.model.checks import check_filter, check_metric, check_rule_condition, dupes
from healthscore.model.filters import AS_OF, ColumnRef, Condition, Filter
from healthscore.model.hybrid import Hybrid, hybrid_problems
from healthscore.model.interactions import Interaction
from healthscore.model.measures import ACCOUNT_MEASURES
from healthscore.model.metrics import Aggregate, Metric
from healthscore.model.settings import (
    ONBOARDING_SEGMENT,
    Calendar,
    Calibration,
    Defaults,
    Drift,
    Hierarchy,
    History,
    Interventions,
    OnboardingModel,
    Outcome,
    Pilot,
    Pipeline,
    PipelineGate,
    Rule,
    Scoring,
    Segment,
    Tiers,
)
from healthscore.model.transforms import Bands, Boolean, Linear, Log, Mapping, Missing, Shape
from healthscore.model.windows import check_window, window_days
from healthscore.model.workflow import AlertRule, Playbook, Triage, Workflow

# Names other modules and tests import from here.
__all__ = ["ACCOUNT_MEASURES", "AS_OF", "ONBOARDING_SEGMENT", "Aggregate", "AlertRule", "Bands", "Boolean", "Calendar",
           "Calibration", "ColumnRef", "Component", "Condition", "Filter", "HealthModel", "Linear", "Log", "Mapping",
           "Metric", "Outcome", "PipelineGate", "Playbook", "Shape", "Tiers", "Triage", "window_days"]


class Component(Strict):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    description: str | None = None
    weight: float = Field(ge=0)  # 0: shown, no points (at least one component and one metric in each weigh > 0)
    metrics: list[Metric] = Field(min_length=1)
    # sub-score grouping (e.g. product, relationship): reported as snapshot sub_scores; the overall
    # score and its evidence are unchanged. Optional, so models without it keep their content hash.
    motion: str | None = Field(None, pattern=r"^[a-z][a-z0-9_]*$")


class HealthModel(Strict):
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
    # Learned pairwise tables (calibrate --shapes); empty keeps the content hash.
    interactions: list[Interaction] = Field(default_factory=list, description="learned two-metric tables")
    # The rubric (components) plus a learned risk component with its own score, evidence and tiers
    # (model/hybrid.py, calibrate --shapes --hybrid). Optional: absent keeps the content hash.
    hybrid: Hybrid | None = Field(None, description="a learned risk component beside the rubric, and the tier rule")

    @field_validator("freshness")
    @classmethod
    def _fresh(cls, v: dict[str, str]):
        for table, window in v.items():
            if table not in TABLES or TABLES[table].time_column is None:
                allowed = [t for t, spec in TABLES.items() if spec.time_column]
                raise ValueError(f"{table!r} is not an event table; allowed: {', '.join(allowed)}")
            if window == "all" or check_window(window) is None:
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
        dupes(comp_names, ("components",), "component", problems)
        dupes([m.name for _, m in self.metrics], ("components",), "metric", problems)
        for ci, comp in enumerate(self.components):
            for mi, metric in enumerate(comp.metrics):
                loc: tuple[str | int, ...] = ("components", ci, "metrics", mi)
                if metric.missing is None and self.defaults.missing is None:
                    problems.append((loc + ("missing",), f"metric {metric.name} has no missing-data rule; set missing:"
                                     " exclude|neutral|worst|best|<score>, or defaults.missing for the whole model"))
                check_metric(metric, loc, problems)
        self._check_positive({}, (), problems)
        for si, seg in enumerate(self.segments):
            loc = ("segments", si)
            check_filter(seg.when, "accounts", loc + ("when",), problems)
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
                    problems.append((loc, "no holidays to exclude: list them under calendar:"
                                     " {holidays: [{name, from, to}]}"))
                elif metric.exclude_holidays and metric.measure in ACCOUNT_MEASURES:
                    problems.append((loc, f"measure {metric.measure} reads accounts, which have no rows to exclude"))
        metric_names = {m.name for _, m in self.metrics}
        by_name = {m.name: m for _, m in self.metrics}
        for ri, rule in enumerate(self.rules):
            for ci, cond in enumerate(rule.when):
                if cond.metric not in metric_names:
                    problems.append((("rules", ri, "when", ci, "metric"),
                                     f"no metric {cond.metric!r}; metrics: {', '.join(sorted(metric_names))}"))
                check_rule_condition(cond, by_name, ("rules", ri, "when", ci), problems)
        dupes([r.name for r in self.rules], ("rules",), "rule", problems)
        wf = self.workflow
        for ai, alert in enumerate(wf.alerts):
            for ci, cond in enumerate(alert.when):
                if cond.metric not in metric_names:
                    problems.append((("workflow", "alerts", ai, "when", ci, "metric"),
                                     f"no metric {cond.metric!r}; metrics: {', '.join(sorted(metric_names))}"))
                check_rule_condition(cond, by_name, ("workflow", "alerts", ai, "when", ci), problems)
        dupes([a.name for a in wf.alerts], ("workflow", "alerts"), "alert", problems)
        dupes([p.name for p in wf.playbooks], ("workflow", "playbooks"), "playbook", problems)
        alert_names = {a.name for a in wf.alerts}
        seg_names = {s.name for s in self.segments}
        for pi, book in enumerate(wf.playbooks):
            loc = ("workflow", "playbooks", pi, "when")
            for d in book.when.driver:
                if d not in metric_names:
                    problems.append((loc + ("driver",), f"no metric {d!r}; metrics: {', '.join(sorted(metric_names))}"))
            for a in book.when.alert:
                if a not in alert_names:
                    problems.append((loc + ("alert",),
                                     f"no alert rule {a!r}; alerts: {', '.join(sorted(alert_names))}"))
            for sg in book.when.segment:
                if sg not in seg_names:
                    problems.append((loc + ("segment",),
                                     f"no segment {sg!r}; segments: {', '.join(sorted(seg_names))}"))
        dupes([x.name for x in self.interactions] + [c.name for c in self.components], ("interactions",),
              "interaction or component", problems)
        for xi, x in enumerate(self.interactions):
            for name in x.metrics:
                if name not in metric_names:
                    problems.append((("interactions", xi, "metrics"),
                                     f"no metric {name!r}; metrics: {', '.join(sorted(metric_names))}"))
        if self.hybrid is not None:
            problems += hybrid_problems(self.hybrid, {m.name: m.transform.kind for _, m in self.metrics},
                                        comp_names + [x.name for x in self.interactions])
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

