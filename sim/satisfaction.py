"""Satisfaction by expectation–disconfirmation (Oliver 1980), asymmetric, and memory.

Transaction satisfaction of a buyer with perceived performance P, expectation E and
price paid p:

    d = P − E
    g(d) = λ⁺ d  if d ≥ 0,   λ⁻ d  if d < 0          (λ⁻ > λ⁺: a shortfall hurts more)
    x = tanh( κ_P (P − P₀) + g(d) − κ_p (p / p_ref − 1) )       ∈ (−1, 1)

Remembered satisfaction S (what drives talk, loyalty and churn):

- ``exponential`` (cumulative satisfaction, Johnson, Anderson & Fornell 1995):
  S ← (1 − ω) S + ω x, where ω = ω_p (> ω) for a problem experience (a shortfall
  E − P > δ_P, complained about or not): problems are salient moments
- ``peak_end`` (Kahneman's peak-end rule, seed 003): the peak is the most extreme x
  of the relationship; S = (1 − ω) · peak + ω · x_last.

A new relationship (or a purchase from a firm other than the last one used) resets the
memory: S = peak = x.

A remembered experience can be revised later (a complaint resolved late): the incident
remembered as x_old is re-valued as x_new. Exponential memory: S ← S + ω (x_new − x_old);
peak-end: the peak is re-valued if it was that incident, then S = (1 − ω) peak + ω last.
"""

from __future__ import annotations

import numpy as np

from . import accel
from .stages import PeriodState, Stage

__all__ = [
    "MemoryStage",
    "TransactionStage",
    "remember",
    "revise",
    "transaction_satisfaction",
]


def transaction_satisfaction(
    perf,
    expect,
    paid,
    ref_price,
    *,
    performance_weight,
    neutral_performance,
    gain_weight,
    loss_weight,
    price_weight,
):
    """Return (x, d, z, loss): satisfaction, disconfirmation, the argument of tanh and
    the shortfall's whole effect on it, ℓ = (κ_P + λ⁻) · min(d, 0) (≤ 0): what z lost
    because performance fell short of the expectation (its direct part and the
    disconfirmation), which complaint handling can undo."""
    d = perf - expect
    short = np.minimum(d, 0.0)
    g = np.where(d >= 0, gain_weight * d, loss_weight * short)
    loss = (loss_weight + performance_weight) * short
    z = (
        performance_weight * (perf - neutral_performance)
        + g
        - price_weight * (paid / ref_price - 1.0)
    )
    return np.tanh(z), d, z, loss


def remember(S, peak, last, x, fresh, rule: str, omega: float):
    """Update (S, peak, last) in place at the given positions (already indexed arrays are
    returned). ``fresh`` marks first experiences with the firm."""
    if rule == "peak_end":
        new_peak = np.where(fresh | (np.abs(x) > np.abs(peak)), x, peak)
        new_S = (1.0 - omega) * new_peak + omega * x
    else:
        new_peak = np.where(fresh | (np.abs(x) > np.abs(peak)), x, peak)
        new_S = (1.0 - omega) * S + omega * x
    new_S = np.where(fresh, x, new_S)
    return np.clip(new_S, -1.0, 1.0), new_peak, x


def revise(S, peak, last, x_old, x_new, rule: str, omega: float):
    """Re-value a remembered experience from ``x_old`` to ``x_new`` (see module doc)."""
    if rule == "peak_end":
        new_peak = np.where(np.isclose(peak, x_old), x_new, peak)
        new_last = np.where(np.isclose(last, x_old), x_new, last)
        new_S = (1.0 - omega) * new_peak + omega * new_last
    else:
        new_peak, new_last = peak, last
        new_S = S + omega * (x_new - x_old)
    return np.clip(new_S, -1.0, 1.0), new_peak, new_last


@accel.jit
def _transaction_nb(
    buyers, bf, perf, expect, paid, new_relationship, last_firm, consts
):  # pragma: no cover - compiled
    """The transaction stage in one pass: (E before, tanh argument z, loss ℓ, fresh,
    problem, ω) per buyer (numba; :func:`transaction_satisfaction` and the stage's numpy
    code are the reference; tanh stays numpy's). ``consts``: p_ref, κ_P, P₀, λ⁺, λ⁻,
    κ_p, δ_P, ω_p, ω."""
    ref_price, kp, p0, gain, lw, kprice = (
        consts[0],
        consts[1],
        consts[2],
        consts[3],
        consts[4],
        consts[5],
    )
    threshold, w_problem, w_memory = consts[6], consts[7], consts[8]
    n = buyers.size
    e_pre, z, loss, omega = np.empty(n), np.empty(n), np.empty(n), np.empty(n)
    fresh, problem = np.empty(n, np.bool_), np.empty(n, np.bool_)
    for i in range(n):
        b, j = buyers[i], bf[i]
        e = expect[b, j]
        d = perf[i] - e
        short = d if d <= 0.0 else 0.0  # np.minimum(d, 0.0), signed zeros included
        g = gain * d if d >= 0 else lw * short
        e_pre[i] = e
        loss[i] = (lw + kp) * short
        z[i] = kp * (perf[i] - p0) + g - kprice * (paid[i] / ref_price - 1.0)
        fresh[i] = new_relationship[i] or last_firm[b] != j
        problem[i] = (e - perf[i]) > threshold
        omega[i] = w_problem if problem[i] else w_memory
    return e_pre, z, loss, fresh, problem, omega


