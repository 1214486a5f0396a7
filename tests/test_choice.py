import numpy as np
import pytest

from sim.choice import logit_choice, logit_probabilities


def test_probabilities_sum_to_one_and_respect_availability():
    rng = np.random.default_rng(0)
    v = rng.normal(size=(50, 3))
    avail = rng.random((50, 3)) < 0.7
    p = logit_probabilities(v, avail, 0.0)
    assert np.allclose(p.sum(axis=1), 1.0)
    assert np.all(p[:, :3][~avail] == 0)


def test_inverse_cdf_draws_match_probabilities():
    v = np.tile(np.array([[0.0, 1.0, -1.0]]), (200_000, 1))
    avail = np.ones_like(v, bool)
    u = np.random.default_rng(1).random(v.shape[0])
    c = logit_choice(v, avail, 0.5, u)
    p = logit_probabilities(v[:1], avail[:1], 0.5)[0]
    freq = np.array([(c == 0).mean(), (c == 1).mean(), (c == 2).mean(), (c == -1).mean()])
    assert np.allclose(freq, p, atol=0.005)


def test_loyalty_premium_matches_closed_form():
    # P(stay) = e^γ / (e^γ + J − 1) among J identical firms (DOMAIN.md, Dubé et al. 2010)
    gamma, J = 1.5, 3
    v = np.zeros((1, J))
    v[0, 0] += gamma
    p = logit_probabilities(v, np.ones((1, J), bool), None)[0]
    assert np.isclose(p[0], np.exp(gamma) / (np.exp(gamma) + J - 1))


def test_nothing_available_means_no_purchase():
    v = np.zeros((3, 2))
    c = logit_choice(v, np.zeros((3, 2), bool), None, np.array([0.1, 0.5, 0.9]))
    assert np.all(c == -1)


def _scrambled_market(seed: int, k: int):
    """A small market whose choice-relevant state is random (edge cases included)."""
    import dataclasses

    from sim import MarketModel, ModelParams
    from sim.levers import lever_arrays

    p = ModelParams()
    p.market.n_customers, p.market.warmup = 300, 0
    p.firms = [dataclasses.replace(p.firms[j % 2], name=f"F{j}") for j in range(k)]
    rng = np.random.default_rng(seed)
    p.choice.novelty_risk = float(rng.choice([0.0, 0.7]))
    m = MarketModel(p, seed=seed)
    pop, n = m.pop, m.pop.n
    pop.expect[:] = rng.normal(0.6, 0.3, (n, k))
    pop.attitude[:] = rng.normal(0.0, 2.0, (n, k)) * (rng.random((n, k)) < 0.7)
    pop.tried[:] = rng.random((n, k)) < 0.5
    pop.firm[:] = rng.integers(-1, k, n)
    pop.last_firm[:] = np.where(rng.random(n) < 0.7, pop.firm, rng.integers(-1, k, n))
    pop.points[:] = rng.integers(0, 20, n) * (rng.random(n) < 0.6)
    pop.satisfaction[:] = rng.uniform(-1, 1, n)
    m.wait[:] = rng.choice([0.0, 0.3], k)
    L = {name: a.copy() for name, a in lever_arrays(m).items()}
    L["loyalty"] = rng.random(k) < 0.6
    L["loyalty_discount"] = rng.uniform(0, 0.3, k)
    return m, L, rng


@pytest.mark.parametrize("seed", range(12))
def test_compiled_choice_equals_the_numpy_reference(seed: int) -> None:
    from sim import accel
    from sim.choice import choose
    from sim.loyalty import switching_costs

    k = 2 + seed % 3
    m, L, rng = _scrambled_market(seed, k)
    n = m.pop.n
    rows = np.sort(rng.choice(n, int(rng.integers(0, n)), replace=False))
    known = rng.random((n, k)) < rng.choice([0.0, 0.3, 1.0])
    known[: n // 10] = False  # some know nothing
    active = None if seed % 2 else rng.random(k) < 0.7
    outside = None if seed % 4 == 1 else float(rng.normal())
    u = rng.random(rows.size)
    u[:3] = [0.0, 1.0 - 1e-16, 0.5][: u.size]
    for inertia, exclude in ((True, False), (False, False), (False, True)):
        out = {}
        for on in (True, False):
            with accel.use(on):
                gamma = switching_costs(m, L)
                c, paid = choose(
                    m, rows, L, gamma, known, active, outside, u,
                    inertia=inertia, exclude_current=exclude,
                )  # fmt: skip
                out[on] = (gamma, c, paid)
        for a, b in zip(out[True], out[False], strict=True):
            assert a.dtype == b.dtype and np.array_equal(a, b)
        if exclude:  # a leaver never picks its current firm
            assert not np.any((c >= 0) & (c == m.pop.firm[rows]))


@pytest.mark.parametrize("seed", range(4))
def test_compiled_purchase_occasions_equal_the_numpy_reference(seed: int) -> None:
    from sim import accel
    from sim.accounts import empty_flows
    from sim.choice import PurchaseStage
    from sim.stages import PeriodState

    m, L, rng = _scrambled_market(seed, 2 + seed % 3)
    pop = m.pop
    pop.aware[:] = rng.random(pop.aware.shape) < 0.4
    pop.status[:] = rng.integers(0, 3, pop.n)
    L["active"] = rng.random(m.n_firms) < 0.8
    got = {}
    for on in (True, False):
        s = PeriodState(m, empty_flows(m))
        s.L, s.rng = L, np.random.default_rng(seed)
        with accel.use(on):
            PurchaseStage()(s)
        got[on] = (s.known, s.shopper)
    for a, b in zip(got[True], got[False], strict=True):
        assert a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b)
    assert 0 < got[False][1].size < pop.n


@pytest.mark.parametrize("seed", range(4))
def test_compiled_choice_stage_equals_the_numpy_reference(seed: int) -> None:
    """Purchase and choice stages end to end: buyers, prices, new relationships, state."""
    from sim import accel
    from sim.accounts import empty_flows
    from sim.choice import ChoiceStage, PurchaseStage
    from sim.stages import PeriodState

    got = {}
    for on in (True, False):
        m, L, rng = _scrambled_market(seed, 2 + seed % 3)
        m.pop.aware[:] = rng.random(m.pop.aware.shape) < 0.7
        s = PeriodState(m, empty_flows(m))
        s.L = L
        with accel.use(on):
            for stage in (PurchaseStage(), ChoiceStage()):
                s.rng = np.random.default_rng(seed + len(stage.name))
                stage(s)
        names = ("shopper", "gamma", "buyers", "buyer_firm", "paid", "list_price")
        out = {a: getattr(s, a) for a in (*names, "new_relationship")}
        got[on] = out | {"firm": m.pop.firm.copy()} | {f: a.copy() for f, a in s.fl.items()}
    for name, a in got[True].items():
        b = got[False][name]
        assert a.dtype == b.dtype and np.array_equal(a, b), name
    assert got[False]["new_relationship"].any() and got[False]["buyers"].size > 0
