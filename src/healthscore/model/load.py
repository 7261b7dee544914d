"""Load a health model YAML file: validate every key, compile to the IR, hash the content."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from healthscore.errors import InvalidInput
from healthscore.model.ir import HealthModel
from healthscore.yamlio import _line_of, format_validation_error, key_path, read_yaml


@dataclass(frozen=True)
class LoadedModel:
    ir: HealthModel
    version: str  # content hash of the compiled IR: formatting and comments do not change it
    path: Path
    yaml_text: str

    @property
    def ir_json(self) -> dict:
        return self.ir.model_dump(mode="json", by_alias=True)


def model_version(ir: HealthModel) -> str:
    data = ir.model_dump(mode="json", by_alias=True)
    for key in ("outcome", "calibration", "provenance", "pipeline", "hierarchy", "pilot", "drift", "interventions",
                "hybrid"):
        if data.get(key) is None:  # optional sections: absent ones keep older models' hashes
            data.pop(key, None)
    if not data.get("interactions"):
        data.pop("interactions", None)
    for key, default in (("min_survivors", 30), ("leak_auc", 0.95), ("max_timing_share", 0.25),
                         ("flip_directions", True), ("shape_bins", 32), ("shape_l2", 10.0),
                         ("shape_monotone", "direction"), ("shape_select", "cv"), ("shape_bins_grid", [8, 16, 32]),
                         ("shape_l2_grid", [3.0, 10.0, 30.0]), ("shape_cv_folds", 3),
                         ("shape_interactions", 3)):  # added later: defaults keep older hashes
        if (data.get("calibration") or {}).get(key) == default:
            data["calibration"].pop(key)
    for comp in data.get("components", []):
        if comp.get("motion") is None:
            comp.pop("motion", None)
        for m in comp.get("metrics", []):
            if m.get("timing") is False:
                m.pop("timing")
            if "monotone" in m and m["monotone"] is None:
                m.pop("monotone")
            if m.get("non_monotone") is False:
                m.pop("non_monotone")
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:12]


def load_health_model(path: Path, text: str | None = None) -> LoadedModel:
    """Load and validate a model file (or its `text`, e.g. a version kept in the store)."""
    data, node, text = read_yaml(path, text)
    try:
        ir = HealthModel.model_validate(data)
    except ValidationError as exc:
        details = format_validation_error(path, exc, node)
        raise InvalidInput(f"{path}: {len(details)} error(s) in the health model", details=details,
                           location=str(path)) from None
    problems = ir.problems()
    if problems:
        details = []
        for loc, msg in problems:
            line = _line_of(node, loc)
            details.append(f"{path}{':' + str(line) if line else ''}: {key_path(loc)}: {msg}")
        raise InvalidInput(f"{path}: {len(details)} error(s) in the health model", details=details,
                           location=str(path))
    return LoadedModel(ir=ir, version=model_version(ir), path=path, yaml_text=text)
