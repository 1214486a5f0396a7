"""Multi-armed bandits over a grid of lever settings: epsilon-greedy and UCB1."""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np

from ..agents import LEVERS
from .base import Policy, PolicyParameterError, check_number, lever_bounds

__all__ = ["EpsilonGreedy", "UCB"]

#: price multipliers of the default grid (relative to the price at the first decision)
DEFAULT_PRICE_STEPS = (0.8, 0.9, 1.0, 1.1, 1.2)


def _check_grid(policy: str, grid: Any) -> dict[str, tuple] | None:
    if grid is None:
        return None
    if not isinstance(grid, dict) or not grid:
        raise PolicyParameterError(
            f"policy {policy!r}: parameter grid = {grid!r} must be a table "
            "{lever = [value, ...], ...}, e.g. { price = [0.8, 1.0, 1.2] }"
        )
    out = {}
    n_arms = 1
    for lever, values in grid.items():
        if lever not in LEVERS or lever in ("capacity", "promise"):
            allowed = [x for x in LEVERS if x not in ("capacity", "promise")]
            raise PolicyParameterError(
                f"policy {policy!r}: grid.{lever}: lever unknown; allowed: " + ", ".join(allowed)
            )
        if not isinstance(values, (list, tuple)) or not values:
            raise PolicyParameterError(
                f"policy {policy!r}: grid.{lever} = {values!r} must be a non-empty list of values"
            )
        for v in values:
            if lever == "loyalty":
                if not isinstance(v, bool):
                    raise PolicyParameterError(
                        f"policy {policy!r}: grid.loyalty value {v!r} must be true or false"
                    )
            else:
                lo, hi = lever_bounds(lever)
                check_number(policy, f"grid.{lever} value", v, lo, hi)
        out[lever] = tuple(values)
        n_arms *= len(values)
    if n_arms > 1000:
        raise PolicyParameterError(
            f"policy {policy!r}: parameter grid has {n_arms} settings; at most 1000 are allowed"
        )
    return out


class _Bandit(Policy):
    """Shared machinery: arms, reward estimates, bookkeeping."""

    def __init__(
        self,
        grid: dict[str, list] | None = None,
        step_size: float | None = None,
        *,
        decide_every: int = 3,
    ) -> None:
        super().__init__(decide_every=decide_every)
        self.grid = grid
        self._grid = _check_grid(self.name, grid)
        self.step_size = check_number(
            self.name, "step_size", step_size, 0.0, 1.0, lo_open=True, allow_none=True
        )

    def reset(self) -> None:
        super().reset()
        self.arms_: list[dict[str, Any]] | None = None
        self.values_: np.ndarray | None = None  # estimated mean profit of each arm
        self.counts_: np.ndarray | None = None  # times each arm was played
        self.current_: int | None = None
        self.rewards_: list[float] = []

    def _make_arms(self, levers: dict) -> list[dict[str, Any]]:
        grid = self._grid or {
            "price": tuple(round(float(levers["price"]) * m, 6) for m in DEFAULT_PRICE_STEPS)
        }
        keys = list(grid)
        return [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*grid.values())]

    def rule(self, firm, observation: dict) -> dict:
        if self.arms_ is None:
            self.arms_ = self._make_arms(observation["levers"])
            self.values_ = np.zeros(len(self.arms_))
            self.counts_ = np.zeros(len(self.arms_), int)
        reward = self.mean(observation, "profit")
        if self.current_ is not None and math.isfinite(reward):
            a = self.current_
            self.counts_[a] += 1
            alpha = self.step_size if self.step_size is not None else 1.0 / self.counts_[a]
            if self.counts_[a] == 1:
                alpha = 1.0
            self.values_[a] += alpha * (reward - self.values_[a])
            self.rewards_.append(reward)
        untried = np.nonzero(self.counts_ == 0)[0]
        arm = int(untried[0]) if untried.size else self.select()
        self.current_ = arm
        return dict(self.arms_[arm])

    def select(self) -> int:  # pragma: no cover - interface
        raise NotImplementedError

    def best_arm(self) -> dict[str, Any] | None:
        """The setting with the highest estimated profit so far."""
        if self.arms_ is None or not self.counts_.any():
            return None
        est = np.where(self.counts_ > 0, self.values_, -np.inf)
        return dict(self.arms_[int(np.argmax(est))])


