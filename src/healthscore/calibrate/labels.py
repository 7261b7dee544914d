"""Point-in-time outcome labels: did a bad outcome happen within the horizon after each as-of date?"""

from __future__ import annotations

import numpy as np
import pandas as pd

from healthscore.model.ir import Outcome


def label_snapshots(snaps: pd.DataFrame, outcomes: pd.DataFrame, spec: Outcome, data_end,
                    one_date_from=None) -> pd.DataFrame:
    """Per (account_id, as_of): label 1 (a `spec.label` outcome in [as_of, as_of + horizon) and at or before
    `data_end`), 0 (none, and the horizon is over by `data_end`), or NaN (censored: the horizon is not over and
    nothing happened yet). `data_end` is the end of observation: the newest row of the workspace's data, so an
    outcome stamped at that very instant counts.

    One-date data (a cross-sectional export: every signal on one day D, outcomes recorded by the data end):
    pass `one_date_from=D`. The outcome window then starts at D instead of at the as-of date (which must be
    after D for the export's rows to be visible), and every account observed to the data end without a bad
    outcome is a survivor (label 0), however short that observation is.

    Adds `label`, `event_at` (first bad outcome in the horizon), `renewed` (a renewed/expanded outcome in
    the horizon) and `censored`.
    """
    out = snaps[["account_id", "as_of"]].copy()
    out["as_of"] = pd.to_datetime(out["as_of"])
    snap_as_of = out["as_of"].copy()
    if one_date_from is not None:
        out["as_of"] = out["as_of"].clip(upper=pd.Timestamp(one_date_from))
    horizon = pd.Timedelta(days=spec.horizon_days)
    end = pd.Timestamp(data_end)
    oc = outcomes[["account_id", "ts", "kind"]].copy()
    oc["ts"] = pd.to_datetime(oc["ts"])
    oc["account_id"] = oc["account_id"].astype(str)
    bad = oc[oc["kind"].isin(spec.label)].sort_values("ts")
    good = oc[oc["kind"].isin(["renewed", "expanded"])].sort_values("ts")

    def first_after(events: pd.DataFrame) -> np.ndarray:
        """The first event at or after each snapshot's as-of date (NaT if none)."""
        left = out.reset_index().sort_values("as_of")
        left["account_id"] = left["account_id"].astype(str)
        merged = pd.merge_asof(left, events.rename(columns={"ts": "event_at"})[["account_id", "event_at"]]
                               .assign(_t=lambda d: d["event_at"]).sort_values("_t"),
                               left_on="as_of", right_on="_t", by="account_id", direction="forward",
                               allow_exact_matches=True)
        return merged.set_index("index")["event_at"].reindex(out.index).to_numpy("datetime64[ns]")

    ev = pd.to_datetime(first_after(bad))
    ren = pd.to_datetime(first_after(good))
    as_of = out["as_of"]
    in_h = ev.notna() & (ev < as_of + horizon) & (ev <= end)
    complete = (as_of + horizon <= end) if one_date_from is None else pd.Series(True, index=out.index)
    out["label"] = np.where(in_h, 1.0, np.where(complete, 0.0, np.nan))
    out["event_at"] = ev.where(in_h)
    out["renewed"] = (ren.notna() & (ren < as_of + horizon) & (ren <= end)).to_numpy()
    out["as_of"] = snap_as_of
    out["censored"] = np.isnan(out["label"].to_numpy())
    return out


def keep_churned(frame: pd.DataFrame, plan) -> pd.DataFrame:
    """One-date data: the outcomes recorded on the export day are the labels, not history; an account whose churn
    is on that day is still scored as of the day after (the scorer otherwise drops accounts that churned)."""
    col = f"{plan.last_outcome}__value"
    if col not in frame.columns:
        return frame
    return frame.assign(**{col: None})
