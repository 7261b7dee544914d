"""The review workflow: the weekly run, review tasks, decisions, alerts and interventions."""

from __future__ import annotations

from typing import Any

from healthscore.cli.render import console, more, n_of_m


def weekly(result: dict[str, Any]) -> None:
    con = console()
    a, t = result["alerts"], result["tasks"]
    con.print(f"Weekly review {result['week']} (as of {result['as_of']}): {result['accounts']:,} accounts scored, "
              f"{result['material_changes']:,} material changes")
    con.print(f"  alerts fired: {a['fired']:,} " + " ".join(f"{k} {v:,}" for k, v in sorted(a["by_status"].items())))
    for rule, n in sorted(a["by_rule"].items(), key=lambda kv: -kv[1]):
        con.print(f"    {rule}: {n:,}")
    con.print(f"  review tasks: {t['created']:,} created, {t['already_open_this_week']:,} "
              "accounts with a task of this week already (open or in the backlog)")
    if "candidates" in t:
        con.print(f"  triage: {t['candidates']:,} candidates; {t['open']:,} open tasks now (each owner at most their "
                  f"capacity), {t['in_backlog']:,} in the ranked backlog ({t['backlog']:,} new, "
                  f"{t['returned_to_backlog']:,} returned), {t['superseded']:,} superseded, "
                  f"{t.get('closed_not_scored', 0):,} closed (account not scored); {result.get('good_news', 0):,} "
                  "rises sent to the digests as good news")
        for owner, o in sorted(t["by_owner"].items()):
            con.print(f"    {owner}: {o['open']} of {o['capacity']} ({o['new']} new, {o['high']} high), "
                      f"{o['backlog']} in the backlog")
    d = result["deliveries"]
    if d["ok"] or d["failed"]:
        con.print(f"  notifications: {d['ok']} delivered, {d['failed']} failed (recorded)")
    con.print("Next: [bold]healthscore tasks --owner NAME[/], then [bold]healthscore review TASK --accept[/]")


