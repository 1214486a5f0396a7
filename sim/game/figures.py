"""The debrief figure of a game: its months replayed, with every decision marked.

Drawn with matplotlib's object API (thread-safe, no pyplot), like the dashboard's figures.
"""

from __future__ import annotations

import io
import threading
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ..app.figures import firm_color

if TYPE_CHECKING:
    from .engine import Game

__all__ = ["debrief_png", "DEBRIEF_PANELS"]

#: (firm table column, title, cumulative)
DEBRIEF_PANELS = (
    ("share", "Market share", False),
    ("mean_satisfaction", "Satisfaction of its customers (−1…1)", False),
    ("profit", "Cumulative profit (cu)", True),
    ("price", "Price", False),
)


_CACHE: dict[tuple, bytes] = {}
_LOCK = threading.Lock()


def debrief_png(game: Game, dpi: int = 80) -> bytes:
    """PNG of the game month by month: share, satisfaction, cumulative profit and price
    per firm. A triangle marks each team decision on that team's line at the month it was
    made (filled: submitted; hollow: kept its levers); a dashed red line marks an
    instructor event, labelled; thin grey lines separate the rounds.

    Drawn once per game, round and month (cached: every session of a game shares it)."""
    key = (game.id, id(game), game.round, int(game.model.period), dpi)
    with _LOCK:  # one drawing at a time; the others wait for the cached result
        png = _CACHE.get(key)
        if png is None:
            png = _CACHE[key] = _draw(game, dpi)
            while len(_CACHE) > 32:
                _CACHE.pop(next(iter(_CACHE)))
        return png


def _team_line(ax, game: Game, j: int, name: str, g, spec: tuple, history: list[dict]) -> None:
    """One firm's line on a debrief panel (``spec``: column, title, cumulative), with a
    triangle where each round started: filled when the team decided, open when it did not."""
    col, _, cumulative = spec
    x = g["period"].to_numpy()
    y = g[col].to_numpy(dtype=float)
    if cumulative:
        y = np.cumsum(np.nan_to_num(y))
    ax.plot(x, y, color=firm_color(j), lw=2, label=name)
    if name not in game.teams:
        return
    for rec in history:
        at = rec["start"] - 1
        yy = y[x == at]
        if yy.size:
            done = name in rec["submitted"]
            ax.plot(
                [at],
                yy,
                marker="^",
                ms=9,
                color=firm_color(j),
                markerfacecolor=firm_color(j) if done else "white",
                markeredgewidth=1.5,
            )


def _round_marks(ax, history: list[dict], labelled: bool) -> None:
    """A faint line where each round starts, a red dashed one where the instructor's events
    struck (named on the panel when ``labelled``)."""
    for rec in history:
        ax.axvline(rec["start"] - 1, color="#cbd5e0", lw=0.8, zorder=0)
        if rec["events"]:
            ax.axvline(rec["start"] - 0.5, color="#c53030", lw=1.2, ls="--")
            if labelled:
                label = ", ".join(
                    ev["kind"] + (f" {ev['firm']}" if "firm" in ev else "") for ev in rec["events"]
                )
                ax.annotate(
                    label,
                    (rec["start"] - 0.5, 1.0),
                    xycoords=("data", "axes fraction"),
                    fontsize=9,
                    color="#c53030",
                    rotation=90,
                    va="top",
                    ha="right",
                )


def _draw(game: Game, dpi: int) -> bytes:
    """The debrief figure as PNG bytes: one panel per :data:`DEBRIEF_PANELS` entry, a line
    per firm, the rounds and the instructor's events marked."""
    with game.lock:  # a consistent snapshot: the tables and the rounds that made them
        f = game.firm_frame()
        history = [dict(r) for r in game.history]
    names = list(dict.fromkeys(f["firm"]))
    fig = Figure(figsize=(12, 7.5), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(2, 2, sharex=True).ravel()
    months = game.config.round_months
    for ax, spec in zip(axes, DEBRIEF_PANELS, strict=True):
        for j, name in enumerate(names):
            g = f[f["firm"] == name].sort_values("period")
            _team_line(ax, game, j, name, g, spec, history)
        _round_marks(ax, history, labelled=spec[0] == DEBRIEF_PANELS[0][0])
        ax.set_title(spec[1], fontsize=11)
        ax.grid(alpha=0.3)
    axes[0].legend(loc="best", fontsize=9, ncol=len(names))
    ticks = np.arange(0, int(f["period"].max()) + 1, months)
    for ax in axes[2:]:
        ax.set_xticks(ticks)
        ax.set_xlabel(f"month (a round = {months} months; ▲ = a team's decision)")
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()
