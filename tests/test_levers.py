"""Lever arrays: every firm parameter as an array over firms, kept between periods."""

from __future__ import annotations

import numpy as np
import pytest

from sim import MarketModel, ModelParams
from sim.levers import _build_lever_arrays, lever_arrays


def _model() -> MarketModel:
    p = ModelParams()
    p.market.n_customers, p.market.warmup = 200, 0
    p.firms[1].enter_at = 3
    return MarketModel(p, seed=1)


def _same(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


def test_kept_arrays_follow_every_kind_of_lever_change() -> None:
    m = _model()
    first = lever_arrays(m)
    assert lever_arrays(m)["price"] is first["price"]  # unchanged levers: kept
    m.firms[0].set_lever("price", 1.3)
    assert lever_arrays(m)["price"][0] == 1.3
    m.firms[0].levers.quality = 0.42  # a direct edit is seen too
    assert lever_arrays(m)["quality"][0] == 0.42
    m.params.loyalty.enabled = False
    assert not lever_arrays(m)["loyalty"].any()
    assert _same(lever_arrays(m), _build_lever_arrays(m))


def test_an_entrant_becomes_active_when_its_period_comes() -> None:
    m = _model()
    assert lever_arrays(m)["active"].tolist() == [True, False]
    m.run(3)
    assert lever_arrays(m)["active"].tolist() == [True, True]
    assert _same(lever_arrays(m), _build_lever_arrays(m))


def test_kept_arrays_are_read_only() -> None:
    m = _model()
    with pytest.raises(ValueError, match="read-only"):
        lever_arrays(m)["price"][0] = 9.0
