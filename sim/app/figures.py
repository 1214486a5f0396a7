"""Figures of the dashboard, drawn with matplotlib's object API (thread-safe, no pyplot).

Each function returns PNG bytes, so the page can cache them per model version.
"""

from __future__ import annotations

import io
import threading

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

__all__ = [
    "FIRM_COLORS",
    "firm_color",
    "PANELS",
    "IndicatorFigure",
    "indicator_png",
    "network_png",
    "NetworkFigure",
    "panel_limits",
    "floor_limits",
    "network_layout_fractions",
    "cascade_positions",
]

#: firm colours (no red or green: those mean satisfaction in the network view)
FIRM_COLORS = (
    "#2b6cb0",
    "#dd6b20",
    "#6b46c1",
    "#2c7a7b",
    "#b83280",
    "#975a16",
    "#4a5568",
    "#00a3c4",
)
NO_FIRM = "#d5d9e0"
SAT_CMAP = "RdYlGn"

#: (column(s), title, y label) of the live plots
PANELS = (
    ("share", "Market share", "share of customers"),
    ("mean_satisfaction", "Satisfaction", "mean satisfaction (−1…1)"),
    ("churn_rate", "Churn", "customers lost / customers per month"),
    ("complaints", "Complaints", "complaints per month"),
    ("wom", "Word of mouth", "messages per month"),
    ("profit", "Profit", "cu per month"),
    ("price", "Price", "posted price (reference 1)"),
)

#: colour of the lines that mark lever changes
MARK_COLOR = "#c05621"


def floor_limits(n_customers: int, reference_price: float = 1.0) -> dict[str, tuple[float, float]]:
    """The smallest y range of each panel for a market of this size, so that a panel never
    zooms in on noise: churn at least 0–10% a month, complaints at least 0–2% of customers,
    word of mouth at least 0–10% of customers, profit at least ±5% of the market's revenue at
    the reference price, price 0–2× the reference price."""
    n = max(int(n_customers), 1)
    return {
        "share": (0.0, 1.0),
        "mean_satisfaction": (-1.0, 1.0),
        "churn_rate": (0.0, 0.10),
        "complaints": (0.0, max(5.0, 0.02 * n)),
        "wom": (0.0, max(10.0, 0.10 * n)),
        "profit": (-0.05 * n * reference_price, 0.05 * n * reference_price),
        "price": (0.0, 2.0 * reference_price),
    }


def _grow(lim: tuple[float, float], lo: float, hi: float) -> tuple[float, float]:
    """Widen a range to hold [lo, hi], with headroom (a quarter of the span), never shrink it."""
    a, b = lim
    span = max(b - a, hi - lo, 1e-9)
    if hi > b - 0.02 * span:  # a value on the top edge gets room too
        b = hi + 0.25 * span
    if lo < a + 0.02 * span and a != 0.0:
        a = lo - 0.25 * span
    elif lo < a:
        a = lo - 0.25 * span
    return a, b


STYLE = {
    "font.size": 10,
    "axes.titlesize": 12,
    "axes.titleweight": "bold",
    "axes.labelsize": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
}


def firm_color(j: int) -> str:
    return FIRM_COLORS[j % len(FIRM_COLORS)]


def _png(fig: Figure, dpi: int = 80) -> bytes:
    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    with _rc():
        fig.savefig(buf, format="png", dpi=dpi, facecolor="white")
    return buf.getvalue()


def _rgba_png(rgba: np.ndarray) -> bytes:
    """PNG bytes of an RGBA buffer (fast compression: the image is sent, not stored)."""
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(rgba[..., :3]).save(buf, format="png", compress_level=1)
    return buf.getvalue()


def _series(firms: pd.DataFrame, col: str) -> dict[int, pd.DataFrame]:
    """Per firm index: the active periods' rows (period 0 is shown for stocks only)."""
    out = {}
    for j, g in firms.groupby("firm_index", sort=True):
        g = g[g["active"]]
        if col not in ("share", "mean_satisfaction"):
            g = g[g["period"] > 0]
        out[int(j)] = g
    return out


