"""Accounts whose segment is not one the model has a rule for are scored with the base model (weights
unchanged), counted per segment value in the score output, and filterable by their own segment."""

from __future__ import annotations

import shutil

import pytest

from healthscore.errors import InvalidInput
from healthscore.project import Project
from healthscore.scaffold import EXAMPLES_DIR
from tests.cli.runner import ok


@pytest.fixture
def scored(tmp_path):
    (tmp_path / "models").mkdir()
    shutil.copyfile(EXAMPLES_DIR / "seed-standard.yaml", tmp_path / "models" / "health.yaml")  # enterprise, smb
    (tmp_path / "accounts.csv").write_text(
        "account_id,segment,created_at\nA1,enterprise,2023-01-01\nA2,mid-market,2023-01-01\n"
        "A3,mid-market,2023-01-01\nA4,SMB,2023-01-01\nA5,,2023-01-01\n")
    (tmp_path / "usage.csv").write_text("account_id,ts,event\n" + "".join(
        f"A{i},2024-05-0{i} 10:00,login\n" for i in range(1, 6)))
    (tmp_path / "healthscore.yaml").write_text(
        "model: models/health.yaml\nsources:\n  accounts: {path: accounts.csv}\n  usage_events: {path: usage.csv}\n")
    ok("ingest", "-w", str(tmp_path))
    out = ok("score", "-w", str(tmp_path), "--as-of", "2024-06-01")
    return tmp_path, " ".join(out.stdout.split())


def test_the_score_output_counts_the_base_model_per_segment_value(scored):
    root, out = scored
    assert "Base model (no segment rule matched): 3 accounts; by their segment: mid-market 2, (no segment) 1" in out
    stderr = ok("score", "-w", str(root), "--as-of", "2024-06-01", "--json", "--no-store").stderr
    assert "base model (no segment rule matched): 3 accounts; by their segment: mid-market 2" in stderr


def test_accounts_are_filterable_by_their_own_segment(scored):
    root, _ = scored
    with Project(root) as p:
        assert sorted(a["account_id"] for a in p.accounts(segment="mid-market")["items"]) == ["A2", "A3"]
        assert [a["account_id"] for a in p.accounts(segment="smb")["items"]] == ["A4"]  # a model rule
        assert [a["account_id"] for a in p.accounts(segment="SMB")["items"]] == ["A4"]  # its own value
        portfolio = p.portfolio(segment="mid-market")
        assert portfolio["accounts"] == 2 and sum(t["accounts"] for t in portfolio["tiers"]) == 2
        assert {"mid-market", "enterprise", "smb", "SMB"} <= set(p.portfolio()["segments"])
        with pytest.raises(InvalidInput):
            p.accounts(segment="no-such-segment")
