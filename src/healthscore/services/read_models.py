"""What the web application and the REST API show: the portfolio, account lists, one account, a CSM's
workbench and the manager's queue (read models).

Aggregates are SQL (store/queries.py); the latest snapshot of each account (one as-of date, one row per
account) and the account directory (the engine's accounts table: name, segment, owner, ARR) are cached
in memory until a scoring run, an ingest or an override changes them.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import TYPE_CHECKING, Any

from healthscore.errors import InvalidInput, NotFound
from healthscore.services.read_frames import (
    ACCOUNT_COLUMNS,
    AT_RISK,
    DIRECTORY_COLUMNS,
    LIVE_FIELDS,
    STATUSES,
    TIERS,
    Cache,
    RequestMemo,
    add_risk_columns,
    check_choice,
    check_page,
    page_info,
    records,
)
from healthscore.workflow.overrides import apply_overrides, apply_overrides_to_frame

if TYPE_CHECKING:
    import pandas as pd

    from healthscore.engine.session import EngineConnection
    from healthscore.services.parts import Parts

DIRECTORY_TTL_S = 300.0
TASK_PAGE_STATUSES = ("open", "backlog", "accepted", "corrected", "dismissed", "superseded", "closed", "all")


class ReadModels:
    """The read models, with the cache and the per-request memo they own."""

    def __init__(self, parts: Parts, engine: EngineConnection):
        self.parts = parts
        self.engine = engine
        self.cache = Cache()
        self.memo = RequestMemo()
        self._last_key: tuple | None = None

    def change_key(self) -> tuple:
        """The store's change key (store/queries.py change_key), read at most once per request."""
        from healthscore.store import queries as Q

        key = self.memo.get("change_key", lambda: Q.change_key(self.parts.store))
        if self._last_key != key:
            # Something was written (maybe by another process, e.g. 'healthscore model approve'): score and
            # show with the version that is active now.
            self._last_key = key
            active = self.parts.store.active_model_version()
            models = self.parts.models
            if active is not None and models.loaded and models.active.version != active["version"]:
                models.reload()
        return key

    def directory(self) -> pd.DataFrame:
        """The engine's accounts table (account_id, name, segment, owner, arr, renewal_date), indexed by account_id."""
        import pandas as pd

        def build() -> pd.DataFrame:
            with self.engine.session():
                if "accounts" not in self.parts.con.list_tables():
                    frame = pd.DataFrame(columns=list(DIRECTORY_COLUMNS))
                else:
                    t = self.parts.con.table("accounts")
                    cols = [c for c in DIRECTORY_COLUMNS if c in t.columns]
                    frame = t.select(*cols).execute()
            for c in DIRECTORY_COLUMNS:
                if c not in frame:
                    frame[c] = None
            frame["account_id"] = frame["account_id"].astype(str)
            frame["arr"] = pd.to_numeric(frame["arr"], errors="coerce").fillna(0.0)
            frame["owner"] = frame["owner"].astype(object).where(frame["owner"].notna(), None)
            return frame.set_index("account_id", drop=False)

        key = (self.change_key()[2:4], int(time.monotonic() // DIRECTORY_TTL_S))
        return self.cache.get("directory", key, build)

    def account_owner(self, account_id: str) -> str | None:
        d = self.directory()
        if account_id not in d.index:
            raise NotFound(f"unknown account {account_id!r}: it is not in the accounts table", object_id=account_id)
        return d.at[account_id, "owner"]

    def latest(self) -> dict[str, Any]:
        """{model_version, as_of, frame, previous_as_of, previous}: the latest stored snapshot of every account
        (overrides in force applied, directory columns joined) and the snapshot about a month earlier."""
        import pandas as pd

        from healthscore.store import queries as Q

        version = self.parts.model.version
        k = self.change_key()
        key = (version, k[0:4], k[5:7])  # snapshots, the directory and overrides; not every audited action

        def build() -> dict[str, Any]:
            dates = Q.portfolio_dates(self.parts.store, version)
            as_of = dates[-1] if dates else Q.latest_as_of(self.parts.store, version)
            if as_of is None:
                empty = pd.DataFrame(columns=[*Q.LATEST_COLUMNS, "name", "owner", "arr", "renewal_date", "last_trusted",
                                              "reasons"])
                add_risk_columns(empty)
                return {"model_version": version, "as_of": None, "frame": empty, "previous_as_of": None,
                        "previous": pd.DataFrame(columns=["account_id", "score", "tier", "status"]), "key": key,
                        "dates": []}
            frame = Q.snapshots_on(self.parts.store, version, as_of, (*Q.LATEST_COLUMNS, "last_trusted", "reasons"))
            frame["computed_tier"] = frame["tier"]
            add_risk_columns(frame)
            apply_overrides_to_frame(frame, self.parts.store.overrides(active_on=as_of), as_of.isoformat())
            d = self.directory()
            frame = frame.merge(d[["name", "owner", "arr", "renewal_date"]], left_on="account_id", right_index=True,
                                how="left")
            # the account's own segment (accounts.segment), beside the model segment rule it was scored with
            frame["account_segment"] = frame["account_id"].map(d["segment"]).astype(object)
            # ARR as of the date, as the snapshots recorded it (the CLI's figures too); today's for an older one
            frame["arr"] = frame["account_id"].map(Q.arr_on(self.parts.store, version, as_of)).fillna(frame["arr"])
            frame["arr"] = frame["arr"].fillna(0.0)
            month_ago = as_of - dt.timedelta(days=28)
            prev_as_of = max((d for d in dates if d <= month_ago), default=None) if dates else \
                Q.latest_as_of(self.parts.store, version, month_ago)
            prev = Q.snapshots_on(self.parts.store, version, prev_as_of, ("account_id", "score", "tier", "status")) \
                if prev_as_of else pd.DataFrame(columns=["account_id", "score", "tier", "status"])
            # last month's ARR as of last month (not today's ARR of last month's accounts)
            prev["arr"] = prev["account_id"].map(Q.arr_on(self.parts.store, version, prev_as_of)) \
                if prev_as_of and len(prev) else float("nan")
            prev["arr"] = prev["arr"].fillna(prev["account_id"].map(d["arr"]))
            frame = frame.merge(prev[["account_id", "score"]].rename(columns={"score": "previous_score"}),
                                on="account_id", how="left")
            frame["trend"] = (frame["score"] - frame["previous_score"]).round(2)
            frame = frame.sort_values(["score", "account_id"], na_position="last", kind="stable").reset_index(drop=True)
            return {"model_version": version, "as_of": as_of, "frame": frame, "previous_as_of": prev_as_of,
                    "previous": prev, "key": key, "dates": dates or [as_of]}

        # the latest frame and everything in it (rows, key, dates) is one value: a request may see the previous run's
        return self.cache.get("latest", key, build, stale_ok=True)

    def _filter(self, frame: pd.DataFrame, *, tier: str | None = None, segment: str | None = None,
                owner: str | None = None, status: str | None = None, q: str | None = None) -> pd.DataFrame:
        check_choice("tier", tier, TIERS)
        check_choice("status", status, STATUSES)
        if segment is not None:
            # a model segment name filters on the rule an account was scored with; any other value on the
            # account's own segment (accounts.segment), so accounts the model has no rule for stay reachable
            rules = {s for s in frame["segment"].dropna().unique()} | {s.name for s in self.parts.model.ir.segments}
            own = set(frame["account_segment"].dropna().unique()) if "account_segment" in frame else set()
            check_choice("segment", segment, sorted(rules | own))
            column = "segment" if segment in rules else "account_segment"
            frame = frame[frame[column] == segment]
        if owner is not None:
            owners = set(self.directory()["owner"].dropna().unique())
            if owner not in owners:
                raise InvalidInput(f"owner={owner!r} owns no account; owners are e.g. {', '.join(sorted(owners)[:8])}",
                                   field="owner")
            frame = frame[frame["owner"] == owner]
        if tier is not None:
            frame = frame[frame["tier"] == tier]
        if status is not None:
            frame = frame[frame["status"] == status]
        if q:
            ql = q.lower()
            frame = frame[frame["account_id"].str.lower().str.contains(ql, regex=False)
                          | frame["name"].fillna("").astype(str).str.lower().str.contains(ql, regex=False)]
        return frame

    def accounts(self, *, tier=None, segment=None, owner=None, status=None, q=None, limit: int = 50,
                 offset: int = 0) -> dict[str, Any]:
        check_page(limit, offset)
        lat = self.latest()
        filters = (tier, segment, owner, status, q)
        import numpy as np

        def rows() -> np.ndarray:  # positions in the latest frame (small to keep, unlike the rows)
            f = self._filter(lat["frame"], tier=tier, segment=segment, owner=owner, status=status, q=q)
            return lat["frame"].index.get_indexer(f.index).astype(np.int32)

        positions = self.cache.get(f"accounts:{filters!r}", lat["key"], rows)
        page = lat["frame"].iloc[positions[offset:offset + limit]]
        total = int(len(positions))
        return {"as_of": lat["as_of"].isoformat() if lat["as_of"] else None, "model_version": lat["model_version"],
                "total": total, "limit": limit, "offset": offset,
                "next_offset": offset + limit if offset + limit < total else None,
                "items": records(page, ACCOUNT_COLUMNS)}

    def portfolio(self, *, segment: str | None = None, owner: str | None = None, top: int = 15) -> dict[str, Any]:
        lat = self.latest()
        return self.cache.get(f"portfolio:{segment!r}:{owner!r}:{top}", (lat["model_version"], self.change_key()),
                              lambda: self._portfolio(lat, segment, owner, top), stale_ok=True)

    def _portfolio(self, lat: dict[str, Any], segment: str | None, owner: str | None, top: int) -> dict[str, Any]:
        from healthscore.store import queries as Q

        as_of = lat["as_of"]
        frame = self._filter(lat["frame"], segment=segment, owner=owner)
        out: dict[str, Any] = {"as_of": as_of.isoformat() if as_of else None, "model_version": lat["model_version"],
                               "previous_as_of": lat["previous_as_of"].isoformat() if lat["previous_as_of"] else None,
                               "filters": {"segment": segment, "owner": owner}, "accounts": int(len(frame))}
        if as_of is None:
            out.update(tiers=[], arr_at_risk=0.0, distribution=[], transitions=[], at_risk=[],
                       segments=[], owners=[])
            return out
        prev = lat["previous"]
        rules = set(lat["frame"]["segment"].dropna().unique()) | {s.name for s in self.parts.model.ir.segments}
        own_segment = segment is not None and segment not in rules  # filtered on accounts.segment: by account ids
        subset = frame["account_id"].tolist() if owner is not None or own_segment else None
        q_segment = None if own_segment else segment  # the store's snapshots carry the rule, not accounts.segment
        if subset is not None or segment is not None:
            prev = prev[prev["account_id"].isin(frame["account_id"])]
        label = frame["tier"].fillna(frame["status"])
        prev_label = prev["tier"].fillna(prev["status"])
        total_arr = float(frame["arr"].sum())
        tiers = []
        for tier in [*TIERS, *sorted(set(label) - set(TIERS))]:
            m, pm = label == tier, prev_label == tier
            n, arr = int(m.sum()), float(frame.loc[m, "arr"].sum())
            tiers.append({"tier": tier, "accounts": n, "share": round(n / len(frame), 4) if len(frame) else 0.0,
                          "arr": round(arr, 2), "arr_share": round(arr / total_arr, 4) if total_arr else 0.0,
                          "previous_accounts": int(pm.sum()) if len(prev) else None,
                          "previous_arr": round(float(prev.loc[pm, "arr"].fillna(0).sum()), 2) if len(prev) else None})
        # paused snapshots count at their last trusted tier: a pause never hides risk
        at_risk = frame[frame["tier"].isin(AT_RISK) | frame["paused_at_risk"]]
        prev_risk = prev[prev["tier"].isin(AT_RISK)]
        out["tiers"] = tiers
        out["arr"] = round(total_arr, 2)
        out["arr_at_risk"] = round(float(at_risk["arr"].sum()), 2)
        par = frame[frame["paused_at_risk"]]
        out["paused_at_risk"] = {"accounts": int(len(par)), "arr": round(float(par["arr"].sum()), 2)}
        pz = frame[frame["status"] == "paused"]
        out["paused_by_reason"] = [{"reason": r, "accounts": int(n),
                                    "at_risk": int(pz.loc[pz["pause_reason"] == r, "paused_at_risk"].sum())}
                                   for r, n in pz["pause_reason"].fillna("unknown").value_counts().items()]
        out["previous_arr_at_risk"] = round(float(prev_risk["arr"].fillna(0).sum()), 2) if len(prev) else None

        def aggregates() -> dict[str, Any]:
            dates = [d for d in lat["dates"] if as_of - dt.timedelta(days=366) < d <= as_of]
            sample = dates[::max(1, len(dates) // 12)][-12:]
            if as_of not in sample:
                sample = [*sample[-11:], as_of]
            q_start = min((d for d in lat["dates"] if d >= Q.quarter_start(as_of)), default=as_of)
            return {
                "distribution": Q.score_distribution(self.parts.store, lat["model_version"], sample, segment=q_segment,
                                                     account_ids=subset),
                "transitions": {"from": q_start.isoformat(), "to": as_of.isoformat(),
                                "moves": Q.tier_transitions(self.parts.store, lat["model_version"], q_start, as_of,
                                                            segment=q_segment, account_ids=subset)},
            }

        # SQL over the history: rebuilt after a scoring run (or an ingest, for the owner filter), not after decisions
        k = self.change_key()
        out.update(self.cache.get(f"aggregates:{segment!r}:{owner!r}", (lat["model_version"], k[0:4]), aggregates,
                                  stale_ok=True))
        top_rows = frame[frame["tier"] == "red"].head(top)
        if len(top_rows) < top:
            top_rows = frame[frame["tier"].isin(AT_RISK)].head(top)
        rows = records(top_rows, ACCOUNT_COLUMNS)
        actions = Q.last_actions(self.parts.store, [r["account_id"] for r in rows])
        for r in rows:
            r["last_action"] = actions.get(r["account_id"])
        out["at_risk"] = rows
        out["segments"] = sorted(set(lat["frame"]["segment"].dropna().unique().tolist())
                                 | set(lat["frame"]["account_segment"].dropna().unique().tolist()))
        out["owners"] = sorted(lat["frame"]["owner"].dropna().unique().tolist())
        return out

    def account(self, account_id: str) -> dict[str, Any]:
        """One account: its latest stored snapshot with evidence (overrides in force applied), its history
        without evidence, tasks, overrides, alerts and the audit trail of its tasks and overrides."""
        from healthscore.store import queries as Q

        d = self.directory()
        if account_id not in d.index:
            raise NotFound(f"unknown account {account_id!r}: it is not in the accounts table", object_id=account_id)
        at = d.index.get_loc(account_id)  # a slice of one row: a lookup by list (d.loc[[id]]) copies the frame's rows
        info = records(d.iloc[at:at + 1] if isinstance(at, int) else d.loc[[account_id]], list(DIRECTORY_COLUMNS))[0]
        version = self.parts.model.version
        overrides = self.parts.store.overrides([account_id])
        # one query through the (account_id, as_of) index: the last 400 days of every model version
        history = Q.account_history(self.parts.store, account_id, dt.date.today() - dt.timedelta(days=400))
        if not any(h["model_version"] == version for h in history):  # an older store: look further back
            history = Q.account_history(self.parts.store, account_id)
        mine = [h["as_of"] for h in history if h["model_version"] == version]
        as_of = dt.date.fromisoformat(max(mine)) if mine else None
        history = [h for h in history if as_of is None or h["as_of"] >= (as_of - dt.timedelta(days=400)).isoformat()]
        history = apply_overrides(history, overrides)
        snap = None
        if as_of is not None:
            snaps = self.parts.store.snapshots(account_id, as_of=as_of, model_version=version)
            snap = apply_overrides(snaps, overrides)[0] if snaps else None
            if snap is not None and self.parts.model.ir.hybrid is not None:
                from healthscore.explain.learned import explain_learned

                snap = {**snap, "learned": explain_learned(snap, self.parts.model.ir)}
        tasks = self.parts.store.tasks(account_id=account_id, status="all")
        alerts = self.parts.store.alerts(account_id=account_id, limit=50)
        ids = [str(x["task_id"]) for x in tasks]
        override_ids = [str(o["override_id"]) for o in overrides]
        audit = Q.audit_page(self.parts.store, object_type="task", object_ids=ids, limit=100) + \
            Q.audit_page(self.parts.store, object_type="override", object_ids=override_ids, limit=100)
        audit.sort(key=lambda e: -e["seq"])
        versions: dict[str, str] = {}
        for h in history:
            versions.setdefault(h["model_version"], h["as_of"])
        live = self.live_of(account_id)
        return {"account": info, "model_version": version, "as_of": as_of.isoformat() if as_of else None,
                "snapshot": snap, "live": live,
                "history": [{k: h.get(k) for k in ("as_of", "model_version", "score", "tier", "status", "confidence",
                                                   "primary_driver", "trend_note")} for h in history],
                "model_versions_seen": [{"version": v, "first_as_of": a} for v, a in versions.items()],
                "tasks": tasks, "overrides": overrides, "alerts": alerts, "audit": audit,
                "override_reasons": list(self.parts.model.ir.workflow.override_reasons),
                "max_override_days": self.parts.model.ir.workflow.max_override_days}

    def driver_words(self, metric: str | None) -> str | None:
        """A metric in words: its description in the model, else its name without underscores."""
        if not metric:
            return None
        m = next((m for _, m in self.parts.model.ir.metrics if m.name == metric), None)
        return (m.description if m is not None and getattr(m, "description", None) else metric.replace("_", " "))

    def enrich_tasks(self, tasks: list[dict]) -> list[dict]:
        """What a list of tasks needs beside the task: account name, ARR and renewal date, the driver in
        words, the smoothed score the published tier follows."""
        d = self.directory()
        out = []
        for t in tasks:
            info = records(d.loc[[t["account_id"]]], ["name", "arr", "renewal_date"])[0] if t["account_id"] in d.index \
                else {"name": None, "arr": None, "renewal_date": None}
            na = t.get("next_action") or {}
            driver = next((w[len("main driver: "):].replace(" ", "_") for w in na.get("why", [])
                           if w.startswith("main driver: ")), None)
            tri = na.get("triage") or {}
            out.append({**t, **info, "driver": driver, "driver_text": self.driver_words(driver),
                        "smoothed_score": tri.get("smoothed_score"),
                        "why": ", ".join(x["name"].replace("_", " ") for x in t["triggers"] if x["kind"] != "routing"),
                        "routed": ", ".join(tri.get("routed") or [])})
        return out

    def workbench(self, username: str, limit: int = 50, offset: int = 0) -> dict[str, Any]:
        """The owner's ranked open tasks (this week's capacity), their alerts and accounts, each list with its
        true size; the owners a manager can pick from."""
        from healthscore.store import queries as Q

        check_page(limit, offset)
        lat = self.latest()
        mine = lat["frame"][lat["frame"]["owner"] == username]
        tasks, total = self._tasks(queue=username, status="open", limit=limit, offset=offset, order="rank")
        backlog, n_backlog = self._tasks(queue=username, status="backlog", limit=limit, order="rank")
        ids, n_alerts = Q.alerts_page(self.parts.store, queue=username, limit=limit)
        alerts = Q.alerts_by_id(self.parts.store, ids)
        cap = self.parts.model.ir.workflow.triage.capacity_of(username)
        shown_accounts = mine.head(200)
        return {"username": username, "as_of": lat["as_of"].isoformat() if lat["as_of"] else None,
                "capacity": cap, "tasks": self.enrich_tasks(tasks), "open_tasks": total,
                "tasks_page": page_info(total, len(tasks), limit, offset),
                "backlog": self.enrich_tasks(backlog), "backlog_page": page_info(n_backlog, len(backlog), limit, 0),
                "alerts": alerts, "alerts_page": page_info(n_alerts, len(alerts), limit, 0),
                "accounts": records(shown_accounts, ACCOUNT_COLUMNS),
                "accounts_page": page_info(int(len(mine)), int(len(shown_accounts)), 200, 0),
                "owners": sorted(lat["frame"]["owner"].dropna().unique().tolist())}

    def decisions(self, limit: int = 50, offset: int = 0) -> dict[str, Any]:
        """Recent decisions, newest first: accepts, corrections (with their overrides) and dismissals."""
        from healthscore.store import queries as Q

        check_page(limit, offset)
        rows, total = [], 0
        for status in ("accepted", "corrected", "dismissed"):
            total += Q.tasks_page(self.parts.store, status=status, limit=1)[1]
        items, _ = self._decided(limit + offset)
        page = items[offset:offset + limit]
        overrides = {o["override_id"]: o for o in self.parts.store.overrides()}
        for t in page:
            rows.append({**t, "override": overrides.get(t.get("override_id"))})
        counts = {s: Q.tasks_page(self.parts.store, status=s, limit=1)[1]
                  for s in ("accepted", "corrected", "dismissed")}
        return {"items": self.enrich_tasks(rows), "page": page_info(total, len(page), limit, offset), "counts": counts,
                "active_overrides": len(self.parts.store.overrides(active_on=dt.date.today()))}

    def _decided(self, n: int) -> tuple[list[dict], int]:
        from healthscore.store import queries as Q

        out = []
        for status in ("accepted", "corrected", "dismissed"):
            out += Q.tasks_page(self.parts.store, status=status, limit=n, order="decided")[0]
        out.sort(key=lambda t: (t["decided_at"] or "", t["task_id"]), reverse=True)
        return out[:n], len(out)

    def _tasks(self, **kw) -> tuple[list[dict], int]:
        from healthscore.store import queries as Q

        return Q.tasks_page(self.parts.store, **kw)

    def manager_queue(self, *, owner: str | None = None, status: str = "open", priority: str | None = None,
                      limit: int = 50, offset: int = 0, order: str | None = None) -> dict[str, Any]:
        """Every owner's tasks (filters: owner, status, priority; by rank), overdue tasks, unreviewed material
        changes, accounts yellow for more than 30 days and paused snapshots: each with its true count."""
        from healthscore.store import queries as Q

        check_page(limit, offset)
        check_choice("status", status, ("open", "backlog", "accepted", "corrected", "dismissed", "superseded", "closed",
                                         "all"))
        check_choice("priority", priority, ("high", "normal"))
        lat = self.latest()
        now = self.parts.today()
        check_choice("order", order, ("rank", "due", "newest", "decided"))
        order = order or ("rank" if status in ("open", "backlog") else "newest")
        tasks, n_tasks = self._tasks(queue=owner, status=status, priority=priority, limit=limit, offset=offset,
                                order=order)
        open_all, _ = self._tasks(status="open", limit=100_000, order="rank")
        material_all = [x for x in open_all if any(tr["kind"] == "material_change" for tr in x["triggers"])]
        material = material_all[:limit]
        overdue, n_overdue = self._tasks(status="open", due_before=now, limit=limit, order="due")
        frame = lat["frame"]
        yellow, n_yellow = [], 0
        if lat["as_of"] is not None:
            version = lat["model_version"]
            start = max((d for d in lat["dates"] if d <= lat["as_of"] - dt.timedelta(days=30)), default=None)

            def steady() -> list[str]:
                return Q.steady_tier(self.parts.store, version, "yellow", start, lat["as_of"]) if start else []

            ids = set(self.cache.get("steady_yellow", (version, self.change_key()[0:2]), steady))
            ys = frame[frame["account_id"].isin(ids) & (frame["tier"] == "yellow")]
            n_yellow = int(len(ys))
            yellow = records(ys.sort_values("arr", ascending=False).head(limit), ACCOUNT_COLUMNS)
        pz = frame[frame["status"] == "paused"]
        paused = records(pz.sort_values("arr", ascending=False).head(limit), ACCOUNT_COLUMNS)
        return {"as_of": lat["as_of"].isoformat() if lat["as_of"] else None, "today": now.isoformat(),
                "filters": {"owner": owner, "status": status, "priority": priority, "order": order},
                "owners": sorted(set(lat["frame"]["owner"].dropna().unique().tolist())
                                 | {self.parts.model.ir.workflow.routing.fallback_queue}),
                "tasks": self.enrich_tasks(tasks), "tasks_page": page_info(n_tasks, len(tasks), limit, offset),
                "material_changes": self.enrich_tasks(material),
                "material_changes_page": page_info(len(material_all), len(material), limit, 0),
                "overdue": self.enrich_tasks(overdue), "overdue_total": n_overdue,
                "overdue_page": page_info(n_overdue, len(overdue), limit, 0),
                "yellow_30_days": yellow, "yellow_30_days_page": page_info(n_yellow, len(yellow), limit, 0),
                "paused": paused, "paused_page": page_info(int(len(pz)), len(paused), limit, 0)}

    def live_of(self, account_id: str) -> dict[str, Any] | None:
        """The account's live snapshot (real-time events, `healthscore stream`), marked live with its time."""
        # most accounts have no live snapshot of any version: then the model (its version) is not even loaded
        rows = self.parts.store.live_snapshots([account_id])
        if rows:
            rows = self.parts.store.live_snapshots([account_id], self.parts.model.version)
        return {k: rows[0].get(k) for k in LIVE_FIELDS} if rows else None

    # ---- pages of the stored records ----------------------------------------------------------

    def account_evidence(self, account_id: str, as_of: dt.date) -> list[dict]:
        self.account_owner(account_id)  # unknown account: a clear error
        version = self.parts.model.version
        ev = self.parts.store.evidence_for(account_id, as_of, version)
        if not ev:
            raise NotFound(f"account {account_id!r} has no stored snapshot at {as_of} under model version"
                           f" {version}; see its history for the stored dates", object_id=account_id)
        return ev

    def tasks_page(self, owner: str | None = None, status: str = "open", account_id: str | None = None,
                   limit: int = 50, offset: int = 0, order: str | None = None, priority: str | None = None) -> dict:
        from healthscore.store import queries as Q

        if status not in TASK_PAGE_STATUSES:
            raise InvalidInput(f"status={status!r} is not allowed; use {', '.join(TASK_PAGE_STATUSES)}",
                               field="status")
        order = order or ("rank" if status in ("open", "backlog") else "newest")
        if order not in Q.TASK_ORDERS:
            raise InvalidInput(f"order={order!r} is not allowed; use {', '.join(Q.TASK_ORDERS)}", field="order")
        check_page(limit, offset)
        items, total = Q.tasks_page(self.parts.store, queue=owner, status=status, account_id=account_id, limit=limit,
                                    offset=offset, order=order, priority=priority)
        return {"total": total, "limit": limit, "offset": offset, "order": order, "shown": len(items),
                "next_offset": offset + limit if offset + limit < total else None, "items": items}

    def alerts_page(self, since: dt.date | None = None, owner: str | None = None, status: str | None = None,
                    account_id: str | None = None, limit: int = 50, offset: int = 0) -> dict:
        from healthscore.store import queries as Q

        if status is not None and status not in ("sent", "digest", "capped"):
            raise InvalidInput(f"status={status!r} is not allowed; use sent, digest or capped", field="status")
        check_page(limit, offset)
        ids, total = Q.alerts_page(self.parts.store, since=since, queue=owner, status=status, account_id=account_id,
                                   limit=limit, offset=offset)
        return {"total": total, "limit": limit, "offset": offset,
                "next_offset": offset + limit if offset + limit < total else None,
                "items": Q.alerts_by_id(self.parts.store, ids)}

    def audit_page(self, limit: int = 50, before_seq: int | None = None, object_type: str | None = None,
                   object_id: str | None = None) -> dict:
        from healthscore.store import queries as Q

        check_page(limit, 0)
        items = Q.audit_page(self.parts.store, limit=limit, before_seq=before_seq, object_type=object_type,
                             object_id=object_id)
        return {"limit": limit, "items": items, "next_before_seq": items[-1]["seq"] if len(items) == limit else None}
