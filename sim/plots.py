"""Standard plots of a run (or several runs) from its tidy tables.

Every function takes DataFrames and returns a matplotlib Figure, so the same plots
serve the CLI, notebooks and the dashboard.
"""

from __future__ import annotations

import dataclasses

import matplotlib

matplotlib.use("Agg", force=False)
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from .params import FirmParams, levers  # noqa: E402

__all__ = [
    "short_text",
    "safe_filename",
    "INDICATORS",
    "firm_colors",
    "firm_styles",
    "timeline_markers",
    "mark_events",
    "plot_story",
    "plot_kpi_intervals",
    "plot_lorenz",
    "plot_indicator",
    "plot_run",
    "plot_cascade_sizes",
    "plot_compare",
    "save_run_plots",
    "plot_levers",
    "plot_service_levels",
    "plot_complaint_handling",
    "plot_marketing",
    "levers_move",
]

#: (column, title, y label) of the standard per-firm indicators
INDICATORS = [
    ("share", "Market share", "share of customers"),
    ("mean_satisfaction", "Satisfaction of customers", "mean satisfaction (−1…1)"),
    ("churn_rate", "Churn", "customers lost / customers, per period"),
    ("complaints", "Complaints", "complaints per period"),
    ("profit", "Profit", "cu per period"),
    ("referrals", "Referrals", "referred customers per period"),
]


#: one colour per firm, by the firm's index (its order in the scenario), in every figure
PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf")
#: one line style per firm, so identical series stay visible on top of each other
STYLES = ("-", "--", "-.", ":")


def _firm_order(firms: pd.DataFrame) -> list[str]:
    if "firm_index" in firms:
        return list(firms.drop_duplicates("firm").sort_values("firm_index")["firm"])
    return list(dict.fromkeys(firms["firm"]))


def firm_colors(firms: pd.DataFrame | list[str]) -> dict[str, str]:
    """Firm name → colour, by the firm's index in the scenario (the same in every figure).

    Examples:
        >>> firm_colors(["A", "B"])["B"]
        '#d62728'
    """
    names = firms if isinstance(firms, list) else _firm_order(firms)
    return {n: PALETTE[i % len(PALETTE)] for i, n in enumerate(names)}


def firm_styles(firms: pd.DataFrame | list[str]) -> dict[str, str]:
    """Firm name → line style, by the firm's index (identical series stay visible)."""
    names = firms if isinstance(firms, list) else _firm_order(firms)
    return {n: STYLES[i % len(STYLES)] for i, n in enumerate(names)}


#: lever columns whose changes are marked on the time axes (with a short label)
_MARKED = {
    "price": "price",
    "service": "service",
    "quality": "quality",
    "capacity": "capacity",
    "complaint_ease": "complaint ease",
    "resolve_share": "resolution",
    "resolve_speed": "resolution speed",
    "marketing": "marketing",
    "referral_reward": "referral reward",
    "loyalty": "loyalty",
    "promise": "promise",
}


