"""Bertrand–Nash equilibrium prices of a static logit market.

The market solved here (:class:`LogitMarket`) is the one-period logit demand of the model
without its dynamics. Customer i (weight w_i = purchase occasions per period, units per
purchase q_i, price weight α_i = β_price,i / p_ref) chooses firm j with probability

    s_ij(p) = exp(δ_ij − α_i p_j) / (exp(u_0) + Σ_k exp(δ_ik − α_i p_k))

(the exp(u_0) term only when buying nothing is allowed; only firms available to i in the
sums). Each firm sells one product; a purchase by i costs it c_j q_i + f_j, where
c_j = ``unit_cost`` and f_j = ``service_cost`` · ``service`` + ``serve_cost`` (the model's
accounts, stage 13). Its expected variable profit per period is

    Π_j(p) = Σ_i w_i s_ij(p) [(p_j − c_j) q_i − f_j].

A Bertrand–Nash equilibrium is a price vector at which every firm's price maximises its
own Π_j given the others'. The first-order conditions are

    ∂Π_j/∂p_j = Σ_i w_i [ s_ij q_i − α_i s_ij (1 − s_ij) ((p_j − c_j) q_i − f_j) ] = 0,

solved by the ζ fixed point of Morrow & Skerlos (2011),

    p_j − c_j = [Σ_i w_i s_ij q_i + f_j Σ_i w_i α_i s_ij + Σ_i w_i α_i s_ij² m_ij] / Σ_i w_i α_i s_ij q_i,

with m_ij = (p_j − c_j) q_i − f_j, and checked by asking whether any firm could gain by a
unilateral deviation (:meth:`LogitMarket.best_response`).

:meth:`LogitMarket.from_params` builds *the scenario's static market*: the scenario's
customers (drawn exactly as the model draws them for the seed), δ_ij = β_perf,i ·
(w_i q_j + (1 − w_i) s_j) + β_brand,i b_j − β_time,i e_j from the firms' true quality q_j,
service s_j, brand b_j and effort e_j and each customer's own weights; every firm known to
every customer, no inertia, no novelty risk, no word of mouth, no waiting, no loyalty
discounts. :meth:`LogitMarket.from_model` builds instead the demand the model's choice stage
faces this period (customers' current expectations, attitudes, inertia, awareness,
waiting), which is what a full-information firm best-responds to.

The dynamic model's demand equals the static one when choice inertia, novelty risk and
the satisfaction weight are 0, expectations are off and equal to the true composite
(quality = service for every firm, ``expectations.initial_noise`` = 0 and
``experience.fit_sd`` = 0, or a single
w_quality), every customer knows every firm, and word of mouth, referrals, complaints,
churn, capacity, marketing, imitation and loyalty are off (tests/test_equilibrium.py).

Run ``python -m sim.equilibrium SCENARIO.toml`` to print a scenario's equilibrium.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import optimize

from .choice import utilities
from .experience import composite
from .population import LAPSED

__all__ = ["LogitMarket", "EquilibriumResult", "nash_prices", "bertrand_nash"]


@dataclass
class LogitMarket:
    """A static logit market of single-product firms, with the option of buying nothing.

    Attributes:
        base: (n, K) utility of each firm to each customer at price 0 (δ_ij).
        alpha: (n,) price weight per cu (β_price,i / p_ref).
        weight: (n,) purchase occasions per period (0 = not in the market).
        quantity: (n,) units per purchase.
        unit_cost: (K,) cost per unit sold (c_j).
        purchase_cost: (K,) cost per purchase whatever its size (f_j).
        outside_utility: u_0, or None when buying nothing is not an option.
        available: (n, K) whether customer i can choose firm j.
        names: firm names.
    """

    base: np.ndarray
    alpha: np.ndarray
    weight: np.ndarray
    quantity: np.ndarray
    unit_cost: np.ndarray
    purchase_cost: np.ndarray
    outside_utility: float | None = None
    available: np.ndarray | None = None
    names: tuple[str, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        self.base = np.asarray(self.base, float)
        n, k = self.base.shape
        self.alpha = np.broadcast_to(np.asarray(self.alpha, float), (n,)).copy()
        self.weight = np.broadcast_to(np.asarray(self.weight, float), (n,)).copy()
        self.quantity = np.broadcast_to(np.asarray(self.quantity, float), (n,)).copy()
        self.unit_cost = np.broadcast_to(np.asarray(self.unit_cost, float), (k,)).copy()
        self.purchase_cost = np.broadcast_to(np.asarray(self.purchase_cost, float), (k,)).copy()
        self.available = (
            np.ones((n, k), bool)
            if self.available is None
            else np.broadcast_to(np.asarray(self.available, bool), (n, k)).copy()
        )
        if not self.names:
            self.names = tuple(f"F{j + 1}" for j in range(k))
        if np.any(self.alpha <= 0):
            raise ValueError("LogitMarket: every customer's price weight alpha must be > 0")

    @property
    def n_firms(self) -> int:
        return self.base.shape[1]

    # ------------------------------------------------------------------ demand
    def shares(self, prices) -> np.ndarray:
        """(n, K) choice probabilities s_ij at ``prices``."""
        p = np.asarray(prices, float)
        v = np.where(self.available, self.base - self.alpha[:, None] * p[None, :], -np.inf)
        if self.outside_utility is not None:
            v = np.concatenate([v, np.full((v.shape[0], 1), float(self.outside_utility))], axis=1)
        m = v.max(axis=1, keepdims=True)
        m = np.where(np.isfinite(m), m, 0.0)
        e = np.exp(v - m)
        tot = e.sum(axis=1, keepdims=True)
        s = np.divide(e, tot, out=np.zeros_like(e), where=tot > 0)
        return s[:, : self.n_firms]

    def margins(self, prices) -> np.ndarray:
        """(n, K) profit of one purchase by customer i from firm j: (p_j − c_j) q_i − f_j."""
        p = np.asarray(prices, float)
        return (p - self.unit_cost)[None, :] * self.quantity[:, None] - self.purchase_cost[None, :]

    def profits(self, prices) -> np.ndarray:
        """(K,) expected variable profit per period Π_j."""
        s = self.shares(prices)
        return (self.weight[:, None] * s * self.margins(prices)).sum(axis=0)

    def purchases(self, prices) -> np.ndarray:
        """(K,) expected purchases per period Σ_i w_i s_ij."""
        return self.weight @ self.shares(prices)

    def units(self, prices) -> np.ndarray:
        """(K,) expected units per period Σ_i w_i s_ij q_i."""
        return (self.weight * self.quantity) @ self.shares(prices)

    def foc(self, prices) -> np.ndarray:
        """(K,) ∂Π_j/∂p_j at ``prices`` (zero at an interior equilibrium)."""
        s = self.shares(prices)
        w = self.weight[:, None]
        return (
            w
            * (
                s * self.quantity[:, None]
                - self.alpha[:, None] * s * (1 - s) * self.margins(prices)
            )
        ).sum(axis=0)

    # ------------------------------------------------------------------ one firm
    def _own(self, j: int, prices):
        """Pieces of firm j's demand with the others' prices fixed: log of its
        attraction at price 0 and the log of everything else in the denominator."""
        p = np.asarray(prices, float).copy()
        p[j] = 0.0
        v = np.where(self.available, self.base - self.alpha[:, None] * p[None, :], -np.inf)
        a = v[:, j]
        others = np.delete(v, j, axis=1)
        if self.outside_utility is not None:
            others = np.concatenate(
                [others, np.full((v.shape[0], 1), float(self.outside_utility))], axis=1
            )
        with np.errstate(divide="ignore"):
            if others.shape[1]:
                mo = others.max(axis=1)
                mo_f = np.where(np.isfinite(mo), mo, 0.0)
                log_rest = mo_f + np.log(np.exp(others - mo_f[:, None]).sum(axis=1))
                log_rest = np.where(np.isfinite(mo), log_rest, -np.inf)
            else:
                log_rest = np.full(v.shape[0], -np.inf)
        return a, log_rest

    def own_profit_curve(self, j: int, prices, grid) -> np.ndarray:
        """Firm j's profit Π_j at each price in ``grid`` with the others' prices fixed."""
        a, log_rest = self._own(j, prices)
        g = np.asarray(grid, float)
        s = _own_share(a[None, :], log_rest[None, :], self.alpha[None, :], g[:, None])  # (G, n)
        m = (g[:, None] - self.unit_cost[j]) * self.quantity[None, :] - self.purchase_cost[j]
        return (self.weight[None, :] * s * m).sum(axis=1)

    def _own_foc(self, j, a, log_rest, p: float) -> float:
        s = _own_share(a, log_rest, self.alpha, p)
        m = (p - self.unit_cost[j]) * self.quantity - self.purchase_cost[j]
        return float((self.weight * (s * self.quantity - self.alpha * s * (1 - s) * m)).sum())

    def best_response(
        self, j: int, prices, *, lo: float | None = None, hi: float | None = None, points: int = 161
    ) -> float:
        """The price that maximises firm j's profit given the others' ``prices``.

        Searches a grid on [lo, hi] (default: from the unit cost to a price at which the
        firm sells almost nothing) and refines the best point to machine precision.
        """
        a, log_rest = self._own(j, prices)
        reach = (self.weight > 0) & np.isfinite(a)
        if not reach.any():
            return float(np.asarray(prices, float)[j])
        lo = float(self.unit_cost[j]) if lo is None else float(lo)
        if hi is None:
            qmin = max(float(self.quantity[reach].min()), 1e-9)
            hi = lo + float(self.purchase_cost[j]) / qmin + 40.0 / float(self.alpha[reach].min())
            hi = max(hi, lo + 1e-6)
        grid = np.linspace(lo, hi, points)
        prof = self.own_profit_curve(j, prices, grid)
        i = int(np.argmax(prof))
        left, right = grid[max(i - 1, 0)], grid[min(i + 1, points - 1)]
        fl, fr = self._own_foc(j, a, log_rest, left), self._own_foc(j, a, log_rest, right)
        if fl > 0 > fr:
            return float(
                optimize.brentq(
                    lambda p: self._own_foc(j, a, log_rest, p), left, right, xtol=1e-13, rtol=1e-13
                )
            )
        res = optimize.minimize_scalar(
            lambda p: -self.own_profit_curve(j, prices, [p])[0],
            bounds=(left, right),
            method="bounded",
            options={"xatol": 1e-12},
        )
        return float(res.x) if -res.fun >= prof[i] else float(grid[i])

    # ------------------------------------------------------------------ builders
    @classmethod
    def from_model(cls, model, *, static: bool = False) -> LogitMarket:
        """The demand of a :class:`~sim.model.MarketModel` at its current state.

        ``static=False``: what the choice stage faces this period: customers' current
        expectations, word-of-mouth attitudes, novelty risk, inertia (with switching costs,
        loyalty points and satisfaction), last period's waiting plus effort, awareness of
        active firms; lapsed customers are out of the market. Loyalty members' discounts are
        not modelled (list prices).

        ``static=True``: the scenario's static market (see the module docstring).
        """
        from .levers import lever_arrays
        from .loyalty import switching_costs

        pop, P, firms = model.pop, model.params, model.firms
        L = lever_arrays(model)
        purchase_cost = L["service_cost"] * L["service"] + L["serve_cost"]
        alpha = pop.beta_price / float(P.market.reference_price)
        outside = float(P.choice.outside_utility) if P.choice.outside_option else None
        names = tuple(f.name for f in firms)
        if static:
            perf = composite(pop.w_quality[:, None], L["quality"][None, :], L["service"][None, :])
            base = (
                pop.beta_perf[:, None] * perf
                + pop.beta_brand[:, None] * L["brand"][None, :]
                - pop.beta_time[:, None] * L["effort"][None, :]
            )
            weight, available = pop.purchase_prob.astype(float), None
        else:
            sat = P.choice.satisfaction_weight * np.where(
                pop.last_firm == pop.firm, pop.satisfaction, 0.0
            )
            base = utilities(
                expect=pop.expect,
                attitude=pop.attitude,
                tried=pop.tried,
                current=pop.firm.astype(np.int64),
                beta_perf=pop.beta_perf,
                beta_price=pop.beta_price,
                beta_time=pop.beta_time,
                beta_wom=pop.beta_wom,
                beta_brand=pop.beta_brand,
                price=np.zeros(len(firms)),
                brand=L["brand"],
                wait_effort=np.asarray(model.wait, float) + L["effort"],
                ref_price=float(P.market.reference_price),
                novelty_risk=P.choice.novelty_risk,
                inertia_current=switching_costs(model, L) + sat,
            )
            available = pop.aware & L["active"][None, :]
            weight = pop.purchase_prob * ((pop.status != LAPSED) & available.any(axis=1))
        costs = (L["unit_cost"], purchase_cost)
        return cls(base, alpha, weight, pop.quantity, *costs, outside, available, names)

    @classmethod
    def from_params(cls, params, seed: int | None = None) -> LogitMarket:
        """The scenario's static market for ``params`` (a :class:`~sim.params.ModelParams`):
        the customers the model draws for ``seed`` (default ``params.seed``)."""
        from .model import MarketModel

        return cls.from_model(MarketModel(params, seed=seed), static=True)


def _own_share(a, log_rest, alpha, p):
    """s = e^(a − α p) / (e^(a − α p) + e^rest), 0 where the firm is not available (a = −inf)."""
    with np.errstate(invalid="ignore", over="ignore"):
        x = a - alpha * p - log_rest
        e = np.exp(-np.abs(x))
        s = np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
    return np.where(np.isfinite(a), s, 0.0)


@dataclass
class EquilibriumResult:
    """Equilibrium prices and what they imply.

    Attributes:
        prices, profits, purchases, units, share: per firm (share = purchases / all
            purchase occasions, so the shares and the outside share add up to 1).
        outside_share: share of purchase occasions that end in buying nothing.
        iterations, converged, foc_norm: how the solver went (max |∂Π_j/∂p_j| at the end).
        max_gain: the largest profit a firm could gain by deviating alone (≈ 0 at a Nash
            equilibrium), relative to its equilibrium profit.
    """

    names: tuple[str, ...]
    prices: np.ndarray
    profits: np.ndarray
    purchases: np.ndarray
    units: np.ndarray
    share: np.ndarray
    outside_share: float
    iterations: int
    converged: bool
    foc_norm: float
    max_gain: float

    def table(self) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "firm": list(self.names),
                "price": self.prices,
                "share": self.share,
                "purchases": self.purchases,
                "units": self.units,
                "profit": self.profits,
            }
        )

    def __str__(self) -> str:
        head = (
            f"Bertrand–Nash equilibrium ({'converged' if self.converged else 'NOT converged'} after "
            f"{self.iterations} iterations; max |dΠ/dp| {self.foc_norm:.2e}; best unilateral gain "
            f"{self.max_gain:.2e}); outside share {self.outside_share:.3f}"
        )
        return head + "\n" + self.table().to_string(index=False, float_format=lambda v: f"{v:.4f}")


def _zeta_fixed_point(
    market: LogitMarket, p: np.ndarray, tol: float, max_iter: int
) -> tuple[np.ndarray, int, bool]:
    """The ζ fixed point of the first-order conditions from prices ``p``: (prices,
    iterations, converged); stops early on a non-finite update."""
    w, q, al = market.weight, market.quantity, market.alpha
    c, f = market.unit_cost, market.purchase_cost
    converged = False
    it = 0
    while it < max_iter:
        it += 1
        s = market.shares(p)
        m = market.margins(p)
        wa_s = (w * al)[:, None] * s
        den = (wa_s * q[:, None]).sum(axis=0)
        num = (
            (w[:, None] * s * q[:, None]).sum(axis=0)
            + f * wa_s.sum(axis=0)
            + (wa_s * s * m).sum(axis=0)
        )
        new = np.where(den > 0, c + num / np.where(den > 0, den, 1.0), p)
        if not np.all(np.isfinite(new)):
            break
        step = np.max(np.abs(new - p))
        p = new
        if step < tol:
            converged = True
            break
    return p, it, converged


def _damped_best_responses(
    market: LogitMarket, p: np.ndarray, tol: float, max_iter: int
) -> tuple[np.ndarray, int, bool]:
    """Damped simultaneous best responses from prices ``p``: (prices, iterations,
    converged)."""
    it = 0
    for _ in range(max_iter):
        it += 1
        br = np.array([market.best_response(j, p) for j in range(market.n_firms)])
        step = np.max(np.abs(br - p))
        p = 0.5 * p + 0.5 * br
        if step < tol:
            return p, it, True
    return p, it, False


def _max_gain(market: LogitMarket, p: np.ndarray, prof: np.ndarray) -> float:
    """The largest relative profit gain of a firm's best unilateral deviation from ``p``."""
    gain = 0.0
    for j in range(market.n_firms):
        dev = p.copy()
        dev[j] = market.best_response(j, p)
        g = market.profits(dev)[j] - prof[j]
        gain = max(gain, g / max(abs(prof[j]), 1e-12))
    return gain


