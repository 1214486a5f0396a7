"""The referral kernel and stage (sim/referrals.py): ρ rises with the reward and falls
with the recipient's switching cost; no referrals without word of mouth."""

from __future__ import annotations

import numpy as np
from hypothesis import given

from sim import MarketModel, ModelParams
from sim.referrals import referral_probability

from .props import FAST, unit


@FAST
@given(unit(0.0, 0.2), unit(0.0, 5.0), unit(0.0, 2.0), unit(0.0, 1.0), unit(0.0, 3.0))
def test_referral_probability_is_monotone(base, gain, reward, zeta, gamma):
    rho = referral_probability(base, gain, reward, 1.0, zeta, gamma)
    assert np.isfinite(rho) and 0 <= rho <= base * (1 + gain * reward) + 1e-12
    assert referral_probability(base, gain, reward + 0.5, 1.0, zeta, gamma) >= rho - 1e-12
    assert referral_probability(base, gain, reward, 1.0, zeta, gamma + 0.5) <= rho + 1e-12


def _referrals(**wom) -> int:
    p = ModelParams()
    p.market.n_customers, p.market.warmup = 800, 0
    for k, v in wom.items():
        setattr(p.wom, k, v)
    return int(MarketModel(p, seed=2).run(8).firm_frame()["referrals"].sum())


def test_no_word_of_mouth_no_referrals() -> None:
    assert _referrals() > 0
    assert _referrals(enabled=False) == 0
