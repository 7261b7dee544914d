"""docs/data-contract.md (linked from every new workspace's healthscore.yaml) lists every canonical
table and column of healthscore.contract, each under its own table's heading."""

from __future__ import annotations

import re
from pathlib import Path

from healthscore.contract import TABLES

DOC = Path(__file__).resolve().parents[1] / "docs" / "data-contract.md"


def sections() -> dict[str, str]:
    text = DOC.read_text(encoding="utf-8")
    parts = re.split(r"^### (\w+)\s*$", text, flags=re.M)
    return dict(zip(parts[1::2], parts[2::2]))


def test_every_table_and_column_is_documented_with_its_required_mark():
    docs = sections()
    assert set(TABLES) <= set(docs), f"tables without a section: {set(TABLES) - set(docs)}"
    for name, table in TABLES.items():
        rows = dict(re.findall(r"^\| (\*\*\w+\*\*|\w+) \| ([^|]+) \|", docs[name], flags=re.M))
        documented = {c.strip("*"): c.startswith("**") for c in rows if c != "column"}  # not the header
        assert documented == {c.name: c.required for c in table.columns}, name
        for column in table.columns:
            if column.allowed:  # enumerated values are named on the column's row
                row = next(r for r in docs[name].splitlines() if r.startswith(f"| {'**' * column.required}{column.name}"))
                assert all(v in row for v in column.allowed), (name, column.name)


def test_the_workspace_template_links_to_the_page():
    from healthscore.scaffold import INIT_CONFIG

    assert "docs/data-contract.md" in INIT_CONFIG and DOC.is_file()
