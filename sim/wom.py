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

from . import accel
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
    """Return (sender, recipient) arrays: each talker tells ``reach`` random neighbours.

    The numpy code is the reference; with compiled kernels on, :func:`_messages_jit`
    builds the same arrays from the same draws (one uniform per message)."""
    if accel.enabled():
        u = rng.random(_n_messages_jit(talkers, reach, indptr))
        return _messages_jit(talkers, reach, indptr, indices, u)
    deg = indptr[talkers + 1] - indptr[talkers]
    ok = (deg > 0) & (reach > 0)
    talkers, reach, deg = talkers[ok], reach[ok], deg[ok]
    sender = np.repeat(talkers, reach)
    d = np.repeat(deg, reach)
    start = np.repeat(indptr[talkers], reach)
    pick = start + (rng.random(sender.size) * d).astype(np.int64)
    return sender, indices[pick].astype(np.int64)


@accel.jit
def _n_messages_jit(talkers, reach, indptr):  # pragma: no cover - reference: sample_messages
    total = 0
    for m in range(talkers.size):
        if indptr[talkers[m] + 1] > indptr[talkers[m]] and reach[m] > 0:
            total += reach[m]
    return total


@accel.jit
def _messages_jit(talkers, reach, indptr, indices, u):  # pragma: no cover - see sample_messages
    sender, recip = np.empty(u.size, np.int64), np.empty(u.size, np.int64)
    q = 0
    for m in range(talkers.size):
        i = talkers[m]
        start, deg = np.int64(indptr[i]), np.int64(indptr[i + 1] - indptr[i])
        if deg <= 0:
            continue
        for _ in range(reach[m]):
            sender[q] = i
            recip[q] = indices[start + np.int64(u[q] * deg)]
            q += 1
    return sender, recip


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


def _hear(s: PeriodState, sender, recip, f, val, w, slot=None) -> np.ndarray | None:
    """Recipients learn of the firm, move their attitude, remember negative messages.

    Returns the compiled path's pair-to-row map ``slot`` (kept by the stage for the next
    period), or None."""
    pop = s.pop
    cols = (pop.perf_memory, pop.attitude, pop.aware, pop.neg_src, pop.neg_firm, pop.neg_t)
    if accel.enabled():  # sparse sums (only the pairs heard), see _hear_jit
        if slot is None or slot.size != pop.attitude.size:
            slot = np.full(pop.attitude.size, -1, np.int64)
        newly, *heard = _hear_jit(recip, f, sender, val, w, *cols, s.t, slot)
        s.wom_heard = tuple(heard)
    else:
        newly, s.wom_weight_sum, s.wom_content_sum = hear_messages(
            recip, f, sender, val, w, *cols, s.t
        )
    if newly.size:
        r_new, f_new = recip[newly], f[newly]
        pop.aware[r_new, f_new] = True
        pop.aware_via[r_new, f_new] = VIA_WOM
        pop.aware_src[r_new, f_new] = sender[newly]  # who told them (cascades)
        first_expectations(s, r_new, f_new)
    if s.n <= HEARD_LOG_MAX:
        s.event("heard", recip, f, other=sender, value=val)
    return slot


