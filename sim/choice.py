"""Perceived value and multinomial logit choice.

Customer-perceived value of firm j for customer i (benefits minus costs, seed 000/002/003):

    V_ij = β_perf,i · E_ij                 expected performance (quality and service)
         + β_brand,i · b_j                 brand / image
         + β_wom,i · tanh(A_ij)            what friends said
         − β_price,i · p_ij / p_ref        money (p_ij net of a loyalty discount)
         − β_time,i · (w_j + e_j)          waiting time and effort
         − ρ · [i has never bought from j] psychological cost (risk)
         + (γ_i + β_S S_i) · [j is i's current firm]
                                           inertia, switching cost and satisfaction (repurchase)

and buying nothing has utility V_i0 = u_0. The customer picks among the firms it knows
(and buying nothing) with logit probabilities P_ij = exp(V_ij) / Σ_k exp(V_ik). The
draw is by inverse CDF with one uniform number per customer, so two runs that differ in
one lever share their random numbers (common random numbers).
"""

from __future__ import annotations

import numpy as np

__all__ = ["utilities", "logit_probabilities", "logit_choice"]


def utilities(*, expect, attitude, tried, current, beta_perf, beta_price, beta_time, beta_wom,
              beta_brand, price, brand, wait_effort, ref_price, novelty_risk, inertia_current):
    """V_ij for the given customers (rows) and all firms (columns).

    ``price`` may be (K,) or (n, K) (member discounts); ``inertia_current`` is (n,):
    the inertia γ added to the current firm's utility (``current`` = -1 for none).
    """
    v = beta_perf[:, None] * expect
    v += beta_brand[:, None] * brand[None, :]
    v += beta_wom[:, None] * np.tanh(attitude)
    v -= beta_price[:, None] * (price / ref_price)
    v -= beta_time[:, None] * wait_effort[None, :]
    if novelty_risk:
        v -= novelty_risk * (~tried)
    has = current >= 0
    if has.any():
        rows = np.nonzero(has)[0]
        v[rows, current[has]] += inertia_current[has]
    return v


def logit_probabilities(v: np.ndarray, available: np.ndarray, outside_utility: float | None):
    """Choice probabilities over available firms (and the outside option, last column
    of the result when ``outside_utility`` is not None)."""
    if outside_utility is not None:
        v = np.concatenate([v, np.full((v.shape[0], 1), outside_utility)], axis=1)
        available = np.concatenate([available, np.ones((v.shape[0], 1), bool)], axis=1)
    v = np.where(available, v, -np.inf)
    m = v.max(axis=1, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    e = np.exp(v - m)
    s = e.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = np.where(s > 0, e / s, 0.0)
    return p


def logit_choice(v: np.ndarray, available: np.ndarray, outside_utility: float | None,
                 u: np.ndarray) -> np.ndarray:
    """Chosen firm per row: 0..K-1, or -1 for buying nothing (or nothing available)."""
    k = v.shape[1]
    p = logit_probabilities(v, available, outside_utility)
    c = np.cumsum(p, axis=1)
    total = c[:, -1]
    pick = (c < (u * total)[:, None]).sum(axis=1)
    pick = np.minimum(pick, p.shape[1] - 1)
    out = np.where(pick >= k, -1, pick)
    out[total <= 0] = -1
    return out.astype(np.int64)
