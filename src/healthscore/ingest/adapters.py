"""Adapters: vendor exports and webhook payloads -> canonical rows.

A source names one with ``adapter:`` (``sources.tickets: {path: exports/zendesk/*.json, adapter:
zendesk_tickets}``). Each adapter is a plain function from one vendor record (a dict, as the
vendor's API or export spells it) to one canonical row (a dict keyed by canonical column names);
the rows then go through exactly the same validation as any file (``load._validate_parts``), so a
bad value is quarantined with the file, the record number and a reason. The quarantine's ``raw``
is the vendor record itself.

A record the adapter cannot map at all (a Segment ``identify`` call given to ``segment_track``, an
open Salesforce opportunity given to ``salesforce_opportunities``) is quarantined with the reason
from ``NotMapped``; nothing is dropped silently. The only lines skipped are Salesforce report
footers (a warning says which).

Files are read as:

- ``json``: one JSON document per file: a list of records, an API list response (the list under
  ``tickets``, ``satisfaction_ratings``, ``data`` or ``results``) or one webhook event (Stripe's
  ``{"object": "event", "data": {"object": {...}}}``, Zendesk's ``{"ticket": {...}}``). The
  quarantine's line is the 1-based record number in the file.
- ``ndjson``: one record per line (Segment's export); the line number.
- ``csv``: a header line and one record per line (Salesforce and HubSpot exports); the line number.

The mappings (vendor field -> canonical column) are in each function's docstring and in
docs/workspace.md ("Adapters").
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from healthscore.errors import UserError


class NotMapped(Exception):
    """A record this adapter does not map to a canonical row; the message is the quarantine reason."""


@dataclass(frozen=True)
class Adapter:
    name: str
    table: str  # the canonical table it produces
    format: str  # json, ndjson or csv
    map: Callable[[dict, Context], dict]
    # Zendesk satisfaction ratings name a ticket, not an organization: the account comes from the
    # engine's tickets table. (engine table, key column, value column, key of a record)
    lookup: tuple[str, str, str, Callable[[dict], Any]] | None = None
    # The system whose ids it gives as account_id (account_ids.system): the default of the source's
    # resolve_ids (ingest/crosswalk.py), e.g. a Zendesk organization id or a Stripe customer id.
    id_system: str | None = None


@dataclass
class Context:
    """What an adapter may look up: values from the engine (``lookup``), keyed by the record's key."""

    looked_up: dict[str, Any]
    # the source resolves its ids through account_ids: give the vendor's own id (e.g. Stripe's customer,
    # not metadata.account_id), which the crosswalk maps
    resolving: bool = False


# ---- value helpers -----------------------------------------------------------------------------

# Stripe: amounts are integers in the currency's smallest unit, except for zero-decimal currencies
# (https://docs.stripe.com/currencies#zero-decimal).
ZERO_DECIMAL = {"bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv",
                "xaf", "xof", "xpf"}



def _dict(record: dict, key: str) -> dict:
    value = record.get(key)
    return value if isinstance(value, dict) else {}


def _list(record: dict, key: str) -> list:
    value = record.get(key)
    return value if isinstance(value, list) else []

