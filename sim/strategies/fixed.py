"""Fixed: keep every lever."""

from __future__ import annotations

from .base import Policy

__all__ = ["Fixed"]


class Fixed(Policy):
    """Keep every lever as it is; timeline events in the scenario still apply.

    Rule: never change anything.

    Parameters: none (``decide_every`` is accepted and ignored).

    Literature: the "no strategy" baseline of every tournament (Axelrod 1984 used
    fixed rules such as Cooperator and Defector as reference points).
    """

    name = "fixed"
    classifier = {"observes": (), "levers": (), "stochastic": False}

    def decide(self, firm, observation: dict) -> dict:
        return {}