def nash_prices(
    market: LogitMarket, *, start=None, tol: float = 1e-10, max_iter: int = 5000, check: bool = True
) -> EquilibriumResult:
    """Solve the Bertrand–Nash first-order conditions of ``market``.

    Args:
        market: the static logit market.
        start: starting prices (default: cost plus one over the mean price weight).
        tol: stop when max |Δp| < tol.
        max_iter: iterations of the ζ fixed point before falling back to damped best
            responses.
        check: compute ``max_gain`` (each firm's best unilateral deviation).

    Returns:
        An :class:`EquilibriumResult`.
    """
    k = market.n_firms
    w, q, al = market.weight, market.quantity, market.alpha
    c, f = market.unit_cost, market.purchase_cost
    qbar = max(float(np.average(q, weights=w)) if w.sum() > 0 else 1.0, 1e-9)
    p = (
        np.asarray(start, float).copy()
        if start is not None
        else c + f / qbar + 1.0 / float(np.average(al, weights=w if w.sum() > 0 else None))
    )
    p, it, converged = _zeta_fixed_point(market, p, tol, max_iter)
    if not converged:  # damped best responses
        p, more, converged = _damped_best_responses(market, p, tol, max_iter)
        it += more
    prof = market.profits(p)
    gain = _max_gain(market, p, prof) if check else 0.0
    pur = market.purchases(p)
    occ = float(w.sum())
    share = pur / occ if occ > 0 else np.zeros(k)
    return EquilibriumResult(
        market.names,
        p,
        prof,
        pur,
        market.units(p),
        share,
        float(1.0 - share.sum()),
        it,
        converged,
        float(np.max(np.abs(market.foc(p)))),
        float(gain),
    )


