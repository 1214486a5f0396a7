"""Accounts: loyalty points, money per buyer, the firm and market rows, CLV and NPS.

Per buyer i of firm j paying p_ij for q_i units (list price p_j):

    revenue_i = p_ij q_i,   variable_i = c_j q_i,   service_i = c_s,j s_j + c_serve,j
    contribution_i = revenue_i − variable_i − service_i − complaint costs_i

A firm's revenue is booked gross, at list prices; loyalty discounts (p_j − p_ij) q_i
are part of the programme cost. Per period and firm:

    profit = revenue − (variable + service + complaints + marketing + capacity
                        + fixed + programme)
    retention r = 1 − lost / customers at the start,  margin m = contribution / customers
    CLV = m · r / (1 + i − r)                  (Gupta & Lehmann 2003; i: discount rate)

Net Promoter Score (Reichheld 2003) over customers with an experience of their
current firm: the satisfaction score 5 (S + 1) on 0–10 makes promoters S ≥ 0.8 (9–10)
and detractors S ≤ 0.2 (0–6); NPS = 100 (promoters − detractors).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from . import accel
from .acquisition import ACQ_CHANNELS
from .levers import NUMERIC_LEVERS
from .params import levers
from .population import LAPSED, PROSPECT
from .stages import PeriodState, Stage

if TYPE_CHECKING:
    from .model import MarketModel

__all__ = [
    "AccountsStage",
    "RecordStage",
    "FLOWS",
    "PROMOTER_S",
    "DETRACTOR_S",
    "clv",
    "empty_flows",
    "nps",
    "nps_from_counts",
    "record",
]

#: NPS cut-offs on the satisfaction scale: score = 5 (S + 1) on 0–10; promoters 9–10,
#: detractors 0–6 (Reichheld 2003)
PROMOTER_S, DETRACTOR_S = 0.8, 0.2

#: the per-firm flows every period starts with (all zero but ``customers_start``)
FLOWS = (
    "buyers",
    "units",
    "revenue",
    "contribution",
    "discounts",
    "problems",
    "complaints",
    "resolved_quick",
    "resolved_late",
    "unresolved",
    "remedies_quick",
    "remedies_late",
    "wom_pos",
    "wom_neg",
    "referrals",
    "lost_to_rival",
    "lost_out",
    "lost_after_negative_wom",
    "winback_contacts",
    "customers_start",
    *[f"acq_{c}" for c in ACQ_CHANNELS],
)

#: lever columns of the firm table, in order: the ``recorded`` levers of the metadata
#: (``promise``, ``capacity`` and ``loyalty`` come from the lever arrays: the advertised
#: level, inf when unlimited, programme on and loyalty enabled)
_LEVER_COLUMNS = levers("recorded")
_FROM_ARRAYS = frozenset(_LEVER_COLUMNS) - frozenset(NUMERIC_LEVERS)


def empty_flows(model: MarketModel) -> dict[str, np.ndarray]:
    """Zero flows for a period; ``customers_start`` counts each firm's customers now."""
    k, firm = model.n_firms, model.pop.firm
    fl = dict(zip((*FLOWS, "load", "wait"), np.zeros((len(FLOWS) + 2, k)), strict=True))
    if accel.enabled():
        fl["customers_start"] = _customers_jit(firm, k)
    else:
        fl["customers_start"] = np.bincount(firm[firm >= 0], minlength=k).astype(float)
    return fl


@accel.jit
def _customers_jit(firm, k):  # pragma: no cover - compiled; the reference is empty_flows
    out = np.zeros(k)
    for i in range(firm.size):
        if firm[i] >= 0:
            out[firm[i]] += 1.0
    return out


