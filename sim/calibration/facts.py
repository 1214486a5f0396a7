"""Moments of the stylized-fact target set (docs/validation.md) for calibrating the defaults.

Each moment is a thin wrapper over a measuring function of :mod:`sim.validation`, registered
in the calibration registry (:mod:`sim.calibration.moments`), so ``calibrations/defaults.toml``
fits the mechanism parameters to the same figures docs/validation.md reports.

Two measures follow customers *after* the state they classify: the loss by satisfaction band
(12 months after classification) and repurchase by complaint outcome (problems of 12 months,
followed 6 more). A moment receives the finished model, so these measures run their follow-up
on a deep copy of it (its random streams copied with it: same seed, same figures) and leave the
run itself untouched; the follow-up is measured once per model and shared by its moments.

=============================  ===================================================================
moment                         measure
=============================  ===================================================================
loss_low                       12-month loss of customers with satisfaction ≤ 0 (lowest band)
loss_top                       12-month loss of customers with satisfaction > 0.9 (highest band)
loss_gap                       loss_low − loss_top
iceberg                        complaints per problem
repurchase_silent …            repurchase at the next purchase occasion after a problem, by
repurchase_resolved_quick      complaint outcome (silent, unresolved, resolved_late, resolved_quick)
wom_unresolved, wom_quick      people told by a complainant left unresolved / resolved quickly
=============================  ===================================================================

``annual_churn`` and ``profit_top20`` (the other two facts) are registered in
:mod:`sim.calibration.moments`.
"""

from __future__ import annotations

import copy

import pandas as pd

from sim import validation as v

from .moments import register_moment

__all__ = ["FOLLOW_LOSS", "FOLLOW_PROBLEMS", "FOLLOW_HORIZON", "follow_up"]

#: months followed by the loss-by-satisfaction measure
FOLLOW_LOSS = 12
#: months whose problems the repurchase measure counts, and months it waits for a purchase
FOLLOW_PROBLEMS, FOLLOW_HORIZON = 12, 6

_CACHE_ATTR = "_stylized_facts"


def follow_up(model) -> dict[str, pd.DataFrame]:
    """The follow-up tables of a finished run, measured once per model on deep copies.

    Args:
        model: a finished :class:`~sim.model.MarketModel` that recorded its events.

    Returns:
        ``{"loss": loss_by_satisfaction(...), "repurchase": repurchase_by_outcome(...)}``
        for the customers at the run's last period.

    Raises:
        ValueError: the model did not record events (the repurchase measure needs them).

    Examples:
        >>> from sim import MarketModel, ModelParams
        >>> m = MarketModel(ModelParams(), seed=0).run(3)
        >>> sorted(follow_up(m))
        ['loss', 'repurchase']
    """
    cached = model.__dict__.get(_CACHE_ATTR)
    if cached is not None and cached[0] == model.period:
        return cached[1]
    out = {
        "loss": v.loss_by_satisfaction(copy.deepcopy(model), horizon=FOLLOW_LOSS),
        "repurchase": v.repurchase_by_outcome(
            copy.deepcopy(model), FOLLOW_PROBLEMS, horizon=FOLLOW_HORIZON
        ),
    }
    model.__dict__[_CACHE_ATTR] = (model.period, out)
    return out


def _band(model, label: str) -> float:
    t = follow_up(model)["loss"].set_index("band")
    return float(t.loc[label, "loss"])


@register_moment("loss_low", needs_events=True, firm="market")
def loss_low(model, firm: str | None) -> float:
    """12-month loss of the customers with remembered satisfaction ≤ 0 (docs/validation.md 1)."""
    return _band(model, v.BANDS[0][0])


@register_moment("loss_top", needs_events=True, firm="market")
def loss_top(model, firm: str | None) -> float:
    """12-month loss of the customers with remembered satisfaction > 0.9 (seed 000: about 40%)."""
    return _band(model, v.BANDS[-1][0])


@register_moment("loss_gap", needs_events=True, firm="market")
def loss_gap(model, firm: str | None) -> float:
    """loss_low − loss_top: how strongly satisfaction drives retention (Jones & Sasser 1995)."""
    return _band(model, v.BANDS[0][0]) - _band(model, v.BANDS[-1][0])


@register_moment("iceberg", needs_events=True, firm="market")
def iceberg(model, firm: str | None) -> float:
    """Complaints per problem in the run's event log (TARP: about 1 in 25)."""
    return v.iceberg(model.events())


def _repurchase(outcome: str):
    def fn(model, firm: str | None) -> float:
        t = follow_up(model)["repurchase"].set_index("outcome")
        return float(t.loc[outcome, "repurchase"])

    fn.__name__ = f"repurchase_{outcome}"
    return fn


_TARP = {"silent": 37, "unresolved": 46, "resolved_late": 70, "resolved_quick": 95}
for _o in v.OUTCOMES:
    register_moment(
        f"repurchase_{_o}",
        needs_events=True,
        firm="market",
        doc=f"Repurchase after a problem, outcome {_o} (TARP: {_TARP[_o]}%).",
    )(_repurchase(_o))


def _told(model, outcome: str) -> float:
    t = v.wom_by_outcome(model.events()).set_index("outcome")
    return float(t.loc[outcome, "told"])


@register_moment("wom_unresolved", needs_events=True, firm="market")
def wom_unresolved(model, firm: str | None) -> float:
    """People told by a complainant left unresolved, in the complaint's period (TARP: 9–10)."""
    return _told(model, "unresolved")


@register_moment("wom_quick", needs_events=True, firm="market")
def wom_quick(model, firm: str | None) -> float:
    """People told by a complainant resolved quickly, in the complaint's period (TARP: 4–5)."""
    return _told(model, "resolved_quick")
