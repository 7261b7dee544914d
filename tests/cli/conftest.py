"""A small workspace made the way a user makes one: `init`, CSV exports of the small portfolio, `ingest`."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.cli.runner import ok
from tests.fixtures import small_portfolio, write_ungated_model


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Path:
    """A workspace made with `init`, fed with CSV exports of the small portfolio and ingested."""
    ws = tmp_path_factory.mktemp("ws") / "acme"
    ok("init", str(ws))
    write_ungated_model(ws / "models" / "health.yaml", ws / "models" / "health.yaml")
    sources = {}
    for table, df in small_portfolio().items():
        path = ws / "data" / f"{table}.csv"
        df.to_csv(path, index=False)
        sources[table] = {"path": f"data/{table}.csv"}
    cfg = yaml.safe_load((ws / "healthscore.yaml").read_text())
    cfg["sources"] = sources
    (ws / "healthscore.yaml").write_text(yaml.safe_dump(cfg))
    ok("ingest", "-w", str(ws))
    return ws
