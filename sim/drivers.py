"""Churn drivers: whom a firm lost in a window of months, and why.

A run folder keeps the seed of every replication and the resolved scenario, and a run is
deterministic, so any replication can be replayed exactly. :func:`trace_losses` replays
one and watches the firm's customers: the *cohort* is every customer of the firm at the
start of month ``a`` (the end of month ``a − 1``); a customer is *lost* when they are no
longer the firm's customer at the end of a month ``a … b`` (the first such month counts).
For every cohort member it records, at the start of the window:

- ``segment``: the segment's name;
- ``value_tier``: thirds of the cohort by expected monthly spend at the firm (units per
  purchase × purchase probability × the firm's price): ``high``, ``middle``, ``low``;
- ``tenure``: months with the firm: ``< 6``, ``6–11``, ``12–23``, ``≥ 24``;

and, month by month over the window up to leaving (or to ``b`` for those who stayed):

- ``satisfaction_band``: remembered satisfaction at the start of the month on the NPS
  cut-offs of docs/model.md: ``detractor`` (S < 0.2), ``passive``, ``promoter`` (S ≥ 0.8);
- ``complaint_outcome``: the worst outcome so far of their complaints to the firm: ``none``,
  ``resolved quickly``, ``resolved late``, ``unresolved``;
- ``heard_negative``: whether they have heard negative word of mouth about the firm;

(the cohort table holds each customer's level at leaving, or at the end for those who
stayed);

and, for the lost, the month, the ``destination`` (a firm's name or ``out of market``)
and their state at the start of the month they left: remembered satisfaction, remembered
performance of the firm (``performance``) against their expectation of it
(``expectation``), and the value (utility) the firm and its best rival offered them
(``value_firm``, ``value_best_rival``, ``best_rival``), computed with the levers in force
at that moment (those of the month before).

:func:`churn_drivers` turns that table into loss rates by factor level, against those who
stayed. :func:`customer_story` gives one customer's own experiences month by month.

Examples:
    >>> from sim import ModelParams
    >>> t = trace_losses(ModelParams(), seed=1, firm="A", start=3, end=6)  # doctest: +SKIP
    >>> churn_drivers(t).head()  # doctest: +SKIP
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = [
    "FACTORS",
    "LossTrace",
    "trace_losses",
    "churn_drivers",
    "customer_story",
    "replay_params",
    "loss_stories",
]

#: the factors a loss is broken down by (columns of the trace table)
FACTORS = (
    "segment",
    "value_tier",
    "tenure",
    "satisfaction_band",
    "complaint_outcome",
    "heard_negative",
    "destination",
    "how",
)

#: how a customer left (from the event log), in words
HOW = {
    "choice": "chose a rival when buying",
    "churn": "left at the churn hazard of their satisfaction",
    "referral": "followed a friend's referral to a rival",
}

_OUTCOME_RANK = {"none": 0, "resolved_quick": 1, "resolved_late": 2, "unresolved": 3}
_OUTCOME_TEXT = {
    "none": "none",
    "resolved_quick": "resolved quickly",
    "resolved_late": "resolved late",
    "unresolved": "unresolved",
}
_LEVELS = {
    "value_tier": ["high", "middle", "low"],
    "tenure": ["< 6", "6–11", "12–23", "≥ 24"],
    "satisfaction_band": ["detractor", "passive", "promoter"],
    "complaint_outcome": ["none", "resolved quickly", "resolved late", "unresolved"],
    "heard_negative": ["yes", "no"],
}


@dataclass
class LossTrace:
    """The cohort table of :func:`trace_losses` and what it was made from."""

    table: pd.DataFrame
    firm: str
    start: int
    end: int
    seed: int
    firm_names: list[str]
    #: one row per customer and month at risk, with the time-varying factors' levels
    exposure: pd.DataFrame | None = None


def replay_params(run: dict, replication: int = 0):
    """The parameters and seed of one replication of a run folder read with
    :func:`sim.runner.read_run`.

    Raises:
        ValueError: the folder lacks its scenario or the replication does not exist.
    """
    from .scenario import load_scenario

    folder = run["path"]
    seeds = run["manifest"].get("replication_seeds") or [run["manifest"].get("seed")]
    if not 0 <= replication < len(seeds):
        raise ValueError(
            f"--replication {replication}: the run has replications 0 to {len(seeds) - 1}"
        )
    sc = load_scenario(folder / "scenario.toml")
    return sc.params, int(seeds[replication])


#: the customer columns of their tie to the firm (restored to the start of the month)
_CHOICE_STATE = ("firm", "points", "satisfaction", "last_firm", "perf_memory")


def _tenure_band(months: np.ndarray) -> np.ndarray:
    bins = np.digitize(months, [6, 12, 24])
    return np.array(_LEVELS["tenure"], dtype=object)[bins]


def _sat_band(s: np.ndarray) -> np.ndarray:
    from .model import DETRACTOR_S, PROMOTER_S

    return np.where(s < DETRACTOR_S, "detractor", np.where(s >= PROMOTER_S, "promoter", "passive"))


def _value_tier(v: np.ndarray) -> np.ndarray:
    if v.size == 0:
        return np.empty(0, dtype=object)
    lo, hi = np.quantile(v, [1 / 3, 2 / 3])
    return np.where(v >= hi, "high", np.where(v >= lo, "middle", "low")).astype(object)


#: the cohort's state at leaving, recorded for the lost (NaN for those who stayed)
_AT_LEAVING = (
    "satisfaction",
    "satisfaction_after",
    "performance",
    "expectation",
    "value_firm",
    "value_best_rival",
)


def _check_window(p, firm: str, start: int, end: int) -> tuple[list[str], int]:
    """The firms' names and the firm's index, after checking the firm and the window.

    Raises:
        ValueError: unknown firm or a window outside the run.
    """
    names = [f.name for f in p.firms]
    if firm not in names:
        raise ValueError(f"--firm {firm}: unknown; firms: {', '.join(names)}")
    T = int(p.market.periods)
    if not 1 <= start <= end <= T:
        raise ValueError(f"--lost-between {start} {end}: need 1 ≤ a ≤ b ≤ {T} (the run's periods)")
    return names, names.index(firm)


def _cohort_table(m, p, j: int, cohort: np.ndarray, start: int) -> pd.DataFrame:
    """The cohort's fixed factors at the start of the window (segment, value tier, tenure)."""
    pop = m.pop
    seg_names = np.array([s.name for s in p.market.segments], dtype=object)
    price = float(m.firms[j].levers.price)
    spend = pop.quantity[cohort] * pop.purchase_prob[cohort] * price
    tab = pd.DataFrame(
        {
            "customer": cohort,
            "segment": seg_names[pop.segment[cohort]],
            "value_tier": _value_tier(spend),
            "expected_spend": spend,
            "tenure_months": (start - 1) - pop.since[cohort],
            "satisfaction_start": pop.satisfaction[cohort].copy(),
        }
    )
    tab["tenure"] = _tenure_band(tab["tenure_months"].to_numpy())
    return tab