def _talkers_compiled(s: PeriodState) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(valence, talkers, their reach): :func:`_talkers` in one compiled pass."""
    wp, pop = s.params.wom, s.pop
    u = s.rng.random(s.n)
    quick = unres = _EMPTY
    if s.outcome is not None:
        quick, unres = s.buyers[s.outcome == QUICK], s.buyers[s.outcome == UNRESOLVED]
    th = np.array(
        [
            wp.positive_threshold,
            max(1.0 - wp.positive_threshold, 1e-9),
            wp.positive_talk,
            wp.negative_threshold,
            max(1.0 + wp.negative_threshold, 1e-9),
            wp.negative_talk,
        ]
    )
    reaches = np.array(
        [wp.positive_reach, wp.negative_reach, wp.recovery_reach, wp.unresolved_reach], np.int64
    )
    out = (np.zeros(s.n, np.int8), np.zeros(s.n, np.int64))  # calloc: cheap zeros
    cols = (pop.last_firm, pop.experienced, pop.satisfaction, s.L["active"])
    return _talk_jit(*cols, u, th, reaches, quick, unres, *out)


_EMPTY = np.empty(0, np.int64)


@accel.jit
def _talk_jit(
    last_firm, experienced, satisfaction, active, u, th, reaches, quick, unres, valence, reach
):  # pragma: no cover - compiled; the reference is _talkers (valence, reach: zeroed)
    n = u.size
    for i in range(n):
        lf = last_firm[i]
        if not experienced[i] or lf < 0 or not active[lf]:
            continue
        S = satisfaction[i]
        pos = th[2] * min(max((S - th[0]) / th[1], 0.0), 1.0)
        neg = th[5] * min(max((th[3] - S) / th[4], 0.0), 1.0)
        if u[i] < pos:
            valence[i], reach[i] = 1, reaches[0]
        elif u[i] < pos + neg:
            valence[i], reach[i] = -1, reaches[1]
    for i in quick:
        valence[i], reach[i] = 1, reaches[2]
    for i in unres:
        valence[i], reach[i] = -1, reaches[3]
    talkers = np.nonzero(valence)[0]
    return valence, talkers, reach[talkers]


def message_content(sender, valence, last_firm, satisfaction, negative_weight, k):
    """What each message says (the numpy reference of :func:`_content_jit`).

    Returns:
        (f, val, w, neg, counts): per message the firm (the talker's last), valence ±1,
        weight w = max(|S_talker| · (ν if negative else 1), 0.001) and whether it is
        negative; ``counts`` (2, K): positive and negative messages per firm.
    """
    f = last_firm.astype(np.int64)[sender]
    val = valence[sender].astype(float)
    w = np.maximum(np.abs(satisfaction[sender]) * np.where(val < 0, negative_weight, 1.0), 1e-3)
    neg = val < 0
    counts = np.array(
        [np.bincount(f[~neg], minlength=k), np.bincount(f[neg], minlength=k)], dtype=float
    )
    return f, val, w, neg, counts


@accel.jit
def _content_jit(
    sender, valence, last_firm, satisfaction, negative_weight, k
):  # pragma: no cover - compiled; the reference is message_content
    n = sender.size
    f, val, w, neg = np.empty(n, np.int64), np.empty(n), np.empty(n), np.empty(n, np.bool_)
    counts = np.zeros((2, k))
    for m in range(n):
        i = sender[m]
        f[m], val[m], neg[m] = last_firm[i], valence[i], valence[i] < 0
        w[m] = max(abs(satisfaction[i]) * (negative_weight if neg[m] else 1.0), 1e-3)
        counts[1 if neg[m] else 0, f[m]] += 1.0
    return f, val, w, neg, counts


def hear_messages(
    recip, f, sender, val, w, perf_memory, attitude, aware, neg_src, neg_firm, neg_t, t
):
    """What the messages do to their recipients (the numpy reference of :func:`_hear_jit`).

    A_rj += Σ v·w over the messages r heard about j (``attitude`` changed in place); a
    negative message is remembered (``neg_src``, ``neg_firm``, ``neg_t``: the last one
    heard wins).

    Returns:
        (newly, W, C): indices of the messages whose recipient did not know the firm
        (``aware`` is not changed here); (N, K) arrays W_rj = Σ w, the weight of the
        messages heard, and C_rj = Σ w·M_talker, their weighted content (sums in message
        order).
    """
    n, k = attitude.shape
    newly = np.nonzero(~aware[recip, f])[0]
    key = recip * k + f
    attitude.reshape(-1)[:] += np.bincount(key, val * w, minlength=n * k)
    wsum = np.bincount(key, w, minlength=n * k).reshape(n, k)
    csum = np.bincount(key, w * perf_memory[sender], minlength=n * k).reshape(n, k)
    neg = val < 0
    if neg.any():  # negative messages remembered for attributing losses
        neg_src[recip[neg]] = sender[neg]
        neg_firm[recip[neg]] = f[neg]
        neg_t[recip[neg]] = t
    return newly, wsum, csum


@accel.jit
def _hear_jit(
    recip, f, sender, val, w, perf_memory, attitude, aware, neg_src, neg_firm, neg_t, t, slot
):  # pragma: no cover - compiled; the reference is hear_messages
    """:func:`hear_messages` with sparse sums: ``slot`` (N·K, all −1 on entry and on
    return) maps a pair r·K + j to its row among the pairs heard this period. Returns
    (newly, keys, W, C): the pairs heard (flat r·K + j, in order of first message) and
    their sums, each in message order as in the reference."""
    n, k = attitude.shape
    newly = np.empty(recip.size, np.int64)
    keys = np.empty(recip.size, np.int64)
    sums = np.zeros((recip.size, 3))  # change of A, W, C per pair heard
    q = nk = 0
    for m in range(recip.size):
        r, j = recip[m], f[m]
        if not aware[r, j]:
            newly[q] = m
            q += 1
        key = r * k + j
        p = slot[key]
        if p < 0:
            p = nk
            slot[key] = nk
            keys[nk] = key
            nk += 1
        sums[p, 0] += val[m] * w[m]
        sums[p, 1] += w[m]
        sums[p, 2] += w[m] * perf_memory[sender[m]]
        if val[m] < 0:
            neg_src[r], neg_firm[r], neg_t[r] = sender[m], j, t
    flat = attitude.reshape(-1)
    for i in range(flat.size):  # A + 0.0 where nothing was heard (−0.0 becomes 0.0)
        flat[i] += 0.0
    for p in range(nk):
        flat[keys[p]] += sums[p, 0]
        slot[keys[p]] = -1
    return newly[:q], keys[:nk], sums[:nk, 1].copy(), sums[:nk, 2].copy()


class WordOfMouthStage(Stage):
    """Word of mouth: customers talk to neighbours; awareness, attitude and content move."""

    name = "wom"
    stream = "wom"
    section = "wom"

    def __call__(self, s: PeriodState) -> None:
        wp, pop = s.params.wom, s.pop
        if accel.enabled():
            valence, talkers, reach_t = _talkers_compiled(s)
        else:
            valence, reach = _talkers(s)
            talkers = np.nonzero(valence != 0)[0]
            reach_t = reach[talkers]
        net = s.model.network
        sender, recip = net.sample_neighbors(talkers, reach_t, s.rng)
        if sender.size == 0:
            return
        content = _content_jit if accel.enabled() else message_content
        f, val, w, neg, counts = content(
            sender, valence, pop.last_firm, pop.satisfaction, wp.negative_weight, s.k
        )
        s.fl["wom_pos"] += counts[0]
        s.fl["wom_neg"] += counts[1]
        self._slot = _hear(s, sender, recip, f, val, w, getattr(self, "_slot", None))
        s.messages = {"sender": sender, "recipient": recip, "firm": f, "negative": neg}


class ForgetStage(Stage):
    """Attitudes from word of mouth decay (A ← δ_A · A)."""

    name = "forgetting"
    section = "wom"

    def __call__(self, s: PeriodState) -> None:
        decay = s.params.wom.attitude_decay
        if decay < 1.0:
            s.pop.attitude *= decay
