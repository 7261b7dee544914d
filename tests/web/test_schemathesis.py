"""Property-based API fuzzing from the OpenAPI spec (schemathesis): no input gives a server error.

Bounded and seeded: a few examples per operation (about 250 in all), authenticated with an admin token
(read, write, events:write) so the endpoints behind the auth checks are reached too.
"""

from __future__ import annotations

import pytest

schemathesis = pytest.importorskip("schemathesis", reason="schemathesis is not installed (pip install -e '.[dev]')")
from hypothesis import HealthCheck, Phase, given, seed, settings  # noqa: E402

EXAMPLES_PER_OPERATION = 12
# Slow on purpose and covered by test_api.py: a backtest replays the model at many dates.
EXCLUDED = ("/api/v1/backtests",)


def test_no_input_gives_a_server_error(app, project):
    secret = project.token_create("admin", "fuzz", ["read", "write", "events:write"], "admin")[1]
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    operations = [op.ok() for op in schema.get_all_operations()]
    operations = [op for op in operations if op.path not in EXCLUDED]
    assert len(operations) > 15
    failures: list[str] = []
    examples = 0
    for operation in operations:

        @seed(20261201)
        @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, derandomize=True, database=None,
                  phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def run(case) -> None:
            nonlocal examples
            examples += 1
            response = case.call(headers={"Authorization": f"Bearer {secret}"})
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path} {case.query} -> {response.status_code}:"
                                f" {response.text[:300]}")
            else:
                ctype = response.headers.get("content-type") or [""]
                ctype = ctype[0] if isinstance(ctype, list) else ctype
                body = response.json() if ctype.startswith("application/json") else None
                if response.status_code >= 400:
                    assert isinstance(body, dict) and body.get("error"), (case.method, case.path, response.text)

        run()
    assert examples >= 100
    assert not failures, "\n".join(failures[:10])
