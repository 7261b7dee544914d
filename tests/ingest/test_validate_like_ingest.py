"""`healthscore validate` fails on every configuration `healthscore ingest` would reject: it runs the first
rows of each source through ingestion's own reading, column maps, crosswalk and checks, writing nothing."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from healthscore.scaffold import EXAMPLES_DIR
from tests.cli.runner import invoke, ok

ACCOUNTS = "account_id,name\nA1,Acme\nA2,Globex\nA3,Initech\n"
GOOD_TICKETS = "ticket_id,account_id,opened_at\nT1,A1,2024-05-01\nT2,A2,2024-05-02\nT3,A3,2024-05-03\n"

# (case, sources, files): each configuration makes ingest fail (a user error, or exit 1 past the quarantine
# share), so validate must fail too
CASES = [
    ("a required column missing from a CSV header",
     {"tickets": {"path": "tickets.csv"}}, {"tickets.csv": "ticket_id,opened_at\nT1,2024-05-01\n"}),
    ("an unknown column",
     {"tickets": {"path": "tickets.csv"}}, {"tickets.csv": GOOD_TICKETS.replace("opened_at", "opened_at,x", 1)
                                           .replace("05-01\n", "05-01,1\n").replace("05-02\n", "05-02,1\n")
                                           .replace("05-03\n", "05-03,1\n")}),
    ("an NDJSON source without a required key (known only once rows are read)",
     {"tickets": {"path": "tickets.ndjson"}}, {"tickets.ndjson": '{"ticket_id": "T1", "opened_at": "2024-05-01"}\n'}),
    ("a vendor file that is not JSON",
     {"tickets": {"path": "zd.json", "adapter": "zendesk_tickets"}}, {"zd.json": "{not json"}),
    ("every row quarantined (the table would be emptied)",
     {"tickets": {"path": "tickets.csv"}}, {"tickets.csv": GOOD_TICKETS.replace("2024-05", "05/2024")}),
    ("a quarantined share above quarantine_max_share",
     {"tickets": {"path": "tickets.csv"}}, {"tickets.csv": GOOD_TICKETS.replace("A2", "A9").replace("A3", "A8")}),
    ("unknown accounts found only through a join in a SQL source",
     {"tickets": {"sql": "SELECT t.ticket_id, a.account_id, t.opened_at FROM read_csv('t.csv') AS t"
                         " LEFT JOIN accounts AS a ON a.name = t.company"}},
     {"t.csv": "ticket_id,company,opened_at\nT1,Acme,2024-05-01\nT2,Hooli,2024-05-02\nT3,Umbrella,2024-05-03\n"}),
    ("a SQL source reading a column the file does not have",
     {"tickets": {"sql": "SELECT ticket_id, account_id, created AS opened_at FROM read_csv('tickets.csv')"}},
     {"tickets.csv": GOOD_TICKETS}),
    ("resolve_ids without an account_ids table",
     {"tickets": {"path": "tickets.csv", "resolve_ids": {"system": "zendesk"}}}, {"tickets.csv": GOOD_TICKETS}),
    ("external ids the crosswalk does not know",
     {"account_ids": {"path": "account_ids.csv"},
      "tickets": {"path": "tickets.csv", "resolve_ids": {"system": "zendesk"}}},
     {"tickets.csv": GOOD_TICKETS, "account_ids.csv": "system,external_id,account_id\nzendesk,A1,A1\n"}),
    ("a nested key that no row has",
     {"tickets": {"path": "tickets.ndjson", "columns": {"org.crm_id": "account_id"}}},
     {"tickets.ndjson": '{"ticket_id": "T1", "opened_at": "2024-05-01", "org": {"id": 1}}\n'
                        '{"ticket_id": "T2", "opened_at": "2024-05-01", "org": {"id": 2}}\n'}),
]


def workspace(root: Path, sources: dict, files: dict[str, str]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "models").mkdir(exist_ok=True)
    shutil.copyfile(EXAMPLES_DIR / "seed-standard.yaml", root / "models" / "health.yaml")
    (root / "accounts.csv").write_text(ACCOUNTS)
    for name, text in files.items():
        (root / name).write_text(text)
    config = {"model": "models/health.yaml", "sources": {"accounts": {"path": "accounts.csv"}, **sources}}
    (root / "healthscore.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    return root


@pytest.mark.parametrize(("case", "sources", "files"), CASES, ids=[c[0] for c in CASES])
def test_validate_fails_on_what_ingest_rejects(tmp_path, case, sources, files):
    root = workspace(tmp_path, sources, files)
    validated = invoke("validate", "-w", str(root))
    assert validated.returncode != 0, f"validate passed: {case}\n{validated.stdout}"
    assert "Traceback" not in validated.stderr and validated.stderr.startswith("error:"), validated.stderr
    ingested = invoke("ingest", "-w", str(root))
    assert ingested.returncode != 0, f"ingest passed: {case}\n{ingested.stdout}"
    assert "Traceback" not in ingested.stderr


def test_validate_passes_what_ingest_accepts_and_writes_nothing(tmp_path):
    root = workspace(tmp_path, {"tickets": {"path": "tickets.csv"}}, {"tickets.csv": GOOD_TICKETS})
    info = json.loads(ok("validate", "-w", str(root), "--json").stdout)
    assert info["sample"]["tickets"] == {"read": 3, "accepted": 3, "quarantined": 0, "reasons": [],
                                         "warnings": info["sample"]["tickets"]["warnings"]}
    assert "checked tickets: 3 row(s), 0 would be quarantined" in ok("validate", "-w", str(root)).stdout
    tables = json.loads(ok("ingest", "-w", str(root), "--json").stdout)["tables"]
    assert [(t["table"], t["accepted"]) for t in tables] == [("accounts", 3), ("tickets", 3)]


def test_validate_checks_only_the_first_rows_of_an_event_source(tmp_path, monkeypatch):
    import healthscore.services.program as program

    monkeypatch.setattr(program, "VALIDATE_SAMPLE", 2)
    rows = "".join(f"T{i},A1,2024-05-0{i}\n" for i in range(1, 4)) + "T9,A9,2024-05-09\n"
    root = workspace(tmp_path, {"tickets": {"path": "tickets.csv"}}, {"tickets.csv": "ticket_id,account_id,opened_at\n"
                                                                                     + rows})
    info = json.loads(ok("validate", "-w", str(root), "--json").stdout)
    assert (info["sample"]["accounts"]["read"], info["sample"]["tickets"]["read"]) == (3, 2)  # accounts: whole


def test_no_sample_checks_the_configuration_and_headers_only(tmp_path):
    sources, files = next((s, f) for c, s, f in CASES if c == "a quarantined share above quarantine_max_share")
    root = workspace(tmp_path, sources, files)
    assert invoke("validate", "-w", str(root)).returncode == 2
    info = json.loads(ok("validate", "-w", str(root), "--no-sample", "--json").stdout)
    assert info["sample"] == {} and info["sources"]["tickets"] == "1 file(s), csv, columns checked"