def timeline_markers(firms: pd.DataFrame, max_per_firm: int = 8) -> list[tuple[int, str, str]]:
    """What happened when: entries, exits and lever changes per firm, as
    ``(period, firm, label)`` from the firm table (first replication). A firm whose
    levers change more than ``max_per_firm`` times (a learning policy) gets one marker
    saying so instead."""
    f = (
        firms[firms["replication"] == firms["replication"].min()]
        if "replication" in firms
        else firms
    )
    out: list[tuple[int, str, str]] = []
    for name in _firm_order(f):
        g = f[f["firm"] == name].sort_values("period")
        mine: list[tuple[int, str, str]] = []
        if "active" in g:
            act = g["active"].astype(bool).to_numpy()
            per = g["period"].to_numpy()
            for i in range(1, len(act)):
                if act[i] and not act[i - 1]:
                    mine.append((int(per[i]), name, f"{name} enters"))
                elif act[i - 1] and not act[i]:
                    mine.append((int(per[i]), name, f"{name} exits"))
        changes: dict[int, list[str]] = {}
        for col, label in _MARKED.items():
            if col not in g:
                continue
            v = g[col].to_numpy()
            per = g["period"].to_numpy()
            for i in range(1, len(v)):
                a, b = v[i - 1], v[i]
                if a != b and not (pd.isna(a) and pd.isna(b)):
                    if "active" in g and not bool(g["active"].iloc[i - 1]):
                        continue  # levers set at entry are part of the entry
                    if isinstance(b, (bool, np.bool_)):
                        txt = f"{label} {'on' if b else 'off'}"
                    elif np.isfinite(float(a)) and np.isfinite(float(b)):
                        txt = f"{label} {float(a):.3g}→{float(b):.3g}"
                    else:
                        txt = f"{label} {a}→{b}"
                    changes.setdefault(int(per[i]), []).append(txt)
        if len(changes) > max_per_firm:
            first = min(changes)
            mine.append((first, name, f"{name}: levers set by its policy every month"))
        else:
            mine += [(t, name, f"{name}: " + ", ".join(v)) for t, v in sorted(changes.items())]
        out += mine
    return sorted(out, key=lambda x: x[0])


def mark_events(ax, markers, colors: dict[str, str] | None = None, *, labels: bool = True) -> None:
    """Dashed vertical lines at the markers' periods (in the firm's colour), labelled
    with a number at the top of the axis (the key is in the figure's caption)."""
    for k, (t, firm, _) in enumerate(markers, start=1):
        c = (colors or {}).get(firm, "0.4")
        ax.axvline(t, color=c, linestyle=(0, (4, 3)), linewidth=0.9, alpha=0.8, zorder=0)
        if labels:
            ax.annotate(
                str(k),
                (t, 1.0),
                xycoords=("data", "axes fraction"),
                xytext=(2, -10),
                textcoords="offset points",
                fontsize=7,
                color=c,
            )


def _rows(firms: pd.DataFrame, col: str) -> pd.DataFrame:
    """The rows a per-firm line is drawn from: periods with flows (stocks from period
    0) while the firm is in the market."""
    f = firms[firms["period"] > 0] if col not in ("share", "customers") else firms
    if "active" in f:  # a firm not (yet) in the market has no line
        f = f[f["active"].astype(bool)]
    return f


def _by_firm(firms: pd.DataFrame, col: str, smooth: int = 1) -> pd.DataFrame:
    f = _rows(firms, col)
    g = f.groupby(["period", "firm"], sort=True)[col].mean().unstack("firm")
    if smooth > 1:
        g = g.rolling(smooth, min_periods=1).mean()
    return g


def plot_indicator(
    ax,
    firms: pd.DataFrame,
    col: str,
    title: str,
    ylabel: str,
    *,
    smooth: int = 1,
    label_prefix: str = "",
    linestyle: str = "-",
) -> None:
    g = _by_firm(firms, col, smooth)
    colors, styles = firm_colors(firms), firm_styles(firms)
    for name in [n for n in colors if n in g.columns]:
        ls = linestyle if linestyle != "-" else styles[name]
        ax.plot(g.index, g[name], ls, color=colors[name], label=f"{label_prefix}{name}")
        if "replication" in firms and firms["replication"].nunique() > 1:
            rows = _rows(firms, col)
            q = rows[rows["firm"] == name].groupby("period")[col].quantile([0.1, 0.9]).unstack()
            ax.fill_between(q.index, q[0.1], q[0.9], alpha=0.12, color=colors[name])
    if smooth > 1:
        title = f"{title} ({smooth}-month moving average)"
    ax.set_title(title)
    ax.set_xlabel("period (month)")
    ax.set_ylabel(ylabel)
    _honest_axis(ax, col, g)
    ax.grid(alpha=0.3)


#: fixed scales: shares and satisfaction on their whole range
_FULL_RANGE = {"share": (0.0, 1.0), "mean_satisfaction": (-1.0, 1.0), "sales_share": (0.0, 1.0)}


