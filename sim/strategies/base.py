"""The policy interface shared by every firm strategy.

A policy is a small object. The model calls ``decide(firm, observation)`` at the start
of every period (stage 1 of the schedule) with what a real firm could see about the last
period (:meth:`sim.model.MarketModel.observe`); it returns the levers to change (an
empty dict keeps them). Following scikit-learn, the constructor only stores and checks
parameters; everything a policy learns during a run lives in attributes ending in ``_``,
created by :meth:`Policy.reset` (called by :meth:`Policy.bind` when a model is built).

Most strategies implement :meth:`Policy.rule` instead of ``decide``: the base class
collects the firm's own rows period by period and calls ``rule`` once every
``decide_every`` periods of data, with the collected rows in ``observation["window"]``
(so a rule judges a setting by its average over the periods it was in force).
"""

from __future__ import annotations

import dataclasses
import inspect
import math
from typing import Any

import numpy as np

from ..agents import LEVERS
from ..params import FirmParams

__all__ = [
    "Policy",
    "PolicyParameterError",
    "OBSERVABLES",
    "lever_bounds",
    "clip_lever",
    "check_number",
    "check_int",
    "check_levers",
    "unit_cost_per_unit",
    "SEARCHABLE_LEVERS",
]

#: what a policy may look at (values of ``classifier["observes"]``)
OBSERVABLES = ("own", "survey", "rival_prices", "rival_shares", "full_information")


class PolicyParameterError(ValueError, TypeError):
    """A policy parameter is invalid. A ``ValueError`` (and a ``TypeError``, so that
    scenario validation reports it like a wrong parameter name)."""


# ---------------------------------------------------------------- parameter checks
def check_number(
    policy: str,
    name: str,
    value: Any,
    lo: float | None = None,
    hi: float | None = None,
    *,
    lo_open: bool = False,
    allow_none: bool = False,
) -> float | None:
    """``value`` as a float in [lo, hi] (or (lo, hi] with ``lo_open``), else a clear error."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise PolicyParameterError(
            f"policy {policy!r}: parameter {name} = {value!r} must be a number"
            + _range(lo, hi, lo_open)
        )
    v = float(value)
    if (
        not math.isfinite(v)
        or (lo is not None and (v <= lo if lo_open else v < lo))
        or (hi is not None and v > hi)
    ):
        raise PolicyParameterError(
            f"policy {policy!r}: parameter {name} = {value!r} must lie in"
            + _range(lo, hi, lo_open, bare=True)
        )
    return v


def check_int(policy: str, name: str, value: Any, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not lo <= value <= hi:
        raise PolicyParameterError(
            f"policy {policy!r}: parameter {name} = {value!r} must be an integer in [{lo}, {hi}]"
        )
    return int(value)


def check_levers(
    policy: str, name: str, value: Any, allowed: tuple[str, ...] = LEVERS
) -> tuple[str, ...]:
    """A lever name or a list of lever names, each in ``allowed``."""
    items = [value] if isinstance(value, str) else value
    if (
        not isinstance(items, (list, tuple))
        or not items
        or not all(isinstance(x, str) for x in items)
    ):
        raise PolicyParameterError(
            f"policy {policy!r}: parameter {name} = {value!r} must be a lever "
            f"name or a list of them; allowed: {', '.join(allowed)}"
        )
    for x in items:
        if x not in allowed:
            raise PolicyParameterError(
                f"policy {policy!r}: parameter {name} = {value!r}: lever {x!r} "
                f"unknown; allowed: {', '.join(allowed)}"
            )
    return tuple(items)


def _range(lo, hi, lo_open=False, bare=False) -> str:
    if lo is None and hi is None:
        return ""
    a = "(" if lo_open else "["
    text = f" {a}{'-inf' if lo is None else lo}, {'inf' if hi is None else hi}]"
    return text if bare else " in" + text


# ---------------------------------------------------------------- lever helpers
#: levers that a search rule (hill climbing, satisficing) may move by small steps
SEARCHABLE_LEVERS = tuple(
    f.name
    for f in dataclasses.fields(FirmParams)
    if f.metadata.get("lever") in ("recorded", "decision") and f.type == "float"
)


def lever_bounds(lever: str) -> tuple[float, float]:
    """The allowed range of a numeric lever (from :mod:`sim.params`)."""
    for f in dataclasses.fields(FirmParams):
        if f.name == lever:
            lo, hi = f.metadata.get("range", (None, None))
            return (-math.inf if lo is None else float(lo), math.inf if hi is None else float(hi))
    raise KeyError(lever)


def clip_lever(lever: str, value: float, lo: float | None = None, hi: float | None = None) -> float:
    """``value`` clipped to the lever's allowed range (and to [lo, hi] when given)."""
    a, b = lever_bounds(lever)
    if lo is not None:
        a = max(a, lo)
    if hi is not None:
        b = min(b, hi)
    return float(min(max(float(value), a), b))


