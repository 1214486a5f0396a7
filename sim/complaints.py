"""Complaints and their handling.

A buyer with a problem (a shortfall E − P above the problem threshold δ) complains
with probability

    c_i = e_j · c_max · (1 − exp(−(E − P) / d₀))

(e_j: how easy firm j makes complaining). The firm resolves a complaint with
probability r_j; a resolved one is quick with probability v_j, otherwise it is resolved
``late_delay`` periods later. Handling undoes part of the shortfall's whole effect on the
transaction's satisfaction: ℓ = (κ_P + λ⁻) · min(P − E, 0), what the argument z of tanh
lost because performance fell short of the expectation (see :mod:`sim.satisfaction`):

    x' = tanh( z − r_o · ℓ  +  π · [quick and first failure] )

with r_unresolved < r_late < r_quick (r_quick = 1: as if the expectation had been met).
π is the recovery paradox (0 by default: it shows on satisfaction but not reliably on
behaviour, de Matos et al. 2007; first failures only, Maxham & Netemeyer 2002). A late
resolution acts first as unresolved; when it arrives the customer re-values the
remembered incident with r_late (see :func:`sim.satisfaction.revise`). A silent customer
keeps x = tanh(z). So, for the same shortfall, remembered satisfaction (and with it
repurchase and word of mouth) is ordered: silent < unresolved < resolved late < quick.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "complaint_probability",
    "recover",
    "recovery_share",
    "SILENT",
    "QUICK",
    "LATE",
    "UNRESOLVED",
    "OUTCOME_NAMES",
    "record_problems",
]

SILENT, QUICK, LATE, UNRESOLVED = 0, 1, 2, 3
OUTCOME_NAMES = {
    SILENT: "silent",
    QUICK: "resolved_quick",
    LATE: "resolved_late",
    UNRESOLVED: "unresolved",
}


def complaint_probability(shortfall, ease, max_prob, scale, threshold=0.0):
    """c_i = e_j · c_max · (1 − exp(−(E − P)/d₀)) for a problem (E − P > δ, δ =
    ``threshold``), 0 otherwise: customers complain only about problems."""
    return (
        ease
        * max_prob
        * (1.0 - np.exp(-np.maximum(shortfall, 0.0) / scale))
        * (shortfall > max(threshold, 0.0))
    )


def recovery_share(outcome, *, r_unresolved, r_late, r_quick, interim=True):
    """r_o per outcome (LATE gets r_unresolved while pending when ``interim``)."""
    return np.select(
        [outcome == QUICK, outcome == LATE, outcome == UNRESOLVED],
        [r_quick, r_unresolved if interim else r_late, r_unresolved],
        0.0,
    )


def recover(z, loss, outcome, first_failure, *, r_unresolved, r_late, r_quick, paradox):
    """x' after the complaint outcome (for LATE: the interim, unresolved value)."""
    r = recovery_share(outcome, r_unresolved=r_unresolved, r_late=r_late, r_quick=r_quick)
    bonus = np.where((outcome == QUICK) & first_failure, paradox, 0.0)
    return np.tanh(z - r * loss + bonus)


def record_problems(recorder, period, buyers, firm, shortfall, problem, outcome) -> None:
    """Log one ``problem`` event per buyer with a problem experience (shortfall above δ)
    or a complaint, silent ones included: value = shortfall E − P, detail = outcome name
    (``silent``, ``resolved_quick``, ``resolved_late``, ``unresolved``).

    Args:
        recorder: the model's :class:`~sim.recorder.Recorder`.
        period: the period.
        buyers: customer ids of this period's buyers.
        firm: the firm each bought from.
        shortfall: E − P per buyer.
        problem: bool per buyer, shortfall above the problem threshold δ.
        outcome: complaint outcome code per buyer (SILENT when no complaint).
    """
    sel = problem | (outcome != SILENT)
    if not sel.any():
        return
    names = np.array([OUTCOME_NAMES[c] for c in range(4)], dtype=object)
    recorder.add_events(
        period, "problem", buyers[sel], firm[sel], value=shortfall[sel], detail=names[outcome[sel]]
    )
