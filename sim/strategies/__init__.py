"""Firm decision rules (policies).

A policy is a small object with ``decide(firm, observation) -> dict`` returning the
levers to change this period (an empty dict keeps them). The model calls it at the start
of every period, before anything else happens, with what a real firm could see about
the previous period (see :meth:`sim.model.MarketModel.observe`). Policies are looked up
by name from scenario files through :data:`REGISTRY`.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Policy", "Fixed", "REGISTRY", "make_policy"]


class Policy:
    """Base class. Subclasses set ``name`` and implement :meth:`decide`."""

    name = "base"
    #: what the rule looks at and whether it is stochastic (Axelrod-style classifier)
    classifier: dict[str, Any] = {"observes": (), "levers": (), "stochastic": False}

    def decide(self, firm, observation: dict) -> dict:  # pragma: no cover - interface
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class Fixed(Policy):
    """Keep every lever as it is (timeline events still apply)."""

    name = "fixed"
    classifier = {"observes": (), "levers": (), "stochastic": False}

    def decide(self, firm, observation: dict) -> dict:
        return {}


#: name -> policy class
REGISTRY: dict[str, type[Policy]] = {"fixed": Fixed, "scheduled": Fixed}


def make_policy(spec: str | dict | Policy | None) -> Policy:
    """Build a policy from a name, a ``{"name": ..., **params}`` dict or an instance."""
    if spec is None:
        return Fixed()
    if isinstance(spec, Policy):
        return spec
    if isinstance(spec, str):
        name, params = spec, {}
    else:
        params = dict(spec)
        name = params.pop("name", None)
    if name not in REGISTRY:
        raise ValueError(f"policy {name!r} unknown; allowed: {', '.join(sorted(REGISTRY))}")
    return REGISTRY[name](**params)
