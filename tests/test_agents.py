"""Mesa fits: customer views over the population columns, materialised as an AgentSet."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from mesa.agent import AgentSet

from sim import Customer, Firm, MarketModel, ModelParams
from sim.population import Population


def _model() -> MarketModel:
    p = ModelParams()
    p.market.n_customers, p.market.warmup = 400, 2
    m = MarketModel(p, seed=4)
    m.run(3)
    return m


def test_views_expose_every_population_column() -> None:
    m = _model()
    c = m.customers[17]
    for f in dataclasses.fields(Population):
        col = getattr(m.pop, f.name)
        got = getattr(c, f"{f.name}_index" if f.name in ("firm", "last_firm") else f.name)
        if f.name == "status":
            assert got in ("prospect", "customer", "lapsed") and c.status_code == col[17]
        elif col.ndim == 1:
            assert got == col[17], f.name
        else:
            assert np.array_equal(got, col[17]), f.name
    d = c.as_dict()
    assert {f.name for f in dataclasses.fields(Population)} <= set(d)


def test_views_name_the_firm_as_the_output_tables_do() -> None:
    """``firm``/``last_firm`` are names and ``firm_index``/``last_firm_index`` indices, as in
    ``customer_frame()``; the old ``firm_name`` still works, with a deprecation warning."""
    m = _model()
    table = m.customer_frame().set_index("id")
    cs = [m.customers[i] for i in range(m.pop.n)]
    assert {c.firm for c in cs} >= {f.name for f in m.firms}  # every firm has customers
    for c in cs:
        row = table.loc[c.row]
        for col in ("firm", "last_firm"):
            assert getattr(c, f"{col}_index") == row[f"{col}_index"]
            assert (getattr(c, col) or "") == row[col]
        assert c.as_dict()["firm"] == c.firm and c.as_dict()["firm_index"] == c.firm_index
    c = next(c for c in cs if c.firm_index == 0)
    with pytest.warns(DeprecationWarning, match="Customer.firm"):
        assert c.firm_name == c.firm == m.firms[0].name
    c.firm_index = 1  # writes the column
    assert m.pop.firm[c.row] == 1 and c.firm == m.firms[1].name
    with pytest.raises(AttributeError, match="set firm_index instead"):
        c.firm = "A"


def test_views_write_the_columns() -> None:
    m = _model()
    c = m.customers[5]
    c.satisfaction = 0.25
    c.experienced = True
    c.expect[1] = 0.9
    assert m.pop.satisfaction[5] == 0.25 and m.pop.experienced[5]
    assert m.pop.expect[5, 1] == 0.9


def test_materialise_gives_an_agentset_mesa_can_use() -> None:
    m = _model()
    cs = m.customers.materialise()
    assert isinstance(cs, AgentSet) and len(cs) == m.pop.n
    assert len(m.agents_by_type[Customer]) == m.pop.n
    assert len(m.agents_by_type[Firm]) == m.n_firms
    happy = cs.select(lambda a: a.satisfaction > 0.5)
    assert len(happy) == int((m.pop.satisfaction > 0.5).sum())
    assert np.isclose(cs.agg("satisfaction", np.mean), m.pop.satisfaction.mean())
    by_status = cs.groupby("status").count()
    assert sum(by_status.values()) == m.pop.n
    assert cs.to_list()[3] is m.customers[3]  # the same views, created once
