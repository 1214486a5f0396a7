"""Standard plots of a run (or several runs) from its tidy tables.

Every function takes DataFrames and returns a matplotlib Figure, so the same plots
serve the CLI, notebooks and the dashboard.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg", force=False)
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

__all__ = [
    "short_text",
    "safe_filename",
    "INDICATORS",
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


def _by_firm(firms: pd.DataFrame, col: str, smooth: int = 1) -> pd.DataFrame:
    f = firms[firms["period"] > 0] if col not in ("share", "customers") else firms
    g = f.groupby(["period", "name"], sort=True)[col].mean().unstack("name")
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
    for name in g.columns:
        ax.plot(g.index, g[name], linestyle, label=f"{label_prefix}{name}")
        if "replication" in firms and firms["replication"].nunique() > 1:
            q = firms[firms["name"] == name].groupby("period")[col].quantile([0.1, 0.9]).unstack()
            ax.fill_between(q.index, q[0.1], q[0.9], alpha=0.15)
    ax.set_title(title)
    ax.set_xlabel("period (month)")
    ax.set_ylabel(ylabel)
    if col == "share":
        ax.set_ylim(0, 1)
    ax.grid(alpha=0.3)


def plot_wom(ax, firms: pd.DataFrame, *, smooth: int = 3) -> None:
    pos = _by_firm(firms, "wom_pos", smooth)
    neg = _by_firm(firms, "wom_neg", smooth)
    for name in pos.columns:
        (line,) = ax.plot(pos.index, pos[name], "-", label=f"{name} positive")
        ax.plot(neg.index, neg[name], "--", color=line.get_color(), label=f"{name} negative")
    ax.set_title("Word of mouth")
    ax.set_xlabel("period (month)")
    ax.set_ylabel("messages per period")
    ax.grid(alpha=0.3)


def plot_complaints(ax, firms: pd.DataFrame, *, smooth: int = 3) -> None:
    for name, g in firms[firms.period > 0].groupby("name"):
        g = g.groupby("period")[
            ["complaints", "resolved_quick", "resolved_late", "unresolved"]
        ].mean()
        g = g.rolling(smooth, min_periods=1).mean()
        (line,) = ax.plot(g.index, g["complaints"], "-", label=f"{name} complaints")
        ax.plot(
            g.index,
            g["resolved_quick"] + g["resolved_late"],
            ":",
            color=line.get_color(),
            label=f"{name} resolved",
        )
        ax.plot(g.index, g["unresolved"], "--", color=line.get_color(), label=f"{name} unresolved")
    ax.set_title("Complaints and their resolution")
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
    for name, g in firms.groupby("name", sort=False):
        g = g.groupby("period")[cols].mean()
        color = None
        for col, style, label in columns:
            (line,) = ax.plot(g.index, g[col], style, color=color, label=f"{name} {label}")
            color = line.get_color()
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


#: lever columns of the firm table shown by :func:`plot_levers`
LEVER_COLUMNS = (
    "price",
    "service",
    "quality",
    "complaint_ease",
    "resolve_share",
    "resolve_speed",
    "marketing",
)


def levers_move(firms: pd.DataFrame) -> list[str]:
    """The lever columns that change during the run (for any firm)."""
    f = firms[firms["period"] > 0] if "period" in firms else firms
    return [c for c in LEVER_COLUMNS if c in f and (f.groupby("name")[c].nunique() > 1).any()]


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


def plot_cascade_sizes(ax, cascades: pd.DataFrame) -> None:
    """Referral cascade size distribution (complementary CDF) on log-log axes."""
    ax.set_title("Referral cascade sizes")
    ax.set_xlabel("cascade size (customers referred)")
    ax.set_ylabel("share of cascades of at least this size")
    if cascades.empty:
        ax.text(0.5, 0.5, "no referrals", ha="center", va="center", transform=ax.transAxes)
        return
    for name, g in cascades.groupby("firm_name"):
        sizes = g["size"].to_numpy()
        uniq = np.unique(sizes)
        ccdf = np.array([(sizes >= s).mean() for s in uniq])
        ax.loglog(uniq, ccdf, "o-", ms=4, label=f"{name} ({sizes.size} cascades)")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)


def plot_run(firms: pd.DataFrame, market: pd.DataFrame, cascades: pd.DataFrame, title: str = ""):
    """A one-page overview: the standard indicators, WOM, complaints, cascades and the
    levers (price, service and quality, complaint handling)."""
    fig, axes = plt.subplots(3, 4, figsize=(21, 12))
    ax = axes.ravel()
    plot_indicator(ax[0], firms, "share", "Market share", "share of customers")
    plot_indicator(
        ax[1], firms, "mean_satisfaction", "Satisfaction of customers", "mean satisfaction (−1…1)"
    )
    plot_indicator(ax[2], firms, "churn_rate", "Churn", "lost / customers per period", smooth=3)
    plot_complaints(ax[3], firms)
    plot_wom(ax[4], firms)
    plot_indicator(ax[5], firms, "profit", "Profit", "cu per period", smooth=3)
    plot_indicator(ax[6], firms, "price", "Price", "cu")
    m = market[market.period > 0]
    ax[7].plot(m["period"], m["nps"], label="NPS")
    ax[7].set_title("Net promoter score (market)")
    ax[7].set_xlabel("period (month)")
    ax[7].set_ylabel("promoters − detractors (%)")
    ax[7].grid(alpha=0.3)
    plot_cascade_sizes(ax[8], cascades)
    plot_service_levels(ax[9], firms)
    plot_complaint_handling(ax[10], firms)
    plot_marketing(ax[11], firms)
    for a in [*ax[:7], *ax[9:]]:
        a.legend(fontsize=7)
    if title:
        fig.suptitle(title, fontsize=14)
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
        ax.legend(fontsize=8)
        fig.tight_layout()
        save(fig, f"{col}.png")
    for name, fn in (("complaints_resolution.png", plot_complaints), ("wom.png", plot_wom)):
        fig, ax = plt.subplots(figsize=(7, 4.2))
        fn(ax, firms)
        ax.legend(fontsize=8)
        fig.tight_layout()
        save(fig, name)
    fig, ax = plt.subplots(figsize=(7, 4.2))
    plot_cascade_sizes(ax, cascades)
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
    fig, axes = plt.subplots(nrow, ncol, figsize=(6 * ncol, 4 * nrow), squeeze=False)
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
        ax.legend(fontsize=7)
    for j in range(n, nrow * ncol):
        axes.ravel()[j].axis("off")
    fig.tight_layout()
    return fig
