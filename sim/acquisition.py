"""Awareness of firms: external influence (marketing) and internal influence (imitation).

For a customer i not yet aware of an active firm j, the probability of learning of it in a
period is

    a_ij = 1 − (1 − p_j) · (1 − q / k_i)^(n_ij)

where p_j is the firm's marketing reach (external influence), q the imitation strength
(internal influence), k_i the customer's degree and n_ij the number of i's neighbours
who are customers of j. On a complete graph of N nodes with one firm, n_ij / k_i is the
adopted fraction F (up to i itself), so a_ij ≈ p + q·F for small p, q and q/N: the hazard
of the Bass (1969) model, dF/dt = (p + qF)(1 − F). See docs/model.md, "Bass reduction".
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

__all__ = ["awareness_probability", "adopter_counts"]


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
