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

__all__ = ["update_expectations"]


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
