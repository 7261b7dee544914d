"""Issue 16, "data that is silently wrong": every case is refused or quarantined with a clear reason,
nothing is lost (read == accepted + quarantined) and nothing accepted is changed."""

from __future__ import annotations

import tempfile
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from healthscore.project import Project

ACCOUNTS = [{"account_id": "A1", "name": "Acme"}]


def make_project(root: Path, sources: str = "") -> Project:
    (root / "healthscore.yaml").write_text(
        "model: models/health.yaml\nengine: {backend: duckdb, path: .healthscore/engine.duckdb}\n" + sources,
        encoding="utf-8")
    return Project(root)


@pytest.fixture
def project(tmp_path):
    with make_project(tmp_path) as p:
        p.ingest_rows("accounts", ACCOUNTS)
        yield p


def surveys(p: Project, rows: list[dict]):
    report = p.ingest_rows("surveys", [{"account_id": "A1", "kind": "nps", "score": 5, **r} for r in rows])
    assert report.read == report.accepted + report.quarantined == len(rows)
    return report


def stored_ts(p: Project) -> list:
    return sorted(r["ts"] for r in p.con.table("surveys").to_pyarrow().to_pylist())


# -- timestamps ----------------------------------------------------------------------------------


def test_a_zone_name_does_not_shift_later_naive_timestamps(project):
    r = surveys(project, [
        {"ts": "2025-06-01 10:00:00"},
        {"ts": "2025-06-02 10:00:00 Asia/Tokyo"},
        {"ts": "2025-06-03 10:00:00"},
        {"ts": "2025-06-04 10:00:00+02:00"},
        {"ts": "2025-06-05 10:00:00"},
    ])
    assert r.quarantined == 0
    assert stored_ts(project) == [
        datetime(2025, 6, 1, 10), datetime(2025, 6, 2, 1), datetime(2025, 6, 3, 10),
        datetime(2025, 6, 4, 8), datetime(2025, 6, 5, 10)]


def test_zone_names_are_converted_per_row_or_quarantined(project):
    r = surveys(project, [
        {"ts": "2025-01-15 10:00:00 America/New_York"},  # EST, -5
        {"ts": "2025-07-15 10:00:00 America/New_York"},  # EDT, -4
        {"ts": "2025-07-15 10:00:00 Europe/Paris"},
        {"ts": "2025-07-15 10:00:00 Mars/Olympus"},
    ])
    assert stored_ts(project) == [datetime(2025, 1, 15, 15), datetime(2025, 7, 15, 8), datetime(2025, 7, 15, 14)]
    q = r.quarantine.to_dict("records")
    assert [(x["line"], x["column"], x["value"]) for x in q] == [(4, "ts", "2025-07-15 10:00:00 Mars/Olympus")]
    assert q[0]["reason"].startswith("ts: '2025-07-15 10:00:00 Mars/Olympus' is not a date/time (use ISO 8601")


@pytest.mark.parametrize("value,why", [
    ("294247-01-01", "outside the plausible date range 1900-01-01 to 2100-12-31"),
    ("2101-01-01", "outside the plausible date range"),
    ("1899-12-31 23:59:59", "outside the plausible date range"),
    ("2025-06-02 10:00:00+24:00", "is not a date/time"),
    ("2025-06-02 10:00:00+14:30", "is not a date/time"),
    ("2025-06-02 10:00:00+02:60", "is not a date/time"),
])
def test_implausible_dates_and_offsets_are_quarantined(project, value, why):
    r = surveys(project, [{"ts": "2025-06-01"}, {"ts": value}])
    assert r.accepted == 1
    q = r.quarantine.to_dict("records")[0]
    assert (q["line"], q["column"], q["value"]) == (2, "ts", value)
    assert why in q["reason"] and value in q["reason"]


