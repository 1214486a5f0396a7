"""Awareness of firms: external influence (marketing) and internal influence (imitation).

For a customer i not yet aware of an active firm j, the probability of learning of it in a
period is, with ``acquisition.hazard``:

- ``"product"`` (default): a_ij = 1 − (1 − p_j) · (1 − q / k_i)^(n_ij): marketing and each
  adopter neighbour are independent chances;
- ``"bass"``: a_ij = min(1, p_j + q · n_ij / k_i): the hazard of the Bass (1969) model with
  the adopted share of i's contacts in place of the adopted share of the market.

p_j is the firm's marketing reach (external influence), q the imitation strength
(internal influence), k_i the customer's degree and n_ij the number of i's neighbours
who are customers of j. On a complete graph n_ij / k_i is the adopted fraction F (up to i
itself), so with one firm that every aware customer buys (no outside option, a purchase
every period, no churn) the ``"bass"`` hazard gives exactly the discrete Bass recursion
F_{t+1} = F_t + (p + q F_t)(1 − F_t) (:func:`bass_curve`), and the ``"product"`` one
a_ij ≈ p + q·F only for small p and q. On a ring (k_i = 2) the ``"bass"`` hazard follows
Fibich & Gibori (2010) (:func:`ring_curve`); every network lies between the two-node
curve (:func:`two_node_curve`, slowest) and the complete graph (fastest).
See docs/model.md, "Bass reduction".

The awareness stage draws an (N, K) block of uniforms from the ``awareness`` stream every
period (common random numbers); a newly aware customer forms a first expectation
(:func:`sim.expectations.first_expectations`). This module also books new relationships
(:func:`start_relationships`): the acquisition channel (how the customer learnt of the
firm, or ``switch``, ``referral``, ``winback``), the loss of the previous firm and the
negative word of mouth that preceded it.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from . import accel
from .expectations import first_expectations
from .population import (
    CUSTOMER,
    VIA_IMITATION,
    VIA_INITIAL,
    VIA_MARKETING,
    VIA_REFERRAL,
    VIA_WOM,
)
from .stages import PeriodState, Stage

__all__ = [
    "ACQ_CHANNELS",
    "AwarenessStage",
    "HAZARDS",
    "adopter_counts",
    "awareness_probability",
    "bass_curve",
    "imitation_sources",
    "negative_source",
    "ring_curve",
    "ring_curve_continuous",
    "start_relationships",
    "two_node_curve",
]

#: awareness hazard forms
HAZARDS = ("product", "bass")

#: acquisition channels (column suffixes acq_<channel> in the firm table)
ACQ_CHANNELS = ("known", "marketing", "imitation", "wom", "referral", "switch", "winback")
_VIA_TO_CHANNEL = {
    VIA_INITIAL: "known",
    VIA_MARKETING: "marketing",
    VIA_IMITATION: "imitation",
    VIA_WOM: "wom",
    VIA_REFERRAL: "referral",
}


def adopter_counts(
    adj: sp.csr_array, firm: np.ndarray, n_firms: int, rows: np.ndarray | None = None
) -> np.ndarray:
    """n_ij: number of i's neighbours who are customers of firm j, shape (N, K) (or
    (len(rows), K) for the given rows only)."""
    onehot = np.zeros((firm.size, n_firms))
    has = firm >= 0
    onehot[np.nonzero(has)[0], firm[has]] = 1.0
    if rows is not None and rows.size < firm.size:
        adj = adj[rows]
    return adj @ onehot  # sparse @ dense: one pass over the ties


def awareness_probability(
    aware: np.ndarray,
    active: np.ndarray,
    marketing: np.ndarray,
    counts: np.ndarray | None,
    degree: np.ndarray,
    imitation: float,
    hazard: str = "product",
) -> tuple[np.ndarray, np.ndarray]:
    """Return (a, p_ext): the awareness probability a_ij and its external part p_j.

    ``counts`` is None when internal influence is switched off; a zero ``marketing``
    vector switches off external influence. ``hazard``: ``"product"`` or ``"bass"``
    (module docstring).
    """
    n, k = aware.shape
    p_ext = np.broadcast_to(marketing[None, :], (n, k))
    if counts is not None and imitation > 0:
        with np.errstate(divide="ignore", invalid="ignore"):
            per_tie = np.where(degree > 0, imitation / np.maximum(degree, 1), 0.0)
        if hazard == "bass":
            a = np.minimum(1.0, p_ext + per_tie[:, None] * counts)
        else:
            stay_unaware = np.power(1.0 - per_tie[:, None], counts)
            a = 1.0 - (1.0 - p_ext) * stay_unaware
    else:
        a = np.array(p_ext, dtype=float)
    a = np.where(aware | ~active[None, :], 0.0, a)
    return a, p_ext


class AwarenessStage(Stage):
    """Awareness: marketing (external) and imitation (internal influence) make firms known."""

    name = "awareness"
    stream = "awareness"

    def __call__(self, s: PeriodState) -> None:
        pop, L, k, acq = s.pop, s.L, s.k, s.params.acquisition
        active = L["active"]
        marketing = np.where(active, L["marketing"], 0.0) if acq.marketing_enabled else np.zeros(k)
        u = s.rng.random((s.n, k))  # drawn every period (common random numbers)
        unaware = np.zeros(s.n, bool)
        for j in range(k):
            if active[j]:
                unaware |= ~pop.aware[:, j]
        rows_u = np.nonzero(unaware)[0]
        if not rows_u.size:
            return
        counts = (
            s.model.network.adopter_counts(pop.firm, k, rows_u)
            if acq.imitation_enabled and acq.imitation > 0
            else None
        )
        a, p_ext = awareness_probability(
            pop.aware[rows_u],
            active,
            marketing,
            counts,
            s.model.degree[rows_u],
            acq.imitation,
            acq.hazard,
        )
        uu = u[rows_u]
        r_sub, cols = np.nonzero(uu < a)
        if r_sub.size:
            rows = rows_u[r_sub]
            pop.aware[rows, cols] = True
            via = np.where(uu[r_sub, cols] < p_ext[r_sub, cols], VIA_MARKETING, VIA_IMITATION)
            pop.aware_via[rows, cols] = via
            imi = via == VIA_IMITATION  # attributed to an adopter neighbour (cascades)
            pop.aware_src[rows, cols] = -1
            pop.aware_src[rows[imi], cols[imi]] = s.model.network.adopter_sources(
                rows[imi], cols[imi], pop.firm, s.streams["attribution"]
            )
            first_expectations(s, rows, cols)


def negative_source(s: PeriodState, who: np.ndarray, firm: np.ndarray) -> np.ndarray:
    """The talker whose negative message about ``firm`` each customer heard within the
    attribution window (``wom.memory_window``), or -1."""
    pop = s.pop
    ok = (pop.neg_firm[who] == firm) & (s.t - pop.neg_t[who] <= s.params.wom.memory_window)
    return np.where(ok, pop.neg_src[who], -1)


#: acquisition channel code (index in ACQ_CHANNELS) of each aware_via code, and the names
_VIA_CHANNEL = np.array([ACQ_CHANNELS.index(_VIA_TO_CHANNEL[v]) for v in range(5)], np.int64)
_CHANNEL_NAMES = np.array(ACQ_CHANNELS, dtype=object)
_SWITCH = ACQ_CHANNELS.index("switch")


def _channels(via, prev, how: str) -> np.ndarray:
    """Acquisition channel code (index in :data:`ACQ_CHANNELS`) per new customer."""
    if how in ("referral", "winback"):
        return np.full(prev.size, ACQ_CHANNELS.index(how), np.int64)
    channel = _VIA_CHANNEL[via]
    channel[prev >= 0] = _SWITCH
    return channel


def start_relationships(
    s: PeriodState,
    who: np.ndarray,
    to: np.ndarray,
    prev: np.ndarray,
    *,
    how: str,
    referrer: np.ndarray | None = None,
) -> None:
    """``who`` become customers of ``to`` (previous firm ``prev``, -1 for none).

    Books the acquisition by channel (flows ``acq_<channel>``), the previous firm's loss
    (``lost_to_rival``, and ``lost_after_negative_wom`` when a negative message about it
    was heard within the window) and the ``switch`` and ``acquire`` events.

    Args:
        s: the period state.
        who: customer ids.
        to: the new firm of each.
        prev: the previous firm of each (-1: none).
        how: ``choice``, ``churn``, ``referral`` or ``winback``.
        referrer: the referring customer of each (referrals); for ``choice``, the
            customer whose talk or adoption made each aware of the firm, if it came by word
            of mouth or imitation (-1 otherwise), so cascades are influence trees.
    """
    if who.size == 0:
        return
    book = _book_compiled if accel.enabled() else _book
    channel, referrer, neg = book(s, who, to, prev, how, referrer)
    if s.log:
        had = prev >= 0
        if had.any():
            s.event("switch", who[had], prev[had], other_firm=to[had], other=neg, detail=how)
        s.event("acquire", who, to, other_firm=prev, other=referrer, detail=_CHANNEL_NAMES[channel])


def _book(s: PeriodState, who, to, prev, how: str, referrer):
    """Flows and state of :func:`start_relationships` (numpy, the reference).

    Returns:
        (channel code, referrer, negative source of each customer who had a firm).
    """
    pop, k = s.pop, s.k
    via = pop.aware_via[who, to] if how not in ("referral", "winback") else None
    channel = _channels(via, prev, how)
    if how == "choice":  # influence trees: who made the customer aware, if a customer
        src = pop.aware_src[who, to]
        referrer = np.where((via == VIA_WOM) | (via == VIA_IMITATION), src, -1)
    counts = np.bincount(channel * k + to, minlength=len(ACQ_CHANNELS) * k).reshape(-1, k)
    for c in np.nonzero(counts.any(axis=1))[0]:
        s.fl[f"acq_{ACQ_CHANNELS[c]}"] += counts[c]
    had = prev >= 0
    neg = None
    if had.any():
        s.fl["lost_to_rival"] += np.bincount(prev[had], minlength=s.k)
        neg = negative_source(s, who[had], prev[had])
        s.fl["lost_after_negative_wom"] += np.bincount(prev[had][neg >= 0], minlength=s.k)
    pop.firm[who] = to
    pop.status[who] = CUSTOMER
    pop.since[who] = s.t
    pop.points[who] = 0
    pop.lapsed_from[who] = -1
    pop.aware[who, to] = True
    return channel, referrer, neg


#: the flows of the compiled count table's rows: one per channel, then the two losses
_BOOK_FLOWS = (*(f"acq_{c}" for c in ACQ_CHANNELS), "lost_to_rival", "lost_after_negative_wom")


def _book_compiled(s: PeriodState, who, to, prev, how: str, referrer):
    """:func:`_book` through one kernel (same flows, state and returns)."""
    pop = s.pop
    fixed = ACQ_CHANNELS.index(how) if how in ("referral", "winback") else -1
    counts = np.zeros((len(_BOOK_FLOWS), s.k), np.int64)
    channel, ref, neg, used = _book_nb(
        who, to, prev, fixed, how == "choice", s.t, s.params.wom.memory_window,
        pop.aware_via, pop.aware_src, pop.neg_firm, pop.neg_t, pop.neg_src,
        pop.firm, pop.status, pop.since, pop.points, pop.lapsed_from, pop.aware, counts,
    )  # fmt: skip
    for c in used.nonzero()[0]:
        s.fl[_BOOK_FLOWS[c]] += counts[c]
    return channel, ref if how == "choice" else referrer, neg[prev >= 0]


@accel.jit
def _book_nb(
    who, to, prev, fixed, choice, t, window, aware_via, aware_src, neg_firm, neg_t, neg_src,
    firm, status, since, points, lapsed_from, aware, counts,
):  # fmt: skip  # pragma: no cover - compiled
    """:func:`_book` in one pass (numba; the numpy function is the reference): channel,
    referrer and negative source per customer; counts per channel and firm, then lost to
    a rival and lost after negative word of mouth per previous firm (and which rows are
    used); the new state."""
    n, nch = who.size, counts.shape[0] - 2
    channel = np.empty(n, np.int64)
    referrer = np.full(n, -1, np.int64)
    neg = np.full(n, -1, np.int64)
    used = np.zeros(nch + 2, np.bool_)
    for i in range(n):
        w, j, p = who[i], to[i], prev[i]
        if fixed >= 0:
            c = fixed
        else:
            via = aware_via[w, j]
            c = _SWITCH if p >= 0 else _VIA_CHANNEL[via]
            if choice and (via == VIA_WOM or via == VIA_IMITATION):
                referrer[i] = aware_src[w, j]
        channel[i] = c
        counts[c, j] += 1
        used[c] = True
        if p >= 0:
            counts[nch, p] += 1
            used[nch] = True
            if neg_firm[w] == p and t - neg_t[w] <= window:
                neg[i] = neg_src[w]
                counts[nch + 1, p] += 1
                used[nch + 1] = True
        firm[w] = j
        status[w] = CUSTOMER
        since[w] = t
        points[w] = 0
        lapsed_from[w] = -1
        aware[w, j] = True
    return channel, referrer, neg, used


def imitation_sources(
    rows: np.ndarray,
    cols: np.ndarray,
    firm: np.ndarray,
    indptr: np.ndarray,
    indices: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """For each customer ``rows[m]`` who learnt of firm ``cols[m]`` by imitation, the
    neighbour who is that firm's customer and so caused it, drawn uniformly among such
    neighbours (-1 if none). Vectorised over the ties of the given customers.

    Args:
        rows: customers made aware by imitation.
        cols: the firm each learnt of.
        firm: current firm of every customer (-1 none).
        indptr: CSR row pointers of the network.
        indices: CSR column indices of the network.
        rng: the random stream for the draw.

    Returns:
        Source customer id per row, int64.
    """
    out = np.full(rows.size, -1, np.int64)
    if rows.size == 0:
        return out
    deg = (indptr[rows + 1] - indptr[rows]).astype(np.int64)
    grp = np.repeat(np.arange(rows.size), deg)
    start = np.repeat(indptr[rows].astype(np.int64), deg)
    offs = np.arange(grp.size) - np.repeat(np.cumsum(deg) - deg, deg)
    nb = indices[start + offs].astype(np.int64)
    ok = firm[nb] == cols[grp]
    grp, nb = grp[ok], nb[ok]
    u = rng.random(nb.size)
    order = np.lexsort((u, grp))
    g = grp[order]
    first = np.concatenate(([True], g[1:] != g[:-1])) if g.size else np.empty(0, bool)
    out[g[first]] = nb[order][first]
    return out


# --------------------------------------------------------------------------- closed forms
def bass_curve(p: float, q: float, periods: int) -> np.ndarray:
    """The discrete Bass recursion F_{t+1} = F_t + (p + q F_t)(1 − F_t), F_0 = 0
    (the complete graph under the ``"bass"`` hazard). Returns F_0..F_periods."""
    F = np.zeros(int(periods) + 1)
    for t in range(int(periods)):
        F[t + 1] = F[t] + min(1.0, p + q * F[t]) * (1.0 - F[t])
    return F


def _half_line_survival(p: float, w: float, periods: int) -> np.ndarray:
    """G(t) = P(a node of a one-sided chain is not adopted after t periods), each node
    adopting with probability p, or p + w once its one upstream neighbour has adopted.

    Exact in discrete time: the upstream node's adoption period D has the same law, and
    G(t) = Σ_{d ≤ t} P(D = d)(1 − p)^d (1 − p − w)^{t − d} + P(D > t)(1 − p)^t."""
    T = int(periods)
    G = np.ones(T + 1)
    a, b = 1.0 - p, 1.0 - p - w
    for t in range(1, T + 1):
        d = np.arange(1, t)
        pd_ = G[d - 1] - G[d]
        G[t] = float(np.sum(pd_ * a**d * b ** (t - d))) + G[t - 1] * a**t
    return G


def ring_curve(p: float, q: float, periods: int) -> np.ndarray:
    """Adopted share on an infinite ring under the ``"bass"`` hazard (each node adopts
    with probability p + q · m/2, m = adopted neighbours of 2), exactly in discrete time.

    Given a node not yet adopted, its two sides evolve as independent one-sided chains
    (:func:`_half_line_survival` with w = q/2), so with D₁, D₂ their adoption periods,
    1 − f(t) = E Π_{s ≤ t} (1 − p − (q/2)([D₁ < s] + [D₂ < s])). Its continuous-time
    limit is Fibich & Gibori (2010)'s closed form (:func:`ring_curve_continuous`).
    """
    T = int(periods)
    G = _half_line_survival(p, q / 2.0, T)
    pD = np.append(G[:-1] - G[1:], G[T])  # P(D = d) for d = 1..T, then P(D > T)
    d = np.arange(1, T + 2)  # the last entry stands for D > T
    lo = np.minimum(d[:, None], d[None, :])
    hi = np.maximum(d[:, None], d[None, :])
    w = pD[:, None] * pD[None, :]
    la, lb, lc = np.log1p(-p), np.log1p(-p - q / 2.0), np.log1p(-min(p + q, 1.0 - 1e-300))
    f = np.zeros(T + 1)
    for t in range(1, T + 1):
        # periods s ≤ t with no, one and two adopted neighbours at their start
        m1 = np.minimum(lo, t)
        m2 = np.minimum(hi, t)
        f[t] = 1.0 - float(np.sum(w * np.exp(la * m1 + lb * (m2 - m1) + lc * (t - m2))))
    return f


def ring_curve_continuous(p: float, q: float, t: np.ndarray) -> np.ndarray:
    """Fibich & Gibori (2010): the adopted share on the ring in continuous time,
    f(t) = 1 − exp(−(p + q) t + (q/p)(1 − e^{−p t}))."""
    t = np.asarray(t, dtype=float)
    return 1.0 - np.exp(-(p + q) * t + (q / p) * (1.0 - np.exp(-p * t)))


def two_node_curve(p: float, q: float, periods: int) -> np.ndarray:
    """Adopted share of the two-node network under the ``"bass"`` hazard (each node adopts
    with probability p, or p + q once the other has): the slowest of all networks
    (Fibich & Gibori 2010). Exact Markov chain on 0, 1, 2 adopters."""
    x = np.array([1.0, 0.0, 0.0])
    f = np.zeros(int(periods) + 1)
    for t in range(int(periods)):
        a1 = min(1.0, p + q)
        x = np.array(
            [
                x[0] * (1 - p) ** 2,
                x[0] * 2 * p * (1 - p) + x[1] * (1 - a1),
                x[0] * p * p + x[1] * a1 + x[2],
            ]
        )
        f[t + 1] = (x[1] + 2 * x[2]) / 2
    return f
