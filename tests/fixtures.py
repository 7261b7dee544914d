"""A small canonical portfolio built by hand, so expected values can be worked out on paper."""

from __future__ import annotations

import pandas as pd

from healthscore.contract import BOOL, FLOAT, INT, TABLES, TIMESTAMP

PANDAS_TYPES = {FLOAT: "float64", INT: "Int64", BOOL: "boolean", TIMESTAMP: "datetime64[ns]"}


def canonical_frame(table: str, rows: list[dict]) -> pd.DataFrame:
    """Rows -> a DataFrame with exactly the canonical columns and types of `table`."""
    t = TABLES[table]
    df = pd.DataFrame(rows, columns=t.column_names)
    for col in t.columns:
        dtype = PANDAS_TYPES.get(col.type, "string")
        df[col.name] = pd.to_datetime(df[col.name]) if col.type == TIMESTAMP else df[col.name].astype(dtype)
    return df


def ts(s: str) -> pd.Timestamp:
    return pd.Timestamp(s)


def small_portfolio() -> dict[str, pd.DataFrame]:
    acc = [
        dict(account_id="A1", name="Acme", segment="SMB", owner="dana", arr=12000.0, seats=10,
             created_at=ts("2024-01-01"), renewal_date=ts("2025-09-01")),
        dict(account_id="A2", name="Globex", segment="enterprise", owner="lee", arr=400000.0, seats=20,
             created_at=ts("2024-01-01"), renewal_date=ts("2025-07-01")),
        dict(account_id="A3", name="Initech", segment="mid-market", owner="lee", arr=60000.0, seats=5,
             created_at=ts("2025-05-25"), renewal_date=ts("2026-05-25")),
        dict(account_id="A4", name="Umbrella", segment="SMB", owner="dana", arr=8000.0, seats=4,
             created_at=ts("2023-06-01"), renewal_date=ts("2025-04-01")),
    ]
    usage = [
        dict(account_id="A1", ts=ts("2025-05-01 09:00"), event="login", user_id="u1", quantity=1.0, event_id="e1"),
        dict(account_id="A1", ts=ts("2025-05-10 10:00"), event="login", user_id="u2", quantity=1.0, event_id="e2"),
        dict(account_id="A1", ts=ts("2025-05-20 11:00"), event="report_view", user_id="u1", quantity=1.0, event_id="e3"),
        dict(account_id="A1", ts=ts("2025-04-10 08:00"), event="login", user_id="u1", quantity=1.0, event_id="e4"),
        dict(account_id="A2", ts=ts("2025-05-15 12:00"), event="login", user_id="u9", quantity=1.0, event_id="e5"),
        dict(account_id="A2", ts=ts("2025-03-01 12:00"), event="export", user_id="u9", quantity=3.0, event_id="e6"),
    ]
    tickets = [
        dict(ticket_id="T1", account_id="A1", opened_at=ts("2025-04-01"), closed_at=ts("2025-04-03"),
             priority="high", status="closed", escalated=True, reopened=False, csat=4.0, ces=2.0, sla_met=True),
        dict(ticket_id="T2", account_id="A1", opened_at=ts("2025-05-05"), closed_at=ts("2025-05-06"),
             priority="low", status="closed", escalated=False, reopened=True, csat=2.0, ces=5.0, sla_met=False),
        dict(ticket_id="T3", account_id="A2", opened_at=ts("2025-05-20"), closed_at=None,
             priority="normal", status="open", escalated=False, reopened=False, csat=None, ces=None, sla_met=None),
    ]
    surveys = [
        dict(account_id="A1", ts=ts("2025-03-01"), kind="nps", score=9.0, comment="great", respondent="x"),
        dict(account_id="A1", ts=ts("2025-05-01"), kind="nps", score=5.0, comment="meh", respondent="y"),
        dict(account_id="A2", ts=ts("2025-05-01"), kind="csat", score=4.0, comment=None, respondent="z"),
    ]
    invoices = [
        dict(invoice_id="I1", account_id="A1", issued_at=ts("2025-03-01"), due_at=ts("2025-03-31"),
             paid_at=ts("2025-04-15"), amount=1000.0, status="paid"),
        dict(invoice_id="I2", account_id="A1", issued_at=ts("2025-04-01"), due_at=ts("2025-05-01"),
             paid_at=None, amount=1000.0, status="failed"),
        dict(invoice_id="I3", account_id="A2", issued_at=ts("2025-04-01"), due_at=ts("2025-05-01"),
             paid_at=ts("2025-04-20"), amount=5000.0, status="paid"),
    ]
    contacts = [
        dict(contact_id="C1", account_id="A1", role="champion", started_at=ts("2024-01-01"),
             departed_at=ts("2025-05-20"), last_engaged_at=None),
        dict(contact_id="C2", account_id="A1", role="sponsor", started_at=ts("2024-01-01"), departed_at=None,
             last_engaged_at=None),
        dict(contact_id="C3", account_id="A2", role="user", started_at=ts("2024-01-01"), departed_at=None,
             last_engaged_at=None),
    ]
    interactions = [
        dict(account_id="A1", ts=ts("2025-04-15"), kind="qbr", direction="outbound"),
        dict(account_id="A1", ts=ts("2025-05-12"), kind="email", direction="inbound"),
        dict(account_id="A2", ts=ts("2025-02-01"), kind="email", direction="inbound"),
    ]
    outcomes = [
        dict(account_id="A4", ts=ts("2025-04-01"), kind="churned", arr_change=-8000.0),
        dict(account_id="A2", ts=ts("2025-01-15"), kind="expanded", arr_change=50000.0),
    ]
    assessments = [
        dict(account_id="A1", ts=ts("2025-05-02"), sentiment="yellow", author="dana", note="quiet"),
        dict(account_id="A2", ts=ts("2025-05-03"), sentiment="green", author="lee", note="fine"),
    ]
    frames = dict(accounts=acc, usage_events=usage, tickets=tickets, surveys=surveys, invoices=invoices,
                  contacts=contacts, interactions=interactions, outcomes=outcomes, assessments=assessments)
    return {name: canonical_frame(name, rows) for name, rows in frames.items()}