def _destinations(pop, who: np.ndarray, names: list[str]) -> np.ndarray:
    """Where the leavers went: a firm's name or ``out of market``."""
    from .population import LAPSED

    to = pop.firm[who]
    out = (to < 0) | (pop.status[who] == LAPSED)
    return np.where(out, "out of market", np.array(names, dtype=object)[np.maximum(to, 0)])


def _values_at_leaving(
    m, who: np.ndarray, pre: dict[str, np.ndarray], j: int, names: list[str]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The value the firm and the best known rival offered the leavers this month.

    Computed with this month's levers and the leavers' state at the start of the month
    (``pre``, put back for a moment).

    Returns:
        The firm's value, the best rival's value (NaN if none) and its name ("" if none).
    """
    pop = m.pop
    L = m._lever_arrays()
    now = {c: getattr(pop, c)[who].copy() for c in _CHOICE_STATE}
    for c in _CHOICE_STATE:
        getattr(pop, c)[who] = pre[c]
    vv, _ = m._utilities(who, L, m._switching_cost(L))
    for c in _CHOICE_STATE:
        getattr(pop, c)[who] = now[c]
    vv = np.asarray(vv)
    rivals = vv.copy()
    rivals[:, j] = -np.inf
    known = pop.aware[who] & L["active"][None, :]
    rivals[~known] = -np.inf
    b = np.argmax(rivals, axis=1)
    best = rivals[np.arange(who.size), b]
    has = np.isfinite(best)
    return (
        vv[:, j],
        np.where(has, best, np.nan),
        np.where(has, np.array(names, dtype=object)[b], ""),
    )


def _check_replay(check: pd.DataFrame | None, firm: str, end: int, customers: int) -> None:
    """Raise ValueError when the replay's customers of the firm at ``end`` differ from the run."""
    if check is None or check.empty:
        return
    ff = check[(check["firm"] == firm) & (check["period"] == end)]
    if len(ff) and int(ff["customers"].iloc[0]) != customers:
        raise ValueError(
            "the replay does not reproduce the run (customers of "
            f"{firm} at month {end}: run {int(ff['customers'].iloc[0])}, replay "
            f"{customers}); the run folder was made by another version"
        )


def _cohort_events(
    ev: pd.DataFrame, j: int, cohort: np.ndarray, start: int, end: int, stop: np.ndarray
) -> pd.DataFrame:
    """The cohort's events with the firm in the window, up to each one's leaving (``stop``)."""
    ev = ev[(ev["period"] >= start) & (ev["period"] <= end) & (ev["firm_index"] == j)]
    ev = ev[ev["customer"].isin(cohort)]
    stop_of = pd.Series(stop, index=cohort)
    return ev[ev["period"].to_numpy() <= stop_of.reindex(ev["customer"]).to_numpy()]


def _complaints_and_hearsay(
    ev: pd.DataFrame, pos: np.ndarray, n: int, start: int, end: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per cohort member and month: the worst complaint outcome so far (its rank) and
    whether they have heard negative word of mouth so far."""
    W = end - start + 1
    comp = ev[ev["event"] == "complaint"]
    rank = np.zeros((n, W), np.int8)
    if len(comp):
        ci = pos[comp["customer"].to_numpy()]
        ti = comp["period"].to_numpy() - start
        np.maximum.at(rank, (ci, ti), comp["detail"].map(_OUTCOME_RANK).to_numpy(np.int8))
    rank = np.maximum.accumulate(rank, axis=1)
    heard = np.zeros((n, W), bool)
    neg = ev[(ev["event"] == "heard") & (ev["value"] < 0)]
    if len(neg):
        heard[pos[neg["customer"].to_numpy()], neg["period"].to_numpy() - start] = True
    return rank, np.logical_or.accumulate(heard, axis=1)


def _how_left(ev: pd.DataFrame, cohort: np.ndarray, lost: np.ndarray) -> np.ndarray:
    """How each lost cohort member left (from their first switch or churn event; "" if stayed)."""
    leave = ev[ev["event"].isin(["switch", "churn"])]
    leave = leave.assign(
        how=np.where(leave["event"] == "churn", "churn", leave["detail"].astype(str))
    ).drop_duplicates("customer")
    how = leave.set_index("customer")["how"].map(HOW).reindex(cohort).to_numpy()
    return np.where(lost, pd.Series(how).fillna("").to_numpy(), "")


def _watch(
    m, j: int, names: list[str], cohort: np.ndarray, start: int, end: int
) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray], np.ndarray, np.ndarray, np.ndarray]:
    """Step the model through the window and record who of the cohort left, when, where
    to and their state at leaving.

    Returns:
        Per cohort member: the month lost (−1 if stayed), the destination, the state at
        leaving (by :data:`_AT_LEAVING`), the best rival's name; the satisfaction at the
        start of each month of the window (cohort × months) and the position of each
        customer in the cohort (−1 if not in it).
    """
    pop = m.pop
    n = cohort.size
    lost_at = np.full(n, -1, np.int64)
    dest = np.full(n, "", dtype=object)
    at_leave = {k: np.full(n, np.nan) for k in _AT_LEAVING}
    best_rival = np.full(n, "", dtype=object)
    pos = np.full(pop.n, -1, np.int64)
    pos[cohort] = np.arange(n)
    sat_m = np.full((n, end - start + 1), np.nan)  # satisfaction at the start of each month
    for t in range(start, end + 1):
        still = cohort[lost_at < 0]
        still = still[pop.firm[still] == j]
        pre = {c: getattr(pop, c)[still].copy() for c in _CHOICE_STATE}
        sat_m[pos[still], t - start] = pre["satisfaction"]
        pre_exp = pop.expect[still, j].copy()
        m.step()
        gone = pop.firm[still] != j
        if not gone.any():
            continue
        who = still[gone]
        i = pos[who]
        lost_at[i] = t
        dest[i] = _destinations(pop, who, names)
        at_leave["satisfaction"][i] = pre["satisfaction"][gone]
        # satisfaction with the firm after the month's experiences (if they still
        # remember the firm: not when they bought from the new firm this month)
        at_leave["satisfaction_after"][i] = np.where(
            pop.last_firm[who] == j, pop.satisfaction[who], np.nan
        )
        at_leave["performance"][i] = pre["perf_memory"][gone]
        at_leave["expectation"][i] = pre_exp[gone]
        vf, vr, best_rival[i] = _values_at_leaving(m, who, {c: pre[c][gone] for c in pre}, j, names)
        at_leave["value_firm"][i], at_leave["value_best_rival"][i] = vf, vr
    return lost_at, dest, at_leave, best_rival, sat_m, pos


def _levels(
    tab: pd.DataFrame,
    rank: np.ndarray,
    heard: np.ndarray,
    sat_m: np.ndarray,
    stop: np.ndarray,
    lost_at: np.ndarray,
    cohort: np.ndarray,
    start: int,
    end: int,
) -> pd.DataFrame:
    """Put the time-varying factors' levels at leaving (or at the end) into ``tab`` and
    return the customer-months at risk with their levels."""
    n = cohort.size
    inv = np.array([_OUTCOME_TEXT[k] for k in _OUTCOME_RANK], dtype=object)
    yes_no = np.array(["no", "yes"], dtype=object)
    last = stop - start
    tab["complaint_outcome"] = inv[rank[np.arange(n), last]]
    tab["heard_negative"] = yes_no[heard[np.arange(n), last].astype(int)]
    tab["satisfaction_band"] = _sat_band(sat_m[np.arange(n), last])
    # customer-months at risk: month t counts for everyone still with the firm at its
    # start; time-varying factors take their level as of the end of month t
    months = np.arange(start, end + 1)
    ri, mi = np.nonzero(months[None, :] <= stop[:, None])
    exposure = pd.DataFrame(
        {
            "customer": cohort[ri],
            "period": months[mi],
            "lost": lost_at[ri] == months[mi],
            "complaint_outcome": inv[rank[ri, mi]],
            "heard_negative": yes_no[heard[ri, mi].astype(int)],
            "satisfaction_band": _sat_band(sat_m[ri, mi]),
        }
    )
    return exposure


def trace_losses(
    params, seed: int, firm: str, start: int, end: int, *, check: pd.DataFrame | None = None
) -> LossTrace:
    """Replay a run and record the cohort of ``firm`` for the window ``start … end``.

    Args:
        params: the run's :class:`~sim.params.ModelParams` (copied; events are recorded).
        seed: the replication's seed.
        firm: the firm's name.
        start: first month of the window (≥ 1).
        end: last month of the window (≤ the run's periods).
        check: the run's firm table of that replication; the replay must reproduce its
            customer counts (otherwise the folder was made by another model version).

    Returns:
        A :class:`LossTrace` whose ``table`` has one row per cohort member (see the
        module docstring for the columns).

    Raises:
        ValueError: unknown firm, a window outside the run, or a replay that differs.
    """
    from .model import MarketModel

    p = copy.deepcopy(params)
    p.record_events = True
    names, j = _check_window(p, firm, start, end)
    m = MarketModel(p, seed=seed)
    pop = m.pop
    for _ in range(start - 1):
        m.step()
    cohort = np.nonzero(pop.firm == j)[0]
    n = cohort.size
    tab = _cohort_table(m, p, j, cohort, start)
    lost_at, dest, at_leave, best_rival, sat_m, pos = _watch(m, j, names, cohort, start, end)
    _check_replay(check, firm, end, int((pop.firm == j).sum()))
    stop = np.where(lost_at > 0, lost_at, end)
    ev = _cohort_events(m.events(), j, cohort, start, end, stop)
    rank, heard = _complaints_and_hearsay(ev, pos, n, start, end)
    exposure = _levels(tab, rank, heard, sat_m, stop, lost_at, cohort, start, end)
    tab["lost"] = lost_at > 0
    tab["lost_period"] = lost_at
    tab["destination"] = dest
    for k, arr in at_leave.items():
        tab[f"{k}_at_leaving" if k != "satisfaction_after" else "satisfaction_after_leaving"] = arr
    tab["best_rival"] = best_rival
    tab["how"] = _how_left(ev, cohort, tab["lost"].to_numpy())
    return LossTrace(tab, firm, start, end, int(seed), names, exposure)


#: the columns of :func:`churn_drivers`
_DRIVER_COLUMNS = [
    "factor",
    "level",
    "lost",
    "stayed",
    "share_of_lost",
    "share_of_stayed",
    "customer_months",
    "monthly_loss_rate",
    "lift",
]


def _exposure_with_factors(trace: LossTrace) -> pd.DataFrame:
    """The customer-months at risk with every factor's level (static factors from the
    cohort table; without recorded exposure, every member is at risk until leaving or
    the end)."""
    t = trace.table
    ex = trace.exposure
    if ex is None:  # a static view: every member at risk until leaving or the end
        stop = np.where(t["lost"], t["lost_period"], trace.end)
        months = stop - trace.start + 1
        ex = t.loc[t.index.repeat(months)].assign(lost=False)
        ex["lost"] = False
    static = [f for f in FACTORS if f not in ex.columns and f not in ("destination", "how")]
    if static:
        ex = ex.merge(t[["customer", *static]], on="customer", how="left")
    return ex


def churn_drivers(trace: LossTrace) -> pd.DataFrame:
    """Losses by factor level, against those who stayed.

    Loss *rates* are per customer-month at risk, so a level customers reach late (a
    complaint, bad word of mouth) is not credited with the months before it: a customer
    counts for a level in the months they were in it (time-varying factors take their
    level as of the end of each month), and a loss counts for the level at leaving.

    Args:
        trace: a :class:`LossTrace`.

    Returns:
        One row per factor and level: ``factor, level``; ``lost`` (lost customers with
        that level at leaving) and ``stayed`` (those who stayed, level at the end);
        ``share_of_lost`` and ``share_of_stayed``; ``customer_months`` at risk in that
        level; ``monthly_loss_rate`` (lost / customer_months) and ``lift`` (the level's
        monthly loss rate over the cohort's). ``destination`` and ``how`` describe the
        lost only (no rates).
    """
    t = trace.table
    ex = _exposure_with_factors(trace)
    total_lost = int(t["lost"].sum())
    total_stayed = int((~t["lost"]).sum())
    overall = total_lost / len(ex) if len(ex) else np.nan
    rows = []
    for f in FACTORS:
        levels = _LEVELS.get(f, [])
        col = t[f][t["lost"]] if f in ("destination", "how") else t[f]
        present = list(col.unique())
        for lv in [lv for lv in levels if lv in present] + sorted(
            lv for lv in present if lv not in levels
        ):
            sel = t[f] == lv
            lost = int((sel & t["lost"]).sum())
            stayed = int((sel & ~t["lost"]).sum())
            row = {
                "factor": f,
                "level": lv,
                "lost": lost,
                "stayed": stayed,
                "share_of_lost": round(lost / total_lost, 3) if total_lost else np.nan,
                "share_of_stayed": np.nan,
                "customer_months": np.nan,
                "monthly_loss_rate": np.nan,
                "lift": np.nan,
            }
            if f not in ("destination", "how"):
                cm = int((ex[f] == lv).sum())
                rate = lost / cm if cm else np.nan
                row.update(
                    share_of_stayed=round(stayed / total_stayed, 3) if total_stayed else np.nan,
                    customer_months=cm,
                    monthly_loss_rate=round(rate, 4),
                    lift=round(rate / overall, 2) if overall else np.nan,
                )
            rows.append(row)
    out = pd.DataFrame(rows, columns=_DRIVER_COLUMNS)
    out["customer_months"] = out["customer_months"].astype("Int64")
    return out


def loss_stories(trace: LossTrace, customers=None, limit: int = 5) -> list[str]:
    """Short stories of lost customers: who they were and what they had at leaving.

    Args:
        trace: a :class:`LossTrace`.
        customers: ids to tell (default: the first ``limit`` lost, by month).
        limit: how many when ``customers`` is not given.
    """
    t = trace.table.set_index("customer")
    if customers is None:
        lost = trace.table[trace.table["lost"]].sort_values(["lost_period", "customer"])
        customers = lost["customer"].head(limit).tolist()
    out = []
    for c in customers:
        r = t.loc[c]
        if not r["lost"]:
            out.append(f"Customer {c} ({r['segment']}) stayed with {trace.firm}.")
            continue
        gap = r["performance_at_leaving"] - r["expectation_at_leaving"]
        rival = (
            f"{r['value_best_rival_at_leaving']:+.2f} at {r['best_rival']}"
            if r["best_rival"]
            else "no rival known"
        )
        out.append(
            f"Customer {c} ({r['segment']}, {r['value_tier']} value, "
            f"{int(r['tenure_months'])} months with {trace.firm}) left in month "
            f"{int(r['lost_period'])} "
            + (
                "out of the market"
                if r["destination"] == "out of market"
                else f"for {r['destination']}"
            )
            + f": {r['how']}. At the start of that "
            f"month: satisfaction {r['satisfaction_at_leaving']:+.2f}"
            + (
                f" (after that month's experiences {r['satisfaction_after_leaving']:+.2f})"
                if np.isfinite(r["satisfaction_after_leaving"])
                else ""
            )
            + f"; remembered performance "
            f"{r['performance_at_leaving']:.2f} against an expectation of "
            f"{r['expectation_at_leaving']:.2f} ({'short by' if gap < 0 else 'above by'} "
            f"{abs(gap):.2f}); value of {trace.firm} {r['value_firm_at_leaving']:+.2f} against "
            f"{rival}; complaints: {r['complaint_outcome']}; heard negative word of mouth: "
            f"{r['heard_negative']}."
        )
    return out


def customer_story(params, seed: int, customer: int, periods: int | None = None) -> pd.DataFrame:
    """One customer's own experiences, month by month, from a replay.

    Args:
        params: the run's parameters.
        seed: the replication's seed.
        customer: the customer's id (any customer, not only the panel).
        periods: months to replay (default: the run's).

    Returns:
        One row per month: ``period, status, firm`` (name or empty), ``bought``,
        ``expectation`` (of the firm bought from or held, at the start of the month),
        ``performance`` (remembered performance of the firm they last bought from, after
        the month), ``transaction_satisfaction`` (of the last purchase) and
        ``satisfaction`` (remembered, after the month).

    Raises:
        ValueError: no such customer.
    """
    from .model import MarketModel
    from .population import STATUS_NAMES

    p = copy.deepcopy(params)
    n = int(p.market.n_customers)
    if not 0 <= customer < n:
        raise ValueError(f"--customer {customer}: no such customer; ids run from 0 to {n - 1}")
    m = MarketModel(p, seed=seed)
    pop = m.pop
    names = [f.name for f in p.firms]
    rows = []
    T = int(periods if periods is not None else p.market.periods)
    for t in range(1, T + 1):
        before_x, before_perf = pop.last_x[customer], pop.perf_memory[customer]
        held = int(pop.firm[customer])
        exp_pre = pop.expect[customer].copy()
        m.step()
        lf = int(pop.last_firm[customer])
        bought = bool(pop.last_x[customer] != before_x or pop.perf_memory[customer] != before_perf)
        f_now = int(pop.firm[customer])
        ref = lf if bought and lf >= 0 else held
        rows.append(
            {
                "period": t,
                "status": STATUS_NAMES[int(pop.status[customer])],
                "firm": names[f_now] if f_now >= 0 else "",
                "bought": bought,
                "bought_from": names[lf] if bought and lf >= 0 else "",
                "expectation": float(exp_pre[ref]) if ref >= 0 else np.nan,
                "performance": float(pop.perf_memory[customer]) if lf >= 0 else np.nan,
                "transaction_satisfaction": float(pop.last_x[customer]) if bought else np.nan,
                "satisfaction": float(pop.satisfaction[customer]),
            }
        )
    return pd.DataFrame(rows)