def test_edges_of_the_plausible_range_and_offsets_are_accepted(project):
    r = surveys(project, [{"ts": "1900-01-01"}, {"ts": "2100-12-31 23:59:59"}, {"ts": "2025-06-02 10:00:00+14:00"},
                          {"ts": "2025-06-02 10:00:00 -12:00"}])
    assert r.quarantined == 0
    assert stored_ts(project) == [datetime(1900, 1, 1), datetime(2025, 6, 1, 20), datetime(2025, 6, 2, 22),
                                  datetime(2100, 12, 31, 23, 59, 59)]


_naive = st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2090, 1, 1)).map(
    lambda d: d.replace(microsecond=0))
_ZONES = ["", "Z", "+02:00", "-0530", "+14", " Asia/Tokyo", " Europe/Paris", " UTC", " America/New_York", "+24:00",
          " Nowhere/Else", "+02:61"]
_stamp = st.builds(lambda d, sep, z: d.strftime(f"%Y-%m-%d{sep}%H:%M:%S") + z, _naive, st.sampled_from([" ", "T"]),
                   st.sampled_from(_ZONES)) | st.sampled_from(["2025-06-02", "not a date", "294247-01-01", ""])


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(_stamp, min_size=1, max_size=8))
def test_property_each_timestamp_parses_as_it_would_alone(values):
    """Any mix of timestamp strings: each row's outcome (value or quarantine reason) equals the outcome
    of ingesting that row on its own."""
    def outcome(p, vals):
        r = p.ingest_rows("signals", [{"account_id": "A1", "ts": v, "name": str(i), "value": 1}
                                      for i, v in enumerate(vals)], source="prop")
        got = {row["name"]: row["ts"] for row in p.con.table("signals").to_pyarrow().to_pylist()}
        p.con.raw_sql("DROP TABLE signals")
        reasons = {x["line"] - 1: x["reason"] for x in r.quarantine.to_dict("records")}
        return [got.get(str(i), reasons.get(i)) for i in range(len(vals))]

    with tempfile.TemporaryDirectory() as tmp, make_project(Path(tmp)) as p:
        p.ingest_rows("accounts", ACCOUNTS)
        together = outcome(p, values)
        alone = [outcome(p, [v])[0] for v in values]
        assert together == alone
        for v, got in zip(values, together):  # naive and offset values: the exact instant
            if isinstance(got, datetime) and v[-6:-5] in "+-" and v[-3:-2] == ":" and v[-2:] < "60" and v[-6:-3] <= "+14":
                base = datetime.fromisoformat(v[:-6].replace("T", " "))
                sign = 1 if v[-6] == "+" else -1
                assert got == base - sign * timedelta(hours=int(v[-5:-3]), minutes=int(v[-2:]))


# -- domain ranges ---------------------------------------------------------------------------------


def test_scores_outside_their_scale_are_quarantined_with_the_reason(project):
    r = surveys(project, [
        {"ts": "2025-06-01", "kind": "nps", "score": 10},
        {"ts": "2025-06-01", "kind": "nps", "score": 11},
        {"ts": "2025-06-01", "kind": "csat", "score": 99},
        {"ts": "2025-06-01", "kind": "nps", "score": "1e308"},
        {"ts": "2025-06-01", "kind": "ces", "score": 7},
        {"ts": "2025-06-01", "kind": "ces", "score": 0},
        {"ts": "2025-06-01", "kind": "pulse", "score": 80},
        {"ts": "2025-06-01", "kind": "pulse", "score": 1e300},
    ])
    q = r.quarantine.to_dict("records")
    assert [(x["line"], x["column"], x["value"]) for x in q] == [
        (2, "score", "11"), (3, "score", "99"), (4, "score", "1e308"), (6, "score", "0"), (8, "score", "1e300")]
    assert q[0]["reason"] == "score: '11' is out of range for kind nps; must be between 0 and 10"
    assert q[1]["reason"] == "score: '99' is out of range for kind csat; must be between 1 and 5"
    assert q[3]["reason"] == "score: '0' is out of range for kind ces; must be between 1 and 7"
    assert "numbers must be finite and at most 1e+18" in q[4]["reason"]
    assert sorted(x["score"] for x in project.con.table("surveys").to_pyarrow().to_pylist()) == [7, 10, 80]


