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

from . import accel
from .acquisition import start_relationships
from .loyalty import member_price, switching_costs
from .population import LAPSED
from .stages import PeriodState, Stage

if TYPE_CHECKING:
    from .model import MarketModel

__all__ = [
    "ChoiceStage",
    "PurchaseStage",
    "choose",
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


def choose(
    model: MarketModel,
    rows: np.ndarray,
    L: dict[str, np.ndarray],
    gamma: np.ndarray,
    known: np.ndarray,
    active: np.ndarray | None,
    outside_utility: float | None,
    u: np.ndarray,
    *,
    inertia: bool = True,
    exclude_current: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Logit choice of customers ``rows`` among the firms they may buy from.

    :func:`market_utilities` then :func:`logit_choice` (the numpy reference); with
    compiled kernels on (:mod:`sim.accel`) the same arithmetic runs fused in three
    kernels, with ``tanh`` and ``exp`` still computed by numpy, so both give identical
    results.

    Args:
        model: the market.
        rows: customer ids.
        L: lever arrays (:func:`sim.levers.lever_arrays`).
        gamma: switching cost γ_i of every customer.
        known: (N, K) firms each customer may choose (indexed by ``rows``).
        active: (K,) firms open to all, or None for all firms.
        outside_utility: u_0, or None without the outside option.
        u: one uniform number per row (inverse-CDF draw).
        inertia: favour the current firm (off for leavers).
        exclude_current: the current firm is not available (leavers).

    Returns:
        (choice, paid): the chosen firm per row (-1: nothing) and the price the row
        pays there (member discount applied; 0 where nothing is chosen).

    Examples:
        >>> import numpy as np
        >>> from sim import MarketModel
        >>> from sim.levers import lever_arrays
        >>> from sim.loyalty import switching_costs
        >>> m = MarketModel(seed=1)
        >>> L, rows = lever_arrays(m), np.arange(5)
        >>> known = np.ones((m.pop.n, m.n_firms), bool)
        >>> c, paid = choose(m, rows, L, switching_costs(m, L), known, None, None, np.zeros(5))
        >>> bool((c == 0).all()), bool((paid > 0).all())   # u = 0: the first firm
        (True, True)
    """
    flags = (inertia, exclude_current)
    path = _choose_compiled if accel.enabled() else _choose_numpy
    return path(model, rows, L, gamma, known, active, outside_utility, u, flags)


def _choose_numpy(model, rows, L, gamma, known, active, outside_utility, u, flags):
    """:func:`choose` in numpy (the reference)."""
    inertia, exclude_current = flags
    v, price = market_utilities(model, rows, L, gamma, inertia=inertia)
    avail = take_rows(known, rows)
    if active is not None:
        avail &= active[None, :]
    if exclude_current:
        cur = model.pop.firm[rows].astype(np.int64)
        has = np.nonzero(cur >= 0)[0]
        avail[has, cur[has]] = False
    choice = logit_choice(v, avail, outside_utility, u)
    paid = np.zeros(rows.size)
    ok = np.nonzero(choice >= 0)[0]
    paid[ok] = price[ok, choice[ok]]
    return choice, paid


def _choose_compiled(model, rows, L, gamma, known, active, outside_utility, u, flags):
    """:func:`choose` through the kernels (same operations in the same order)."""
    pop, P = model.pop, model.params
    k = known.shape[1]
    w = np.empty((rows.size, k + 1))
    ta = np.empty((rows.size, k))  # contiguous, like the reference's columns
    _gather_rows_nb(pop.attitude, rows, ta)
    np.tanh(ta, out=ta)  # numpy's tanh, as the reference
    lev = np.empty((5, k))
    lev[0], lev[1], lev[2], lev[3] = L["price"], L["loyalty_discount"], L["loyalty"], L["brand"]
    np.add(model.wait, L["effort"], out=lev[4])
    _utility_shift_nb(
        rows, pop.expect, pop.tried, pop.firm, pop.last_firm, pop.points, pop.satisfaction,
        pop.beta_perf, pop.beta_price, pop.beta_time, pop.beta_wom, pop.beta_brand, gamma,
        ta, known, np.ones(k, np.bool_) if active is None else active, lev,
        np.array([P.market.reference_price, P.choice.novelty_risk, P.choice.satisfaction_weight,
                  -np.inf if outside_utility is None else float(outside_utility)]),
        flags[0], flags[1], w,
    )  # fmt: skip
    np.exp(w, out=w)  # numpy's exp, as the reference
    return _pick_nb(w, u, rows, pop.firm, pop.points, lev)


@accel.jit
def _gather_rows_nb(a, rows, out):  # pragma: no cover - compiled
    """out[i] = a[rows[i]] for an (N, K) array (numba; :func:`take_rows` is the reference)."""
    for i in range(rows.size):
        for j in range(a.shape[1]):
            out[i, j] = a[rows[i], j]


@accel.jit
def _utility_shift_nb(
    rows, expect, tried, firm, last_firm, points, satisfaction,
    beta_perf, beta_price, beta_time, beta_wom, beta_brand, gamma,
    ta, known, active, lev, consts, inertia, exclude_current, w,
):  # fmt: skip  # pragma: no cover - compiled
    """V_ij − max_j V_ij into ``w`` (``ta``: tanh(A_ij) per row; the outside option
    u_0 = ``consts[3]`` in the last column, −inf for unavailable firms and without an
    outside option): :func:`market_utilities` and :func:`_weights` in one pass (numba;
    the numpy functions are the reference). Selections are branch-free (faster on
    random data); each value is computed as in the reference."""
    k = expect.shape[1]
    ref_price, novelty_risk, sat_weight, outside = consts[0], consts[1], consts[2], consts[3]
    full = lev[0] / ref_price  # p_j / p_ref, and for members (p_j (1 − δ_L,j)) / p_ref
    member_price = (lev[0] * (1.0 - lev[1])) / ref_price
    on = lev[2] != 0.0
    for i in range(rows.size):
        r = rows[i]
        f = np.int64(firm[r])
        member = points[r] >= 1
        sat = satisfaction[r] if last_firm[r] == firm[r] else 0.0
        inertia_current = gamma[r] + sat_weight * sat
        m = outside
        for j in range(k):
            own = f == j
            col = beta_perf[r] * expect[r, j]
            col += beta_brand[r] * lev[3, j]
            col += beta_wom[r] * ta[i, j]
            col -= beta_price[r] * (member_price[j] if member & own & on[j] else full[j])
            col -= beta_time[r] * lev[4, j]
            if novelty_risk:
                col -= novelty_risk * (1.0 - tried[r, j])
            col += inertia_current if inertia & own else 0.0
            c = col if known[r, j] & active[j] & ~(exclude_current & own) else -np.inf
            w[i, j] = c
            m = c if c > m else m
        if not np.isfinite(m):
            m = 0.0
        for j in range(k):
            w[i, j] = w[i, j] - m
        w[i, k] = outside - m


@accel.jit
def _pick_nb(w, u, rows, firm, points, lev):  # pragma: no cover - compiled
    """Inverse-CDF pick over exp-weights ``w`` and the price paid (numba; the numpy
    :func:`logit_choice` and :func:`sim.loyalty.member_price` are the reference).

    The running sums are non-decreasing, so the first j with u·Σ < Σ_{k≤j} is the number
    of j with Σ_{k≤j} ≤ u·Σ: counted without branches."""
    n, k = rows.size, w.shape[1] - 1
    pick = np.empty(n, np.int64)
    paid = np.empty(n)
    full = lev[0]
    member_price = lev[0] * (1.0 - lev[1])
    on = lev[2] != 0.0
    for i in range(n):
        total = 0.0
        for j in range(k + 1):
            total += w[i, j]
        target = u[i] * total
        acc = 0.0
        c = 0
        for j in range(k):
            acc += w[i, j]
            c += acc <= target
        ok = (c < k) & (total > 0)
        pick[i] = c if ok else -1
        j = c if ok else 0
        r = rows[i]
        p = member_price[j] if (firm[r] == j) & (points[r] >= 1) & on[j] else full[j]
        paid[i] = p if ok else 0.0
    return pick, paid


@accel.jit
def _purchase_nb(aware, active, u, purchase_prob, status, lapsed):  # pragma: no cover - compiled
    """(known, shopper) of the purchase stage in one pass (numba; the stage's numpy code
    is the reference)."""
    n, k = aware.shape
    known = np.empty((n, k), np.bool_)
    shopper = np.empty(n, np.int64)
    m = 0
    for i in range(n):
        any_known = False
        for j in range(k):
            kn = aware[i, j] & active[j]
            known[i, j] = kn
            any_known |= kn
        shopper[m] = i  # branch-free: kept only when it shops
        m += (u[i] < purchase_prob[i]) & (status[i] != lapsed) & any_known
    return known, shopper[:m].copy()


class PurchaseStage(Stage):
    """Purchase occasions: who, not lapsed and knowing an active firm, shops this period."""

    name = "purchase"
    stream = "purchase"

    def __call__(self, s: PeriodState) -> None:
        pop = s.pop
        if accel.enabled():
            u = s.rng.random(s.n)
            s.known, s.shopper = _purchase_nb(
                pop.aware, s.L["active"], u, pop.purchase_prob, pop.status, LAPSED
            )
            return
        s.known = known = pop.aware & s.L["active"][None, :]
        knows_any = np.zeros(s.n, bool)
        for j in range(s.k):
            knows_any |= known[:, j]
        u = s.rng.random(s.n)
        s.shopper = np.nonzero((u < pop.purchase_prob) & (pop.status != LAPSED) & knows_any)[0]


@accel.jit
def _bought_nb(shopper, choice, paid, price, firm):  # pragma: no cover - compiled
    """The buyers among the shoppers, their firm, price paid, list price and previous firm
    in one pass (numba; the choice stage's numpy compaction is the reference)."""
    n = 0
    for i in range(choice.size):
        n += choice[i] >= 0
    buyers = np.empty(n, shopper.dtype)
    bf = np.empty(n, np.int64)
    paid_b, list_price, prev = np.empty(n), np.empty(n), np.empty(n, np.int64)
    m = 0
    for i in range(choice.size):
        c = choice[i]
        if c >= 0:
            b = shopper[i]
            buyers[m], bf[m], paid_b[m], list_price[m], prev[m] = b, c, paid[i], price[c], firm[b]
            m += 1
    return buyers, bf, paid_b, list_price, prev


class ChoiceStage(Stage):
    """Choice: logit over known firms and buying nothing, with inertia; new relationships."""

    name = "choice"
    stream = "choice"

    def __call__(self, s: PeriodState) -> None:
        pop, L, shopper = s.pop, s.L, s.shopper
        s.gamma = switching_costs(s.model, L)
        u = s.rng.random(s.n)[shopper]
        cp = s.params.choice
        outside = cp.outside_utility if cp.outside_option else None
        choice, paid = choose(s.model, shopper, L, s.gamma, s.known, None, outside, u)
        if accel.enabled():
            buyers, bf, s.paid, s.list_price, prev = _bought_nb(
                shopper, choice, paid, L["price"], pop.firm
            )
        else:
            bought = choice >= 0
            buyers, bf, s.paid = shopper[bought], choice[bought], paid[bought]
            s.list_price = L["price"][bf]
            prev = pop.firm[buyers].astype(np.int64)
        s.buyers, s.buyer_firm = buyers, bf
        s.new_relationship = new = prev != bf
        start_relationships(s, buyers[new], bf[new], prev[new], how="choice")
