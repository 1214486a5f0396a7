"""A period state just after choice and capacity, with random buyers: for comparing a
stage's compiled kernels with its numpy reference."""

from __future__ import annotations

import numpy as np

from sim import MarketModel, ModelParams
from sim.accounts import empty_flows
from sim.levers import lever_arrays
from sim.stages import PeriodState

__all__ = ["buyer_state", "POP_COLUMNS"]

#: the population columns the buying-side stages write
POP_COLUMNS = (
    "satisfaction",
    "peak",
    "last_x",
    "perf_memory",
    "last_firm",
    "last_buy",
    "experienced",
    "tried",
    "expect",
)


def buyer_state(seed: int, memory: str = "exponential") -> PeriodState:
    """The same random state for the same arguments (``s.rng`` included)."""
    rng = np.random.default_rng(seed)
    p = ModelParams()
    p.market.n_customers, p.market.warmup = 300, 0
    p.satisfaction.memory = memory
    p.capacity.enabled = bool(seed % 2)
    m = MarketModel(p, seed=seed)
    pop, n, k = m.pop, m.pop.n, m.n_firms
    pop.expect[:] = rng.normal(0.6, 0.3, (n, k))
    pop.fit[:] = rng.normal(0.0, 0.1, (n, k))
    pop.last_firm[:] = rng.integers(-1, k, n)
    pop.satisfaction[:] = rng.uniform(-1, 1, n)
    pop.peak[:] = rng.uniform(-1, 1, n)
    pop.perf_memory[:] = rng.uniform(0, 1, n)
    s = PeriodState(m, empty_flows(m))
    s.L = lever_arrays(m)
    s.buyers = np.sort(rng.choice(n, int(rng.integers(0, n)), replace=False))
    s.buyer_firm = bf = rng.integers(0, k, s.buyers.size)
    s.paid = s.L["price"][bf] * rng.choice([1.0, 0.9], bf.size)
    s.new_relationship = rng.random(bf.size) < 0.2
    s.service_factor = rng.uniform(0.5, 1.0, k)
    s.wait = rng.choice([0.0, 0.4], k)
    s.rng = np.random.default_rng(seed + 1)
    return s