def unix_to_iso(value: Any) -> Any:
    """Unix seconds -> ISO 8601 UTC; anything else is passed on as it is (and validated later)."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) or (isinstance(value, str) and value.strip().isdigit()):
        try:
            return dt.datetime.fromtimestamp(int(float(value)), dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        except (OverflowError, OSError, ValueError):  # out of range or NaN: the validator names it
            return str(value)
    return value


def stripe_amount(cents: Any, currency: Any) -> Any:
    if not isinstance(cents, (int, float)) or isinstance(cents, bool):
        return cents  # validated later ('... is not a number')
    if str(currency or "").lower() in ZERO_DECIMAL:
        return float(cents)
    return cents / 100.0


_US_FORMATS = ("%m/%d/%Y", "%m/%d/%Y, %I:%M %p", "%m/%d/%Y %I:%M %p", "%m/%d/%Y %H:%M", "%Y-%m-%d %H:%M",
               "%Y-%m-%d")


def us_date(value: Any) -> Any:
    """Salesforce/HubSpot export dates ('3/14/2024', '3/14/2024, 9:30 AM', '2024-03-14 09:30') -> ISO;
    empty -> None; anything else unchanged (the validator names it)."""
    if value is None:
        return None
    text = str(value).strip()
    if not text:
        return None
    for fmt in _US_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt).isoformat()
        except ValueError:
            continue
    return text


# what a US/UK CRM export writes: 1200, 1,200, 1,200.50, -3.5 (a currency sign or code is stripped first)
_EXPORT_NUMBER = re.compile(r"-?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?")


def number(value: Any) -> Any:
    """'$1,200.50' or '1,200' from a CRM export -> '1200.50'; empty -> None. A number written another way
    ('1.200,50' with a decimal comma, '1 200') is not guessed at: it is passed on as written, and the
    column's number check quarantines the row, naming the value."""
    if value is None:
        return None
    text = str(value).strip()
    if not text:
        return None
    cleaned = text.replace("$", "").replace("€", "").replace("£", "").strip()
    if cleaned.upper().startswith(("USD ", "EUR ", "GBP ")):
        cleaned = cleaned[4:].strip()
    if not _EXPORT_NUMBER.fullmatch(cleaned):
        return text  # passed on as written: the column's check quarantines it ("arr: '1.200,50' is not a number")
    return cleaned.replace(",", "")


def _first(record: dict, *keys: str) -> Any:
    for k in keys:
        v = record.get(k)
        if v not in (None, ""):
            return v
    return None


def _text(value: Any) -> Any:
    return None if value is None else str(value)


# ---- Zendesk -------------------------------------------------------------------------------------

ZENDESK_CSAT = {"good": 5.0, "bad": 1.0}  # 'offered' / 'unoffered': no rating yet -> null


def zendesk_tickets(r: dict, ctx: Context) -> dict:
    """Zendesk Support ticket (GET /api/v2/tickets, incremental export, or a ticket webhook) -> tickets.

    ticket_id <- id; account_id <- organization_id (map Zendesk organization ids to your account ids
    with resolve_ids: {system: zendesk} and the account_ids table); opened_at <- created_at; closed_at <-
    updated_at when status is solved or closed; priority, status, subject as they are;
    escalated <- the tag 'escalated'; csat <- satisfaction_rating.score (good 5, bad 1, otherwise
    empty)."""
    rating = _dict(r, "satisfaction_rating")
    tags = _list(r, "tags")
    status = r.get("status")
    return {
        "ticket_id": _text(r.get("id")),
        "account_id": _text(r.get("organization_id")),
        "opened_at": r.get("created_at"),
        "closed_at": r.get("updated_at") if status in ("solved", "closed") else None,
        "priority": r.get("priority"),
        "status": status,
        "escalated": "escalated" in tags,
        "csat": ZENDESK_CSAT.get(str(rating.get("score", "")).lower()),
        "subject": r.get("subject"),
    }


