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
from .strategies.fixed import Fixed

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
    advertised level) and ``active`` (entered the market).

    Levers rarely change, so the arrays are kept and rebuilt only when a lever, a
    firm's entry or ``loyalty.enabled`` differs from the last call (however it was
    changed: :meth:`~sim.agents.Firm.set_lever`, a timeline event or a direct edit).
    The arrays are read-only; the dict is a fresh one each call.

    Examples:
        >>> from sim import MarketModel
        >>> m = MarketModel(seed=1)
        >>> float(lever_arrays(m)["price"][0]) == m.firms[0].price
        True
        >>> m.firms[0].set_lever("price", 1.2)
        >>> float(lever_arrays(m)["price"][0])
        1.2
    """
    key = (
        model.params.loyalty.enabled,
        model.mean_w_quality,
        *[(f.active, *vars(f.levers).values()) for f in model.firms],
    )
    cached = model.__dict__.get("_lever_cache")
    if cached is None or cached[0] != key:
        arrays = _build_lever_arrays(model)
        for a in arrays.values():
            a.flags.writeable = False
        cached = model.__dict__["_lever_cache"] = (key, arrays)
    return dict(cached[1])


def _build_lever_arrays(model: MarketModel) -> dict[str, np.ndarray]:
    """The arrays of :func:`lever_arrays`, built from the firms' levers."""
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
                if getattr(firm.policy.decide, "__func__", None) is Fixed.decide:
                    continue  # keeps every lever and observes nothing (unless decide is replaced)
                obs = model.observe(firm)
                for lever, value in (firm.policy.decide(firm, obs) or {}).items():
                    if lever not in LEVERS:
                        raise ValueError(f"policy {firm.policy!r} set unknown lever {lever!r}")
                    if getattr(firm.levers, lever) != value:
                        firm.set_lever(lever, value, source=f"policy {firm.policy.name}")
        s.L = lever_arrays(model)
