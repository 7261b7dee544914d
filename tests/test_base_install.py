"""The base install (`pip install healthscore`, no extras) initialises a workspace, ingests, scores and
explains; a command that needs an extra says which one to install. The extras' packages are made
unimportable in the child process, as if they had never been installed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from healthscore.extras import EXTRA_OF_MODULE
from tests.fixtures import small_portfolio, write_ungated_model

pytestmark = pytest.mark.slow  # whole CLI runs in child processes

BLOCKER = """
import importlib.abc, sys
BLOCKED = set({blocked!r})
class _NotInstalled(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
sys.meta_path.insert(0, _NotInstalled())
"""


@pytest.fixture(scope="module")
def base_env(tmp_path_factory) -> dict[str, str]:
    site = tmp_path_factory.mktemp("base-site")
    (site / "sitecustomize.py").write_text(BLOCKER.format(blocked=sorted(EXTRA_OF_MODULE)))
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(site), *filter(None, [env.get("PYTHONPATH")])])
    return env


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "healthscore", *args], capture_output=True, text=True, env=env,
                          timeout=300)


def test_blocker_really_hides_the_extras(base_env):
    proc = subprocess.run([sys.executable, "-c", "import sklearn"], capture_output=True, text=True, env=base_env)
    assert proc.returncode != 0 and "No module named 'sklearn'" in proc.stderr


def test_base_install_inits_ingests_scores_and_explains(base_env, tmp_path):
    ws = tmp_path / "acme"
    proc = run(base_env, "init", str(ws))
    assert proc.returncode == 0, proc.stderr
    write_ungated_model(ws / "models" / "health.yaml", ws / "models" / "health.yaml")
    sources = {}
    for table, df in small_portfolio().items():
        df.to_csv(ws / "data" / f"{table}.csv", index=False)
        sources[table] = {"path": f"data/{table}.csv"}
    cfg = yaml.safe_load((ws / "healthscore.yaml").read_text())
    cfg["sources"] = sources
    (ws / "healthscore.yaml").write_text(yaml.safe_dump(cfg))

    for args in (["ingest", "-w", str(ws)], ["score", "-w", str(ws), "--as-of", "2025-06-01"]):
        proc = run(base_env, *args)
        assert proc.returncode == 0, proc.stderr
    snap = json.loads(run(base_env, "explain", "A1", "-w", str(ws), "--as-of", "2025-06-01", "--json").stdout)
    assert snap["account_id"] == "A1" and snap["evidence"]
    history = run(base_env, "history", "A1", "-w", str(ws), "--json").stdout.splitlines()
    assert [json.loads(line)["as_of"] for line in history] == ["2025-06-01"]

    # what needs an extra names it, without a traceback
    proc = run(base_env, "serve", "-w", str(ws), "--port", "0")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    assert "pip install 'healthscore[web]'" in proc.stderr
    proc = run(base_env, "stream", "-w", str(ws), "--max-batches", "1", "--idle-seconds", "1")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    assert "pip install 'healthscore[stream]'" in proc.stderr