def test_ticket_csat_and_ces_ranges_in_a_file(tmp_path):
    (tmp_path / "tickets.csv").write_text(
        "ticket_id,account_id,opened_at,csat,ces\nT1,A1,2025-06-01,5,7\nT2,A1,2025-06-01,99,\nT3,A1,2025-06-01,,8\n"
        "T4,A1,2025-06-01,1e308,\n", encoding="utf-8")
    (tmp_path / "accounts.csv").write_text("account_id\nA1\n", encoding="utf-8")
    with make_project(tmp_path, "sources:\n  accounts: {path: accounts.csv}\n  tickets: {path: tickets.csv}\n") as p:
        reports = {r.table: r for r in p.ingest()}
    q = reports["tickets"].quarantine.to_dict("records")
    assert [(x["file"], x["line"], x["column"], x["value"]) for x in q] == [
        ("tickets.csv", 3, "csat", "99"), ("tickets.csv", 4, "ces", "8"), ("tickets.csv", 5, "csat", "1e308")]
    assert q[0]["reason"] == "csat: '99' is out of range; must be between 1 and 5"
    assert reports["tickets"].accepted == 1


# -- CSV: quoting, large values, empty sources, the quarantine threshold ---------------------------

Q = '"'


def events_csv(n: int, broken: int | None = None, pad: str = "") -> str:
    rows = ["account_id,ts,event,event_id"]
    for i in range(n):
        event = (Q if i == broken else "") + "login" + pad
        rows.append(f"A1,2024-05-01,{event},E{i}")
    return "\n".join(rows) + "\n"


def ingest_events(tmp_path: Path, text: str, monkeypatch=None, stream: bool = False, **kw):
    (tmp_path / "accounts.csv").write_text("account_id\nA1\n", encoding="utf-8")
    (tmp_path / "events.csv").write_text(text, encoding="utf-8")
    if stream:  # the batch reader of large files (64 MiB and more) on a smaller file
        from healthscore.ingest import streaming

        monkeypatch.setattr(streaming, "STREAM_CSV_MIN_BYTES", 0)
    with make_project(tmp_path, "sources:\n  accounts: {path: accounts.csv}\n  usage_events: {path: events.csv}\n") as p:
        report = {r.table: r for r in p.ingest(**kw)}["usage_events"]
        ids = [r["event_id"] for r in p.con.table("usage_events").to_pyarrow().to_pylist()]
    assert report.read == report.accepted + report.quarantined
    return report, ids


@pytest.mark.parametrize("n,stream", [(200, False), (120_000, False), (400_000, True)],
                         ids=["small", "several-blocks-in-memory", "streamed"])
def test_an_unclosed_quote_quarantines_only_its_line(tmp_path, monkeypatch, n, stream):
    """200 rows (the issue's case), ~3.5 MB (several pyarrow blocks: rows were silently swallowed) and a
    streamed file (pyarrow's chunker failed the whole file)."""
    broken = n // 2
    report, ids = ingest_events(tmp_path, events_csv(n, broken), monkeypatch, stream)
    assert (report.read, report.accepted, report.quarantined) == (n, n - 1, 1)
    q = report.quarantine.to_dict("records")[0]
    assert (q["file"], q["line"], q["column"]) == ("events.csv", broken + 2, "")
    assert q["raw"] == {"_raw_line": f'A1,2024-05-01,"login,E{broken}'}
    assert q["reason"].startswith("a quoted value opens on this line and does not close properly")
    assert ids == [f"E{i}" for i in range(n) if i != broken]  # nothing lost, file order kept


