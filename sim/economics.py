"""Economics per firm: acquisition by channel and its cost, retention cost, complaint
handling and referral programmes against counterfactuals, lifetime value.

Every figure is computed per replication from the firm table and reported as the mean
with a 95% interval over replications (:func:`sim.kpis.interval`). Definitions (also in
docs/outputs.md):

- ``acquired_<channel>``: customers acquired through each channel over the run
  (``known``, ``marketing``, ``imitation``, ``wom``, ``referral``, ``switch``,
  ``winback``; see docs/model.md).
- ``marketing_cost``: marketing spend; ``cost_per_marketing_acquisition``: marketing
  spend over customers acquired through marketing.
- ``referral_rewards``: rewards paid (referrals × the reward in force);
  ``cost_per_referral_acquisition``: rewards over customers acquired through referrals.
- ``retention_cost``: programme costs other than referral rewards: loyalty discounts and
  fixed cost, win-back contacts (and any opening discount, which the firm table books
  with the discounts).
- ``complaint_cost``: complaint intake and remedies.
- ``clv``: ``clv_last12`` of :mod:`sim.kpis`.

Counterfactuals (same seeds, so every other random draw is the same): *no complaint
handling* sets the firm's ``resolve_share`` to 0 throughout (timeline included);
*no referral programme* sets its ``referral_reward`` to 0 throughout. For each the
table gives, paired by replication, the customers at the end and the profit the
programme made against the counterfactual (``*_customers_saved``, ``*_profit_gain``),
what it cost over the counterfactual (``*_extra_cost``), and the return on that cost
``*_roi`` = profit gain / extra cost (profit already nets the cost: a ROI above 0 means
the programme paid for itself).

Examples:
    >>> from sim import ModelParams
    >>> p = no_complaint_handling(ModelParams(), "A")
    >>> p.firms[0].resolve_share
    0.0
"""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd

from .kpis import interval, kpi_table

__all__ = [
    "CHANNELS",
    "MEASURES",
    "economics_per_replication",
    "counterfactual_effects",
    "economics",
    "no_complaint_handling",
    "no_referral_programme",
    "COUNTERFACTUALS",
]

#: the measures of the economics table (``<name>_*`` for a counterfactual's four rows)
MEASURES = {
    "acquired_<channel>": (
        "customers",
        "customers acquired through the channel over the run (known, marketing, imitation, "
        "wom, referral, switch, winback)",
    ),
    "acquired": ("customers", "all customers acquired over the run"),
    "marketing_cost": ("cu", "marketing spend over the run"),
    "cost_per_marketing_acquisition": (
        "cu per customer",
        "marketing spend / customers acquired through marketing",
    ),
    "referral_rewards": ("cu", "referral rewards paid (referrals × the reward in force)"),
    "cost_per_referral_acquisition": (
        "cu per customer",
        "referral rewards / customers acquired through referrals",
    ),
    "retention_cost": (
        "cu",
        "programme costs other than referral rewards: loyalty discounts and fixed cost, "
        "win-back contacts (opening discounts are booked with the discounts too)",
    ),
    "complaint_cost": ("cu", "complaint intake and remedies"),
    "clv": ("cu per customer", "clv_last12 of the summary"),
    "<programme>_customers_saved": (
        "customers",
        "customers at the end, run − counterfactual without the programme (paired)",
    ),
    "<programme>_profit_gain": ("cu", "profit over the run, run − counterfactual (paired)"),
    "<programme>_extra_cost": (
        "cu",
        "the programme's own spending (complaint_cost or referral_rewards), run − counterfactual",
    ),
    "<programme>_roi": ("ratio", "profit_gain / extra_cost (above 0: it paid for itself)"),
    "incremental_clv": ("cu per customer", "clv, run − baseline run (paired; --baseline)"),
    "incremental_profit": ("cu", "profit over the run, run − baseline run (paired)"),
}

#: acquisition channels (the firm table's acq_<channel> columns)
CHANNELS = ("known", "marketing", "imitation", "wom", "referral", "switch", "winback")


def _without(params, firm: str, lever: str):
    p = copy.deepcopy(params)
    for f in p.firms:
        if f.name == firm:
            setattr(f, lever, 0.0)
    for ev in p.events:
        if ev.get("firm") == firm and lever in ev.get("set", {}):
            ev["set"] = {**ev["set"], lever: 0.0}
    return p


def no_complaint_handling(params, firm: str):
    """The parameters with ``firm`` resolving no complaint, all run long."""
    return _without(params, firm, "resolve_share")


def no_referral_programme(params, firm: str):
    """The parameters with ``firm`` paying no referral reward, all run long."""
    return _without(params, firm, "referral_reward")


#: counterfactual name → (function, the programme's own spending column in economics)
COUNTERFACTUALS = {
    "complaint_handling": (no_complaint_handling, "complaint_cost"),
    "referral_programme": (no_referral_programme, "referral_rewards"),
}


