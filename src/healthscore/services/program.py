"""Running the health program (healthscore.program, docs/program.md): the workspace check and the model's
anti-patterns, drift, readiness, the pilot, the account hierarchy and the plays report."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from healthscore.errors import InvalidInput

# validate runs the first rows of each source through ingestion's checks (accounts, account_ids and the
# tables SQL sources read: every row)
VALIDATE_SAMPLE = 1000

if TYPE_CHECKING:
    from healthscore.services.parts import Parts
    from healthscore.services.review import ReviewService


class ProgramService:
    def __init__(self, parts: Parts, review: ReviewService):
        self.parts = parts
        self.review = review

    def validate(self, sample: bool = True) -> dict:
        """Check the workspace and its model; every problem raises a UserError naming file and key."""
        import glob

        from healthscore.security import mask_url

        ws, model = self.parts.ws, self.parts.file_model
        sources = {}
        for table, src in ws.config.sources.items():
            if src.path is not None:
                matches = glob.glob(str(ws.resolve(src.path)))
                if not matches:
                    raise InvalidInput(f"{ws.config_path}: sources.{table}.path: no file matches {src.path!r}",
                                       location=str(ws.config_path))
                sources[table] = f"{len(matches)} file(s), {src.format}"
                if src.adapter is None:
                    # the headers ingest will read: a column map that misses a required column fails here, not
                    # half-way through an ingest
                    from healthscore.ingest.columns import preflight
                    from healthscore.ingest.read import locate

                    preflight(ws, table, src, locate(ws, table, src))
                    if src.format in ("csv", "parquet"):
                        sources[table] += ", columns checked"
            elif src.sql is not None:
                sources[table] = "sql query"
            elif src.database is not None:
                from healthscore.ingest.load import source_key

                sources[table] = f"table {source_key(src)}"
            else:
                sources[table] = f"engine table {src.table}"
            if src.adapter is not None:
                sources[table] += f", adapter {src.adapter}"
            if src.mode == "append":
                sources[table] += ", append"
        checked = self._sample() if sample else {}
        return {
            "workspace": str(ws.root),
            "model": {"name": model.ir.name, "version": model.version, "path": str(model.path),
                      "components": len(model.ir.components), "metrics": len(model.ir.metrics),
                      "segments": len(model.ir.segments)},
            "sources": sources,
            "engine": ws.config.engine.backend,
            "store": mask_url(ws.store_url),  # never the password
            "warnings": self.lint(),  # anti-patterns (docs/program.md): warnings, never errors
            "sample": checked,
        }

    def _sample(self) -> dict[str, dict]:
        """The first VALIDATE_SAMPLE rows of every source through ingestion's own steps and checks, written
        nowhere: what would make ``ingest`` fail (a column, a file, the crosswalk, a table emptied, a
        quarantined share above quarantine_max_share) fails here. {table: counts, reasons, warnings}."""
        from healthscore.engine.adapters import adapter_for
        from healthscore.ingest.service import IngestionService

        ws = self.parts.ws
        reports = IngestionService(adapter_for(self.parts.con), ws, self.parts.store).sample(VALIDATE_SAMPLE)
        limit = ws.config.quarantine_max_share
        out, over = {}, []
        for r in reports:
            reasons = [f"{q['file']}:{q['line']}  {q['reason']}" for q in r.quarantine.head(3).to_dict("records")]
            out[r.table] = {"read": r.read, "accepted": r.accepted, "quarantined": r.quarantined,
                            "reasons": reasons, "warnings": r.warnings}
            if r.read and r.quarantined / r.read > limit:
                over.append(f"{r.table}: {r.quarantined:,} of {r.read:,} row(s) checked would be quarantined"
                            f" ({r.quarantined / r.read:.1%}), more than quarantine_max_share {limit:.1%}")
                over.extend(f"  {x}" for x in reasons)
        if over:
            raise InvalidInput(f"{ws.config_path}: ingest would fail: {over[0]}", details=over[1:],
                               location=str(ws.config_path))
        return out
    def lint(self) -> list[dict]:
        """Model anti-patterns as warnings {code, message, key}; a valid model stays valid."""
        from healthscore.program.lint import lint

        return lint(self.parts)

    def drift_report(self, as_of: dt.date | None = None, reference_from: dt.date | None = None,
                     reference_to: dt.date | None = None, threshold: float | None = None) -> dict:
        """PSI of every metric and of the score against a reference period; suggests recalibration."""
        from healthscore.program.drift import drift_report

        return drift_report(self.parts, as_of or self.parts.as_of_default()[0], reference_from, reference_to, threshold)

    def readiness(self) -> dict:
        """Pilot prerequisites item by item, the maturity level and the step to the next one."""
        from healthscore.program.readiness import readiness

        return readiness(self.parts, self.review.measurement_report)

    def pilot_report(self, sample: int | None = None, seed: int = 0) -> dict:
        """The pilot's validation rate against its threshold, and a seeded validation sample."""
        from healthscore.program.pilot import pilot_report

        return pilot_report(self.parts, sample=sample, seed=seed)

    def hierarchy(self, as_of: dt.date | None = None, account_id: str | None = None) -> list[dict]:
        """Parent accounts' health rolled up from their children (model hierarchy.rollup)."""
        from healthscore.program.hierarchy import hierarchy_report

        return hierarchy_report(self.parts, as_of or self.parts.as_of_default()[0], account_id)

    def plays_report(self, horizon_days: int = 60, n_boot: int = 200, seed: int = 0) -> dict:
        """Per playbook: health and renewal after the play against matched accounts without it."""
        from healthscore.program.plays import plays_report

        return plays_report(self.parts, horizon_days=horizon_days, n_boot=n_boot, seed=seed)

