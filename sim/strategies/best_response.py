"""Myopic best response in price to logit demand: estimated, or known (full information)."""

from __future__ import annotations

import math

import numpy as np

from .base import Policy, PolicyParameterError, check_number

__all__ = ["BestResponse", "FullInformationBestResponse", "logit_best_response"]


def logit_best_response(
    odds_now: float, price_now: float, alpha: float, cost_per_purchase: float, quantity: float = 1.0
) -> float:
    """Best price against a homogeneous logit demand with the rivals' prices fixed.

    The firm's odds of being chosen (against every other option) are ``odds_now`` at
    ``price_now`` and change as odds(p) = odds_now · exp(−α (p − price_now)), so its share
    is s(p) = odds / (1 + odds). Profit per purchase occasion is s(p) (p q − c). The
    maximum solves p = c / q + 1 / (α (1 − s(p))) (unique; found by bracketing).
    """
    lo = cost_per_purchase / quantity
    log_odds0 = math.log(odds_now) + alpha * price_now

    def h(p):
        x = log_odds0 - alpha * p
        s = 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))
        return quantity - alpha * (1.0 - s) * (p * quantity - cost_per_purchase)

    hi = lo + 1.0 / alpha
    while h(hi) > 0:
        hi = lo + 2.0 * (hi - lo)
    from scipy import optimize  # imported here: it adds ~0.1 s to `import sim`

    return float(optimize.brentq(h, lo, hi, xtol=1e-12))


class BestResponse(Policy):
    """Set the price that maximises next period's profit under a logit demand the firm
    estimates from its own sales.

    Rule: every ``decide_every`` periods the firm

    1. computes its share of purchase occasions s = sales share × (1 − ``outside_share``)
       and the log-odds y = ln(s / (1 − s)) over the last window, with its price p and the
       mean rival price r;
    2. (``learn = true``) re-estimates the price coefficient α by a least-squares fit of
       y = a − α p + g r over all its windows so far, shrunk towards ``price_coefficient``
       with the weight of ``prior_weight`` windows (and kept within 0.2–5 times it);
       otherwise α = ``price_coefficient``;
    3. predicts its odds at any price holding rivals' posted prices fixed, and computes
       the price that maximises s(p) × (p q − c), with q its units per purchase and c its
       cost per purchase (goods, service, complaints) from its accounts; this solves
       p = c / q + 1 / (α (1 − s(p)));
    4. moves towards that price by at most ``max_change`` (a fraction of the price), plus
       a small random trial (``explore``, a fraction of the price) that gives the
       regression price variation to learn from.

    Parameters:
        price_coefficient: prior price weight α per cu, in (0, 50]. Default 3.0 (the
            default customers' mean β_price with p_ref = 1).
        learn: whether to estimate α from the firm's data. Default true.
        prior_weight: windows of evidence the prior counts for, in [0, 1000]. Default 5.
        outside_share: the share of purchase occasions that end in buying nothing, which the
            firm assumes (market research), in [0, 0.95]. Default 0.1.
        max_change: largest price change per decision, as a fraction, in (0, 1]. Default 0.1.
        explore: standard deviation of the random trial, as a fraction of the price, in
            [0, 0.5]. Default 0.02 (0 makes the rule deterministic).
        decide_every: periods between decisions (≥ 1). Default 2.

    Literature: Bertrand (1883); logit demand (McFadden 1974; Anderson, de Palma & Thisse
    1992); the estimation of demand by a firm that learns by doing (Kirman 1975; Brousseau
    & Kirman 1992 "misspecified" learning). Inertia in the model makes short-run demand
    less price-sensitive than long-run demand, so a myopic estimator tends to set prices
    too high: a good model of a firm that trusts its recent sales data.
    """

    name = "best_response"
    classifier = {"observes": ("own", "rival_prices"), "levers": ("price",), "stochastic": True}

    def __init__(
        self,
        price_coefficient: float = 3.0,
        learn: bool = True,
        prior_weight: float = 5.0,
        outside_share: float = 0.1,
        max_change: float = 0.1,
        explore: float = 0.02,
        *,
        decide_every: int = 2,
    ) -> None:
        super().__init__(decide_every=decide_every)
        self.price_coefficient = check_number(
            self.name, "price_coefficient", price_coefficient, 0.0, 50.0, lo_open=True
        )
        if not isinstance(learn, bool):
            raise PolicyParameterError(
                f"policy 'best_response': parameter learn = {learn!r} must be true or false"
            )
        self.learn = learn
        self.prior_weight = check_number(self.name, "prior_weight", prior_weight, 0.0, 1000.0)
        self.outside_share = check_number(self.name, "outside_share", outside_share, 0.0, 0.95)
        self.max_change = check_number(self.name, "max_change", max_change, 0.0, 1.0, lo_open=True)
        self.explore = check_number(self.name, "explore", explore, 0.0, 0.5)

    def reset(self) -> None:
        super().reset()
        self.history_: list[tuple[float, float, float]] = []  # (price, mean rival price, log-odds)
        self.alpha_ = self.price_coefficient

    def estimate_alpha(self) -> float:
        """Ridge fit of the log-odds on own and rival prices, shrunk to the prior."""
        a0 = self.price_coefficient
        if not self.learn or len(self.history_) < 3:
            return a0
        h = np.array(self.history_)
        p, r, y = h[:, 0], h[:, 1], h[:, 2]
        scale = max(0.1 * float(np.mean(p)), 1e-6)
        lam = math.sqrt(self.prior_weight) * scale
        x = np.column_stack([np.ones_like(p), p, r])
        # prior pseudo-rows: own-price slope −α0, rival slope 0
        x = np.vstack([x, [0.0, lam, 0.0], [0.0, 0.0, lam]])
        t = np.concatenate([y, [-lam * a0, 0.0]])
        coef, *_ = np.linalg.lstsq(x, t, rcond=None)
        return float(np.clip(-coef[1], 0.2 * a0, 5.0 * a0))

    def rule(self, firm, observation: dict) -> dict:
        lv = observation["levers"]
        price = float(lv["price"])
        rivals = [
            float(r["price"])
            for r in observation.get("rivals", {}).values()
            if r.get("active", True)
        ]
        rbar = float(np.mean(rivals)) if rivals else price
        rows = observation.get("window") or []
        buyers = self.total(observation, "buyers")
        units = self.total(observation, "units")
        sales_share = self.mean(observation, "sales_share")
        s = min(max(sales_share * (1.0 - self.outside_share), 1e-4), 0.999)
        y = math.log(s / (1.0 - s))
        # price during the window (the recorded price of its rows)
        p_win = float(np.mean([float(r.get("price", price)) for r in rows])) if rows else price
        self.history_.append((p_win, rbar, y))
        self.alpha_ = self.estimate_alpha()
        q = units / buyers if buyers > 0 else 1.0
        if buyers > 0:
            cost = (
                self.total(observation, "cost_variable")
                + self.total(observation, "cost_service")
                + self.total(observation, "cost_complaints")
            ) / buyers
        else:
            cost = (
                float(lv["unit_cost"]) * q
                + float(lv["service_cost"]) * float(lv["service"])
                + float(lv["serve_cost"])
            )
        # odds now: the window's, moved by the price change since (rivals held fixed)
        odds = math.exp(y - self.alpha_ * (price - p_win))
        target = logit_best_response(odds, price, self.alpha_, cost, q)
        new = min(max(target, price * (1.0 - self.max_change)), price * (1.0 + self.max_change))
        if self.explore > 0:
            new *= 1.0 + self.explore * float(self.rng.standard_normal())
        return {"price": float(max(new, 0.0))}


