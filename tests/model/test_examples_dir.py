"""The repository's examples/ links every model the package ships (docs and benchmarks use those paths)."""

from pathlib import Path

from healthscore.scaffold import EXAMPLES_DIR

REPO_EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_every_shipped_model_is_linked_from_examples():
    shipped = {p.name for p in EXAMPLES_DIR.glob("*.yaml")}
    linked = {p.name for p in REPO_EXAMPLES.glob("*.yaml") if p.resolve().is_file()}
    assert shipped and shipped == linked, f"link the missing ones into examples/: {sorted(shipped ^ linked)}"
