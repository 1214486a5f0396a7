"""Recording: per-period firm and market rows and the event log, as tidy DataFrames.

Column names and units are documented in docs/model.md ("Outputs").
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pandas as pd

from .population import id_dtype

__all__ = ["Recorder", "EVENT_KINDS", "sample_ids"]

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


def sample_ids(n: int, size: int) -> np.ndarray:
    """``size`` evenly spaced customer ids out of ``n`` (the panel and the event sample).

    Examples:
        >>> sample_ids(10, 4).tolist()
        [0, 3, 6, 9]
    """
    size = min(int(size), int(n))
    if size <= 0:
        return np.empty(0, np.int64)
    return np.unique(np.linspace(0, n - 1, size).round().astype(np.int64))


class Recorder:
    """Collects rows during a run; builds DataFrames on demand.

    Args:
        keep: for an event sample (``event_sample`` < 1), a boolean mask over customers:
            the log keeps the events of customers where it is true (and events without
            a customer, such as lever changes); None keeps every event.
        n_customers: customer ids are stored as int32 below 2^31 customers (the log's
            ``customer`` and ``other`` columns are int64 all the same).
    """

    def __init__(self, keep: np.ndarray | None = None, n_customers: int = 0) -> None:
        self.firm_rows: list[dict] = []
        self.market_rows: list[dict] = []
        self._events: dict[str, list] = defaultdict(list)
        self._n_events = 0
        self._keep = keep
        self._ids = id_dtype(n_customers)

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
        sel = None
        if self._keep is not None:
            sel = np.nonzero((customer < 0) | self._keep[np.maximum(customer, 0)])[0]
            customer = customer[sel]
        n = customer.size
        if n == 0:
            return

        def col(x, fill, dtype):
            if x is None:
                return _filled(n, fill, dtype)
            a = np.asarray(x)
            if a.ndim == 0:
                return _filled(n, a.item(), dtype)
            return (a if sel is None else a[sel]).astype(dtype)

        ev = self._events
        ev["period"].append(_filled(n, period, np.int32))
        ev["event"].append(_filled(n, EVENT_KINDS.index(kind), np.int8))
        ev["customer"].append(customer.astype(self._ids))
        ev["firm"].append(col(firm, -1, np.int16))
        ev["other_firm"].append(col(other_firm, -1, np.int16))
        ev["other"].append(col(other, -1, self._ids))
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
            wide = {"customer": np.int64, "other": np.int64}  # stored narrow, shown as int64
            data = {c: np.concatenate(self._events[c], dtype=wide.get(c)) for c in cols}
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