class FullInformationBestResponse(Policy):
    """Set the price that maximises this period's expected profit given the true demand
    (full information: for teaching and for checking the model against theory).

    Rule: every ``decide_every`` periods the firm reads the model's current demand
    (:meth:`sim.equilibrium.LogitMarket.from_model`: every customer's utilities,
    awareness, inertia and purchase probability, the rivals' current prices and every
    firm's costs) and computes its exact best-response price
    (:meth:`~sim.equilibrium.LogitMarket.best_response`); it moves a fraction
    ``damping`` of the way there. When every firm does this in a market without dynamics,
    prices converge to the Bertrand–Nash equilibrium (:func:`sim.equilibrium.nash_prices`).

    Parameters:
        damping: fraction of the way to the best response moved each time, in (0, 1].
            Default 1 (jump to it).
        decide_every: periods between decisions (≥ 1). Default 1.

    Literature: best-response (Cournot) dynamics; Bertrand–Nash pricing with logit demand
    (Anderson, de Palma & Thisse 1992; Berry, Levinsohn & Pakes 1995); convergence of
    best-reply dynamics for logit pricing games (Morrow & Skerlos 2011). A good model of
    the textbook oligopolist; no real firm knows this much.
    """

    name = "best_response_full"
    classifier = {"observes": ("full_information",), "levers": ("price",), "stochastic": False}

    def __init__(self, damping: float = 1.0, *, decide_every: int = 1) -> None:
        super().__init__(decide_every=decide_every)
        self.damping = check_number(self.name, "damping", damping, 0.0, 1.0, lo_open=True)

    def reset(self) -> None:
        super().reset()
        self.targets_: list[float] = []

    def decide(self, firm, observation: dict) -> dict:
        if not hasattr(self, "targets_"):
            self.reset()
        model = observation.get("model")
        if model is None:
            raise RuntimeError(
                "policy 'best_response_full' needs the model in its observation "
                "(classifier full_information)"
            )
        if not firm.active or (int(observation["period"]) - 1) % self.decide_every:
            return {}
        return self.rule(firm, observation)

    def rule(self, firm, observation: dict) -> dict:
        from ..equilibrium import LogitMarket

        model = observation["model"]
        market = LogitMarket.from_model(model)
        prices = np.array([float(f.levers.price) for f in model.firms])
        j = firm.index
        target = market.best_response(j, prices)
        self.targets_.append(target)
        return {"price": float(prices[j] + self.damping * (target - prices[j]))}