def _honest_axis(ax, col: str, g: pd.DataFrame) -> None:
    """Axes that do not magnify noise: shares and satisfaction on their full range;
    counts, rates and money from zero (or below, for losses)."""
    if col in _FULL_RANGE:
        ax.set_ylim(*_FULL_RANGE[col])
        return
    vals = g.to_numpy(dtype=float)
    vals = vals[np.isfinite(vals)]
    if vals.size == 0:
        return
    lo, hi = float(min(0.0, vals.min())), float(max(0.0, vals.max()))
    span = hi - lo or 1.0
    ax.set_ylim(lo - 0.05 * span * (lo < 0), hi + 0.1 * span)


def plot_wom(ax, firms: pd.DataFrame, *, smooth: int = 3) -> None:
    pos = _by_firm(firms, "wom_pos", smooth)
    neg = _by_firm(firms, "wom_neg", smooth)
    colors = firm_colors(firms)
    for name in [n for n in colors if n in pos.columns]:
        ax.plot(pos.index, pos[name], "-", color=colors[name], label=f"{name} positive")
        ax.plot(neg.index, neg[name], "--", color=colors[name], label=f"{name} negative")
    ax.set_ylim(bottom=0)
    ax.set_title("Word of mouth" + (f" ({smooth}-month moving average)" if smooth > 1 else ""))
    ax.set_xlabel("period (month)")
    ax.set_ylabel("messages per period")
    ax.grid(alpha=0.3)


def plot_complaints(ax, firms: pd.DataFrame, *, smooth: int = 3) -> None:
    colors = firm_colors(firms)
    for name, g in firms[firms.period > 0].groupby("firm"):
        g = g.groupby("period")[
            ["complaints", "resolved_quick", "resolved_late", "unresolved"]
        ].mean()
        g = g.rolling(smooth, min_periods=1).mean()
        c = colors.get(name)
        ax.plot(g.index, g["complaints"], "-", color=c, label=f"{name} complaints")
        ax.plot(
            g.index,
            g["resolved_quick"] + g["resolved_late"],
            ":",
            color=c,
            label=f"{name} resolved",
        )
        ax.plot(g.index, g["unresolved"], "--", color=c, label=f"{name} unresolved")
    ax.set_ylim(bottom=0)
    ax.set_title(
        "Complaints and their resolution"
        + (f" ({smooth}-month moving average)" if smooth > 1 else "")
    )
    ax.set_xlabel("period (month)")
    ax.set_ylabel("per period")
    ax.grid(alpha=0.3)


def plot_service_levels(ax, firms: pd.DataFrame) -> None:
    """Service (solid) and quality (dashed) levels per firm over time."""
    _plot_lever_group(
        ax,
        firms,
        [("service", "-", "service"), ("quality", "--", "quality")],
        "Service and quality levels",
    )


def plot_complaint_handling(ax, firms: pd.DataFrame) -> None:
    """Complaint-handling levers per firm: ease (solid), share resolved (dashed), speed
    (dotted)."""
    _plot_lever_group(
        ax,
        firms,
        [
            ("complaint_ease", "-", "ease"),
            ("resolve_share", "--", "share resolved"),
            ("resolve_speed", ":", "speed"),
        ],
        "Complaint handling",
    )


def _plot_lever_group(ax, firms: pd.DataFrame, columns, title: str) -> None:
    """Several 0–1 levers per firm on one axis: one colour per firm, one line style per
    lever (``columns``: (column, style, label) triples)."""
    cols = [c for c, _, _ in columns]
    colors = firm_colors(firms)
    for name, g in firms.groupby("firm", sort=False):
        g = g.groupby("period")[cols].mean()
        for col, style, label in columns:
            ax.plot(g.index, g[col], style, color=colors.get(name), label=f"{name} {label}")
    ax.set_title(title)
    ax.set_xlabel("period (month)")
    ax.set_ylabel("level (0–1)")
    ax.set_ylim(-0.02, 1.02)
    ax.grid(alpha=0.3)


