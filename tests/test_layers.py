"""The import structure of src/healthscore: no import cycles between modules, function-local imports
included, and the layer contracts in .importlinter cover every module."""

from __future__ import annotations

import configparser
from pathlib import Path

import pytest

grimp = pytest.importorskip("grimp")  # installed with import-linter (the dev extra)

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def graph():
    # grimp reads every import statement, function-local ones included. Imports under `if TYPE_CHECKING:`
    # never run, so they cannot form an import cycle (the layer contracts in .importlinter do count them).
    return grimp.build_graph("healthscore", exclude_type_checking_imports=True, cache_dir=None)


def _strongly_connected(edges: dict[str, list[str]]) -> list[list[str]]:
    """Tarjan's algorithm: the groups of modules that reach each other."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(m: str) -> None:
        index[m] = low[m] = len(index)
        stack.append(m)
        on_stack.add(m)
        for n in edges[m]:
            if n not in index:
                visit(n)
                low[m] = min(low[m], low[n])
            elif n in on_stack:
                low[m] = min(low[m], index[n])
        if low[m] == index[m]:
            group = []
            while True:
                n = stack.pop()
                on_stack.discard(n)
                group.append(n)
                if n == m:
                    break
            groups.append(sorted(group))

    for m in edges:
        if m not in index:
            visit(m)
    return groups


def _shortest_cycle(edges: dict[str, list[str]], group: list[str]) -> list[str]:
    """A shortest cycle through the group's first module, by breadth-first search inside the group."""
    start, members = group[0], set(group)
    came_from: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for m in frontier:
            for n in edges[m]:
                if n == start:
                    path = [m]
                    while path[-1] != start:
                        path.append(came_from[path[-1]])
                    return [*reversed(path), start]
                if n in members and n not in came_from:
                    came_from[n] = m
                    following.append(n)
        frontier = following
    raise AssertionError(f"no cycle through {start}")


def import_cycles(graph) -> list[str]:
    """One shortest cycle per group of modules that import each other, with the importing lines."""
    modules = sorted(graph.modules)
    edges = {m: sorted(graph.find_modules_directly_imported_by(m)) for m in modules}
    out = []
    for group in _strongly_connected(edges):
        if len(group) == 1 and group[0] not in edges[group[0]]:
            continue
        cycle = _shortest_cycle(edges, group)
        steps = []
        for importer, imported in zip(cycle, cycle[1:]):
            lines = sorted(d["line_number"] for d in graph.get_import_details(importer=importer, imported=imported))
            steps.append(f"{importer} -> {imported} (line {', '.join(map(str, lines))})")
        out.append(f"{', '.join(group)}: e.g. " + "; ".join(steps))
    return out


def test_no_import_cycles(graph):
    cycles = import_cycles(graph)
    assert not cycles, "import cycles among healthscore modules:\n" + "\n".join(cycles)


def test_the_ibis_contract_names_every_module_but_the_engine(graph):
    """The forbidden contract lists its source modules: a new top-level module must be added to it."""
    config = configparser.ConfigParser()
    config.read(ROOT / ".importlinter")
    listed = set(config["importlinter:contract:engine-only-imports-ibis-duckdb"]["source_modules"].split())
    assert listed == graph.find_children("healthscore") - {"healthscore.engine"}
