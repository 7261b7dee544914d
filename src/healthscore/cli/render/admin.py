"""Users, API tokens, the audit log and model governance."""

from __future__ import annotations

import json
from typing import Any

from healthscore.cli.render import console


def user_added(u: dict[str, Any]) -> None:
    mapped = f"; acts as OS user {u['os_user']} on the command line" if u["os_user"] else ""
    console().print(f"Added {u['username']} ({u['role']}){'' if u['has_password'] else '; no password: no web login'}"
                    f"{mapped}.", highlight=False)


def user_changed(u: dict[str, Any]) -> None:
    console().print(f"{u['username']}: role {u['role']}{', disabled' if u['disabled_at'] else ''}.")


def users(rows: list[dict[str, Any]]) -> None:
    from rich.table import Table

    t = Table(title="Users")
    for col in ("user", "role", "web login", "created", "disabled"):
        t.add_column(col)
    for u in rows:
        t.add_row(u["username"], u["role"], "yes" if u["has_password"] else "no", u["created_at"][:10],
                  (u["disabled_at"] or "")[:10])
    console().print(t)


def token_created(token: dict[str, Any], secret: str, user: str) -> None:
    console().print(f"Token {token['token_id']} ({', '.join(token['scopes'])}) for {user}. Secret, shown once:\n"
                    f"  {secret}", highlight=False)


def tokens(rows: list[dict[str, Any]]) -> None:
    for r in rows:
        state = f"revoked {r['revoked_at'][:10]}" if r["revoked_at"] else f"last used {(r['last_used_at'] or '-')[:10]}"
        console().print(f"{r['token_id']}  {r['name']}  user {r['username']}  {','.join(r['scopes'])}  {state}")


def token_revoked(token_id: str) -> None:
    console().print(f"Token {token_id} revoked.")


def audit_verified(r: dict[str, Any]) -> None:
    if r["ok"]:
        console().print(f"[green]OK[/] audit log intact: {r['entries']:,} entries, head {r['head'][:12]}")
    else:
        console().print(f"[red]TAMPERED[/] {r['problem']}")


def audit_log(rows: list[dict[str, Any]]) -> None:
    from rich.table import Table

    t = Table(title="Audit log")
    for col in ("seq", "at", "actor", "action", "object", "after"):
        t.add_column(col)
    for r in rows:
        t.add_row(str(r["seq"]), r["at"][:19], r["actor"], r["action"], f"{r['object_type']} {r['object_id']}",
                  json.dumps(r["after"])[:80])
    console().print(t)


def models(rows: list[dict[str, Any]], notice: str | None) -> None:
    from rich.table import Table

    t = Table(title="Model versions")
    for col in ("version", "name", "status", "author", "note", "AUC", "approved by", "created"):
        t.add_column(col)
    for r in rows:
        auc = (r["backtest"] or {}).get("roc_auc")
        t.add_row(r["version"], r["name"], r["status"], r["author"] or "-", (r["note"] or "")[:40],
                  "-" if auc is None else f"{auc:.3f}", r["approved_by"] or "-", r["created_at"][:10])
    con = console()
    con.print(t)
    if notice:
        con.print(f"[yellow]{notice}[/]")


def _ci(v: float | None, iv: list[float] | None) -> str:
    return "-" if v is None else f"{v:.3f}" + (f" [{iv[0]:.3f}, {iv[1]:.3f}]" if iv else "")


def backtest_summary(bt: dict[str, Any]) -> str:
    """The headline an approver reads: held-out figures with their intervals, and what they are."""
    basis = {"held_out": f"held-out ({bt.get('method')})", "hand_set_weights": "backtest of hand-set weights"}.get(
        bt.get("basis") or "", "backtest")
    line = (f"{basis}: AUC {_ci(bt.get('roc_auc'), bt.get('roc_auc_interval'))}, lowest-decile lift"
            f" {_ci(bt.get('lowest_decile_lift'), bt.get('lowest_decile_lift_interval'))}")
    if bt.get("auc_gain") is not None:
        line += f", AUC gain over the model it came from {_ci(bt['auc_gain'], bt.get('auc_gain_interval'))}"
    if bt.get("probability_adds_nothing"):
        line += "; the churn probability adds nothing over the base rate"
    return line


def model_proposed(r: dict[str, Any]) -> None:
    bt = r["backtest"] or {}
    figures = (backtest_summary(bt) if bt.get("roc_auc") is not None else bt.get("skipped") or bt.get("note")
               or "no backtest")
    console().print(f"Proposed {r['version']} ({r['name']}) by {r['author']}: {figures}.\n"
                    f"Review: healthscore model show {r['version']}   Approve (admin): healthscore model approve "
                    f"{r['version']}", highlight=False)


def model(r: dict[str, Any]) -> None:
    from rich.syntax import Syntax

    con = console()
    con.print(f"[bold]{r['version']}[/] {r['name']}  status {r['status']}  author {r['author'] or '-'}  "
              f"approved by {r['approved_by'] or '-'}\n{r['note'] or ''}")
    bt = r["backtest"] or {}
    if bt.get("roc_auc") is not None:
        con.print(backtest_summary(bt), highlight=False)
        if bt.get("leaks"):
            con.print("[bold red]LEAK WARNING[/]: " + "; ".join(f"{lk['metric']} ({', '.join(lk['reasons'])})"
                                                             for lk in bt["leaks"]), highlight=False)
    con.print(f"backtest: {json.dumps(bt)}", highlight=False)
    con.print(Syntax(r["diff"] or "(no difference)", "diff"))


def model_approved(r: dict[str, Any]) -> None:
    console().print(f"{r['version']} is now the active model (approved by {r['approved_by']}). Stored snapshots keep"
                    " the version they were scored with; new scores use this one.")
