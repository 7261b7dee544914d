"""The read models moved to services/read_models.py; this module keeps what the CLI still imports."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from healthscore.project import Project


def live_of(p: Project, account_id: str) -> dict[str, Any] | None:
    """The account's live snapshot (real-time events, `healthscore stream`), marked live with its time."""
    return p.read_models.live_of(account_id)