def sort_tasks(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Tasks by what matters: owner (queue), then the weekly triage's rank, then due date."""
    return sorted(rows, key=lambda r: (r["queue"] or "", r.get("rank") is None, r.get("rank") or 0, r["due_at"],
                                       r["task_id"]))


def tasks(rows: list[dict[str, Any]], status: str, owner: str | None, limit: int, offset: int) -> None:
    from rich.table import Table

    con = console()
    if not rows:
        con.print(f"No {status} review tasks{' for ' + owner if owner else ''}. Run 'healthscore run weekly' first?")
        return
    page = rows[offset:offset + limit]
    t = Table(title=f"{n_of_m(len(page), len(rows), offset)} {status} review tasks"
                    f"{' of ' + owner if owner else ''}, by rank")
    for col in ("task", "rank", "due", "account", "owner", "priority", "ARR at risk", "score", "smoothed", "tier",
                "why", "next action"):
        t.add_column(col, justify="right" if col in ("task", "rank", "score", "smoothed", "ARR at risk") else "left")
    for r in page:
        why = ", ".join(x["name"].replace("_", " ") for x in r["triggers"] if x["kind"] != "routing")
        tri = r["next_action"].get("triage") or {}
        sm = tri.get("smoothed_score")
        t.add_row(str(r["task_id"]), str(r.get("rank") or "-"), r["due_at"], r["account_id"], r["queue"],
                  r["priority"], "-" if r.get("expected_arr_at_risk") is None else f"{r['expected_arr_at_risk']:,.0f}",
                  "-" if r["score"] is None else f"{r['score']:.1f}", "-" if sm is None else f"{sm:.1f}",
                  r["tier"] or r["snapshot_status"], why, r["next_action"]["action"])
    con.print(t)
    more(con, len(page), len(rows), offset)
    con.print("Open one: [bold]healthscore tasks --show TASK[/]")


def _points_lost(e: dict[str, Any]) -> float:
    return -((e.get("weight") or 0.0) * (100.0 - (e["score"] if e.get("score") is not None else 100.0)))


def _value(v: Any) -> str:
    return "-" if v is None else f"{v:.2f}" if isinstance(v, float) else str(v)


def task(task: dict[str, Any]) -> None:
    from rich.panel import Panel
    from rich.table import Table

    con = console()
    na = task["next_action"]
    score = "-" if task["score"] is None else f"{task['score']:.1f}"
    head = (f"[bold]Task {task['task_id']}[/] {task['account_id']}  owner {task['queue']}  priority {task['priority']}"
            f"  due {task['due_at']}  status {task['status']}\n"
            f"score {score}  tier {task['tier'] or task['snapshot_status']}  as of {task['as_of']}\n"
            f"{task['trend_note'] or ''}")
    con.print(Panel(head, title="Review task", expand=False))
    for x in task["triggers"]:
        con.print(f"  - {x['kind']}: {x['note']}")
    con.print(Panel(f"{na['action']}\nwho: {na['assignee']}  channel: {na['channel']}  ({'; '.join(na['why'])})\n"
                    f"[dim]{na['notice']}[/]", title=f"Drafted next action ({na['playbook'] or 'default'})",
                    expand=False))
    et = Table(title="Evidence")
    for col in ("metric", "value", "score", "points", "window", "latest"):
        et.add_column(col, justify="right" if col in ("value", "score", "points") else "left")
    # What cost the most points first: what the reviewer should look at.
    for e in sorted(task["evidence"], key=_points_lost)[:12]:
        et.add_row(e["metric"], _value(e.get("value")), _value(e.get("score")), _value(e.get("points")),
                   e.get("window") or "", (e.get("latest_at") or "-")[:10])
    con.print(et)
    if task["status"] != "open":
        con.print(f"Decided: {task['status']} by {task['decided_by']} at {task['decided_at']}"
                  f" ({task['reason_code'] or ''} {task['note'] or ''})")
    else:
        con.print(f"Decide: healthscore review {task['task_id']} --accept | --correct --score N --reason-code CODE "
                  "--note TEXT --expires DATE | --dismiss --reason TEXT", highlight=False)


def review(task_id: int, result: dict[str, Any]) -> None:
    extra = f" (override {result['override_id']})" if result.get("override_id") else ""
    console().print(f"Task {task_id} {result['status']} by {result['decided_by']}{extra}; recorded in the audit log.")


def followup(task_id: int, actor: str) -> None:
    console().print(f"Follow-up of task {task_id} logged by {actor}.")


def alerts(rows: list[dict[str, Any]], limit: int) -> None:
    from rich.table import Table

    con = console()
    if not rows:
        con.print("No alerts. Run 'healthscore run weekly' first?")
        return
    t = Table(title=f"{n_of_m(min(limit, len(rows)), len(rows))} alerts")
    for col in ("as of", "account", "rule", "severity", "owner", "status", "task", "note"):
        t.add_column(col)
    for r in rows[:limit]:
        t.add_row(r["as_of"], r["account_id"], r["rule"], r["severity"], r["queue"], r["status"],
                  str(r["task_id"] or "-"), r["note"])
    con.print(t)
    more(con, min(limit, len(rows)), len(rows), 0)


def intervention_logged(r: dict[str, Any]) -> None:
    con = console()
    i = r["intervention"]
    con.print(f"Logged {i['play']} by {i['channel']} on task {i['task_id']} ({i['account_id']}): attempt"
              f" {i['attempt']}, response {i['response']}", highlight=False)
    if r["suggestion"]:
        con.print(f"[yellow]Suggestion (draft)[/]: {r['suggestion']['action']} {r['suggestion']['notice']}",
                  highlight=False)


def interventions(rows: list[dict[str, Any]]) -> None:
    con = console()
    for r in rows:
        con.print(f"{r['at'][:16]} task {r['task_id']} {r['account_id']}: {r['play']} by {r['channel']}, attempt"
                  f" {r['attempt']}, response {r['response']} ({r['actor']})", highlight=False)
