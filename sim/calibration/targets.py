"""Observed targets: the table a calibration fits, validated against the scenario, and the
extraction of the same statistics from a finished run.

A target table (a CSV file or a DataFrame) has one row per observed number:

=========  ===============================================================================
column     meaning
=========  ===============================================================================
kpi        a numeric column of the firm table or the market table (``share``,
           ``churn_rate``, ``nps`` …) or a registered moment (:mod:`sim.calibration.moments`)
firm       a firm name of the scenario, or ``market`` (a market-table KPI; a market-wide
           moment); empty for a market-wide moment
period     the month (1…T, 0 = the initial state) of a monthly value; empty for the mean
           over months 1…T (a summary moment) and for registered moments
value      the observed number (finite)
se         optional: its standard error (> 0); the distance divides by it
weight     optional: its weight in the distance (≥ 0, default 1)
=========  ===============================================================================
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.experiments.indicators import indicator_catalogue
from sim.scenario import ScenarioError

from .moments import MOMENTS

__all__ = ["CalibrationError", "Extraction", "TARGET_COLUMNS", "read_targets", "check_targets"]

#: required and optional columns of a target table
TARGET_COLUMNS = ("kpi", "firm", "period", "value", "se", "weight")
REQUIRED = ("kpi", "firm", "value")


class CalibrationError(ScenarioError):
    """A calibration (file, targets, parameter or option) is invalid. ``str(err)`` is one
    line naming the file, the key path, the value and what is allowed."""


def read_targets(path: str | Path, source: str = "") -> pd.DataFrame:
    """Read a target CSV file (raises :class:`CalibrationError` naming ``source``)."""
    path = Path(path)
    src = source or str(path)
    if not path.is_file():
        raise CalibrationError(src, "", None, f"target file {path} not found")
    try:
        df = pd.read_csv(path, dtype={"kpi": str, "firm": str}, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise CalibrationError(
            str(path), "", None, f"not a CSV table ({type(exc).__name__})"
        ) from None
    return df


def _number(src: str, where: str, v, *, empty_ok: bool) -> float:
    if isinstance(v, str):
        s = v.strip()
        if s == "":
            if empty_ok:
                return math.nan
            raise CalibrationError(src, where, v, "missing; must be a finite number")
        try:
            v = float(s)
        except ValueError:
            raise CalibrationError(src, where, v, "must be a finite number") from None
    try:
        x = float(v)
    except (TypeError, ValueError):
        raise CalibrationError(src, where, v, "must be a finite number") from None
    if math.isnan(x) and empty_ok:
        return x
    if not math.isfinite(x):
        raise CalibrationError(src, where, v, "must be a finite number (NaN and inf are not data)")
    return x


def _check_columns(df: pd.DataFrame, src: str) -> pd.DataFrame:
    """The table with stripped column names, after checking it has rows and known columns.

    Raises:
        CalibrationError: no rows, an unknown column or a missing one.
    """
    if not isinstance(df, pd.DataFrame) or df.empty:
        raise CalibrationError(src, "", None, "the target table has no rows")
    cols = [str(c).strip() for c in df.columns]
    for c in cols:
        if c not in TARGET_COLUMNS:
            raise CalibrationError(
                src, "columns", c, "unknown column; allowed: " + ", ".join(TARGET_COLUMNS)
            )
    for c in REQUIRED:
        if c not in cols:
            raise CalibrationError(src, "columns", cols, f"missing column {c!r}")
    return df.set_axis(cols, axis=1)


def _moment_firm(
    src: str, line: str, kpi: str, firm: str, firms: list[str], period: float, p_raw: Any
) -> str:
    """The firm of a moment target ("" for market-wide), after checking firm and period.

    Raises:
        CalibrationError: a period given, or a firm the moment does not take.
    """
    mom = MOMENTS[kpi]
    if not math.isnan(period):
        raise CalibrationError(
            src, f"{line} period", p_raw, f"{kpi} is a moment of the whole run; leave empty"
        )
    if firm == "market":
        firm = ""
    if mom.firm == "required" and firm not in firms:
        raise CalibrationError(
            src, f"{line} firm", firm, f"{kpi} needs a firm; firms: " + ", ".join(firms)
        )
    if mom.firm == "market" and firm:
        raise CalibrationError(src, f"{line} firm", firm, f"{kpi} is market-wide; leave firm empty")
    if firm and firm not in firms:
        raise CalibrationError(
            src, f"{line} firm", firm, "unknown firm; allowed: " + ", ".join(firms)
        )
    return firm


def _indicator_kind(
    src: str, line: str, kpi: str, firm: str, firms: list[str], catalogue: tuple
) -> str:
    """``firm`` or ``market``: the kind of an indicator target, after checking its firm.

    Raises:
        CalibrationError: an unknown firm, or a KPI without a value of that kind.
    """
    firm_kpis, market_kpis = catalogue
    if firm == "market":
        if kpi not in market_kpis:
            raise CalibrationError(
                src, f"{line} firm", firm, f"{kpi} has no market value; name a firm"
            )
        return "market"
    if firm in firms:
        if kpi not in firm_kpis:
            raise CalibrationError(
                src, f"{line} firm", firm, f"{kpi} is a market KPI; use firm = market"
            )
        return "firm"
    raise CalibrationError(
        src,
        f"{line} firm",
        firm,
        "unknown firm; allowed: " + ", ".join([*firms, "market"]),
    )


def _check_period(src: str, line: str, period: float, p_raw: Any, periods: int) -> None:
    """Raise CalibrationError unless the period is empty or an integer month within the run."""
    if math.isnan(period):
        return
    if period != int(period) or period < 0:
        raise CalibrationError(
            src, f"{line} period", p_raw, "must be an integer month ≥ 0 (or empty)"
        )
    if period > periods:
        raise CalibrationError(
            src,
            f"{line} period",
            int(period),
            f"mismatched lengths: the observed series runs past the scenario's "
            f"{periods} periods (market.periods)",
        )


def _value_se_weight(src: str, line: str, r: dict) -> tuple[float, float, float]:
    """A row's value, standard error (NaN if empty) and weight (1 if empty), checked.

    Raises:
        CalibrationError: a non-number, se ≤ 0 or a negative weight.
    """
    value = _number(src, f"{line} value", r["value"], empty_ok=False)
    se = _number(src, f"{line} se", r.get("se", ""), empty_ok=True)
    if not math.isnan(se) and se <= 0:
        raise CalibrationError(src, f"{line} se", r.get("se"), "must be > 0 (or empty)")
    w_raw = r.get("weight", "")
    w = _number(src, f"{line} weight", w_raw, empty_ok=True)
    w = 1.0 if math.isnan(w) else w
    if w < 0:
        raise CalibrationError(src, f"{line} weight", w_raw, "must be ≥ 0")
    return value, se, w


def _check_duplicates(out: pd.DataFrame, src: str) -> None:
    """Raise CalibrationError naming the first duplicate (kpi, firm, period) target."""
    dup = out.duplicated(["kpi", "firm", "period"], keep=False)
    if dup.any():
        r = out[dup].iloc[0]
        raise CalibrationError(
            src,
            f"row {int(np.flatnonzero(dup.to_numpy())[0]) + 2}",
            f"{r.kpi}/{r.firm or '-'}/{r.period if r.period >= 0 else 'mean'}",
            "duplicate target (same kpi, firm and period)",
        )


def check_targets(
    df: pd.DataFrame, firms: list[str], periods: int, source: str = "targets"
) -> pd.DataFrame:
    """Validate a target table against a scenario and return it normalised (columns
    ``kpi, firm, period, value, se, weight, kind``; ``period`` -1 = mean over 1…T or a
    moment; ``kind`` ``firm``/``market``/``moment``).

    Args:
        df: the target rows.
        firms: the scenario's firm names.
        periods: the scenario's number of periods T.
        source: where the rows came from (named in errors).

    Returns:
        the normalised table.

    Raises:
        CalibrationError: unknown column, KPI or firm; a NaN or non-number; a period
            beyond the run (mismatched lengths); a duplicate row; a bad se or weight.
    """
    src = source
    df = _check_columns(df, src)
    firm_kpis, market_kpis = indicator_catalogue()
    known = dict.fromkeys([*firm_kpis, *market_kpis, *MOMENTS])
    rows = []
    for i, r in enumerate(df.to_dict("records")):
        line = f"row {i + 2}"  # the CSV line (header = line 1)
        kpi = str(r["kpi"]).strip()
        firm = "" if r.get("firm") is None else str(r["firm"]).strip()
        if firm.lower() == "nan":
            firm = ""
        if kpi not in known:
            raise CalibrationError(
                src, f"{line} kpi", kpi, "unknown KPI; allowed: " + ", ".join(known)
            )
        p_raw = r.get("period", "")
        period = _number(src, f"{line} period", p_raw, empty_ok=True)
        if kpi in MOMENTS:
            kind = "moment"
            firm = _moment_firm(src, line, kpi, firm, firms, period, p_raw)
        else:
            kind = _indicator_kind(src, line, kpi, firm, firms, (firm_kpis, market_kpis))
            _check_period(src, line, period, p_raw, periods)
        value, se, w = _value_se_weight(src, line, r)
        rows.append(
            {
                "kpi": kpi,
                "firm": firm,
                "period": -1 if math.isnan(period) else int(period),
                "value": value,
                "se": se,
                "weight": w,
                "kind": kind,
            }
        )
    out = pd.DataFrame(rows)
    _check_duplicates(out, src)
    return out


def target_scale(t: pd.DataFrame) -> np.ndarray:
    """The scale dividing each target's miss: its ``se`` where given; otherwise the
    standard deviation of its KPI's observed values of the same firm over months (a
    series), or 10% of |value| (a single number), never below 1e-6."""
    scale = t["se"].to_numpy(float).copy()
    sd = t.groupby(["kpi", "firm"])["value"].transform(lambda v: v.std(ddof=1) if len(v) > 2 else 0)
    fallback = np.where(
        sd.to_numpy(float) > 0, sd.to_numpy(float), 0.1 * t["value"].abs().to_numpy(float)
    )
    scale = np.where(np.isnan(scale), fallback, scale)
    return np.maximum(scale, 1e-6)


@dataclass(frozen=True)
class Extraction:
    """How to read every target's statistic from a finished run (picklable).

    Attributes:
        kpi, firm, period, kind: one entry per target row (see :func:`check_targets`).
        firms: the scenario's firm names, in order.
    """

    kpi: tuple[str, ...]
    firm: tuple[str, ...]
    period: tuple[int, ...]
    kind: tuple[str, ...]
    firms: tuple[str, ...]

    @classmethod
    def of(cls, t: pd.DataFrame, firms: list[str]) -> Extraction:
        return cls(
            tuple(t["kpi"]),
            tuple(t["firm"]),
            tuple(int(p) for p in t["period"]),
            tuple(t["kind"]),
            tuple(firms),
        )

    @property
    def needs_events(self) -> bool:
        return any(
            k == "moment" and MOMENTS[n].needs_events
            for k, n in zip(self.kind, self.kpi, strict=True)
        )

    def __call__(self, model) -> np.ndarray:
        """The statistics of a finished model, one per target row (NaN where undefined)."""
        out = np.full(len(self.kpi), np.nan)
        K = len(self.firms)
        tables: dict[tuple[str, str], np.ndarray] = {}
        for i, (kpi, firm, period, kind) in enumerate(
            zip(self.kpi, self.firm, self.period, self.kind, strict=True)
        ):
            if kind == "moment":
                out[i] = MOMENTS[kpi].fn(model, firm or None)
                continue
            key = (kind, kpi)
            arr = tables.get(key)
            if arr is None:
                arr = _column(model, kind, kpi, K)
                tables[key] = arr
            row = arr[self.firms.index(firm) if kind == "firm" else 0]
            if period >= 0:
                out[i] = row[period] if period < row.size else np.nan
            else:
                vals = row[1:]
                out[i] = np.nanmean(vals) if np.isfinite(vals).any() else np.nan
        return out


def _column(model, kind: str, kpi: str, K: int) -> np.ndarray:
    """A KPI as an array (entity × period): read from the recorder's rows, which skips
    building the DataFrames (a tenth of a small run's time), or from the frames."""
    rows = getattr(model.recorder, "firm_rows" if kind == "firm" else "market_rows", None)
    if isinstance(rows, list) and rows and isinstance(rows[0], dict) and kpi in rows[0]:
        a = np.fromiter((r[kpi] for r in rows), float, len(rows))
    else:
        frame = model.firm_frame() if kind == "firm" else model.market_frame()
        a = frame[kpi].to_numpy(float)
    return a.reshape(-1, K).T if kind == "firm" else a[None, :]
