"""Capacity ("warranty" value, seed 004): overload degrades service and adds waiting.

With D_j purchases demanded and capacity C_j, the load is L_j = D_j / C_j. Above 1,
every customer gets a share of the attention:

    service factor f_j = min(1, L_j^(−θ)),   waiting w_j = max(0, L_j − 1)

Experienced service is s_j · f_j (+ noise) and waiting lowers experienced performance
(see :mod:`sim.experience`). Customers see last period's waiting in their choice.
"""

from __future__ import annotations

import numpy as np

from .stages import PeriodState, Stage

__all__ = ["CapacityStage", "load_effects"]


def load_effects(demand: np.ndarray, capacity: np.ndarray, service_elasticity: float):
    """Return (load, service_factor, wait) per firm. ``capacity`` = inf means unlimited;
    ``service_elasticity`` is θ_c."""
    theta = service_elasticity
    if not np.isfinite(capacity).any():  # every firm unlimited: no load, no effect
        return np.zeros(demand.size), np.ones(demand.size), np.zeros(demand.size)
    with np.errstate(divide="ignore", invalid="ignore"):
        load = np.where(
            np.isfinite(capacity),
            np.where(
                capacity > 0,
                demand / np.where(capacity > 0, capacity, 1.0),
                np.where(demand > 0, np.inf, 0.0),
            ),
            0.0,
        )
    over = load > 1.0
    factor = np.ones_like(load, dtype=float)
    factor[over] = np.power(load[over], -theta)
    wait = np.where(over, np.minimum(load - 1.0, 1e6), 0.0)
    return load, factor, wait


class CapacityStage(Stage):
    """Capacity: purchases against capacity give each firm's service factor and waiting."""

    name = "capacity"

    def __call__(self, s: PeriodState) -> None:
        k = s.k
        s.demand = np.bincount(s.buyer_firm, minlength=k).astype(float)
        cp = s.params.capacity
        if cp.enabled:
            load, factor, wait = load_effects(s.demand, s.L["capacity"], cp.service_elasticity)
        else:
            load, factor, wait = np.zeros(k), np.ones(k), np.zeros(k)
        s.load, s.service_factor, s.wait = load, factor, wait
        s.fl["load"], s.fl["wait"] = load, wait
