"""Word of mouth on the network, and referrals.

Who talks. A customer with an experience of firm j (current or last) talks in a period with

    τ_i = τ⁺ · ((S − θ⁺)/(1 − θ⁺))₊  +  τ⁻ · ((θ⁻ − S)/(1 + θ⁻))₊

(U-shaped in satisfaction, Anderson 1998). A positive talk reaches R⁺ neighbours, a
negative one R⁻ (R⁻ > R⁺: dissatisfied customers tell more people, TARP). A customer whose
complaint was just resolved quickly talks positively to R_rec neighbours (seed 002: tells
5 others); one left unresolved talks negatively to R_unres (TARP: 9–10). Neighbours are
drawn at random, with replacement, from the talker's ties.

What a message does to the recipient r about firm j, with valence v = ±1, weight
w = |S_talker| (× the negative weight ν for negative messages):

- r becomes aware of j;
- attitude A_rj += v · w (attitude decays by δ each period);
- expectation E_rj moves towards the talker's remembered performance M (see
  :mod:`sim.expectations`): with total weight W_rj of messages heard, by 1 − (1 − ψ)^W_rj;
- a negative message is remembered (talker, firm, period) to attribute a later loss.

Referrals. A positive message from a talker with S ≥ θ_ref brings a recipient who is not
j's customer to j with probability ρ = ρ₀ (1 + g · reward_j / p_ref) · exp(−ζ γ_r), where
γ_r is the recipient's full switching cost with a current firm, baseline inertia included
(0 if none): a friend's word must overcome the whole attachment to a rival. A recipient
referred by several talkers in one period follows the one with the lowest random draw.
"""

from __future__ import annotations

import numpy as np

__all__ = ["talk_probability", "sample_messages", "pick_referrals"]


def talk_probability(S, pos_threshold, neg_threshold, pos_talk, neg_talk):
    pos = pos_talk * np.clip((S - pos_threshold) / max(1.0 - pos_threshold, 1e-9), 0.0, 1.0)
    neg = neg_talk * np.clip((neg_threshold - S) / max(1.0 + neg_threshold, 1e-9), 0.0, 1.0)
    return pos, neg


def sample_messages(talkers, reach, indptr, indices, rng):
    """Return (sender, recipient) arrays: each talker tells ``reach`` random neighbours."""
    deg = indptr[talkers + 1] - indptr[talkers]
    ok = (deg > 0) & (reach > 0)
    talkers, reach, deg = talkers[ok], reach[ok], deg[ok]
    sender = np.repeat(talkers, reach)
    d = np.repeat(deg, reach)
    start = np.repeat(indptr[talkers], reach)
    pick = start + (rng.random(sender.size) * d).astype(np.int64)
    return sender, indices[pick].astype(np.int64)


def pick_referrals(recipient, u):
    """Among candidate referral messages (one row each), keep one per recipient: the one
    with the smallest draw ``u``. Returns the indices of kept rows."""
    if recipient.size == 0:
        return np.empty(0, np.int64)
    order = np.lexsort((u, recipient))
    r = recipient[order]
    first = np.concatenate(([True], r[1:] != r[:-1]))
    return order[first]