def test_an_unclosed_quote_that_closes_on_a_later_line_quarantines_the_lines_it_broke(tmp_path):
    text = events_csv(6, broken=1) + 'A1,2024-05-02,"quoted, fine",E6\nA1,2024-05-02,login,E7\n'
    report, ids = ingest_events(tmp_path, text)
    assert report.read == report.accepted + report.quarantined
    lines = list(report.quarantine["line"])
    assert lines[0] == 3 and "does not close properly" in report.quarantine["reason"].iloc[0]
    assert {"E0", "E2", "E3", "E4", "E5", "E7"} <= set(ids)  # the rows after the broken line are read


@pytest.mark.parametrize("stream", [False, True], ids=["in-memory", "streamed"])
def test_values_over_a_block_are_read(tmp_path, monkeypatch, stream):
    big = "x" * 1_600_000
    text = events_csv(3) + f"A1,2024-05-02,{big},E3\nA1,2024-05-02,login\nA1,2024-05-03,\"{big}\n{big}\",E4\n"
    report, ids = ingest_events(tmp_path, text, monkeypatch, stream)
    assert (report.read, report.accepted, report.quarantined) == (6, 5, 1)
    assert list(report.quarantine["line"]) == [6]
    assert ids == ["E0", "E1", "E2", "E3", "E4"]


def test_a_header_only_accounts_file_is_refused_unless_allowed(tmp_path):
    from healthscore.errors import UserError

    (tmp_path / "accounts.csv").write_text("account_id\nA1\n", encoding="utf-8")
    (tmp_path / "events.csv").write_text(events_csv(3), encoding="utf-8")
    cfg = "sources:\n  accounts: {path: accounts.csv}\n  usage_events: {path: events.csv}\n"
    with make_project(tmp_path, cfg) as p:
        p.ingest()
        (tmp_path / "accounts.csv").write_text("account_id\n", encoding="utf-8")
        with pytest.raises(UserError, match="accounts.csv: no rows .* would empty the accounts table") as exc:
            p.ingest()
        assert "--allow-empty" in str(exc.value)
        assert p.con.table("accounts").count().execute() == 1  # left as it was
        assert p.con.table("usage_events").count().execute() == 3
        # every row quarantined is refused too
        (tmp_path / "accounts.csv").write_text("account_id\nA1\n", encoding="utf-8")
        (tmp_path / "events.csv").write_text("account_id,ts,event,event_id\nX9,2024-05-01,login,E1\n", encoding="utf-8")
        with pytest.raises(UserError, match=r"all 1 row\(s\) quarantined; ingesting it would empty the usage_events"):
            p.ingest()
        assert p.con.table("usage_events").count().execute() == 3
        (tmp_path / "accounts.csv").write_text("account_id\n", encoding="utf-8")
        p.ingest(allow_empty=True)
        assert p.con.table("accounts").count().execute() == 0


def _cli(*args: str):
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-m", "healthscore", *args], capture_output=True, text=True, timeout=300)


def test_cli_ingest_exits_non_zero_over_the_quarantine_threshold(tmp_path):
    import json

    (tmp_path / "accounts.csv").write_text("account_id\nA1\n", encoding="utf-8")
    rows = events_csv(18) + "X9,2024-05-01,login,E18\nA1,not a date,login,E19\n"  # 10% quarantined
    (tmp_path / "events.csv").write_text(rows, encoding="utf-8")
    make_project(tmp_path, "sources:\n  accounts: {path: accounts.csv}\n  usage_events: {path: events.csv}\n").close()
    proc = _cli("ingest", "-w", str(tmp_path), "--json")
    assert proc.returncode == 1, proc.stderr
    out = json.loads(proc.stdout)
    events = next(t for t in out["tables"] if t["table"] == "usage_events")
    assert (events["accepted"], events["quarantine_share"], events["over_quarantine_max_share"]) == (18, 0.1, True)
    assert out["quarantine_max_share"] == 0.05
    assert "usage_events: 2 of 20 row(s) quarantined (10.0%), more than quarantine_max_share 5.0%" in proc.stderr
    assert "Traceback" not in proc.stderr
    # configurable
    cfg = tmp_path / "healthscore.yaml"
    cfg.write_text(cfg.read_text() + "quarantine_max_share: 0.2\n", encoding="utf-8")
    assert _cli("ingest", "-w", str(tmp_path)).returncode == 0
    # a header-only source: exit 2, one clear message, no traceback
    (tmp_path / "accounts.csv").write_text("account_id\n", encoding="utf-8")
    proc = _cli("ingest", "-w", str(tmp_path))
    assert proc.returncode == 2 and "would empty the accounts table" in proc.stderr and "Traceback" not in proc.stderr


