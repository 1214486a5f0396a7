"""Record (or check) the guard: the output tables of a few scenarios and seeds.

Each case is a shipped scenario on a small market (1,500 customers, 36 periods) with
a few overrides, run with two seeds. For every table (firms, market, events, panel,
customers) the guard keeps the SHA-256 of each column's canonical CSV text (floats
written with 17 significant digits, so every bit counts) and a few readable totals.

Re-record only when a behavioural change is intended::

    .venv/bin/python -m tests.guard.record

Examples:
    >>> sorted(CASES)[:2]
    ['capacity', 'complaints']
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from pathlib import Path

import pandas as pd

from sim import MarketModel
from sim.scenario import load_scenario
from sim.stages import Stage

__all__ = ["CASES", "SEEDS", "FIXTURE", "fingerprint", "run_case", "record"]

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = Path(__file__).with_name("guard.json")
SEEDS = (1, 2)
_SMALL = ["market.n_customers=1500", "market.periods=36"]

#: case name -> (scenario file, overrides); together they use complaints, referrals,
#: win-back, loyalty, capacity, policies (deterministic and stochastic) and timelines
CASES: dict[str, tuple[str, list[str]]] = {
    "complaints": ("complaint_handling.toml", ["firms.B.winback=0.3"]),
    "referrals": ("referral_programme.toml", ["firms.A.winback=0.2"]),
    "loyalty": ("loyalty_programme.toml", []),
    "capacity": ("capacity_crunch.toml", []),
    "policy": ("complaint_investment.toml", []),
    "learning": ("learning_price_war.toml", ["market.warmup=3"]),
}


def run_case(
    name: str,
    seed: int,
    stages: Sequence[Stage] = (),
    edit: Callable[[MarketModel], None] | None = None,
) -> dict[str, pd.DataFrame]:
    """Run one guard case and return its output tables.

    Args:
        name: a key of :data:`CASES`.
        seed: the run seed.
        stages: extra stages for the model.
        edit: called with the model before it runs (e.g. to edit its schedule).
    """
    file, overrides = CASES[name]
    sc = load_scenario(ROOT / "scenarios" / file, [*_SMALL, *overrides])
    m = MarketModel(sc.params, seed=seed, stages=stages)
    if edit is not None:
        edit(m)
    m.run(int(sc.params.market.periods))
    return {
        "firms": m.firm_frame(),
        "market": m.market_frame(),
        "events": m.events(),
        "panel": m.panel_frame(),
        "customers": m.customer_frame(),
    }


def _column_hash(s: pd.Series) -> str:
    text = s.to_frame().to_csv(index=False, float_format="%.17g", lineterminator="\n")
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def fingerprint(tables: dict[str, pd.DataFrame]) -> dict:
    """Per table: rows, per-column hashes, and readable totals."""
    out: dict = {}
    for key, df in tables.items():
        out[key] = {
            "rows": len(df),
            "columns": {c: _column_hash(df[c]) for c in df.columns},
        }
    f, e = tables["firms"], tables["events"]
    out["totals"] = {
        "profit": round(float(f["profit"].sum()), 6),
        "final_customers": int(f[f["period"] == f["period"].max()]["customers"].sum()),
        "events": {str(k): int(v) for k, v in e["event"].value_counts(sort=False).items()},
    }
    return out


def record() -> dict:
    """Fingerprints of every case and seed."""
    return {f"{c}/{s}": fingerprint(run_case(c, s)) for c in CASES for s in SEEDS}


if __name__ == "__main__":
    FIXTURE.write_text(json.dumps(record(), indent=1, sort_keys=True) + "\n")
    print(f"wrote {FIXTURE}")
