"""One name per thing: lists of levers and symbols come from the parameter metadata."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from sim import MarketModel, ModelParams
from sim.agents import LEVERS
from sim.docs import SECTIONS
from sim.params import FirmParams, levers
from sim.strategies.base import SEARCHABLE_LEVERS

DOCS = Path(__file__).resolve().parents[1] / "docs" / "model.md"


def _fields():
    for section, cls, _ in SECTIONS:
        for f in dataclasses.fields(cls):
            yield section, f


def test_no_symbol_names_two_parameters() -> None:
    seen: dict[str, str] = {}
    for section, f in _fields():
        sym = f.metadata.get("symbol")
        if sym:
            where = f"{section}.{f.name}"
            assert sym not in seen, f"{sym} names {seen[sym]} and {where}"
            seen[sym] = where
    assert len(seen) >= 40
    text = DOCS.read_text()
    for sym in seen:
        assert f"| {sym} |" in text, sym


def test_lever_lists_come_from_the_metadata() -> None:
    kinds = {f.name: f.metadata.get("lever") for f in dataclasses.fields(FirmParams)}
    assert set(kinds.values()) <= {None, "recorded", "decision", "cost"}
    assert LEVERS == levers()
    assert set(SEARCHABLE_LEVERS) <= set(LEVERS)
    assert all(FirmParams.__dataclass_fields__[n].type == "float" for n in SEARCHABLE_LEVERS)


def test_the_firm_table_records_the_recorded_levers_in_order() -> None:
    p = ModelParams()
    p.market.n_customers, p.market.warmup = 200, 0
    cols = list(MarketModel(p, seed=1).firm_frame().columns)
    recorded = levers("recorded")
    at = [cols.index(c) for c in recorded]
    assert at == sorted(at) and at == list(range(at[0], at[0] + len(recorded)))
    for lever in set(LEVERS) - set(recorded):
        assert lever not in cols
