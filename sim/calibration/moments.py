"""Named moments: statistics of a whole run that a calibration can target.

A calibration target is either a KPI of the firm or market table (a monthly value, or its
mean over periods 1…T) or a *moment*: a named function of the finished model registered
here. Stylized facts become targets by registering their measurement function::

    from sim.calibration import register_moment

    @register_moment("top_decile_units", needs_events=False)
    def top_decile_units(model, firm):
        ...
        return float(value)

A moment function receives the finished :class:`~sim.model.MarketModel` and the firm name
named by the target row (``None`` for a market-wide moment) and returns one number (NaN
when the run gives it no value). ``needs_events=True`` keeps the event log on during
calibration runs (it is off otherwise: it costs time and serves no other target).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

__all__ = ["MOMENTS", "Moment", "moment_names", "register_moment"]


@dataclass(frozen=True)
class Moment:
    """A registered moment.

    Args:
        name: the name used in a target file's ``kpi`` column.
        fn: ``fn(model, firm) -> float``.
        needs_events: the run must record its event log.
        firm: ``"required"`` (a firm name), ``"optional"`` (a firm name or the whole
            market) or ``"market"`` (market-wide only).
        doc: one line for docs/calibration.md.
    """

    name: str
    fn: Callable
    needs_events: bool = False
    firm: str = "optional"
    doc: str = ""


#: name → :class:`Moment`
MOMENTS: dict[str, Moment] = {}


def register_moment(
    name: str, *, needs_events: bool = False, firm: str = "optional", doc: str = ""
) -> Callable[[Callable], Callable]:
    """Register ``fn(model, firm) -> float`` as the moment ``name`` (a decorator).

    Args:
        name: the moment's name (must not be a KPI of the firm or market table).
        needs_events: the run must record its event log.
        firm: ``"required"``, ``"optional"`` or ``"market"`` (see :class:`Moment`).
        doc: one line of documentation (default: the function's first docstring line).

    Returns:
        the decorator (it returns the function unchanged).

    Raises:
        ValueError: ``firm`` is not one of the three choices.

    Examples:
        >>> @register_moment("served_share_demo", firm="market")
        ... def served(model, firm):
        ...     return float((model.pop.status == 1).mean())
    """
    if firm not in ("required", "optional", "market"):
        raise ValueError(f"firm = {firm!r}: allowed: required, optional, market")

    def deco(fn: Callable) -> Callable:
        text = doc or ((fn.__doc__ or "").strip().splitlines() or [""])[0]
        MOMENTS[name] = Moment(name, fn, needs_events, firm, text)
        return fn

    return deco


def moment_names() -> tuple[str, ...]:
    """The registered moments' names."""
    return tuple(MOMENTS)


def _firm_index(model, firm: str | None) -> int | None:
    return None if firm is None else [f.name for f in model.firms].index(firm)


def _monthly(model, firm: str | None, column: str) -> np.ndarray:
    df = model.firm_frame()
    df = df[df["period"] > 0]
    if firm is not None:
        return df.loc[df["firm"] == firm, column].to_numpy(float)
    return df.groupby("period")[column].mean().to_numpy(float)


@register_moment("annual_churn")
def annual_churn(model, firm: str | None) -> float:
    """Annualised churn, 1 − (1 − mean monthly churn rate)^12 (firm, or the firms' mean)."""
    m = _monthly(model, firm, "churn_rate")
    return float(1 - (1 - np.nanmean(m)) ** 12) if m.size else float("nan")


@register_moment("final_share")
def final_share(model, firm: str | None) -> float:
    """The firm's share of the market's customers in the last period."""
    df = model.firm_frame()
    last = df[df["period"] == df["period"].max()]
    if firm is None:
        return float(last["share"].max())
    return float(last.loc[last["firm"] == firm, "share"].iloc[0])


@register_moment("profit_top20")
def profit_top20(model, firm: str | None) -> float:
    """Share of the profit brought by the top 20% of customers (seed 000: the 80/20 rule)."""
    j = _firm_index(model, firm)
    profit = model.pop.profit.sum(axis=1) if j is None else model.pop.profit[:, j]
    profit = profit[profit > 0]
    if profit.size < 5:
        return float("nan")
    top = np.sort(profit)[::-1][: max(1, int(round(0.2 * profit.size)))]
    return float(top.sum() / profit.sum())
