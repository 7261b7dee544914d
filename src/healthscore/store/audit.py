"""The hash-chained audit log of the store (the base of its record classes): every entry's hash covers its
predecessor's, optionally MACed with a key kept apart from the store and anchored in a file beside it."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, insert, select, text
from sqlalchemy.exc import IntegrityError, OperationalError

from healthscore.errors import UserError
from healthscore.store import tables as t
from healthscore.store.common import utcnow

T = TypeVar("T")

GENESIS_HASH = "0" * 64
_AUDIT_LOCK = 0x6175646974  # "audit"


def audit_hash(entry: dict[str, Any]) -> str:
    """sha256 over the canonical JSON of an entry's content and its predecessor's hash."""
    content = {k: entry[k] for k in ("seq", "at", "actor", "action", "object_type", "object_id", "before", "after",
                                     "prev_hash")}
    return hashlib.sha256(json.dumps(content, sort_keys=True, separators=(",", ":"), default=str).encode()).hexdigest()


class AuditSeal:
    """What keeps the audit log from being quietly rewritten by someone who can write the store: a key
    kept apart from it (HEALTHSCORE_AUDIT_KEY, or the workspace's .healthscore/audit_key, mode 600) that
    MACs every entry's hash, and an anchor file beside it with the count and head of the chain, rewritten
    (synced, renamed into place) after every append. Re-hashing the chain after an edit needs the key;
    cutting entries off the end contradicts the anchor."""

    def __init__(self, key: str, anchor_path: Path):
        self.key = key.encode()
        self.anchor_path = Path(anchor_path)

    @classmethod
    def for_workspace(cls, root: Path, store_url: str = "") -> AuditSeal:
        """The workspace's key, and its anchor of the store at `store_url` (one anchor file per store, so a
        workspace pointed at another database starts that one's anchor instead of contradicting it)."""
        from healthscore.security import key_file

        env = os.environ.get("HEALTHSCORE_AUDIT_KEY")
        if env is not None:
            if len(env.encode()) < 32:
                raise UserError("HEALTHSCORE_AUDIT_KEY is shorter than 32 bytes; use at least 32 random bytes")
            key = env
        else:
            key = key_file(Path(root) / ".healthscore" / "audit_key", "audit log key")
        from sqlalchemy.engine import make_url

        try:
            shown = make_url(store_url).render_as_string(hide_password=True) if store_url else ""
        except Exception:  # noqa: BLE001 - the Store reports a bad URL with its own message
            shown = store_url
        tag = hashlib.sha256(shown.encode()).hexdigest()[:12]
        return cls(key, Path(root) / ".healthscore" / f"audit_anchor-{tag}.json")

    def mac(self, text: str) -> str:
        return hmac.new(self.key, text.encode(), hashlib.sha256).hexdigest()

    def _anchor_mac(self, a: dict[str, Any]) -> str:
        return self.mac(f"anchor:{a['count']}:{a['head']}:{a['keyed_from']}")

    def read_anchor(self) -> dict[str, Any] | None:
        """The anchor ({count, head, keyed_from}), None when there is none; {"invalid": reason} if altered."""
        try:
            a = json.loads(self.anchor_path.read_text(encoding="utf-8"))
            ok = hmac.compare_digest(str(a.get("mac", "")), self._anchor_mac(a))
        except FileNotFoundError:
            return None
        except (ValueError, KeyError, TypeError, AttributeError):
            return {"invalid": "it is not an anchor"}
        return a if ok else {"invalid": "its MAC does not match"}

    def write_anchor(self, count: int, head: str, keyed_from: int) -> None:
        """Move the anchor forward (never back): one writer at a time (a lock file), written to a temporary
        file, synced and renamed into place, mode 600."""
        import fcntl

        self.anchor_path.parent.mkdir(parents=True, exist_ok=True)
        lock = os.open(self.anchor_path.with_suffix(".lock"), os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            fcntl.flock(lock, fcntl.LOCK_EX)
            old = self.read_anchor()
            if old is not None and "invalid" not in old and old["count"] >= count:
                return
            a = {"count": count, "head": head, "keyed_from": keyed_from}
            a["mac"] = self._anchor_mac(a)
            tmp = self.anchor_path.with_name(self.anchor_path.name + ".tmp")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(json.dumps(a))
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.anchor_path)
        finally:
            os.close(lock)


class AuditRecords:
    """Appending to and verifying the audit log; the other record classes write their entries through
    `_audit` inside `_in_transaction`."""

    engine: Engine  # set by Store
    seal: AuditSeal | None = None  # set by Store: keyed MACs and the anchor (None: the unkeyed chain only)

    # -- audit log ----------------------------------------------------------------------------

    def _audit(self, conn: Connection, actor: str, action: str, object_type: str, object_id: Any,
               before: Any = None, after: Any = None) -> dict[str, Any]:
        """Append one entry to the hash chain, in the caller's transaction."""
        if conn.dialect.name == "postgresql":  # writers queue here, so the chain never forks
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _AUDIT_LOCK})
        last = conn.execute(select(t.audit_log.c.seq, t.audit_log.c.hash).order_by(t.audit_log.c.seq.desc())
                            .limit(1)).first()
        entry: dict[str, Any] = {
            "seq": (last.seq + 1) if last else 1, "at": utcnow().isoformat(), "actor": actor, "action": action,
            "object_type": object_type, "object_id": str(object_id),
            "before": json.loads(json.dumps(before, default=str)) if before is not None else None,
            "after": json.loads(json.dumps(after, default=str)) if after is not None else None,
            "prev_hash": last.hash if last else GENESIS_HASH,
        }
        entry["hash"] = audit_hash(entry)
        mac = self.seal.mac(entry["hash"]) if self.seal is not None else None
        conn.execute(insert(t.audit_log), {**entry, "mac": mac, "at": datetime.fromisoformat(entry["at"])})
        conn.info["audit_appended"] = True  # the anchor moves once the transaction has committed
        return entry

    def _head(self) -> tuple[int, str]:
        with self.engine.connect() as conn:
            last = conn.execute(select(t.audit_log.c.seq, t.audit_log.c.hash).order_by(t.audit_log.c.seq.desc())
                                .limit(1)).first()
        return (last.seq, last.hash) if last else (0, GENESIS_HASH)

    def _init_seal(self) -> None:
        """A workspace's first open with a key: anchor the chain as it is; MACs start after its head. (An
        anchor that is gone while MACs exist is not recreated: `audit verify` reports it.)"""
        if self.seal is None or self.seal.anchor_path.exists():
            return
        with self.engine.connect() as conn:
            keyed = conn.execute(select(t.audit_log.c.seq).where(t.audit_log.c.mac.is_not(None)).limit(1)).first()
        if keyed is None:
            count, head = self._head()
            self.seal.write_anchor(count, head, count + 1)

    def _move_anchor(self) -> None:
        if self.seal is None:
            return
        a = self.seal.read_anchor()
        if a is None or "invalid" in a:
            return  # never paper over a missing or altered anchor
        count, head = self._head()
        self.seal.write_anchor(count, head, a["keyed_from"])

    def _in_transaction(self, work: Callable[[Connection], T]) -> T:
        """Run work(conn) in one transaction. Two writers that read the same chain head collide on the
        audit entry's key (SQLite has no advisory lock): the loser retries on the new head (20 attempts in
        all), so the chain never forks and no decision is lost."""
        attempt = 0
        while True:
            try:
                with self.engine.begin() as conn:
                    try:
                        out = work(conn)
                    finally:
                        appended = conn.info.pop("audit_appended", False)
                if appended:
                    self._move_anchor()
                return out
            except (IntegrityError, OperationalError) as exc:
                text_ = str(exc.orig)
                attempt += 1
                if attempt == 20 or not ("audit_log" in text_ or "locked" in text_):
                    raise
                time.sleep(0.01 * attempt)

    def audit(self, actor: str, action: str, object_type: str, object_id: Any, before: Any = None,
              after: Any = None) -> dict[str, Any]:
        return self._in_transaction(lambda conn: self._audit(conn, actor, action, object_type, object_id, before,
                                                             after))

    def audit_entries(self, limit: int | None = None, object_type: str | None = None,
                      object_id: str | None = None) -> list[dict[str, Any]]:
        a = t.audit_log.c
        stmt = select(t.audit_log).order_by(a.seq)
        if object_type:
            stmt = stmt.where(a.object_type == object_type)
        if object_id is not None:
            stmt = stmt.where(a.object_id == str(object_id))
        with self.engine.connect() as conn:
            rows = conn.execute(stmt).all()
        out = [{"seq": r.seq, "at": r.at.isoformat(), "actor": r.actor, "action": r.action,
                "object_type": r.object_type, "object_id": r.object_id, "before": r.before, "after": r.after,
                "prev_hash": r.prev_hash, "hash": r.hash, "mac": r.mac} for r in rows]
        return out[-limit:] if limit else out

    def verify_audit(self) -> dict[str, Any]:
        """Recompute the chain: any edited, deleted or reordered entry breaks it at that entry. With the
        seal, also every entry's keyed MAC from the anchor's keyed_from on (an edit re-hashed to the end
        of the chain fails here), and the anchor (entries cut off the end fail here)."""
        entries = self.audit_entries()
        anchor = self.seal.read_anchor() if self.seal is not None else None
        keyed_from = anchor.get("keyed_from", 1) if anchor else len(entries) + 1
        out = {"entries": len(entries), "keyed": self.seal is not None, "keyed_from": keyed_from,
               "anchored": anchor.get("count") if anchor else None}

        def bad(seq: int | None, problem: str) -> dict[str, Any]:
            return {"ok": False, **out, "first_bad_seq": seq, "problem": problem}

        if self.seal is not None:
            where = self.seal.anchor_path
            if anchor is not None and "invalid" in anchor:
                return bad(None, f"the audit anchor {where} was altered ({anchor['invalid']})")
            if anchor is None and any(e["mac"] for e in entries):
                return bad(None, f"the audit anchor {where} is missing: the log's length cannot be checked")
        prev = GENESIS_HASH
        for i, e in enumerate(entries, start=1):
            problem = None
            if e["seq"] != i:
                problem = f"entry {i} is missing (next stored entry is {e['seq']})"
            elif e["prev_hash"] != prev:
                problem = f"entry {e['seq']} does not follow entry {e['seq'] - 1} (previous hash differs)"
            elif audit_hash(e) != e["hash"]:
                problem = f"entry {e['seq']} ({e['action']} {e['object_type']} {e['object_id']}) was changed"
            elif self.seal is not None and e["seq"] >= keyed_from and not (
                    e["mac"] and hmac.compare_digest(e["mac"], self.seal.mac(e["hash"]))):
                problem = (f"entry {e['seq']} ({e['action']} {e['object_type']} {e['object_id']}) has no valid MAC:"
                           " it was written or re-hashed without the audit key")
            if problem:
                return bad(e["seq"], problem)
            prev = e["hash"]
        if anchor is not None:
            if len(entries) < anchor["count"]:
                return bad(len(entries) + 1, f"the log ends at entry {len(entries)} but the anchor records"
                                             f" {anchor['count']}: entries {len(entries) + 1}..{anchor['count']}"
                                             " were removed")
            if anchor["count"] and entries[anchor["count"] - 1]["hash"] != anchor["head"]:
                return bad(anchor["count"], f"entry {anchor['count']} is not the anchored head: the log was"
                                            " rewritten")
        return {"ok": True, **out, "first_bad_seq": None, "problem": None, "head": prev}
