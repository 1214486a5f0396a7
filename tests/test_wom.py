"""Kernels of sim/wom.py: talk probabilities U-shaped and bounded; messages go to
neighbours; one referral per recipient."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from sim import ModelParams, accel
from sim.network import build_network
from sim.wom import (
    _content_jit,
    _hear_jit,
    _talkers,
    _talkers_compiled,
    hear_messages,
    message_content,
    pick_referrals,
    sample_messages,
    talk_probability,
)

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


@FAST
@given(st.integers(0, 2**31), st.integers(0, 12))
def test_compiled_messages_equal_the_numpy_reference(seed, n_talkers):
    """Same draws, same messages; isolated talkers and zero reach send nothing."""
    rng = np.random.default_rng(seed)
    net = build_network("random", 30, 1, 0.0, rng)  # sparse: some customers have no tie
    talkers = np.sort(rng.choice(30, n_talkers, replace=False))
    reach = rng.integers(0, 4, n_talkers)
    out = {}
    for on in (True, False):
        with accel.use(on):
            out[on] = sample_messages(
                talkers, reach, net.indptr, net.indices, np.random.default_rng(seed)
            )
    for a, b in zip(out[True], out[False], strict=True):
        assert np.array_equal(a, b) and a.dtype == b.dtype
    deg = np.diff(net.indptr)[talkers]
    assert out[True][0].size == reach[deg > 0].sum()


def _talk_state(seed: int, n: int, k: int, complaints: bool) -> SimpleNamespace:
    rng = np.random.default_rng(seed)
    nb = int(rng.integers(0, n + 1))
    return SimpleNamespace(
        params=ModelParams(),
        pop=SimpleNamespace(
            last_firm=rng.integers(-1, k, n).astype(np.int16),
            experienced=rng.random(n) < 0.8,
            satisfaction=rng.choice([-1.0, -0.3, 0.5, 1.0, *rng.uniform(-1, 1, 4)], n),
        ),
        L={"active": rng.random(k) < 0.8},
        n=n,
        buyers=rng.permutation(n)[:nb],
        outcome=rng.integers(0, 4, nb).astype(np.int8) if complaints else None,
        rng=np.random.default_rng(seed + 1),
    )


@FAST
@given(st.integers(0, 2**31), st.integers(0, 40), st.integers(1, 3), st.booleans())
def test_compiled_talkers_equal_the_numpy_reference(seed, n, k, complaints):
    valence, reach = _talkers(_talk_state(seed, n, k, complaints))
    v, talkers, reach_t = _talkers_compiled(_talk_state(seed, n, k, complaints))
    assert np.array_equal(valence, v) and valence.dtype == v.dtype
    assert np.array_equal(talkers, np.nonzero(valence)[0])
    assert np.array_equal(reach[talkers], reach_t) and reach_t.dtype == reach.dtype


@FAST
@given(st.integers(0, 2**31), st.integers(1, 30), st.integers(1, 3), st.integers(1, 60))
def test_compiled_message_effects_equal_the_numpy_reference(seed, n, k, m):
    """Message content, per-firm counts, the sums heard, who newly hears of a firm and the
    negative messages remembered, duplicates included (the stage stops before this
    without messages)."""
    rng = np.random.default_rng(seed)
    sender, recip = rng.integers(0, n, m), rng.integers(0, n, m)
    valence = rng.choice(np.array([-1, 0, 1], np.int8), n)
    valence[sender] = rng.choice(np.array([-1, 1], np.int8), m)
    last_firm = rng.integers(0, k, n).astype(np.int16)
    S = rng.choice([0.0, -1.0, 1e-4, *rng.uniform(-1, 1, 3)], n)
    args = (sender, valence, last_firm, S, float(rng.choice([1.0, 2.5])), k)
    want, got = message_content(*args), _content_jit(*args)
    for a, b in zip(want, got, strict=True):
        assert np.array_equal(a, b) and a.dtype == b.dtype
    f, val, w, neg, counts = want
    assert counts.sum() == m and np.all(w >= 1e-3)
    att = np.where(rng.random((n, k)) < 0.2, -0.0, rng.normal(size=(n, k)))
    cols = (
        att,
        rng.random((n, k)) < 0.5,
        rng.integers(-1, n, n),
        rng.integers(-1, k, n).astype(np.int16),
        rng.integers(-5, 0, n).astype(np.int32),
    )
    mine = [c.copy() for c in cols]
    perf = rng.uniform(0, 1, n)
    want = hear_messages(recip, f, sender, val, w, perf, *cols, 7)
    slot = np.full(n * k, -1, np.int64)
    newly, keys, wsum, csum = _hear_jit(recip, f, sender, val, w, perf, *mine, 7, slot)
    assert np.all(slot == -1) and np.unique(keys).size == keys.size  # map reset; pairs once
    dense = []
    for sparse in (wsum, csum):
        d = np.zeros(n * k)
        d[keys] = sparse
        dense.append(d.reshape(n, k))
    got = (newly, *dense)
    assert np.array_equal(att.view(np.int64), mine[0].view(np.int64))  # -0.0 too
    for a, b in zip((*want, *cols[1:]), (*got, *mine[1:]), strict=True):
        assert np.array_equal(a, b) and a.dtype == b.dtype
    assert np.all(cols[4][recip[val < 0]] == 7)  # negative messages remembered
