"""The guard: restructuring must reproduce the recorded outputs byte for byte.

The fixture ``tests/guard/guard.json`` holds per-column SHA-256 hashes of the firm,
market, event, panel and customer tables of six scenario cases x two seeds (see
``tests/guard/record.py``). Re-record it only for an intended behavioural change.
"""

from __future__ import annotations

import json

import pytest

from sim import accel
from tests.guard.record import CASES, FIXTURE, SEEDS, fingerprint, run_case

EXPECTED = json.loads(FIXTURE.read_text())


@pytest.mark.parametrize("compiled", [True, False], ids=["numba", "numpy"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_outputs_are_byte_identical(case: str, compiled: bool) -> None:
    """Both the compiled kernels and the numpy reference reproduce the recorded bytes."""
    for seed in SEEDS:
        want = EXPECTED[f"{case}/{seed}"]
        with accel.use(compiled):
            got = fingerprint(run_case(case, seed))
        assert got["totals"] == want["totals"], f"{case}/{seed}: totals differ"
        for table in ("firms", "market", "events", "panel", "customers"):
            g, w = got[table], want[table]
            assert g["rows"] == w["rows"], f"{case}/{seed} {table}: row count"
            diff = sorted(
                c
                for c in set(g["columns"]) | set(w["columns"])
                if g["columns"].get(c) != w["columns"].get(c)
            )
            assert not diff, f"{case}/{seed} {table}: columns differ: {diff}"


def test_guard_covers_the_mechanisms() -> None:
    """The cases exercise every event kind that a mechanism stage records."""
    kinds = set()
    for fp in EXPECTED.values():
        kinds |= {k for k, v in fp["totals"]["events"].items() if v > 0}
    assert {
        "complaint",
        "resolved_late",
        "referral",
        "winback",
        "churn",
        "switch",
        "acquire",
        "lever",
        "return",
        "heard",
    } <= kinds
