"""The canonical data contract (DESIGN.md): tables, columns, types and rules.

Imported by the model validator, ingestion, the engine and the demo generator, so that a
column name is spelled in exactly one place.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Logical column types. Ingestion casts to these; the engine reads them.
STRING, FLOAT, INT, BOOL, TIMESTAMP = "string", "float", "int", "bool", "timestamp"
NUMERIC_TYPES = (FLOAT, INT, BOOL)

# Every number must be finite and at most this large in magnitude (sums of a few billion such
# values stay finite: 1e308 in one row would otherwise turn a metric into inf or null).
NUMBER_LIMIT = 1e18
# The plausible range of every timestamp (inclusive dates): ingestion quarantines the rest.
TIMESTAMP_MIN, TIMESTAMP_MAX = "1900-01-01", "2100-12-31"
# Survey and ticket scales: NPS 0-10, CSAT 1-5, CES 1-7 (pulse surveys have no fixed scale).
NPS_RANGE, CSAT_RANGE, CES_RANGE = (0.0, 10.0), (1.0, 5.0), (1.0, 7.0)


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    required: bool = False
    non_negative: bool = False
    allowed: tuple[str, ...] | None = None  # enumerated values
    default: object | None = None  # filled when the column is absent or empty
    # computed at ingestion from another column (e.g. the sentiment of a comment); a source value is replaced
    derived_from: str | None = None
    # Domain range (inclusive) of a number; ingestion quarantines values outside it.
    min_value: float | None = None
    max_value: float | None = None
    # Ranges that depend on another column's value, e.g. surveys.score by kind:
    # (("kind", "nps", 0, 10), ...). A row whose other value is not listed has only min/max_value.
    range_when: tuple[tuple[str, str, float, float], ...] = ()


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    time_column: str | None  # the timestamp that decides as-of visibility by default
    id_column: str | None = None  # dedupe key: a repeated id is quarantined
    references_accounts: bool = True  # account_id must exist in accounts
    extra_time_columns: tuple[str, ...] = field(default=())

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)

    @property
    def time_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.type == TIMESTAMP]


# Accounts columns that may change over time (account_changes.field); account_id and created_at do not.
CHANGEABLE_ACCOUNT_COLUMNS = ("name", "segment", "owner", "arr", "plan", "seats", "renewal_date", "parent_id")
# Accounts columns a subscription history derives as of any date.
SUBSCRIPTION_ACCOUNT_COLUMNS = ("arr", "seats", "plan", "renewal_date")


def _c(name, type_=STRING, **kw) -> Column:
    return Column(name, type_, **kw)


TABLES: dict[str, Table] = {
    t.name: t
    for t in [
        Table(
            "accounts",
            (
                _c("account_id", required=True),
                _c("name"),
                _c("segment"),
                _c("owner"),
                _c("arr", FLOAT, non_negative=True),
                _c("plan"),
                _c("seats", INT, non_negative=True),
                _c("created_at", TIMESTAMP),
                _c("renewal_date", TIMESTAMP),
                _c("parent_id"),
            ),
            time_column=None,
            id_column="account_id",
            references_accounts=False,
        ),
        Table(
            # The id crosswalk: which account an id of another system (a Zendesk organization, a Stripe
            # customer, a HubSpot company, a Segment group) stands for. A source with resolve_ids reads its
            # ids through it at ingestion (ingest/crosswalk.py); one (system, external_id) names one account.
            "account_ids",
            (
                _c("system", required=True),  # e.g. zendesk, stripe, hubspot, segment (lower case by convention)
                _c("external_id", required=True),  # the id as that system writes it (text)
                _c("account_id", required=True),
            ),
            time_column=None,
        ),
        Table(
            # Contracts: ARR, seats, plan and the next renewal as of any date come from the subscriptions
            # valid on it (starts_at <= date < ends_at), not from today's accounts row.
            "subscriptions",
            (
                _c("account_id", required=True),
                _c("subscription_id", required=True),
                _c("starts_at", TIMESTAMP, required=True),
                _c("ends_at", TIMESTAMP),  # the term's end: the renewal date (empty: open-ended)
                _c("arr", FLOAT, non_negative=True),
                _c("seats", INT, non_negative=True),
                _c("plan"),
                _c("status"),  # informational only: a status is today's, so it is never read as of a date
            ),
            time_column="starts_at",
            id_column="subscription_id",
        ),
        Table(
            # Attributes as they changed: a snapshot as of D reads each field's latest value before D.
            "account_changes",
            (
                _c("account_id", required=True),
                _c("ts", TIMESTAMP, required=True),
                _c("field", required=True, allowed=CHANGEABLE_ACCOUNT_COLUMNS),
                _c("value"),  # text, read as the accounts column's type
            ),
            time_column="ts",
        ),
        Table(
            "usage_events",
            (
                _c("account_id", required=True),
                _c("ts", TIMESTAMP, required=True),
                _c("event", required=True),
                _c("user_id"),
                _c("quantity", FLOAT, non_negative=True, default=1.0),
                _c("event_id"),
            ),
            time_column="ts",
            id_column="event_id",
        ),
        Table(
            "tickets",
            (
                _c("ticket_id", required=True),
                _c("account_id", required=True),
                _c("opened_at", TIMESTAMP, required=True),
                _c("closed_at", TIMESTAMP),
                _c("priority"),
                _c("status"),
                _c("escalated", BOOL),
                _c("reopened", BOOL),
                _c("csat", FLOAT, non_negative=True, min_value=CSAT_RANGE[0], max_value=CSAT_RANGE[1]),
                _c("ces", FLOAT, non_negative=True, min_value=CES_RANGE[0], max_value=CES_RANGE[1]),
                _c("sla_met", BOOL),
                _c("subject"),  # the ticket's subject or text
                _c("subject_sentiment", FLOAT, derived_from="subject"),  # VADER compound, -1..1
            ),
            time_column="opened_at",
            id_column="ticket_id",
        ),
        Table(
            "surveys",
            (
                _c("account_id", required=True),
                _c("ts", TIMESTAMP, required=True),
                _c("kind", required=True, allowed=("nps", "csat", "ces", "pulse")),
                _c("score", FLOAT, required=True, non_negative=True, range_when=(
                    ("kind", "nps", *NPS_RANGE), ("kind", "csat", *CSAT_RANGE), ("kind", "ces", *CES_RANGE))),
                _c("comment"),
                _c("respondent"),
                _c("comment_sentiment", FLOAT, derived_from="comment"),  # VADER compound, -1..1
            ),
            time_column="ts",
        ),
        Table(
            "invoices",
            (
                _c("invoice_id", required=True),
                _c("account_id", required=True),
                _c("issued_at", TIMESTAMP, required=True),
                _c("due_at", TIMESTAMP),
                _c("paid_at", TIMESTAMP),
                _c("amount", FLOAT, non_negative=True),
                _c("status", allowed=("paid", "open", "failed", "refunded")),
            ),
            time_column="issued_at",
            id_column="invoice_id",
        ),
        Table(
            "contacts",
            (
                _c("contact_id", required=True),
                _c("account_id", required=True),
                _c("role", allowed=("champion", "sponsor", "admin", "user")),
                _c("started_at", TIMESTAMP),
                _c("departed_at", TIMESTAMP),
                _c("last_engaged_at", TIMESTAMP),
            ),
            time_column="started_at",
            id_column="contact_id",
        ),
        Table(
            "interactions",
            (
                _c("account_id", required=True),
                _c("ts", TIMESTAMP, required=True),
                _c("kind", required=True, allowed=("meeting", "qbr", "email", "call")),
                _c("direction", allowed=("inbound", "outbound")),
            ),
            time_column="ts",
        ),
        Table(
            "milestones",
            (
                _c("account_id", required=True),
                _c("name", required=True),
                _c("due_at", TIMESTAMP, required=True),
                _c("completed_at", TIMESTAMP),
            ),
            time_column="due_at",
        ),
        Table(
            "assessments",
            (
                _c("account_id", required=True),
                _c("ts", TIMESTAMP, required=True),
                _c("sentiment", required=True, allowed=("green", "yellow", "red")),
                _c("author"),
                _c("note"),
            ),
            time_column="ts",
        ),
        Table(
            # Customer-specific success criteria: an account's own target for a metric (e.g. its
            # weekly-active-user goal). Only goals set before the as-of date count; the latest wins.
            "goals",
            (
                _c("account_id", required=True),
                _c("metric", required=True),
                _c("target", FLOAT, required=True, non_negative=True),
                _c("ts", TIMESTAMP, required=True),
            ),
            time_column="ts",
        ),
        Table(
            "outcomes",
            (
                _c("account_id", required=True),
                _c("ts", TIMESTAMP, required=True),
                _c("kind", required=True, allowed=("renewed", "churned", "contracted", "expanded")),
                _c("arr_change", FLOAT),
            ),
            time_column="ts",
        ),
        Table(
            "signals",
            (
                _c("account_id", required=True),
                _c("ts", TIMESTAMP, required=True),
                _c("name", required=True),
                _c("value", FLOAT, required=True),
            ),
            time_column="ts",
        ),
    ]
}

TABLE_NAMES = list(TABLES)
