"""The JSON Schema of scenario files: generated from the metadata, valid, and it accepts
every shipped scenario and refuses what the loader refuses."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import jsonschema
import pytest

from sim.cli import main
from sim.schema import scenario_schema

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = sorted((ROOT / "scenarios").glob("*.toml"))


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = scenario_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_every_shipped_scenario_is_valid(validator, path: Path) -> None:
    data = tomllib.loads(path.read_text())
    errors = [e.message for e in validator.iter_errors(data)]
    assert not errors, errors


@pytest.mark.parametrize(
    "data",
    [
        {"complaints": {"shortfall_scale": 0.0}},
        {"market": {"n_customers": -5}},
        {"firms": [{"name": "A", "price": -1.0}]},
        {"firms": [{"name": "A", "resolve_share": 7.0}]},
        {"network": {"kind": "lattice"}},
        {"wom": {"enabled": "yes"}},
        {"mystery": {}},
        {"churn": {"base_rte": 0.1}},
        {"events": [{"period": 3, "firm": "A", "set": {"price": -2}}]},
        {"events": [{"period": 3, "firm": "A", "kind": "warp", "value": 1}]},
        {"firms": [{"name": "A", "policy": "no_such_policy"}]},
    ],
)
def test_schema_refuses_what_the_loader_refuses(validator, data) -> None:
    from sim.scenario import ScenarioError, parse_scenario

    assert list(validator.iter_errors(data))
    with pytest.raises(ScenarioError):
        parse_scenario(data, source="x.toml")


def test_schema_carries_the_metadata() -> None:
    s = scenario_schema()
    price = s["properties"]["firms"]["items"]["properties"]["price"]
    assert price["type"] == "number" and price["minimum"] == 0.0
    assert "Unit:" in price["description"] and "Source:" in price["description"]
    cap = s["properties"]["firms"]["items"]["properties"]["capacity"]
    assert {"type": "string", "enum": ["none", "unlimited", "honest"]} in cap["anyOf"]


def test_sim_schema_writes_the_file(tmp_path, capsys) -> None:
    out = tmp_path / "scenario.schema.json"
    assert main(["schema", "--out", str(out)]) == 0
    assert json.loads(out.read_text()) == scenario_schema()
    assert capsys.readouterr().out.startswith("wrote ")
    assert main(["schema"]) == 0
    assert json.loads(capsys.readouterr().out) == scenario_schema()


def test_sim_schema_bad_out_is_one_line_and_exit_2(tmp_path, capsys) -> None:
    assert main(["schema", "--out", str(tmp_path / "no" / "x.json")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "--out" in err
    assert not (tmp_path / "no").exists()
