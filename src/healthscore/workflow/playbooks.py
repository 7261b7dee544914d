"""Recommended next actions: a playbook library keyed by tier, primary driver, segment and alert.

The action is a *draft for the owner*. healthscore never sends anything to a customer and never
changes an account's plan, contract or forecast: the owner decides what happens.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from healthscore.model.ir import HealthModel, Playbook

DRAFT_NOTICE = "Draft for the account owner: nothing has been sent to the customer."


def match_playbook(model: HealthModel, tier: str | None, driver: str | None, segment: str | None,
                   alerts: list[str]) -> Playbook | None:
    """The most specific playbook whose conditions all hold (more matched keys win; then file order).

    A playbook keyed on an alert outranks one keyed only on the driver: alerts are the fresher news.
    """
    best, best_rank = None, None
    for i, book in enumerate(model.workflow.playbooks):
        w = book.when
        checks: list[tuple[Sequence[str], str | None]] = [(w.tier, tier), (w.driver, driver), (w.segment, segment)]
        if any(values and value not in values for values, value in checks):
            continue
        if w.alert and not set(w.alert) & set(alerts):
            continue
        rank = (bool(w.alert), sum(bool(values) for values, _ in checks), -i)
        if best_rank is None or rank > best_rank:
            best, best_rank = book, rank
    return best


def draft_next_action(model: HealthModel, snap: dict, alerts: list[str], owner: str | None) -> dict[str, Any]:
    """The drafted next action attached to a review task: which play, who acts, what to say, why."""
    primary = snap.get("primary_driver")
    ev = next((e for e in snap.get("evidence") or [] if e.get("metric") == primary), None)
    if ev is not None and ev.get("value") is None:
        primary = None  # a metric without data (imputed) never chooses the action
    book = match_playbook(model, snap.get("tier"), primary, snap.get("segment"), alerts)
    driver = (primary or "").replace("_", " ")
    why = [f"main driver: {driver}"] if driver else []
    why += [f"alert: {a.replace('_', ' ')}" for a in alerts]
    return {
        "playbook": book.name if book else None,
        "action": book.action if book else model.workflow.default_action,
        "assignee": (owner or "owner") if not book or book.assignee == "owner" else book.assignee,
        "channel": book.channel if book else "internal",
        "why": why,
        "draft": True,
        "notice": DRAFT_NOTICE,
    }
