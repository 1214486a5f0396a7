"""Plots: one colour per firm in every figure, markers for entries and lever changes,
lever panels only for levers that move, labelled smoothing, honest axes."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pytest

from sim.model import MarketModel
from sim.plots import firm_colors, plot_run, plot_story, timeline_markers
from sim.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]


def firms_of(name: str, periods: int = 30):
    sc = load_scenario(
        ROOT / "scenarios" / f"{name}.toml",
        ["market.n_customers=300", f"market.periods={periods}"],
    )
    m = MarketModel(sc.params, seed=sc.seed).run(periods)
    return m.firm_frame(), m.market_frame()


@pytest.fixture(scope="module")
def telecom():
    return firms_of("telecom", 30)


def line_colors(ax) -> dict[str, str]:
    return {ln.get_label(): ln.get_color() for ln in ax.get_lines() if ln.get_label()[:1] != "_"}


def test_markers_for_entry_and_outage(telecom):
    f, _ = telecom
    marks = timeline_markers(f)
    assert (12, "Entrant", "Entrant enters") in marks
    at24 = [m for m in marks if m[0] == 24]
    assert at24 and at24[0][1] == "Premium" and "service" in at24[0][2]
    assert any(m[0] == 25 and m[1] == "Premium" for m in marks)  # restored after the outage


def test_one_colour_per_firm_in_every_panel(telecom):
    f, mk = telecom
    colors = firm_colors(f)
    assert list(colors) == ["Premium", "Challenger", "Entrant"]
    fig = plot_story(f, "t")
    for ax in fig.axes:
        for label, c in line_colors(ax).items():
            if label in colors:
                assert c == colors[label], (ax.get_title(), label)
    titles = [ax.get_title() for ax in fig.axes]
    assert "Churn (3-month moving average)" in titles  # smoothing is labelled
    share = next(ax for ax in fig.axes if ax.get_title() == "Market share")
    sat = next(ax for ax in fig.axes if ax.get_title() == "Satisfaction")
    assert share.get_ylim() == (0.0, 1.0) and sat.get_ylim() == (-1.0, 1.0)
    plt.close(fig)


def test_entrant_has_no_line_before_it_enters(telecom):
    f, _ = telecom
    fig = plot_story(f)
    churn = next(ax for ax in fig.axes if ax.get_title().startswith("Churn"))
    line = next(ln for ln in churn.get_lines() if ln.get_label() == "Entrant")
    x, y = np.asarray(line.get_xdata()), np.asarray(line.get_ydata(), dtype=float)
    assert np.isnan(y[x < 12]).all() and np.isfinite(y[x >= 13]).all()
    plt.close(fig)


def test_lever_panels_only_for_levers_that_move(telecom):
    f, mk = telecom
    still, mk2 = firms_of("baseline", 12)
    cas = __import__("pandas").DataFrame(columns=["firm", "root", "size", "depth"])
    n_still = sum(ax.axison for ax in plot_run(still, mk2, cas).axes)
    n_moving = sum(ax.axison for ax in plot_run(f, mk, cas).axes)
    assert n_still == 8  # no lever moves: no lever panel
    assert n_moving > n_still  # the outage moves service and quality, the entrant's reward
    plt.close("all")