def bertrand_nash(source, seed: int | None = None, **kwargs) -> EquilibriumResult:
    """The Bertrand–Nash prices of a scenario's static logit market.

    Args:
        source: a :class:`~sim.params.ModelParams`, a :class:`~sim.scenario.Scenario` or the
            path of a scenario file.
        seed: which customers to draw (default: the scenario's seed).
        **kwargs: passed to :func:`nash_prices`.
    """
    from .scenario import Scenario, load_scenario

    if isinstance(source, (str, bytes)) or hasattr(source, "__fspath__"):
        source = load_scenario(source)
    params = source.params if isinstance(source, Scenario) else source
    return nash_prices(LogitMarket.from_params(params, seed=seed), **kwargs)


def main(argv: list[str] | None = None) -> int:
    """``python -m sim.equilibrium SCENARIO.toml [--seed N]``: print the equilibrium."""
    import argparse

    from .scenario import ScenarioError

    ap = argparse.ArgumentParser(
        prog="python -m sim.equilibrium",
        description="Bertrand–Nash prices of a scenario's static logit market.",
    )
    ap.add_argument("scenario")
    ap.add_argument("--seed", type=int)
    a = ap.parse_args(argv)
    try:
        res = bertrand_nash(a.scenario, seed=a.seed)
    except ScenarioError as exc:
        print(f"sim.equilibrium: error: {exc}", file=sys.stderr)
        return 2
    print(res)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