def zendesk_satisfaction_ratings(r: dict, ctx: Context) -> dict:
    """Zendesk satisfaction rating (GET /api/v2/satisfaction_ratings) -> surveys (kind csat).

    account_id <- the organization of ticket_id in the engine's tickets table (ingest tickets
    first; a rating of an unknown ticket is quarantined); ts <- created_at; score <- good 5, bad 1
    ('offered'/'unoffered' ratings have no answer yet and are quarantined); comment; respondent <-
    requester_id."""
    score = str(r.get("score", "")).lower()
    if score not in ZENDESK_CSAT:
        raise NotMapped(f"satisfaction rating {r.get('id')} has score {r.get('score')!r}: not answered (only good"
                        " and bad ratings are survey answers)")
    # the ticket's account as ingested (resolved through account_ids when the tickets source was) first
    account = ctx.looked_up.get(_text(r.get("ticket_id"))) or _first(r, "organization_id")
    if account is None:
        raise NotMapped(f"ticket_id {r.get('ticket_id')!r} is not in the engine's tickets table: ingest tickets"
                        " (adapter zendesk_tickets) before satisfaction ratings")
    return {
        "account_id": _text(account),
        "ts": r.get("created_at"),
        "kind": "csat",
        "score": ZENDESK_CSAT[score],
        "comment": r.get("comment"),
        "respondent": _text(r.get("requester_id")),
    }


# ---- Stripe --------------------------------------------------------------------------------------

STRIPE_INVOICE_STATUS = {"paid": "paid", "open": "open", "uncollectible": "failed"}  # draft, void: not bills


def _stripe_account(r: dict, ctx: Context) -> Any:
    meta = _dict(r, "metadata")
    customer = r.get("customer")
    if isinstance(customer, dict):  # expanded customer object
        customer = customer.get("id")
    if ctx.resolving:  # the crosswalk maps the customer id (cus_...)
        return _text(customer)
    return _text(_first(meta, "account_id", "healthscore_account_id") or customer)


def stripe_invoices(r: dict, ctx: Context) -> dict:
    """Stripe Invoice (GET /v1/invoices list, or an invoice.* webhook event) -> invoices.

    invoice_id <- id; account_id <- metadata.account_id, else customer (with resolve_ids: the customer
    id, cus_..., through account_ids); issued_at <- created
    (unix seconds); due_at <- due_date; paid_at <- status_transitions.paid_at; amount <- total in
    currency units (cents / 100; zero-decimal currencies as they are); status <- paid, open,
    uncollectible -> failed (draft and void are passed on and quarantined: not bills)."""
    if r.get("object") not in (None, "invoice"):
        raise NotMapped(f"not a Stripe invoice (object {r.get('object')!r}); use the adapter for that object")
    transitions = _dict(r, "status_transitions")
    status: Any = r.get("status")
    return {
        "invoice_id": _text(r.get("id")),
        "account_id": _stripe_account(r, ctx),
        "issued_at": unix_to_iso(r.get("created")),
        "due_at": unix_to_iso(r.get("due_date")),
        "paid_at": unix_to_iso(transitions.get("paid_at")),
        "amount": stripe_amount(r.get("total", r.get("amount_due")), r.get("currency")),
        "status": STRIPE_INVOICE_STATUS.get(status, status),
    }


def stripe_failed_charges(r: dict, ctx: Context) -> dict:
    """Stripe Charge with status failed (GET /v1/charges, or a charge.failed webhook event) -> invoices.

    Each failed payment attempt is a row with status failed: invoice_id <- the charge id (ch_...,
    so it never collides with the invoice itself); account_id <- metadata.account_id, else
    customer; issued_at <- created; amount <- amount in currency units. A charge that did not fail
    is quarantined (use stripe_invoices for what was billed and paid)."""
    if r.get("object") not in (None, "charge"):
        raise NotMapped(f"not a Stripe charge (object {r.get('object')!r})")
    if r.get("status") != "failed":
        raise NotMapped(f"charge {r.get('id')} has status {r.get('status')!r}, not failed; paid invoices come"
                        " from the stripe_invoices adapter")
    return {
        "invoice_id": _text(r.get("id")),
        "account_id": _stripe_account(r, ctx),
        "issued_at": unix_to_iso(r.get("created")),
        "amount": stripe_amount(r.get("amount"), r.get("currency")),
        "status": "failed",
    }


# ---- Segment -------------------------------------------------------------------------------------


