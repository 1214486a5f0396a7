"""Hill climbing on profit: keep moving a lever while profit rises."""

from __future__ import annotations

from .base import (
    SEARCHABLE_LEVERS,
    Policy,
    PolicyParameterError,
    check_levers,
    check_number,
    clip_lever,
)

__all__ = ["HillClimb"]


class HillClimb(Policy):
    """Move one lever step by step in the direction that raised profit.

    Rule: every ``decide_every`` periods, compare the mean profit of the last window with
    that of the window before. If it fell, reverse the direction and shrink the step
    (× ``shrink``, not below ``min_step``); then move the lever by one step in the current
    direction, within [``lower``, ``upper``] and the lever's allowed range (at a bound it
    turns back). The first move is in ``direction``.

    It keeps probing around the best setting it has found, with steps of ``min_step``,
    so it follows a market that changes under it.

    Parameters:
        lever: the lever to climb on. Default "price".
        step: first step, in lever units, in (0, 10]. Default 0.05.
        min_step: smallest step, in (0, step]. Default 0.01.
        shrink: step multiplier after a reversal, in (0, 1]. Default 0.5.
        direction: +1 (up) or −1 (down) for the first move. Default +1.
        lower, upper: bounds for the lever (None: the lever's allowed range).
        decide_every: periods per trial (≥ 1); more periods average out noise. Default 3.

    Literature: gradient-free local search ("trial and error") of Cyert & March (1963);
    the adaptive pricing of Baumol & Quandt (1964, "rules of thumb"); learning by
    experimentation in pricing (Aghion et al. 1991). A good model of a firm that tests
    price changes in small increments and keeps what works.
    """

    name = "hill_climb"
    classifier = {"observes": ("own",), "levers": ("price", "any"), "stochastic": False}

    def __init__(
        self,
        lever: str = "price",
        step: float = 0.05,
        min_step: float = 0.01,
        shrink: float = 0.5,
        direction: int = 1,
        lower: float | None = None,
        upper: float | None = None,
        *,
        decide_every: int = 3,
    ) -> None:
        super().__init__(decide_every=decide_every)
        if not isinstance(lever, str):
            raise PolicyParameterError(
                f"policy 'hill_climb': parameter lever = {lever!r} must be one lever name"
            )
        self.lever = check_levers(self.name, "lever", lever, SEARCHABLE_LEVERS)[0]
        self.step = check_number(self.name, "step", step, 0.0, 10.0, lo_open=True)
        self.min_step = check_number(self.name, "min_step", min_step, 0.0, self.step, lo_open=True)
        self.shrink = check_number(self.name, "shrink", shrink, 0.0, 1.0, lo_open=True)
        if direction not in (1, -1) or isinstance(direction, bool):
            raise PolicyParameterError(
                f"policy 'hill_climb': parameter direction = {direction!r} must be 1 or -1"
            )
        self.direction = int(direction)
        self.lower = check_number(self.name, "lower", lower, allow_none=True)
        self.upper = check_number(self.name, "upper", upper, allow_none=True)
        if self.lower is not None and self.upper is not None and self.lower >= self.upper:
            raise PolicyParameterError(
                f"policy 'hill_climb': lower = {lower!r} must be below upper = {upper!r}"
            )

    def reset(self) -> None:
        super().reset()
        self.direction_ = self.direction
        self.step_ = self.step
        self.last_profit_: float | None = None

    def rule(self, firm, observation: dict) -> dict:
        profit = self.mean(observation, "profit")
        if self.last_profit_ is not None and profit < self.last_profit_:
            self.direction_ = -self.direction_
            self.step_ = max(self.step_ * self.shrink, self.min_step)
        self.last_profit_ = profit
        cur = float(observation["levers"][self.lever])
        new = clip_lever(self.lever, cur + self.direction_ * self.step_, self.lower, self.upper)
        if new == cur:  # at a bound: turn back
            self.direction_ = -self.direction_
            new = clip_lever(self.lever, cur + self.direction_ * self.step_, self.lower, self.upper)
        return {self.lever: new} if new != cur else {}
