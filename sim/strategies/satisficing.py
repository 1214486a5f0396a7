"""Satisficing: change only when profit falls short of an aspiration level."""

from __future__ import annotations

from .base import SEARCHABLE_LEVERS, Policy, check_levers, check_number, clip_lever

__all__ = ["Satisficing"]


class Satisficing(Policy):
    """Keep the levers while profit meets the aspiration; search when it falls short.

    Rule: every ``decide_every`` periods the firm looks at the mean profit π of the last
    window and at its aspiration level A.

    - If the last window was a trial (a change it made), it keeps the change when π beat
      the profit of the setting it left, and otherwise goes back to that setting.
    - If π ≥ A (and it is not in the middle of a trial), it keeps every lever: it is
      satisfied.
    - If π < A, it searches near the current setting: one of ``levers`` (chosen at
      random) up or down (at random) by ``step``, within the lever's allowed range; a
      change that just paid off is repeated instead.

    Then the aspiration adapts to experience: A ← (1 − ``adapt``) A + ``adapt`` π. The
    first aspiration is ``aspiration`` or, if not given, the first window's profit.

    Parameters:
        aspiration: the starting aspiration (cu of profit per period) or None. Default None.
        adapt: weight of the newest profit in the aspiration, in [0, 1] (0 keeps a fixed
            target). Default 0.1.
        levers: the levers searched (names, e.g. ["price", "service"]). Default ["price"].
        step: size of a change in lever units, in (0, 1]. Default 0.05.
        decide_every: periods between reviews (≥ 1). Default 3.

    Literature: Simon (1955) bounded rationality and satisficing; Cyert & March (1963)
    problemistic search near the current alternative and adaptive aspirations; Nelson &
    Winter (1982) routines changed only under pressure. A good model of an established
    firm that reviews its policy only when results disappoint.
    """

    name = "satisficing"
    classifier = {"observes": ("own",), "levers": ("price", "any"), "stochastic": True}

    def __init__(
        self,
        aspiration: float | None = None,
        adapt: float = 0.1,
        levers: list[str] | tuple[str, ...] = ("price",),
        step: float = 0.05,
        *,
        decide_every: int = 3,
    ) -> None:
        super().__init__(decide_every=decide_every)
        self.aspiration = check_number(
            self.name, "aspiration", aspiration, None, None, allow_none=True
        )
        self.adapt = check_number(self.name, "adapt", adapt, 0.0, 1.0)
        self.levers = check_levers(self.name, "levers", levers, SEARCHABLE_LEVERS)
        self.step = check_number(self.name, "step", step, 0.0, 1.0, lo_open=True)

    def reset(self) -> None:
        super().reset()
        self.aspiration_ = self.aspiration
        self.trial_: tuple[str, float, float] | None = None  # (lever, delta, profit before)
        self.last_good_move_: tuple[str, float] | None = None

    def rule(self, firm, observation: dict) -> dict:
        profit = self.mean(observation, "profit")
        if self.aspiration_ is None:
            self.aspiration_ = profit
        levers = observation["levers"]
        out: dict[str, float] = {}
        searching = profit < self.aspiration_
        if self.trial_ is not None:
            lever, delta, before = self.trial_
            self.trial_ = None
            if profit > before:
                self.last_good_move_ = (lever, delta)
            else:  # the change did not pay: go back
                self.last_good_move_ = None
                out[lever] = clip_lever(lever, float(levers[lever]) - delta)
                searching = False
                profit = before
        if searching:
            if self.last_good_move_ is not None:
                lever, delta = self.last_good_move_
            else:
                lever = self.levers[int(self.rng.integers(len(self.levers)))]
                delta = self.step if self.rng.random() < 0.5 else -self.step
            cur = float(levers[lever])
            new = clip_lever(lever, cur + delta)
            if new != cur:
                out[lever] = new
                self.trial_ = (lever, new - cur, profit)
        self.aspiration_ = (1.0 - self.adapt) * self.aspiration_ + self.adapt * profit
        return out