def panel_limits(frames: list[pd.DataFrame]) -> dict[str, tuple[float, float]]:
    """Common y limits for each panel over several runs (for side-by-side comparison)."""
    lim = {}
    for col, _, _ in PANELS:
        cols = ["wom_pos", "wom_neg"] if col == "wom" else [col]
        vals = np.concatenate(
            [f.loc[f["period"] > 0, c].to_numpy(float) for f in frames for c in cols if not f.empty]
            or [np.zeros(1)]
        )
        vals = vals[np.isfinite(vals)]
        if col == "share":
            lim[col] = (0.0, 1.0)
        elif col == "mean_satisfaction":
            lim[col] = (-1.0, 1.0)
        elif vals.size:
            lo, hi = float(min(vals.min(), 0.0)), float(vals.max())
            pad = 0.08 * (hi - lo or 1.0)
            lim[col] = (lo - (pad if lo < 0 else 0.0), hi + pad)
    return lim


def _wom_legend(ax) -> None:
    """The word-of-mouth panel's legend: positive solid, negative dashed."""
    ax.legend(
        handles=[
            Line2D([], [], color="#4a5568", lw=1.8, label="positive"),
            Line2D([], [], color="#4a5568", lw=1.4, ls="--", label="negative"),
        ],
        loc="upper left",
        fontsize=8,
        frameon=True,
        framealpha=0.85,
        edgecolor="none",
        ncols=2,
        borderaxespad=0.2,
        handlelength=1.8,
    )


def _firm_legend(fig, names: list[str]) -> None:
    """The figure's legend: one colour per firm and the lever-change mark."""
    handles = [
        Line2D([], [], color=firm_color(j), lw=2.5, label=f"firm {nm}")
        for j, nm in enumerate(names)
    ]
    handles.append(
        Line2D([], [], color=MARK_COLOR, lw=1.3, ls="--", label="lever change takes effect")
    )
    fig.legend(
        handles=handles,
        loc="upper right",
        ncols=len(handles),
        frameon=False,
        fontsize=10,
        bbox_to_anchor=(0.99, 1.0),
    )


