"""A user-defined stage: added from Python, parameters validated, own random stream.

The example is the one of docs/extending.md and notebooks/extending.ipynb: a price
comparison site whose visitors weigh price more. It must help the cheaper firm, leave
every built-in draw unchanged when it has no effect, and removing it must restore the
guard's outputs byte for byte.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pytest

from sim import MarketModel, ModelParams
from sim.checks import ParamError
from sim.model import default_stages
from sim.params import P
from sim.scenario import ScenarioError, parse_scenario, scenario_to_dict
from sim.stages import REGISTRY, PeriodState, Stage, register
from tests.guard.record import FIXTURE, fingerprint, run_case


@dataclass
class ComparisonParams:
    """Parameters of the price comparison site."""

    reach: float = P(
        0.05, "share per month", 0.0, 1.0, "assumption", "Share of customers visiting a month."
    )
    boost: float = P(
        0.1, "fraction", 0.0, 1.0, "assumption", "Rise of a visitor's price weight per visit."
    )


class PriceComparisonSite(Stage):
    """Price comparison site: visitors weigh price more (β_price ← β_price (1 + boost))."""

    name = "comparison"
    after = "awareness"
    Params = ComparisonParams

    def __call__(self, s: PeriodState) -> None:
        visit = s.rng.random(s.n) < self.params.reach
        s.pop.beta_price[visit] *= 1.0 + self.params.boost


def _market() -> ModelParams:
    p = ModelParams()
    p.market.n_customers, p.market.periods, p.market.warmup = 1500, 24, 0
    a, b = p.firms
    a.price, a.quality = 0.85, 0.65
    b.price, b.quality = 1.15, 0.75
    return p


def _share_a(stages=(), seed: int = 1) -> float:
    m = MarketModel(_market(), seed=seed, stages=stages)
    m.run()
    f = m.firm_frame()
    return float(f[(f["period"] == f["period"].max()) & (f["firm"] == "A")]["share"].iloc[0])


def test_the_site_helps_the_cheaper_firm_for_every_seed() -> None:
    for seed in (1, 2, 3):
        base = _share_a(seed=seed)
        with_site = _share_a([PriceComparisonSite(reach=0.2, boost=0.2)], seed=seed)
        assert with_site > base + 0.01, (seed, base, with_site)


def test_stage_is_placed_and_printed() -> None:
    m = MarketModel(_market(), seed=1, stages=[PriceComparisonSite()])
    names = m.stages.names()
    assert names[names.index("awareness") + 1] == "comparison"
    assert "comparison: Price comparison site" in str(m.stages)
    assert m.stages["comparison"].params.reach == 0.05


def test_parameters_are_validated_with_the_one_line_message() -> None:
    with pytest.raises(ParamError) as err:
        PriceComparisonSite(reach=1.5)
    assert str(err.value) == "stage comparison: comparison.reach = 1.5: must lie in [0.0, 1.0]"
    with pytest.raises(ParamError, match="unknown key; allowed: reach, boost"):
        PriceComparisonSite(speed=1)


def test_schedule_editing() -> None:
    m = MarketModel(_market(), seed=1)
    with pytest.raises(ValueError, match="already in the schedule"):
        m.stages.add(type(m.stages["wom"])())
    with pytest.raises(KeyError, match="stage 'nope' unknown"):
        m.stages.add(PriceComparisonSite(), after="nope")
    m.stages.add(PriceComparisonSite(), before="choice")
    assert m.stages.index_of("comparison") == m.stages.index_of("choice") - 1
    old = m.stages.replace("comparison", PriceComparisonSite(reach=0.2))
    assert old.params.reach == 0.05 and m.stages["comparison"].params.reach == 0.2
    m.stages.remove("comparison")
    assert "comparison" not in m.stages.names()


def test_own_stream_leaves_builtin_draws_unchanged() -> None:
    """A stage that draws but changes nothing gives the guard's outputs byte for byte."""
    want = json.loads(FIXTURE.read_text())["loyalty/1"]
    got = fingerprint(run_case("loyalty", 1, stages=[PriceComparisonSite(boost=0.0)]))
    assert got == want


def test_removing_the_stage_restores_the_guard_outputs() -> None:
    """The referral case has no warm-up: the schedule can be edited before period 1."""
    want = json.loads(FIXTURE.read_text())["referrals/2"]
    changed = fingerprint(run_case("referrals", 2, stages=[PriceComparisonSite(reach=0.3)]))
    assert changed["firms"] != want["firms"]

    def drop(m: MarketModel) -> None:
        m.stages.remove("comparison")

    got = fingerprint(run_case("referrals", 2, stages=[PriceComparisonSite()], edit=drop))
    assert got == want


def test_a_builtin_stage_removed_and_put_back_changes_nothing() -> None:
    want = json.loads(FIXTURE.read_text())["complaints/1"]
    sched = default_stages()
    wom = sched.remove("referrals")
    sched.add(wom, after="wom")
    assert fingerprint(run_case("complaints", 1, stages=sched)) == want


def test_stage_stream_is_deterministic_and_its_own() -> None:
    m1 = MarketModel(_market(), seed=5, stages=[PriceComparisonSite()])
    m2 = MarketModel(_market(), seed=5, stages=[PriceComparisonSite()])
    m1.run(3)
    m2.run(3)
    assert np.array_equal(m1.pop.beta_price, m2.pop.beta_price)
    assert m1.streams["comparison"] is not m1.streams["wom"]


def test_a_registered_stage_is_set_from_a_scenario_file(tmp_path) -> None:
    register(PriceComparisonSite)
    try:
        sc = parse_scenario({"stages": {"comparison": {"reach": 0.2}}}, source="s.toml")
        assert sc.params.stages == {"comparison": {"reach": 0.2, "boost": 0.1}}
        m = MarketModel(sc.params, seed=1)
        assert m.stages["comparison"].params.reach == 0.2
        assert scenario_to_dict(sc)["stages"] == sc.params.stages
        with pytest.raises(ScenarioError) as err:
            parse_scenario({"stages": {"comparison": {"boost": 2}}}, source="s.toml")
        assert str(err.value) == "s.toml: stages.comparison.boost = 2.0: must lie in [0.0, 1.0]"
        with pytest.raises(ScenarioError, match="s.toml: stages.nope = {}: unknown stage"):
            parse_scenario({"stages": {"nope": {}}}, source="s.toml")
    finally:
        REGISTRY.pop("comparison", None)
