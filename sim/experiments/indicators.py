"""Indicators: what a sweep records from each run, per period and summarised per run.

An indicator is a numeric column of ``MarketModel.firm_frame()`` (one value per firm and
period) or of ``MarketModel.market_frame()`` (one value per period for the whole market).
A run's tidy rows are one row per period and firm, plus one row per period with
``firm = "market"`` holding the market frame's value; an indicator that one of the two
frames lacks is NaN on those rows (``share`` on market rows, ``nps`` on firm rows). Names
in both frames (customers, complaints, profit …) are the firm's own and the market total.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from sim import accel
from sim.model import MarketModel
from sim.params import ModelParams

__all__ = [
    "DEFAULT_INDICATORS",
    "indicator_catalogue",
    "recorded_columns",
    "summarise_periods",
    "tidy_columns",
    "tidy_periods",
]

#: indicators recorded when a sweep names none
DEFAULT_INDICATORS = (
    "share",
    "customers",
    "churn_rate",
    "mean_satisfaction",
    "complaints",
    "wom_pos",
    "wom_neg",
    "referrals",
    "profit",
    "clv",
    "nps",
)
_CATALOGUE: tuple[tuple[str, ...], tuple[str, ...]] | None = None


def indicator_catalogue() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """``(firm indicators, market indicators)``: the numeric columns of
    ``MarketModel.firm_frame()`` and ``market_frame()`` (read from a tiny model, so always
    in step with the recorder)."""
    global _CATALOGUE
    if _CATALOGUE is None:
        p = ModelParams()
        p.market.n_customers = 30
        p.record_events, p.panel_size = False, 0
        with accel.use(False):  # names only: no need to load the compiled kernels here
            m = MarketModel(p, seed=0)
        f, k = m.firm_frame(), m.market_frame()

        def numeric(df: pd.DataFrame, skip: tuple[str, ...]) -> tuple[str, ...]:
            return tuple(
                c
                for c in df.columns
                if c not in skip
                and (pd.api.types.is_numeric_dtype(df[c]) or pd.api.types.is_bool_dtype(df[c]))
            )

        _CATALOGUE = (numeric(f, ("period", "firm", "firm_index")), numeric(k, ("period",)))
    return _CATALOGUE


def tidy_periods(
    firms: pd.DataFrame,
    market: pd.DataFrame,
    indicators: Sequence[str],
    keys: dict[str, Any] | None = None,
) -> pd.DataFrame:
    """One row per period: the firms' rows (in firm order), then a ``firm = "market"``
    row; the indicators as float columns (NaN where an indicator does not apply).
    ``keys`` (name → value) become constant leading columns."""
    return pd.DataFrame(tidy_columns(firms, market, indicators, keys))


def tidy_columns(
    firms: pd.DataFrame | Mapping[str, Sequence],
    market: pd.DataFrame | Mapping[str, Sequence],
    indicators: Sequence[str],
    keys: dict[str, Any] | None = None,
) -> dict[str, np.ndarray]:
    """The columns of :func:`tidy_periods` as numpy arrays (no DataFrame is built: a
    sweep turns them straight into its Arrow table). ``firms`` and ``market`` are the
    model's frames or the same columns as lists (:func:`recorded_columns`)."""
    fp = np.asarray(firms["period"], dtype=np.int64)
    mp = np.asarray(market["period"], dtype=np.int64)
    order = np.argsort(np.concatenate([fp, mp]), kind="stable")
    n = order.size
    cols: dict[str, Any] = {}
    for k, v in (keys or {}).items():
        cols[k] = np.full(n, v, dtype=object if isinstance(v, str) else None)
    cols["period"] = np.concatenate([fp, mp])[order]
    names = np.concatenate(
        [
            np.asarray(firms["firm"]).astype(str).astype(object),
            np.full(mp.size, "market", dtype=object),
        ]
    )
    cols["firm"] = names[order]
    for k in indicators:
        a = np.asarray(firms[k], dtype=float) if k in firms else np.full(fp.size, np.nan)
        b = np.asarray(market[k], dtype=float) if k in market else np.full(mp.size, np.nan)
        cols[k] = np.concatenate([a, b])[order]
    return cols


def recorded_columns(
    model: MarketModel, names: Sequence[str]
) -> tuple[dict[str, list], dict[str, list]]:
    """The columns ``period``, ``firm`` and ``names`` of ``model.firm_frame()`` and
    ``model.market_frame()`` as lists, read from the recorder's rows without building
    the frames (a column is present when any row has it; rows without it give NaN, as
    in the frames)."""

    def pick(rows: list[dict], want: Sequence[str]) -> dict[str, list]:
        have = set().union(*rows)
        return {k: [r.get(k, np.nan) for r in rows] for k in want if k in have}

    rec = model.recorder
    return pick(rec.firm_rows, ("period", "firm", *names)), pick(
        rec.market_rows, ("period", *names)
    )


def summarise_periods(
    df: pd.DataFrame, indicators: Sequence[str], window: int | None = None
) -> pd.DataFrame:
    """Per run and firm: the mean of each indicator over the last ``window`` periods
    (default: every period after the initial state, 1…T), NaN periods skipped.

    ``df`` holds per-period rows of one or more runs (``point``, ``replication``, ``period``,
    ``firm`` and any key columns, which are carried over)."""
    runs = ["point", "replication"]
    last = df.groupby(runs, sort=False)["period"].transform("max")
    lo = (last - window).clip(lower=0) if window else 0
    sel = df[df["period"] > lo]
    keys = [c for c in df.columns if c not in (*indicators, "period", "firm")]
    g = sel.groupby([*runs, "firm"], sort=False)
    out = g[list(indicators)].mean()
    first = g[[c for c in keys if c not in runs]].first()
    out = first.join(out).reset_index()
    return out[[*keys, "firm", *indicators]]
