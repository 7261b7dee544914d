"""Owners: a CRM's account owner (a full name such as 'Dana Kim', or an email) mapped to a store user.

Review tasks, the csm role's rights and the web app's "my accounts" compare ``accounts.owner`` with a
username, so ingestion maps each owner value (``accounts.owner``, and ``account_changes.value`` where
``field`` is ``owner``) to the username it stands for, compared without regard to case or surrounding
spaces:

1. the workspace's ``owners:`` map in healthscore.yaml (``"Dana Kim": dana.kim``,
   ``"dana@example.com": dana.kim``) -- the place for emails and names that differ from the store;
2. a user's username;
3. a user's display name (``healthscore user add dana.kim --role csm --name "Dana Kim"``).

A value that matches none of them is kept as written and reported: the ingest report warns with each
unmapped owner and its row count (``healthscore validate`` does the same on its sample). When the store
has no users and ``owners:`` is empty, nothing is mapped or reported (there is no one to map to yet).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from healthscore.ingest.report import Part


@dataclass
class Owners:
    """What an owner value may map to: {casefolded name, email or username: username}."""

    names: dict[str, str] = field(default_factory=dict)
    unmapped: Counter = field(default_factory=Counter)
    # owners: entries whose username is no user of the store (only known when the store has users)
    unknown_targets: list[str] = field(default_factory=list)

    @classmethod
    def build(cls, users: list[dict], configured: dict[str, str]) -> Owners | None:
        if not users and not configured:
            return None
        names: dict[str, str] = {}
        for u in users:
            if u.get("display_name"):
                names[_key(u["display_name"])] = u["username"]
        for u in users:
            names[_key(u["username"])] = u["username"]
        for given, username in configured.items():  # the workspace's map wins
            names[_key(given)] = username
        users_ = {u["username"] for u in users}
        unknown = sorted({u for u in configured.values() if users and u not in users_})
        return cls(names, unknown_targets=unknown)

    def warnings(self, table: str) -> list[str]:
        out = []
        if self.unknown_targets and table == "accounts":
            out.append(f"owners: in healthscore.yaml maps to {', '.join(map(repr, self.unknown_targets))}, which is"
                       " no user of the store; add the user (healthscore user add) or correct the map")
        if not self.unmapped:
            return out
        shown = ", ".join(f"{name!r} ({n} row(s))" for name, n in sorted(self.unmapped.items())[:10])
        more = f" and {len(self.unmapped) - 10} more" if len(self.unmapped) > 10 else ""
        return [*out, f"{table}: {len(self.unmapped)} owner(s) match no user and are kept as written: {shown}{more};"
                " map them under owners: in healthscore.yaml (name or email: username) or give the user that"
                " display name (docs/data-contract.md, Owners)"]


def _key(value: str) -> str:
    return " ".join(str(value).split()).casefold()


def map_owner_parts(parts: list[Part], table: str, owners: Owners) -> list[Part]:
    """The parts with owner values mapped to usernames; unmapped values counted on ``owners``."""
    import pyarrow as pa

    if table not in ("accounts", "account_changes"):
        return parts
    column = "owner" if table == "accounts" else "value"
    out = []
    for part in parts:
        data = part.data
        if column not in data.column_names or (table == "account_changes" and "field" not in data.column_names):
            out.append(part)
            continue
        values = data.column(column).to_pylist()
        fields = data.column("field").to_pylist() if table == "account_changes" else None
        mapped = []
        for i, v in enumerate(values):
            if v is None or (fields is not None and str(fields[i]).strip() != "owner") or not str(v).strip():
                mapped.append(v)
                continue
            username = owners.names.get(_key(v))
            if username is None:
                owners.unmapped[str(v).strip()] += 1
                mapped.append(v)
            else:
                mapped.append(username)
        array = pa.array([None if v is None else str(v) for v in mapped], pa.string())
        data = data.set_column(data.schema.get_field_index(column), column, array)
        out.append(Part(part.name, part.word, data, part.lines, part.raw_names))
    return out
