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
- attitude A_rj += v · w (attitudes decay, A ← δ_A · A, each period);
- expectation E_rj moves towards the talker's remembered performance M (see
  :mod:`sim.expectations`): with total weight W_rj of messages heard, by 1 − (1 − ψ)^W_rj;
- a negative message is remembered (talker, firm, period) to attribute a later loss.

Referrals. A positive message from a talker with S ≥ θ_ref brings a recipient who is not
j's customer to j with probability ρ = ρ₀ (1 + κ_r · reward_j / p_ref) · exp(−ζ γ_r), where
γ_r is the recipient's full switching cost with a current firm, baseline inertia included
(0 if none): a friend's word must overcome the whole attachment to a rival. A recipient
referred by several talkers in one period follows the one with the lowest random draw.
"""

from __future__ import annotations

import numpy as np

from .complaints import QUICK, UNRESOLVED
from .expectations import first_expectations
from .population import VIA_WOM
from .stages import PeriodState, Stage

__all__ = [
    "ForgetStage",
    "WordOfMouthStage",
    "pick_referrals",
    "sample_messages",
    "talk_probability",
]

#: the event log keeps "heard" events only for markets up to this size
HEARD_LOG_MAX = 20_000


def talk_probability(S, positive_threshold, negative_threshold, positive_talk, negative_talk):
    """(τ⁺ part, τ⁻ part) of the talk probability for satisfaction ``S`` (module docstring).

    Examples:
        >>> [float(x[0]) for x in talk_probability(np.array([1.0]), 0.5, -0.3, 0.4, 0.6)]
        [0.4, 0.0]
    """
    th_pos, th_neg = positive_threshold, negative_threshold
    pos = positive_talk * np.clip((S - th_pos) / max(1.0 - th_pos, 1e-9), 0.0, 1.0)
    neg = negative_talk * np.clip((th_neg - S) / max(1.0 + th_neg, 1e-9), 0.0, 1.0)
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


def _talkers(s: PeriodState) -> tuple[np.ndarray, np.ndarray]:
    """Valence (+1, -1, 0) and reach of every customer this period."""
    wp, pop = s.params.wom, s.pop
    lf = pop.last_firm.astype(np.int64)
    can = pop.experienced & (lf >= 0)
    can &= s.L["active"][np.where(lf >= 0, lf, 0)]
    p_pos, p_neg = talk_probability(
        pop.satisfaction,
        wp.positive_threshold,
        wp.negative_threshold,
        wp.positive_talk,
        wp.negative_talk,
    )
    u = s.rng.random(s.n)
    valence = np.zeros(s.n, np.int8)
    valence[can & (u < p_pos)] = 1
    valence[can & (u >= p_pos) & (u < p_pos + p_neg)] = -1
    reach = np.where(valence > 0, wp.positive_reach, np.where(valence < 0, wp.negative_reach, 0))
    if s.outcome is not None:  # complaint outcomes override: quick → R_rec; unresolved → R_unres
        quick = s.buyers[s.outcome == QUICK]
        unres = s.buyers[s.outcome == UNRESOLVED]
        valence[quick], reach[quick] = 1, wp.recovery_reach
        valence[unres], reach[unres] = -1, wp.unresolved_reach
    return valence, reach


def _hear(s: PeriodState, sender, recip, f, val, w) -> None:
    """Recipients learn of the firm, move their attitude, remember negative messages."""
    pop, n, k = s.pop, s.n, s.k
    newly = ~pop.aware[recip, f]
    if newly.any():
        r_new, f_new = recip[newly], f[newly]
        pop.aware[r_new, f_new] = True
        pop.aware_via[r_new, f_new] = VIA_WOM
        pop.aware_src[r_new, f_new] = sender[newly]  # who told them (cascades)
        first_expectations(s, r_new, f_new)
    key = recip * k + f
    nk = n * k
    pop.attitude.reshape(-1)[:] += np.bincount(key, val * w, minlength=nk)
    s.wom_weight_sum = np.bincount(key, w, minlength=nk).reshape(n, k)
    s.wom_content_sum = np.bincount(key, w * pop.perf_memory[sender], minlength=nk).reshape(n, k)
    neg = val < 0
    if neg.any():  # negative messages remembered for attributing losses
        pop.neg_src[recip[neg]] = sender[neg]
        pop.neg_firm[recip[neg]] = f[neg]
        pop.neg_t[recip[neg]] = s.t
    if n <= HEARD_LOG_MAX:
        s.event("heard", recip, f, other=sender, value=val)


class WordOfMouthStage(Stage):
    """Word of mouth: customers talk to neighbours; awareness, attitude and content move."""

    name = "wom"
    stream = "wom"
    section = "wom"

    def __call__(self, s: PeriodState) -> None:
        wp, pop = s.params.wom, s.pop
        valence, reach = _talkers(s)
        talkers = np.nonzero(valence != 0)[0]
        net = s.model.network
        sender, recip = net.sample_neighbors(talkers, reach[talkers], s.rng)
        if sender.size == 0:
            return
        f = pop.last_firm.astype(np.int64)[sender]
        val = valence[sender].astype(float)
        w = np.abs(pop.satisfaction[sender]) * np.where(val < 0, wp.negative_weight, 1.0)
        w = np.maximum(w, 1e-3)
        neg = val < 0
        s.fl["wom_pos"] += np.bincount(f[~neg], minlength=s.k)
        s.fl["wom_neg"] += np.bincount(f[neg], minlength=s.k)
        _hear(s, sender, recip, f, val, w)
        s.messages = {"sender": sender, "recipient": recip, "firm": f, "negative": neg}


class ForgetStage(Stage):
    """Attitudes from word of mouth decay (A ← δ_A · A)."""

    name = "forgetting"
    section = "wom"

    def __call__(self, s: PeriodState) -> None:
        decay = s.params.wom.attitude_decay
        if decay < 1.0:
            s.pop.attitude *= decay
