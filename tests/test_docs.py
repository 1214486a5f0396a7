"""Documentation stays in sync with the code."""

import dataclasses
from pathlib import Path

from sim import params as P
from sim.docs import BEGIN, END, SECTIONS, parameter_tables, scenario_tables

DOCS = Path(__file__).resolve().parents[1] / "docs"


def block(text: str) -> str:
    return BEGIN + text.split(BEGIN, 1)[1].split(END, 1)[0] + END


def test_scenarios_md_key_tables_match_the_code():
    assert block((DOCS / "scenarios.md").read_text()) == scenario_tables()


def test_model_md_parameter_tables_match_the_code():
    assert block((DOCS / "model.md").read_text()) == parameter_tables()


def test_every_parameter_has_unit_range_source_and_meaning():
    for _, cls, _ in SECTIONS:
        for f in dataclasses.fields(cls):
            m = f.metadata
            assert m.get("doc"), f"{cls.__name__}.{f.name}: no meaning"
            if f.name in ("name", "path", "policy", "segments", "enabled") or str(f.type) == "bool":
                continue
            assert "source" in m and m["source"], f"{cls.__name__}.{f.name}: no source"
            assert m.get("unit") or m.get("choices"), f"{cls.__name__}.{f.name}: no unit"


def test_model_md_names_every_mechanism_section():
    text = (DOCS / "model.md").read_text()
    for section in P.MECHANISMS:
        assert f"[{section}]" in text