def clv(margin, retention, discount_rate):
    """Customer lifetime value m r / (1 + i − r) (0 where r ≥ 1 + i).

    Examples:
        >>> float(clv(1.0, 0.9, 0.01))
        8.18...
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        i = discount_rate
        return np.where(retention < 1.0 + i, margin * retention / (1.0 + i - retention), 0.0)


def nps(S: np.ndarray) -> tuple[float, float, float]:
    """(promoters, detractors, NPS) of satisfaction values ``S`` (NaN when empty).

    Examples:
        >>> nps(np.array([0.9, 0.5, 0.1, 0.95]))
        (0.5, 0.25, 25.0)
    """
    return nps_from_counts(
        np.count_nonzero(S >= PROMOTER_S), np.count_nonzero(S <= DETRACTOR_S), S.size
    )


def nps_from_counts(promoters: int, detractors: int, n: int) -> tuple[float, float, float]:
    """(promoters, detractors, NPS) from the counts among ``n`` customers (NaN when n = 0).

    Examples:
        >>> nps_from_counts(2, 1, 4)
        (0.5, 0.25, 25.0)
    """
    if not n:
        return np.nan, np.nan, np.nan
    prom, det = int(promoters) / n, int(detractors) / n
    return prom, det, 100.0 * (prom - det)


class AccountsStage(Stage):
    """Accounts: loyalty points; revenue, costs and contribution per buyer; waiting public."""

    name = "accounts"

    def __call__(self, s: PeriodState) -> None:
        pop, L, k = s.pop, s.L, s.k
        buyers = s.buyers
        complaint_i = s.complaint_cost if s.complaint_cost is not None else np.zeros(buyers.size)
        book = _book_buyers_jit if accel.enabled() else book_buyers
        sums = book(
            buyers,
            s.buyer_firm,
            s.paid,
            s.list_price,
            complaint_i,
            np.stack([L["unit_cost"], L["service_cost"], L["service"], L["serve_cost"]]),
            pop.quantity,
            pop.firm,
            pop.points,
            pop.profit,
            pop.revenue,
            np.zeros((len(_BOOKED), k)),
        )
        fl = s.fl
        fl["buyers"] = s.demand
        for name, row in zip(_BOOKED, sums, strict=True):
            fl[name] = row
        fl["complaint_costs"] = fl["complaint_costs"] + fl["remedies_late"]
        s.model.wait, s.model.load = s.wait, s.load


#: the per-firm sums :func:`book_buyers` returns, in order
_BOOKED = (
    "units",
    "revenue",
    "variable",
    "service",
    "discounts",
    "complaint_costs",
    "contribution",
)


def book_buyers(
    buyers, bf, paid, list_price, complaint_i, costs, quantity, firm, points, profit, revenue, out
):
    """Book the period's purchases (the numpy reference of the accounts stage).

    Per buyer i of firm j: one loyalty point if i is still j's customer;
    contribution_i = p_ij q_i − c_j q_i − (c_s,j s_j + c_serve,j) − complaint costs_i is
    added to ``profit[i, j]`` and p_ij q_i to ``revenue[i, j]``.

    Args:
        buyers, bf, paid, list_price, complaint_i: per buyer: id, firm, price paid,
            list price, complaint costs.
        costs: (4, K) per firm: unit cost c_j, service cost c_s,j, service level s_j,
            serve cost c_serve,j.
        quantity, firm, points: population columns (``points`` changed in place).
        profit, revenue: (N, K) cumulative columns (changed in place).
        out: zeroed (7, K) array for the per-firm sums.

    Returns:
        ``out``: per firm, the sums over its buyers of units, revenue at list prices
        (booked gross), variable cost, service cost, loyalty discounts
        (p_j − p_ij) q_i, complaint costs and contribution (rows in ``_BOOKED`` order).
    """
    k = out.shape[1]
    same = firm[buyers] == bf  # still with the firm they bought from
    points[buyers[same]] += 1
    qty = quantity[buyers]
    rev_i = paid * qty
    variable_i = costs[0][bf] * qty
    service_i = costs[1][bf] * costs[2][bf] + costs[3][bf]
    contrib_i = rev_i - variable_i - service_i - complaint_i
    profit[buyers, bf] += contrib_i  # each buyer appears once: no np.add.at needed
    revenue[buyers, bf] += rev_i
    weights = (qty, list_price * qty, variable_i, service_i, (list_price - paid) * qty)
    for row, w in enumerate((*weights, complaint_i, contrib_i)):
        out[row] = np.bincount(bf, w, minlength=k)
    return out


@accel.jit
def _book_buyers_jit(
    buyers, bf, paid, list_price, complaint_i, costs, quantity, firm, points, profit, revenue, out
):  # pragma: no cover - compiled; the reference is book_buyers
    for m in range(buyers.size):
        i, j = buyers[m], bf[m]
        if firm[i] == j:
            points[i] += 1
        q = quantity[i]
        rev = paid[m] * q
        variable = costs[0, j] * q
        service = costs[1, j] * costs[2, j] + costs[3, j]
        contrib = rev - variable - service - complaint_i[m]
        profit[i, j] += contrib
        revenue[i, j] += rev
        out[0, j] += q
        out[1, j] += list_price[m] * q
        out[2, j] += variable
        out[3, j] += service
        out[4, j] += (list_price[m] - paid[m]) * q
        out[5, j] += complaint_i[m]
        out[6, j] += contrib
    return out


class RecordStage(Stage):
    """Recording: the firm rows (accounts, CLV), the market row (NPS) and the panel."""

    name = "record"

    def __call__(self, s: PeriodState) -> None:
        if not s.warming:
            record(s.model, s.fl, s.L)


def _costs(model: MarketModel, fl: dict, L: dict) -> dict[str, np.ndarray]:
    """Per-firm costs of the period (nothing is charged in period 0, the initial state)."""
    P, n, k = model.params, model.pop.n, model.n_firms
    charge = L["active"] & (model.period > 0)
    finite = np.isfinite(L["capacity"])
    c = {
        "variable": fl.get("variable", np.zeros(k)),
        "service": fl.get("service", np.zeros(k)),
        "complaints": fl.get("complaint_costs", np.zeros(k)),
        "marketing": np.where(
            charge & P.acquisition.marketing_enabled, L["marketing"] * L["marketing_cost"] * n, 0.0
        ),
        "capacity": np.where(
            charge & P.capacity.enabled & finite,
            L["capacity_cost"] * np.where(finite, L["capacity"], 0.0),
            0.0,
        ),
        "programme": fl["discounts"]
        + np.where(charge & L["loyalty"], L["loyalty_fixed_cost"], 0.0)
        + fl["referrals"] * L["referral_reward"]
        + fl["winback_contacts"] * L["winback_cost"],
        "fixed": np.where(charge, L["fixed_cost"], 0.0),
    }
    c["total"] = (
        c["variable"]
        + c["service"]
        + c["complaints"]
        + c["marketing"]
        + c["capacity"]
        + c["fixed"]
        + c["programme"]
    )
    return c


def _indicators(model: MarketModel, fl: dict, per_firm: np.ndarray) -> dict[str, np.ndarray]:
    """Per-firm shares, churn, retention, margin and CLV; mean satisfaction and expectation
    (``per_firm``: the per-firm rows of :func:`tally`)."""
    customers, sat_sum, sat_n, exp_sum = per_firm[0], per_firm[1], per_firm[2], per_firm[3]
    lost = fl["lost_to_rival"] + fl["lost_out"]
    start, served = fl["customers_start"], customers.sum()
    out = {"lost": lost}
    with np.errstate(divide="ignore", invalid="ignore"):
        out["churn_rate"] = np.where(start > 0, lost / start, 0.0)
        out["retention"] = 1.0 - out["churn_rate"]
        out["margin"] = np.where(customers > 0, fl["contribution"] / customers, 0.0)
        out["clv"] = clv(out["margin"], out["retention"], model.params.market.discount_rate)
        out["share"] = np.where(served > 0, customers / served, 0.0)
        buyers_total = fl["buyers"].sum()
        out["sales_share"] = np.where(buyers_total > 0, fl["buyers"] / buyers_total, 0.0)
        out["mean_sat"] = np.where(sat_n > 0, sat_sum / np.maximum(sat_n, 1), np.nan)
        out["mean_exp"] = np.where(customers > 0, exp_sum / np.maximum(customers, 1), np.nan)
    return out


#: rows of :func:`tally`'s per-firm array and entries of its market counts
_PER_FIRM = ("customers", "sat_sum", "sat_n", "exp_sum", "aware")
_COUNTS = ("prospects", "lapsed", "unaware", "promoters", "detractors")


def tally(firm, last_firm, status, satisfaction, expect, aware, active, S_out):
    """Everything the firm and market rows count over customers (the numpy reference).

    Args:
        firm, last_firm, status, satisfaction: population columns.
        expect, aware: (N, K) population columns.
        active: per firm, whether it is in the market.
        S_out: a float array of N elements for the satisfaction values returned.

    Returns:
        (per_firm, counts, S): ``per_firm`` (5, K) floats: customers, the sum and number
        of satisfaction values of customers with an experience of their firm, the sum of
        customers' expectations of their firm, customers aware of the firm;
        ``counts`` (5,) ints: prospects, lapsed, unaware of every active firm, promoters
        (S ≥ 0.8) and detractors (S ≤ 0.2) among the experienced; ``S``: the
        experienced customers' satisfaction, in customer order (a view of ``S_out``).
    """
    k = aware.shape[1]
    has = firm >= 0
    experienced = has & (last_firm == firm)
    hi = np.nonzero(has)[0]
    fh = firm[hi]
    S = satisfaction[experienced]
    per_firm = np.array(
        [
            np.bincount(fh, minlength=k),
            np.bincount(firm[experienced], S, minlength=k),
            np.bincount(firm[experienced], minlength=k),
            np.bincount(fh, expect[hi, fh], minlength=k),
            np.count_nonzero(aware, axis=0),
        ],
        dtype=float,
    )
    knows_active = np.zeros(firm.size, bool)
    for j in range(k):
        if active[j]:
            knows_active |= aware[:, j]
    counts = np.array(
        [
            np.count_nonzero(status == PROSPECT),
            np.count_nonzero(status == LAPSED),
            firm.size - np.count_nonzero(knows_active),
            np.count_nonzero(S >= PROMOTER_S),
            np.count_nonzero(S <= DETRACTOR_S),
        ]
    )
    S_out[: S.size] = S
    return per_firm, counts, S_out[: S.size]


@accel.jit
def _tally_jit(
    firm, last_firm, status, satisfaction, expect, aware, active, S_out
):  # pragma: no cover - compiled; the reference is tally
    k = aware.shape[1]
    per_firm = np.zeros((5, k))
    counts = np.zeros(5, np.int64)
    m = 0
    for i in range(firm.size):
        if status[i] == PROSPECT:
            counts[0] += 1
        elif status[i] == LAPSED:
            counts[1] += 1
        knows = False
        for j in range(k):
            if aware[i, j]:
                per_firm[4, j] += 1.0
                knows = knows or active[j]
        if not knows:
            counts[2] += 1
        f = firm[i]
        if f < 0:
            continue
        per_firm[0, f] += 1.0
        per_firm[3, f] += expect[i, f]
        if last_firm[i] == f:
            v = satisfaction[i]
            per_firm[1, f] += v
            per_firm[2, f] += 1.0
            counts[3] += v >= PROMOTER_S
            counts[4] += v <= DETRACTOR_S
            S_out[m] = v
            m += 1
    return per_firm, counts, S_out[:m]


#: inputs of :func:`_figures_jit`: lever arrays, then flows (rows of one array)
_FIG_LEVERS = (
    "active",
    "capacity",
    "marketing",
    "marketing_cost",
    "capacity_cost",
    "loyalty",
    "loyalty_fixed_cost",
    "referral_reward",
    "winback_cost",
    "fixed_cost",
)
_FIG_FLOWS = (
    "variable",
    "service",
    "complaint_costs",
    "discounts",
    "referrals",
    "winback_contacts",
    "lost_to_rival",
    "lost_out",
    "customers_start",
    "contribution",
    "buyers",
)
_COST_KEYS = ("variable", "service", "complaints", "marketing", "capacity", "programme")
_IND_KEYS = ("lost", "churn_rate", "retention", "margin", "clv", "share", "sales_share")


def _figures_compiled(model: MarketModel, fl: dict, L: dict, per_firm: np.ndarray):
    """:func:`_costs` and :func:`_indicators` in one compiled call (they are the reference)."""
    P, k = model.params, model.n_firms
    zero = np.zeros(k)
    inputs = np.array(
        [L[key] for key in _FIG_LEVERS] + [fl.get(key, zero) for key in _FIG_FLOWS], dtype=float
    )
    flags = np.array(
        [
            model.period > 0,
            P.acquisition.marketing_enabled,
            P.capacity.enabled,
            model.pop.n,
            P.market.discount_rate,
            per_firm[0].sum(),  # numpy's sums, as in the reference
            fl["buyers"].sum(),
        ],
        dtype=float,
    )
    out = _figures_jit(inputs, per_firm, flags)
    c = dict(zip((*_COST_KEYS, "fixed", "total"), out[:8], strict=True))
    ind = dict(zip((*_IND_KEYS, "mean_sat", "mean_exp"), out[8:], strict=True))
    return c, ind


@accel.jit
def _figures_jit(inputs, per_firm, flags):  # pragma: no cover - reference: _costs, _indicators
    out = np.zeros((17, inputs.shape[1]))
    i = flags[4]
    for j in range(inputs.shape[1]):
        lev, fl = inputs[:10, j], inputs[10:, j]
        charge = lev[0] != 0.0 and flags[0] != 0.0
        cap = lev[1] if np.isfinite(lev[1]) else 0.0
        out[0, j], out[1, j], out[2, j] = fl[0], fl[1], fl[2]
        out[3, j] = lev[2] * lev[3] * flags[3] if charge and flags[1] != 0.0 else 0.0
        finite = np.isfinite(lev[1])
        out[4, j] = lev[4] * cap if charge and flags[2] != 0.0 and finite else 0.0
        loyal = lev[6] if charge and lev[5] != 0.0 else 0.0
        out[5, j] = fl[3] + loyal + fl[4] * lev[7] + fl[5] * lev[8]
        out[6, j] = lev[9] if charge else 0.0
        out[7, j] = out[0, j] + out[1, j] + out[2, j] + out[3, j] + out[4, j] + out[6, j]
        out[7, j] = out[7, j] + out[5, j]
        customers, start = per_firm[0, j], fl[8]
        out[8, j] = fl[6] + fl[7]
        out[9, j] = out[8, j] / start if start > 0 else 0.0
        out[10, j] = 1.0 - out[9, j]
        out[11, j] = fl[9] / customers if customers > 0 else 0.0
        r = out[10, j]
        out[12, j] = out[11, j] * r / (1.0 + i - r) if r < 1.0 + i else 0.0
        out[13, j] = customers / flags[5] if flags[5] > 0 else 0.0
        out[14, j] = fl[10] / flags[6] if flags[6] > 0 else 0.0
        sat_n = per_firm[2, j]
        out[15, j] = per_firm[1, j] / max(sat_n, 1.0) if sat_n > 0 else np.nan
        out[16, j] = per_firm[3, j] / max(customers, 1.0) if customers > 0 else np.nan
    return out


def _firm_row(model, j, fl, L, customers, c, ind, aware_share) -> dict:
    """The firm table's row of firm ``j`` (column order is the table's)."""
    f, n = model.firms[j], model.pop.n
    row: dict = {
        "period": model.period,
        "firm": f.name,
        "firm_index": j,
        "active": bool(L["active"][j]),
    }
    for a in _LEVER_COLUMNS:
        v = L[a][j] if a in _FROM_ARRAYS else getattr(f.levers, a)
        row[a] = bool(v) if a == "loyalty" else float(v)
    row.update(
        customers=int(customers[j]),
        share=float(ind["share"][j]),
        penetration=float(customers[j] / n),
        aware=float(aware_share[j]),
        buyers=int(fl["buyers"][j]),
        units=float(fl["units"][j]),
        sales_share=float(ind["sales_share"][j]),
        acquired=int(sum(fl[f"acq_{ch}"] for ch in ACQ_CHANNELS)[j]),
        **{f"acq_{ch}": int(fl[f"acq_{ch}"][j]) for ch in ACQ_CHANNELS},
        lost=int(ind["lost"][j]),
    )
    for key in ("lost_to_rival", "lost_out", "lost_after_negative_wom"):
        row[key] = int(fl[key][j])
    row.update(
        churn_rate=float(ind["churn_rate"][j]),
        mean_satisfaction=float(ind["mean_sat"][j]),
        mean_expectation=float(ind["mean_exp"][j]),
    )
    for key in ("problems", "complaints", "resolved_quick", "resolved_late", "unresolved"):
        row[key] = int(fl[key][j])
    for key in ("wom_pos", "wom_neg", "referrals"):
        row[key] = int(fl[key][j])
    for key in ("load", "wait", "revenue"):
        row[key] = float(fl[key][j])
    for key in ("variable", "service", "capacity", "complaints", "marketing", "programme"):
        row[f"cost_{key}"] = float(c[key][j])
    row.update(cost_fixed=float(c["fixed"][j]), cost_total=float(c["total"][j]))
    row.update(
        profit=float(fl["revenue"][j] - c["total"][j]),
        margin_per_customer=float(ind["margin"][j]),
        retention=float(ind["retention"][j]),
        clv=float(ind["clv"][j]),
    )
    return row


def _market_row(model: MarketModel, fl: dict, per_firm, counts, S, profit) -> dict:
    """The market table's row of the period (``per_firm``, ``counts``, ``S``: :func:`tally`)."""
    n = model.pop.n
    served = per_firm[0].sum()
    prospects, lapsed, unaware, promoters, detractors = (int(c) for c in counts)
    prom, det, score = nps_from_counts(promoters, detractors, S.size)
    mean_sat = float(S.mean()) if S.size else np.nan
    return {
        "period": model.period,
        "population": n,
        "customers": int(served),
        "unserved": int(n - served),
        "prospects": prospects,
        "lapsed": lapsed,
        "unaware": unaware,
        "buyers": int(fl["buyers"].sum()),
        "mean_satisfaction": mean_sat,
        "promoters": prom,
        "detractors": det,
        "nps": score,
        "complaints": int(fl["complaints"].sum()),
        "wom_pos": int(fl["wom_pos"].sum()),
        "wom_neg": int(fl["wom_neg"].sum()),
        "referrals": int(fl["referrals"].sum()),
        "switches": int(fl["lost_to_rival"].sum()),
        "lapsed_now": int(fl["lost_out"].sum()),
        "revenue": float(fl["revenue"].sum()),
        "profit": float(profit.sum()),
    }


