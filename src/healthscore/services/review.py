"""The review workflow (docs/workflow.md): the weekly run, review tasks and decisions, alerts, overrides,
interventions, the measurement report and the audit log."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from healthscore.errors import InvalidInput

if TYPE_CHECKING:
    from healthscore.services.parts import Parts

TASK_STATUSES = ("open", "accepted", "corrected", "dismissed", "all")
ALERT_STATUSES = ("sent", "digest", "capped")


class ReviewService:
    def __init__(self, parts: Parts):
        self.parts = parts

    def run_weekly(self, as_of: dt.date | None = None, notify: bool = True) -> dict:
        """The weekly review run: score, alerts through the hygiene rules, owner review tasks, notifications."""
        from healthscore.workflow.run import run_weekly

        return run_weekly(self.parts, as_of or self.parts.as_of_default()[0], notify=notify)

    def tasks(self, owner: str | None = None, status: str = "open", account_id: str | None = None) -> list[dict]:
        if status not in TASK_STATUSES:
            raise InvalidInput(f"--status {status!r} is not allowed; use open, accepted, corrected, dismissed or all",
                               field="status")
        return self.parts.store.tasks(queue=owner, status=status, account_id=account_id)

    def task(self, task_id: int) -> dict:
        return self.parts.store.task(task_id)

    def review(self, task_id: int, decision: str, actor: str, *, score: float | None = None, tier: str | None = None,
               reason_code: str | None = None, note: str | None = None, expires: dt.date | None = None) -> dict:
        """An owner's decision on a task: accept; correct (an override with reason code, note and expiry;
        the computed score stays stored); or dismiss as a false positive (with a reason)."""
        wf = self.parts.model.ir.workflow
        task = self.parts.store.task(task_id)
        override = None
        if decision == "correct":
            if score is None and tier is None:
                raise InvalidInput("--correct needs --score N (0..100) or --tier green|yellow|red", field="score")
            if score is not None and not 0 <= score <= 100:
                raise InvalidInput(f"--score {score} is out of range; use 0..100", field="score")
            if tier is not None and tier not in ("green", "yellow", "red"):
                raise InvalidInput(f"--tier {tier!r} is not allowed; use green, yellow or red", field="tier")
            if reason_code not in wf.override_reasons:
                raise InvalidInput(f"--reason-code {reason_code!r} is not allowed; use one of "
                                   f"{', '.join(wf.override_reasons)} (workflow.override_reasons in the model)",
                                   field="reason_code")
            if not note:
                raise InvalidInput("--correct needs --note: say why, for the next reviewer and the audit log",
                                   field="note")
            as_of = dt.date.fromisoformat(task["as_of"])
            latest = as_of + dt.timedelta(days=wf.max_override_days)
            if expires is None or not as_of < expires <= latest:
                raise InvalidInput(f"--correct needs --expires DATE after {as_of} and at most"
                                   f" {wf.max_override_days} days later (by {latest}); an override must end by itself",
                                   field="expires")
            if tier is None:
                from healthscore.workflow.alerts import tiers_for

                snap = self.parts.store.snapshots(task["account_id"], as_of=as_of,
                                                  model_version=task["model_version"], with_evidence=False)
                tier = tiers_for(self.parts.model.ir, snap[0]["segment"] if snap else None).tier(score)
            override = {"score": score, "tier": tier, "reason_code": reason_code, "note": note,
                        "starts_on": as_of, "expires_on": expires}
        elif decision == "dismiss":
            if not note:
                raise InvalidInput("--dismiss needs --reason TEXT: why the alert or change was a false positive",
                                   field="reason")
            reason_code = reason_code or "false_positive"
        elif decision != "accept":
            raise InvalidInput(f"unknown decision {decision!r}; use --accept, --correct or --dismiss", field="decision")
        return self.parts.store.decide_task(task_id, decision, actor, reason_code=reason_code, note=note,
                                            override=override)

    def follow_up(self, task_id: int, actor: str, note: str) -> dict:
        if not note:
            raise InvalidInput("--note is required: what was done (call held, sponsor identified, ...)", field="note")
        return self.parts.store.follow_up(task_id, actor, note)

    def alerts(self, since: dt.date | None = None, owner: str | None = None, status: str | None = None) -> list[dict]:
        if status is not None and status not in ALERT_STATUSES:
            raise InvalidInput(f"--status {status!r} is not allowed; use sent, digest or capped", field="status")
        return self.parts.store.alerts(since=since, owner=owner, status=status)

    def measurement_report(self, horizon_days: int = 90) -> dict:
        from healthscore.workflow.measure import measurement_report

        return measurement_report(self.parts, horizon_days=horizon_days)

    def audit_verify(self) -> dict:
        return self.parts.store.verify_audit()

    def audit_log(self, limit: int | None = None) -> list[dict]:
        return self.parts.store.audit_entries(limit=limit)

    def overrides(self, account_id: str | None = None, active_on: dt.date | None = None) -> list[dict]:
        return self.parts.store.overrides([account_id] if account_id else None, active_on=active_on)

    def intervention_log(self, task_id: int, actor: str, *, play: str | None = None, channel: str | None = None,
                         response: str = "none", note: str | None = None) -> dict:
        """Log an action the owner took on a task (play, channel, attempt, response)."""
        from healthscore.program.plays import log_intervention

        return log_intervention(self.parts, task_id, actor, play=play, channel=channel, response=response, note=note)

    def interventions(self, account_id: str | None = None) -> list[dict]:
        from healthscore.program.plays import interventions

        return interventions(self.parts, account_id)