def plot_marketing(ax, firms: pd.DataFrame) -> None:
    """Marketing reach per firm over time (from zero, so a constant line looks flat)."""
    plot_indicator(ax, firms, "marketing", "Marketing reach", "probability per period")
    top = float(firms["marketing"].max()) if len(firms) else 0.0
    ax.set_ylim(0.0, max(1.25 * top, 0.05))


#: lever columns of the firm table whose value a firm sets (the ``recorded`` levers of the
#: parameter metadata, except optional ones such as ``promise``: their column holds the
#: effective value, which moves with performance when the lever is None)
LEVER_COLUMNS = tuple(
    f.name
    for f in dataclasses.fields(FirmParams)
    if f.name in levers("recorded") and f.default is not None
)


def levers_move(firms: pd.DataFrame) -> list[str]:
    """The lever columns that change during the run (for any firm)."""
    f = firms[firms["period"] > 0] if "period" in firms else firms
    return [c for c in LEVER_COLUMNS if c in f and (f.groupby("firm")[c].nunique() > 1).any()]


def plot_levers(firms: pd.DataFrame, title: str = ""):
    """The levers per firm over time: price, service and quality, complaint handling and
    marketing reach; shows what policies (and timeline events) did."""
    fig, axes = plt.subplots(2, 2, figsize=(13, 8))
    ax = axes.ravel()
    plot_indicator(ax[0], firms, "price", "Price", "cu per unit")
    plot_service_levels(ax[1], firms)
    plot_complaint_handling(ax[2], firms)
    plot_marketing(ax[3], firms)
    for a in ax:
        a.legend(fontsize=7)
    moving = levers_move(firms)
    head = "Levers" + (f" — {title}" if title else "")
    fig.suptitle(
        head + ("  (moving: " + ", ".join(moving) + ")" if moving else "  (no lever moves)"),
        fontsize=12,
    )
    fig.tight_layout()
    return fig


def plot_cascade_sizes(ax, cascades: pd.DataFrame, firm_names: list[str] | None = None) -> None:
    """Referral cascade size distribution (complementary CDF) on log-log axes
    (``firm_names``, in scenario order, fix the colours)."""
    ax.set_title("Referral cascade sizes")
    ax.set_xlabel("cascade size (customers referred)")
    ax.set_ylabel("share of cascades of at least this size")
    if cascades.empty:
        ax.text(0.5, 0.5, "no referrals", ha="center", va="center", transform=ax.transAxes)
        return
    colors = (
        firm_colors(firm_names) if firm_names else firm_colors(sorted(cascades["firm"].unique()))
    )
    for name, g in cascades.groupby("firm"):
        sizes = g["size"].to_numpy()
        uniq = np.unique(sizes)
        ccdf = np.array([(sizes >= s).mean() for s in uniq])
        ax.loglog(
            uniq, ccdf, "o-", ms=4, color=colors.get(name), label=f"{name} ({sizes.size} cascades)"
        )
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)


def _firm_legend(fig, firms: pd.DataFrame, y: float = 1.0) -> None:
    from matplotlib.lines import Line2D

    colors, styles = firm_colors(firms), firm_styles(firms)
    handles = [Line2D([], [], color=colors[n], linestyle=styles[n], label=n) for n in colors]
    fig.legend(
        handles=handles,
        loc="upper right",
        bbox_to_anchor=(0.995, y),
        ncol=len(handles),
        fontsize=9,
        frameon=False,
    )


def _marker_key(fig, markers, y: float = 0.005) -> None:
    if not markers:
        return
    text = "   ".join(f"{k}: month {t}, {label}" for k, (t, _, label) in enumerate(markers, 1))
    import textwrap

    fig.text(0.01, y, "\n".join(textwrap.wrap(text, 190)), fontsize=7, va="bottom", ha="left")


def _legend_below(ax) -> None:
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=3, frameon=False)


