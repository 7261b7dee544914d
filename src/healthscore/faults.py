"""A test hook for crash safety: ``HEALTHSCORE_FAULT_AFTER=<step>`` ends the process right after that
commit point, as a kill would (``os._exit``: no ``finally``, no cleanup, no commit of an open
transaction). Steps: ``run_weekly:scores``, ``run_weekly:alerts``, ``run_weekly:tasks``,
``run_weekly:links``, ``ingest:<table>``, ``ingest:spooled``, ``backfill:chunk``, ``snapshots:store``,
``history:published``, ``history:index``. Tests only (tests/security/test_crash.py):
the variable is never set in production, and an unset variable costs one dictionary lookup.
"""

from __future__ import annotations

import os

ENV = "HEALTHSCORE_FAULT_AFTER"
EXIT_CODE = 86


def fault_point(step: str) -> None:
    """End the process here when the test hook names this step."""
    if os.environ.get(ENV) == step:
        os._exit(EXIT_CODE)
