"""One validation path: the same check and one-line message on every entry path."""

from __future__ import annotations

import math

import pytest

from sim import MarketModel, ModelParams
from sim.checks import ParamError, build_params, check_lever, check_path, validate_params
from sim.scenario import ScenarioError, parse_scenario
from sim.strategies.base import Policy


def _small() -> ModelParams:
    p = ModelParams()
    p.market.n_customers, p.market.periods, p.market.warmup = 300, 4, 0
    return p


def _one_line(err: Exception) -> str:
    text = str(err)
    assert "\n" not in text
    return text


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda p: setattr(p.firms[0], "price", -1.0),
            "ModelParams: firms[0].price = -1.0: must lie in [0.0, 1000000000.0]",
        ),
        (
            lambda p: setattr(p.complaints, "shortfall_scale", 0.0),
            "ModelParams: complaints.shortfall_scale = 0.0: must lie in [1e-06, 10.0]",
        ),
        (
            lambda p: setattr(p.wom, "positive_talk", math.nan),
            "ModelParams: wom.positive_talk = nan: must be a finite number in [0.0, 1.0]",
        ),
        (
            lambda p: setattr(p.market, "n_customers", 2.5),
            "ModelParams: market.n_customers = 2.5: must be an integer in [1, 50000000]",
        ),
        (
            lambda p: setattr(p.network, "kind", "lattice"),
            None,
        ),
        (
            lambda p: setattr(p.market.segments[1], "share", 2.0),
            "ModelParams: market.segments[1].share = 2.0: must lie in [0.0, 1.0]",
        ),
    ],
)
def test_model_params_are_checked_when_the_model_is_made(edit, message) -> None:
    p = _small()
    edit(p)
    with pytest.raises(ParamError) as err:
        MarketModel(p, seed=1)
    text = _one_line(err.value)
    if message:
        assert text == message
    assert isinstance(err.value, ValueError) and isinstance(err.value, ScenarioError)


def test_the_same_message_as_the_scenario_loader() -> None:
    with pytest.raises(ScenarioError) as from_file:
        parse_scenario({"complaints": {"shortfall_scale": 0.0}}, source="ModelParams")
    p = _small()
    p.complaints.shortfall_scale = 0.0
    with pytest.raises(ParamError) as from_api:
        validate_params(p)
    assert str(from_file.value) == str(from_api.value)


def test_set_lever_refuses_out_of_range_and_keeps_the_old_value() -> None:
    m = MarketModel(_small(), seed=1)
    a = m.firms[0]
    before = a.levers.resolve_share
    with pytest.raises(ParamError) as err:
        a.set_lever("resolve_share", 7.0)
    assert _one_line(err.value) == "firm A (api): resolve_share = 7.0: must lie in [0.0, 1.0]"
    assert a.levers.resolve_share == before
    with pytest.raises(ParamError, match="finite"):
        a.set_lever("price", math.inf)
    a.set_lever("capacity", None)  # optional levers accept None (unlimited)
    a.set_lever("price", 1.2)
    assert a.levers.price == 1.2


class _Wild(Policy):
    """Sets an impossible resolve share."""

    name = "wild"

    def decide(self, firm, obs):
        return {"resolve_share": 7.0}


def test_values_a_policy_sets_are_checked() -> None:
    m = MarketModel(_small(), seed=1)
    m.firms[0].policy = _Wild()
    with pytest.raises(ParamError, match=r"firm A \(policy wild\): resolve_share = 7.0"):
        m.step()


def test_build_params_and_paths() -> None:
    from sim.params import ChurnParams

    assert build_params(ChurnParams, {"base_rate": 0.02}, "x", "churn").base_rate == 0.02
    with pytest.raises(ParamError, match="x: churn.base_rte = 0.02: unknown key"):
        build_params(ChurnParams, {"base_rte": 0.02}, "x", "churn")
    assert check_path(ModelParams(), "churn.base_rate", 0.5, "sweep") == 0.5
    assert check_lever("A", "price", 2) == 2.0


def test_dashboard_inputs_use_the_same_check() -> None:
    pytest.importorskip("solara")
    from sim.app.session import Run

    run = Run(parse_scenario({"market": {"n_customers": 300, "periods": 4, "warmup": 0}}))
    with pytest.raises(ParamError, match=r"firm A \(dashboard\): resolve_share = 7.0"):
        run.set_lever("A", "resolve_share", 7.0)
    with pytest.raises(ParamError, match="dashboard: churn.base_rate = 3.0"):
        run.set_param("churn.base_rate", 3.0)
    assert not run.pending_levers and not run.pending_params
