"""Analysis of a run: referral cascades, the complaint iceberg, profit concentration (80/20),
lifetime value, and churn drivers (whom a firm lost and why; from :mod:`sim.drivers`).

All functions take the tidy tables a run produces (or a model), so they work the same on
a live model and on a run folder read back from disk.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .drivers import churn_drivers, customer_story, loss_stories, trace_losses

__all__ = [
    "referral_cascades",
    "cascade_summary",
    "complaint_iceberg",
    "ICEBERG_OUTCOMES",
    "profit_concentration",
    "lorenz_curve",
    "clv",
    "trace_losses",
    "churn_drivers",
    "loss_stories",
    "customer_story",
]

#: complaint outcomes of a problem, from worst to best handled (event ``detail`` values)
ICEBERG_OUTCOMES = ("silent", "unresolved", "resolved_late", "resolved_quick")


def referral_cascades(events: pd.DataFrame) -> pd.DataFrame:
    """One row per referral with its cascade: root, depth, and the cascade's id.

    A referral links referrer → referred for a firm. The cascade of a referral is the
    tree it belongs to: follow referrers back (for the same firm) until a referrer who
    was not referred themselves; that customer is the root (depth 0), the referral's
    referred customer sits at depth ≥ 1. Columns: period, firm (name), firm_index,
    referrer, referred, root, depth.
    """
    ref = events[events["event"] == "referral"]
    cols = ["period", "firm", "firm_index", "referrer", "referred", "root", "depth"]
    if ref.empty:
        return pd.DataFrame({c: pd.Series(dtype="int64") for c in cols})
    df = pd.DataFrame(
        {
            "period": ref["period"].to_numpy(),
            "firm": ref["firm"].to_numpy(),
            "firm_index": ref["firm_index"].to_numpy(),
            "referrer": ref["other"].to_numpy(),
            "referred": ref["customer"].to_numpy(),
        }
    )
    # parent of a referred customer for a firm: the latest referral before or at that time
    parent: dict[tuple[int, int], tuple[int, int]] = {}
    roots, depths = [], []
    for per, f, a, b in zip(
        df["period"], df["firm_index"], df["referrer"], df["referred"], strict=True
    ):
        key = (int(f), int(a))
        root, depth = (parent[key][0], parent[key][1] + 1) if key in parent else (int(a), 1)
        parent[(int(f), int(b))] = (root, depth)
        roots.append(root)
        depths.append(depth)
        del per
    df["root"] = roots
    df["depth"] = depths
    return df[cols]


def cascade_summary(events: pd.DataFrame) -> pd.DataFrame:
    """One row per cascade: firm, root, size (customers referred), depth, first and last period."""
    c = referral_cascades(events)
    if c.empty:
        return pd.DataFrame(columns=["firm", "root", "size", "depth", "start", "end"])
    g = c.groupby(["firm", "root"], sort=True)
    out = g.agg(
        size=("referred", "size"),
        depth=("depth", "max"),
        start=("period", "min"),
        end=("period", "max"),
    ).reset_index()
    return out.sort_values(["size", "depth"], ascending=False).reset_index(drop=True)


def _left_within(probs: pd.DataFrame, ev: pd.DataFrame, horizon: int) -> np.ndarray:
    """For each problem (a row of ``probs``: customer, firm, period), whether the customer
    left that firm (a ``switch`` or ``churn`` event of ``ev``) within ``horizon`` periods
    after it."""
    lost = np.zeros(len(probs), bool)
    leaves = ev[ev["event"].isin(("switch", "churn"))][["customer", "firm", "period"]]
    if len(probs) and len(leaves):
        pairs = probs.reset_index().merge(
            leaves, on=["customer", "firm"], suffixes=("", "_left"), how="inner"
        )
        dt = pairs["period_left"].to_numpy() - pairs["period"].to_numpy()
        hit = pairs.loc[(dt > 0) & (dt <= horizon), "index"].to_numpy()
        lost[hit] = True
    return lost


def complaint_iceberg(
    events: pd.DataFrame, *, period: int | None = None, horizon: int = 6, firm: str | None = None
) -> pd.DataFrame:
    """The complaint iceberg of a run, and what happened to each kind of problem.

    A *problem* is a purchase with a shortfall above δ, or one complained about (the
    ``problem`` events, detail ``silent``, and the ``complaint`` events, detail the outcome).
    A problem is *kept* when the customer is still with the firm ``horizon`` periods later
    (no ``switch`` or ``churn`` event leaving that firm in the periods after it, up to
    ``horizon``); only problems at least ``horizon`` periods before ``period`` are followed.

    Args:
        events: the event log (``model.events()`` or a run folder's events table).
        period: the last period of the run (default: the last period in ``events``).
        horizon: periods to follow each problem.
        firm: only this firm's problems (by name); all firms by default.

    Returns:
        One row per outcome (:data:`ICEBERG_OUTCOMES`, in that order): ``problems``,
        ``share`` (of all problems), ``followed`` (problems old enough to follow), ``kept``
        and ``kept_share`` (``kept`` / ``followed``; NaN when none is followed).

    Examples:
        >>> from sim import MarketModel, ModelParams
        >>> m = MarketModel(ModelParams(), seed=1).run(12)
        >>> ice = complaint_iceberg(m.events(), period=m.period, horizon=3)
        >>> list(ice["outcome"])
        ['silent', 'unresolved', 'resolved_late', 'resolved_quick']
    """
    ev = events
    if firm is not None:
        ev = ev[ev["firm"] == firm]
    probs = ev[
        ((ev["event"] == "problem") | (ev["event"] == "complaint"))
        & ev["detail"].isin(ICEBERG_OUTCOMES)
    ][["customer", "firm", "period", "detail"]].reset_index(drop=True)
    last = int(events["period"].max()) if period is None and len(events) else int(period or 0)
    old = probs["period"].to_numpy() <= last - horizon
    lost = _left_within(probs, ev, horizon)
    total = max(len(probs), 1)
    rows = []
    for outcome in ICEBERG_OUTCOMES:
        is_o = (probs["detail"] == outcome).to_numpy()
        followed = int((is_o & old).sum())
        kept = int((is_o & old & ~lost).sum())
        rows.append(
            {
                "outcome": outcome,
                "problems": int(is_o.sum()),
                "share": float(is_o.sum()) / total,
                "followed": followed,
                "kept": kept,
                "kept_share": kept / followed if followed else float("nan"),
            }
        )
    return pd.DataFrame(rows)


def lorenz_curve(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Share of customers (x, most profitable first) against cumulative share of profit (y)."""
    v = np.sort(np.asarray(values, dtype=float))[::-1]
    total = v.sum()
    x = np.arange(1, v.size + 1) / max(v.size, 1)
    y = np.cumsum(v) / total if total != 0 else np.zeros_like(v)
    return x, y


def profit_concentration(profit_per_customer: np.ndarray, top: float = 0.2) -> float:
    """Share of total profit brought by the ``top`` fraction of customers (most
    profitable first). The 80/20 rule (seed 000) says about 0.8 for top = 0.2; with
    unprofitable customers the figure can exceed 1."""
    v = np.sort(np.asarray(profit_per_customer, dtype=float))[::-1]
    if v.size == 0 or v.sum() == 0:
        return float("nan")
    m = max(1, int(round(top * v.size)))
    return float(v[:m].sum() / v.sum())


def clv(margin: float, retention: float, discount_rate: float) -> float:
    """Customer lifetime value m·r / (1 + i − r) (Gupta & Lehmann 2003)."""
    return float(margin * retention / (1.0 + discount_rate - retention))
