"""Secrets stay secret: no command prints a database password (the store's or a source's), and the store
and engine files, keys and credentials are readable by their owner only."""

from __future__ import annotations

import stat

import pytest

from healthscore.scaffold import init_workspace
from tests.security.conftest import run_cli

PASSWORD = "s3cret-Pa55word"


@pytest.mark.slow
def test_validate_does_not_print_the_stores_password(ws):
    cfg = ws / "healthscore.yaml"
    cfg.write_text(cfg.read_text() + f"store: postgresql://postgres:{PASSWORD}@127.0.0.1:1/nowhere\n")
    for args in (("validate",), ("validate", "--json"), ("score",), ("audit", "verify")):
        proc = run_cli(ws, *args)
        assert proc.returncode != 0 and "Traceback" not in proc.stderr, proc.stderr
        assert PASSWORD not in proc.stdout + proc.stderr, (args, proc.stdout, proc.stderr)
        assert "postgres:***@127.0.0.1:1" in proc.stderr, proc.stderr


def test_validate_shows_the_store_url_masked(ws):
    from healthscore.project import Project

    with Project(ws) as p:
        p.store  # noqa: B018 - opened on the workspace's own SQLite store
        p.ws.config.store = f"postgresql://postgres:{PASSWORD}@db.example:5432/cs"
        assert p.validate()["store"] == "postgresql://postgres:***@db.example:5432/cs"


def test_an_ingest_connection_error_does_not_print_the_sources_password(ws):
    import yaml

    cfg = ws / "healthscore.yaml"

    data = yaml.safe_load(cfg.read_text())
    data["sources"]["tickets"] = {"database": f"postgresql://reader:{PASSWORD}@127.0.0.1:1/support",
                                  "table": "tickets"}
    cfg.write_text(yaml.safe_dump(data, sort_keys=False))
    proc = run_cli(ws, "ingest", "--table", "tickets")
    assert proc.returncode != 0
    assert PASSWORD not in proc.stdout + proc.stderr, proc.stderr
    assert "reader:***@127.0.0.1:1" in proc.stderr and "Traceback" not in proc.stderr


def test_store_engine_keys_and_credentials_are_owner_only(ws, tokens):
    run_cli(ws, "audit", "verify")
    state = ws / ".healthscore"
    private = ["store.db", "engine.duckdb", "audit_key", "credentials"]
    (state / "credentials").write_text(f"dana.kim {tokens['dana.kim']}\n")
    (state / "credentials").chmod(0o600)
    assert stat.S_IMODE(state.stat().st_mode) == 0o700
    for name in private:
        assert stat.S_IMODE((state / name).stat().st_mode) == 0o600, name
    for wal in state.glob("*-wal"):
        assert stat.S_IMODE(wal.stat().st_mode) & 0o077 == 0, wal


def test_a_new_workspace_creates_its_files_owner_only(tmp_path):
    ws = tmp_path / "w"
    init_workspace(ws)
    proc = run_cli(ws, "audit", "verify")
    assert proc.returncode == 0, proc.stderr
    state = ws / ".healthscore"
    assert stat.S_IMODE((state / "store.db").stat().st_mode) == 0o600
    assert stat.S_IMODE(state.stat().st_mode) == 0o700