def _panel_rows(model: MarketModel) -> dict[str, np.ndarray]:
    """The panel customers' state now."""
    pop, ids = model.pop, model.panel_ids
    lf = pop.last_firm[ids].astype(np.int64)
    return {
        "period": np.full(ids.size, model.period, np.int32),
        "customer": ids,
        "status": pop.status[ids].copy(),
        "firm_index": pop.firm[ids].copy(),
        "last_firm_index": lf.astype(np.int16),
        "satisfaction": pop.satisfaction[ids].copy(),
        "expectation": np.where(lf >= 0, pop.expect[ids, np.maximum(lf, 0)], np.nan),
        "points": pop.points[ids].copy(),
    }


def record(model: MarketModel, fl: dict, L: dict) -> None:
    """Append the period's firm rows (also each firm's ``accounts``), market row and panel."""
    pop = model.pop
    count = _tally_jit if accel.enabled() else tally
    per_firm, counts, S = count(
        pop.firm,
        pop.last_firm,
        pop.status,
        pop.satisfaction,
        pop.expect,
        pop.aware,
        L["active"],
        np.empty(pop.n),
    )
    customers = per_firm[0]
    if accel.enabled():
        c, ind = _figures_compiled(model, fl, L, per_firm)
    else:
        c, ind = _costs(model, fl, L), _indicators(model, fl, per_firm)
    aware_share = per_firm[4] / pop.n
    for j, f in enumerate(model.firms):
        row = _firm_row(model, j, fl, L, customers, c, ind, aware_share)
        model.recorder.firm_rows.append(row)
        f.accounts = row
    if model.panel_ids.size:
        model._panel.append(_panel_rows(model))
    profit = fl["revenue"] - c["total"]
    model.recorder.market_rows.append(_market_row(model, fl, per_firm, counts, S, profit))