def unit_cost_per_unit(own_rows: list[dict], levers: dict) -> float:
    """Variable cost per unit sold as the firm's accounts show it: (goods + service cost)
    / units over ``own_rows``; from the levers (one unit per purchase) before any sale."""
    units = sum(float(r.get("units", 0.0)) for r in own_rows)
    if units > 0:
        cost = sum(
            float(r.get("cost_variable", 0.0)) + float(r.get("cost_service", 0.0)) for r in own_rows
        )
        return cost / units
    return (
        float(levers["unit_cost"])
        + float(levers["service_cost"]) * float(levers["service"])
        + float(levers["serve_cost"])
    )


# ---------------------------------------------------------------- the base class
class Policy:
    """Base class of firm strategies.

    Subclasses set ``name`` and ``classifier`` and implement :meth:`rule` (called every
    ``decide_every`` periods of data) or, for full control, :meth:`decide`.

    Args:
        decide_every: periods of data between decisions (k ≥ 1). The rule sees the rows of
            the periods since its last decision in ``observation["window"]``.

    Attributes:
        classifier: what the strategy looks at and what it does (Axelrod-style):
            ``observes`` (a subset of :data:`OBSERVABLES`), ``levers`` (the levers it sets),
            ``stochastic``; ``observes_rival_shares`` and ``full_information`` are derived
            from ``observes`` and read by :meth:`sim.model.MarketModel.observe`.
    """

    name = "base"
    classifier: dict[str, Any] = {
        "observes": (),
        "levers": (),
        "stochastic": False,
        "observes_rival_shares": False,
        "full_information": False,
    }

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        c = dict(cls.classifier)
        obs = tuple(c.get("observes", ()))
        unknown = set(obs) - set(OBSERVABLES)
        if unknown:
            raise TypeError(f"{cls.__name__}.classifier observes unknown items {sorted(unknown)}")
        c["observes_rival_shares"] = "rival_shares" in obs
        c["full_information"] = "full_information" in obs
        c.setdefault("levers", ())
        c.setdefault("stochastic", False)
        cls.classifier = c

    def __init__(self, *, decide_every: int = 1) -> None:
        self.decide_every = check_int(self.name, "decide_every", decide_every, 1, 10_000)

    # ---------------------------------------------------------------- parameters
    def get_params(self) -> dict[str, Any]:
        """The constructor parameters and their current values."""
        sig = inspect.signature(type(self).__init__)
        return {k: getattr(self, k) for k in sig.parameters if k != "self"}

    def spec(self) -> dict[str, Any]:
        """A ``{"name": ..., **params}`` dict that :func:`make_policy` turns back into this policy."""
        return {"name": self.name, **self.get_params()}

    def __repr__(self) -> str:
        sig = inspect.signature(type(self).__init__)
        parts = []
        for k, prm in sig.parameters.items():
            if k == "self":
                continue
            v = getattr(self, k)
            if prm.default is inspect.Parameter.empty or v != prm.default:
                parts.append(f"{k}={v!r}")
        return f"{type(self).__name__}({', '.join(parts)})"

    # ---------------------------------------------------------------- run state
    def bind(self, rng: np.random.Generator, firm=None) -> None:
        """Called once by the model when it is built: the random stream for this policy
        (a child of the model's ``policy`` stream) and the firm; resets the run state."""
        self.rng_ = rng.spawn(1)[0] if hasattr(rng, "spawn") else rng
        self.reset()

    def reset(self) -> None:
        """Forget everything learnt (called by :meth:`bind`). Subclasses extend it."""
        self.window_: list[dict] = []
        self.decisions_ = 0

    @property
    def rng(self) -> np.random.Generator:
        if getattr(self, "rng_", None) is None:
            raise RuntimeError(
                f"policy {self.name!r} is stochastic: call bind(rng, firm) first "
                "(the model does this when it is built)"
            )
        return self.rng_

    # ---------------------------------------------------------------- deciding
    def decide(self, firm, observation: dict) -> dict:
        """Collect last period's row; every ``decide_every`` periods call :meth:`rule`."""
        if not hasattr(self, "window_"):
            self.reset()
        own = observation.get("own") or {}
        if not own or int(own.get("period", 0)) < 1 or not own.get("active", True):
            return {}
        self.window_.append(own)
        if len(self.window_) < self.decide_every:
            return {}
        obs = dict(observation)
        obs["window"] = list(self.window_)
        self.window_ = []
        out = self.rule(firm, obs) or {}
        self.decisions_ += 1
        return out

    def rule(self, firm, observation: dict) -> dict:  # pragma: no cover - interface
        raise NotImplementedError

    # ---------------------------------------------------------------- helpers for rules
    @staticmethod
    def mean(observation: dict, column: str) -> float:
        """Mean of ``column`` over the rows of the window (last period's row if none)."""
        rows = observation.get("window") or [observation.get("own") or {}]
        vals = [float(r.get(column, np.nan)) for r in rows]
        vals = [v for v in vals if not math.isnan(v)]
        return float(np.mean(vals)) if vals else float("nan")

    @staticmethod
    def total(observation: dict, column: str) -> float:
        rows = observation.get("window") or [observation.get("own") or {}]
        return float(sum(float(r.get(column, 0.0)) for r in rows))
