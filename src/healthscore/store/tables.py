"""Table definitions of the store (SQLAlchemy Core).

These describe the schema for queries and for `alembic revision --autogenerate`; the schema itself
is only ever created by the migrations in `migrations/versions/`, which must stay in step with this
file (a test compares the two).

All datetimes are naive UTC. `as_of` is the as-of date at 00:00.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Double,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)

# Named primary keys so that tables.py and the migrations agree on every dialect.
metadata = MetaData(naming_convention={"pk": "pk_%(table_name)s"})

model_versions = Table(
    "model_versions",
    metadata,
    Column("version", String(64), primary_key=True),  # content hash of the model
    Column("name", String, nullable=False),
    Column("source_path", String, nullable=False),
    Column("yaml_text", Text, nullable=False),
    Column("ir_json", JSON, nullable=False),
    Column("created_at", DateTime, nullable=False),
    # Governance (revision 0004): recorded -> proposed -> active -> retired; only an admin activates.
    Column("status", String, nullable=False, server_default="recorded"),
    Column("author", String, nullable=True),
    Column("note", Text, nullable=True),
    Column("backtest", JSON(none_as_null=True), nullable=True),  # summary of the backtest run at proposal
    Column("approved_by", String, nullable=True),
    Column("approved_at", DateTime, nullable=True),
)

scoring_runs = Table(
    "scoring_runs",
    metadata,
    Column("run_id", String(32), primary_key=True),  # uuid4 hex
    Column("model_version", String(64), nullable=False),
    Column("started_at", DateTime, nullable=False),
    Column("finished_at", DateTime, nullable=True),
    Column("as_of_dates", JSON, nullable=False),  # ISO dates
    Column("engine", String, nullable=False),
    Column("accounts", Integer, nullable=True),
    Column("snapshots_written", Integer, nullable=True),
)

# The newest snapshot of each account per model version (revision 0009): every snapshot and its evidence
# are in the snapshot history (store/history.py, Parquet files beside the store); this table is what the
# web app's portfolio and lists query. ux_snapshots_latest holds it to one row per account and version.
# The primary key leads with (model_version, as_of): the portfolio of one date is a range of it. On
# SQLite the table is WITHOUT ROWID: the composite key is the table.
snapshots = Table(
    "snapshots",
    metadata,
    Column("account_id", String, nullable=False),
    Column("as_of", DateTime, nullable=False),
    Column("model_version", String(64), nullable=False),
    Column("run_id", String(32), nullable=False),
    Column("score", Double, nullable=True),
    Column("tier", String, nullable=True),
    Column("status", String, nullable=False),
    Column("confidence", Double, nullable=False),
    Column("coverage", Double, nullable=False),
    Column("segment", String, nullable=True),
    Column("components", JSON, nullable=False),
    Column("reasons", JSON, nullable=False),
    Column("created_at", DateTime, nullable=False),
    # History, trends and stop gates (revision 0002). A paused snapshot keeps the last score the
    # owner could trust in last_trusted, e.g. {"as_of": "2026-10-01", "score": 71.2, "tier": "green"}.
    Column("smoothed_score", Double, nullable=True),
    Column("primary_driver", String, nullable=True),
    Column("trend_note", Text, nullable=True),
    Column("flags", JSON, nullable=False, server_default="[]"),
    Column("review_required", Boolean, nullable=False, server_default="0"),  # '0' is false on both dialects
    Column("last_trusted", JSON(none_as_null=True), nullable=True),
    PrimaryKeyConstraint("model_version", "as_of", "account_id"),
    Index("ix_snapshots_account_as_of", "account_id", "as_of"),
    # (ix_snapshots_portfolio, revision 0005, dropped in 0011: the portfolio reads the history's files)
    Index("ux_snapshots_latest", "model_version", "account_id", unique=True),  # revision 0009
    sqlite_with_rowid=False,
)

# Tables that revision 0009 moved to the snapshot history and dropped: described for reading a store
# that is being migrated (and its tests), not part of the schema.
legacy_metadata = MetaData(naming_convention={"pk": "pk_%(table_name)s"})

evidence = Table(
    "evidence",
    legacy_metadata,
    Column("account_id", String, nullable=False),
    Column("as_of", DateTime, nullable=False),
    Column("model_version", String(64), nullable=False),
    Column("metric", String, nullable=False),
    Column("component", String, nullable=False),
    Column("value", JSON(none_as_null=True), nullable=True),  # a number or a string
    Column("window", String, nullable=False),
    Column("source", String, nullable=False),
    Column("rows", Integer, nullable=True),
    Column("latest_at", DateTime, nullable=True),
    Column("score", Double, nullable=True),
    Column("weight", Double, nullable=False),
    Column("points", Double, nullable=True),
    # An account attribute's origin as of the date: subscriptions, account_changes, or current (today's
    # accounts row, not point in time); NULL for metrics over events (revision 0007).
    Column("as_of_source", String, nullable=True),
    PrimaryKeyConstraint("model_version", "as_of", "account_id", "metric"),
    Index("ix_evidence_account_as_of", "account_id", "as_of"),
    sqlite_with_rowid=False,
)

ingest_batches = Table(
    "ingest_batches",
    metadata,
    Column("batch_id", String(32), primary_key=True),  # uuid4 hex
    Column("started_at", DateTime, nullable=False),
    Column("table_name", String, nullable=False),
    Column("source", String, nullable=False),  # file path or table name
    Column("read", Integer, nullable=False),
    Column("accepted", Integer, nullable=False),
    Column("quarantined", Integer, nullable=False),
)

quarantine = Table(
    "quarantine",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("batch_id", String(32), nullable=False),
    Column("table_name", String, nullable=False),
    Column("file", String, nullable=True),  # null when the source is a table, not a file
    Column("line", Integer, nullable=True),
    Column("column_name", String, nullable=True),
    Column("value", String, nullable=True),
    Column("reason", String, nullable=False),
    Column("raw", JSON(none_as_null=True), nullable=True),  # the original row
    Column("created_at", DateTime, nullable=False),
    Index("ix_quarantine_batch_id", "batch_id"),
    Index("ix_quarantine_table_name", "table_name"),
)

# ---- the review workflow (revision 0003) ---------------------------------------------------------

# One review task per account and ISO week (dedupe_key): a second weekly run in the same week adds
# its triggers to nothing new. The snapshot's evidence, trend note and drafted next action travel
# with the task, so the owner decides on what they saw.
review_tasks = Table(
    "review_tasks",
    metadata,
    Column("task_id", Integer, primary_key=True, autoincrement=True),
    Column("dedupe_key", String, nullable=False, unique=True),
    Column("account_id", String, nullable=False),
    Column("as_of", DateTime, nullable=False),
    Column("model_version", String(64), nullable=False),
    Column("triggers", JSON, nullable=False),  # [{kind, name, note}]
    Column("priority", String, nullable=False),
    Column("owner", String, nullable=True),
    Column("queue", String, nullable=False),  # the owner, or the fallback queue
    Column("status", String, nullable=False),  # open, accepted, corrected, dismissed
    Column("created_at", DateTime, nullable=False),
    Column("due_at", DateTime, nullable=False),
    Column("score", Double, nullable=True),
    Column("tier", String, nullable=True),
    Column("snapshot_status", String, nullable=False),
    Column("explainable", Boolean, nullable=False),  # components and evidence that add up to the score
    Column("trend_note", Text, nullable=True),
    Column("evidence", JSON, nullable=False),
    Column("next_action", JSON, nullable=False),
    Column("decided_at", DateTime, nullable=True),
    Column("decided_by", String, nullable=True),
    Column("reason_code", String, nullable=True),
    Column("note", Text, nullable=True),
    Column("override_id", Integer, nullable=True),
    Column("follow_up_at", DateTime, nullable=True),
    Column("follow_up_note", Text, nullable=True),
    Index("ix_review_tasks_queue_status", "queue", "status"),
    Index("ix_review_tasks_account_id", "account_id"),
    Index("ix_review_tasks_status_due_at", "status", "due_at"),  # overdue tasks (revision 0005)
)

# A correction of the score or tier by a person: the computed snapshot stays stored unchanged, the
# override applies to as-of dates in [starts_on, expires_on) unless revoked.
overrides = Table(
    "overrides",
    metadata,
    Column("override_id", Integer, primary_key=True, autoincrement=True),
    Column("account_id", String, nullable=False),
    Column("task_id", Integer, nullable=True),
    Column("score", Double, nullable=True),
    Column("tier", String, nullable=True),
    Column("computed_score", Double, nullable=True),
    Column("computed_tier", String, nullable=True),
    Column("reason_code", String, nullable=False),
    Column("note", Text, nullable=False),
    Column("author", String, nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("starts_on", DateTime, nullable=False),
    Column("expires_on", DateTime, nullable=False),
    Column("revoked_at", DateTime, nullable=True),
    Index("ix_overrides_account_id", "account_id"),
)

alerts = Table(
    "alerts",
    metadata,
    Column("alert_id", Integer, primary_key=True, autoincrement=True),
    Column("account_id", String, nullable=False),
    Column("rule", String, nullable=False),
    Column("severity", String, nullable=False),
    Column("as_of", DateTime, nullable=False),
    Column("model_version", String(64), nullable=False),
    Column("fired_at", DateTime, nullable=False),
    Column("status", String, nullable=False),  # sent, digest, capped (over the per-rule share)
    Column("owner", String, nullable=True),
    Column("queue", String, nullable=False),
    Column("note", Text, nullable=False),
    Column("snapshot", JSON, nullable=False),  # score, tier, status, confidence of the snapshot it came from
    Column("evidence", JSON, nullable=False),
    Column("task_id", Integer, nullable=True),
    Index("ux_alerts_account_rule_as_of", "account_id", "rule", "as_of", unique=True),
    Index("ix_alerts_as_of", "as_of"),
    Index("ix_alerts_queue_as_of", "queue", "as_of"),  # an owner's alerts (revision 0005)
)

# Per (account, rule): is the condition active, and when did it last fire (cooldown, hysteresis).
alert_state = Table(
    "alert_state",
    metadata,
    Column("account_id", String, nullable=False),
    Column("rule", String, nullable=False),
    Column("active", Boolean, nullable=False),
    Column("since", DateTime, nullable=True),
    Column("last_fired_as_of", DateTime, nullable=True),
    Column("updated_at", DateTime, nullable=False),
    PrimaryKeyConstraint("account_id", "rule"),
)

deliveries = Table(
    "deliveries",
    metadata,
    Column("delivery_id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime, nullable=False),
    Column("sink", String, nullable=False),
    Column("kind", String, nullable=False),
    Column("ok", Boolean, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("status", String, nullable=True),
    Column("error", Text, nullable=True),
    Column("title", Text, nullable=False),
    Column("recipient", String, nullable=True),  # owner or queue the notification was about
    Column("payload", JSON, nullable=False),  # alert and task ids it carried
)

measurement_events = Table(
    "measurement_events",
    metadata,
    Column("event_id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime, nullable=False),
    Column("kind", String, nullable=False),  # task_created, task_decided, follow_up_done, alert_fired, ...
    Column("account_id", String, nullable=True),
    Column("task_id", Integer, nullable=True),
    Column("actor", String, nullable=True),
    Column("payload", JSON, nullable=False),
    Index("ix_measurement_events_kind", "kind"),
)

# Failed web logins (revision 0010), in the store so that every worker process of the web app counts the same
# attempts (`serve --workers 2` allows no more guesses than one worker). Rows older than the throttle's window go
# as new ones arrive (web/throttle.py).
login_failures = Table(
    "login_failures",
    metadata,
    Column("failure_id", Integer, primary_key=True, autoincrement=True),
    Column("scope", String(16), nullable=False),  # user | client
    Column("subject", String, nullable=False),  # the user name as typed, lower case; or the client's address
    Column("failed_at", DateTime, nullable=False),
    Index("ix_login_failures_subject", "scope", "subject", "failed_at"),
)

# Append-only, tamper-evident: each entry's hash covers its content and the previous entry's hash.
audit_log = Table(
    "audit_log",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("at", DateTime, nullable=False),
    Column("actor", String, nullable=False),
    Column("action", String, nullable=False),
    Column("object_type", String, nullable=False),
    Column("object_id", String, nullable=False),
    Column("before", JSON(none_as_null=True), nullable=True),
    Column("after", JSON(none_as_null=True), nullable=True),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    # revision 0008: HMAC-SHA256 of hash under a key kept outside the store (workflow.AuditSeal); null in
    # entries written before the workspace had a key (the anchor's keyed_from says where MACs start)
    Column("mac", String(64), nullable=True),
    Index("ix_audit_log_object", "object_type", "object_id"),  # one task's audit trail (revision 0005)
)

# ---- users, API tokens and model governance (revision 0004) -------------------------------------

ROLES = ("admin", "manager", "csm", "viewer")

users = Table(
    "users",
    metadata,
    Column("username", String, primary_key=True),
    Column("role", String, nullable=False),  # admin, manager, csm, viewer
    Column("display_name", String, nullable=True),
    Column("password_hash", String, nullable=True),  # argon2; null: cannot log in to the web app
    Column("created_at", DateTime, nullable=False),
    Column("disabled_at", DateTime, nullable=True),
    # revision 0008: the OS account that acts as this user on the command line (unique), and a counter
    # that ends the user's web sessions when it moves (logout, password change, disabling)
    Column("os_user", String, nullable=True),
    Column("session_epoch", Integer, nullable=False, server_default="0"),
    UniqueConstraint("os_user", name="uq_users_os_user"),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("token_id", String(32), primary_key=True),
    Column("name", String, nullable=False),
    Column("username", String, nullable=False),  # acts with this user's role
    Column("token_hash", String(64), nullable=False, unique=True),  # sha256 of the secret; never the secret
    Column("scopes", JSON, nullable=False),  # e.g. ["read", "events:write"]
    Column("created_at", DateTime, nullable=False),
    Column("last_used_at", DateTime, nullable=True),
    Column("revoked_at", DateTime, nullable=True),
)

# ---- real-time rescoring (revision 0006) ---------------------------------------------------------

# The newest live snapshot per account and model version, replaced as events arrive. The dated
# `snapshots` stay the system of record; this is what changed since the last scoring run.
live_snapshots = Table(
    "live_snapshots",
    metadata,
    Column("account_id", String, nullable=False),
    Column("model_version", String(64), nullable=False),
    Column("as_of", DateTime, nullable=False),  # the data counted: rows before this instant's next midnight
    Column("received_at", DateTime, nullable=False),  # the earliest event of the batch that triggered it
    Column("scored_at", DateTime, nullable=False),
    Column("score", Double, nullable=True),
    Column("tier", String, nullable=True),
    Column("status", String, nullable=False),
    Column("confidence", Double, nullable=False),
    Column("snapshot", JSON, nullable=False),  # the whole snapshot, evidence included
    PrimaryKeyConstraint("model_version", "account_id"),
)
