"""The id crosswalk: a source's external ids (a Zendesk organization, a Stripe customer, a HubSpot company,
a Segment group) read as account ids through the canonical ``account_ids`` table.

A source with ``resolve_ids: {system: zendesk}`` (column ``account_id`` by default) has the values of
that column looked up in ``account_ids`` (system, external_id -> account_id) after its column map and
before validation. A row whose id has no entry for the system, or an entry naming more than one
account, is quarantined with a reason that names the system and the id (check 0, like a line that
cannot be parsed); its ``raw`` keeps the id as the source wrote it. Empty ids stay empty (the
required-column check names them). Nothing else changes: the resolved rows go through checks 1-6,
so an account the crosswalk names that is not in ``accounts`` is quarantined as for any other source.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from healthscore.errors import InvalidInput
from healthscore.ingest.report import BAD, Part

if TYPE_CHECKING:
    import pyarrow as pa

    from healthscore.engine.adapters.base import EngineAdapter


def crosswalk(engine: EngineAdapter, key: str) -> pa.Table:
    """The engine's account_ids table (system, external_id, account_id); InvalidInput when there is none."""
    if "account_ids" not in engine.list_tables():
        raise InvalidInput(
            f"sources.{key}.resolve_ids: there is no account_ids table in the engine to resolve ids through",
            details=["add sources.account_ids (columns system, external_id, account_id) to healthscore.yaml and"
                     " ingest it; see docs/data-contract.md (account_ids)"],
        )
    return engine.table("account_ids").select("system", "external_id", "account_id").to_pyarrow()


def lookup(xwalk: pa.Table, system: str) -> tuple[dict[str, str], dict[str, list[str]]]:
    """({external_id: account_id} of one system, {external_id: [account ids]} for ids naming several)."""
    import pyarrow.compute as pc

    rows = xwalk.filter(pc.equal(xwalk.column("system"), system)).to_pydict()
    found: dict[str, set[str]] = {}
    for ext, acc in zip(rows["external_id"], rows["account_id"]):
        if ext is not None and acc is not None:
            found.setdefault(ext, set()).add(acc)
    single = {k: next(iter(v)) for k, v in found.items() if len(v) == 1}
    several = {k: sorted(v) for k, v in found.items() if len(v) > 1}
    return single, several


def resolve_parts(parts: list[Part], column: str, system: str, xwalk: pa.Table) -> list[Part]:
    """The parts with ``column``'s external ids replaced by account ids; unknown ids quarantined (BAD)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    single, several = lookup(xwalk, system)
    keys = pa.array(list(single), pa.string())
    mapped = pa.array(list(single.values()), pa.string())
    out = []
    for part in parts:
        data = part.data
        if column not in data.column_names:
            out.append(part)  # the required-column check names it
            continue
        values = data.column(column)
        if not pa.types.is_string(values.type) and not pa.types.is_large_string(values.type):
            if pa.types.is_floating(values.type):  # ids read as numbers (1.0): whole numbers as integers
                values = pc.if_else(pc.equal(pc.floor(values), values), pc.cast(values, pa.int64(), safe=False), None)
            values = pc.cast(values, pa.string())
        values = pc.utf8_trim_whitespace(values.combine_chunks() if hasattr(values, "combine_chunks") else values)
        values = pc.if_else(pc.equal(values, ""), pa.scalar(None, pa.string()), values)
        at = pc.index_in(values, value_set=keys)
        resolved = pc.take(mapped, at)
        missing = pc.and_(pc.is_valid(values), pc.is_null(at)).to_numpy(zero_copy_only=False)
        new = pc.if_else(pc.is_valid(at), resolved, values)
        bad = data.column(BAD).to_pylist()
        ids = values.to_pylist()
        for i in missing.nonzero()[0]:
            if bad[i] is not None:
                continue
            ext = ids[i]
            if ext in several:
                bad[i] = (f"{column}: {system} id {ext!r} names several accounts in account_ids"
                          f" ({', '.join(several[ext])}); keep one row per (system, external_id)")
            else:
                bad[i] = (f"{column}: {system} id {ext!r} has no entry in account_ids; add a row (system {system},"
                          f" external_id {ext}, account_id) to the account_ids source")
        data = data.set_column(data.schema.get_field_index(column), column, new)
        data = data.set_column(data.schema.get_field_index(BAD), BAD, pa.array(bad, pa.string()))
        out.append(Part(part.name, part.word, data, part.lines, part.raw_names))
    return out


def unresolved(before: list[Part], after: list[Part]) -> int:
    """How many rows the crosswalk quarantined (for the report's warning)."""
    return sum(b.data.column(BAD).null_count - a.data.column(BAD).null_count for b, a in zip(before, after))