def load_into(con, frames: dict[str, pd.DataFrame]) -> None:
    for name, df in frames.items():
        con.create_table(name, df, overwrite=True)


def write_ungated_model(src, dest) -> None:
    """The shipped model without freshness limits and rules: the hand-made fixture is years old."""
    import yaml

    data = yaml.safe_load(open(src).read())
    data.pop("freshness", None)
    data.pop("rules", None)
    with open(dest, "w") as f:
        yaml.safe_dump(data, f, sort_keys=False)


def cli_identities(workspace, users: dict[str, str]) -> None:
    """Store users (name -> role; an admin named 'root' first when the store has none) with API tokens in the
    workspace's .healthscore/credentials (mode 600), so the CLI's `--by NAME` acts as a verified NAME."""
    from healthscore.authz import write_credentials
    from healthscore.project import Project

    with Project(workspace) as p:
        if not p.store.users():
            p.user_add("root", "admin", "root")
        path = p.workspace_dir / ".healthscore" / "credentials"
        lines = _lines(path)
        for name, role in users.items():
            if p.store.user(name) is None:
                p.user_add(name, role, "root")
            lines.append(f"{name} {p.token_create(name, 'cli', ['read', 'write'], 'root')[1]}")
        write_credentials(path, lines)


def _lines(path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def demo_workspace(tmp_path_factory, dest, *, workflow_end=None, **params):
    """A demo workspace at `dest`, copied from one built once per test session for these parameters.

    Several test packages build the same demo; the xdist workers share one build through a file lock in the
    session's base temporary directory, so each parameter set costs one build per session, not one per module."""
    import fcntl
    import hashlib
    import json
    import shutil
    from pathlib import Path

    from healthscore.scaffold import build_demo, demo_workflow

    key = hashlib.sha256(json.dumps([params, str(workflow_end)], sort_keys=True, default=str).encode()).hexdigest()[:16]
    root = tmp_path_factory.getbasetemp()
    root = root.parent if root.name.startswith("popen-gw") else root  # shared by all xdist workers of the run
    cache = root / "demo-cache" / key
    cache.parent.mkdir(parents=True, exist_ok=True)
    with open(cache.parent / f"{key}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (cache / ".complete").exists():
            shutil.rmtree(cache, ignore_errors=True)
            build_demo(cache, **params)
            if workflow_end is not None:
                demo_workflow(cache, workflow_end)
            (cache / ".complete").write_text("")
    dest = Path(dest)
    shutil.copytree(cache, dest, ignore=shutil.ignore_patterns(".complete"))
    return dest