# -- YAML: duplicate keys, alias bombs, values that would crash `score` ------------------------------

MODEL = """\
name: m
defaults: {missing: exclude}
components:
  - name: usage
    weight: 40
    metrics:
      - name: logins
        source: usage_events
        measure: count
        filter: {event: login}
        window: 30d
        transform: {kind: linear, low: 0, high: 20}
"""


def model_errors(tmp_path: Path, text: str) -> str:
    from healthscore.errors import UserError
    from healthscore.model.load import load_health_model

    path = tmp_path / "model.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(UserError) as exc:
        load_health_model(path)
    return str(exc.value)


def test_the_model_used_by_these_tests_is_valid(tmp_path):
    from healthscore.model.load import load_health_model

    (tmp_path / "model.yaml").write_text(MODEL, encoding="utf-8")
    assert load_health_model(tmp_path / "model.yaml").ir.components[0].weight == 40


def test_a_duplicate_key_is_an_error_with_file_line_and_key(tmp_path):
    text = MODEL.replace("    weight: 40\n", "    weight: 40\n    weight: 5\n")
    assert model_errors(tmp_path, text) == (
        f"{tmp_path / 'model.yaml'}:6: duplicate key 'weight' (first at line 5); YAML keys must be unique: keep one")


def test_a_duplicate_source_in_healthscore_yaml_is_an_error(tmp_path):
    from healthscore.errors import UserError

    cfg = "sources:\n  usage_events: {path: a.csv}\n  tickets: {path: t.csv}\n  usage_events: {path: b.parquet}\n"
    with pytest.raises(UserError, match=r"healthscore.yaml:6: duplicate key 'usage_events' \(first at line 4\)"):
        _ = make_project(tmp_path, cfg).ws


def test_readme_example_has_no_duplicate_key(tmp_path):
    import re

    from healthscore.yamlio import read_yaml

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```yaml\n(.*?)```", readme, flags=re.DOTALL)
    assert blocks
    for i, block in enumerate(blocks):
        read_yaml(tmp_path / f"readme-{i}.yaml", block)  # raises on a duplicate key


def test_an_alias_bomb_shaped_like_a_filter_is_refused_quickly(tmp_path):
    levels = ['      a: &a ["x","x","x","x","x","x","x","x","x"]']
    for i, name in enumerate("bcdefgh"):
        prev = "abcdefgh"[i]
        levels.append(f"      {name}: &{name} [{','.join(['*' + prev] * 9)}]")
    bomb = "x-anchors:\n" + "\n".join(levels) + "\n" + MODEL.replace(
        "        filter: {event: login}\n", "        filter:\n          event:\n            in: *h\n")
    assert len(bomb.encode()) - len(MODEL.encode()) < 1000  # ~600 bytes of YAML, 9**8 values once expanded
    msg = model_errors(tmp_path, bomb)
    assert "invalid YAML: more than 200,000 values once its aliases (*name) are expanded" in msg


def test_a_recursive_alias_is_refused(tmp_path):
    assert "recursive" in model_errors(tmp_path, MODEL + "extra: &r [1, *r]\n")


def test_small_aliases_still_work(tmp_path):
    from healthscore.model.load import load_health_model

    text = MODEL.replace("filter: {event: login}", "filter: &f {event: [login, open]}") + \
        MODEL.split("metrics:\n")[1].replace("logins", "opens").replace("filter: {event: login}", "filter: *f")
    (tmp_path / "model.yaml").write_text(text, encoding="utf-8")
    ir = load_health_model(tmp_path / "model.yaml").ir
    assert ir.components[0].metrics[0].filter == ir.components[0].metrics[1].filter


