"""Perceived value and multinomial logit choice.

Customer-perceived value of firm j for customer i (benefits minus costs, seed 000/002/003):

    V_ij = β_perf,i · E_ij                 expected performance (quality and service)
         + β_brand,i · b_j                 brand / image
         + β_wom,i · tanh(A_ij)            what friends said
         − β_price,i · p_ij / p_ref        money (p_ij net of a loyalty discount)
         − β_time,i · (w_j + e_j)          waiting time and effort
         − κ_n · [i has never bought from j] psychological cost (risk)
         + (γ_i + β_S S_i) · [j is i's current firm]
                                           inertia, switching cost and satisfaction (repurchase)

and buying nothing has utility V_i0 = u_0. The customer picks among the firms it knows
(and buying nothing) with logit probabilities P_ij = exp(V_ij) / Σ_k exp(V_ik). The
draw is by inverse CDF with one uniform number per customer, drawn for every customer
every period, so two runs that differ in one lever share these random numbers (common
random numbers). Streams whose number of draws depends on the state (word of mouth,
referrals, the survey, first expectations) are common only until the runs diverge.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .acquisition import start_relationships
from .loyalty import member_price, switching_costs
from .population import LAPSED
from .stages import PeriodState, Stage

if TYPE_CHECKING:
    from .model import MarketModel

__all__ = [
    "ChoiceStage",
    "PurchaseStage",
    "logit_choice",
    "logit_probabilities",
    "market_utilities",
    "take_rows",
    "utilities",
]


def utilities(
    *,
    expect,
    attitude,
    tried,
    current,
    beta_perf,
    beta_price,
    beta_time,
    beta_wom,
    beta_brand,
    price,
    brand,
    wait_effort,
    ref_price,
    novelty_risk,
    inertia_current,
    rows=None,
):
    """V_ij for the customers (rows) and all firms (columns).

    ``price`` may be (K,) or (n, K) (member discounts); ``inertia_current`` is (n,):
    the inertia γ added to the current firm's utility (``current`` = -1 for none).
    With ``rows``, ``expect``, ``attitude`` and ``tried`` are the full (N, K) arrays and
    the given rows are taken column by column (much cheaper than a row gather); the
    other per-customer arrays are already for those rows. Computed firm by firm on
    length-n columns (K is small; numpy is slow on a trailing axis of length 2 or 3).
    """
    k = expect.shape[1]
    n = expect.shape[0] if rows is None else rows.size

    def column(a, j):
        return a[:, j] if rows is None else a[rows, j]

    v = np.empty((n, k))
    price = np.asarray(price, dtype=float)
    for j in range(k):
        col = beta_perf * column(expect, j)
        col += beta_brand * brand[j]
        if beta_wom is not None:
            col += beta_wom * np.tanh(column(attitude, j))
        pj = price[:, j] if price.ndim == 2 else price[j]
        col -= beta_price * (pj / ref_price)
        col -= beta_time * wait_effort[j]
        if novelty_risk:
            col -= novelty_risk * ~column(tried, j)
        col += np.where(current == j, inertia_current, 0.0)
        v[:, j] = col
    return v


def take_rows(a: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``a[rows]`` for an (N, K) array with small K, gathered column by column."""
    out = np.empty((rows.size, a.shape[1]), dtype=a.dtype)
    for j in range(a.shape[1]):
        out[:, j] = a[rows, j]
    return out


def logit_probabilities(v: np.ndarray, available: np.ndarray, outside_utility: float | None):
    """Choice probabilities over available firms (and the outside option, last column
    of the result when ``outside_utility`` is not None)."""
    e, e0, total = _weights(v, available, outside_utility)
    k = v.shape[1]
    out = np.zeros((v.shape[0], k + (outside_utility is not None)))
    with np.errstate(invalid="ignore", divide="ignore"):
        for j in range(k):
            out[:, j] = np.where(total > 0, e[j] / total, 0.0)
        if outside_utility is not None:
            out[:, k] = np.where(total > 0, e0 / total, 0.0)
    return out


def _weights(v, available, outside_utility):
    """exp(V − max) per available firm (list of columns), for the outside option, and
    their total."""
    n, k = v.shape
    cols = [np.where(available[:, j], v[:, j], -np.inf) for j in range(k)]
    m = np.full(n, -np.inf) if outside_utility is None else np.full(n, float(outside_utility))
    for c in cols:
        np.maximum(m, c, out=m)
    m[~np.isfinite(m)] = 0.0
    e = [np.exp(c - m) for c in cols]
    total = np.zeros(n)
    for c in e:
        total += c
    e0 = None
    if outside_utility is not None:
        e0 = np.exp(outside_utility - m)
        total += e0
    return e, e0, total


