"""Complaints and their handling.

A buyer with a shortfall (E − P > 0) complains with probability

    c_i = e_j · c_max · (1 − exp(−(E − P) / d₀))

(e_j: how easy firm j makes complaining). The firm resolves a complaint with
probability r_j; a resolved one is quick with probability v_j, otherwise it is resolved
``late_delay`` periods later. Outcomes undo part of the transaction's dissatisfaction,
moving x towards a target:

    x' = x + r_o · max(t_o − x, 0)

with r_unresolved < r_late < r_quick and target t_o = 0, except that a quick resolution
of a customer's *first* failure targets π (the recovery paradox; 0 by default, since it
shows on satisfaction but not reliably on behaviour: de Matos et al. 2007). A late
resolution acts first as unresolved; when it arrives the customer remembers a new
experience x'' = x + r_late · max(−x, 0). The resulting order of satisfaction (and so of
repurchase and word of mouth) is: silent < unresolved < resolved late < resolved quickly.
"""

from __future__ import annotations

import numpy as np

__all__ = ["complaint_probability", "recover", "SILENT", "QUICK", "LATE", "UNRESOLVED", "OUTCOME_NAMES"]

SILENT, QUICK, LATE, UNRESOLVED = 0, 1, 2, 3
OUTCOME_NAMES = {SILENT: "silent", QUICK: "resolved_quick", LATE: "resolved_late", UNRESOLVED: "unresolved"}


def complaint_probability(shortfall, ease, max_prob, scale):
    return ease * max_prob * (1.0 - np.exp(-np.maximum(shortfall, 0.0) / scale)) * (shortfall > 0)


def recover(x, outcome, first_failure, *, r_unresolved, r_late, r_quick, paradox):
    """x' after the complaint outcome (for LATE: the interim, unresolved value)."""
    target = np.where((outcome == QUICK) & first_failure, paradox, 0.0)
    r = np.select([outcome == QUICK, outcome == LATE, outcome == UNRESOLVED],
                  [r_quick, r_unresolved, r_unresolved], 0.0)
    return x + r * np.maximum(target - x, 0.0)
