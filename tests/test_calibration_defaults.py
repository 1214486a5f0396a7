"""The defaults' calibration (calibrations/defaults.toml) and its stylized-fact moments."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest

from sim import MarketModel, ModelParams
from sim import validation as v
from sim.calibration import MOMENTS, facts, load_calibration
from sim.params import describe

ROOT = Path(__file__).resolve().parent.parent
DEFAULTS = ROOT / "calibrations" / "defaults.toml"
FACTS = {
    "loss_top",
    "loss_gap",
    "iceberg",
    "repurchase_silent",
    "repurchase_unresolved",
    "repurchase_resolved_late",
    "repurchase_resolved_quick",
    "wom_unresolved",
    "wom_quick",
    "profit_top20",
    "annual_churn",
}
# a small market where complaints are common enough for every outcome to occur
SMALL = [
    "market.n_customers=2000",
    "market.periods=12",
    "firms.A.complaint_ease=0.8",
    "firms.B.complaint_ease=0.8",
]


def _default(key: str) -> float:
    section, name = key.split(".")
    return float(getattr(getattr(ModelParams(), section), name))


@pytest.fixture(scope="module")
def plan():
    cal, _ = load_calibration(DEFAULTS, overrides=SMALL)
    return cal.plan()


@pytest.fixture(scope="module")
def run():
    p = ModelParams()
    p.market.n_customers, p.record_events = 2000, True
    for f in p.firms:
        f.complaint_ease = 0.8
    return MarketModel(p, seed=3).run(12)


def test_file_loads_targets_are_the_fact_set_ranges_inside_declared(plan):
    assert set(plan.targets["kpi"]) == FACTS
    assert set(plan.targets.loc[~plan.targets["used"], "kpi"]) == {"annual_churn"}
    assert (plan.targets["se"] > 0).all() and np.isfinite(plan.targets["value"]).all()
    for fp in plan.parameters:
        section, name = fp.key.split(".")
        row = next(r for r in describe(type(getattr(ModelParams(), section))) if r["name"] == name)
        lo, hi = row["range"]
        assert lo <= fp.low < _default(fp.key) < fp.high <= hi, fp.key


def test_every_moment_computes_on_a_small_run_at_the_defaults(plan):
    point = {fp.key: _default(fp.key) for fp in plan.parameters}
    stats = plan.simulator.each(point, seeds=[plan.seed])[0]
    assert np.isfinite(stats).all(), dict(zip(plan.targets["kpi"], stats, strict=True))
    again = plan.simulator.each(point, seeds=[plan.seed])[0]
    assert stats.tobytes() == again.tobytes()  # same seed, same figures
    assert np.isfinite(plan.distance(stats))


def test_wrappers_agree_with_sim_validation_and_leave_the_run_untouched(run):
    period, rows = run.period, len(run.firm_frame())
    got = {k: MOMENTS[k].fn(run, None) for k in FACTS - {"profit_top20", "annual_churn"}}
    assert run.period == period and len(run.firm_frame()) == rows
    loss = v.loss_by_satisfaction(copy.deepcopy(run), horizon=facts.FOLLOW_LOSS)
    low, top = loss["loss"].iloc[0], loss["loss"].iloc[-1]
    assert got["loss_top"] == pytest.approx(top)
    assert got["loss_gap"] == pytest.approx(low - top)
    assert MOMENTS["loss_low"].fn(run, None) == pytest.approx(low)
    rep = v.repurchase_by_outcome(
        copy.deepcopy(run), facts.FOLLOW_PROBLEMS, horizon=facts.FOLLOW_HORIZON
    ).set_index("outcome")["repurchase"]
    for o in v.OUTCOMES:
        assert got[f"repurchase_{o}"] == pytest.approx(rep[o])
    ev = run.events()
    assert got["iceberg"] == pytest.approx(v.iceberg(ev))
    told = v.wom_by_outcome(ev).set_index("outcome")["told"]
    assert got["wom_unresolved"] == pytest.approx(told["unresolved"])
    assert got["wom_quick"] == pytest.approx(told["resolved_quick"])
    # the direction the facts describe holds in the small run too
    assert got["loss_gap"] > 0 and rep["resolved_quick"] > rep["silent"]


def test_docs_list_every_registered_moment():
    text = (ROOT / "docs" / "calibration.md").read_text(encoding="utf-8")
    built_in = FACTS | {"loss_low", "final_share"}
    assert built_in <= set(MOMENTS)
    missing = [k for k in built_in if f"`{k}`" not in text]
    assert not missing