def plot_run(firms: pd.DataFrame, market: pd.DataFrame, cascades: pd.DataFrame, title: str = ""):
    """A one-page overview: the standard indicators, WOM, complaints, NPS, cascades, and
    a panel for each group of levers that moves (none when no lever moves). One colour
    per firm; numbered dashed lines mark entries and lever changes (key at the bottom)."""
    moving = set(levers_move(firms))
    lever_panels = []
    if "price" in moving:
        lever_panels.append(lambda ax: plot_indicator(ax, firms, "price", "Price", "cu"))
    if moving & {"service", "quality"}:
        lever_panels.append(lambda ax: plot_service_levels(ax, firms))
    if moving & {"complaint_ease", "resolve_share", "resolve_speed"}:
        lever_panels.append(lambda ax: plot_complaint_handling(ax, firms))
    if "marketing" in moving:
        lever_panels.append(lambda ax: plot_marketing(ax, firms))
    n = 8 + len(lever_panels)
    ncol = 4
    nrow = int(np.ceil(n / ncol))
    fig, axes = plt.subplots(nrow, ncol, figsize=(21, 4.6 * nrow + 0.8), squeeze=False)
    ax = axes.ravel()
    markers = timeline_markers(firms)
    colors = firm_colors(firms)
    plot_indicator(ax[0], firms, "share", "Market share", "share of customers")
    plot_indicator(
        ax[1], firms, "mean_satisfaction", "Satisfaction of customers", "mean satisfaction (−1…1)"
    )
    plot_indicator(ax[2], firms, "churn_rate", "Churn", "lost / customers per month", smooth=3)
    plot_complaints(ax[3], firms)
    _legend_below(ax[3])
    plot_wom(ax[4], firms)
    _legend_below(ax[4])
    plot_indicator(ax[5], firms, "profit", "Profit", "cu per month", smooth=3)
    m = market[market.period > 0]
    if "replication" in m:
        m = m.groupby("period", as_index=False)["nps"].mean()
    ax[6].plot(m["period"], m["nps"], color="0.2", label="NPS")
    ax[6].set_title("Net promoter score (whole market)")
    ax[6].set_xlabel("period (month)")
    ax[6].set_ylabel("promoters − detractors (% of customers)")
    ax[6].set_ylim(-100, 100)
    ax[6].grid(alpha=0.3)
    plot_cascade_sizes(ax[7], cascades, _firm_order(firms))
    for i, fn in enumerate(lever_panels):
        fn(ax[8 + i])
        if i > 0 or "price" not in moving:
            _legend_below(ax[8 + i])
    for j in range(n, nrow * ncol):
        ax[j].axis("off")
    for i in [0, 1, 2, 3, 4, 5, 6, *range(8, n)]:
        mark_events(ax[i], markers, colors)
    _firm_legend(fig, firms)
    if title:
        fig.suptitle(title, fontsize=14, x=0.01, ha="left")
    fig.tight_layout(rect=(0, 0.04 if markers else 0, 1, 0.96))
    _marker_key(fig, markers)
    return fig


def plot_story(firms: pd.DataFrame, title: str = "", *, events: bool = True):
    """The story in four panels for a report: share, satisfaction, churn (3-month moving
    average) and cumulative profit per firm, with the bands of the replications (10–90%),
    one colour per firm and numbered markers for entries and lever changes."""
    fig, axes = plt.subplots(2, 2, figsize=(12, 7.6))
    ax = axes.ravel()
    plot_indicator(ax[0], firms, "share", "Market share", "share of customers")
    plot_indicator(ax[1], firms, "mean_satisfaction", "Satisfaction", "mean satisfaction (−1…1)")
    plot_indicator(ax[2], firms, "churn_rate", "Churn", "lost / customers per month", smooth=3)
    f = firms.copy()
    f = f[f["period"] > 0]
    key = ["replication", "firm"] if "replication" in f else ["firm"]
    f["profit_cumulative"] = f.sort_values("period").groupby(key)["profit"].cumsum()
    plot_indicator(ax[3], f, "profit_cumulative", "Cumulative profit", "cu")
    markers = timeline_markers(firms) if events else []
    colors = firm_colors(firms)
    for a in ax:
        mark_events(a, markers, colors)
    _firm_legend(fig, firms)
    if title:
        fig.suptitle(title, fontsize=12, x=0.01, ha="left")
    fig.tight_layout(rect=(0, 0.05 if markers else 0, 1, 0.95))
    _marker_key(fig, markers)
    return fig


