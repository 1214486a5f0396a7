"""Match the cheapest rival, or undercut it."""

from __future__ import annotations

from .base import Policy, check_number, unit_cost_per_unit

__all__ = ["Undercut", "MatchCheapest"]


class Undercut(Policy):
    """Price just below the cheapest active rival, within a floor and a ceiling.

    Rule: every ``decide_every`` periods, target = (cheapest active rival's posted price)
    × (1 − ``undercut``); the new price is the target limited to at least
    (1 + ``floor_markup``) × the firm's variable cost per unit (it never sells below cost)
    and at most ``max_price`` (default: the price it had when it first decided, so it
    follows rivals down and back up, but never above its own list price). Without an
    active rival it keeps its price.

    Parameters:
        undercut: fraction below the cheapest rival, in [0, 0.5]. Default 0.05 (0 matches).
        floor_markup: lowest markup on variable cost per unit, in [0, 10]. Default 0.
        max_price: highest price (cu), > 0, or None for the starting price. Default None.
        decide_every: periods between reviews (≥ 1). Default 1.

    Literature: Bertrand (1883) competition, where undercutting drives price to cost;
    Edgeworth (1925) cycles when capacity binds; price-matching guarantees (Salop 1986)
    for ``undercut = 0``. A good model of retailers that watch rivals' shelf prices or
    use repricing software (Chen, Mislove & Wilson 2016 on Amazon sellers).
    """

    name = "undercut"
    classifier = {"observes": ("own", "rival_prices"), "levers": ("price",), "stochastic": False}

    def __init__(
        self,
        undercut: float = 0.05,
        floor_markup: float = 0.0,
        max_price: float | None = None,
        *,
        decide_every: int = 1,
    ) -> None:
        super().__init__(decide_every=decide_every)
        self.undercut = check_number(self.name, "undercut", undercut, 0.0, 0.5)
        self.floor_markup = check_number(self.name, "floor_markup", floor_markup, 0.0, 10.0)
        self.max_price = check_number(
            self.name, "max_price", max_price, 0.0, 1e9, lo_open=True, allow_none=True
        )

    def reset(self) -> None:
        super().reset()
        self.ceiling_ = self.max_price

    def rule(self, firm, observation: dict) -> dict:
        lv = observation["levers"]
        price = float(lv["price"])
        if self.ceiling_ is None:
            self.ceiling_ = price
        rivals = [
            float(r["price"])
            for r in observation.get("rivals", {}).values()
            if r.get("active", True)
        ]
        if not rivals:
            return {}
        floor = (1.0 + self.floor_markup) * unit_cost_per_unit(observation.get("window") or [], lv)
        target = min(rivals) * (1.0 - self.undercut)
        return {"price": float(max(min(target, self.ceiling_), floor))}


class MatchCheapest(Undercut):
    """Match the cheapest active rival's price (:class:`Undercut` with ``undercut = 0``).

    Rule: price = cheapest active rival's posted price, at least (1 + ``floor_markup``) ×
    variable cost per unit and at most ``max_price`` (default: its starting price).

    Parameters: as :class:`Undercut`, with ``undercut`` defaulting to 0.

    Literature: price-matching (meet-the-competition) policies, Salop (1986); Hviid &
    Shaffer (1999). A good model of a firm that refuses to be undersold but will not start
    a war.
    """

    name = "match"
    classifier = {"observes": ("own", "rival_prices"), "levers": ("price",), "stochastic": False}

    def __init__(
        self,
        undercut: float = 0.0,
        floor_markup: float = 0.0,
        max_price: float | None = None,
        *,
        decide_every: int = 1,
    ) -> None:
        super().__init__(undercut, floor_markup, max_price, decide_every=decide_every)