class TransactionStage(Stage):
    """Transaction satisfaction: experience against expectation and the price paid."""

    name = "satisfaction"

    def __call__(self, s: PeriodState) -> None:
        sp, pop, buyers, bf = s.params.satisfaction, s.pop, s.buyers, s.buyer_firm
        if accel.enabled():
            consts = np.array(
                [s.params.market.reference_price, sp.performance_weight, sp.neutral_performance,
                 sp.gain_weight, sp.loss_weight, sp.price_weight, sp.problem_threshold,
                 sp.problem_weight, sp.memory_weight]
            )  # fmt: skip
            s.expect_before, s.z, s.loss, s.fresh, s.problem, s.omega = _transaction_nb(
                buyers, bf, s.perf, pop.expect, s.paid, s.new_relationship, pop.last_firm, consts
            )
            s.x = np.tanh(s.z)  # numpy's tanh, as the reference
            return
        s.expect_before = e_pre = pop.expect[buyers, bf]
        s.x, _, s.z, s.loss = transaction_satisfaction(
            s.perf,
            e_pre,
            s.paid,
            s.params.market.reference_price,
            performance_weight=sp.performance_weight,
            neutral_performance=sp.neutral_performance,
            gain_weight=sp.gain_weight,
            loss_weight=sp.loss_weight,
            price_weight=sp.price_weight,
        )
        s.fresh = s.new_relationship | (pop.last_firm[buyers] != bf)
        s.problem = (e_pre - s.perf) > sp.problem_threshold
        s.omega = np.where(s.problem, sp.problem_weight, sp.memory_weight)


@accel.jit
def _memory_nb(
    buyers, bf, x, fresh, omega, perf, peak_end, om, t,
    satisfaction, peak, last_x, perf_memory, last_firm, last_buy, experienced, tried,
):  # fmt: skip  # pragma: no cover - compiled
    """The memory stage's updates in one pass, in place (numba; :func:`remember` and the
    stage's numpy code are the reference)."""
    for i in range(buyers.size):
        b, j, xi, w, new = buyers[i], bf[i], x[i], omega[i], fresh[i]
        old_peak = peak[b]
        new_peak = xi if new | (abs(xi) > abs(old_peak)) else old_peak
        s_peak_end = (1.0 - w) * new_peak + w * xi
        s_exponential = (1.0 - w) * satisfaction[b] + w * xi
        S = s_peak_end if peak_end else s_exponential
        S = xi if new else S
        satisfaction[b] = min(max(S, -1.0), 1.0)
        peak[b] = new_peak
        last_x[b] = xi
        pm = (1 - om) * perf_memory[b] + om * perf[i]
        perf_memory[b] = perf[i] if new else pm
        last_firm[b] = j
        last_buy[b] = t
        experienced[b] = True
        tried[b, j] = True


class MemoryStage(Stage):
    """Remembered satisfaction: buyers fold the transaction into memory."""

    name = "memory"

    def __call__(self, s: PeriodState) -> None:
        sp, pop, buyers, bf = s.params.satisfaction, s.pop, s.buyers, s.buyer_firm
        self._iceberg(s)
        if accel.enabled():
            _memory_nb(
                buyers, bf, s.x, s.fresh, s.omega, s.perf, sp.memory == "peak_end",
                float(sp.memory_weight), s.t, pop.satisfaction, pop.peak, pop.last_x,
                pop.perf_memory, pop.last_firm, pop.last_buy, pop.experienced, pop.tried,
            )  # fmt: skip
            return
        S, peak, last = remember(
            pop.satisfaction[buyers],
            pop.peak[buyers],
            pop.last_x[buyers],
            s.x,
            s.fresh,
            sp.memory,
            s.omega,
        )
        pop.satisfaction[buyers], pop.peak[buyers], pop.last_x[buyers] = S, peak, last
        om = sp.memory_weight
        pop.perf_memory[buyers] = np.where(
            s.fresh, s.perf, (1 - om) * pop.perf_memory[buyers] + om * s.perf
        )
        pop.last_firm[buyers] = bf
        pop.last_buy[buyers] = s.t
        pop.experienced[buyers] = True
        pop.tried[buyers, bf] = True

    @staticmethod
    def _iceberg(s: PeriodState) -> None:
        """The complaint iceberg: every problem (a shortfall above δ, or a complaint) counts
        in the ``problems`` flow; silent ones are logged as ``problem`` events."""
        from .complaints import SILENT

        if s.problem is None:
            return
        complained = (s.outcome != SILENT) if s.outcome is not None else np.zeros_like(s.problem)
        s.count("problems", s.buyer_firm[s.problem | complained])
        silent = s.problem & ~complained
        if silent.any():
            s.event(
                "problem",
                s.buyers[silent],
                s.buyer_firm[silent],
                value=(s.expect_before - s.perf)[silent],
                detail="silent",
            )