@pytest.mark.parametrize("old,new,fragment", [
    ("    weight: 40", "    weight: .inf", "components[0].weight: Input should be a finite number"),
    ("    weight: 40", "    weight: .nan", "components[0].weight: Input should be a finite number"),
    ("        window: 30d", "        window: 10000000000000000000000d", "components[0].metrics[0].window: Value error, window"),
    ("        window: 30d", "        window: 36501d", "is too long; at most 36500 days"),
    ("high: 20}", "high: 1.0e+300}", "components[0].metrics[0].transform.high: Value error, 1e+300 is out of range"),
    ("        filter: {event: login}", "        filter: {ts: {gte: last tuesday}}",
     ":10: components[0].metrics[0].filter.ts.gte: 'last tuesday' is not a date for the timestamp column ts"),
    ("        filter: {event: login}", "        filter: {ts: {gte: '2024-13-45'}}", "is not a date for the timestamp column ts"),
    ("        filter: {event: login}", "        filter: {ts: {gte: 2024-13-45}}", ":10: invalid YAML value '2024-13-45': month must be"),
    ("        filter: {event: login}", "        filter: {quantity: {gt: lots}}", "'lots' is not a number; quantity is numeric"),
    ("        filter: {event: login}", "        filter: {event: 5}", "5 is not text; event is a text column"),
    ("        filter: {event: login}", "        filter: {any_of: [{ts: {lt: soon}}]}", "filter.any_of[0].ts.lt: 'soon' is not a date"),
    ("        filter: {event: login}", "        filter: {ts: {lt: {column: event}}}", "compares ts (timestamp) with column event (string)"),
    ("        filter: {event: login}", "        filter: {event: $as_of}", "$as_of is a date; event is not a timestamp"),
    ("{kind: linear, low: 0, high: 20}", "{kind: linear, low: 5, high: 5}", "low and high must differ (both 5)"),
    ("{kind: linear, low: 0, high: 20}", "{kind: log, low: -3, high: 20}", "transform.low: Input should be greater than or equal to 0 (got -3)"),
    ("{kind: linear, low: 0, high: 20}", "{kind: log, low: 30, high: 20}", "high (20) must be above low (30)"),
    ("{kind: linear, low: 0, high: 20}", "{kind: map, values: {a: 150}}", "transform.values.a: Input should be less than or equal to 100 (got 150)"),
])
def test_validate_rejects_values_that_would_crash_score(tmp_path, old, new, fragment):
    assert old in MODEL
    assert fragment in model_errors(tmp_path, MODEL.replace(old, new, 1))


def test_rule_and_alert_conditions_must_be_numbers(tmp_path):
    text = MODEL + "rules:\n  - {name: r, note: n, when: [{metric: logins, value: {gt: many}}], review: true}\n" \
                   "workflow:\n  alerts:\n    - {name: a, note: n, when: [{metric: logins, score: {lt: low}}]}\n"
    msg = model_errors(tmp_path, text)
    assert "rules[0].when[0].value.gt: 'many' is not a number" in msg
    assert "workflow.alerts[0].when[0].score.lt: 'low' is not a number" in msg


def test_cli_validate_and_score_refuse_a_bad_model_without_a_traceback(tmp_path):
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "health.yaml").write_text(MODEL.replace("    weight: 40", "    weight: .inf"), encoding="utf-8")
    make_project(tmp_path).close()
    for cmd in ("validate", "score"):
        proc = _cli(cmd, "-w", str(tmp_path))
        assert proc.returncode == 2, (cmd, proc.stdout, proc.stderr)
        assert "components[0].weight: Input should be a finite number" in proc.stderr
        assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("stream", [True, False], ids=["engine-streamed", "in-memory"])
