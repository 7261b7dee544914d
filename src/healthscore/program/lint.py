"""Model lint: the known anti-patterns of health models, as warnings (never errors), each with the reason.

`healthscore validate` prints them and `validate --json` lists them as {code, message, key}. A
warning does not change the exit code: the model is valid, and a person decides whether it matters.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from healthscore.services.parts import Parts

MAX_COMPONENTS = 7
MAX_METRICS = 25
MIN_VISIBLE_SHARE = 0.01  # a metric below 1% of the score never moves it by a visible point


def _w(code: str, message: str, key: str) -> dict[str, str]:
    return {"code": code, "message": message, "key": key}


def model_warnings(ir) -> list[dict[str, str]]:
    """Warnings that need only the model."""
    out = []
    comps, metrics = ir.components, ir.metrics
    if len(comps) > MAX_COMPONENTS:
        out.append(_w("too_many_components", f"{len(comps)} components (more than {MAX_COMPONENTS}): every extra"
                      " component dilutes the others; owners cannot hold that many in mind and stop trusting a"
                      " score they cannot explain. Merge correlated components.", "components"))
    if len(metrics) > MAX_METRICS:
        out.append(_w("too_many_metrics", f"{len(metrics)} metrics (more than {MAX_METRICS}): noise grows faster"
                      " than signal; 'healthscore backtest' groups redundant metrics in its metric_study.",
                      "components"))
    comp_equal = len(comps) > 1 and len({c.weight for c in comps}) == 1
    metric_equal = all(len({m.weight for m in c.metrics}) == 1 for c in comps)
    if comp_equal and metric_equal and len(metrics) > 1:
        out.append(_w("equal_weights", "every component and metric has the same weight: equal weights say the"
                      " weights were never chosen; calibrate them from outcomes ('healthscore calibrate') or"
                      " document why they are equal.", "components"))
    wf = ir.workflow
    general = any(not p.when.driver and not p.when.alert for p in wf.playbooks)
    drivers = {d for p in wf.playbooks for d in p.when.driver}
    triggered = {c.metric for a in wf.alerts for c in a.when} | {c.metric for r in ir.rules for c in r.when}
    if not general:
        for ci, comp in enumerate(comps):
            names = {m.name for m in comp.metrics}
            if not names & drivers and not names & triggered:
                out.append(_w("no_trigger_or_playbook", f"component {comp.name} has no alert or rule on its metrics"
                              " and no playbook for them as the main driver: when it drags the score down the owner"
                              f" gets only the default action. Add a playbook with when: {{driver: [...]}}.",
                              f"components.{ci}"))
    total_cw = sum(c.weight for c in comps)
    for ci, comp in enumerate(comps):
        mw = sum(m.weight for m in comp.metrics)
        for mi, m in enumerate(comp.metrics):
            share = comp.weight / total_cw * m.weight / mw
            if share < MIN_VISIBLE_SHARE:
                out.append(_w("evidence_not_visible", f"metric {m.name} carries {share:.2%} of the score: its evidence"
                              " can never move the score by a visible point, so it explains nothing; raise its weight"
                              " or drop it.", f"components.{ci}.metrics.{mi}.weight"))
    return out


def _sources_of(metric) -> set[str]:
    return {a.source for a in metric.aggregates().values() if a.source != "goals"}


def workspace_warnings(project: Parts) -> list[dict[str, str]]:
    """Warnings that need the workspace: the engine's tables, the stored versions and snapshots."""
    ir = project.file_model.ir
    out = []
    mapped = set(project.ws.config.sources)
    engine_tables: dict[str, int] | None = None
    from healthscore.program.readiness import engine_exists

    if engine_exists(project):
        try:
            names = set(project.con.list_tables())
            engine_tables = {n: int(project.con.table(n).count().execute()) for n in names}
        except Exception:  # pragma: no cover - an engine that cannot be read: validate's own checks report it
            engine_tables = None
    metric_of = {m.name: (ci, mi, m) for ci, c in enumerate(ir.components) for mi, m in enumerate(c.metrics)}

    def observable(source: str) -> str | None:
        if engine_tables is not None:
            if source not in engine_tables:
                return f"the engine has no {source} table"
            if engine_tables[source] == 0:
                return f"the {source} table is empty"
            return None
        if source not in mapped:
            return f"no source is mapped to {source} in healthscore.yaml"
        return None

    for ai, alert in enumerate(ir.workflow.alerts):
        for ci, cond in enumerate(alert.when):
            _, _, m = metric_of[cond.metric]
            for src in sorted(_sources_of(m)):
                why = observable(src)
                if why:
                    out.append(_w("trigger_not_observable", f"alert {alert.name} watches {cond.metric}, but {why}:"
                                  " the trigger can never be observed from data.",
                                  f"workflow.alerts.{ai}.when.{ci}.metric"))
    for name, (ci, mi, m) in metric_of.items():
        for src in sorted(_sources_of(m)):
            why = observable(src)
            if why:
                out.append(_w("evidence_not_shown", f"metric {name} reads {src}, but {why}: its evidence will"
                              " always say 'no data' and its missing rule decides its points.",
                              f"components.{ci}.metrics.{mi}.source"))
    store_ok = not project.ws.store_url.startswith("sqlite:///") or \
        __import__("pathlib").Path(project.ws.store_url[len("sqlite:///"):]).exists()
    if store_ok:
        versions = {v["version"]: v for v in project.store.model_versions()}
        active = project.store.active_model_version()
        version = active["version"] if active else project.file_model.version
        record = versions.get(version) or {}
        if not record.get("backtest") or record["backtest"].get("skipped"):
            out.append(_w("no_backtest", f"model version {version} has no backtest on record: nobody has checked that"
                          " its scores rank churners below renewals; 'healthscore model propose' runs one",
                          "model"))
        latest = project.store.latest_as_of(version)
        if latest is not None:
            snaps = project.store.snapshot_frame(date_from=latest, date_to=latest, model_version=version)
            scored = snaps[snaps["status"] == "scored"]
            if len(scored):
                red = float((scored["tier"] == "red").mean())
                limit = ir.calibration_spec.red_share
                if red > limit:
                    out.append(_w("red_tier_too_wide", f"{red:.0%} of the scored accounts were red on {latest}"
                                  f" (configured share {limit:.0%}, calibration.red_share): a red tier that wide is"
                                  " ignored by owners; recalibrate the tiers.", "tiers.yellow"))
    return out


def lint(project: Parts) -> list[dict[str, Any]]:
    return model_warnings(project.file_model.ir) + workspace_warnings(project)
