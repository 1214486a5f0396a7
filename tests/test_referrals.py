"""The referral kernel and stage (sim/referrals.py): ρ rises with the reward and falls
with the recipient's switching cost; no referrals without word of mouth."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from sim import MarketModel, ModelParams
from sim.referrals import _candidates_jit, candidates, referral_probability

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


@FAST
@given(st.integers(0, 2**31), st.integers(1, 30), st.integers(1, 3), st.integers(0, 60))
def test_compiled_candidates_equal_the_numpy_reference(seed, n, k, m):
    rng = np.random.default_rng(seed)
    f = rng.integers(0, k, m)
    firm = rng.integers(-1, k, n).astype(np.int16)
    recip = rng.integers(0, n, m)
    firm[recip[: m // 3]] = f[: m // 3]  # some recipients already with the firm
    args = (
        rng.integers(0, n, m),
        recip,
        f,
        rng.random(m) < 0.3,
        rng.choice([0.5, 0.6, 1.0, *rng.uniform(-1, 1, 3)], n),
        firm,
        rng.random(k) < 0.8,
        0.6,
    )
    want, got = candidates(*args), _candidates_jit(*args)
    assert np.array_equal(want, got) and want.dtype == got.dtype
    assert not (args[3][want]).any() and np.all(firm[recip[want]] != f[want])
