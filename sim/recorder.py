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


def _filled(n: int, value, dtype) -> np.ndarray:
    """``np.full(n, value, dtype)`` at a third of its cost (it is called for every column
    of every event batch)."""
    out = np.empty(n, dtype)
    out.fill(value)
    return out


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
                return _filled(n, fill, dtype)
            a = np.asarray(x)
            return _filled(n, a.item(), dtype) if a.ndim == 0 else a.astype(dtype)

        ev = self._events
        ev["period"].append(_filled(n, period, np.int32))
        ev["event"].append(_filled(n, EVENT_KINDS.index(kind), np.int8))
        ev["customer"].append(customer)
        ev["firm"].append(col(firm, -1, np.int16))
        ev["other_firm"].append(col(other_firm, -1, np.int16))
        ev["other"].append(col(other, -1, np.int64))
        ev["value"].append(col(value, np.nan, np.float64))
        ev["detail"].append(col(detail, "", object))
        self._n_events += n

    def events(self, firm_names: list[str]) -> pd.DataFrame:
        """The event log; ``firm``/``other_firm`` are firm names ("" for none), with
        their indices in ``firm_index``/``other_firm_index`` (−1 for none)."""
        cols = ["period", "event", "customer", "firm", "other_firm", "other", "value", "detail"]
        if self._n_events == 0:
            data = {c: np.array([], np.int64) for c in cols}
        else:
            data = {c: np.concatenate(self._events[c]) for c in cols}
        codes = data["event"].astype(np.int8)
        names = np.array([*firm_names, ""], dtype=object)
        return pd.DataFrame(
            {
                "period": data["period"],
                "event": pd.Categorical.from_codes(codes, categories=list(EVENT_KINDS)),
                "customer": data["customer"],
                "firm": names[data["firm"]].astype(object),
                "firm_index": data["firm"],
                "other_firm": names[data["other_firm"]].astype(object),
                "other_firm_index": data["other_firm"],
                "other": data["other"],
                "value": data["value"].astype(float),
                "detail": data["detail"].astype(object),
            }
        )

    def firms(self) -> pd.DataFrame:
        return pd.DataFrame(self.firm_rows)

    def market(self) -> pd.DataFrame:
        return pd.DataFrame(self.market_rows)
