"""Expectations: formed from promises, own experience and word of mouth.

For each customer i and firm j:

- at first awareness: E_ij = promise_j + σ₀ ε
- after buying from j with perceived performance P:   E_ij ← E_ij + α_e (P − E_ij)
- word of mouth heard (total weight W_ij, weighted mean content M̄_ij):
  E_ij ← E_ij + (1 − (1 − ψ)^W_ij) (M̄_ij − E_ij)
- every period, for every firm the customer knows: E_ij ← E_ij + α_p (promise_j − E_ij)

An honest firm's promise is its true mean composite performance; over-promising sets it
higher, which raises expectations and so disappointment (seed 000).
"""

from __future__ import annotations

import numpy as np

from . import accel
from .stages import PeriodState, Stage

__all__ = ["ExpectationStage", "first_expectations", "update_expectations"]


def first_expectations(s: PeriodState, rows: np.ndarray, cols: np.ndarray) -> None:
    """E_ij = promise_j + σ₀ ε for customers ``rows`` newly aware of firms ``cols``.

    The noise comes from the ``awareness`` stream whichever stage makes the customer
    aware (marketing, imitation or word of mouth).
    """
    noise = s.params.expectations.initial_noise
    z = s.streams["awareness"].standard_normal(rows.size)
    s.pop.expect[rows, cols] = s.L["promise"][cols] + noise * z


def update_expectations(
    expect,
    aware,
    *,
    buyers,
    buyer_firm,
    perf,
    alpha_e,
    wom_weight_sum,
    wom_content_sum,
    psi,
    promise,
    alpha_p,
):
    """Apply experience, word-of-mouth and promise pulls in place."""
    if buyers.size and alpha_e > 0:
        e = expect[buyers, buyer_firm]
        expect[buyers, buyer_firm] = e + alpha_e * (perf - e)
    if wom_weight_sum is not None and psi > 0:
        heard = wom_weight_sum > 0
        if heard.any():
            idx = np.nonzero(heard)
            w = wom_weight_sum[idx]
            mean = wom_content_sum[idx] / w
            pull = 1.0 - np.power(1.0 - psi, w)
            expect[idx] += pull * (mean - expect[idx])
    if alpha_p > 0:
        for j in range(expect.shape[1]):  # column by column: K is small
            col = expect[:, j]
            pull = promise[j] - col
            pull *= alpha_p
            col += np.where(aware[:, j], pull, 0.0)


def _update_compiled(
    expect,
    aware,
    active,
    *,
    buyers,
    buyer_firm,
    perf,
    alpha_e,
    wom_weight_sum,
    wom_content_sum,
    psi,
    promise,
    alpha_p,
    wom_heard=None,
):
    """:func:`update_expectations` with ``aware & active`` and the three pulls fused in one
    compiled pass (the reference is :func:`update_expectations`); the word-of-mouth pull
    1 − (1 − ψ)^W stays in numpy. ``wom_heard`` (flat pairs r·K + j, W, C; each pair
    once) may stand for the dense sums."""
    idx, pull, mean = _EMPTY_I, _EMPTY_F, _EMPTY_F
    if wom_heard is None and wom_weight_sum is not None:
        at = np.flatnonzero(wom_weight_sum > 0)
        wom_heard = (at, wom_weight_sum.reshape(-1)[at], wom_content_sum.reshape(-1)[at])
    if wom_heard is not None and psi > 0:
        idx, w, c = wom_heard
        mean = c / w
        pull = 1.0 - np.power(1.0 - psi, w)
    if alpha_e <= 0:
        buyers = _EMPTY_I
    _pull_jit(
        expect, aware, active, buyers, buyer_firm, perf, alpha_e, idx, pull, mean, promise, alpha_p
    )


_EMPTY_I, _EMPTY_F = np.empty(0, np.int64), np.empty(0)


@accel.jit
def _pull_jit(
    expect, aware, active, buyers, bf, perf, alpha_e, idx, pull, mean, promise, alpha_p
):  # pragma: no cover - compiled; the reference is update_expectations
    n, k = expect.shape
    for m in range(buyers.size):
        i, j = buyers[m], bf[m]
        e = expect[i, j]
        expect[i, j] = e + alpha_e * (perf[m] - e)
    for m in range(idx.size):
        i, j = idx[m] // k, idx[m] % k
        e = expect[i, j]
        expect[i, j] = e + pull[m] * (mean[m] - e)
    if alpha_p > 0:
        for i in range(n):
            for j in range(k):
                e = expect[i, j]
                step = (promise[j] - e) * alpha_p
                expect[i, j] = e + (step if aware[i, j] and active[j] else 0.0)


class ExpectationStage(Stage):
    """Expectations: pulled towards own experience, what was heard and the promises."""

    name = "expectations"
    section = "expectations"

    def __call__(self, s: PeriodState) -> None:
        xp, pop, L = s.params.expectations, s.pop, s.L
        kw = {
            "buyers": s.buyers,
            "buyer_firm": s.buyer_firm,
            "perf": s.perf,
            "alpha_e": xp.experience_weight,
            "wom_weight_sum": s.wom_weight_sum,
            "wom_content_sum": s.wom_content_sum,
            "psi": xp.wom_weight,
            "promise": L["promise"],
            "alpha_p": xp.promise_weight,
        }
        if accel.enabled():
            _update_compiled(pop.expect, pop.aware, L["active"], wom_heard=s.wom_heard, **kw)
        else:
            update_expectations(pop.expect, pop.aware & L["active"][None, :], **kw)