class IndicatorFigure:
    """The six live plots (share, satisfaction, churn, complaints, word of mouth, profit),
    built once and updated in place: redrawing an existing figure costs a third of
    building a new one, which is what keeps play smooth."""

    def __init__(
        self,
        firm_names: list[str] | tuple[str, ...],
        *,
        ncols: int = 4,
        width: float = 13.0,
        floors: dict[str, tuple[float, float]] | None = None,
    ) -> None:
        self.names = list(firm_names)
        self.ncols = ncols
        #: y ranges: start at the floors and only ever widen (stable axes)
        self.ylim: dict[str, tuple[float, float]] = dict(floors or floor_limits(1000))
        nrows = int(np.ceil(len(PANELS) / ncols))
        height = (2.7 if ncols < 4 else 2.5) * nrows + 0.45
        self.fig = fig = Figure(figsize=(width, height), dpi=80)
        FigureCanvasAgg(fig)
        fig.subplots_adjust(
            left=0.055 * 13 / width,
            right=0.99,
            top=1 - 0.45 / height - 0.04,
            bottom=0.5 / height,
            wspace=0.3 if ncols > 1 else 0.2,
            hspace=0.42,
        )
        self.lines: dict[tuple[str, int], Line2D] = {}
        self.marks = {}
        with _rc():
            axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
            self.axes = dict(zip([c for c, _, _ in PANELS], axes, strict=False))
            for ax, (col, ttl, ylab) in zip(axes, PANELS, strict=False):
                self._add_panel(ax, col, ttl, ylab)
            for ax in axes[len(PANELS) :]:
                ax.set_visible(False)
            for ax in axes[-ncols:]:
                ax.set_xlabel("period (month)")
            _firm_legend(fig, self.names)

    def _add_panel(self, ax, col: str, ttl: str, ylab: str) -> None:
        """One panel: a line per firm (two for word of mouth), the lever-change marks,
        the title, the label and the grid."""
        for j in range(len(self.names)):
            if col == "wom":
                (self.lines[("wom_pos", j)],) = ax.plot(
                    [], [], "-", color=firm_color(j), lw=1.8, ms=3
                )
                (self.lines[("wom_neg", j)],) = ax.plot(
                    [], [], "--", color=firm_color(j), lw=1.4, ms=3
                )
            else:
                (self.lines[(col, j)],) = ax.plot([], [], "-", color=firm_color(j), lw=1.8, ms=3)
        if col == "wom":
            _wom_legend(ax)
        self.marks[col] = ax.vlines(
            [],
            0,
            1,
            transform=ax.get_xaxis_transform(),
            colors=MARK_COLOR,
            lw=1.3,
            linestyles="--",
            alpha=0.8,
            zorder=0,
        )
        ax.set_title(ttl, loc="left")
        ax.set_ylabel(ylab)
        if col == "mean_satisfaction":
            ax.axhline(0, color="#718096", lw=0.6)
        ax.grid(alpha=0.25)

    def png(
        self, firms: pd.DataFrame, *, horizon: int, lever_periods=(), limits: dict | None = None
    ) -> bytes:
        """Draw a firm table (one row per firm and period) and return the PNG."""
        last = int(firms["period"].max()) if not firms.empty else 0
        xmax = max(horizon, last, 1)
        cols = {c for c, _ in self.lines}
        data = {
            int(j): (
                g["period"].to_numpy(float),
                g["active"].to_numpy(bool),
                {c: g[c].to_numpy(float) for c in cols},
            )
            for j, g in firms.groupby("firm_index", sort=True)
        }
        with _rc():
            for (col, j), ln in self.lines.items():
                if j not in data:
                    ln.set_data([], [])
                    continue
                t, active, vals = data[j]
                # stocks are shown from period 0, flows from period 1; only while in the market
                keep = active & ((t > 0) | (col in ("share", "mean_satisfaction")))
                ln.set_data(t[keep], vals[col][keep])
                ln.set_marker("o" if keep.sum() < 3 else "None")
            marks = [float(p) for p in lever_periods if 0 < p <= xmax]
            for col, ax in self.axes.items():
                self.marks[col].set_segments([[(x, 0.0), (x, 1.0)] for x in marks])
                ax.set_xlim(0, xmax)
                if limits and col in limits:
                    ax.set_ylim(*limits[col])
                    continue
                cs = ("wom_pos", "wom_neg") if col == "wom" else (col,)
                vals = np.concatenate(
                    [d[c][active & (t > 0)] for t, active, d in data.values() for c in cs]
                    or [np.zeros(0)]
                )
                vals = vals[np.isfinite(vals)]
                if vals.size and col not in ("share", "mean_satisfaction"):
                    self.ylim[col] = _grow(self.ylim[col], float(vals.min()), float(vals.max()))
                ax.set_ylim(*self.ylim[col])
            return self._blit(xmax, marks)

    def _blit(self, xmax: float, marks: list[float]) -> bytes:
        """Render: the axes, ticks and labels are drawn once and kept as a background while
        the axis ranges and the lever marks stay the same (they rarely change, as the axes
        are stable); each month only the lines are drawn on top of it. Four to five times
        faster than drawing the whole figure."""
        canvas = self.fig.canvas
        key = (xmax, tuple(marks), tuple(ax.get_ylim() for ax in self.axes.values()))
        if key != getattr(self, "_bg_key", None):
            for ln in self.lines.values():
                ln.set_animated(True)
            canvas.draw()  # everything but the animated lines
            self._bg = canvas.copy_from_bbox(self.fig.bbox)
            self._bg_key = key
        else:
            canvas.restore_region(self._bg)
        for (col, _), ln in self.lines.items():
            self.axes["wom" if col.startswith("wom_") else col].draw_artist(ln)
        return _rgba_png(np.asarray(canvas.buffer_rgba()))


