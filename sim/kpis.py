"""Headline indicators (KPIs) per firm and replication, their 95% intervals and paired
differences between runs.

One table, :data:`KPIS`, defines every indicator once: its column name, unit, whether it
is a count (stored as an integer), how many decimals it is rounded to, and its
definition. The summary table of a run folder, ``sim run``'s printout, ``sim compare``,
``sim report`` and docs/outputs.md are all derived from it.

Uncertainty: a KPI is computed once per replication; the mean over replications is
reported with a 95% t-interval (Student's t with R − 1 degrees of freedom). Runs compared
with the same replication seeds share every random draw (common random numbers), so the
difference of a KPI is computed per replication (paired) and its interval is the
t-interval of those differences; a difference is *distinguishable from noise* when its
interval excludes zero.

Examples:
    >>> from sim import MarketModel, ModelParams
    >>> m = MarketModel(ModelParams(), seed=1).run(12)
    >>> per_rep = kpi_table(m.firm_frame())
    >>> list(per_rep.columns)[:3]
    ['replication', 'firm', 'final_share']
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

__all__ = [
    "KPI",
    "KPIS",
    "kpi_table",
    "summarise",
    "interval",
    "with_intervals",
    "paired_deltas",
]


@dataclass(frozen=True)
class KPI:
    """One headline indicator of a firm over a run."""

    name: str
    unit: str
    decimals: int
    definition: str
    count: bool = False
    #: the range the KPI can take; a mean's interval is clipped to it
    bounds: tuple[float, float] = (-np.inf, np.inf)


#: every headline indicator, in the order of the summary table
KPIS: tuple[KPI, ...] = (
    KPI(
        "final_share",
        "share (0–1)",
        3,
        "The firm's customers over all customers (of any firm) in the last period.",
        bounds=(0.0, 1.0),
    ),
    KPI(
        "final_customers",
        "customers",
        0,
        "Customers of the firm in the last period.",
        True,
        (0.0, np.inf),
    ),
    KPI(
        "satisfaction_last12",
        "satisfaction (−1…1)",
        3,
        "Mean over the last 12 periods (fewer if the run is shorter, from period 1) of the "
        "firm's mean remembered satisfaction of its customers who have experienced it; "
        "periods with no such customers are skipped.",
        bounds=(-1.0, 1.0),
    ),
    KPI(
        "annual_churn",
        "share per year (0–1)",
        3,
        "1 − (1 − c)^12 where c is the mean monthly churn rate (customers lost to rivals or "
        "out of the market over customers at the start of the month) over the months the "
        "firm was active (from period 1, or from its entry for a late entrant).",
        bounds=(0.0, 1.0),
    ),
    KPI(
        "complaints",
        "complaints",
        0,
        "Complaints received over the whole run (periods 1…T).",
        True,
        (0.0, np.inf),
    ),
    KPI(
        "resolved_share",
        "share (0–1)",
        3,
        "Complaints resolved (quickly or late) over complaints received, whole run.",
        bounds=(0.0, 1.0),
    ),
    KPI(
        "wom_pos",
        "messages",
        0,
        "Positive word-of-mouth messages told about the firm.",
        True,
        (0.0, np.inf),
    ),
    KPI(
        "wom_neg",
        "messages",
        0,
        "Negative word-of-mouth messages told about the firm.",
        True,
        (0.0, np.inf),
    ),
    KPI(
        "referrals",
        "customers",
        0,
        "Customers acquired through referrals, whole run.",
        True,
        (0.0, np.inf),
    ),
    KPI("profit_total", "cu", 0, "Profit summed over periods 1…T (revenue − all costs)."),
    KPI(
        "clv_last12",
        "cu per customer",
        2,
        "Mean over the last 12 periods of the firm's customer lifetime value "
        "m·r/(1+i−r) (margin per customer m, monthly retention r, discount rate i; "
        "Gupta & Lehmann 2003) computed each period from that period's figures.",
    ),
)

_BY_NAME = {k.name: k for k in KPIS}


def _active(firms: pd.DataFrame) -> pd.Series:
    if "active" in firms:
        return firms["active"].astype(bool)
    return pd.Series(True, index=firms.index)


def kpi_table(firms: pd.DataFrame) -> pd.DataFrame:
    """The KPIs of every firm in every replication (one row per replication and firm).

    Args:
        firms: a firm table (``MarketModel.firm_frame()`` or a run folder's ``firms``),
            with or without a ``replication`` column.

    Returns:
        Columns ``replication, firm`` and one column per :data:`KPIS` entry; counts are
        integers (rounded means never appear here: these are single runs).
    """
    f = firms if "replication" in firms else firms.assign(replication=0)
    rows = []
    order = list(dict.fromkeys(f["firm"]))
    for (rep, name), g in f.groupby(["replication", "firm"], sort=False):
        g = g.sort_values("period")
        last_t = int(g["period"].max())
        run = g[g["period"] > 0]
        act = run[_active(run)]
        tail = run[run["period"] > max(0, last_t - 12)]
        last = g[g["period"] == last_t].iloc[0]
        complaints = int(run["complaints"].sum())
        resolved = int(run["resolved_quick"].sum() + run["resolved_late"].sum())
        monthly = float(act["churn_rate"].mean()) if len(act) else np.nan
        rows.append(
            {
                "replication": int(rep),
                "firm": name,
                "final_share": float(last["share"]),
                "final_customers": int(last["customers"]),
                "satisfaction_last12": float(tail["mean_satisfaction"].mean()),
                "annual_churn": 1.0 - (1.0 - monthly) ** 12,
                "complaints": complaints,
                "resolved_share": resolved / complaints if complaints else np.nan,
                "wom_pos": int(run["wom_pos"].sum()),
                "wom_neg": int(run["wom_neg"].sum()),
                "referrals": int(run["referrals"].sum()),
                "profit_total": float(run["profit"].sum()),
                "clv_last12": float(tail["clv"].mean()),
            }
        )
    out = pd.DataFrame(rows)
    out["_o"] = out["firm"].map({n: i for i, n in enumerate(order)})
    return out.sort_values(["replication", "_o"]).drop(columns="_o").reset_index(drop=True)


def _round(df: pd.DataFrame) -> pd.DataFrame:
    for k in KPIS:
        for c in (k.name, f"{k.name}_low", f"{k.name}_high"):
            if c in df:
                df[c] = df[c].astype(float).round(k.decimals)
    return df


def summarise(firms: pd.DataFrame) -> pd.DataFrame:
    """One row per firm: the mean of each KPI over replications, rounded as documented.

    Counts of a single replication are integers; means over several replications of a
    count are rounded to one decimal (an average of counts is not a count).
    """
    per = kpi_table(firms)
    reps = per["replication"].nunique()
    m = per.drop(columns="replication").groupby("firm", sort=False).mean()
    m = _round(m.reset_index())
    for k in KPIS:
        if k.count:
            m[k.name] = m[k.name].round(0 if reps == 1 else 1)
            if reps == 1:
                m[k.name] = m[k.name].astype("Int64")
    return m


def interval(values, level: float = 0.95) -> tuple[float, float, float]:
    """Mean and two-sided ``level`` t-interval of a sample (NaNs dropped).

    Args:
        values: the per-replication values.
        level: confidence level.

    Returns:
        ``(mean, low, high)``; the bounds are NaN with fewer than two values.

    Examples:
        >>> interval([1.0, 2.0, 3.0])[0]
        2.0
    """
    v = np.asarray(values, dtype=float)
    v = v[~np.isnan(v)]
    if v.size == 0:
        return (np.nan, np.nan, np.nan)
    mean = float(v.mean())
    if v.size < 2:
        return (mean, np.nan, np.nan)
    half = float(stats.t.ppf(0.5 + level / 2, v.size - 1) * v.std(ddof=1) / np.sqrt(v.size))
    return (mean, mean - half, mean + half)


def with_intervals(per_rep: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """Long table of KPI means and intervals: ``firm, kpi, unit, mean, low, high, n``
    (intervals clipped to the KPI's possible range, e.g. 0–1 for shares).

    Args:
        per_rep: a :func:`kpi_table`.
        level: confidence level of the intervals.
    """
    rows = []
    for firm, g in per_rep.groupby("firm", sort=False):
        for k in KPIS:
            mean, lo, hi = interval(g[k.name], level)
            lo, hi = max(lo, k.bounds[0]), min(hi, k.bounds[1])
            rows.append(
                {
                    "firm": firm,
                    "kpi": k.name,
                    "unit": k.unit,
                    "mean": round(mean, k.decimals + (1 if k.count else 0)),
                    "low": round(lo, k.decimals + (1 if k.count else 0)),
                    "high": round(hi, k.decimals + (1 if k.count else 0)),
                    "replications": int(g[k.name].notna().sum()),
                }
            )
    return pd.DataFrame(rows)


def paired_deltas(
    per_rep: pd.DataFrame, baseline: pd.DataFrame, level: float = 0.95, *, paired: bool = True
) -> pd.DataFrame:
    """Differences of every KPI against a baseline run, with intervals.

    Args:
        per_rep: :func:`kpi_table` of the run.
        baseline: :func:`kpi_table` of the baseline run.
        level: confidence level.
        paired: replications with the same index share their random numbers (same
            seeds): the interval is that of the per-replication differences. Otherwise a
            Welch interval of the difference of means is used.

    Returns:
        Long table ``firm, kpi, unit, baseline, value, delta, low, high, distinguishable``;
        ``distinguishable`` is True when the interval excludes zero. Firms absent from
        either run are skipped.
    """
    rows = []
    for firm, g in per_rep.groupby("firm", sort=False):
        b = baseline[baseline["firm"] == firm]
        if b.empty:
            continue
        for k in KPIS:
            if paired:
                m = g[["replication", k.name]].merge(
                    b[["replication", k.name]], on="replication", suffixes=("", "_b")
                )
                d = (m[k.name] - m[f"{k.name}_b"]).to_numpy(dtype=float)
                delta, lo, hi = interval(d, level)
            else:
                x = g[k.name].dropna().to_numpy(float)
                y = b[k.name].dropna().to_numpy(float)
                delta = float(x.mean() - y.mean()) if x.size and y.size else np.nan
                if x.size > 1 and y.size > 1:
                    vx, vy = x.var(ddof=1) / x.size, y.var(ddof=1) / y.size
                    se = np.sqrt(vx + vy)
                    dof = (vx + vy) ** 2 / (vx**2 / (x.size - 1) + vy**2 / (y.size - 1) or np.inf)
                    half = float(stats.t.ppf(0.5 + level / 2, dof) * se) if se > 0 else 0.0
                    lo, hi = delta - half, delta + half
                else:
                    lo = hi = np.nan
            dist = bool(np.isfinite(lo) and (lo > 0 or hi < 0))
            if np.isfinite(lo) and lo == hi == delta:  # identical in every replication
                dist = bool(delta != 0)
            nd = k.decimals + (1 if k.count else 0)
            rows.append(
                {
                    "firm": firm,
                    "kpi": k.name,
                    "unit": k.unit,
                    "baseline": round(float(b[k.name].mean()), nd),
                    "value": round(float(g[k.name].mean()), nd),
                    "delta": round(delta, nd),
                    "low": round(lo, nd),
                    "high": round(hi, nd),
                    "distinguishable": dist,
                }
            )
    return pd.DataFrame(rows)
