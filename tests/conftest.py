"""Shared helpers: small, quick markets."""

from __future__ import annotations

import copy

import pytest

from sim import MarketModel, ModelParams


def small_params(n: int = 1500, periods: int = 30, **market) -> ModelParams:
    p = ModelParams()
    p.market.n_customers = n
    p.market.periods = periods
    for k, v in market.items():
        setattr(p.market, k, v)
    return p


def run(params: ModelParams, seed: int = 1, periods: int | None = None) -> MarketModel:
    m = MarketModel(copy.deepcopy(params), seed=seed)
    m.run(periods)
    return m


@pytest.fixture(scope="session")
def baseline_model() -> MarketModel:
    return run(small_params(n=2000, periods=40), seed=7)