def economics_per_replication(firms: pd.DataFrame) -> pd.DataFrame:
    """Acquisition, costs and CLV per replication and firm (see the module docstring)."""
    f = firms if "replication" in firms else firms.assign(replication=0)
    f = f[f["period"] > 0]
    rows = []
    kp = kpi_table(firms).set_index(["replication", "firm"])
    for (rep, name), g in f.groupby(["replication", "firm"], sort=False):
        acq = {f"acquired_{c}": int(g[f"acq_{c}"].sum()) for c in CHANNELS if f"acq_{c}" in g}
        rewards = float((g["referrals"] * g["referral_reward"]).sum())
        mk = float(g["cost_marketing"].sum())
        row = {
            "replication": int(rep),
            "firm": name,
            **acq,
            "acquired": int(g["acquired"].sum()),
            "marketing_cost": mk,
            "cost_per_marketing_acquisition": mk / acq["acquired_marketing"]
            if acq.get("acquired_marketing")
            else np.nan,
            "referral_rewards": rewards,
            "cost_per_referral_acquisition": rewards / acq["acquired_referral"]
            if acq.get("acquired_referral")
            else np.nan,
            "retention_cost": float(g["cost_programme"].sum()) - rewards,
            "complaint_cost": float(g["cost_complaints"].sum()),
            "profit_total": float(g["profit"].sum()),
            "final_customers": int(kp.loc[(rep, name), "final_customers"]),
            "clv": float(kp.loc[(rep, name), "clv_last12"]),
        }
        rows.append(row)
    return pd.DataFrame(rows)


def counterfactual_effects(
    actual: pd.DataFrame, counterfactual: pd.DataFrame, firm: str, spend_column: str, name: str
) -> dict[str, np.ndarray]:
    """Paired per-replication effects of a programme: actual − counterfactual.

    Args:
        actual: :func:`economics_per_replication` of the run.
        counterfactual: the same for the counterfactual run (same seeds).
        firm: the firm.
        spend_column: the column of the programme's own spending.
        name: prefix of the result keys.
    """
    a = actual[actual["firm"] == firm].set_index("replication")
    c = counterfactual[counterfactual["firm"] == firm].set_index("replication")
    a, c = a.align(c, join="inner", axis=0)
    gain = (a["profit_total"] - c["profit_total"]).to_numpy(float)
    extra = (a[spend_column] - c[spend_column]).to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        roi = np.where(extra > 0, gain / extra, np.nan)
    return {
        f"{name}_customers_saved": (a["final_customers"] - c["final_customers"]).to_numpy(float),
        f"{name}_profit_gain": gain,
        f"{name}_extra_cost": extra,
        f"{name}_roi": roi,
    }


def _add_counterfactuals(
    values: dict,
    per: pd.DataFrame,
    params,
    seeds: list[int],
    counterfactuals: tuple[str, ...],
    T: int,
) -> None:
    """Add each counterfactual's effects to ``values`` for every firm whose programme
    exists, replaying the run without it for ``T`` periods on the same seeds."""
    from .model import MarketModel

    for cf in counterfactuals:
        fn, spend = COUNTERFACTUALS[cf]
        for fp in params.firms:
            lever = "resolve_share" if cf == "complaint_handling" else "referral_reward"
            has = getattr(fp, lever) > 0 or any(
                e.get("firm") == fp.name and e.get("set", {}).get(lever, 0) > 0
                for e in params.events
            )
            if not has:
                continue
            q = fn(params, fp.name)
            frames = []
            for r, s in enumerate(seeds):
                m = MarketModel(q, seed=s).run(T)
                frames.append(m.firm_frame().assign(replication=r))
            cf_per = economics_per_replication(pd.concat(frames, ignore_index=True))
            values[fp.name].update(counterfactual_effects(per, cf_per, fp.name, spend, cf))


def _add_incremental(values: dict, per: pd.DataFrame, baseline: pd.DataFrame) -> None:
    """Add ``incremental_clv`` and ``incremental_profit`` against a baseline run with
    the same seeds (paired by replication) to ``values``."""
    bper = economics_per_replication(baseline)
    for name in values:
        a = per[per["firm"] == name].set_index("replication")
        b = bper[bper["firm"] == name].set_index("replication")
        if b.empty:
            continue
        a, b = a.align(b, join="inner", axis=0)
        values[name]["incremental_clv"] = (a["clv"] - b["clv"]).to_numpy(float)
        values[name]["incremental_profit"] = (a["profit_total"] - b["profit_total"]).to_numpy(float)


def economics(
    firms: pd.DataFrame,
    *,
    params=None,
    seeds: list[int] | None = None,
    counterfactuals: tuple[str, ...] = ("complaint_handling", "referral_programme"),
    baseline: pd.DataFrame | None = None,
    periods: int | None = None,
) -> pd.DataFrame:
    """The economics table: one row per firm and measure, mean and 95% interval.

    Args:
        firms: the run's firm table (all replications).
        params: the run's parameters; needed for the counterfactuals.
        seeds: the run's replication seeds; needed for the counterfactuals.
        counterfactuals: names from :data:`COUNTERFACTUALS` to run (for every firm whose
            programme exists: some complaint resolution, or some referral reward).
        baseline: a baseline run's firm table with the same seeds: adds
            ``incremental_clv`` and ``incremental_profit`` (paired).
        periods: periods of the counterfactual runs (default: the run's).

    Returns:
        Long table ``firm, measure, mean, low, high, replications``.
    """
    per = economics_per_replication(firms)
    values: dict[str, dict[str, np.ndarray]] = {}
    for name, g in per.groupby("firm", sort=False):
        values[name] = {
            c: g[c].to_numpy(float)
            for c in per.columns
            if c not in ("replication", "firm", "profit_total", "final_customers")
        }
    if params is not None and seeds:
        T = int(periods if periods is not None else firms["period"].max())
        _add_counterfactuals(values, per, params, seeds, counterfactuals, T)
    if baseline is not None:
        _add_incremental(values, per, baseline)
    rows = []
    for name, vals in values.items():
        for measure, v in vals.items():
            mean, lo, hi = interval(v)
            rows.append(
                {
                    "firm": name,
                    "measure": measure,
                    "mean": round(mean, 3),
                    "low": round(lo, 3),
                    "high": round(hi, 3),
                    "replications": int(np.isfinite(v).sum()),
                }
            )
    return pd.DataFrame(rows)