def test_typed_parquet_values_get_the_same_domain_checks(tmp_path, monkeypatch, stream):
    """Parquet columns that are already timestamps and doubles skip text parsing, not the domain."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({
        "account_id": ["A1", "A1", "A1", "A1"],
        "ts": pa.array([datetime(2025, 6, 1), datetime(2999, 1, 1), datetime(1850, 1, 1), datetime(2025, 6, 2)],
                       pa.timestamp("us")),
        "kind": ["nps", "nps", "nps", "csat"],
        "score": pa.array([9.0, 9.0, 9.0, 1e308], pa.float64()),
    }), tmp_path / "surveys.parquet")
    (tmp_path / "accounts.csv").write_text("account_id\nA1\n", encoding="utf-8")
    if not stream:
        from healthscore.ingest import streaming

        monkeypatch.setattr(streaming, "can_stream", lambda *a: False)
    with make_project(tmp_path, "sources:\n  accounts: {path: accounts.csv}\n  surveys: {path: surveys.parquet}\n") as p:
        r = {x.table: x for x in p.ingest()}["surveys"]
        assert stored_ts(p) == [datetime(2025, 6, 1)]
    q = r.quarantine.to_dict("records")
    assert [(x["line"], x["column"]) for x in q] == [(2, "ts"), (3, "ts"), (4, "score")]
    assert "outside the plausible date range" in q[0]["reason"]
    assert q[2]["reason"].startswith("score: '1e+308' is out of range for kind csat")


def test_a_stray_quote_closed_by_a_later_quote_does_not_swallow_the_rows_between(tmp_path):
    """The broken value would end at the next quote of the file and give a record of the right width:
    100 rows in one event name, accepted, before."""
    text = events_csv(100, broken=1) + 'A1,2024-05-02,"quoted",E200\n'
    report, ids = ingest_events(tmp_path, text)
    assert (report.read, report.accepted, report.quarantined) == (101, 100, 1)
    assert list(report.quarantine["line"]) == [3]
    assert ids == [f"E{i}" for i in range(100) if i != 1] + ["E200"]


def test_legitimate_multiline_values_are_kept(tmp_path):
    text = events_csv(2) + 'A1,2024-05-02,"two\nlines, with, commas",E2\nA1,2024-05-02,"a ""quoted""\nnote",E3\n'
    report, ids = ingest_events(tmp_path, text)
    assert (report.read, report.accepted, report.quarantined) == (4, 4, 0)
    assert ids == ["E0", "E1", "E2", "E3"]


_EVENT = st.sampled_from(["login", "export", '"a, quoted"', '"say ""hi"""', "x y"])


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(events=st.lists(_EVENT, min_size=1, max_size=25), broken=st.integers(0, 24), data=st.data())
def test_property_one_stray_quote_costs_exactly_its_line(events, broken, data):
    """Any rows (some with properly quoted values) and one stray quote: that line alone is quarantined,
    every other row is accepted exactly as written, in file order."""
    import csv
    import io

    broken = broken % len(events)
    rows = [f"A1,2024-05-01,{e},E{i}" for i, e in enumerate(events)]
    rows[broken] = f'A1,2024-05-01,"stray {data.draw(st.sampled_from(["", "x", "a, b"]))},E{broken}'
    with tempfile.TemporaryDirectory() as tmp:
        report, ids = ingest_events(Path(tmp), "account_id,ts,event,event_id\n" + "\n".join(rows) + "\n",
                                    allow_empty=True)  # a single row may be the stray one
        with make_project(Path(tmp)) as p:
            stored = [r["event"] for r in p.con.table("usage_events").to_pyarrow().to_pylist()]
    assert (report.read, report.quarantined) == (len(rows), 1)
    assert list(report.quarantine["line"]) == [broken + 2]
    assert ids == [f"E{i}" for i in range(len(rows)) if i != broken]
    expected = [next(csv.reader(io.StringIO(e)))[0] for i, e in enumerate(events) if i != broken]
    assert stored == expected  # values as written: nothing swallowed or changed
