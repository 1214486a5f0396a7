"""Recording: per-period firm and market rows and the event log, as tidy DataFrames.

Column names and units are documented in docs/model.md ("Outputs").
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pandas as pd

__all__ = ["Recorder", "EVENT_KINDS"]

EVENT_KINDS = (
    "acquire",
    "switch",
    "churn",
    "complaint",
    "resolved_late",
    "referral",
    "winback",
    "return",
    "heard",
    "lever",
    "problem",
)


class Recorder:
    """Collects rows during a run; builds DataFrames on demand."""

    def __init__(self) -> None:
        self.firm_rows: list[dict] = []
        self.market_rows: list[dict] = []
        self._events: dict[str, list] = defaultdict(list)
        self._n_events = 0

    def add_events(
        self,
        period: int,
        kind: str,
        customer,
        firm,
        *,
        other_firm=None,
        other=None,
        value=None,
        detail=None,
    ) -> None:
        customer = np.asarray(customer, dtype=np.int64).ravel()
        n = customer.size
        if n == 0:
            return

        def col(x, fill, dtype):
            if x is None:
                return np.full(n, fill, dtype)
            a = np.asarray(x)
            return np.broadcast_to(a, (n,)).astype(dtype) if a.ndim == 0 else a.astype(dtype)

        ev = self._events
        ev["period"].append(np.full(n, period, np.int32))
        ev["event"].append(np.full(n, EVENT_KINDS.index(kind), np.int8))
        ev["customer"].append(customer)
        ev["firm"].append(col(firm, -1, np.int16))
        ev["other_firm"].append(col(other_firm, -1, np.int16))
        ev["other"].append(col(other, -1, np.int64))
        ev["value"].append(col(value, np.nan, np.float64))
        ev["detail"].append(col(detail, "", object))
        self._n_events += n

    def events(self, firm_names: list[str]) -> pd.DataFrame:
        cols = ["period", "event", "customer", "firm", "other_firm", "other", "value", "detail"]
        if self._n_events == 0:
            df = pd.DataFrame({c: pd.Series(dtype="int64") for c in cols})
            df["event"] = pd.Categorical([], categories=EVENT_KINDS)
            df["detail"] = df["detail"].astype(object)
            df["value"] = df["value"].astype(float)
            df["firm_name"] = pd.Series(dtype=object)
            return df
        data = {c: np.concatenate(self._events[c]) for c in cols}
        df = pd.DataFrame(data)
        df["event"] = pd.Categorical.from_codes(
            df["event"].to_numpy(), categories=list(EVENT_KINDS)
        )
        names = np.array([*firm_names, ""], dtype=object)
        df["firm_name"] = names[df["firm"].to_numpy()]
        # stable order: by period, then as recorded
        return df

    def firms(self) -> pd.DataFrame:
        return pd.DataFrame(self.firm_rows)

    def market(self) -> pd.DataFrame:
        return pd.DataFrame(self.market_rows)
