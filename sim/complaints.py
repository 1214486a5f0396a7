"""Complaints and their handling.

A buyer with a problem (a shortfall E − P above the problem threshold δ) complains
with probability

    c_i = e_j · c_max · (1 − exp(−(E − P) / d₀))

(e_j: how easy firm j makes complaining). The firm resolves a complaint with
probability r_j; a resolved one is quick with probability v_j, otherwise it is resolved
``late_delay`` periods later. Handling undoes part of the shortfall's whole effect on the
transaction's satisfaction: ℓ = (κ_P + λ⁻) · min(P − E, 0), what the argument z of tanh
lost because performance fell short of the expectation (see :mod:`sim.satisfaction`):

    x' = tanh( z − r_o · ℓ  +  π · [quick and first failure] )

with r_unresolved < r_late < r_quick (r_quick = 1: as if the expectation had been met).
π is the recovery paradox (0 by default: it shows on satisfaction but not reliably on
behaviour, de Matos et al. 2007; first failures only, Maxham & Netemeyer 2002). A late
resolution acts first as unresolved; when it arrives the customer re-values the
remembered incident with r_late (see :func:`sim.satisfaction.revise`). A silent customer
keeps x = tanh(z). So, for the same shortfall, remembered satisfaction (and with it
repurchase and word of mouth) is ordered: silent < unresolved < resolved late < quick.
"""

from __future__ import annotations

import numpy as np

from . import accel
from .satisfaction import revise
from .stages import PeriodState, Stage

__all__ = [
    "ComplaintStage",
    "LateResolutionStage",
    "PendingResolutions",
    "complaint_probability",
    "recover",
    "recovery_share",
    "SILENT",
    "QUICK",
    "LATE",
    "UNRESOLVED",
    "OUTCOME_NAMES",
]

SILENT, QUICK, LATE, UNRESOLVED = 0, 1, 2, 3
OUTCOME_NAMES = {
    SILENT: "silent",
    QUICK: "resolved_quick",
    LATE: "resolved_late",
    UNRESOLVED: "unresolved",
}


def complaint_probability(shortfall, complaint_ease, max_prob, shortfall_scale, threshold=0.0):
    """c_i = e_j · c_max · (1 − exp(−(E − P) / d₀)) for a problem (E − P > δ_P), else 0:
    customers complain only about problems.

    Args:
        shortfall: E − P per buyer.
        complaint_ease: e_j, the firm's ``complaint_ease`` per buyer.
        max_prob: c_max (``complaints.max_prob``).
        shortfall_scale: d₀ (``complaints.shortfall_scale``).
        threshold: δ_P (``satisfaction.problem_threshold``); 0 counts every shortfall.

    Examples:
        >>> complaint_probability(np.array([-0.1, 0.0, 0.1]), 1.0, 0.5, 0.15, 0.15).tolist()
        [0.0, 0.0, 0.0]
    """
    d = np.maximum(shortfall, 0.0)
    return (
        complaint_ease
        * max_prob
        * (1.0 - np.exp(-d / shortfall_scale))
        * (shortfall > max(threshold, 0.0))
    )


def recovery_share(outcome, *, r_unresolved, r_late, r_quick, interim=True):
    """r_o per outcome (LATE gets r_unresolved while pending when ``interim``)."""
    return np.select(
        [outcome == QUICK, outcome == LATE, outcome == UNRESOLVED],
        [r_quick, r_unresolved if interim else r_late, r_unresolved],
        0.0,
    )


def recover(z, loss, outcome, first_failure, *, r_unresolved, r_late, r_quick, paradox):
    """x' after the complaint outcome (for LATE: the interim, unresolved value)."""
    r = recovery_share(outcome, r_unresolved=r_unresolved, r_late=r_late, r_quick=r_quick)
    bonus = np.where((outcome == QUICK) & first_failure, paradox, 0.0)
    return np.tanh(z - r * loss + bonus)


