"""Kernels of sim/experience.py: the composite lies between quality and service;
performance rises with quality and service and falls with waiting."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given

from sim.experience import composite, perceived_performance

from .props import FAST, unit


@FAST
@given(unit(), unit(), unit())
def test_composite_lies_between_quality_and_service(w, q, s):
    c = composite(w, q, s)
    assert min(q, s) - 1e-12 <= c <= max(q, s) + 1e-12


@FAST
@given(unit(), unit(), unit(), unit(0.0, 0.5), unit(0.0, 2.0), unit(0.0, 1.0))
def test_performance_rises_with_levels_and_falls_with_waiting(w, q, s, dq, wait, kappa):
    def perf(q_, s_, wait_):
        return perceived_performance(w, q_, s_, 1.0, wait_, kappa, 0.3, -0.2, 0.1, 0.1)

    base = perf(q, s, wait)
    assert np.isfinite(base)
    assert perf(q + dq, s, wait) >= base - 1e-12
    assert perf(q, s + dq, wait) >= base - 1e-12
    assert perf(q, s, wait + dq) <= base + 1e-12


def test_without_noise_and_overload_performance_is_the_composite() -> None:
    p = perceived_performance(0.6, 0.8, 0.5, 1.0, 0.0, 0.5, 1.0, 1.0, 0.0, 0.0)
    assert np.isclose(p, 0.6 * 0.8 + 0.4 * 0.5)


@pytest.mark.parametrize("seed", range(6))
def test_compiled_experience_equals_the_numpy_reference(seed: int) -> None:
    from sim import accel
    from sim.experience import ExperienceStage

    from .buyer_state import buyer_state

    perf = {}
    for on in (True, False):
        s = buyer_state(seed)
        with accel.use(on):
            ExperienceStage()(s)
        perf[on] = s.perf
    assert perf[True].dtype == perf[False].dtype and np.array_equal(perf[True], perf[False])