class EpsilonGreedy(_Bandit):
    """Mostly play the best setting found so far; sometimes try another at random.

    Rule: the arms are every combination of the values in ``grid``. Every
    ``decide_every`` periods the firm credits the mean profit of the last window to the
    arm it played (a sample average, or a recency-weighted average with ``step_size``),
    then plays: each arm once, in order, at first; afterwards, with probability
    ``epsilon`` an arm drawn at random, otherwise the arm with the highest estimated
    profit (the first one in a tie).

    Parameters:
        grid: lever → list of values, e.g. ``{ price = [0.8, 0.9, 1.0, 1.1, 1.2] }``;
            several levers give their combinations (at most 1000). Default: prices of 0.8,
            0.9, 1.0, 1.1 and 1.2 times the price at the first decision.
        epsilon: exploration probability, in [0, 1]. Default 0.1.
        step_size: None for sample averages, or a constant weight in (0, 1] of the newest
            profit (tracks a market that changes, e.g. rivals that learn too). Default None.
        decide_every: periods per play (≥ 1). Default 3.

    Literature: Sutton & Barto (2018, ch. 2); pricing experiments as bandits (Rothschild
    1974; Misra, Schwartz & Abernethy 2019). A good model of a firm that A/B-tests a
    small menu of price points and mostly sticks with the winner.
    """

    name = "epsilon_greedy"
    classifier = {"observes": ("own",), "levers": ("price", "any"), "stochastic": True}

    def __init__(
        self,
        grid: dict[str, list] | None = None,
        epsilon: float = 0.1,
        step_size: float | None = None,
        *,
        decide_every: int = 3,
    ) -> None:
        super().__init__(grid, step_size, decide_every=decide_every)
        self.epsilon = check_number(self.name, "epsilon", epsilon, 0.0, 1.0)

    def get_params(self) -> dict[str, Any]:
        return {
            "grid": self.grid,
            "epsilon": self.epsilon,
            "step_size": self.step_size,
            "decide_every": self.decide_every,
        }

    def select(self) -> int:
        if self.epsilon > 0 and self.rng.random() < self.epsilon:
            return int(self.rng.integers(len(self.arms_)))
        return int(np.argmax(self.values_))


class UCB(_Bandit):
    """Play the setting with the highest optimistic estimate of profit (UCB1).

    Rule: the arms are every combination of the values in ``grid``. Every
    ``decide_every`` periods the firm credits the mean profit of the last window to the
    arm it played, then plays each arm once, in order, and afterwards the arm with the
    highest index

        estimate_a + c · R · sqrt(2 ln t / n_a),

    where t is the number of plays, n_a those of arm a and R the range of the profits
    seen so far (so ``c`` is free of units). Deterministic: ties go to the first arm.

    Parameters:
        grid: as :class:`EpsilonGreedy`.
        c: exploration weight, ≥ 0 (0 is greedy). Default 1.0 (UCB1 on rescaled profits).
        step_size: as :class:`EpsilonGreedy`. Default None.
        decide_every: periods per play (≥ 1). Default 3.

    Literature: Auer, Cesa-Bianchi & Fischer (2002); Lai & Robbins (1985); dynamic
    pricing with bandits (den Boer 2015 survey). A good model of a systematic
    experimenter that keeps testing settings it is unsure about.
    """

    name = "ucb"
    classifier = {"observes": ("own",), "levers": ("price", "any"), "stochastic": False}

    def __init__(
        self,
        grid: dict[str, list] | None = None,
        c: float = 1.0,
        step_size: float | None = None,
        *,
        decide_every: int = 3,
    ) -> None:
        super().__init__(grid, step_size, decide_every=decide_every)
        self.c = check_number(self.name, "c", c, 0.0, 100.0)

    def get_params(self) -> dict[str, Any]:
        return {
            "grid": self.grid,
            "c": self.c,
            "step_size": self.step_size,
            "decide_every": self.decide_every,
        }

    def select(self) -> int:
        t = max(int(self.counts_.sum()), 1)
        r = (max(self.rewards_) - min(self.rewards_)) if len(self.rewards_) > 1 else 0.0
        r = r if r > 0 else 1.0
        bonus = self.c * r * np.sqrt(2.0 * math.log(t) / self.counts_)
        return int(np.argmax(self.values_ + bonus))