class PendingResolutions:
    """Complaints to be resolved late: customer, firm, due period, and what the
    incident was remembered as (z, loss, memory weight w)."""

    FIELDS = ("customer", "firm", "due", "z", "loss", "w")

    def __init__(self) -> None:
        ints = ("customer", "firm", "due")
        for f in self.FIELDS:
            setattr(self, f, np.empty(0, np.int64 if f in ints else float))

    def add(self, **cols: np.ndarray) -> None:
        """Append rows (one array per field)."""
        for f in self.FIELDS:
            setattr(self, f, np.concatenate([getattr(self, f), cols[f]]))

    def pop_due(self, t: int) -> dict[str, np.ndarray] | None:
        """Remove and return the rows due by period ``t`` (None if there are none)."""
        due = self.due <= t
        if not due.any():
            return None
        out = {f: getattr(self, f)[due] for f in self.FIELDS}
        for f in self.FIELDS:
            setattr(self, f, getattr(self, f)[~due])
        return out


class ComplaintStage(Stage):
    """Complaints: buyers with a shortfall may complain; the firm resolves some, quick or late."""

    name = "complaints"
    stream = "complaints"
    section = "complaints"

    def __call__(self, s: PeriodState) -> None:
        buyers, bf = s.buyers, s.buyer_firm
        u = s.rng.random((3, s.n))
        shortfall = s.expect_before - s.perf
        handle = _handle_compiled if accel.enabled() else handle_complaints
        s.outcome, s.x, s.complaint_cost, counts = handle(s, u, shortfall)
        comp = s.outcome != SILENT
        for key, row in zip(("resolved_quick", "unresolved", "complaints"), counts, strict=True):
            s.fl[key] = row
        s.fl["remedies_quick"] = s.fl["resolved_quick"]
        late = s.outcome == LATE
        if late.any():
            s.model.pending.add(
                customer=buyers[late],
                firm=bf[late],
                due=np.full(int(late.sum()), s.t + s.params.complaints.late_delay),
                z=s.z[late],
                loss=s.loss[late],
                w=s.omega[late],
            )
        s.event(
            "complaint",
            buyers[comp],
            bf[comp],
            value=shortfall[comp],
            detail=_OUTCOME_ARRAY[s.outcome[comp]],
        )


def handle_complaints(s: PeriodState, u: np.ndarray, shortfall: np.ndarray) -> tuple:
    """Who complains and how the firm handles it (the numpy reference).

    Counts each complainant's complaint (``n_complaints``) in place.

    Args:
        s: the period state (buyers, their firms, z, loss; the lever arrays).
        u: (3, N) uniforms: complains?, resolved?, quick?
        shortfall: E − P per buyer.

    Returns:
        (outcome, x, cost, counts): per buyer the outcome code, satisfaction after
        recovery x' and the firm's complaint costs (handling, plus the remedy with its
        premium when quick); ``counts`` (3, K): quick, unresolved and all complaints.
    """
    cp, pop, L, k = s.params.complaints, s.pop, s.L, s.k
    buyers, bf = s.buyers, s.buyer_firm
    uc = u[:, buyers]
    threshold = s.params.satisfaction.problem_threshold
    prob = complaint_probability(
        shortfall, L["complaint_ease"][bf], cp.max_prob, cp.shortfall_scale, threshold
    )
    comp = uc[0] < prob
    resolved = uc[1] < L["resolve_share"][bf]
    quick = uc[2] < L["resolve_speed"][bf]
    outcome = np.where(
        comp, np.where(resolved, np.where(quick, QUICK, LATE), UNRESOLVED), SILENT
    ).astype(np.int8)
    first = pop.n_complaints[buyers] == 0
    x = recover(
        s.z,
        s.loss,
        outcome,
        first,
        r_unresolved=cp.recovery_unresolved,
        r_late=cp.recovery_late,
        r_quick=cp.recovery_quick,
        paradox=cp.recovery_paradox,
    )
    pop.n_complaints[buyers[comp]] += 1
    counts = np.array(
        [np.bincount(bf[outcome == c], minlength=k) for c in (QUICK, UNRESOLVED)]
        + [np.bincount(bf[comp], minlength=k)],
        dtype=float,
    )
    cost = comp * L["complaint_cost"][bf] + (outcome == QUICK) * L["remedy_cost"][bf] * (
        1 + cp.quick_premium
    )
    return outcome, x, cost, counts


