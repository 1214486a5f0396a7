"""Each registered strategy's ``classifier`` checked against what it does in a short run:
the levers it sets, whether its decisions depend on its random stream, and whether it
reacts to rivals' prices."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from sim import MarketModel, ModelParams
from sim.agents import LEVERS
from sim.strategies import REGISTRY

PERIODS = 10


def _params(policy: str) -> ModelParams:
    p = ModelParams()
    p.market.n_customers = 800
    p.market.periods = PERIODS
    p.record_events = False
    p.panel_size = 0
    p.firms[0].policy = policy
    return p


def _decisions(policy: str, *, policy_seed: int | None = None, rival_factor: float = 1.0):
    """The decisions of firm 0 (playing ``policy``) over a short run: a list of
    (period, {lever: value}). ``policy_seed`` rebinds its random stream to another seed;
    ``rival_factor`` scales the rivals' prices it observes (nothing else changes)."""
    m = MarketModel(_params(policy), seed=3)
    firm = m.firms[0]
    pol = firm.policy
    if policy_seed is not None:
        pol.bind(np.random.default_rng(policy_seed), firm)
    decide, observe = pol.decide, m.observe
    log: list[tuple[int, dict]] = []

    def observe_scaled(f):
        obs = observe(f)
        if f is firm and rival_factor != 1.0:
            obs = dict(obs, rivals=copy.deepcopy(obs["rivals"]))
            for r in obs["rivals"].values():
                r["price"] *= rival_factor
        return obs

    def decide_logged(f, obs):
        out = decide(f, obs) or {}
        log.append((int(obs["period"]), {k: float(v) for k, v in out.items()}))
        return out

    pol.decide = decide_logged
    m.observe = observe_scaled
    m.run(PERIODS)
    return log


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_classifier_matches_behaviour(name):
    c = REGISTRY[name].classifier
    log = _decisions(name)
    assert len(log) == PERIODS
    declared = set(LEVERS) if "any" in c["levers"] else set(c["levers"])
    set_levers = {k for _, d in log for k in d}
    assert set_levers <= declared, (name, set_levers - declared)
    if not c["stochastic"]:
        assert _decisions(name, policy_seed=12345) == log, f"{name} is declared deterministic"
    if not ({"rival_prices", "full_information"} & set(c["observes"])):
        assert _decisions(name, rival_factor=1.5) == log, f"{name} reacts to rival prices"


@pytest.mark.parametrize("name", ["undercut", "match"])
def test_rival_price_observers_react_to_rival_prices(name):
    """The check above can fail: a strategy that observes rival prices changes its
    decisions when the rivals' prices it sees fall (a rise would be capped at their
    starting price)."""
    assert REGISTRY[name].classifier["levers"] == ("price",)
    assert _decisions(name, rival_factor=0.8) != _decisions(name)
