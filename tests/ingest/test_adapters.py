"""Vendor adapters: Zendesk, Stripe, Segment, Salesforce and HubSpot payloads -> canonical tables.

The fixtures under fixtures/ are written by hand with the vendors' documented field names.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
import yaml

from healthscore.errors import UserError
from healthscore.ingest.adapters import ADAPTERS, stripe_amount, unix_to_iso, us_date
from healthscore.project import Project

FIXTURES = Path(__file__).parent / "fixtures"


def ws(root: Path, sources: dict, files: dict[str, str] | None = None) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    shutil.copytree(FIXTURES, root / "exports", dirs_exist_ok=True)
    for rel, text in (files or {}).items():
        (root / rel).write_text(text, encoding="utf-8")
    cfg = {"model": "models/health.yaml", "sources": sources}
    (root / "healthscore.yaml").write_text(yaml.safe_dump(cfg), encoding="utf-8")
    return root


def rows(p: Project, table: str, key: str) -> list[dict]:
    return sorted(p.con.table(table).to_pyarrow().to_pylist(), key=lambda r: str(r[key]))


def reasons(report) -> list[tuple]:
    return [
        (q["file"].rsplit("/", 1)[-1], q["line"], q["column"], q["reason"])
        for q in report.quarantine.to_dict("records")
    ]


def utc(seconds: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, dt.UTC).replace(tzinfo=None)


@pytest.fixture
def support_billing(tmp_path):
    root = ws(
        tmp_path,
        {
            "accounts": {"path": "accounts.csv"},
            "tickets": {"path": "exports/zendesk/tickets.json", "adapter": "zendesk_tickets"},
            "surveys": {"path": "exports/zendesk/satisfaction_ratings.json", "adapter": "zendesk_satisfaction_ratings"},
            "invoices": {"path": "exports/stripe/invoices.json", "adapter": "stripe_invoices", "mode": "append"},
            "usage_events": {"path": "exports/segment/*.ndjson", "adapter": "segment_track"},
        },
        {"accounts.csv": "account_id,name\n509974,Acme\n509975,Globex\n"},
    )
    with Project(root) as p:
        yield p, {r.table: r for r in p.ingest()}


def test_zendesk_tickets(support_billing):
    p, reports = support_billing
    r = reports["tickets"]
    assert (r.read, r.accepted, r.quarantined) == (3, 2, 1)
    assert reasons(r) == [("tickets.json", 3, "account_id", "account_id: missing; it is required")]
    assert r.quarantine.iloc[0]["raw"]["url"].endswith("/tickets/35438.json")  # the vendor record itself
    t1, t2 = rows(p, "tickets", "ticket_id")
    assert (t1["ticket_id"], t1["account_id"], t1["priority"], t1["status"]) == ("35436", "509974", "high", "solved")
    assert (t1["opened_at"], t1["closed_at"]) == (
        dt.datetime(2024, 5, 2, 9, 15, 22),
        dt.datetime(2024, 5, 3, 16, 40, 1),
    )
    assert (t1["escalated"], t1["csat"]) == (True, 1.0)
    assert t1["subject_sentiment"] < 0  # derived from the subject, as for any source
    assert (t2["closed_at"], t2["escalated"], t2["csat"]) == (None, False, None)


def test_zendesk_satisfaction_ratings_find_the_account_through_the_ticket(support_billing):
    p, reports = support_billing
    r = reports["surveys"]
    assert (r.read, r.accepted, r.quarantined) == (4, 2, 2)
    assert [x[:3] for x in reasons(r)] == [("satisfaction_ratings.json", 3, ""), ("satisfaction_ratings.json", 4, "")]
    assert "score 'offered': not answered" in reasons(r)[0][3]
    assert "ticket_id 99999 is not in the engine's tickets table" in reasons(r)[1][3]
    got = [(x["account_id"], x["kind"], x["score"], x["respondent"], x["ts"]) for x in rows(p, "surveys", "account_id")]
    assert got == [
        ("509974", "csat", 1.0, "20978392", dt.datetime(2024, 5, 3, 18)),
        ("509975", "csat", 5.0, "20978400", dt.datetime(2024, 5, 4, 12)),
    ]


def test_stripe_invoices_and_a_failed_charge_webhook(support_billing, tmp_path):
    p, reports = support_billing
    r = reports["invoices"]
    assert (r.read, r.accepted, r.quarantined) == (3, 1, 2)
    assert reasons(r) == [
        ("invoices.json", 2, "account_id", "account_id: 'cus_Q2xYzAbCdEfGh' is not in accounts"),
        ("invoices.json", 3, "status", "status: 'void' is not one of paid, open, failed, refunded"),
    ]
    [inv] = rows(p, "invoices", "invoice_id")
    assert inv == {
        "invoice_id": "in_1PAbCdEfGhIjKlMn",
        "account_id": "509974",
        "issued_at": utc(1714550400),
        "due_at": utc(1717142400),
        "paid_at": utc(1715000000),
        "amount": 1200.0,
        "status": "paid",
    }
    # failed charges arrive as webhook events into the same table (append mode: the invoices stay)
    cfg = yaml.safe_load(p.ws.config_path.read_text())
    cfg["sources"]["invoices"] = {
        "path": "exports/stripe/charge_failed_event.json",
        "adapter": "stripe_failed_charges",
        "mode": "append",
    }
    p.ws.config_path.write_text(yaml.safe_dump(cfg))
    with Project(p.ws.root) as q:
        r2 = {x.table: x for x in q.ingest(["invoices"])}["invoices"]
        assert (r2.read, r2.accepted) == (1, 1)
        got = rows(q, "invoices", "invoice_id")
        assert [(x["invoice_id"], x["status"], x["amount"]) for x in got] == [
            ("ch_3PDfailedCharge01", "failed", 49.99),
            ("in_1PAbCdEfGhIjKlMn", "paid", 1200.0),
        ]
        again = {x.table: x for x in q.ingest(["invoices"])}["invoices"]  # the same webhook body again: nothing
        assert again.read == 0 and q.con.table("invoices").count().execute() == 2


def test_segment_track_events(support_billing):
    p, reports = support_billing
    r = reports["usage_events"]
    assert (r.read, r.accepted, r.quarantined) == (5, 2, 3)
    assert reasons(r) == [
        ("tracks.ndjson", 2, "", "segment_track: not a Segment track call (type 'identify')"),
        ("tracks.ndjson", 4, "quantity", "quantity: -1 is negative; must be >= 0"),
        ("tracks.ndjson", 5, "", "not valid JSON; each line must be one JSON object"),
    ]
    got = [
        (x["event_id"], x["account_id"], x["event"], x["user_id"], x["ts"], x["quantity"])
        for x in rows(p, "usage_events", "event_id")
    ]
    assert got == [
        ("ajs-next-1", "509974", "Report Viewed", "u_1001", dt.datetime(2024, 5, 2, 10), 1.0),
        ("ajs-next-3", "509975", "Seats Added", "a-88", dt.datetime(2024, 5, 2, 9), 3.0),
    ]


def test_salesforce_reports(tmp_path):
    root = ws(
        tmp_path,
        {
            "accounts": {"path": "exports/salesforce/accounts_report.csv", "adapter": "salesforce_accounts"},
            "outcomes": {"path": "exports/salesforce/opportunities_report.csv", "adapter": "salesforce_opportunities"},
        },
    )
    with Project(root) as p:
        reports = {r.table: r for r in p.ingest()}
        acc = reports["accounts"]
        assert (acc.read, acc.accepted, acc.quarantined) == (3, 2, 1)
        assert reasons(acc) == [("accounts_report.csv", 4, "arr", "arr: 'n/a' is not a number")]
        assert any("skipped 3 blank or report footer line(s) (lines 5-7)" in w for w in acc.warnings)
        a1, a2 = rows(p, "accounts", "account_id")
        assert (a1["name"], a1["owner"], a1["arr"], a1["created_at"], a1["renewal_date"]) == (
            "Acme Corp",
            "Dana Kim",
            120000.0,
            dt.datetime(2023, 3, 14),
            dt.datetime(2025, 3, 14),
        )
        assert (a2["segment"], a2["parent_id"]) == ("Customer - Channel", "001Dn00000A1bCdIAB")
        out = reports["outcomes"]
        assert (out.read, out.accepted, out.quarantined) == (5, 3, 2)
        assert [x[1] for x in reasons(out)] == [5, 6]
        assert "open opportunity (stage 'Negotiation/Review')" in reasons(out)[0][3]
        assert "'New Business'" in reasons(out)[1][3]
        got = sorted(
            (x["account_id"], x["kind"], x["arr_change"], x["ts"])
            for x in p.con.table("outcomes").to_pyarrow().to_pylist()
        )
        assert got == [
            ("001Dn00000A1bCdIAB", "expanded", 15000.0, dt.datetime(2024, 4, 2)),
            ("001Dn00000A1bCdIAB", "renewed", 0.0, dt.datetime(2024, 3, 10)),
            ("001Dn00000A1bCeIAB", "churned", -45000.0, dt.datetime(2024, 5, 30)),
        ]


def test_hubspot_companies(tmp_path):
    root = ws(tmp_path, {"accounts": {"path": "exports/hubspot/companies.csv", "adapter": "hubspot_companies"}})
    with Project(root) as p:
        r = {x.table: x for x in p.ingest()}["accounts"]
        assert (r.read, r.accepted, r.quarantined) == (3, 2, 1)
        assert reasons(r) == [("companies.csv", 4, "account_id", "account_id: missing; it is required")]
        assert r.quarantine.iloc[0]["raw"]["Company name"] == "Vandelay Industries"
        got = [
            (x["account_id"], x["name"], x["owner"], x["arr"], x["created_at"])
            for x in rows(p, "accounts", "account_id")
        ]
        assert got == [
            ("9182736450", "Umbrella Corp", "Dana Kim", 8000.0, dt.datetime(2023, 6, 1, 9, 30)),
            ("9182736451", "Hooli", None, 250000.0, dt.datetime(2024, 1, 15, 14, 5)),
        ]


def test_adapter_for_the_wrong_table_and_bad_json_are_user_errors(tmp_path):
    root = ws(tmp_path, {"tickets": {"path": "exports/stripe/invoices.json", "adapter": "stripe_invoices"}})
    with Project(root) as p, pytest.raises(UserError, match="stripe_invoices gives invoices rows, not tickets"):
        p.ingest()
    root = ws(tmp_path / "b", {"tickets": {"path": "broken.json", "adapter": "zendesk_tickets"}}, {"broken.json": "{"})
    with Project(root) as p, pytest.raises(UserError, match="broken.json: not valid JSON"):
        p.ingest()


def test_value_helpers():
    assert unix_to_iso(1714550400) == "2024-05-01T08:00:00Z"
    assert unix_to_iso("soon") == "soon" and unix_to_iso(None) is None
    assert stripe_amount(4999, "usd") == 49.99 and stripe_amount(990000, "JPY") == 990000.0
    assert us_date("3/14/2024, 9:30 AM") == "2024-03-14T09:30:00" and us_date("") is None
    assert set(ADAPTERS) == {
        "zendesk_tickets",
        "zendesk_satisfaction_ratings",
        "stripe_invoices",
        "stripe_failed_charges",
        "segment_track",
        "salesforce_accounts",
        "salesforce_opportunities",
        "hubspot_companies",
    }


# --------------------------------------------------------------------------------------------
# Property: whatever a vendor sends, every record is accepted or quarantined, and nothing raises


from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**20), 10**20),
    st.floats(allow_nan=False),
    st.text(max_size=12),
    st.sampled_from(["509974", "2024-05-01T10:00:00Z", "track", "failed", "good", "paid", "solved"]),
    st.lists(st.text(max_size=5), max_size=2),
    st.dictionaries(st.sampled_from(["groupId", "account_id", "score", "paid_at"]), st.text(max_size=8), max_size=2),
)
_FIELDS = [
    "id",
    "object",
    "type",
    "event",
    "status",
    "score",
    "created",
    "created_at",
    "updated_at",
    "organization_id",
    "ticket_id",
    "customer",
    "total",
    "amount",
    "currency",
    "due_date",
    "timestamp",
    "messageId",
    "userId",
    "context",
    "properties",
    "metadata",
    "tags",
    "satisfaction_rating",
    "status_transitions",
    "priority",
]
_RECORD = st.one_of(st.dictionaries(st.sampled_from(_FIELDS), _VALUES, max_size=10), _VALUES)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    adapter=st.sampled_from(
        ["zendesk_tickets", "zendesk_satisfaction_ratings", "stripe_invoices", "stripe_failed_charges", "segment_track"]
    ),
    records=st.lists(_RECORD, max_size=6),
)
def test_property_any_vendor_payload_is_accepted_or_quarantined(tmp_path_factory, adapter, records):
    import json

    root = tmp_path_factory.mktemp("vendor")
    table = ADAPTERS[adapter].table
    fmt = ADAPTERS[adapter].format
    body = json.dumps(records) if fmt == "json" else "".join(json.dumps(r) + "\n" for r in records)
    root = ws(
        root,
        {"accounts": {"path": "accounts.csv"}, table: {"path": f"payload.{fmt}", "adapter": adapter}},
        {"accounts.csv": "account_id\n509974\n", f"payload.{fmt}": body},
    )
    with Project(root) as p:  # an empty payload would be refused without allow_empty (tests/security/test_data.py)
        r = {x.table: x for x in p.ingest(allow_empty=True)}[table]
        assert r.read == len(records) == r.accepted + r.quarantined
        assert list(r.quarantine["line"]) == sorted(r.quarantine["line"])
        if r.accepted:
            assert p.con.table(table).count().execute() == r.accepted


def test_validate_describes_adapter_database_and_append_sources(tmp_path):
    root = ws(
        tmp_path,
        {
            "accounts": {"path": "exports/hubspot/companies.csv", "adapter": "hubspot_companies"},
            "usage_events": {"path": "exports/segment/*.ndjson", "adapter": "segment_track", "mode": "append"},
            "tickets": {"database": "postgresql://ro:secret@db/support", "table": "support.tickets", "mode": "append"},
        },
    )
    (root / "models").mkdir()
    shutil.copyfile(
        Path(__file__).resolve().parents[2] / "examples" / "seed-standard.yaml", root / "models" / "health.yaml"
    )
    with Project(root) as p:
        sources = p.validate(sample=False)["sources"]  # the database is not there: headers only, no rows
    assert sources["accounts"] == "1 file(s), csv, adapter hubspot_companies"
    assert sources["usage_events"] == "1 file(s), ndjson, adapter segment_track, append"
    assert sources["tickets"] == "table postgresql://ro:***@db/support#support.tickets, append"  # no password shown


def test_a_vendor_record_of_the_wrong_shape_is_quarantined_and_the_good_rows_load(tmp_path):
    import json

    good = {"id": "in_good", "object": "invoice", "customer": "509974", "created": 1714550400, "total": 1200,
            "currency": "usd", "status": "paid", "status_transitions": {"paid_at": 1715000000}}
    odd = {**good, "id": "in_odd", "status": ["paid", "open"]}  # a list where Stripe sends a text
    root = ws(tmp_path, {"accounts": {"path": "accounts.csv"},
                         "invoices": {"path": "stripe.json", "adapter": "stripe_invoices"}},
              {"accounts.csv": "account_id\n509974\n", "stripe.json": json.dumps([good, odd])})
    with Project(root) as p:
        r = {x.table: x for x in p.ingest()}["invoices"]
        assert (r.read, r.accepted, r.quarantined) == (2, 1, 1)
        [(_, line, _, reason)] = reasons(r)
        assert line == 2 and "stripe_invoices" in reason and "unexpected type" in reason
        assert [x["invoice_id"] for x in rows(p, "invoices", "invoice_id")] == ["in_good"]


def test_export_numbers_are_read_or_refused_never_guessed():
    from healthscore.ingest.adapters import number

    assert [number(v) for v in ("$1,200.50", "1,200", "USD 1,234,567.8", "-3.5", "", None)] == \
        ["1200.50", "1200", "1234567.8", "-3.5", None, None]
    for odd in ("1.200,50", "1,2", "1 200", "12,00", "1.2.3"):  # left as written: the number check quarantines
        assert number(odd) == odd
