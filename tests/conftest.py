"""Shared helpers: small, quick markets; the ``slow`` marker for whole modules."""

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


#: modules whose tests are all slow (notebooks, a browser, a Dask cluster): skipped by the
#: quick inner loop ``pytest -m "not slow"``; CI runs everything
SLOW_MODULES = ("test_notebooks", "test_browser", "test_experiments_dask")


def pytest_collection_modifyitems(config, items) -> None:
    for item in items:
        if item.module is not None and item.module.__name__.split(".")[-1] in SLOW_MODULES:
            item.add_marker(pytest.mark.slow)
