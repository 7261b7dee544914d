"""Loading and validating health models: every error names file, line, key path and what is allowed."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from healthscore.errors import UserError
from healthscore.model.load import load_health_model

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def write(tmp_path: Path, data: dict | str) -> Path:
    p = tmp_path / "model.yaml"
    p.write_text(data if isinstance(data, str) else yaml.safe_dump(data, sort_keys=False))
    return p


def minimal(**over) -> dict:
    model = {
        "name": "m",
        "defaults": {"missing": "exclude"},
        "components": [{"name": "usage", "weight": 1, "metrics": [{
            "name": "logins", "source": "usage_events", "measure": "count", "filter": {"event": "login"},
            "window": "30d", "transform": {"kind": "linear", "low": 0, "high": 20}}]}],
    }
    model.update(over)
    return model


def errors_of(path: Path) -> str:
    with pytest.raises(UserError) as exc:
        load_health_model(path)
    return str(exc.value)


@pytest.mark.parametrize("name", ["seed-standard", "starter-five"])
def test_shipped_examples_load(name):
    model = load_health_model(EXAMPLES / f"{name}.yaml")
    assert len(model.version) == 12


def test_seed_standard_has_the_documented_component_weights():
    ir = load_health_model(EXAMPLES / "seed-standard.yaml").ir
    assert {c.name: c.weight for c in ir.components} == {"support": 40, "engagement": 30, "business": 20,
                                                         "relationship": 10}


def test_version_is_a_content_hash(tmp_path):
    p = write(tmp_path, minimal())
    v1 = load_health_model(p).version
    p.write_text("# a comment changes nothing\n" + p.read_text())
    assert load_health_model(p).version == v1
    changed = minimal()
    changed["components"][0]["metrics"][0]["window"] = "14d"
    assert load_health_model(write(tmp_path, changed)).version != v1


def test_bad_yaml_names_file_and_line(tmp_path):
    p = write(tmp_path, "name: m\ncomponents: [\n  - oops")
    msg = errors_of(p)
    assert str(p) in msg and "invalid YAML" in msg


def test_missing_file_is_one_clear_error(tmp_path):
    assert "file not found" in errors_of(tmp_path / "nope.yaml")


def test_unknown_key_has_path_and_line(tmp_path):
    m = minimal()
    m["components"][0]["metrics"][0]["windw"] = "30d"
    msg = errors_of(write(tmp_path, m))
    assert "components[0].metrics[0].windw: unknown key" in msg
    assert f"{tmp_path / 'model.yaml'}:" in msg


def test_unknown_column_lists_allowed_columns(tmp_path):
    m = minimal()
    m["components"][0]["metrics"][0].update(measure="mean", column="durations")
    msg = errors_of(write(tmp_path, m))
    assert "components[0].metrics[0].column" in msg and "'durations' is not a column of usage_events" in msg
    assert "allowed: account_id, ts, event" in msg


def test_bad_window_and_measure_say_what_is_allowed(tmp_path):
    m = minimal()
    m["components"][0]["metrics"][0].update(window="3 months", measure="median")
    msg = errors_of(write(tmp_path, m))
    assert "window '3 months' is not allowed" in msg
    assert "measure 'median' is not allowed; allowed: count, sum" in msg


def test_every_problem_is_reported_at_once(tmp_path):
    m = minimal(defaults={})
    m["components"][0]["metrics"].append(dict(m["components"][0]["metrics"][0]))
    msg = errors_of(write(tmp_path, m))
    assert "no missing-data rule" in msg and "used more than once" in msg


def test_segment_priorities_must_be_unique(tmp_path):
    seg = {"when": {"segment": "SMB"}, "priority": 1}
    m = minimal(segments=[{"name": "a", **seg}, {"name": "b", **seg}])
    assert "share priority 1" in errors_of(write(tmp_path, m))


def test_segment_weights_must_name_components(tmp_path):
    m = minimal(segments=[{"name": "a", "priority": 1, "when": {"segment": "SMB"}, "weights": {"suport": 2}}])
    msg = errors_of(write(tmp_path, m))
    assert "segments[0].weights.suport: no component 'suport'" in msg


def test_text_column_needs_a_map_transform(tmp_path):
    m = minimal()
    m["components"][0]["metrics"][0] = {"name": "csm", "source": "assessments", "measure": "latest",
                                        "column": "sentiment", "transform": {"kind": "linear", "low": 0, "high": 1}}
    assert "holds text; use kind: map" in errors_of(write(tmp_path, m))


def test_tiers_must_be_ordered(tmp_path):
    assert "must not be above green" in errors_of(write(tmp_path, minimal(tiers={"green": 40, "yellow": 70})))