def indicator_png(
    firms: pd.DataFrame,
    *,
    horizon: int,
    lever_periods=(),
    limits: dict | None = None,
    ncols: int = 3,
    width: float = 13.0,
) -> bytes:
    """The six live plots as a PNG, in one go (see :class:`IndicatorFigure`)."""
    names = (
        firms.drop_duplicates("firm").sort_values("firm_index")["firm"].tolist()
        if not firms.empty
        else []
    )
    return IndicatorFigure(names, ncols=ncols, width=width).png(
        firms, horizon=horizon, lever_periods=lever_periods, limits=limits
    )


def cascade_positions(
    network,
    nodes: np.ndarray,
    pos: np.ndarray,
    edges_rc: list[tuple[int, int]],
) -> dict[int, np.ndarray]:
    """Positions for every customer of a referral cascade: drawn customers keep theirs;
    the others go to the mean of their drawn friends, else next to a cascade neighbour
    (referrer or referred) already placed, else at a random spot."""
    where = {int(v): pos[i] for i, v in enumerate(nodes)}
    span = (pos.max(axis=0) - pos.min(axis=0)) if pos.size else np.ones(2)
    step = 0.05 * float(np.max(span) or 1.0)
    lo = pos.min(axis=0) if pos.size else np.zeros(2)
    members = list(dict.fromkeys(v for edge in edges_rc for v in edge))
    links: dict[int, list[int]] = {v: [] for v in members}
    for a, b in edges_rc:
        links[a].append(b)
        links[b].append(a)
    out: dict[int, np.ndarray] = {}
    for v in members:
        if v in where:
            out[v] = where[v]
            continue
        friends = [where[int(u)] for u in network.neighbors(v) if int(u) in where]
        if friends:
            out[v] = np.mean(friends, axis=0) + np.random.default_rng(v).normal(0, step / 3, 2)
    todo = [v for v in members if v not in out]
    while todo:
        placed = False
        for v in todo:
            near = [out[u] for u in links[v] if u in out]
            if near:
                ang = np.random.default_rng(v).uniform(0, 2 * np.pi)
                out[v] = near[0] + step * np.array([np.cos(ang), np.sin(ang)])
                placed = True
        todo = [v for v in todo if v not in out]
        if todo and not placed:  # a part of the cascade with no anchor: start it somewhere
            v = todo[0]
            out[v] = lo + np.random.default_rng(v).uniform(0.1, 0.9, 2) * span
    return out


def _draw_ties(ax, pos: np.ndarray, edges: np.ndarray) -> None:
    """The network's ties (drawn once) and the axes' limits around every customer."""
    if edges.size:
        seg = np.stack([pos[edges[:, 0]], pos[edges[:, 1]]], axis=1)
        ax.add_collection(
            LineCollection(seg, colors="#a0aec0", linewidths=0.5, alpha=0.45, zorder=1)
        )
    lo = pos.min(axis=0) if pos.size else np.zeros(2)
    hi = pos.max(axis=0) if pos.size else np.ones(2)
    pad = 0.06 * (hi - lo) + 1e-9
    ax.update_datalim(np.array([lo - pad, hi + pad]))
    ax.autoscale_view()
    ax.set_aspect("equal", adjustable="datalim")


