"""Firm levers: the timeline, the policies, and the per-firm lever arrays the stages use.

At the start of a period, timeline events due by then set levers; then each firm's
policy sees last period's results (:meth:`sim.model.MarketModel.observe`) and may set
levers. The warm-up runs without either. Every stage then reads the levers as arrays
over firms, ``L[name][j]`` (:func:`lever_arrays`).
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import numpy as np

from .agents import LEVERS
from .params import FirmParams
from .stages import PeriodState, Stage

if TYPE_CHECKING:
    from .model import MarketModel

__all__ = ["LeverStage", "lever_arrays", "NUMERIC_LEVERS"]

#: firm parameters read by the stages as float arrays over firms: every ``float`` field of
#: :class:`~sim.params.FirmParams` (optional ones, ``promise`` and ``capacity``, are
#: handled apart)
NUMERIC_LEVERS = tuple(f.name for f in dataclasses.fields(FirmParams) if f.type == "float")


def lever_arrays(model: MarketModel) -> dict[str, np.ndarray]:
    """Every firm parameter as an array over firms, plus ``capacity`` (inf when
    unlimited), ``loyalty`` (a programme runs and loyalty is enabled), ``promise`` (the
    advertised level) and ``active`` (entered the market)."""
    fs = model.firms
    out = {a: np.array([getattr(f.levers, a) for f in fs], dtype=float) for a in NUMERIC_LEVERS}
    out["capacity"] = np.array(
        [np.inf if f.levers.capacity is None else float(f.levers.capacity) for f in fs]
    )
    on = model.params.loyalty.enabled
    out["loyalty"] = np.array([bool(f.levers.loyalty) and on for f in fs])
    out["promise"] = np.array([f.promise_level() for f in fs])
    out["active"] = np.array([f.active for f in fs])
    return out


class LeverStage(Stage):
    """Timeline events of the period apply; then each firm's policy sets its levers."""

    name = "levers"
    stream = "policy"

    def __call__(self, s: PeriodState) -> None:
        model = s.model
        if not s.warming:  # the warm-up runs without timeline events or policies
            model._apply_timeline(s.t)
            for firm in model.firms:
                obs = model.observe(firm)
                for lever, value in (firm.policy.decide(firm, obs) or {}).items():
                    if lever not in LEVERS:
                        raise ValueError(f"policy {firm.policy!r} set unknown lever {lever!r}")
                    if getattr(firm.levers, lever) != value:
                        firm.set_lever(lever, value, source=f"policy {firm.policy.name}")
        s.L = lever_arrays(model)