def plot_kpi_intervals(table: pd.DataFrame, kpis: list[str], runs: list[str] | None = None):
    """Headline KPIs as points with 95% interval bars, per firm (colour) and run (rows of
    points), from a long table with ``run, firm, kpi, mean, low, high``."""
    runs = runs or list(dict.fromkeys(table["run"]))
    firms = list(dict.fromkeys(table["firm"]))
    colors = firm_colors(firms)
    fig, axes = plt.subplots(1, len(kpis), figsize=(4.2 * len(kpis), 0.5 * len(runs) + 2.4))
    axes = np.atleast_1d(axes)
    for ax, k in zip(axes, kpis, strict=True):
        t = table[table["kpi"] == k]
        for i, run in enumerate(runs):
            for j, firm in enumerate(firms):
                r = t[(t["run"] == run) & (t["firm"] == firm)]
                if r.empty:
                    continue
                r = r.iloc[0]
                y = i + (j - (len(firms) - 1) / 2) * 0.18
                err = (
                    [[r["mean"] - r["low"]], [r["high"] - r["mean"]]]
                    if np.isfinite(r["low"])
                    else None
                )
                ax.errorbar(r["mean"], y, xerr=err, fmt="o", color=colors[firm], capsize=3, ms=4)
        ax.set_yticks(range(len(runs)), runs if k == kpis[0] else [""] * len(runs))
        ax.invert_yaxis()
        ax.set_title(k.replace("_", " "))
        ax.grid(alpha=0.3, axis="x")
        lo = min(0.0, float(t["low"].min(skipna=True)) if t["low"].notna().any() else 0.0)
        hi = float(np.nanmax(t[["mean", "high"]].to_numpy(float)))
        if k in ("final_share", "annual_churn", "resolved_share"):
            ax.set_xlim(0, 1)
        else:
            ax.set_xlim(lo - 0.05 * abs(hi - lo), hi + 0.1 * abs(hi - lo) + 1e-9)
    _firm_legend(fig, firms)
    fig.tight_layout(rect=(0, 0, 1, 0.88))
    return fig


