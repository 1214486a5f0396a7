"""Kernels of sim/wom.py: talk probabilities U-shaped and bounded; messages go to
neighbours; one referral per recipient."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from sim.network import build_network
from sim.wom import pick_referrals, sample_messages, talk_probability

from .props import FAST, arrays, sat, unit


@FAST
@given(arrays(sat()), unit(0.0, 0.9), unit(-0.9, 0.0), unit(), unit())
def test_talk_probabilities_are_bounded_and_u_shaped(S, tp, tn, pp, pn):
    pos, neg = talk_probability(S, tp, tn, pp, pn)
    assert np.all((pos >= 0) & (pos <= pp + 1e-12)) and np.all((neg >= 0) & (neg <= pn + 1e-12))
    assert np.all(pos[S <= tp] == 0) and np.all(neg[S >= tn] == 0)
    order = np.argsort(S)
    assert np.all(np.diff(pos[order]) >= -1e-12) and np.all(np.diff(neg[order]) <= 1e-12)


@FAST
@given(st.integers(0, 2**31), st.integers(1, 6))
def test_messages_go_to_neighbours(seed, reach):
    rng = np.random.default_rng(seed)
    net = build_network("small_world", 60, 4, 0.1, rng)
    talkers = np.arange(0, 60, 7)
    sender, recip = sample_messages(
        talkers, np.full(talkers.size, reach), net.indptr, net.indices, rng
    )
    assert sender.size == talkers.size * reach
    for s, r in zip(sender, recip, strict=True):
        assert r in net.neighbors(s)


@FAST
@given(st.lists(st.integers(0, 5), max_size=30), st.integers(0, 2**31))
def test_one_referral_per_recipient_the_lowest_draw(recips, seed):
    r = np.array(recips, dtype=np.int64)
    u = np.random.default_rng(seed).random(r.size)
    keep = pick_referrals(r, u)
    assert sorted(r[keep].tolist()) == sorted(set(recips))
    for i in keep:
        assert u[i] == u[r == r[i]].min()
