"""The facade end to end on both stacks: DuckDB engine + SQLite store, PostgreSQL engine + PostgreSQL store."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

from healthscore.project import Project
from tests.fixtures import small_portfolio, write_ungated_model

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
DATES = [dt.date(2025, 4, 1), dt.date(2025, 5, 15), dt.date(2025, 6, 1)]


def make_workspace(root: Path, engine: dict | None = None, store: str | None = None) -> Path:
    (root / "data").mkdir(parents=True)
    (root / "models").mkdir()
    write_ungated_model(EXAMPLES / "seed-standard.yaml", root / "models" / "health.yaml")
    sources = {}
    for table, df in small_portfolio().items():
        df.to_csv(root / "data" / f"{table}.csv", index=False)
        sources[table] = {"path": f"data/{table}.csv"}
    cfg = {"model": "models/health.yaml", "sources": sources}
    if engine:
        cfg["engine"] = engine
    if store:
        cfg["store"] = store
    (root / "healthscore.yaml").write_text(yaml.safe_dump(cfg))
    return root


def run_portfolio(ws: Path) -> list[dict]:
    with Project(ws) as p:
        reports = p.ingest()
        assert all(r.quarantined == 0 for r in reports)
        run = p.score(as_of_dates=DATES)
        assert run.inserted == len(run.snapshots)
        assert p.score(as_of_dates=DATES).inserted == 0  # idempotent
        stored = p.store.snapshots()
    return stored


def test_stored_snapshots_round_trip(tmp_path):
    stored = run_portfolio(make_workspace(tmp_path / "ws"))
    assert {s["as_of"] for s in stored} == {d.isoformat() for d in DATES}
    for s in stored:
        if s["status"] == "scored":
            assert sum(e["points"] for e in s["evidence"]) == pytest.approx(s["score"], abs=0.01)


def test_postgres_stack_matches_embedded_stack(tmp_path, pg_database):
    embedded = run_portfolio(make_workspace(tmp_path / "duck"))
    server = run_portfolio(make_workspace(tmp_path / "pg", engine={"backend": "postgres", "url": pg_database},
                                          store=pg_database))
    key = lambda s: (s["account_id"], s["as_of"])  # noqa: E731
    assert [key(s) for s in embedded] == [key(s) for s in server]
    for a, b in zip(embedded, server):
        assert (a["status"], a["tier"]) == (b["status"], b["tier"])
        if a["score"] is not None:
            assert a["score"] == pytest.approx(b["score"], abs=0.01)
        assert [e["metric"] for e in a["evidence"]] == [e["metric"] for e in b["evidence"]]


def test_backfill_is_idempotent_and_resumes(tmp_path):
    ws = make_workspace(tmp_path / "ws")
    with Project(ws) as p:
        p.ingest()
        first = p.backfill(dt.date(2025, 3, 1), dt.date(2025, 4, 12), every_days=7)
        assert first["dates"] == 7 and first["already_stored"] == 0 and first["snapshots_written"] > 0
        # An interrupted run resumes: the first seven dates are kept, only the rest is scored.
        full = p.backfill(dt.date(2025, 3, 1), dt.date(2025, 6, 7), every_days=7)
        assert full["dates"] == 15 and full["already_stored"] == 7 and full["scored_dates"] == 8
        again = p.backfill(dt.date(2025, 3, 1), dt.date(2025, 6, 7), every_days=7)
        assert again["snapshots_written"] == 0 and again["scored_dates"] == 0
        stored = p.store.snapshot_frame(model_version=p.model.version)
        assert stored.groupby(["account_id", "as_of"]).size().max() == 1
        assert stored["as_of"].nunique() == 15
        for change in p.changes(dt.date(2025, 3, 1)):
            moved = change["delta"] is not None and abs(change["delta"]) >= 10
            assert moved or change["tier"] != change["previous_tier"]


@pytest.mark.parametrize("runs", ["one backfill", "a run per date"])
def test_trend_notes_name_the_top_contributions(tmp_path, runs):
    """In one backfill every previous snapshot is in the batch; a weekly run scores one date, and its notes read
    the previous week's stored evidence: both name the metric that moved the score most, as explain's exact
    attribution does (a run of one date used to name only the primary driver, which may not have moved)."""
    from healthscore.explain.attribution import attribute_change

    ws = make_workspace(tmp_path / "ws")
    with Project(ws) as p:
        p.ingest()
        if runs == "one backfill":
            p.backfill(dt.date(2025, 3, 1), dt.date(2025, 6, 7), every_days=7)
        else:
            for week in range(15):
                p.score(dt.date(2025, 3, 1) + dt.timedelta(days=7 * week))
        stored = p.store.snapshots()
    by_account: dict[str, list[dict]] = {}
    for s in sorted(stored, key=lambda s: (s["account_id"], s["as_of"])):
        by_account.setdefault(s["account_id"], []).append(s)
    checked = 0
    for snaps in by_account.values():
        for before, after in zip(snaps, snaps[1:]):
            if before["score"] is None or after["score"] is None or abs(after["score"] - before["score"]) < 0.05:
                continue
            change = attribute_change(before, after)
            delta = change["delta"]
            movers = [m for m in change["metrics"] if abs(m["points"]) >= 0.05 and (m["points"] > 0) == (delta > 0)]
            top = max(movers, key=lambda m: abs(m["points"]))
            note = after["trend_note"]
            assert ", mostly " + top["metric"].replace("_", " ") + f" ({top['points']:+.1f} points: " in note, note
            checked += 1
    assert checked >= 3


def test_reads_are_reads_explain_reads_stored_snapshots_and_never_writes(tmp_path):
    """explain (and the account page's change panel, which calls it) returns the stored snapshot; a date
    without one is computed with the stored history for smoothing and not stored, so a later backfill
    or weekly run still writes that date."""
    ws = make_workspace(tmp_path / "ws")
    with Project(ws) as p:
        p.ingest()
        p.score(as_of_dates=[dt.date(2025, 5, 15)])
        before = p.store.snapshots()
        stored = p.explain("A1")  # no date: the newest stored snapshot
        assert stored["stored"] is True and stored["as_of"] == "2025-05-15"
        assert stored["account"]["name"] == "Acme"
        assert sum(e["points"] for e in stored["evidence"]) == pytest.approx(stored["score"], abs=0.01)
        fresh = p.explain("A1", dt.date(2025, 5, 15), fresh=True)
        assert fresh["stored"] is False and fresh["score"] == pytest.approx(stored["score"])
        change = p.explain("A1", dt.date(2025, 6, 1), compare=dt.date(2025, 5, 15))
        assert change["stored"] is False and "change" in change
        assert p.store.snapshots() == before  # nothing written by any read
        assert p.score(as_of_dates=[dt.date(2025, 6, 1)]).inserted == 3  # the date is still there to store


def test_explaining_a_stored_snapshot_needs_no_engine(tmp_path):
    """The account's name, owner and ARR as of the date are stored with the snapshot: explain reads the store
    and the history alone (here the engine file is gone)."""
    ws = make_workspace(tmp_path / "ws")
    with Project(ws) as p:
        p.ingest()
        p.score(as_of_dates=[dt.date(2025, 5, 15)])
        engine_file = next((ws / ".healthscore").glob("engine.duckdb"))
    engine_file.rename(engine_file.with_suffix(".gone"))
    with Project(ws) as p:
        stored = p.explain("A1")
        assert stored["stored"] is True and stored["account"]["name"] == "Acme"
        assert stored["account"]["owner"] is not None and stored["account"]["arr"] > 0


def test_score_without_storing_writes_nothing(tmp_path):
    with Project(make_workspace(tmp_path / "ws")) as p:
        p.ingest()
        run = p.score(as_of_dates=[dt.date(2025, 6, 1)], store=False)
        assert len(run.snapshots) == 3 and run.inserted == 0 and p.store.snapshots() == []


def test_an_account_id_that_is_not_utf8_text_is_refused_by_name(tmp_path):
    """A str with lone surrogates (bytes decoded with surrogateescape) failed in DuckDB or SQLite with a
    UnicodeEncodeError; the Python API refuses it with the value and what is expected."""
    from healthscore.errors import InvalidInput

    with Project(make_workspace(tmp_path / "ws")) as p:
        p.ingest()
        p.score(as_of_dates=[dt.date(2025, 6, 1)])
        for read in (p.history, p.explain):
            with pytest.raises(InvalidInput, match=r"account id 'A\\udcff' is not UTF-8 text"):
                read("A\udcff")
