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


def hybrid_block(**over) -> dict:
    block = {"tier_rule": "both", "learned": {
        "tiers": {"green": 60, "yellow": 40},
        "metrics": [{"metric": "logins", "weight": 1.2, "missing": 10,
                     "transform": {"kind": "shape", "bins": [{"min": 0, "score": 0}, {"min": 5, "score": 100}]}}]}}
    block.update(over)
    return block


def test_a_hybrid_model_loads_and_keeps_older_hashes(tmp_path):
    plain = load_health_model(write(tmp_path, minimal()))
    assert plain.ir.hybrid is None
    hybrid = load_health_model(write(tmp_path, minimal(hybrid=hybrid_block())))
    assert hybrid.ir.hybrid is not None and hybrid.ir.hybrid.learned.name == "learned_risk"
    assert hybrid.version != plain.version


def test_hybrid_errors_name_file_key_and_what_is_right(tmp_path):
    m = minimal(hybrid=hybrid_block(tier_rule="worst"))
    msg = errors_of(write(tmp_path, m))
    assert f"{tmp_path / 'model.yaml'}:" in msg and "hybrid.tier_rule" in msg and "'rubric', 'learned' or 'both'" in msg
    block = hybrid_block()
    del block["tier_rule"]
    assert "hybrid.tier_rule: required key is missing" in errors_of(write(tmp_path, minimal(hybrid=block)))
    block = hybrid_block(tier_rule="learned")
    del block["learned"]["tiers"]
    block["learned"]["metrics"].append({"metric": "logins_7d", "weight": 1, "transform": {
        "kind": "map", "values": {"a": 1}}})
    block["learned"]["interactions"] = [{"name": "x", "metrics": ["logins", "seats"], "edges": [[0], [0]],
                                         "scores": [[1]], "weight": 1}]
    block["learned"]["name"] = "usage"
    msg = errors_of(write(tmp_path, minimal(hybrid=block)))
    assert "hybrid.learned.tiers: tier_rule learned takes the learned component's tier" in msg
    assert "hybrid.learned.metrics[1].metric: no metric 'logins_7d' in the rubric; metrics: logins" in msg
    assert "hybrid.learned.interactions[0].metrics: no metric 'seats'" in msg
    assert "hybrid.learned.name: 'usage' is already a component" in msg
    block = hybrid_block()
    block["learned"]["metrics"][0]["transform"] = {"kind": "map", "values": {"a": 1}}
    assert "metric logins: a learned map does not fit; use kind: shape" in errors_of(
        write(tmp_path, minimal(hybrid=block)))
    block = hybrid_block()
    block["learned"]["metrics"][0]["transform"] = {"kind": "linear", "low": 0, "high": 1}
    assert "hybrid.learned.metrics[0].transform" in errors_of(write(tmp_path, minimal(hybrid=block)))
    block = hybrid_block()
    block["learned"]["metrics"][0]["wieght"] = 2
    assert "hybrid.learned.metrics[0].wieght: unknown key" in errors_of(write(tmp_path, minimal(hybrid=block)))