def _legend(fig, ax, firm_names, color_by: str, norm: Normalize) -> None:
    """The network view's legend (firms or a satisfaction colour bar, the cascade)."""
    if color_by == "satisfaction":
        import matplotlib.cm as cm

        sm = cm.ScalarMappable(norm=norm, cmap=_cmap(SAT_CMAP))
        cb = fig.colorbar(sm, ax=ax, shrink=0.7, pad=0.01)
        cb.set_label("remembered satisfaction")
        handles = [Line2D([], [], marker="o", ls="", color=NO_FIRM, label="no firm")]
    else:
        handles = [
            Line2D(
                [],
                [],
                marker="o",
                ls="",
                color=firm_color(j),
                markersize=8,
                label=f"customer of {name}",
            )
            for j, name in enumerate(firm_names)
        ]
        handles.append(
            Line2D([], [], marker="o", ls="", color=NO_FIRM, markersize=8, label="no firm")
        )
    handles.append(Line2D([], [], color="#1a202c", lw=2.4, label="latest referral cascade"))
    handles.append(
        Line2D(
            [],
            [],
            marker="*",
            ls="",
            color="#f6e05e",
            markeredgecolor="#1a202c",
            markersize=13,
            label="its first referrer",
        )
    )
    ax.legend(
        handles=handles,
        loc="upper left",
        fontsize=8.5,
        frameon=True,
        framealpha=0.85,
        bbox_to_anchor=(0.0, 1.0),
    )


class NetworkFigure:
    """The friendship network view of one layout and one colouring, built once.

    The ties, the legend and the colour bar are drawn once and kept as a background; each
    month only the customers' colours, the latest referral cascade and a picked customer are
    drawn on top (as :class:`IndicatorFigure` does for its lines). ``fractions`` holds each
    drawn customer's place in the image (fractions of width and height from the top left),
    for picking a customer by a click."""

    def __init__(
        self,
        firm_names,
        network,
        nodes: np.ndarray,
        pos: np.ndarray,
        edges: np.ndarray,
        *,
        color_by: str = "firm",
        width: float = 6.4,
    ) -> None:
        self.network, self.nodes, self.pos, self.color_by = network, nodes, pos, color_by
        self.fig = fig = Figure(figsize=(width, width * 0.82), dpi=80, layout="constrained")
        FigureCanvasAgg(fig)
        self.norm = Normalize(-1, 1)
        with _rc():
            self.ax = ax = fig.subplots()
            ax.set_axis_off()
            _draw_ties(ax, pos, edges)
            self._add_overlays(ax, pos)
            _legend(fig, ax, firm_names, color_by, self.norm)
            fig.canvas.draw()  # lays out the figure once; later frames reuse it
            fig.set_layout_engine("none")
            self._bg = fig.canvas.copy_from_bbox(fig.bbox)
            self.fractions = network_layout_fractions(fig, ax, pos)

    def _add_overlays(self, ax, pos: np.ndarray) -> None:
        """The animated artists redrawn each month: customers, the latest cascade's links,
        its members and first referrer, and the ring around a picked customer."""
        empty = np.zeros((0, 2))
        kw = {"animated": True}
        self.dots = ax.scatter(
            pos[:, 0], pos[:, 1], s=22, linewidths=0.3, edgecolors="white", zorder=2, **kw
        )
        self.links = LineCollection([], colors="#1a202c", linewidths=2.4, zorder=3, **kw)
        ax.add_collection(self.links)
        self.members = ax.scatter(
            empty[:, 0], empty[:, 1], s=70, edgecolors="#1a202c", linewidths=1.6, zorder=4, **kw
        )
        self.root = ax.scatter(
            empty[:, 0],
            empty[:, 1],
            s=260,
            marker="*",
            c="#f6e05e",
            edgecolors="#1a202c",
            linewidths=1.2,
            zorder=5,
            **kw,
        )
        self.ring = ax.scatter(
            empty[:, 0],
            empty[:, 1],
            s=220,
            facecolors="none",
            edgecolors="#e53e3e",
            linewidths=2.5,
            zorder=6,
            **kw,
        )

    def _colors(self, customers, firm_of, sat) -> np.ndarray:
        firm = firm_of[customers].astype(int)
        if self.color_by == "satisfaction":
            return np.where(
                (firm >= 0)[:, None], _cmap(SAT_CMAP)(self.norm(sat[customers])), _rgba(NO_FIRM)
            )
        table = np.array([_rgba(c) for c in FIRM_COLORS] + [_rgba(NO_FIRM)])
        return table[np.where(firm >= 0, firm % len(FIRM_COLORS), len(FIRM_COLORS))]

    def png(self, snap, highlight: int | None = None) -> bytes:
        """Draw a :class:`~sim.app.session.Snapshot` (``firm_of``, ``satisfaction``,
        ``cascade``) and return the PNG; ``highlight`` rings one customer."""
        firm_of, sat, cascade = snap.firm_of, snap.satisfaction, snap.cascade
        empty = np.zeros((0, 2))
        with _rc():
            self.dots.set_facecolors(self._colors(self.nodes, firm_of, sat))
            if cascade:
                where = cascade_positions(self.network, self.nodes, self.pos, cascade["edges"])
                self.links.set_segments([[where[a], where[b]] for a, b in cascade["edges"]])
                members = list(where)
                self.members.set_offsets(np.array([where[v] for v in members]))
                self.members.set_facecolors(self._colors(np.array(members), firm_of, sat))
                self.root.set_offsets(np.array([where[cascade["root"]]]))
            else:
                self.links.set_segments([])
                self.members.set_offsets(empty)
                self.root.set_offsets(empty)
            i = np.searchsorted(self.nodes, highlight) if highlight is not None else -1
            hit = 0 <= i < self.nodes.size and self.nodes[i] == highlight
            self.ring.set_offsets(self.pos[[i]] if hit else empty)
            canvas = self.fig.canvas
            canvas.restore_region(self._bg)
            for art in (self.dots, self.links, self.members, self.root, self.ring):
                self.ax.draw_artist(art)
            return _rgba_png(np.asarray(canvas.buffer_rgba()))


