import numpy as np

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
