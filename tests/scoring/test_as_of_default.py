"""Commands given no --as-of score as of the workspace's data_as_of, or -- on an export whose newest row is
more than a week old -- the day after its newest data, and say which date they used."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from healthscore.scaffold import EXAMPLES_DIR
from tests.cli.runner import ok


def export(root: Path, extra: str = "") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "models").mkdir(exist_ok=True)
    shutil.copyfile(EXAMPLES_DIR / "seed-standard.yaml", root / "models" / "health.yaml")
    (root / "accounts.csv").write_text("account_id,created_at\nA1,2023-01-01\nA2,2023-01-01\n")
    (root / "usage.csv").write_text("account_id,ts,event\nA1,2024-05-01 10:00,login\nA2,2024-05-20 09:00,login\n")
    (root / "healthscore.yaml").write_text(
        "model: models/health.yaml\nsources:\n  accounts: {path: accounts.csv}\n  usage_events: {path: usage.csv}\n"
        + extra)
    ok("ingest", "-w", str(root))
    return root


def test_an_export_is_scored_as_of_the_day_after_its_newest_data(tmp_path):
    root = export(tmp_path)
    proc = ok("score", "-w", str(root), "--json", "--no-store")
    assert {json.loads(line)["as_of"] for line in proc.stdout.splitlines()} == {"2024-05-21"}
    assert "as of 2024-05-21 (the day after the newest data (2024-05-20), not today" in proc.stderr
    table = ok("score", "-w", str(root), "--no-store").stdout
    assert "As of 2024-05-21: the day after the newest data (2024-05-20)" in " ".join(table.split())


def test_data_as_of_in_the_workspace_wins_and_as_of_still_overrides_it(tmp_path):
    root = export(tmp_path, "data_as_of: 2024-06-30\n")
    proc = ok("score", "-w", str(root), "--json", "--no-store")
    assert {json.loads(line)["as_of"] for line in proc.stdout.splitlines()} == {"2024-06-30"}
    assert "as of 2024-06-30 (data_as_of in healthscore.yaml)" in proc.stderr
    given = ok("score", "-w", str(root), "--json", "--no-store", "--as-of", "2024-05-10")
    assert {json.loads(line)["as_of"] for line in given.stdout.splitlines()} == {"2024-05-10"}
    assert "data_as_of" not in given.stderr
