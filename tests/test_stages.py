"""The period schedule as data: order, documentation, switches and the stage API."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from sim import MarketModel, ModelParams
from sim.model import STREAMS, default_stages
from sim.stages import Schedule, Stage, stage_stream

DOCS = Path(__file__).resolve().parents[1] / "docs" / "model.md"


def _small(**sections) -> ModelParams:
    p = ModelParams()
    p.market.n_customers, p.market.periods, p.market.warmup = 500, 6, 0
    for section, values in sections.items():
        for k, v in values.items():
            setattr(getattr(p, section), k, v)
    return p


def test_docs_list_the_stages_in_schedule_order() -> None:
    text = DOCS.read_text()
    part = text.split("<!-- schedule:", 1)[1].split("**Update order.**", 1)[0]
    listed = re.findall(r"^\d+\. `(\w+)` \(sim/(\w+)\.py\)", part, flags=re.M)
    sched = default_stages()
    assert [n for n, _ in listed] == sched.names()
    assert [m for _, m in listed] == [type(s).__module__.split(".")[-1] for s in sched]


def test_every_stage_has_a_one_line_summary_and_unique_name() -> None:
    sched = default_stages()
    assert len(set(sched.names())) == len(sched)
    for st in sched:
        assert st.summary() and st.summary()[0].isupper(), st.name
    assert str(sched).count("\n") == len(sched) - 1


def test_builtin_stages_draw_only_from_declared_streams() -> None:
    for st in default_stages():
        assert st.stream is None or st.stream in STREAMS, st.name


@pytest.mark.parametrize(
    ("section", "stages"),
    [
        ("complaints", {"complaints", "late_resolutions"}),
        ("wom", {"wom", "forgetting", "referrals"}),
        ("referrals", {"referrals"}),
        ("churn", {"churn"}),
        ("expectations", {"expectations"}),
    ],
)
def test_a_switched_off_mechanism_skips_its_stages(section, stages) -> None:
    m = MarketModel(_small(**{section: {"enabled": False}}), seed=1)
    off = {st.name for st in m.stages if not st.enabled(m)}
    assert off == stages


def test_switching_a_stage_off_equals_removing_it() -> None:
    """Mechanism off = no effect: the churn switch and removing the churn stage agree."""
    a = MarketModel(_small(churn={"enabled": False}), seed=3).run()
    sched = default_stages()
    sched.remove("churn")
    b = MarketModel(_small(), seed=3, stages=sched).run()
    pa, pb = a.firm_frame(), b.firm_frame()
    assert pa.equals(pb)
    assert (pa["lost_out"] == 0).all()


def test_state_results_are_shared_between_stages() -> None:
    seen = {}

    class Spy(Stage):
        """Records what the built-in stages left for later ones."""

        name = "spy"
        after = "churn"

        def __call__(self, s) -> None:
            seen["buyers"] = s.buyers.size
            seen["perf_finite"] = bool(np.isfinite(s.perf).all())
            seen["demand"] = float(s.demand.sum())
            seen["x_range"] = (float(s.x.min()), float(s.x.max()))

    MarketModel(_small(), seed=2, stages=[Spy()]).run(1)
    assert seen["buyers"] == seen["demand"] > 0
    assert seen["perf_finite"]
    assert -1 < seen["x_range"][0] <= seen["x_range"][1] < 1


def test_a_user_stage_can_count_flows_and_record_events() -> None:
    class Gift(Stage):
        """Gives each buyer of firm A a gift and logs it as a lever event."""

        name = "gift"
        after = "accounts"

        def __call__(self, s) -> None:
            mine = s.buyers[s.buyer_firm == 0]
            s.count("discounts", np.zeros(mine.size, np.int64), np.full(mine.size, 0.01))
            s.event("lever", [-1], 0, value=float(mine.size), detail="gift")

    m = MarketModel(_small(), seed=2, stages=[Gift()]).run(3)
    ev = m.events()
    gifts = ev[ev["detail"] == "gift"]
    assert len(gifts) == 3
    f = m.firm_frame()
    base = MarketModel(_small(), seed=2).run(3).firm_frame()
    a = f["firm"] == "A"
    assert (f.loc[a, "cost_programme"].iloc[1:] > base.loc[a, "cost_programme"].iloc[1:]).all()


def test_stage_streams_differ_by_name_and_seed() -> None:
    a, b = stage_stream(1, "x").random(4), stage_stream(1, "y").random(4)
    c = stage_stream(2, "x").random(4)
    assert not np.allclose(a, b) and not np.allclose(a, c)
    built_in = np.random.default_rng(np.random.SeedSequence(1).spawn(1)[0]).random(4)
    assert not np.allclose(a, built_in)


def test_schedule_is_a_list_with_names() -> None:
    s = Schedule(default_stages())
    assert s["choice"] is s[s.index_of("choice")]
    assert repr(s).startswith("Schedule(['levers'")