def segment_track(r: dict, ctx: Context) -> dict:
    """Segment Track call (the Track spec; NDJSON from a warehouse or S3 export) -> usage_events.

    account_id <- context.groupId, else properties.account_id / properties.accountId / properties.groupId;
    ts <- timestamp (else originalTimestamp, receivedAt); event <- event; user_id <- userId, else
    anonymousId; event_id <- messageId; quantity <- properties.quantity (default 1). Calls of
    another type (identify, page, group ...) are quarantined."""
    if r.get("type") != "track":
        raise NotMapped(f"not a Segment track call (type {r.get('type')!r})")
    context = _dict(r, "context")
    props = _dict(r, "properties")
    return {
        "account_id": _text(_first(context, "groupId") or _first(props, "account_id", "accountId", "groupId")),
        "ts": _first(r, "timestamp", "originalTimestamp", "receivedAt"),
        "event": r.get("event"),
        "user_id": _text(_first(r, "userId", "anonymousId")),
        "quantity": props.get("quantity"),
        "event_id": _text(r.get("messageId")),
    }


# ---- Salesforce (report export, CSV) ---------------------------------------------------------------

SALESFORCE_FOOTER = ("Confidential Information", "Copyright (c)", "Generated By:", "salesforce.com")


def _salesforce_footer(r: dict) -> bool:
    values = [str(v).strip() for v in r.values() if v is not None and str(v).strip()]
    return not values or (len(values) == 1 and values[0].startswith(SALESFORCE_FOOTER))


def salesforce_accounts(r: dict, ctx: Context) -> dict:
    """Salesforce account report (CSV export, column labels as exported) -> accounts.

    account_id <- 'Account ID'; name <- 'Account Name'; owner <- 'Account Owner'; segment <-
    'Segment', else 'Type'; arr <- 'ARR', else 'Annual Recurring Revenue' ('$1,200' -> 1200);
    seats <- 'Seats'; created_at <- 'Created Date' (M/D/YYYY); renewal_date <- 'Renewal Date';
    parent_id <- 'Parent Account ID'."""
    return {
        "account_id": _first(r, "Account ID", "Account ID (18)", "Id"),
        "name": _first(r, "Account Name"),
        "owner": _first(r, "Account Owner", "Account Owner: Full Name"),
        "segment": _first(r, "Segment", "Type"),
        "arr": number(_first(r, "ARR", "Annual Recurring Revenue")),
        "seats": number(_first(r, "Seats")),
        "created_at": us_date(_first(r, "Created Date")),
        "renewal_date": us_date(_first(r, "Renewal Date", "Contract End Date")),
        "parent_id": _first(r, "Parent Account ID"),
    }


_SF_EXPANSION = ("existing business", "upsell", "expansion", "add-on", "cross-sell")
_SF_CONTRACTION = ("downgrade", "contraction", "downsell")


def salesforce_opportunities(r: dict, ctx: Context) -> dict:
    """Salesforce opportunity report (CSV export) -> outcomes, for closed opportunities.

    account_id <- 'Account ID'; ts <- 'Close Date'; by 'Type' and 'Stage': Renewal won -> renewed
    (arr_change 0), Renewal lost -> churned (arr_change -Amount), Existing Business / Upsell /
    Expansion won -> expanded (+Amount), Downgrade / Contraction won -> contracted (-Amount). Open
    opportunities and new business are quarantined with the reason (not an outcome of a customer
    yet); export a report filtered to closed opportunities to keep the quarantine short."""
    stage = str(_first(r, "Stage") or "").strip().lower()
    kind = str(_first(r, "Type", "Opportunity Type") or "").strip().lower()
    won = stage == "closed won" or str(_first(r, "Won") or "").strip().lower() in ("1", "true")
    lost = stage == "closed lost" or (str(_first(r, "Closed") or "").strip().lower() in ("1", "true") and not won)
    if not (won or lost):
        raise NotMapped(f"open opportunity (stage {_first(r, 'Stage')!r}): not an outcome yet")
    amount = number(_first(r, "Amount", "ARR"))

    def signed(sign: str) -> Any:
        return None if amount is None else (amount if sign == "+" else f"-{amount}".replace("--", ""))

    if kind == "renewal":
        outcome, change = ("renewed", "0") if won else ("churned", signed("-"))
    elif kind in _SF_EXPANSION and won:
        outcome, change = "expanded", signed("+")
    elif kind in _SF_CONTRACTION and won:
        outcome, change = "contracted", signed("-")
    else:
        raise NotMapped(f"{'won' if won else 'lost'} opportunity of type {_first(r, 'Type', 'Opportunity Type')!r}:"
                        " not a renewal, expansion or contraction of an existing customer")
    return {"account_id": _first(r, "Account ID"), "ts": us_date(_first(r, "Close Date")), "kind": outcome,
            "arr_change": change}


