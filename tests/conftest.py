"""Shared fixtures: engines to run the same model on (DuckDB always, PostgreSQL when configured)."""

from __future__ import annotations

import os
import uuid

import pytest

PG_URL = os.environ.get("HEALTHSCORE_TEST_PG_URL")
PG_SKIP_REASON = "HEALTHSCORE_TEST_PG_URL not set: PostgreSQL tests skipped"


@pytest.fixture
def pg_database():
    """A fresh, empty PostgreSQL database for one test; yields its URL and drops it afterwards."""
    if not PG_URL:
        pytest.skip(PG_SKIP_REASON)
    import psycopg

    name = f"hs_test_{uuid.uuid4().hex[:10]}"
    admin_url = PG_URL.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = admin_url.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["duckdb", "postgres"])
def engine(request, tmp_path):
    """An empty Ibis backend: a DuckDB file, or a fresh PostgreSQL database."""
    import ibis

    if request.param == "duckdb":
        con = ibis.duckdb.connect(str(tmp_path / "engine.duckdb"))
        yield con
        con.disconnect()
    else:
        url = request.getfixturevalue("pg_database")
        from healthscore.engine.backend import connect_url

        con = connect_url(url)
        yield con
        con.disconnect()


# Property tests stay randomised everywhere, CI included (a derandomised profile would replay the same examples
# forever). One seed per session, shared by the xdist workers through the environment and printed in the header,
# so a failure replays with `pytest --hypothesis-seed=N`.
from hypothesis import settings as _hypothesis_settings  # noqa: E402

_hypothesis_settings.register_profile("healthscore", deadline=None)  # a loaded CI machine is no reason to fail
_hypothesis_settings.load_profile("healthscore")
SEED_ENV = "HEALTHSCORE_HYPOTHESIS_SEED"


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config):
    if config.getoption("hypothesis_seed", None) is None:
        import random

        seed = os.environ.setdefault(SEED_ENV, str(random.SystemRandom().randrange(2**32)))
        config.option.hypothesis_seed = seed  # read by hypothesis's own pytest_configure, which runs after this


def pytest_report_header(config):
    return f"hypothesis seed {config.getoption('hypothesis_seed')} (replay: pytest --hypothesis-seed=<seed>)"


BROWSER_MODULES = {"test_browser.py", "test_xss_chain.py"}  # drive Chromium through Playwright


def pytest_collection_modifyitems(config, items):
    """Markers a test earns by what it uses, so `make test-fast` can leave the heavy lanes out: `postgres` for a
    test on a PostgreSQL database (the pg_database fixture, or a 'postgres' parameter), `browser` for the
    Chromium tests."""
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        if "pg_database" in item.fixturenames or "postgres" in [str(v) for v in params.values()]:
            item.add_marker(pytest.mark.postgres)
        if item.path.name in BROWSER_MODULES:
            item.add_marker(pytest.mark.browser)
