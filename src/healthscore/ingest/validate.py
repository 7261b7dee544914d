"""Checks 0-6 over data read into Arrow (the in-memory path), vectorised in a local DuckDB."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from healthscore.contract import TABLES
from healthscore.errors import UserError
from healthscore.ingest.checks import E_ACCOUNT, E_DUPLICATE, Plan
from healthscore.ingest.quarantine import quarantine_frame
from healthscore.ingest.report import POS, Part

if TYPE_CHECKING:
    import pyarrow as pa



def validate_parts(vcon, name: str, mapping: dict[str, str], parts: list[Part], accounts: pa.Table | None, say):
    """Checks 0-6 over the parts, vectorised in DuckDB: (accepted rows as the canonical table with
    derived columns not yet filled, quarantine frame)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    table = TABLES[name]
    combined, fids, lines = combine(parts)
    n_rows = combined.num_rows
    say(f"{name}: validating {n_rows:,} row(s)")
    plan = Plan(table, combined.schema, mapping)
    src_view, checked_view = f"__hs_src_{uuid.uuid4().hex}", f"__hs_checked_{uuid.uuid4().hex}"
    vcon.register(src_view, combined)
    try:
        checked = vcon.fetch_arrow(plan.check_sql(src_view))
        pos = checked.column(POS).to_numpy()
        if len(pos) != n_rows:
            raise AssertionError(f"validation returned {len(pos)} rows for {n_rows}")
        if n_rows and not (np.diff(pos) > 0).all():  # DuckDB keeps scan order; make sure
            checked = checked.take(pa.array(np.argsort(pos)))
        err = pc.fill_null(checked.column("__hs_err"), -1).to_numpy().astype(np.int32)  # -1: accepted
        first = np.full(n_rows, -1, dtype=np.int64)  # position of the first occurrence, for duplicates

        vcon.register(checked_view, checked)
        try:
            check_accounts = accounts is not None and table.references_accounts and "account_id" in plan.present
            ids_view = f"__hs_ids_{uuid.uuid4().hex}"
            if check_accounts:
                vcon.register(ids_view, accounts)
            try:
                if table.id_column and table.id_column in plan.present:
                    # An id is claimed by its first row that passes all the other checks (0-4 and 6):
                    # a row quarantined for its account does not take the id from a later good row.
                    p = plan.p(table.id_column)
                    join, known = "", "TRUE"
                    if check_accounts:
                        pa_ = plan.p("account_id")
                        join = f"LEFT JOIN (SELECT DISTINCT account_id FROM {ids_view}) a ON a.account_id = c.{pa_}"
                        known = "a.account_id IS NOT NULL"
                    dup = vcon.fetch_arrow(
                        f"""WITH firsts AS (
                                SELECT c.{p} AS id, min(c.{POS}) FILTER (WHERE {known}) AS first_pos
                                FROM {checked_view} c {join}
                                WHERE c.__hs_err IS NULL AND c.{p} IS NOT NULL GROUP BY c.{p} HAVING count(*) > 1)
                            SELECT c.{POS} AS pos, f.first_pos FROM {checked_view} c JOIN firsts f ON c.{p} = f.id
                            WHERE c.__hs_err IS NULL AND c.{POS} > f.first_pos"""
                    )
                    at = dup.column("pos").to_numpy()
                    err[at] = E_DUPLICATE * 1000 + plan.index(table.id_column)
                    first[at] = dup.column("first_pos").to_numpy()
                if check_accounts:
                    p = plan.p("account_id")
                    unknown = vcon.fetch_arrow(
                        f"""SELECT {POS} AS pos FROM {checked_view} c
                            WHERE __hs_err IS NULL AND {p} IS NOT NULL
                              AND NOT EXISTS (SELECT 1 FROM {ids_view} a WHERE a.account_id = c.{p})"""
                    )
                    at = unknown.column("pos").to_numpy()
                    at = at[err[at] == -1]  # a duplicate is reported as such
                    err[at] = E_ACCOUNT * 1000 + plan.index("account_id")
            finally:
                if check_accounts:
                    vcon.unregister(ids_view)
        finally:
            vcon.unregister(checked_view)

        keep = err == -1
        quarantine = quarantine_frame(vcon, plan, parts, combined, fids, lines, err, first)
    finally:
        vcon.unregister(src_view)
    del combined
    accepted = plan.output(checked.filter(pa.array(keep)))
    del checked
    return accepted, quarantine


def combine(parts: list[Part]):
    """(one table for all parts with the POS column, file index per row, line per row)."""
    import numpy as np
    import pyarrow as pa

    fids = np.repeat(np.arange(len(parts), dtype=np.int32), [p.data.num_rows for p in parts])
    lines = np.concatenate([p.lines for p in parts]) if parts else np.zeros(0, dtype=np.int64)
    tables = [p.data for p in parts]
    if len(tables) == 1:
        combined = tables[0]
    else:
        try:
            combined = pa.concat_tables(tables, promote_options="permissive")
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
            # The files disagree on a column's type (e.g. int in one Parquet file, string in
            # another): validate them all as text.
            as_text = []
            for p, t in zip(parts, tables):
                try:
                    as_text.append(t.cast(pa.schema([pa.field(f.name, pa.string()) for f in t.schema])))
                except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
                    raise UserError(f"{p.name}: a column's type differs from the other files and cannot be read as text: {exc}") from None
            combined = pa.concat_tables(as_text, promote_options="default")
    combined = combined.append_column(POS, pa.array(np.arange(combined.num_rows, dtype=np.int64)))
    return combined, fids, lines


