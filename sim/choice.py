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
draw is by inverse CDF with one uniform number per customer, drawn for every customer
every period, so two runs that differ in one lever share these random numbers (common
random numbers). Streams whose number of draws depends on the state (word of mouth,
referrals, the survey, first expectations) are common only until the runs diverge.
"""

from __future__ import annotations

import numpy as np

__all__ = ["utilities", "logit_probabilities", "logit_choice"]


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