# ---- HubSpot (companies export, CSV) ---------------------------------------------------------------


def hubspot_companies(r: dict, ctx: Context) -> dict:
    """HubSpot companies export (CSV, property labels as exported) -> accounts.

    account_id <- 'Record ID' (or 'Company ID'); name <- 'Company name' / 'Name'; owner <-
    'Company owner'; segment <- 'Segment', else 'Type'; arr <- 'Annual recurring revenue', else
    'ARR'; seats <- 'Seats'; created_at <- 'Create Date' ('2024-03-14 09:30'); renewal_date <-
    'Renewal date'; parent_id <- 'Parent Company ID'."""
    return {
        "account_id": _first(r, "Record ID", "Company ID", "Record ID - Company"),
        "name": _first(r, "Company name", "Name"),
        "owner": _first(r, "Company owner"),
        "segment": _first(r, "Segment", "Type"),
        "arr": number(_first(r, "Annual recurring revenue", "ARR")),
        "seats": number(_first(r, "Seats")),
        "created_at": us_date(_first(r, "Create Date", "Create date")),
        "renewal_date": us_date(_first(r, "Renewal date", "Renewal Date")),
        "parent_id": _first(r, "Parent Company ID"),
    }


ADAPTERS: dict[str, Adapter] = {
    a.name: a
    for a in [
        Adapter("zendesk_tickets", "tickets", "json", zendesk_tickets, id_system="zendesk"),
        Adapter("zendesk_satisfaction_ratings", "surveys", "json", zendesk_satisfaction_ratings,
                lookup=("tickets", "ticket_id", "account_id", lambda r: _text(r.get("ticket_id")))),
        Adapter("stripe_invoices", "invoices", "json", stripe_invoices, id_system="stripe"),
        Adapter("stripe_failed_charges", "invoices", "json", stripe_failed_charges, id_system="stripe"),
        Adapter("segment_track", "usage_events", "ndjson", segment_track, id_system="segment"),
        Adapter("salesforce_accounts", "accounts", "csv", salesforce_accounts, id_system="salesforce"),
        Adapter("salesforce_opportunities", "outcomes", "csv", salesforce_opportunities, id_system="salesforce"),
        Adapter("hubspot_companies", "accounts", "csv", hubspot_companies, id_system="hubspot"),
    ]
}

_LIST_KEYS = ("tickets", "satisfaction_ratings", "data", "results", "records", "invoices", "charges")


# ---- reading vendor files ----------------------------------------------------------------------------


@dataclass
class Record:
    number: int  # line (CSV, NDJSON) or record number (JSON)
    value: Any  # the record (a dict), or the line's text when it could not be parsed
    bad: str | None = None  # why it could not be parsed


