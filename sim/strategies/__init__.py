"""Firm decision rules (policies, or strategies).

A policy is a small object with ``decide(firm, observation) -> dict`` returning the
levers to change this period (an empty dict keeps them). The model calls it at the start
of every period, before anything else happens, with what a real firm could see about
the previous period (see :meth:`sim.model.MarketModel.observe`). Each strategy is one
class in a module of its own, whose docstring states its rule, its parameters with their
ranges and the literature it comes from, and whose ``classifier`` says what it observes,
which levers it sets and whether it is stochastic. Strategies are looked up by name from
scenario files through :data:`REGISTRY`; docs/strategies.md describes them all.

Examples:
    >>> from sim.strategies import make_policy
    >>> make_policy({"name": "cost_plus", "markup": 0.4})
    CostPlus(markup=0.4)
    >>> sorted(REGISTRY)[:3]
    ['best_response', 'best_response_full', 'complaint_investor']
"""

from __future__ import annotations

import inspect
from typing import Any

from .bandits import UCB, EpsilonGreedy
from .base import OBSERVABLES, Policy, PolicyParameterError
from .best_response import BestResponse, FullInformationBestResponse
from .complaint_investor import ComplaintInvestor
from .cost_plus import CostPlus
from .fixed import Fixed
from .hill_climb import HillClimb
from .imitate_leader import ImitateLeader
from .satisficing import Satisficing
from .scheduled import Scheduled
from .undercut import MatchCheapest, Undercut

__all__ = [
    "Policy",
    "PolicyParameterError",
    "OBSERVABLES",
    "REGISTRY",
    "make_policy",
    "strategies",
    "Fixed",
    "Scheduled",
    "CostPlus",
    "Undercut",
    "MatchCheapest",
    "Satisficing",
    "HillClimb",
    "EpsilonGreedy",
    "UCB",
    "BestResponse",
    "FullInformationBestResponse",
    "ComplaintInvestor",
    "ImitateLeader",
]

#: name -> policy class
REGISTRY: dict[str, type[Policy]] = {
    cls.name: cls
    for cls in (
        Fixed,
        Scheduled,
        CostPlus,
        Undercut,
        MatchCheapest,
        Satisficing,
        HillClimb,
        EpsilonGreedy,
        UCB,
        BestResponse,
        FullInformationBestResponse,
        ComplaintInvestor,
        ImitateLeader,
    )
}


def make_policy(spec: str | dict | Policy | None) -> Policy:
    """Build a policy from a name, a ``{"name": ..., **params}`` dict or an instance.

    Raises:
        ValueError: unknown name; :class:`PolicyParameterError` (a ValueError and a
            TypeError) for an unknown parameter or a value out of range, naming the
            policy, the parameter, the value and what is allowed.
    """
    if spec is None:
        return Fixed()
    if isinstance(spec, Policy):
        return spec
    if isinstance(spec, str):
        name, params = spec, {}
    elif isinstance(spec, dict):
        params = dict(spec)
        name = params.pop("name", None)
    else:
        raise PolicyParameterError(
            f'policy {spec!r} must be a name or a table {{name = "...", ...}}'
        )
    if name not in REGISTRY:
        raise ValueError(f"policy {name!r} unknown; allowed: {', '.join(sorted(REGISTRY))}")
    cls = REGISTRY[name]
    allowed = [k for k in inspect.signature(cls.__init__).parameters if k != "self"]
    for key in params:
        if key not in allowed:
            raise PolicyParameterError(
                f"policy {name!r} has no parameter {key!r}; parameters: "
                + (", ".join(allowed) or "none")
            )
    return cls(**params)


def strategies(**criteria: Any) -> list[str]:
    """Names of the registered strategies whose classifier matches ``criteria``.

    ``stochastic=False`` and the like compare a classifier entry; ``observes="rival_prices"``
    and ``levers="price"`` test membership.

    Examples:
        >>> "ucb" in strategies(stochastic=False, full_information=False)
        True
    """
    out = []
    for name, cls in REGISTRY.items():
        c = cls.classifier
        ok = True
        for key, want in criteria.items():
            have = c.get(key)
            if isinstance(have, tuple) and not isinstance(want, tuple):
                ok &= want in have
            else:
                ok &= have == want
        if ok:
            out.append(name)
    return sorted(out)
