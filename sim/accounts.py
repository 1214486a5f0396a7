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
    fl = {name: np.zeros(k) for name in FLOWS}
    fl["customers_start"] = np.bincount(firm[firm >= 0], minlength=k).astype(float)
    fl["load"] = np.zeros(k)
    fl["wait"] = np.zeros(k)
    return fl


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
    if not S.size:
        return np.nan, np.nan, np.nan
    prom = float((S >= PROMOTER_S).mean())
    det = float((S <= DETRACTOR_S).mean())
    return prom, det, 100.0 * (prom - det)


class AccountsStage(Stage):
    """Accounts: loyalty points; revenue, costs and contribution per buyer; waiting public."""

    name = "accounts"

    def __call__(self, s: PeriodState) -> None:
        pop, L, k = s.pop, s.L, s.k
        buyers, bf, paid = s.buyers, s.buyer_firm, s.paid
        same = pop.firm[buyers] == bf  # still with the firm they bought from
        pop.points[buyers[same]] += 1
        qty = pop.quantity[buyers]
        rev_i = paid * qty
        variable_i = L["unit_cost"][bf] * qty
        service_i = L["service_cost"][bf] * L["service"][bf] + L["serve_cost"][bf]
        complaint_i = s.complaint_cost if s.complaint_cost is not None else np.zeros(buyers.size)
        contrib_i = rev_i - variable_i - service_i - complaint_i
        pop.profit[buyers, bf] += contrib_i  # each buyer appears once: no np.add.at needed
        pop.revenue[buyers, bf] += rev_i
        fl = s.fl
        fl["buyers"] = s.demand
        fl["units"] = np.bincount(bf, qty, minlength=k)
        fl["revenue"] = np.bincount(bf, s.list_price * qty, minlength=k)  # gross, list prices
        fl["variable"] = np.bincount(bf, variable_i, minlength=k)
        fl["service"] = np.bincount(bf, service_i, minlength=k)
        fl["discounts"] = np.bincount(bf, (s.list_price - paid) * qty, minlength=k)
        fl["complaint_costs"] = np.bincount(bf, complaint_i, minlength=k) + fl["remedies_late"]
        fl["contribution"] = np.bincount(bf, contrib_i, minlength=k)
        s.model.wait, s.model.load = s.wait, s.load


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


def _indicators(model: MarketModel, fl: dict, customers: np.ndarray) -> dict[str, np.ndarray]:
    """Per-firm shares, churn, retention, margin and CLV; mean satisfaction and expectation."""
    pop, k = model.pop, model.n_firms
    firm = pop.firm
    has = firm >= 0
    experienced = has & (pop.last_firm == firm)
    sat_sum = np.bincount(firm[experienced], pop.satisfaction[experienced], minlength=k)
    sat_n = np.bincount(firm[experienced], minlength=k)
    hi = np.nonzero(has)[0]
    exp_sum = np.bincount(firm[hi], pop.expect[hi, firm[hi]], minlength=k)
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


def _market_row(model: MarketModel, fl: dict, L: dict, customers, profit) -> dict:
    """The market table's row of the period."""
    pop, n, k = model.pop, model.pop.n, model.n_firms
    knows_active = np.zeros(n, bool)
    for j in range(k):
        if L["active"][j]:
            knows_active |= pop.aware[:, j]
    served = customers.sum()
    experienced = (pop.firm >= 0) & (pop.last_firm == pop.firm)
    S = pop.satisfaction[experienced]
    prom, det, score = nps(S)
    return {
        "period": model.period,
        "population": n,
        "customers": int(served),
        "unserved": int(n - served),
        "prospects": int((pop.status == PROSPECT).sum()),
        "lapsed": int((pop.status == LAPSED).sum()),
        "unaware": int(n - np.count_nonzero(knows_active)),
        "buyers": int(fl["buyers"].sum()),
        "mean_satisfaction": float(S.mean()) if S.size else np.nan,
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
    pop, k, n = model.pop, model.n_firms, model.pop.n
    firm = pop.firm
    customers = np.bincount(firm[firm >= 0], minlength=k).astype(float)
    c = _costs(model, fl, L)
    ind = _indicators(model, fl, customers)
    aware_share = np.array([np.count_nonzero(pop.aware[:, j]) for j in range(k)]) / n
    for j, f in enumerate(model.firms):
        row = _firm_row(model, j, fl, L, customers, c, ind, aware_share)
        model.recorder.firm_rows.append(row)
        f.accounts = row
    if model.panel_ids.size:
        model._panel.append(_panel_rows(model))
    profit = fl["revenue"] - c["total"]
    model.recorder.market_rows.append(_market_row(model, fl, L, customers, profit))