def logit_choice(
    v: np.ndarray, available: np.ndarray, outside_utility: float | None, u: np.ndarray
) -> np.ndarray:
    """Chosen firm per row: 0..K-1, or -1 for buying nothing (or nothing available).

    Inverse CDF over the firms in column order, then the outside option: row i picks
    the first j with u_i · Σ_k w_ik < Σ_{k ≤ j} w_ik.
    """
    e, _, total = _weights(v, available, outside_utility)
    target = u * total
    pick = np.full(v.shape[0], -1, dtype=np.int64)
    acc = np.zeros(v.shape[0])
    open_ = total > 0
    for j, c in enumerate(e):
        acc += c
        hit = open_ & (target < acc)
        pick[hit] = j
        open_ &= ~hit
    return pick


def market_utilities(
    model: MarketModel,
    rows: np.ndarray,
    L: dict[str, np.ndarray],
    gamma: np.ndarray,
    *,
    inertia: bool = True,
    novelty: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """V_ij of customers ``rows`` in the model's current state, and the (n, K) prices
    they would pay (member discounts applied).

    Args:
        model: the market.
        rows: customer ids.
        L: lever arrays (:func:`sim.levers.lever_arrays`).
        gamma: switching cost γ_i of every customer (:func:`sim.loyalty.switching_costs`).
        inertia: favour the current firm (γ_i + β_S S_i); off for leavers and at start.
        novelty: charge the novelty risk ρ for untried firms.
    """
    pop, P = model.pop, model.params
    firm = pop.firm[rows].astype(np.int64)
    price = member_price(L["price"], L["loyalty_discount"], L["loyalty"], firm, pop.points[rows])
    v = utilities(
        expect=pop.expect,
        attitude=pop.attitude,
        tried=pop.tried,
        rows=rows,
        current=firm if inertia else np.full(rows.size, -1),
        beta_perf=pop.beta_perf[rows],
        beta_price=pop.beta_price[rows],
        beta_time=pop.beta_time[rows],
        beta_wom=pop.beta_wom[rows],
        beta_brand=pop.beta_brand[rows],
        price=price,
        brand=L["brand"],
        wait_effort=model.wait + L["effort"],
        ref_price=P.market.reference_price,
        novelty_risk=P.choice.novelty_risk if novelty else 0.0,
        inertia_current=gamma[rows]
        + P.choice.satisfaction_weight
        * np.where(pop.last_firm[rows] == pop.firm[rows], pop.satisfaction[rows], 0.0),
    )
    return v, price


class PurchaseStage(Stage):
    """Purchase occasions: who, not lapsed and knowing an active firm, shops this period."""

    name = "purchase"
    stream = "purchase"

    def __call__(self, s: PeriodState) -> None:
        pop = s.pop
        s.known = known = pop.aware & s.L["active"][None, :]
        knows_any = np.zeros(s.n, bool)
        for j in range(s.k):
            knows_any |= known[:, j]
        u = s.rng.random(s.n)
        s.shopper = np.nonzero((u < pop.purchase_prob) & (pop.status != LAPSED) & knows_any)[0]


class ChoiceStage(Stage):
    """Choice: logit over known firms and buying nothing, with inertia; new relationships."""

    name = "choice"
    stream = "choice"

    def __call__(self, s: PeriodState) -> None:
        pop, L, shopper = s.pop, s.L, s.shopper
        s.gamma = switching_costs(s.model, L)
        u = s.rng.random(s.n)[shopper]
        v, price_nk = market_utilities(s.model, shopper, L, s.gamma)
        cp = s.params.choice
        outside = cp.outside_utility if cp.outside_option else None
        choice = logit_choice(v, take_rows(s.known, shopper), outside, u)
        bought = choice >= 0
        s.buyers = buyers = shopper[bought]
        s.buyer_firm = bf = choice[bought]
        s.paid = price_nk[bought, bf]
        s.list_price = L["price"][bf]
        prev = pop.firm[buyers].astype(np.int64)
        s.new_relationship = new = prev != bf
        start_relationships(s, buyers[new], bf[new], prev[new], how="choice")
