"""Checks 0-6 over data read into Arrow (the in-memory path), vectorised in a local DuckDB."""

from __future__ import annotations

from contextlib import ExitStack
from typing import TYPE_CHECKING

from healthscore.contract import TABLES
from healthscore.engine.adapters.sql import column, exp
from healthscore.errors import UserError
from healthscore.ingest.checks import E_ACCOUNT, E_DUPLICATE, Plan, select, sql
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
    with ExitStack() as views:
        views.enter_context(vcon.registered(combined, "__hs_src", unique=False))
        checked = vcon.fetch_arrow(plan.check_text("__hs_src"))
        pos = checked.column(POS).to_numpy()
        if len(pos) != n_rows:
            raise AssertionError(f"validation returned {len(pos)} rows for {n_rows}")
        if n_rows and not (np.diff(pos) > 0).all():  # DuckDB keeps scan order; make sure
            checked = checked.take(pa.array(np.argsort(pos)))
        err = pc.fill_null(checked.column("__hs_err"), -1).to_numpy().astype(np.int32)  # -1: accepted
        first = np.full(n_rows, -1, dtype=np.int64)  # position of the first occurrence, for duplicates

        checked_view = views.enter_context(vcon.registered(checked, "__hs_checked"))
        check_accounts = accounts is not None and table.references_accounts and "account_id" in plan.present
        ids_view = views.enter_context(vcon.registered(accounts, "__hs_ids")) if check_accounts else None
        if table.id_column and table.id_column in plan.present:
            # An id is claimed by its first row that passes all the other checks (0-4 and 6):
            # a row quarantined for its account does not take the id from a later good row.
            dup = vcon.fetch_arrow(_repeated_ids(plan, plan.p_name(table.id_column), checked_view, ids_view))
            at = dup.column("pos").to_numpy()
            err[at] = E_DUPLICATE * 1000 + plan.index(table.id_column)
            first[at] = dup.column("first_pos").to_numpy()
        if ids_view is not None:
            unknown = vcon.fetch_arrow(sql(
                "SELECT c.__hs_pos AS pos FROM $checked AS c WHERE c.__hs_err IS NULL AND $p IS NOT NULL"
                " AND NOT EXISTS (SELECT 1 FROM $ids AS a WHERE a.account_id = $p)",
                checked=checked_view, ids=ids_view, p=column(plan.p_name("account_id"), "c")))
            at = unknown.column("pos").to_numpy()
            at = at[err[at] == -1]  # a duplicate is reported as such
            err[at] = E_ACCOUNT * 1000 + plan.index("account_id")

        keep = err == -1
        quarantine = quarantine_frame(vcon, plan, parts, combined, fids, lines, err, first)
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
                    raise UserError(
                        f"{p.name}: a column's type differs from the other files and cannot be read as text: {exc}"
                    ) from None
            combined = pa.concat_tables(as_text, promote_options="default")
    combined = combined.append_column(POS, pa.array(np.arange(combined.num_rows, dtype=np.int64)))
    return combined, fids, lines


def _repeated_ids(plan: Plan, id_name: str, checked: exp.Table, ids: exp.Table | None) -> exp.Expr:
    """(pos, first_pos) of the rows whose id an earlier row (passing checks 0-4 and 6) claimed."""
    cp = column(id_name, "c")
    if ids is None:
        firsts = sql(
            "SELECT $cp AS id, min(c.__hs_pos) FILTER (WHERE TRUE) AS first_pos FROM $checked AS c"
            " WHERE c.__hs_err IS NULL AND $cp IS NOT NULL GROUP BY $cp HAVING count(*) > 1",
            cp=cp,
            checked=checked,
        )
    else:
        firsts = sql(
            "SELECT $cp AS id, min(c.__hs_pos) FILTER (WHERE a.account_id IS NOT NULL) AS first_pos"
            " FROM $checked AS c LEFT JOIN (SELECT DISTINCT account_id FROM $ids) AS a"
            " ON a.account_id = $ca"
            " WHERE c.__hs_err IS NULL AND $cp IS NOT NULL GROUP BY $cp HAVING count(*) > 1",
            cp=cp,
            checked=checked,
            ids=ids,
            ca=column(plan.p_name("account_id"), "c"),
        )
    return select(
        "SELECT c.__hs_pos AS pos, f.first_pos FROM $checked AS c JOIN firsts AS f ON $cp = f.id"
        " WHERE c.__hs_err IS NULL AND c.__hs_pos > f.first_pos",
        checked=checked,
        cp=cp,
    ).with_("firsts", as_=firsts)
