"""Independent cascades on the model's social network, and their classic theory.

Independent-cascade mode (Goldenberg, Libai & Muller 2001; Kempe, Kleinberg & Tardos
2003): seed customers are convinced at generation 0; every customer convinced at
generation g gets one chance to convince each of its neighbours, each succeeding with
probability β independently; those convinced form generation g + 1. The cascade stops
when a generation convinces nobody new. On an Erdős–Rényi graph of mean degree c (the
model's ``random`` network), this is bond percolation with transmissibility β:

- below the threshold (β c < 1) a cascade from one random seed is a branching process
  with Poisson(β c) offspring, of mean size ⟨s⟩ = 1 / (1 − β c)
  (:func:`mean_cascade_size`);
- above it (β c > 1) a giant cascade reaching a share S of the population appears, with
  S = 1 − exp(−β c S) (:func:`giant_cascade_share`); a single seed starts one with
  probability S as well.

:func:`independent_cascade` runs the mode on any :class:`~sim.network.Network` (the
complete graph included) with a given random stream, vectorised generation by
generation; :func:`cascade_sizes_from_random_seeds` gives the size distribution.

In the market model the mode is a stage, :class:`IndependentCascadeStage` (added with
``MarketModel(stages=[IndependentCascadeStage(beta=0.1)])`` or from a scenario under
``[stages.cascade]``): each customer who started a relationship with firm j in the last
period gets one chance per tie to make an unaware neighbour aware of j, with
probability β; the neighbour learns of j by word of mouth from that customer (its
acquisition, if it follows, is attributed to it, so cascades are influence trees).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .params import P
from .population import CUSTOMER, VIA_WOM
from .stages import PeriodState, Stage, register

__all__ = [
    "CascadeParams",
    "IndependentCascadeStage",
    "independent_cascade",
    "cascade_sizes_from_random_seeds",
    "mean_cascade_size",
    "giant_cascade_share",
]


def independent_cascade(network, beta: float, seeds, rng: np.random.Generator) -> np.ndarray:
    """Run one independent cascade; return the generation at which each customer was
    convinced (-1: never).

    Args:
        network: a :class:`~sim.network.Network` (CSR ties) or
            :class:`~sim.network.CompleteNetwork`.
        beta: probability that one convinced customer convinces one neighbour, in [0, 1].
        seeds: customers convinced at generation 0.
        rng: the random stream (one uniform number per tie tried, or per neighbour
            drawn on the complete graph).

    Returns:
        int array of length ``network.n``.

    Raises:
        ValueError: ``beta`` outside [0, 1].

    Examples:
        >>> import numpy as np
        >>> from sim.network import build_network
        >>> g = build_network("random", 1000, 4, 0.0, np.random.default_rng(0))
        >>> gen = independent_cascade(g, 0.0, [0], np.random.default_rng(1))
        >>> int((gen >= 0).sum())
        1
    """
    if not 0.0 <= beta <= 1.0:
        raise ValueError(f"independent_cascade: beta = {beta!r}; allowed: 0 to 1")
    n = int(network.n)
    gen = np.full(n, -1, np.int64)
    front = np.unique(np.asarray(seeds, dtype=np.int64))
    gen[front] = 0
    g = 0
    while front.size:
        g += 1
        _, tgt = try_ties(network, front, beta, rng)
        tgt = np.unique(tgt[gen[tgt] < 0])
        gen[tgt] = g
        front = tgt
    return gen


def try_ties(network, front: np.ndarray, beta: float, rng: np.random.Generator):
    """Each customer of ``front`` tries each of its ties once, succeeding with probability
    ``beta``. Returns (sender, target) of the successes.

    On a stored network one uniform number is drawn per tie; on the implicit complete
    graph the number of successes per sender is binomial(N − 1, β) and the targets are
    uniform among the others."""
    n = int(network.n)
    if getattr(network, "implicit", False):
        k = rng.binomial(max(n - 1, 0), beta, size=front.size)
        sender = np.repeat(front, k)
        pick = (rng.random(sender.size) * (n - 1)).astype(np.int64)
        return sender, pick + (pick >= sender)
    indptr, indices = network.indptr, network.indices
    deg = (indptr[front + 1] - indptr[front]).astype(np.int64)
    start = np.repeat(indptr[front].astype(np.int64), deg)
    offs = np.arange(int(deg.sum())) - np.repeat(np.cumsum(deg) - deg, deg)
    nb = indices[start + offs].astype(np.int64)
    ok = rng.random(nb.size) < beta
    return np.repeat(front, deg)[ok], nb[ok]


def cascade_sizes_from_random_seeds(
    network, beta: float, runs: int, rng: np.random.Generator
) -> np.ndarray:
    """Sizes (customers convinced, the seed included) of ``runs`` cascades, each from one
    seed drawn uniformly."""
    seeds = rng.integers(0, network.n, size=int(runs))
    return np.array([int((independent_cascade(network, beta, [s], rng) >= 0).sum()) for s in seeds])


def mean_cascade_size(beta: float, mean_degree: float) -> float:
    """Branching-process mean size 1 / (1 − β c) below the threshold (inf at or above it)."""
    r = beta * mean_degree
    return float("inf") if r >= 1.0 else 1.0 / (1.0 - r)


def giant_cascade_share(beta: float, mean_degree: float, tol: float = 1e-12) -> float:
    """S solving S = 1 − exp(−β c S) (0 at or below the threshold β c = 1)."""
    r = beta * mean_degree
    if r <= 1.0:
        return 0.0
    S = 1.0
    for _ in range(10_000):
        new = 1.0 - np.exp(-r * S)
        if abs(new - S) < tol:
            break
        S = new
    return float(S)


@dataclass
class CascadeParams:
    """Parameters of the independent-cascade stage."""

    beta: float = P(
        0.1,
        "probability per tie",
        0.0,
        1.0,
        "Goldenberg, Libai & Muller 2001; Kempe, Kleinberg & Tardos 2003 (independent cascades)",
        "β: chance that a newly convinced customer convinces one neighbour (once per tie).",
    )


@register
class IndependentCascadeStage(Stage):
    """Independent cascade: each new customer gets one chance per tie to make a neighbour aware.

    Customers who started a relationship with a firm in the last period try each tie once;
    an unaware neighbour reached (probability β) learns of the firm by word of mouth from
    them (``aware_via`` = word of mouth, ``aware_src`` = the new customer), forms a first
    expectation and may buy at its next purchase occasion.
    """

    name = "cascade"
    after = "awareness"
    Params = CascadeParams

    def __call__(self, s: PeriodState) -> None:
        pop = s.pop
        new = np.nonzero((pop.status == CUSTOMER) & (pop.since == s.t - 1))[0]
        if not new.size:
            return
        sender, tgt = try_ties(s.model.network, new, self.params.beta, s.rng)
        f = pop.firm[sender].astype(np.int64)
        ok = ~pop.aware[tgt, f] & s.L["active"][f]
        sender, tgt, f = sender[ok], tgt[ok], f[ok]
        key, first = np.unique(tgt * s.k + f, return_index=True)  # one source per pair
        sender, tgt, f = sender[first], tgt[first], f[first]
        if not tgt.size:
            return
        from .expectations import first_expectations

        pop.aware[tgt, f] = True
        pop.aware_via[tgt, f] = VIA_WOM
        pop.aware_src[tgt, f] = sender
        first_expectations(s, tgt, f)
        del key
