"""The id crosswalk (account_ids + resolve_ids): vendor exports whose ids are not the CRM's account ids.

Realistic exports (tests/ingest/fixtures): Zendesk API tickets (organization_id), a Stripe invoice list
(customer cus_...), a Salesforce account report (18-character ids, owner full names) and Segment track
calls (context.groupId) are joined to the Salesforce accounts through one account_ids file."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from healthscore.errors import UserError
from healthscore.project import Project
from healthscore.scaffold import EXAMPLES_DIR
from healthscore.workspace import load_workspace

FIXTURES = Path(__file__).parent / "fixtures"
ACME, GLOBEX = "001Dn00000A1bCdIAB", "001Dn00000A1bCeIAB"

CROSSWALK = f"""system,external_id,account_id
zendesk,509974,{ACME}
zendesk,509975,{GLOBEX}
stripe,cus_Q1aBcDeFgHiJk,{ACME}
stripe,cus_Q2xYzAbCdEfGh,{GLOBEX}
segment,509974,{ACME}
"""


def workspace(root: Path, sources: dict, crosswalk: str = CROSSWALK, extra: dict | None = None) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    shutil.copytree(FIXTURES, root / "exports", dirs_exist_ok=True)
    (root / "account_ids.csv").write_text(crosswalk, encoding="utf-8")
    (root / "models").mkdir(exist_ok=True)
    shutil.copyfile(EXAMPLES_DIR / "seed-standard.yaml", root / "models" / "health.yaml")
    cfg = {"model": "models/health.yaml", "sources": sources, **(extra or {})}
    (root / "healthscore.yaml").write_text(yaml.safe_dump(cfg), encoding="utf-8")
    return root


SOURCES = {
    "accounts": {"path": "exports/salesforce/accounts_report.csv", "adapter": "salesforce_accounts"},
    "account_ids": {"path": "account_ids.csv"},
    "tickets": {"path": "exports/zendesk/tickets.json", "adapter": "zendesk_tickets", "resolve_ids": {}},
    "invoices": {"path": "exports/stripe/invoices.json", "adapter": "stripe_invoices", "resolve_ids": "stripe"},
    "usage_events": {"path": "exports/segment/*.ndjson", "adapter": "segment_track", "resolve_ids": {}},
}


def reasons(report) -> list[tuple]:
    return [(q["file"].rsplit("/", 1)[-1], q["line"], q["reason"]) for q in report.quarantine.to_dict("records")]


@pytest.fixture
def joined(tmp_path):
    with Project(workspace(tmp_path, SOURCES)) as p:
        yield p, {r.table: r for r in p.ingest()}


def test_vendor_exports_join_to_the_crm_accounts_through_the_crosswalk(joined):
    p, reports = joined
    assert [r.table for r in reports.values()][:2] == ["accounts", "account_ids"]
    accounts = {r["account_id"]: r for r in p.con.table("accounts").to_pyarrow().to_pylist()}
    assert {ACME, GLOBEX} <= set(accounts)

    tickets = sorted((r["ticket_id"], r["account_id"]) for r in p.con.table("tickets").to_pyarrow().to_pylist())
    assert tickets == [("35436", ACME), ("35437", GLOBEX)]  # Zendesk organizations 509974, 509975
    invoices = p.con.table("invoices").to_pyarrow().to_pylist()
    assert sorted((r["invoice_id"], r["account_id"], r["status"]) for r in invoices) == [
        ("in_1PAbCdEfGhIjKlMn", ACME, "paid"),
        ("in_1PBxYzAbCdEfGhIj", GLOBEX, "failed"),  # customer cus_Q2x... (no metadata.account_id)
    ]
    # every accepted row of every vendor table names a CRM account
    for table in ("tickets", "invoices", "usage_events"):
        ids = set(p.con.table(table).to_pyarrow().column("account_id").to_pylist())
        assert ids and ids <= set(accounts), table
    assert reasons(reports["invoices"]) == [
        ("invoices.json", 3, "status: 'void' is not one of paid, open, failed, refunded")]


def test_an_id_without_a_crosswalk_entry_is_quarantined_naming_system_and_id(tmp_path):
    crosswalk = CROSSWALK.replace(f"zendesk,509975,{GLOBEX}\n", "")
    with Project(workspace(tmp_path, SOURCES, crosswalk)) as p:
        reports = {r.table: r for r in p.ingest()}
    r = reports["tickets"]
    assert (r.read, r.accepted, r.quarantined) == (3, 1, 2)
    got = reasons(r)
    assert got[0][:2] == ("tickets.json", 2)
    assert "zendesk id '509975' has no entry in account_ids" in got[0][2]
    assert got[1] == ("tickets.json", 3, "account_id: missing; it is required")  # no organization at all
    assert r.quarantine.iloc[0]["raw"]["organization_id"] == 509975  # the vendor record as it was
    assert any("1 row(s) with a zendesk id that account_ids does not resolve" in w for w in r.warnings)


def test_an_id_naming_two_accounts_is_quarantined(tmp_path):
    crosswalk = CROSSWALK + f"zendesk,509974,{GLOBEX}\n"
    with Project(workspace(tmp_path, SOURCES, crosswalk)) as p:
        r = {x.table: x for x in p.ingest()}["tickets"]
    assert "zendesk id '509974' names several accounts in account_ids" in reasons(r)[0][2]
    assert reasons(r)[0][:2] == ("tickets.json", 1)
    assert r.accepted == 1


def test_a_plain_file_resolves_a_mapped_source_column(tmp_path):
    root = workspace(tmp_path, {
        "accounts": {"path": "accounts.csv"},
        "account_ids": {"path": "account_ids.csv"},
        "invoices": {"path": "stripe.csv", "columns": {"customer": "account_id"},
                     "resolve_ids": {"system": "stripe", "column": "customer"}},
    }, crosswalk="system,external_id,account_id\nstripe,cus_1,A1\nstripe, cus_2 ,A2\n")
    (root / "accounts.csv").write_text("account_id\nA1\nA2\n")
    (root / "stripe.csv").write_text("invoice_id,customer,issued_at,amount\ni1,cus_1,2024-05-01,10\n"
                                     "i2,cus_2,2024-05-02,20\ni3,cus_9,2024-05-03,30\n")
    with Project(root) as p:
        r = {x.table: x for x in p.ingest()}["invoices"]
        got = sorted((x["invoice_id"], x["account_id"]) for x in p.con.table("invoices").to_pyarrow().to_pylist())
    assert got == [("i1", "A1"), ("i2", "A2")]
    assert reasons(r) == [("stripe.csv", 4, "account_id: stripe id 'cus_9' has no entry in account_ids; add a"
                                            " row (system stripe, external_id cus_9, account_id) to the account_ids"
                                            " source")]
    assert r.quarantine.iloc[0]["raw"] == {"invoice_id": "i3", "customer": "cus_9", "issued_at": "2024-05-03",
                                           "amount": "30"}


def test_resolve_ids_needs_the_crosswalk(tmp_path):
    sources = {k: v for k, v in SOURCES.items() if k != "account_ids"}
    with Project(workspace(tmp_path, sources)) as p, pytest.raises(UserError, match="no account_ids table"):
        p.ingest()


@pytest.mark.parametrize(("resolve", "message"), [
    ({"system": "zendesk", "column": "subject_sentiment"}, "is not a text column of tickets"),
    ({"column": "account_id"}, "give the system"),
])
def test_resolve_ids_is_checked_when_the_workspace_loads(tmp_path, resolve, message):
    root = workspace(tmp_path, {"accounts": {"path": "a.csv"}, "tickets": {"path": "t.csv", "resolve_ids": resolve}})
    with pytest.raises(UserError, match=message):
        load_workspace(root)


def test_salesforce_owner_names_map_to_users_and_the_rest_is_reported(tmp_path):
    """'Dana Kim' (a user's display name) and 'lee@example.com' (the owners: map) become usernames, so a csm's
    rights and review tasks reach them; an owner that maps to no user is kept and reported."""
    report = (FIXTURES / "salesforce" / "accounts_report.csv").read_text().replace('"Lee Park"', '"LEE@example.com"')
    root = workspace(tmp_path, {**SOURCES, "accounts": {"path": "sf.csv", "adapter": "salesforce_accounts"}},
                     extra={"owners": {"lee@example.com": "lee.park"}, "quarantine_max_share": 0.9})
    (root / "sf.csv").write_text(report, encoding="utf-8")
    with Project(root) as p:
        p.user_add("admin", "admin", actor="admin")
        p.user_add("dana.kim", "csm", actor="admin", display_name="Dana Kim")
        p.user_add("lee.park", "csm", actor="admin")
        reports = {r.table: r for r in p.ingest()}
        owners = {r["account_id"]: r["owner"] for r in p.con.table("accounts").to_pyarrow().to_pylist()}
        assert owners == {ACME: "dana.kim", GLOBEX: "lee.park"}
        tickets = p.con.table("tickets").to_pyarrow().to_pylist()
        assert {owners[t["account_id"]] for t in tickets} == {"dana.kim", "lee.park"}  # joined through the crosswalk
    assert not any("owner" in w for w in reports["accounts"].warnings)

    (root / "sf.csv").write_text(report.replace('"Dana Kim"', '"Dana Kimball"'), encoding="utf-8")
    with Project(root) as p:
        checked = p.validate()["sample"]["accounts"]["warnings"]
        assert any("'Dana Kimball' (1 row(s))" in w for w in checked)  # validate reports it before any ingest
        accounts = {r.table: r for r in p.ingest(["accounts"])}["accounts"]
        owners = {r["account_id"]: r["owner"] for r in p.con.table("accounts").to_pyarrow().to_pylist()}
    assert owners[ACME] == "Dana Kimball"  # kept as written ...
    assert any("1 owner(s) match no user and are kept as written: 'Dana Kimball' (1 row(s))" in w
               for w in accounts.warnings)  # ... and reported


def test_column_maps_reach_into_json_objects(tmp_path):
    """custom_fields.crm_id: a nested key of an NDJSON object, and of JSON text in a CSV column."""
    root = workspace(tmp_path, {
        "accounts": {"path": "accounts.csv"},
        "account_ids": {"path": "account_ids.csv"},
        "tickets": {"path": "tickets.ndjson", "columns": {"id": "ticket_id", "custom_fields.crm_id": "account_id",
                                                          "created_at": "opened_at", "metrics.csat.score": "csat"},
                    "extra_columns": "ignore"},
        "invoices": {"path": "invoices.csv", "columns": {"id": "invoice_id", "created": "issued_at",
                                                         "meta.customer": "account_id"},
                     "resolve_ids": {"system": "stripe", "column": "meta.customer"}},
    }, crosswalk="system,external_id,account_id\nstripe,cus_1,A1\n", extra={"quarantine_max_share": 0.5})
    (root / "accounts.csv").write_text("account_id\nA1\nA2\n")
    (root / "tickets.ndjson").write_text(
        '{"id": 1, "created_at": "2024-05-01", "custom_fields": {"crm_id": "A1"}, "metrics": {"csat": {"score": 4}}}\n'
        '{"id": 2, "created_at": "2024-05-02", "custom_fields": {"crm_id": "A2"}, "metrics": {}}\n'
        '{"id": 3, "created_at": "2024-05-03", "custom_fields": {}}\n')
    (root / "invoices.csv").write_text('id,created,meta\ni1,2024-05-01,"{""customer"": ""cus_1""}"\n'
                                       'i2,2024-05-02,"{""customer"": ""cus_2""}"\n')
    with Project(root) as p:
        info = p.validate()
        reports = {r.table: r for r in p.ingest()}
        tickets = sorted((r["ticket_id"], r["account_id"], r["csat"])
                         for r in p.con.table("tickets").to_pyarrow().to_pylist())
        invoices = [(r["invoice_id"], r["account_id"]) for r in p.con.table("invoices").to_pyarrow().to_pylist()]
    assert "columns checked" in info["sources"]["invoices"]
    assert tickets == [("1", "A1", 4.0), ("2", "A2", None)]
    assert reasons(reports["tickets"]) == [
        ("tickets.ndjson", 3, "account_id (source column 'custom_fields.crm_id'): missing; it is required")]
    assert invoices == [("i1", "A1")]
    assert "stripe id 'cus_2' has no entry in account_ids" in reasons(reports["invoices"])[0][2]


def test_hubspot_companies_become_accounts_through_the_crosswalk(tmp_path):
    """The accounts source itself may resolve: account_ids then loads first."""
    root = workspace(tmp_path, {
        "accounts": {"path": "exports/hubspot/companies.csv", "adapter": "hubspot_companies", "resolve_ids": {}},
        "account_ids": {"path": "account_ids.csv"},
    }, crosswalk="system,external_id,account_id\nhubspot,9182736450,ACC-UMBRELLA\nhubspot,9182736451,ACC-HOOLI\n",
        extra={"owners": {"Dana Kim": "dana.kim"}})
    with Project(root) as p:
        p.user_add("admin", "admin", actor="admin")
        reports = p.ingest()
        got = sorted((r["account_id"], r["name"], r["owner"]) for r in p.con.table("accounts").to_pyarrow().to_pylist())
    assert [r.table for r in reports] == ["account_ids", "accounts"]
    assert got == [("ACC-HOOLI", "Hooli", None), ("ACC-UMBRELLA", "Umbrella Corp", "dana.kim")]
    assert any("'dana.kim', which is no user of the store" in w for w in reports[1].warnings)
