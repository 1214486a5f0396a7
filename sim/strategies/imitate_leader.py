"""Imitate the market leader's price."""

from __future__ import annotations

from .base import Policy, check_number

__all__ = ["ImitateLeader"]


class ImitateLeader(Policy):
    """Move the price towards that of the rival with the largest market share.

    Rule: every ``decide_every`` periods, find the active rival with the largest share
    of customers (rivals' shares are observed, as from a market-research panel). If its
    share exceeds the firm's own by more than ``min_lead``, move the price a fraction
    ``rate`` of the way to the leader's posted price; otherwise keep it. (Only prices are
    imitated: a rival's service and complaint handling cannot be seen from outside.)

    Parameters:
        rate: fraction of the gap closed per decision, in (0, 1]. Default 0.5.
        min_lead: share lead (in share points, 0–1) that makes a rival worth copying, in
            [0, 1]. Default 0.02.
        decide_every: periods between reviews (≥ 1). Default 1.

    Literature: imitation of successful rivals (Alchian 1950; Nelson & Winter 1982);
    imitation dynamics in oligopoly (Vega-Redondo 1997; Apesteguia, Huck & Oechssler 2007);
    Lieberman & Asaba (2006) on why firms imitate. A good model of a follower without a
    demand model of its own.
    """

    name = "imitate_leader"
    classifier = {
        "observes": ("own", "rival_prices", "rival_shares"),
        "levers": ("price",),
        "stochastic": False,
    }

    def __init__(self, rate: float = 0.5, min_lead: float = 0.02, *, decide_every: int = 1) -> None:
        super().__init__(decide_every=decide_every)
        self.rate = check_number(self.name, "rate", rate, 0.0, 1.0, lo_open=True)
        self.min_lead = check_number(self.name, "min_lead", min_lead, 0.0, 1.0)

    def rule(self, firm, observation: dict) -> dict:
        own_share = float((observation.get("own") or {}).get("share", 0.0))
        rivals = [
            (float(r.get("share", 0.0)), float(r["price"]))
            for r in observation.get("rivals", {}).values()
            if r.get("active", True) and "share" in r
        ]
        if not rivals:
            return {}
        share, price = max(rivals, key=lambda x: x[0])
        if share <= own_share + self.min_lead:
            return {}
        cur = float(observation["levers"]["price"])
        new = cur + self.rate * (price - cur)
        return {"price": float(new)} if new != cur else {}
