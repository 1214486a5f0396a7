"""Cost-plus pricing: price = (1 + markup) × cost per unit."""

from __future__ import annotations

from .base import Policy, PolicyParameterError, check_number, unit_cost_per_unit

__all__ = ["CostPlus"]

_BASES = ("unit", "variable", "full")


class CostPlus(Policy):
    """Set the price at a fixed markup over the cost per unit the accounts show.

    Rule: every ``decide_every`` periods, price = (1 + ``markup``) × cost per unit, where
    the cost per unit over the last window is

    - ``basis = "unit"``: the unit cost of the goods (the ``unit_cost`` lever);
    - ``basis = "variable"`` (default): goods plus the cost of serving each purchase
      (service level × service cost + serve cost), divided by the units sold;
    - ``basis = "full"``: every cost of the period (complaints, marketing, capacity,
      programmes, fixed costs too) divided by the units sold.

    Before the first sale the cost comes from the levers (one unit per purchase). It
    ignores demand and rivals entirely.

    Parameters:
        markup: the markup on cost, in [0, 10] (0.3 = 30%). Default 0.3.
        basis: "unit", "variable" or "full". Default "variable".
        decide_every: periods between price reviews (≥ 1). Default 3.

    Literature: Hall & Hitch (1939) found most firms price at full cost plus a
    conventional margin; Cyert & March (1963) model it as a standard operating procedure;
    surveys still find it common (Fabiani et al. 2006; Blinder et al. 1998).
    """

    name = "cost_plus"
    classifier = {"observes": ("own",), "levers": ("price",), "stochastic": False}

    def __init__(
        self, markup: float = 0.3, basis: str = "variable", *, decide_every: int = 3
    ) -> None:
        super().__init__(decide_every=decide_every)
        self.markup = check_number(self.name, "markup", markup, 0.0, 10.0)
        if basis not in _BASES:
            raise PolicyParameterError(
                f"policy 'cost_plus': parameter basis = {basis!r}: allowed: " + ", ".join(_BASES)
            )
        self.basis = basis

    def cost_per_unit(self, observation: dict) -> float:
        rows = observation.get("window") or [observation.get("own") or {}]
        lv = observation["levers"]
        units = sum(float(r.get("units", 0.0)) for r in rows)
        if self.basis == "unit":
            return float(lv["unit_cost"])
        if self.basis == "full" and units > 0:
            return sum(float(r.get("cost_total", 0.0)) for r in rows) / units
        return unit_cost_per_unit(rows, lv)

    def rule(self, firm, observation: dict) -> dict:
        return {"price": (1.0 + self.markup) * self.cost_per_unit(observation)}