def plot_lorenz(customers: pd.DataFrame, firm_names: list[str]):
    """Profit concentration per firm: share of the firm's customers (most profitable
    first) against the cumulative share of its profit from them, with the 20% mark."""
    from .analysis import lorenz_curve, profit_concentration

    colors, styles = firm_colors(firm_names), firm_styles(firm_names)
    fig, ax = plt.subplots(figsize=(6.2, 4.6))
    for name in firm_names:
        col = f"profit_{name}"
        if col not in customers:
            continue
        v = customers[col].to_numpy(float)
        v = v[v != 0]
        if v.size == 0:
            continue
        x, y = lorenz_curve(v)
        top = profit_concentration(v, 0.2)
        ax.plot(x, y, styles[name], color=colors[name], label=f"{name}: top 20% → {top:.0%}")
    ax.axvline(0.2, color="0.5", linestyle=":", linewidth=1)
    ax.plot([0, 1], [0, 1], color="0.7", linewidth=0.8)
    ax.set_xlabel("share of the firm's customers, most profitable first")
    ax.set_ylabel("cumulative share of profit")
    ax.set_title("Profit concentration (first replication)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    return fig


def short_text(text: str, limit: int = 100) -> str:
    """``text`` made safe and short for a plot title: one line, at most ``limit``
    characters (head and tail kept around '…'), ``$`` shown literally (no mathtext),
    so any title draws in the time of a short one.

    Examples:
        >>> short_text("A  long\\ntitle " * 50, 20)
        'A long tit…ong title'
    """
    from .scenario import shorten

    text = str(text)
    if len(text) > 4 * limit:  # only the ends can be shown: never scan a huge title
        text = text[: 2 * limit] + " " + text[-2 * limit :]
    one_line = " ".join(text.split())
    return shorten(one_line, limit).replace("$", r"\$")


def safe_filename(text: str, limit: int = 100) -> str:
    """``text`` as a file name: letters, digits, ``.``, ``-`` and ``_`` kept, others
    replaced by ``_``; a longer name is cut and given a short hash (names stay unique).

    Examples:
        >>> safe_filename("firms.B.price/x y")
        'firms.B.price_x_y'
    """
    import hashlib
    import re

    name = re.sub(r"[^A-Za-z0-9._-]", "_", str(text)).lstrip(".") or "_"
    if len(name) <= limit:
        return name
    digest = hashlib.sha256(str(text).encode()).hexdigest()[:10]
    return f"{name[: limit - 11]}-{digest}"


def save_run_plots(
    folder, firms: pd.DataFrame, market: pd.DataFrame, cascades: pd.DataFrame, title: str = ""
) -> list[str]:
    """Write the standard PNGs of a run into ``folder``; return their file names."""
    from pathlib import Path

    title = short_text(title)

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []

    def save(fig, name):
        fig.savefig(folder / name, dpi=90)
        plt.close(fig)
        written.append(name)

    for col, t, yl in INDICATORS:
        fig, ax = plt.subplots(figsize=(7, 4.2))
        plot_indicator(
            ax,
            firms,
            col,
            f"{t} — {title}" if title else t,
            yl,
            smooth=3 if col in ("churn_rate", "profit", "complaints", "referrals") else 1,
        )
        markers = timeline_markers(firms)
        mark_events(ax, markers, firm_colors(firms))
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
        fig.tight_layout(rect=(0, 0.06 if markers else 0, 1, 1))
        _marker_key(fig, markers)
        save(fig, f"{col}.png")
    for name, fn in (("complaints_resolution.png", plot_complaints), ("wom.png", plot_wom)):
        fig, ax = plt.subplots(figsize=(7.5, 4.6))
        fn(ax, firms)
        _legend_below(ax)
        fig.tight_layout()
        save(fig, name)
    fig, ax = plt.subplots(figsize=(7, 4.2))
    plot_cascade_sizes(ax, cascades, _firm_order(firms))
    fig.tight_layout()
    save(fig, "cascade_sizes.png")
    save(plot_levers(firms, title), "levers.png")
    save(plot_run(firms, market, cascades, title), "overview.png")
    return written


def plot_compare(runs: dict[str, pd.DataFrame], columns=None):
    """Side-by-side indicator plots for several runs (label → firm table)."""
    columns = columns or [c for c, _, _ in INDICATORS]
    titles = {c: (t, y) for c, t, y in INDICATORS}
    n = len(columns)
    ncol = 3
    nrow = int(np.ceil(n / ncol))
    fig, axes = plt.subplots(nrow, ncol, figsize=(6 * ncol, 4 * nrow + 1), squeeze=False)
    styles = ["-", "--", ":", "-."]
    for i, col in enumerate(columns):
        ax = axes.ravel()[i]
        t, yl = titles.get(col, (col, col))
        for k, (label, firms) in enumerate(runs.items()):
            plot_indicator(
                ax,
                firms,
                col,
                t,
                yl,
                smooth=3 if col != "share" else 1,
                label_prefix=f"{label}: ",
                linestyle=styles[k % len(styles)],
            )
    for j in range(n, nrow * ncol):
        axes.ravel()[j].axis("off")
    # one legend for the figure, outside the data: colour = firm, line style = run
    from matplotlib.lines import Line2D

    first = next(iter(runs.values()))
    colors = firm_colors(first)
    handles = [Line2D([], [], color=c, label=f"firm {n}") for n, c in colors.items()]
    handles += [
        Line2D([], [], color="0.3", linestyle=styles[k % len(styles)], label=f"run {label}")
        for k, label in enumerate(runs)
    ]
    fig.legend(
        handles=handles, loc="upper center", ncol=min(len(handles), 6), fontsize=9, frameon=False
    )
    fig.tight_layout(rect=(0, 0, 1, 0.93))
    return fig
