"""Scores: the portfolio summary, one account's snapshot and its change, history, backfill and changes."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from healthscore.cli.render import console, more, n_of_m

TIER_STYLES = {"green": "green", "yellow": "yellow", "red": "red"}

# Where an account attribute came from as of the snapshot's date (engine/attributes.py).
AS_OF_SOURCE = {"subscriptions": "subscriptions", "account_changes": "history",
                "current": "today's value, not as of the date"}


def excluded_rows(run: Any) -> list[dict[str, Any]]:
    """The accounts a run did not score, and why."""
    return [{"account_id": r.account_id, "as_of": r.as_of.date().isoformat(), "reason": r.reason}
            for r in run.frames.excluded.itertuples()]


def excluded(rows: list[dict[str, Any]]) -> None:
    from rich.table import Table

    t = Table(title=f"{len(rows):,} accounts not scored")
    for col in ("account", "as of", "reason"):
        t.add_column(col)
    for r in rows:
        t.add_row(r["account_id"], r["as_of"], r["reason"])
    console().print(t)


def coverage_line(run: Any) -> str:
    """Scored and excluded accounts, by reason: a portfolio never shrinks without a word."""
    ex = run.frames.excluded
    line = f"scored {len(run.frames.snapshots):,} snapshots; not scored: {len(ex):,}"
    if run.as_of_source != "given":
        line = f"as of {run.as_of_dates[-1]} ({run.as_of_source}); " + line
    if len(ex):
        by = ex.groupby("reason").size().sort_values(ascending=False)
        line += " (" + "; ".join(f"{n:,} {reason}" for reason, n in by.items()) + \
                "; 'healthscore score --excluded' lists them)"
    return line


def base_model_line(run: Any) -> str | None:
    """How many scored accounts no segment rule matched (scored with the base model's weights), per value of
    their own segment: a segment value the model does not name is never hidden."""
    snaps = run.frames.snapshots
    if "account_segment" not in snaps or not len(snaps):
        return None
    base = snaps[snaps["segment"].isna()]
    if not len(base):
        return None
    by = base["account_segment"].astype(object).where(base["account_segment"].notna(), "(no segment)")
    counts = by.value_counts()
    return (f"base model (no segment rule matched): {len(base):,} accounts; by their segment: "
            + ", ".join(f"{value} {n:,}" for value, n in counts.items()))


def coverage(run: Any) -> None:
    """The coverage line on standard error, under the JSON snapshots."""
    sys.stderr.write(f"{coverage_line(run)}\n")
    base = base_model_line(run)
    if base:
        sys.stderr.write(f"{base}\n")


def portfolio_summary(run: Any, lowest: int = 10) -> None:
    from rich.table import Table

    from healthscore.explain.evidence import snapshot_dicts

    con = console()
    snaps = run.frames.snapshots
    as_of = run.as_of_dates[-1]
    con.print(f"\nScored [bold]{len(snaps):,}[/] accounts as of [bold]{as_of}[/] with model {run.model_version}"
              + (f" ({run.inserted:,} new snapshots stored)" if run.run_id else " (nothing stored)"))
    if run.as_of_source not in ("given", "today"):
        con.print(f"As of {as_of}: {run.as_of_source}", highlight=False)
    base = base_model_line(run)
    if base:
        con.print(base[0].upper() + base[1:], highlight=False)
    if run.frames.excluded is not None and len(run.frames.excluded):
        con.print("Not scored:" + coverage_line(run).split("not scored:", 1)[1], highlight=False)
    if run.missing_tables:
        con.print(f"[yellow]not in the engine:[/] {', '.join(sorted(run.missing_tables))}")
    t = Table(title="Tier distribution")
    for col in ("tier / status", "accounts", "share", "ARR"):
        t.add_column(col, justify="left" if col == "tier / status" else "right")
    total = max(len(snaps), 1)
    groups = snaps.assign(key=snaps["tier"].where(snaps["tier"].notna(), snaps["status"]))
    for key in ["green", "yellow", "red", "onboarding", "insufficient_data", "paused"]:
        sub = groups[groups["key"] == key]
        if len(sub) == 0:
            continue
        arr = sub["arr"].fillna(0).sum() if "arr" in sub else 0
        style = TIER_STYLES.get(key, "dim")
        t.add_row(f"[{style}]{key}[/]", f"{len(sub):,}", f"{len(sub) / total:.1%}", f"{arr:,.0f}")
    con.print(t)
    scored = snaps[snaps["status"] == "scored"].nsmallest(lowest, "score")
    if len(scored):
        idx = set(zip(scored["account_id"], scored["as_of"]))
        ev = run.frames.evidence
        ev = ev[ev["account_id"].isin(scored["account_id"])]  # vectorised first: 100,000 accounts' rows are millions
        sub_frames = type(run.frames)(snapshots=scored,
                                      evidence=ev[[k in idx for k in zip(ev["account_id"], ev["as_of"])]])
        lt = Table(title=f"{len(scored)} lowest health scores")
        for col in ("account", "name", "owner", "score", "tier", "confidence", "main driver"):
            lt.add_column(col, justify="right" if col in ("score", "confidence") else "left")
        for s in snapshot_dicts(sub_frames):
            tier = s["tier"] or ""
            lt.add_row(s["account_id"], s["account"]["name"] or "", s["account"]["owner"] or "", f"{s['score']:.1f}",
                       f"[{TIER_STYLES.get(tier, 'dim')}]{tier}[/]", f"{s['confidence']:.2f}",
                       s["primary_driver"] or "")
        con.print(lt)
        con.print("Explain one: [bold]healthscore explain ACCOUNT_ID[/]")


def computed_not_stored(account_id: str, as_of: str) -> None:
    sys.stderr.write(f"note: {account_id} has no stored snapshot at {as_of} under this model (or --fresh):"
                     " computed from the engine now, nothing stored\n")


def snapshot(snap: dict[str, Any]) -> None:
    from rich.panel import Panel
    from rich.table import Table

    con = console()
    tier = snap["tier"] or "-"
    color = TIER_STYLES.get(tier, "white")
    score = "-" if snap["score"] is None else f"{snap['score']:.2f}"
    acc = snap.get("account") or {}
    head = (f"[bold]{snap['account_id']}[/] {acc.get('name') or ''}   owner {acc.get('owner') or '-'}\n"
            f"score [bold {color}]{score}[/]  tier [{color}]{tier}[/]  status {snap['status']}  "
            f"confidence {snap['confidence']:.2f}  coverage {snap['coverage']:.0%}\n"
            f"as of {snap['as_of']}  model {snap['model_version']}  segment {snap.get('segment') or '-'}")
    con.print(Panel(head, title="Health snapshot", expand=False))
    ct = Table(title="Components")
    for col in ("component", "score", "weight", "coverage"):
        ct.add_column(col, justify="left" if col == "component" else "right")
    for c in snap["components"]:
        ct.add_row(c["name"], "-" if c["score"] is None else f"{c['score']:.1f}", f"{c['weight']:.0%}",
                   f"{c['coverage']:.0%}")
    con.print(ct)
    et = Table(title="Evidence (points add up to the score)")
    for col in ("metric", "component", "value", "window", "source", "rows", "latest", "score", "weight", "points"):
        et.add_column(col, justify="right" if col in ("value", "rows", "score", "weight", "points") else "left")
    total = 0.0
    rubric = [e for e in snap["evidence"] if not str(e.get("source") or "").startswith("learned")]
    for e in rubric:
        v = e["value"]
        value = "-" if v is None else (f"{v:,.2f}" if isinstance(v, float) else str(v))
        pts = "-" if e["points"] is None else f"{e['points']:.2f}"
        total += e["points"] or 0.0
        source = e["source"] + (f" ({AS_OF_SOURCE[e['as_of_source']]})" if e.get("as_of_source") else "")
        et.add_row(e["metric"], e["component"], value, e["window"], source, f"{e['rows']:,}",
                   (e["latest_at"] or "-")[:10], "-" if e["score"] is None else f"{e['score']:.0f}",
                   f"{e['weight']:.1%}", pts)
    if snap["score"] is not None:
        et.add_row("[bold]total[/]", "", "", "", "", "", "", "", "", f"[bold]{total:.2f}[/]")
    con.print(et)
    if isinstance(snap.get("learned"), dict) and snap["learned"].get("terms") is not None:
        learned(snap["learned"])
    for r in snap["reasons"]:
        con.print(f"  - {r}")


def where_on_shape(t: dict[str, Any]) -> str:
    """Where a learned term's value sits on its shape, in words (explain/learned.py's fields)."""
    from rich.markup import escape
    if t["kind"] == "shape":
        b = t.get("bin")
        if b is None:
            return f"no value: scores {t['missing_score']:g}"
        if b < 0:
            return f"below the first bin ({t['bins'][0]['min']:g})"
        bb = t["bins"][b]
        upper = "and above" if bb["max"] is None else f"to {bb['max']:g}"
        scores = " ".join(f"{x['score']:.0f}" for x in t["bins"])
        return f"bin {b + 1} of {len(t['bins'])} ({bb['min']:g} {upper}); shape: {scores}"
    if t["kind"] == "map":
        if t.get("bin") is None:
            return f"no listed value: scores {t['missing_score']:g}"
        return "; ".join(f"{'> ' if i == t['bin'] else ''}{escape(str(c['category']))} {c['score']:.0f}"
                         for i, c in enumerate(t["bins"]))
    if t.get("cell") is None:
        return f"a value missing: scores {t['missing_score']:g}"
    return f"cell {t['cell'][0] + 1} x {t['cell'][1] + 1} of {len(t['edges'][0])} x {len(t['edges'][1])}"


def learned(part: dict[str, Any]) -> None:
    """A hybrid model's learned component: each term's value, points and where it sits on its shape."""
    from rich.table import Table

    con = console()
    rule = part["tier_rule"] + (" (the worse of the two)" if part["tier_rule"] == "both" else "")
    t = Table(title=f"Learned risk {part['name']}: learned score {_num(part['score'])} ({part['tier'] or 'no tiers'});"
                    f" rubric tier {part.get('rubric_tier') or '-'}; tier rule {rule} (points add up to the learned"
                    " score)")
    for col in ("metric", "value", "where on its shape", "score", "weight", "points"):
        t.add_column(col, justify="right" if col in ("value", "score", "weight", "points") else "left")
    total = 0.0
    for term in part["terms"]:
        total += term["points"] or 0.0
        v = term["value"]
        t.add_row(term["metric"], "-" if v is None else (f"{v:,.2f}" if isinstance(v, float) else str(v)),
                  where_on_shape(term), _num(term["score"], "{:.0f}"),
                  "-" if term["weight"] is None else f"{term['weight']:.1%}", _num(term["points"]))
    if part["score"] is not None:
        t.add_row("[bold]total[/]", "", "", "", "", f"[bold]{total:.2f}[/]")
    con.print(t)


def _num(v: Any, fmt: str = "{:.2f}") -> str:
    return "-" if v is None else (fmt.format(v) if isinstance(v, int | float) else str(v))


def change(change: dict[str, Any], note: str) -> None:
    from rich.table import Table

    con = console()
    a, b = change["from"], change["to"]
    if change["delta"] is None:
        con.print(f"[yellow]{note}[/]")
        return
    t = Table(title=f"Change {a['as_of']} -> {b['as_of']}: {change['delta']:+.2f} points (parts add up to it)")
    for col in ("part", "value before", "value after", "score before", "score after", "points", "from score",
                "from weight"):
        t.add_column(col, justify="left" if col == "part" else "right")
    for m in change["metrics"]:
        if abs(m["points"]) < 0.005:
            continue
        t.add_row(m["metric"], _num(m["value_before"]), _num(m["value_after"]), _num(m["score_before"], "{:.0f}"),
                  _num(m["score_after"], "{:.0f}"), f"{m['points']:+.2f}", f"{m['score_part']:+.2f}",
                  f"{m['weight_part']:+.2f}")
    if change["model_version_part"]:
        t.add_row(f"model {a['model_version']} -> {b['model_version']}", "", "", "", "",
                  f"{change['model_version_part']:+.2f}", "", "")
    con.print(t)
    con.print(f"[bold]Trend note:[/] {note}")


def _one(v: float | None) -> str:
    return "-" if v is None else f"{v:.1f}"


def history(account_id: str, rows: list[dict[str, Any]], live: dict[str, Any] | None) -> None:
    from rich.table import Table

    con = console()
    if live:
        con.print(f"[bold]Live[/] score {live['score'] if live['score'] is not None else '-'} "
                  f"({live['tier'] or live['status']}) scored {str(live['scored_at'])[:19]} UTC from events received "
                  f"{str(live['received_at'])[:19]} UTC (healthscore stream / POST /api/v1/events)")
    if not rows:
        con.print(f"No stored snapshots for {account_id}. Run 'healthscore score' (or explain) first.")
        return
    t = Table(title=f"History of {account_id}")
    for col in ("as of", "score", "smoothed", "tier", "status", "confidence", "model", "trend note"):
        t.add_column(col, justify="right" if col in ("score", "smoothed", "confidence") else "left")
    for r in rows:
        t.add_row(r["as_of"], _one(r["score"]), _one(r.get("smoothed_score")), r["tier"] or "-", r["status"],
                  f"{r['confidence']:.2f}", r["model_version"], r.get("trend_note") or "")
    con.print(t)


@contextmanager
def backfill_progress(disable: bool) -> Iterator[Callable[[int, int], None]]:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    with Progress(TextColumn("backfill"), BarColumn(), MofNCompleteColumn(), TextColumn("dates"),
                  TimeElapsedColumn(), TimeRemainingColumn(), disable=disable) as bar:
        task = bar.add_task("backfill", total=None)
        yield lambda done, total: bar.update(task, completed=done, total=total)


def backfill(result: dict[str, Any]) -> None:
    completed = (f", {result['completed_dates']} completed for accounts added later"
                 if result.get("completed_dates") else "")
    console().print(f"Backfilled {result['dates']} dates ({result['already_stored']} already stored{completed}) with"
                    f" model {result['model_version']}: {result['snapshots_written']:,} snapshots written, "
                    f"{result['dates_per_pass']} dates per engine pass.")


def changes(rows: list[dict[str, Any]], since: str, limit: int, offset: int) -> None:
    from rich.table import Table

    con = console()
    if not rows:
        con.print(f"No material changes since {since} in the stored snapshots (run 'healthscore backfill' first?).")
        return
    page = rows[offset:offset + limit]
    t = Table(title=f"{n_of_m(len(page), len(rows), offset)} material changes since {since}, newest first")
    for col in ("as of", "account", "from", "to", "delta", "smoothed", "tiers", "main driver", "note"):
        t.add_column(col, justify="right" if col in ("from", "to", "delta", "smoothed") else "left")
    from healthscore.explain.attribution import shown_change

    for r in page:
        # the delta shown is the difference of the scores shown (JSON has the exact one)
        delta = "-" if r["delta"] is None else f"{shown_change(r['previous_score'], r['score'])[2]:+.1f}"
        t.add_row(r["as_of"], r["account_id"], _one(r["previous_score"]), _one(r["score"]), delta,
                  _one(r.get("smoothed_score")),
                  f"{r['previous_tier'] or '-'} -> {r['tier'] or r['status']}", r["primary_driver"] or "-",
                  r["trend_note"] or "")
    con.print(t)
    more(con, len(page), len(rows), offset)
