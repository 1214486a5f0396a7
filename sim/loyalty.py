"""Loyalty programmes.

A member (a customer of a firm running a programme) earns a point per purchase. Points
raise the switching cost,

    γ_points = Γ · min(points / cap, 1),

and repeat purchases (points ≥ 1) get the programme discount: p_ij = p_j (1 − δ_L,j). The
discount is the programme's variable cost; it also has a fixed cost per period.

The switching cost of a customer at its current firm is γ_i = γ (choice inertia) +
the firm's structural switching cost + γ_points.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from . import accel

if TYPE_CHECKING:
    from .model import MarketModel

__all__ = ["switching_cost", "switching_costs", "member_price"]


def switching_cost(
    firm, points, *, inertia, firm_switching_cost, loyalty_on, points_gamma, points_cap
):
    """γ_i for every customer (0 for customers without a firm)."""
    if accel.enabled():
        out = np.empty(firm.size)
        _switching_cost_nb(
            firm, points, inertia, firm_switching_cost, loyalty_on, points_gamma, points_cap, out
        )
        return out
    has = firm >= 0
    f = np.where(has, firm, 0)
    g = inertia + firm_switching_cost[f]
    if points_gamma > 0:
        g = g + np.where(loyalty_on[f], points_gamma * np.minimum(points / points_cap, 1.0), 0.0)
    return np.where(has, g, 0.0)


@accel.jit
def _switching_cost_nb(
    firm, points, inertia, firm_switching_cost, loyalty_on, points_gamma, points_cap, out
):  # pragma: no cover - compiled
    """:func:`switching_cost` in one pass (numba; the numpy function is the reference)."""
    for i in range(firm.size):
        f = firm[i]
        if f < 0:
            out[i] = 0.0
            continue
        g = inertia + firm_switching_cost[f]
        if points_gamma > 0:
            g = g + (points_gamma * min(points[i] / points_cap, 1.0) if loyalty_on[f] else 0.0)
        out[i] = g


def member_price(price, discount, loyalty_on, firm, points):
    """(n, K) prices each customer pays: the member discount at its own firm."""
    n = firm.size
    p = np.broadcast_to(price, (n, price.size)).copy()
    member = (firm >= 0) & (points >= 1)
    if member.any():
        rows = np.nonzero(member)[0]
        f = firm[member].astype(np.int64)
        on = loyalty_on[f]
        p[rows[on], f[on]] *= 1.0 - discount[f[on]]
    return p


def switching_costs(model: MarketModel, L: dict[str, np.ndarray]) -> np.ndarray:
    """γ_i of every customer of ``model`` with the firms' levers ``L``."""
    lp, pop = model.params.loyalty, model.pop
    return switching_cost(
        pop.firm,
        pop.points,
        inertia=model.params.choice.inertia,
        firm_switching_cost=L["switching_cost"],
        loyalty_on=L["loyalty"],
        points_gamma=lp.points_switching_cost if lp.enabled else 0.0,
        points_cap=lp.points_cap,
    )