def _handle_compiled(s: PeriodState, u: np.ndarray, shortfall: np.ndarray) -> tuple:
    """:func:`handle_complaints` in one compiled pass; exp and tanh stay in numpy."""
    cp, L = s.params.complaints, s.L
    problem = np.flatnonzero(shortfall > max(s.params.satisfaction.problem_threshold, 0.0))
    e = np.exp(-shortfall[problem] / cp.shortfall_scale)
    levers = np.stack([L[key] for key in _LEVERS])
    rates = np.array(
        [
            cp.max_prob,
            cp.recovery_unresolved,
            cp.recovery_quick,
            cp.recovery_paradox,
            1 + cp.quick_premium,
        ]
    )
    outcome, arg, cost, counts = _handle_jit(
        s.buyers, s.buyer_firm, u, problem, e, levers, rates, s.z, s.loss, s.pop.n_complaints
    )
    return outcome, np.tanh(arg), cost, counts


_LEVERS = ("complaint_ease", "resolve_share", "resolve_speed", "complaint_cost", "remedy_cost")


@accel.jit
def _handle_jit(
    buyers, bf, u, problem, e, levers, rates, z, loss, n_complaints
):  # pragma: no cover - compiled; the reference is handle_complaints
    nb, k = buyers.size, levers.shape[1]
    outcome, arg, cost = np.empty(nb, np.int8), np.empty(nb), np.empty(nb)
    counts = np.zeros((3, k))
    q = 0  # the next buyer with a problem (``problem`` is ascending)
    for m in range(nb):
        i, j = buyers[m], bf[m]
        prob = 0.0
        if q < problem.size and problem[q] == m:
            prob = levers[0, j] * rates[0] * (1.0 - e[q])
            q += 1
        comp = u[0, i] < prob
        o = SILENT
        if comp:
            o = UNRESOLVED
            if u[1, i] < levers[1, j]:
                o = QUICK if u[2, i] < levers[2, j] else LATE
        r = rates[2] if o == QUICK else (rates[1] if o != SILENT else 0.0)
        bonus = rates[3] if o == QUICK and n_complaints[i] == 0 else 0.0
        arg[m] = z[m] - r * loss[m] + bonus
        cost[m] = (1.0 if comp else 0.0) * levers[3, j] + (1.0 if o == QUICK else 0.0) * levers[
            4, j
        ] * rates[4]
        outcome[m] = o
        if comp:
            n_complaints[i] += 1
            counts[2, j] += 1.0
        if o == QUICK:
            counts[0, j] += 1.0
        elif o == UNRESOLVED:
            counts[1, j] += 1.0
    return outcome, arg, cost, counts


_OUTCOME_ARRAY = np.array([OUTCOME_NAMES[c] for c in range(4)], dtype=object)


class LateResolutionStage(Stage):
    """Late resolutions falling due revise the remembered incident (interim → resolved).

    Runs at the start of the period (after the levers), so a resolution that falls due
    arrives before the period's choices; until it arrives the customer waits and does
    not leave (:class:`sim.churn.ChurnStage`)."""

    name = "late_resolutions"
    section = "complaints"

    def __call__(self, s: PeriodState) -> None:
        due = s.model.pending.pop_due(s.t)
        if due is None:
            return
        cp, sp, pop, L = s.params.complaints, s.params.satisfaction, s.pop, s.L
        cust, firm = due["customer"], due["firm"]
        s.fl["resolved_late"] += np.bincount(firm, minlength=s.k)
        s.fl["remedies_late"] += np.bincount(firm, L["remedy_cost"][firm], minlength=s.k)
        still = pop.last_firm[cust] == firm
        c, zs, ls = cust[still], due["z"][still], due["loss"][still]
        interim = np.tanh(zs - cp.recovery_unresolved * ls)
        final = np.tanh(zs - cp.recovery_late * ls)
        S, peak, last = revise(
            pop.satisfaction[c],
            pop.peak[c],
            pop.last_x[c],
            interim,
            final,
            sp.memory,
            due["w"][still],  # the weight the incident was remembered with
        )
        pop.satisfaction[c], pop.peak[c], pop.last_x[c] = S, peak, last
        s.event(
            "resolved_late",
            cust,
            firm,
            value=np.tanh(due["z"] - cp.recovery_late * due["loss"]),
        )
