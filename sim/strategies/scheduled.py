"""Scheduled: change levers at given periods (a plan written in advance)."""

from __future__ import annotations

from typing import Any

from ..agents import LEVERS
from .base import Policy, PolicyParameterError, check_number, lever_bounds

__all__ = ["Scheduled"]


class Scheduled(Policy):
    """Follow a plan written in advance: at given periods, set given levers.

    Rule: at the start of period t, apply every plan entry whose ``period`` is t (or
    earlier and not yet applied); otherwise keep the levers. Without a plan it keeps the
    levers, and only the scenario's timeline events change them.

    Parameters:
        plan: a list of entries ``{period = t, lever = value, ...}`` (t ≥ 1; levers as in
            a timeline ``set`` event, each within its allowed range). In a scenario file:
            ``policy = { name = "scheduled", plan = [{ period = 12, price = 0.9 },
            { period = 24, service = 0.8 }] }``.

    Literature: the plan-based firm of corporate planning (budgets, promotion calendars);
    it is the reference against which adaptive rules are judged.
    """

    name = "scheduled"
    classifier = {"observes": (), "levers": ("any",), "stochastic": False}

    def __init__(self, plan: list[dict[str, Any]] | None = None, *, decide_every: int = 1) -> None:
        super().__init__(decide_every=decide_every)
        self.plan = plan
        entries = []
        if plan is not None:
            if not isinstance(plan, (list, tuple)):
                raise PolicyParameterError(
                    f"policy 'scheduled': parameter plan = {plan!r} must be a list "
                    "of tables {period = t, lever = value, ...}"
                )
            for i, e in enumerate(plan):
                if not isinstance(e, dict) or "period" not in e:
                    raise PolicyParameterError(
                        f"policy 'scheduled': plan[{i}] = {e!r} must be a table "
                        "with a period and at least one lever"
                    )
                t = e["period"]
                if isinstance(t, bool) or not isinstance(t, int) or t < 1:
                    raise PolicyParameterError(
                        f"policy 'scheduled': plan[{i}].period = {t!r} must be an integer ≥ 1"
                    )
                levers = {k: v for k, v in e.items() if k != "period"}
                if not levers:
                    raise PolicyParameterError(
                        f"policy 'scheduled': plan[{i}] = {e!r} sets no lever"
                    )
                for k, v in levers.items():
                    if k not in LEVERS:
                        raise PolicyParameterError(
                            f"policy 'scheduled': plan[{i}].{k}: lever unknown; "
                            f"allowed: {', '.join(LEVERS)}"
                        )
                    if k == "loyalty":
                        if not isinstance(v, bool):
                            raise PolicyParameterError(
                                f"policy 'scheduled': plan[{i}].loyalty = {v!r} "
                                "must be true or false"
                            )
                    elif not (k in ("capacity", "promise") and v is None):
                        lo, hi = lever_bounds(k)
                        check_number("scheduled", f"plan[{i}].{k}", v, lo, hi)
                entries.append((t, levers))
        self._entries = sorted(entries, key=lambda e: e[0])

    def get_params(self) -> dict[str, Any]:
        return {"plan": self.plan, "decide_every": self.decide_every}

    def reset(self) -> None:
        super().reset()
        self.next_ = 0

    def decide(self, firm, observation: dict) -> dict:
        if not hasattr(self, "next_"):
            self.reset()
        t = int(observation.get("period", 0))
        out: dict[str, Any] = {}
        while self.next_ < len(self._entries) and self._entries[self.next_][0] <= t:
            out.update(self._entries[self.next_][1])
            self.next_ += 1
        return out
