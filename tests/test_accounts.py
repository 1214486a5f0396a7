"""sim/accounts.py: CLV and NPS kernels, and the accounts add up in a run."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from sim import MarketModel, ModelParams
from sim.accounts import (
    _COST_KEYS,
    _FIG_FLOWS,
    _FIG_LEVERS,
    _book_buyers_jit,
    _costs,
    _customers_jit,
    _figures_compiled,
    _indicators,
    _tally_jit,
    book_buyers,
    clv,
    nps,
    tally,
)

from .props import FAST, arrays, sat, unit


@FAST
@given(unit(0.0, 10.0), unit(0.0, 0.99), unit(0.0, 0.2), unit(0.0, 0.009))
def test_clv_rises_with_retention_and_margin(m, r, i, dr):
    v = clv(m, r, i)
    assert np.isfinite(v) and v >= 0
    assert clv(m, r + dr, i) >= v - 1e-9
    assert clv(m + 1.0, r, i) >= v


@FAST
@given(arrays(sat()))
def test_nps_is_a_difference_of_shares(S):
    prom, det, score = nps(S)
    assert 0 <= prom <= 1 and 0 <= det <= 1 and prom + det <= 1
    assert np.isclose(score, 100 * (prom - det)) and -100 <= score <= 100


def test_nps_of_nobody_is_nan() -> None:
    assert all(np.isnan(v) for v in nps(np.array([])))


def test_profit_is_revenue_minus_costs_and_customers_add_up() -> None:
    p = ModelParams()
    p.market.n_customers, p.market.warmup = 600, 0
    m = MarketModel(p, seed=3).run(6)
    f, mk = m.firm_frame(), m.market_frame()
    costs = f[[c for c in f.columns if c.startswith("cost_") and c != "cost_total"]].sum(axis=1)
    assert np.allclose(costs, f["cost_total"])
    assert np.allclose(f["revenue"] - f["cost_total"], f["profit"])
    per = f.groupby("period")[["customers", "profit"]].sum()
    assert (per["customers"].to_numpy() == mk["customers"].to_numpy()).all()
    assert np.allclose(per["profit"].to_numpy(), mk["profit"].to_numpy())


def _market_state(rng: np.random.Generator, n: int, k: int) -> dict[str, np.ndarray]:
    """Random customer columns with every edge: no firm, lapsed, unaware, S on the cut-offs."""
    firm = rng.integers(-1, k, n).astype(np.int16)
    last = np.where(rng.random(n) < 0.7, firm, rng.integers(-1, k, n)).astype(np.int16)
    S = rng.choice([-1.0, 0.2, 0.8, 1.0, *rng.uniform(-1, 1, 4)], n)
    return {
        "firm": firm,
        "last_firm": last,
        "status": rng.integers(0, 3, n).astype(np.int8),
        "satisfaction": S,
        "expect": rng.normal(0.5, 0.3, (n, k)),
        "aware": rng.random((n, k)) < 0.5,
        "active": rng.random(k) < 0.7,
    }


@FAST
@given(st.integers(0, 2**32 - 1), st.integers(0, 40), st.integers(1, 4))
def test_compiled_tally_equals_the_numpy_reference(seed, n, k) -> None:
    c = _market_state(np.random.default_rng(seed), n, k)
    want = tally(*c.values(), np.empty(n))
    got = _tally_jit(*c.values(), np.empty(n))
    for w, g in zip(want, got, strict=True):
        assert np.array_equal(w, g) and w.dtype.kind == g.dtype.kind
    per_firm, counts, S = want
    prom, det, _ = nps(S)  # the counts give the NPS shares
    assert (np.isnan(prom) and S.size == 0) or (prom, det) == tuple(counts[3:] / S.size)
    assert per_firm[0].sum() == np.count_nonzero(c["firm"] >= 0)
    start = np.bincount(c["firm"][c["firm"] >= 0], minlength=k).astype(float)
    assert np.array_equal(_customers_jit(c["firm"], k), start)  # customers_start flow
    assert np.array_equal(per_firm[0], start)


@FAST
@given(st.integers(0, 2**32 - 1), st.integers(0, 40), st.integers(1, 4), st.booleans())
def test_compiled_booking_equals_the_numpy_reference(seed, n, k, complaints) -> None:
    rng = np.random.default_rng(seed)
    nb = int(rng.integers(0, n + 1))
    buyers = rng.permutation(n)[:nb]
    bf = rng.integers(0, k, nb)
    firm = np.where(rng.random(n) < 0.8, rng.integers(-1, k, n), -1).astype(np.int16)
    firm[buyers[: nb // 2]] = bf[: nb // 2]  # half still with the firm they bought from
    paid = rng.uniform(0.5, 1.5, nb)
    args = (
        buyers,
        bf,
        paid,
        paid + rng.choice([0.0, 0.1], nb),
        rng.uniform(0, 2, nb) if complaints else np.zeros(nb),
        rng.uniform(0, 1, (4, k)),
        rng.lognormal(0, 0.3, n),
        firm,
    )
    cols = (
        rng.integers(0, 5, n).astype(np.int32),
        rng.normal(size=(n, k)),
        rng.normal(size=(n, k)),
    )
    mine = [c.copy() for c in cols]
    want = book_buyers(*args, *cols, np.zeros((7, k)))
    got = _book_buyers_jit(*args, *mine, np.zeros((7, k)))
    assert np.array_equal(want, got)
    assert all(np.array_equal(a, b) for a, b in zip(cols, mine, strict=True))
    assert np.allclose(want[1] - want[4] - want[2] - want[3] - want[5], want[6])


@FAST
@given(st.integers(0, 2**32 - 1), st.integers(1, 4), st.integers(0, 2), st.booleans())
def test_compiled_firm_figures_equal_the_numpy_reference(seed, k, period, flags) -> None:
    """Costs and indicators: unlimited capacity, no customers, nobody at the start, period 0."""
    rng = np.random.default_rng(seed)
    P = ModelParams()
    P.acquisition.marketing_enabled = P.capacity.enabled = flags
    model = SimpleNamespace(params=P, period=period, pop=SimpleNamespace(n=500), n_firms=k)
    L = {key: rng.choice([0.0, 0.5, 2.0], k) for key in _FIG_LEVERS}
    L["active"], L["loyalty"] = rng.random(k) < 0.7, rng.random(k) < 0.5
    L["capacity"] = rng.choice([np.inf, 100.0], k)
    fl = {key: rng.choice([0.0, 1.0, 7.0, rng.uniform(0, 50)], k) for key in _FIG_FLOWS}
    if period == 0:
        for key in ("variable", "service", "complaint_costs"):
            del fl[key]  # the initial state has no purchases booked
    per_firm = rng.choice([0.0, 3.0, rng.uniform(0, 9)], (5, k))
    c, ind = _figures_compiled(model, fl, L, per_firm)
    want_c, want_ind = _costs(model, fl, L), _indicators(model, fl, per_firm)
    for got, want in ((c, want_c), (ind, want_ind)):
        assert got.keys() == want.keys()
        for key in want:
            assert np.array_equal(got[key], want[key], equal_nan=True), key
    assert np.allclose(c["total"], sum(c[key] for key in _COST_KEYS) + c["fixed"])