def network_png(
    snap,
    network,
    nodes: np.ndarray,
    pos: np.ndarray,
    edges: np.ndarray,
    *,
    color_by: str = "firm",
    width: float = 6.4,
    with_positions: bool = False,
    highlight: int | None = None,
):
    """The friendship network (or a sample of it), coloured by firm or by satisfaction,
    with the latest referral cascade drawn on top, in one go (see :class:`NetworkFigure`).

    Returns the PNG; with ``with_positions`` also each drawn customer's place in the image
    (:attr:`NetworkFigure.fractions`). ``highlight`` rings one customer."""
    fig = NetworkFigure(snap.firm_names, network, nodes, pos, edges, color_by=color_by, width=width)
    png = fig.png(snap, highlight)
    return (png, fig.fractions) if with_positions else png


def network_layout_fractions(fig: Figure, ax, pos: np.ndarray) -> np.ndarray:
    """Where data points ``pos`` of ``ax`` lie in the saved image, as fractions of its width
    and height from the top left (valid after the figure has been drawn or saved)."""
    if pos.size == 0:
        return np.zeros((0, 2))
    frac = fig.transFigure.inverted().transform(ax.transData.transform(pos))
    return np.column_stack([frac[:, 0], 1.0 - frac[:, 1]])


def _rgba(color: str) -> np.ndarray:
    from matplotlib.colors import to_rgba

    return np.array(to_rgba(color))


def _cmap(name: str):
    import matplotlib

    return matplotlib.colormaps[name]


_DRAW_LOCK = threading.RLock()


class _rc:
    """Draw under the dashboard style. Matplotlib's rc parameters are global, so drawing
    (by the play thread and by user events of several sessions) is serialised."""

    def __enter__(self):
        import matplotlib

        _DRAW_LOCK.acquire()
        self._ctx = matplotlib.rc_context(STYLE)
        self._ctx.__enter__()
        return self

    def __exit__(self, *exc):
        try:
            self._ctx.__exit__(*exc)
        finally:
            _DRAW_LOCK.release()
        return False
