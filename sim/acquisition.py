"""Awareness of firms: external influence (marketing) and internal influence (imitation).

For a customer i not yet aware of an active firm j, the probability of learning of it in a
period is

    a_ij = 1 − (1 − p_j) · (1 − q / k_i)^(n_ij)

where p_j is the firm's marketing reach (external influence), q the imitation strength
(internal influence), k_i the customer's degree and n_ij the number of i's neighbours
who are customers of j. On a complete graph of N nodes with one firm, n_ij / k_i is the
adopted fraction F (up to i itself), so a_ij ≈ p + q·F for small p, q and q/N: the hazard
of the Bass (1969) model, dF/dt = (p + qF)(1 − F). See docs/model.md, "Bass reduction".

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
    "adopter_counts",
    "awareness_probability",
    "negative_source",
    "start_relationships",
]

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
) -> tuple[np.ndarray, np.ndarray]:
    """Return (a, p_ext): the awareness probability a_ij and its external part p_j.

    ``counts`` is None when internal influence is switched off; a zero ``marketing``
    vector switches off external influence.
    """
    n, k = aware.shape
    p_ext = np.broadcast_to(marketing[None, :], (n, k))
    if counts is not None and imitation > 0:
        with np.errstate(divide="ignore", invalid="ignore"):
            per_tie = np.where(degree > 0, imitation / np.maximum(degree, 1), 0.0)
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
            adopter_counts(s.model.adjacency, pop.firm, k, rows_u)
            if acq.imitation_enabled and acq.imitation > 0
            else None
        )
        a, p_ext = awareness_probability(
            pop.aware[rows_u], active, marketing, counts, s.model.degree[rows_u], acq.imitation
        )
        uu = u[rows_u]
        r_sub, cols = np.nonzero(uu < a)
        if r_sub.size:
            rows = rows_u[r_sub]
            pop.aware[rows, cols] = True
            pop.aware_via[rows, cols] = np.where(
                uu[r_sub, cols] < p_ext[r_sub, cols], VIA_MARKETING, VIA_IMITATION
            )
            first_expectations(s, rows, cols)


def negative_source(s: PeriodState, who: np.ndarray, firm: np.ndarray) -> np.ndarray:
    """The talker whose negative message about ``firm`` each customer heard within the
    attribution window (``wom.memory_window``), or -1."""
    pop = s.pop
    ok = (pop.neg_firm[who] == firm) & (s.t - pop.neg_t[who] <= s.params.wom.memory_window)
    return np.where(ok, pop.neg_src[who], -1)


def _channels(s: PeriodState, who, to, prev, how: str) -> np.ndarray:
    if how in ("referral", "winback"):
        return np.full(who.size, how, dtype=object)
    via = s.pop.aware_via[who, to]
    channel = np.array([_VIA_TO_CHANNEL[int(c)] for c in range(5)], dtype=object)[via]
    channel[prev >= 0] = "switch"
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
        referrer: the referring customer of each (referrals only).
    """
    if who.size == 0:
        return
    pop = s.pop
    channel = _channels(s, who, to, prev, how)
    for c in ACQ_CHANNELS:
        sel = channel == c
        if sel.any():
            s.fl[f"acq_{c}"] += np.bincount(to[sel], minlength=s.k)
    had = prev >= 0
    if had.any():
        s.fl["lost_to_rival"] += np.bincount(prev[had], minlength=s.k)
        neg = negative_source(s, who[had], prev[had])
        s.fl["lost_after_negative_wom"] += np.bincount(prev[had][neg >= 0], minlength=s.k)
        s.event("switch", who[had], prev[had], other_firm=to[had], other=neg, detail=how)
    s.event("acquire", who, to, other_firm=prev, other=referrer, detail=channel)
    pop.firm[who] = to
    pop.status[who] = CUSTOMER
    pop.since[who] = s.t
    pop.points[who] = 0
    pop.lapsed_from[who] = -1
    pop.aware[who, to] = True
