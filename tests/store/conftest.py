"""Store fixtures: every store test runs on SQLite and, when HEALTHSCORE_TEST_PG_URL is set, on PostgreSQL."""

from __future__ import annotations

import os
import uuid

import pytest
import sqlalchemy as sa

from healthscore.store.store import Store, normalise_url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def url(request, tmp_path):
    """A database URL with no store in it yet; PostgreSQL gets a fresh schema per test."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
        return
    base = os.environ.get("HEALTHSCORE_TEST_PG_URL")
    if not base:
        pytest.skip("HEALTHSCORE_TEST_PG_URL not set: PostgreSQL store tests skipped")
    schema = f"hs_store_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(normalise_url(base))
    with admin.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    try:
        yield sa.make_url(base).update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
            hide_password=False
        )
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


@pytest.fixture
def store(url, tmp_path):
    # a PostgreSQL store has no default history directory (a SQLite file's is beside it)
    with Store(url, history_dir=tmp_path / "history") as s:
        yield s
