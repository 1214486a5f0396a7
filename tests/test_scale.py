"""Large-market options and memory: the event sample, narrow id columns, and the memory
estimate against what a model really holds."""

from __future__ import annotations

import numpy as np
import pytest

from sim import MarketModel, ModelParams, memory
from sim.population import id_dtype


def _params(n: int = 1500, **kw) -> ModelParams:
    p = ModelParams()
    p.market.n_customers = n
    for k, v in kw.items():
        setattr(p, k, v)
    return p


@pytest.fixture(scope="module")
def full_and_sampled():
    p = _params()
    p.events = [{"period": 3, "firm": "B", "set": {"price": 1.1}}]
    full = MarketModel(p, seed=4).run(12)
    p.event_sample = 0.25
    sampled = MarketModel(p, seed=4).run(12)
    return full, sampled


def test_event_sample_keeps_exactly_the_sampled_customers_events(full_and_sampled):
    """The sampled log is the full log restricted to the sampled customers (evenly spaced
    ids, a quarter of them) plus the lever changes; nothing else in the run changes."""
    full, sampled = full_and_sampled
    ev, ev_s = full.events(), sampled.events()
    keep = np.zeros(full.pop.n, bool)
    keep[np.unique(np.linspace(0, full.pop.n - 1, 375).round().astype(int))] = True
    assert keep.sum() == 375
    cust = ev["customer"].to_numpy()
    expected = ev[(cust < 0) | keep[np.maximum(cust, 0)]].reset_index(drop=True)
    assert (ev_s["event"] == "lever").sum() == 1
    assert 0.15 * len(ev) < len(ev_s) < 0.35 * len(ev)
    assert ev_s.equals(expected)
    assert ev_s.dtypes.equals(ev.dtypes) and ev_s["customer"].dtype == np.int64
    assert full.firm_frame().equals(sampled.firm_frame())
    assert full.panel_frame().equals(sampled.panel_frame())
    assert np.array_equal(full.pop.satisfaction, sampled.pop.satisfaction)


def test_event_sample_zero_keeps_only_lever_changes_and_shrinks_the_estimate():
    p = _params(event_sample=0.0)
    p.events = [{"period": 2, "firm": "A", "set": {"price": 0.9}}]
    ev = MarketModel(p, seed=1).run(6).events()
    assert ev["event"].tolist() == ["lever"]
    big = _params(2_000_000)
    half = _params(2_000_000, event_sample=0.5)
    full_log = memory.estimate(big).parts["event log"]
    assert full_log > 0 and memory.estimate(half).parts["event log"] == full_log // 2


def test_bad_event_sample_is_one_line_naming_the_key(tmp_path):
    from sim.scenario import ScenarioError, load_scenario

    f = tmp_path / "s.toml"
    f.write_text("[output]\nevent_sample = 1.5\n")
    with pytest.raises(ScenarioError) as err:
        load_scenario(f)
    msg = str(err.value)
    assert "\n" not in msg and "output.event_sample" in msg and "1.5" in msg


def test_customer_ids_are_int32_below_two_to_the_31():
    assert id_dtype(2**31 - 1) is np.int32 and id_dtype(2**31) is np.int64
    m = MarketModel(_params(800), seed=2)
    assert m.pop.neg_src.dtype == np.int32 and m.pop.aware_src.dtype == np.int32
    assert m.network.indices.dtype == np.int32


def _traced_peak(p: ModelParams) -> int:
    """Peak bytes of the arrays allocated while a model is built, runs and makes its
    event table (numpy reports its allocations to tracemalloc)."""
    import tracemalloc

    MarketModel(_params(300), seed=3).run(1).events()  # one-time costs (imports, caches)
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        m = MarketModel(p, seed=3).run(int(p.market.periods))
        m.events()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("kind, degree", [("small_world", 10), ("random", 80)])
def test_memory_estimate_follows_the_bytes_per_customer_and_tie(kind, degree):
    """What 35,000 more customers (and their ties) add to the traced peak is covered by
    what they add to the estimate, which is at most twice as large: the estimate follows
    the column sizes (fixed costs are the estimate's base)."""
    peaks, parts = [], []
    for n in (25_000, 60_000):
        p = _params(n)
        p.network.kind, p.network.degree, p.market.periods = kind, degree, 4
        peaks.append(_traced_peak(p))
        est = memory.estimate(p)
        parts.append(est.total - est.parts["base"])
    grown, est_grown = peaks[1] - peaks[0], parts[1] - parts[0]
    assert grown <= est_grown <= 2 * grown, (grown / 3.5e4, est_grown / 3.5e4)
