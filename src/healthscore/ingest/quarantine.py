"""The quarantine: one row per rejected row with file, line, column, value, reason and the raw row."""

from __future__ import annotations

from typing import TYPE_CHECKING

from healthscore.errors import UserError
from healthscore.ingest.checks import Plan
from healthscore.ingest.report import INTERNAL, QUARANTINE_COLUMNS, RAW_LINE_KEY, Part, TableReport

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

    from healthscore.ingest.report import Source


def quarantine_frame(vcon, plan: Plan, parts: list[Part], combined, fids, lines, err, first) -> pd.DataFrame:
    """The quarantined rows (only those are touched here: arrow take + a small SQL query)."""
    import numpy as np
    import pandas as pd
    import pyarrow as pa

    at = np.flatnonzero(err >= 0)
    if not len(at):  # nothing quarantined (most batches of a live stream): no query
        return pd.DataFrame({c: pd.Series([], dtype="int64" if c == "line" else object) for c in QUARANTINE_COLUMNS})
    raw_cols = [n for n in combined.column_names if n not in INTERNAL]
    rows = combined.take(pa.array(at))
    names = np.array([p.name for p in parts], dtype=object)
    words = np.array([p.word for p in parts], dtype=object)
    has_first = first[at] >= 0
    first_at = np.where(has_first, first[at], 0)
    same_file = fids[first_at] == fids[at]
    rows = rows.append_column("__hs_err", pa.array(err[at]))
    rows = rows.append_column("__hs_fid", pa.array(fids[at]))
    rows = rows.append_column("__hs_file", pa.array(names[fids[at]].tolist(), pa.string()))
    rows = rows.append_column("__hs_line", pa.array(lines[at]))
    rows = rows.append_column("__hs_word", pa.array(words[fids[at]].tolist(), pa.string()))
    rows = rows.append_column(
        "__hs_first_file", pa.array(names[fids[first_at]].tolist(), pa.string(), mask=~has_first | same_file)
    )
    rows = rows.append_column("__hs_first_line", pa.array(lines[first_at], pa.int64(), mask=~has_first))
    # `raw`: the row as the source had it, keyed by the source's own column names.
    keys = [next((p.raw_names[n] for p in parts if n in p.raw_names), n) for n in raw_cols]
    return quarantine_from_rows(vcon, plan, rows, raw_cols, keys)


def quarantine_from_rows(vcon, plan: Plan, rows: pa.Table, raw_cols: list[str], keys: list[str]) -> pd.DataFrame:
    """The quarantine frame from the quarantined rows: their source columns ``raw_cols`` (``keys``:
    the source's own names), BAD, TEXT, and __hs_err, __hs_fid, __hs_file, __hs_line, __hs_word,
    __hs_first_file, __hs_first_line. Reasons come from one small SQL query."""
    import pandas as pd
    import pyarrow as pa

    with vcon.registered(rows, "__hs_quarantine", unique=False):
        result = vcon.fetch_arrow(plan.reason_text("__hs_quarantine", raw_cols))
    if raw_cols:
        struct = pa.StructArray.from_arrays(
            [result.column(f"__hs_r{i}").combine_chunks() for i in range(len(raw_cols))], names=keys
        )
        raws = struct.to_pylist()
    else:
        raws = [{} for _ in range(result.num_rows)]
    texts = result.column("__hs_text").to_pylist()
    raws = [r if t is None else {RAW_LINE_KEY: t} for r, t in zip(raws, texts)]
    # object columns with None for missing values (not NaN): friendlier to print and to JSON
    data = {c: pd.Series(result.column(c).to_pylist(), dtype=object) for c in ("file", "column", "value", "reason")}
    data["line"] = pd.Series(result.column("line").to_numpy(), dtype="int64")
    data["raw"] = pd.Series(raws, dtype=object)
    return pd.DataFrame({c: data[c] for c in QUARANTINE_COLUMNS})


def empty_report(name: str, key: str, warnings: list[str]) -> TableReport:
    import pandas as pd

    return TableReport(
        table=name,
        source=key,
        read=0,
        accepted=0,
        quarantined=0,
        warnings=warnings,
        quarantine=pd.DataFrame(
            {c: pd.Series([], dtype="int64" if c == "line" else object) for c in QUARANTINE_COLUMNS}
        ),
    )


def refuse_empty(name: str, src: Source, n_rows: int, quarantine: pd.DataFrame) -> None:
    """UserError: the source would empty the canonical table (nothing written)."""
    where = src.path if src.path is not None else str(src.table)
    if not n_rows:
        message = f"{where}: no rows (a header only?); ingesting it would empty the {name} table"
    else:
        message = f"{where}: all {n_rows:,} row(s) quarantined; ingesting it would empty the {name} table"
    details = [f"{q['file']}:{q['line']}  {q['reason']}" for q in quarantine.head(3).to_dict("records")]
    details.append(f"the {name} table was left as it was; pass --allow-empty to empty it on purpose")
    raise UserError(message, details=details)


def vendor_raw(report: TableReport, originals: dict) -> None:
    """The quarantine's raw is the vendor record as the file had it."""
    q = report.quarantine
    if len(q):
        q["raw"] = [originals.get((f, int(n)), r) for f, n, r in zip(q["file"], q["line"], q["raw"])]
