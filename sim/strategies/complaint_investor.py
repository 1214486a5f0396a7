"""Invest in complaint handling when churn or complaints rise."""

from __future__ import annotations

from .base import Policy, PolicyParameterError, check_int, check_levers, check_number

__all__ = ["ComplaintInvestor"]

_HANDLING = ("resolve_share", "resolve_speed", "complaint_ease", "service")


class ComplaintInvestor(Policy):
    """Raise complaint handling when churn or complaints rise; ease off when all is calm.

    Rule: every ``decide_every`` periods the firm compares its churn rate (customers lost
    / customers) and its complaint rate (complaints / purchases) over the last window with
    their reference levels, moving averages of past windows (weight ``memory`` on the
    newest).

    - If either has risen by more than ``tolerance`` (a fraction) above its reference,
      or churn exceeds ``target_churn`` (when given), it invests: each of ``levers`` goes
      up by ``step`` (at most ``max_level``).
    - After ``relax_after`` calm reviews in a row (0: never) it cuts back: each lever goes
      down by ``step`` (at least ``min_level``), saving the cost of remedies.

    Two refinements. It makes complaining easier only once it resolves at least
    ``invite_above`` of complaints (when ``resolve_share`` is among its levers): a
    complaint that is heard but not resolved makes the customer talk to many people
    (TARP), so inviting complaints it cannot handle backfires. And making complaining
    easier brings more complaints by itself, so in the review after it raised
    ``complaint_ease`` it takes the new complaint rate as its reference instead of
    reacting to it.

    Parameters:
        levers: handling levers raised together, from resolve_share, resolve_speed,
            complaint_ease and service. Default ["resolve_share", "resolve_speed",
            "complaint_ease"].
        step: change per review, in (0, 1]. Default 0.1.
        tolerance: relative rise that triggers investment, in [0, 10]. Default 0.25.
        memory: weight of the newest window in the references, in (0, 1]. Default 0.3.
        target_churn: churn rate per period above which it always invests, in [0, 1],
            or None. Default None.
        relax_after: calm reviews before cutting back (0 = never), in [0, 1000]. Default 0.
        max_level, min_level: bounds for the levers, in [0, 1]. Defaults 1 and 0.
        invite_above: share resolved needed before complaint_ease is raised, in [0, 1].
            Default 0.5 (0: raise everything together).
        decide_every: periods between reviews (≥ 1). Default 3.

    Literature: TARP (1979–1986) and Goodman (1999) on the return of complaint handling;
    Fornell & Wernerfelt (1987) defensive marketing: spend on complaint management to keep
    customers; Hart, Heskett & Sasser (1990) service recovery. A good model of a firm
    whose customer-service budget responds to a retention dashboard.
    """

    name = "complaint_investor"
    classifier = {
        "observes": ("own",),
        "levers": ("resolve_share", "resolve_speed", "complaint_ease"),
        "stochastic": False,
    }

    def __init__(
        self,
        levers: list[str] | tuple[str, ...] = ("resolve_share", "resolve_speed", "complaint_ease"),
        step: float = 0.1,
        tolerance: float = 0.25,
        memory: float = 0.3,
        target_churn: float | None = None,
        relax_after: int = 0,
        max_level: float = 1.0,
        min_level: float = 0.0,
        invite_above: float = 0.5,
        *,
        decide_every: int = 3,
    ) -> None:
        super().__init__(decide_every=decide_every)
        self.levers = check_levers(self.name, "levers", levers, _HANDLING)
        self.step = check_number(self.name, "step", step, 0.0, 1.0, lo_open=True)
        self.tolerance = check_number(self.name, "tolerance", tolerance, 0.0, 10.0)
        self.memory = check_number(self.name, "memory", memory, 0.0, 1.0, lo_open=True)
        self.target_churn = check_number(
            self.name, "target_churn", target_churn, 0.0, 1.0, allow_none=True
        )
        self.relax_after = check_int(self.name, "relax_after", relax_after, 0, 1000)
        self.max_level = check_number(self.name, "max_level", max_level, 0.0, 1.0)
        self.min_level = check_number(self.name, "min_level", min_level, 0.0, 1.0)
        self.invite_above = check_number(self.name, "invite_above", invite_above, 0.0, 1.0)
        if self.min_level > self.max_level:
            raise PolicyParameterError(
                f"policy 'complaint_investor': min_level = {min_level!r} must not "
                f"exceed max_level = {max_level!r}"
            )

    def reset(self) -> None:
        super().reset()
        self.churn_ref_: float | None = None
        self.complaint_ref_: float | None = None
        self.calm_ = 0
        self.rebase_complaints_ = False
        self.log_: list[dict] = []

    def signals(self, observation: dict) -> tuple[float, float]:
        """(churn rate, complaints per purchase) over the window."""
        churn = self.mean(observation, "churn_rate")
        buyers = self.total(observation, "buyers")
        complaints = self.total(observation, "complaints") / buyers if buyers > 0 else 0.0
        return churn, complaints

    def rule(self, firm, observation: dict) -> dict:
        churn, compl = self.signals(observation)
        lv = observation["levers"]
        out: dict[str, float] = {}
        if self.churn_ref_ is None:
            self.churn_ref_, self.complaint_ref_ = churn, compl
            rising = False
        else:
            if self.rebase_complaints_:
                self.complaint_ref_ = compl
            rising = churn > self.churn_ref_ * (
                1.0 + self.tolerance
            ) or compl > self.complaint_ref_ * (1.0 + self.tolerance)
        if self.target_churn is not None and churn > self.target_churn:
            rising = True
        self.rebase_complaints_ = False
        if rising:
            self.calm_ = 0
            for lever in sorted(self.levers, key=lambda x: x == "complaint_ease"):  # ease last
                new = min(float(lv[lever]) + self.step, self.max_level)
                if lever == "complaint_ease" and "resolve_share" in self.levers:
                    resolved = out.get("resolve_share", float(lv["resolve_share"]))
                    if resolved < self.invite_above:
                        continue  # fix the handling before inviting more complaints
                if new > float(lv[lever]):
                    out[lever] = new
            if "complaint_ease" in out:
                self.rebase_complaints_ = True
        else:
            self.calm_ += 1
            if self.relax_after and self.calm_ >= self.relax_after:
                self.calm_ = 0
                for lever in self.levers:
                    new = max(float(lv[lever]) - self.step, self.min_level)
                    if new < float(lv[lever]):
                        out[lever] = new
        m = self.memory
        self.churn_ref_ = (1 - m) * self.churn_ref_ + m * churn
        self.complaint_ref_ = (1 - m) * self.complaint_ref_ + m * compl
        self.log_.append(
            {"churn": churn, "complaints": compl, "invested": rising, "changes": dict(out)}
        )
        return out