def read_records(path: Path, display: str, fmt: str) -> tuple[list[Record], str, list[str]]:
    """(records, 'line' or 'record', warnings) of one vendor file."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise UserError(f"{display}: not UTF-8 text; save the export as UTF-8") from None
    except OSError as exc:
        raise UserError(f"{display}: cannot read: {exc}") from None
    if fmt == "json":
        try:
            doc = json.loads(text) if text.strip() else []
        except json.JSONDecodeError as exc:
            raise UserError(f"{display}: not valid JSON ({exc}); an adapter with format json reads one JSON document"
                            " per file (for one record per line use format: ndjson)") from None
        items = _unwrap(doc, display)
        return [Record(i + 1, item, None if isinstance(item, dict) else "not a JSON object")
                for i, item in enumerate(items)], "record", []
    if fmt == "ndjson":
        out = []
        for n, line in enumerate(text.split("\n"), start=1):
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except json.JSONDecodeError:
                out.append(Record(n, line, "not valid JSON; each line must be one JSON object"))
                continue
            reason = None if isinstance(value, dict) else "not a JSON object; each line must be one JSON object"
            out.append(Record(n, value, reason))
        return out, "line", []
    if fmt == "csv":
        import io

        reader = csv.reader(io.StringIO(text, newline=""))
        header = next(reader, None)
        if not header:
            raise UserError(f"{display}: empty file; a CSV export needs a header line with the column names")
        out, footer = [], []
        line_no = reader.line_num
        for values in reader:
            start, line_no = line_no + 1, reader.line_num
            record = dict(zip(header, values))
            if len(values) > len(header):
                out.append(Record(start, ",".join(values), f"{len(values)} values for {len(header)} columns"))
            elif _salesforce_footer(record):
                footer.append(start)
            else:
                out.append(Record(start, record))
        warnings = (
            [f"{display}: skipped {len(footer)} blank or report footer line(s) (lines {footer[0]}-{footer[-1]})"]
            if footer
            else []
        )
        return out, "line", warnings
    raise AssertionError(fmt)


def _unwrap(doc: Any, display: str) -> list:
    if isinstance(doc, list):
        return doc
    if isinstance(doc, dict):
        if doc.get("object") == "event" and isinstance(doc.get("data"), dict):  # Stripe webhook event
            return [doc["data"].get("object")]
        for key in _LIST_KEYS:
            if isinstance(doc.get(key), list):
                return doc[key]
        for key in ("ticket", "satisfaction_rating", "invoice", "charge"):  # one object, e.g. a webhook body
            if isinstance(doc.get(key), dict):
                return [doc[key]]
        return [doc]
    raise UserError(
        f"{display}: expected a JSON list of records or an object holding one (under one of"
        f" {', '.join(_LIST_KEYS)}), got {type(doc).__name__}"
    )


def lookup_keys(adapter: Adapter, records: list[Record]) -> list:
    if adapter.lookup is None:
        return []
    key = adapter.lookup[3]
    return sorted({k for r in records if r.bad is None for k in [key(r.value)] if k is not None})


def adapt(adapter: Adapter, records: list[Record], looked_up: dict | None = None,
          resolving: bool = False) -> tuple[list[Any], list[str | None]]:
    """(canonical row per record -- None for a record that could not be mapped, the reason per record);
    ``resolving``: the source resolves its ids through account_ids (see ``Context.resolving``)."""
    ctx = Context(looked_up or {}, resolving)
    rows: list[Any] = []
    reasons: list[str | None] = []
    for rec in records:
        if rec.bad is not None:
            rows.append(None)
            reasons.append(rec.bad)
            continue
        try:
            rows.append(adapter.map(rec.value, ctx))
            reasons.append(None)
        except NotMapped as exc:
            rows.append(None)
            reasons.append(f"{adapter.name}: {exc}")
        except (TypeError, ValueError, AttributeError, KeyError, OverflowError) as exc:
            # a field of an unexpected shape (a list where a text belongs, a huge number): this record is
            # quarantined with the reason, the others still load
            rows.append(None)
            reasons.append(f"{adapter.name}: a field has an unexpected type or value ({type(exc).__name__}: {exc})")
    return rows, reasons
